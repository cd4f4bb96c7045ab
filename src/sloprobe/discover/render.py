"""A :class:`~.model.Proposal` as ``slo.yaml`` text: every probe with where it came from,
every SLO with where its threshold came from, the unknown parts commented out."""

from __future__ import annotations

from typing import Any

from sloprobe.discover.model import Probe, Proposal, Slo
from sloprobe.discover.yaml_text import block, comment_lines, commented_out, key_text, scalar


def render(proposal: Proposal, when: str) -> str:
    lines = comment_lines(_header(proposal, when), 0)
    lines += ["version: 1", f"service: {scalar(proposal.service)}", ""]
    target: dict[str, Any] = {}
    if proposal.auth is not None:
        target["auth"] = proposal.auth
    lines += comment_lines(
        [
            "No base_url on purpose: --base-url or PROBE_BASE_URL gives it, so this file never",
            "quietly probes another service.",
        ],
        0,
    )
    if target:
        lines += ["target:", *block(target, {}, 1), ""]
    lines.append("probes:")
    disabled = set()
    for probe in proposal.probes:
        lines += _probe(probe)
        if probe.disabled:
            disabled.add(probe.name)
    lines.append("slos:")
    for slo in proposal.slos:
        lines += _slo(slo, slo.probe in disabled)
    text = "\n".join(lines).rstrip() + "\n"
    return text.replace("\nprobes:\n\n", "\nprobes:\n").replace("\nslos:\n\n", "\nslos:\n")


def _header(proposal: Proposal, when: str) -> list[str]:
    lines = [
        f"Proposed by `sloprobe discover` from {proposal.base_url} at {when}.",
        "Every path, field, queue name and value below was read from the service during",
        "discovery (each probe says where); each threshold is a multiple of what was measured or",
        "a documented default (each SLO says which). Review it before relying on it.",
        "",
        "  sloprobe validate slo.yaml",
        f"  sloprobe run --slo-file slo.yaml --base-url {proposal.base_url}",
        "",
        "Sources:",
    ]
    for report in proposal.reports:
        lines.append(
            f"  {report.source}: {report.state}" + (f" ({report.detail})" if report.detail else "")
        )
    live = {n: w for n, w in proposal.variables.items() if n in _live_text(proposal)}
    if live:
        lines += ["", "A run needs these variables:"]
        lines += [f"  {name}: {what}" for name, what in live.items()]
    off = [p.name for p in proposal.probes if p.disabled]
    if off:
        lines += ["", f"Commented out until you fill in what they need: {', '.join(off)}."]
    return [*lines, ""]


def _live_text(proposal: Proposal) -> str:
    """The variables a run reads: those in live probes and in the target."""
    text = repr(proposal.auth)
    for probe in proposal.probes:
        if not probe.disabled:
            text += repr(probe.options)
    return text


def _probe(probe: Probe) -> list[str]:
    lines = comment_lines(probe.origin, 1)
    body: dict[str, Any] = {"description": probe.description}
    if probe.after:
        body["after"] = probe.after
    body[probe.kind] = probe.options
    notes = {(probe.kind, *path): note for path, note in probe.notes.items()}
    written = [f"  {key_text(probe.name)}:", *block(body, notes, 2)]
    if not probe.disabled:
        return ["", *lines, *written]
    return ["", *comment_lines(probe.disabled, 1), *lines, *commented_out(written, 1)]


def _slo(slo: Slo, disabled: bool) -> list[str]:
    body: dict[str, Any] = {
        "description": slo.description,
        "probe": slo.probe,
        "measure": slo.measure,
        "threshold": slo.threshold,
    }
    if slo.warn:
        body["warn"] = slo.warn
    if slo.no_data_pass:
        body["no_data"] = "pass"
    why = " ".join(slo.why)
    notes: dict[tuple[str, ...], str] = {("threshold",): why} if len(why) < 70 else {}
    above = comment_lines(slo.why, 2) if not notes else []
    written = [f"  {key_text(slo.name)}:", *above, *block(body, notes, 2)]
    if disabled:
        return ["", *commented_out(written, 1)]
    return ["", *written]
