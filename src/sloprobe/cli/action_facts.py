"""``sloprobe action-facts``: what a suite needs in CI, as ``name=value`` lines for $GITHUB_OUTPUT."""

from __future__ import annotations

import argparse
import sys

from sloprobe.cli.common import USAGE_ERROR, Subparsers
from sloprobe.settings import environ


def add_parser(commands: Subparsers) -> None:
    facts = commands.add_parser(
        "action-facts",
        help="print what a suite needs in CI: extras to install, the readiness path",
        description="Read SLO_FILE and print, as name=value lines for $GITHUB_OUTPUT: the pip "
        "extras its probes and settings need, the path that says a deploy is ready (the first "
        "GET probe on the target), its service and environment. Why each: on stderr.",
    )
    facts.add_argument("slo_file", nargs="?", default="slo.yaml", metavar="SLO_FILE")


def handle(args: argparse.Namespace, rest: list[str]) -> int:

    from sloprobe.config import ConfigError
    from sloprobe.config.yaml_source import EnvPolicy, load_yaml
    from sloprobe.scaffold.facts import suite_facts

    try:
        data = load_yaml(args.slo_file, env=EnvPolicy(lenient=True)).data
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return USAGE_ERROR
    if not isinstance(data, dict):
        print(f"sloprobe action-facts: {args.slo_file} is not a mapping", file=sys.stderr)
        return USAGE_ERROR
    facts = suite_facts(data, environ())
    print(f"extras={','.join(facts.extras)}")
    print(f"ready_path={facts.ready_path}")
    print(f"service={facts.service}")
    print(f"environment={facts.environment}")
    for line in facts.reasons:
        print(f"sloprobe action-facts: extra {line}", file=sys.stderr)
    for line in facts.notes:
        print(f"sloprobe action-facts: note: {line}", file=sys.stderr)
    print(
        f"sloprobe action-facts: readiness path {facts.ready_path} ({facts.ready_from})",
        file=sys.stderr,
    )
    return 0
