"""The ``sloprobe`` command: thin wrappers over the pytest plugin, the config and the history store.

Exit codes follow pytest: 0 every selected SLO met its thresholds, 1 a
breach, 2 interrupted, 4 usage or config error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sloprobe.plugin.names import VALUE_OPTIONS

if TYPE_CHECKING:
    from sloprobe.scaffold.suite import Variable

INTERRUPTED = 2
USAGE_ERROR = 4

RUN_OPTIONS = VALUE_OPTIONS
# pytest's own options whose value may come as the next item; that item is not a test path.
PYTEST_VALUE_OPTIONS = frozenset(
    {
        "-k",
        "-m",
        "-p",
        "-c",
        "-o",
        "-n",
        "-r",
        "-W",
        "--basetemp",
        "--capture",
        "--color",
        "--confcutdir",
        "--config-file",
        "--cov",
        "--cov-config",
        "--cov-report",
        "--html",
        "--json-report-file",
        "--report-log",
        "--reruns",
        "--alluredir",
        "--deselect",
        "--dist",
        "--durations",
        "--ignore",
        "--ignore-glob",
        "--import-mode",
        "--junit-prefix",
        "--junit-xml",
        "--junitxml",
        "--log-cli-level",
        "--log-file",
        "--log-file-level",
        "--log-level",
        "--maxfail",
        "--override-ini",
        "--pythonwarnings",
        "--rootdir",
        "--tb",
        "--timeout",
    }
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    rest = [r for r in rest if r != "--"]  # `sloprobe demo -- -k health`: the rest goes to pytest
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    if rest and args.command not in ("run", "demo"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command in ("history", "report"):
        from sloprobe.history_cli import run_history, run_report

        return run_history(args) if args.command == "history" else run_report(args)
    handler = {
        "run": _run,
        "demo": _demo,
        "validate": _validate,
        "schema": _schema,
        "docs": _docs,
        "wait": _wait,
        "init": _init,
        "action-facts": _action_facts,
        "status-page": _status_page,
        "discover": _discover,
    }[args.command]
    return int(handler(args, rest))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sloprobe", description="Synthetic probes and SLO checks for job systems."
    )
    parser.add_argument("--version", action="version", version=f"sloprobe {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run a probe suite against --base-url or $PROBE_BASE_URL",
        description="Run slo.yaml (and probes/ next to it) with pytest; other options go to pytest.",
    )
    run.add_argument("--slo-file", default="slo.yaml", help="the SLO file (default: ./slo.yaml)")
    run.add_argument(
        "--base-url", help="the target's base URL (default: $PROBE_BASE_URL or target.base_url)"
    )
    run.add_argument("--report-dir", help="where reports go (default: reports/)")
    run.add_argument(
        "--history",
        metavar="URL|PATH|off",
        help="run history: a SQLAlchemy URL or SQLite path (default: <report-dir>/history.db)",
    )
    run.add_argument("--exit-on", help="breach (default), warning, or incident (scheduled runs)")
    run.add_argument("--trigger", help="why this run happened: local, schedule, deploy")
    run.add_argument("--release", help="the release under test")

    demo = commands.add_parser(
        "demo",
        help="probe the bundled reference job service end to end",
        description="Start the reference job service on a free loopback port, run the default suite against it, write the report, stop the service. Fault options make SLOs breach on purpose.",
    )
    demo.add_argument(
        "--latency-ms", type=float, default=0.0, help="added latency on every API request"
    )
    demo.add_argument(
        "--failure-rate", type=float, default=0.0, help="share of jobs that fail, 0..1"
    )
    demo.add_argument("--workers-stopped", action="store_true", help="stop the workers")
    demo.add_argument(
        "--backlog", type=int, default=0, help="N queued jobs the workers do not drain"
    )
    demo.add_argument(
        "--report-dir", default="reports", help="where reports go (default: reports/)"
    )

    validate = commands.add_parser(
        "validate", help="check slo.yaml files and report every problem with file, line and field"
    )
    validate.add_argument("files", nargs="*", default=["slo.yaml"], metavar="FILE")
    validate.add_argument(
        "--strict-env",
        action="store_true",
        help="an unset ${VAR} is an error (default: a note, so a file checks without its secrets)",
    )

    commands.add_parser("schema", help="print the JSON Schema of slo.yaml (for editor completion)")

    docs = commands.add_parser(
        "docs",
        help="print generated reference docs (Markdown)",
        description="Print reference docs generated from the code: `sloprobe docs probes > docs/probes.md`.",
    )
    docs.add_argument(
        "topic", choices=["probes"], help="probes: every probe kind, its options and measures"
    )

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

    facts = commands.add_parser(
        "action-facts",
        help="print what a suite needs in CI: extras to install, the readiness path",
        description="Read SLO_FILE and print, as name=value lines for $GITHUB_OUTPUT: the pip "
        "extras its probes and settings need, the path that says a deploy is ready (the first "
        "GET probe on the target), its service and environment. Why each: on stderr.",
    )
    facts.add_argument("slo_file", nargs="?", default="slo.yaml", metavar="SLO_FILE")

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

    status_page = commands.add_parser(
        "status-page",
        help="write a static status page and badges from the shared history",
        description="Write a static status page (an index, a page per service), SVG badges and "
        "shields.io endpoint JSON for every service and environment in the history into DIR, "
        "as GitHub Pages publishes it (docs/status-page.md). Public by default: SLO names, "
        "descriptions and states only.",
    )
    status_page.add_argument(
        "--history",
        metavar="URL|PATH",
        help="the shared history: a SQLAlchemy URL or SQLite path (default: $SLOPROBE_HISTORY_URL)",
    )
    status_page.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="where to write (new, empty, or an earlier page)",
    )
    shown = status_page.add_mutually_exclusive_group()
    shown.add_argument(
        "--public",
        dest="internal",
        action="store_false",
        help="SLO names, descriptions and states only (default)",
    )
    shown.add_argument(
        "--internal",
        dest="internal",
        action="store_true",
        help="also target URLs, observed values, reasons, owners, runbooks: never publish it",
    )
    status_page.set_defaults(internal=False)
    status_page.add_argument("--title", default="Status", help="the pages' title (default Status)")
    status_page.add_argument(
        "--public-locations",
        metavar="A,B",
        help="locations the public page may name (default $SLOPROBE_PUBLIC_LOCATIONS; "
        "others read 'location N of M')",
    )
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
    from sloprobe.history_cli import add_commands

    add_commands(commands)
    return parser


def _version() -> str:
    from sloprobe import __version__

    return __version__


def _run(args: argparse.Namespace, rest: list[str]) -> int:
    import pytest

    slo_file = Path(args.slo_file)
    if not slo_file.is_file():
        print(
            f"sloprobe: no SLO file at {slo_file}; pass --slo-file PATH or run `sloprobe demo`",
            file=sys.stderr,
        )
        return USAGE_ERROR
    rest = _joined(rest)
    paths = [str(slo_file)]
    probes = slo_file.parent / "probes"
    if probes.is_dir() and not _names_test_paths(rest):
        paths.append(str(probes))
    options = [f"--slo-file={slo_file}"]
    for name in RUN_OPTIONS[1:]:
        value = getattr(args, name[2:].replace("-", "_"))
        if value is not None:
            options.append(f"{name}={value}")
    return int(pytest.main([*QUIET_REWRITE, *paths, *options, *rest]))


# `sloprobe run` has imported sloprobe before pytest loads its plugin entry point, which it
# would rewrite for assertions: a warning in every run's log that no user can act on.
QUIET_REWRITE = ("-W", "ignore::pytest.PytestAssertRewriteWarning")


def _joined(args: list[str]) -> list[str]:
    """``--history PATH`` that reached pytest's arguments (after ``--``) as one ``--history=PATH``."""
    joined: list[str] = []
    pending: str | None = None
    for arg in args:
        if pending is not None:
            joined.append(f"{pending}={arg}")
            pending = None
        elif arg in RUN_OPTIONS:
            pending = arg
        else:
            joined.append(arg)
    return [*joined, pending] if pending is not None else joined


def _names_test_paths(args: list[str]) -> bool:
    """Whether pytest's arguments name test paths of their own (then probes/ is not added).

    Option values are not test paths: ``--junitxml out.xml``, ``--ignore probes``.
    """
    value_next = False
    for arg in args:
        if value_next:
            value_next = False
        elif arg.startswith("-"):
            value_next = arg in PYTEST_VALUE_OPTIONS
        elif Path(arg.split("::", 1)[0]).exists():
            return True
    return False


def _demo(args: argparse.Namespace, rest: list[str]) -> int:
    try:
        from sloprobe.demo.run import run_demo
    except ImportError as exc:
        print(
            f"sloprobe demo needs the `demo` extra ({exc.name} is missing): pip install 'sloprobe[demo]'",
            file=sys.stderr,
        )
        return USAGE_ERROR
    try:
        return run_demo(
            latency_ms=args.latency_ms,
            failure_rate=args.failure_rate,
            workers_stopped=args.workers_stopped,
            backlog=args.backlog,
            report_dir=Path(args.report_dir),
            pytest_args=rest,
        )
    except KeyboardInterrupt:
        print("sloprobe demo: interrupted; the reference service was stopped", file=sys.stderr)
        return INTERRUPTED


def _validate(args: argparse.Namespace, rest: list[str]) -> int:
    import os

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
                + (" (empty, which a run treats as unset)" if v.name in os.environ else "")
                for v in needed
                if not os.environ.get(v.name)
            ]
            print(f"  unset now: {', '.join(unset) or 'none'}")
        optional = [f"${{{v.name}}}" for v in found if v.has_default]
        if optional:
            print(f"  optional, with defaults: {', '.join(optional)}")
    return status


def _init(args: argparse.Namespace, rest: list[str]) -> int:
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


def _action_facts(args: argparse.Namespace, rest: list[str]) -> int:
    import os

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
    facts = suite_facts(data, os.environ)
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


def _wait(args: argparse.Namespace, rest: list[str]) -> int:
    import os
    from pathlib import Path

    from sloprobe.config import ConfigError, EnvPolicy, load_slo_file
    from sloprobe.fields.types import parse_duration
    from sloprobe.model.units import Dimension, format_base
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
    base_url = (
        args.base_url or os.environ.get("PROBE_BASE_URL") or (target.base_url if target else None)
    )
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
            f"sloprobe wait: {where} ready after {result.waited_s:.1f} s ({result.attempts} attempts)"
        )
        return 0
    print(
        f"sloprobe wait: {where} not ready within {format_base(timeout, Dimension.TIME)} "
        f"({result.attempts} attempts in {result.waited_s:.1f} s); last: {result.last}",
        file=sys.stderr,
    )
    return 1


def _status_page(args: argparse.Namespace, rest: list[str]) -> int:
    import os

    from sloprobe.history import HistoryError, HistoryStore
    from sloprobe.model.units import plural
    from sloprobe.status_page import StatusPageError, write_status_page

    url = args.history or os.environ.get("SLOPROBE_HISTORY_URL")
    if not url:
        print(
            "sloprobe status-page: no history; pass --history URL|PATH or set SLOPROBE_HISTORY_URL",
            file=sys.stderr,
        )
        return USAGE_ERROR
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        # Reading must not leave an empty history behind where a path was mistyped.
        print(
            f"sloprobe status-page: no history at {url.removeprefix('sqlite:///')}", file=sys.stderr
        )
        return USAGE_ERROR
    try:
        store = HistoryStore.open(url)
    except HistoryError as exc:
        print(f"sloprobe status-page: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        public = (
            [name.strip() for name in args.public_locations.split(",") if name.strip()]
            if args.public_locations is not None
            else None
        )
        written = write_status_page(
            store, Path(args.out), internal=args.internal, title=args.title, public_locations=public
        )
    except (HistoryError, StatusPageError, OSError) as exc:
        print(f"sloprobe status-page: {exc}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        store.dispose()
    page = written.page
    slos = sum(len(e.slos) for e in page.environments)
    print(
        f"sloprobe status-page: {plural(len(page.services), 'service')}, "
        f"{plural(len(page.environments), 'environment')}, {plural(slos, 'SLO')} -> {args.out}: "
        f"{plural(written.pages, 'page')}, {plural(written.badges, 'badge')}, "
        f"{written.bytes / 1024:.0f} KiB"
        + (" (internal: not for publishing)" if args.internal else "")
    )
    if not page.services:
        print("sloprobe status-page: the history holds no run yet", file=sys.stderr)
    return 0


def _discover(args: argparse.Namespace, rest: list[str]) -> int:
    from sloprobe.discover.command import run_discover

    return run_discover(args)


def _schema(args: argparse.Namespace, rest: list[str]) -> int:
    from sloprobe.config.model import SloFile

    schema = SloFile.model_json_schema(by_alias=True)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "sloprobe slo.yaml",
    }
    print(json.dumps(schema, indent=2, sort_keys=False))
    return 0


def _docs(args: argparse.Namespace, rest: list[str]) -> int:
    from sloprobe.probe_docs import render_probe_docs

    text = render_probe_docs()
    out = sys.stdout
    if (out.encoding or "").lower().replace("-", "") != "utf8" and hasattr(out, "buffer"):
        out.flush()  # the docs hold → and —: write UTF-8 whatever the locale says
        out.buffer.write(text.encode())
        out.buffer.flush()
    else:
        out.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
