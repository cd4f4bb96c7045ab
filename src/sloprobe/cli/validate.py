"""``sloprobe validate``: check SLO files without running them, every problem with its line."""

from __future__ import annotations

import argparse
import sys

from sloprobe.cli.common import USAGE_ERROR, Subparsers
from sloprobe.settings import environ


def add_parser(commands: Subparsers) -> None:
    validate = commands.add_parser(
        "validate", help="check slo.yaml files and report every problem with file, line and field"
    )
    validate.add_argument("files", nargs="*", default=["slo.yaml"], metavar="FILE")
    validate.add_argument(
        "--strict-env",
        action="store_true",
        help="an unset ${VAR} is an error (default: a note, so a file checks without its secrets)",
    )


def handle(args: argparse.Namespace, rest: list[str]) -> int:

    from sloprobe.config import ConfigError, EnvPolicy, file_variables, load_slo_file

    status = 0
    for file in args.files:
        try:
            # Structure and types are checked without the secrets: an unset variable is a
            # note (a pull request from a fork, a laptop), an error with --strict-env.
            loaded = load_slo_file(file, env=EnvPolicy(lenient=not args.strict_env))
        except ConfigError as exc:
            print(exc.render(), file=sys.stderr)
            status = USAGE_ERROR
            continue
        for note in loaded.notes:
            print(f"note: {note}", file=sys.stderr)
        spec = loaded.spec
        print(
            f"{file}: ok (service {spec.service}, {len(spec.probes)} probes, {len(spec.slos)} SLOs)"
        )
        # "ok" was said without the variables; a run stops on the first one unset (or empty).
        found = file_variables(file)
        needed = [v for v in found if not v.has_default]
        if needed:
            via = {"target.base_url": "; or --base-url"}  # an option that gives the value
            named = [
                f"${{{v.name}}} ({', '.join(v.fields)}{via.get(', '.join(v.fields), '')})"
                for v in needed
            ]
            print(f"  a run needs {', '.join(named)}")
            unset = [
                f"${{{v.name}}}"
                + (" (empty, which a run treats as unset)" if v.name in environ() else "")
                for v in needed
                if not environ().get(v.name)
            ]
            print(f"  unset now: {', '.join(unset) or 'none'}")
        optional = [f"${{{v.name}}}" for v in found if v.has_default]
        if optional:
            print(f"  optional, with defaults: {', '.join(optional)}")
    return status
