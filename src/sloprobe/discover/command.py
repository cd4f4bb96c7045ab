"""The ``sloprobe discover`` command: options in, a report and a written ``slo.yaml`` out.

Auth comes from flags that name environment variables (``--bearer-env NAME``,
``--basic-user U --basic-password-env NAME``): the secret is read from the
environment, sent with every request to the target's origin, masked in every
output, and written into the file as ``${NAME}``, never as itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from sloprobe.discover.model import Proposal, Var
from sloprobe.discover.run import DiscoverOptions, Discovery, discover
from sloprobe.errors import InputError
from sloprobe.model.units import plural
from sloprobe.redact import redact_url
from sloprobe.settings import variable

USAGE_ERROR = 4


class UsageError(InputError, ValueError):
    """A flag of ``sloprobe discover`` that cannot be used as given."""


def run_discover(args: argparse.Namespace) -> int:
    try:
        options = options_from(args)
        out = None if args.print_only else Path(args.out) / "slo.yaml"
        if out is not None and out.exists() and not args.force:
            raise UsageError(f"{out} exists; pass --force to overwrite it, or --out DIR")
    except UsageError as exc:
        print(f"sloprobe discover: {exc}", file=sys.stderr)
        return USAGE_ERROR
    said = sys.stderr if out is None else sys.stdout
    found = discover(options)
    report(found, said)
    if found.text is None or found.problem is not None:
        print(f"sloprobe discover: {found.problem}; no file written", file=sys.stderr)
        return 1
    if out is None:
        sys.stdout.write(found.text)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(found.text, encoding="utf-8")
    print(f"wrote {out}", file=said)
    shown = redact_url(options.base_url)
    print(
        f"next: sloprobe validate {out} && sloprobe run --slo-file {out} --base-url {shown}",
        file=said,
    )
    return 0


def options_from(args: argparse.Namespace) -> DiscoverOptions:
    from pydantic import ValidationError

    from sloprobe.config.model import Target
    from sloprobe.fields.types import parse_duration

    url: str = args.url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageError("the URL must start with http:// or https://")
    if "?" in url.split("#", 1)[0]:
        raise UsageError(
            f"the URL {redact_url(url)} has a query string; give the service's base URL"
        )
    auth, written, variables = _auth(args)
    try:
        timeout = parse_duration(args.timeout)
        target = Target.model_validate({"timeout": timeout, "auth": auth})
    except (ValueError, ValidationError) as exc:
        raise UsageError(str(exc).splitlines()[0]) from None
    if args.max_requests < 1:
        raise UsageError("--max-requests must be at least 1")
    return DiscoverOptions(
        url,
        target,
        written,
        variables,
        openapi=args.openapi,
        metrics=args.metrics,
        redis=args.redis,
        flower=args.flower,
        max_requests=args.max_requests,
        submit_job=args.submit_job,
    )


def _secret(name: str, flag: str) -> str:
    value = variable(name) or ""  # a variable the user names: read through the resolver
    if not value:
        raise UsageError(f"{flag} {name}: the environment variable {name} is not set (or empty)")
    return value


def _auth(
    args: argparse.Namespace,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, str]]:
    """(auth sent now, auth as written in the file, the variables it names)."""
    if args.bearer_env and (args.basic_user or args.basic_password_env):
        raise UsageError("give --bearer-env or --basic-user/--basic-password-env, not both")
    if args.bearer_env:
        name = args.bearer_env
        sent: dict[str, Any] = {"bearer": _secret(name, "--bearer-env")}
        return sent, {"bearer": Var(f"${{{name}}}")}, {name: "the bearer token (secret)"}
    if bool(args.basic_user) != bool(args.basic_password_env):
        raise UsageError("--basic-user and --basic-password-env go together")
    if args.basic_user:
        name = args.basic_password_env
        password = _secret(name, "--basic-password-env")
        sent = {"basic": {"username": args.basic_user, "password": password}}
        written = {"basic": {"username": args.basic_user, "password": Var(f"${{{name}}}")}}
        return sent, written, {name: f"the password of {args.basic_user} (secret)"}
    return None, None, {}


def report(found: Discovery, out: TextIO) -> None:
    proposal = found.proposal
    print(f"sloprobe discover: {proposal.base_url}", file=out)
    width = max(len(r.source) for r in proposal.reports)
    for source in proposal.reports:
        sent = f"  [{plural(source.requests, 'request')}]" if source.requests else ""
        print(f"  {source.source:<{width}}  {source.state:<9}  {source.detail}{sent}", file=out)
        for line in source.refused:
            print(f"  {'':<{width}}    refused: {line}", file=out)
    print(_summary(proposal, found), file=out)
    for probe in (p for p in proposal.probes if p.disabled):
        needs = ", ".join(probe.variables()) or "auth"
        print(
            f"commented out: {probe.name} (fill in {needs}: see its comment in the file)", file=out
        )


def _summary(proposal: Proposal, found: Discovery) -> str:
    live = [p for p in proposal.probes if not p.disabled]
    slos = proposal.live_slos()
    methods = "GET only" if not found.posts else "GETs and the one POST of --submit-job"
    return (
        f"proposed {len(live)} probes and {len(slos)} SLOs in {found.seconds:.1f} s, "
        f"{found.requests} requests sent ({methods})"
    )
