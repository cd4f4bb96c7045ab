"""``sloprobe init``: scaffold a probe suite (slo.yaml, probes/, workflows) for one service shape."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sloprobe.cli.common import USAGE_ERROR, Subparsers

if TYPE_CHECKING:
    from sloprobe.scaffold.suite import Variable


def add_parser(commands: Subparsers) -> None:
    init = commands.add_parser(
        "init",
        help="scaffold a probe suite here: slo.yaml, probes/, workflows",
        description="Scaffold a probe suite for one service shape into DIRECTORY (default: here). "
        "A DIRECTORY named like a shape (`sloprobe init bullmq-node`) scaffolds that shape.",
    )
    init.add_argument(
        "--shape",
        help="fastapi-db-worker (default), celery-flower, bullmq-node or prometheus",
    )
    init.add_argument("--service", help="the service's name (default: the directory's name)")
    init.add_argument(
        "--from",
        dest="from_url",
        metavar="URL",
        help="scaffold around the slo.yaml `sloprobe discover URL` proposes (GET only), "
        "instead of a shape's example",
    )
    init.add_argument(
        "--action",
        metavar="OWNER/REPO@REF",
        help="where the workflows take sloprobe from (default: this release's repository and tag)",
    )
    init.add_argument("--force", action="store_true", help="overwrite files that exist")
    init.add_argument("directory", nargs="?", default=".")


def handle(args: argparse.Namespace, rest: list[str]) -> int:
    from sloprobe.redact import redact_url
    from sloprobe.scaffold import (
        DEFAULT_SHAPE,
        DISCOVERED,
        SHAPES,
        ActionSource,
        default_source,
        plan_suite,
        scaffold,
        service_name,
    )

    directory = Path(args.directory)
    named_like_a_shape = directory.resolve().name in SHAPES
    shape = args.shape or (directory.resolve().name if named_like_a_shape else DEFAULT_SHAPE)
    discovered = None
    if args.from_url:
        if args.shape:
            print("sloprobe init: --from and --shape exclude each other", file=sys.stderr)
            return USAGE_ERROR
        discovered = _discovered(args.from_url)
        if discovered is None:
            return 1
        shape = DISCOVERED
    elif shape not in SHAPES:
        print(
            f"sloprobe init: unknown shape `{shape}`; one of {', '.join(SHAPES)}", file=sys.stderr
        )
        return USAGE_ERROR
    try:
        source = ActionSource.parse(args.action) if args.action else default_source()
    except (ValueError, LookupError) as exc:
        print(f"sloprobe init: {exc}; pass --action OWNER/REPO@REF", file=sys.stderr)
        return USAGE_ERROR
    service = args.service or service_name(directory)
    if not _valid_name(service):
        print(
            f"sloprobe init: `{service}` is not a service name (letters, digits, `-`, `_`, `.`)",
            file=sys.stderr,
        )
        return USAGE_ERROR
    done = scaffold(directory, plan_suite(shape, service, source, discovered), args.force)
    why = "--shape" if args.shape else ("the folder's name" if named_like_a_shape else "default")
    if discovered is not None:
        why = f"--from {redact_url(args.from_url)}"
    named = "--service" if args.service else "the folder's name; --service to change"
    print(f"shape   {shape} ({SHAPES.get(shape, 'what the service said')}; {why})")
    print(f"service {service} ({named})")
    for path in done.created:
        print(f"created {path}")
    for path in done.kept:
        print(f"kept    {path} (exists; --force to overwrite)")
    print(f"sloprobe from {source.action} (--action to change)")
    if any(path.name == "slo.yaml" for path in done.kept):
        # The variables are the kept file's, not the ones this shape would have asked for.
        print("next: slo.yaml was kept as it is; `sloprobe validate` lists the variables it needs")
    else:
        print(_init_next_steps(done.suite.variables))
    return 0


def _discovered(url: str) -> str | None:
    """The slo.yaml `sloprobe discover` proposes for ``url`` (its report on stderr), or None."""
    from sloprobe.config.model import Target
    from sloprobe.discover.command import report
    from sloprobe.discover.run import DiscoverOptions, discover

    if not url.startswith(("http://", "https://")):
        print(f"sloprobe init: --from needs an http(s) URL, not `{url}`", file=sys.stderr)
        return None
    found = discover(DiscoverOptions(base_url=url, target=Target()))
    report(found, sys.stderr)
    if found.text is None or found.problem is not None:
        print(f"sloprobe init: {found.problem}; nothing written", file=sys.stderr)
        return None
    return found.text


def _valid_name(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", name) is not None and len(name) <= 100


def _init_next_steps(variables: list[Variable]) -> str:
    def listed(secret: bool) -> str:
        chosen = [v for v in variables if v.secret == secret]
        return ", ".join(v.name + ("" if v.required else " (optional)") for v in chosen) or "none"

    required = " ".join(f"{v.name}=…" for v in variables if v.required)
    return (
        "next: in the repository's Settings > Secrets and variables > Actions, set\n"
        f"  variables: {listed(secret=False)}\n"
        f"  secrets:   {listed(secret=True)}\n"
        "  (and optionally the secrets SENTRY_DSN, SLACK_WEBHOOK_URL, SLOPROBE_HISTORY_URL);\n"
        f"then try it here with `{required} pytest`, commit and push"
    )
