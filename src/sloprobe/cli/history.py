"""``sloprobe history show|prune|export|import`` and ``sloprobe report``: history without probing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sloprobe.cli.common import USAGE_ERROR, Subparsers, reader_gone
from sloprobe.model.units import plural
from sloprobe.settings import history_url


def add_parser(commands: Subparsers) -> None:
    """Both commands: ``history`` and ``report``."""
    history = commands.add_parser("history", help="show, prune, export or import run history")
    actions = history.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("show", "recent runs and open incidents"),
        ("prune", "delete runs older than --older-than"),
        ("export", "write history as JSON lines (backups, moving stores)"),
        ("import", "add the runs of a JSON lines export"),
    ):
        action = actions.add_parser(name, help=text)
        _store_options(action)
        if name == "show":
            action.add_argument("--since", default="24h", help="how far back (default 24h)")
            action.add_argument(
                "--location", metavar="NAME", help="only the runs from this location"
            )
        if name == "prune":
            action.add_argument("--older-than", required=True, help="e.g. 90d")
        if name in ("export", "import"):
            action.add_argument(
                "file", nargs="?", default="-", help="file (default: - for stdout/stdin)"
            )
    report = commands.add_parser(
        "report", help="re-render the report of a stored run without probing"
    )
    _store_options(report)
    report.add_argument("--run", help="run id (default: the latest)")


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--slo-file", default="slo.yaml", help="to find the service and its history settings"
    )
    parser.add_argument("--history", help="SQLAlchemy URL or SQLite path (default as for a run)")
    parser.add_argument("--report-dir", help="report directory (default: settings.report_dir)")


def _resolve(args: argparse.Namespace) -> tuple[str, str | None, str | None, Path]:
    """(history URL, service, environment, report dir) as a run with these options would use."""
    service = environment = None
    url = history_url(args.history)
    report_dir = Path(args.report_dir or "reports")
    if Path(args.slo_file).is_file():
        from sloprobe.config import load_slo_file

        spec = load_slo_file(args.slo_file).spec
        service, environment = spec.service, spec.environment
        url = url or spec.settings.history.url
        report_dir = Path(args.report_dir or spec.settings.report_dir)
    if url and "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    return (
        url or f"sqlite:///{(report_dir / 'history.db').resolve()}",
        service,
        environment,
        report_dir,
    )


def handle(args: argparse.Namespace, rest: list[str]) -> int:
    return run_history(args) if args.command == "history" else run_report(args)


def run_history(args: argparse.Namespace) -> int:
    from sloprobe.errors import SloprobeError
    from sloprobe.fields.types import parse_duration
    from sloprobe.history import HistoryError, HistoryStore
    from sloprobe.history.engine import check_sqlite_url
    from sloprobe.history.replay import export_lines, import_lines

    try:
        url, service, environment, _ = _resolve(args)
        check_sqlite_url(url)  # a mistyped URL is said as such, not as "no history at …"
        if args.action in ("show", "export", "prune") and _no_history(url):
            return USAGE_ERROR
        store = HistoryStore.open(url)
    except SloprobeError as exc:  # slo.yaml or the store cannot be used: say why
        print(f"sloprobe: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        if args.action == "show":
            return _show(store, service, environment, parse_duration(args.since), args.location)
        if args.action == "prune":
            removed = store.prune(
                datetime.now(UTC) - timedelta(seconds=parse_duration(args.older_than))
            )
            print(f"pruned {plural(removed, 'run')}")
        elif args.action == "export":
            out = sys.stdout if args.file == "-" else open(args.file, "w", encoding="utf-8")  # noqa: SIM115
            with out if out is not sys.stdout else _nullcontext():
                for line in export_lines(store):
                    out.write(line + "\n")
        elif args.action == "import":
            source = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
            added, skipped = import_lines(store, source)
            print(f"imported {plural(added, 'run')} ({skipped} already present)")
        sys.stdout.flush()  # a closed pipe is found here, not at exit
    except BrokenPipeError:
        return reader_gone()
    except (HistoryError, ValueError, OSError) as exc:
        print(f"sloprobe: {exc}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        store.dispose()
    return 0


def _show(
    store: object,
    service: str | None,
    environment: str | None,
    since_s: float,
    location: str | None = None,
) -> int:
    from sqlalchemy import select

    from sloprobe.history import HistoryStore, schema
    from sloprobe.history.store import aware

    assert isinstance(store, HistoryStore)
    since = datetime.now(UTC) - timedelta(seconds=since_s)
    r, v, i = schema.runs, schema.verdicts, schema.incidents
    with store.engine.connect() as conn:
        query = select(
            r.c.id,
            r.c.run_id,
            r.c.service,
            r.c.environment,
            r.c.location,
            r.c.started_at,
            r.c.status,
            r.c.trigger,
        ).where(r.c.started_at >= since)
        if service:
            query = query.where(r.c.service == service, r.c.environment == environment)
        if location is not None:
            query = query.where(r.c.location == location)
        runs = conn.execute(query.order_by(r.c.started_at)).all()
        rows = [
            (
                aware(run.started_at).strftime("%Y-%m-%d %H:%M:%S"),
                f"{run.service}/{run.environment}",
                run.location or "-",
                run.status,
                run.trigger,
                run.run_id,
                ", ".join(
                    conn.execute(
                        select(v.c.slo).where(v.c.run_pk == run.id, v.c.counts_as_bad.is_(True))
                    )
                    .scalars()
                    .all()
                ),
            )
            for run in runs
        ]
        opened = conn.execute(
            select(i).where(i.c.resolved_at.is_(None)).order_by(i.c.opened_at)
        ).all()
    if rows:
        _table(SHOW_COLUMNS, rows)
    where = f" from {location}" if location is not None else ""
    print(f"{plural(len(runs), 'run')}{where} since {since:%Y-%m-%d %H:%M} UTC")
    for incident in opened:
        print(
            f"open incident: {incident.service}/{incident.environment} {incident.slo} since {aware(incident.opened_at):%Y-%m-%d %H:%M} UTC ({incident.cause})"
        )
    return 0


# A location of "-": the run was recorded before schema v3, or where none was known.
SHOW_COLUMNS = (
    "started (UTC)",
    "service/environment",
    "location",
    "status",
    "trigger",
    "run",
    "bad SLOs",  # breached, or no data that counts as bad
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns as wide as their widest cell, so that people can read them down."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _no_history(url: str) -> bool:
    """Whether a command that only reads was given a SQLite history that does not exist (said
    so): opening it would create an empty one where the user looked for theirs."""
    if not url.startswith("sqlite:///"):
        return False
    path = Path(url.removeprefix("sqlite:///"))
    if path.exists():
        return False
    print(f"sloprobe: no history at {path}", file=sys.stderr)
    return True


def run_report(args: argparse.Namespace) -> int:
    from sloprobe.errors import SloprobeError
    from sloprobe.history import HistoryStore
    from sloprobe.history.engine import check_sqlite_url
    from sloprobe.history.replay import latest_run_id, load_run
    from sloprobe.sinks import publish

    try:
        url, service, environment, report_dir = _resolve(args)
        check_sqlite_url(url)
        if _no_history(url):
            return USAGE_ERROR
        store = HistoryStore.open(url)
    except SloprobeError as exc:  # slo.yaml or the store cannot be used: say why
        print(f"sloprobe: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        run_id = args.run or latest_run_id(store, service, environment)
        result = load_run(store, run_id) if run_id else None
    finally:
        store.dispose()
    if result is None:
        missing = f"no stored run {args.run}" if args.run else "no stored run to report on"
        print(f"sloprobe: {missing}", file=sys.stderr)
        return USAGE_ERROR
    written, warnings = publish(result, report_dir)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in written:
        print(f"report: {path}")
    return 0 if written else USAGE_ERROR
