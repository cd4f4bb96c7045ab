"""``sloprobe discover``: the options; sloprobe.discover.command runs it."""

from __future__ import annotations

import argparse

from sloprobe.cli.common import Subparsers


def add_parser(commands: Subparsers) -> None:
    discover = commands.add_parser(
        "discover",
        help="propose an slo.yaml from what a service says (OpenAPI, health paths, /metrics)",
        description="Ask the service at URL (GET only, bounded: docs/discover.md) and write the "
        "slo.yaml it proposes, each probe saying where it came from.",
    )
    discover.add_argument("url", metavar="URL", help="the service's base URL")
    discover.add_argument(
        "--out", default=".", metavar="DIR", help="where slo.yaml goes (default: .)"
    )
    discover.add_argument("--force", action="store_true", help="overwrite an existing slo.yaml")
    discover.add_argument("--print", dest="print_only", action="store_true", help="to stdout")
    for source in ("openapi", "metrics", "redis", "flower"):
        discover.add_argument(f"--{source}", metavar="URL", help=f"the {source} URL to read")
    discover.add_argument("--bearer-env", metavar="NAME", help="bearer token from $NAME")
    discover.add_argument("--basic-user", metavar="USER", help="HTTP Basic user")
    discover.add_argument("--basic-password-env", metavar="NAME", help="its password from $NAME")
    discover.add_argument("--timeout", default="5s", help="per request (default 5s)")
    discover.add_argument("--max-requests", type=int, default=20, help="per source (default 20)")
    discover.add_argument(
        "--submit-job",
        action="store_true",
        help="submit one job through the submit operation found (the only non-GET it sends) "
        "and read the id and status fields from its real answers",
    )


def handle(args: argparse.Namespace, rest: list[str]) -> int:
    from sloprobe.discover.command import run_discover

    return run_discover(args)
