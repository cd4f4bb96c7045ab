"""What discovery found and what it proposes: sources, leaves of answers, probes and SLOs.

Plain data, no I/O: the sources fill it in, :mod:`.render` writes it out as
``slo.yaml`` text with a comment beside each probe saying where it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SAFE_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-.@]{0,63}$")
_NAME_CHARS = re.compile(r"[^a-z0-9]+")

FOUND = "found"
NOT_FOUND = "not found"
REFUSED = "refused"
NOT_ASKED = "not asked"


class Var(str):
    """A ``${NAME}`` the user fills in: written as is, never escaped."""


@dataclass
class SourceReport:
    """One source's outcome, as the command prints it: found / not found / refused / not asked."""

    source: str
    state: str = NOT_FOUND
    detail: str = ""
    requests: int = 0
    lines: list[str] = field(default_factory=list)  # one per path asked, or a note
    refused: list[str] = field(default_factory=list)  # the requests refused (401, timeout…)

    def saw(self, said: str, state: str) -> None:
        """Note one answer (``Seen.said()``, ``Seen.state``)."""
        self.lines.append(said)
        if state == REFUSED:
            self.refused.append(said)


@dataclass(frozen=True)
class Leaf:
    """A field of an answer (``observed``) or of a response schema: its path, value and type."""

    parts: tuple[str, ...]
    value: Any
    type: str  # string, integer, number, boolean, array, object, null
    observed: bool
    enum: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The dotted JSON path of the http probe (``dig``): keys with a dot are quoted."""
        return ".".join(f'"{p}"' if "." in p else p for p in self.parts)

    @property
    def key(self) -> str:
        return self.parts[-1] if self.parts else ""


@dataclass
class Slo:
    name: str
    probe: str
    measure: str
    threshold: str
    description: str
    why: list[str] = field(default_factory=list)  # comment lines: where the threshold comes from
    warn: str | None = None
    no_data_pass: bool = False


@dataclass
class Probe:
    """A probe of the proposal: its kind's options as plain data, and comments to go with them."""

    name: str
    kind: str
    options: dict[str, Any]
    description: str
    origin: list[str]  # comment lines above the probe: where it came from
    notes: dict[tuple[str, ...], str] = field(default_factory=dict)  # option path -> comment
    disabled: list[str] = field(default_factory=list)  # non-empty: written commented out, why
    after: list[str] = field(default_factory=list)
    # What discovery knows but does not write (the id's likely names, for --submit-job).
    hints: dict[str, Any] = field(default_factory=dict)

    def variables(self) -> list[str]:
        """The ``${NAME}``s its options hold, in order."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, Var):  # `${FLOWER_URL}/api/tasks` holds one inside a path
                found.extend(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", node))
            elif isinstance(node, dict):
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.options)
        return list(dict.fromkeys(found))


@dataclass
class Proposal:
    service: str
    base_url: str  # as shown (redacted)
    probes: list[Probe] = field(default_factory=list)
    slos: list[Slo] = field(default_factory=list)
    auth: dict[str, Any] | None = None
    variables: dict[str, str] = field(default_factory=dict)  # ${VAR} -> what to fill in
    reports: list[SourceReport] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    def probe(self, name: str) -> Probe | None:
        return next((p for p in self.probes if p.name == name), None)

    def live_slos(self) -> list[Slo]:
        live = {p.name for p in self.probes if not p.disabled}
        return [s for s in self.slos if s.probe in live]


def slug(text: str, fallback: str = "probe") -> str:
    """A probe, SLO or value name from a path or a title: ``/admin/metrics`` → ``admin-metrics``."""
    name = _NAME_CHARS.sub("-", text.lower()).strip("-")[:60].strip("-")
    return name or fallback


def unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``… when taken; the result is added to ``taken``."""
    chosen, n = name, 2
    while chosen in taken:
        chosen, n = f"{name}-{n}", n + 1
    taken.add(chosen)
    return chosen
