"""``sloprobe wait``: poll a deploy until its health path answers and its release matches."""

from __future__ import annotations

import argparse
import sys

from sloprobe.cli.common import USAGE_ERROR, Subparsers
from sloprobe.settings import base_url as settings_base_url


def add_parser(commands: Subparsers) -> None:
    wait = commands.add_parser(
        "wait", help="wait until a deploy is ready (health answers, release matches)"
    )
    wait.add_argument("--base-url", help="default: $PROBE_BASE_URL, else target.base_url")
    wait.add_argument(
        "--slo-file",
        help="the SLO file whose target auth, headers and login every poll sends "
        "(default: ./slo.yaml when it exists)",
    )
    wait.add_argument("--path", default="/health", help="health path (default /health)")
    wait.add_argument("--timeout", default="5m", help="give up after (default 5m)")
    wait.add_argument(
        "--interval", default="2s", help="first poll interval, backing off (default 2s)"
    )
    wait.add_argument("--release", help="wait until the version endpoint reports this release")
    wait.add_argument("--version-path", help="version endpoint (default: the health path)")
    wait.add_argument(
        "--version-field", default="version", help="JSON path of the version (default version)"
    )


def handle(args: argparse.Namespace, rest: list[str]) -> int:
    from pathlib import Path

    from sloprobe.config import ConfigError, EnvPolicy, load_slo_file
    from sloprobe.fields.types import parse_duration
    from sloprobe.model.units import Dimension, format_base, plural
    from sloprobe.redact import redact_url
    from sloprobe.wait import wait_until_ready

    slo_file = Path(args.slo_file or "slo.yaml")
    target = None
    if args.slo_file and not slo_file.is_file():
        print(f"sloprobe wait: no SLO file at {slo_file}", file=sys.stderr)
        return USAGE_ERROR
    if slo_file.is_file():  # the target's auth, headers and login, as `run` sends them
        supplied = {("target", "base_url")} if args.base_url else set()
        try:
            target = load_slo_file(
                slo_file, env=EnvPolicy(supplied=frozenset(supplied))
            ).spec.target
        except ConfigError as exc:
            print(exc.render(), file=sys.stderr)
            return USAGE_ERROR
    base_url = settings_base_url(args.base_url, target.base_url if target else None)
    if not base_url:
        print(
            "sloprobe wait: no target; pass --base-url URL, set PROBE_BASE_URL or "
            "target.base_url in the SLO file",
            file=sys.stderr,
        )
        return USAGE_ERROR
    if not base_url.startswith(("http://", "https://")):
        print("sloprobe wait: the base URL must start with http:// or https://", file=sys.stderr)
        return USAGE_ERROR
    from sloprobe.plugin.options import base_url_refusal

    refusal = base_url_refusal(base_url)
    if refusal is not None:
        print(f"sloprobe wait: {refusal}", file=sys.stderr)
        return USAGE_ERROR
    try:
        timeout, interval = parse_duration(args.timeout), parse_duration(args.interval)
    except ValueError as exc:
        print(f"sloprobe wait: {exc}", file=sys.stderr)
        return USAGE_ERROR
    for option, value in (("--timeout", timeout), ("--interval", interval)):
        if value <= 0:
            print(f"sloprobe wait: {option} must be longer than zero", file=sys.stderr)
            return USAGE_ERROR
    result = wait_until_ready(
        base_url,
        args.path,
        timeout,
        interval,
        args.release,
        args.version_path,
        args.version_field,
        target=target,
    )
    where = redact_url(base_url)
    if result.ready:
        print(
            f"sloprobe wait: {where} ready after {result.waited_s:.1f} s ({plural(result.attempts, 'attempt')})"
        )
        return 0
    print(
        f"sloprobe wait: {where} not ready within {format_base(timeout, Dimension.TIME)} "
        f"({plural(result.attempts, 'attempt')} in {result.waited_s:.1f} s); last: {result.last}",
        file=sys.stderr,
    )
    return 1
