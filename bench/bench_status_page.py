"""Status page: build time and output size for 200 services × 10 SLOs × 90 days of history.

``python bench/bench_status_page.py [--services 200] [--slos 10] [--days 90] [--step 60]
[--compact] [--quick | --small] [--update-results]``; ``bench/run.py`` runs it too, compacted.

The history is filled in bulk, straight into the store's tables as bench_scale.py
does (runs and verdict rows, a few incidents), with **hourly** runs: 90 days of
five-minute runs of 200 services × 10 SLOs would be 51.8 million verdict rows,
more than a bulk fill on a bench machine takes in reasonable time; hourly runs
are 4.3 million, and the page reads the same kinds of rows either way (a bucket
per day summed by the database, window sums by the database). ``--compact`` then
compacts the history as every run's prune does (all but the last day rolled up
into a row per SLO per day) and builds the page again from that: what a
production history looks like. ``--step 5`` fills five-minute runs.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import FULL, ROOT, Mode, add_mode_options, mode_of, on_path, table, update_results

on_path(ROOT, ROOT / "src")

HEADING = "### Status page:"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def fill(url: str, services: int, slos: int, days: int, step_min: int) -> tuple[int, int]:
    """Fill the history in bulk; returns (runs, verdict rows)."""
    from sqlalchemy import insert, select

    from sloprobe.history import HistoryStore, schema

    store = HistoryStore.open(url)
    step = timedelta(minutes=step_min)
    count = int(days * 24 * 60 / step_min)
    start = NOW - (count - 1) * step
    runs = verdicts = 0
    try:
        for s in range(services):
            service = f"service-{s:03d}"
            stopped = s % 50 == 7  # a few services stopped a day and a half ago: stale
            gap = range(count // 3, count // 3 + int(24 * 60 / step_min)) if s % 9 == 4 else ()
            slots = [
                i
                for i in range(count)
                if i not in gap and not (stopped and i > count - int(36 * 60 / step_min))
            ]
            with store.engine.begin() as conn:
                conn.execute(
                    insert(schema.runs),
                    [
                        {
                            "run_id": f"{service}-{i}",
                            "service": service,
                            "environment": "production",
                            "started_at": start + i * step,
                            "finished_at": start + i * step,
                            "trigger": "schedule",
                            "sloprobe_version": "bench",
                            "status": "ok",
                            "base_url": f"https://{service}.example",
                        }
                        for i in slots
                    ],
                )
                ids = dict(
                    conn.execute(
                        select(schema.runs.c.run_id, schema.runs.c.id).where(
                            schema.runs.c.service == service
                        )
                    ).all()
                )
                rows = []
                for i in slots:
                    at = start + i * step
                    for k in range(slos):
                        mark = (i + 7 * k + 13 * s) % 211
                        status = "breach" if mark == 0 else "warning" if mark == 100 else "ok"
                        rows.append(
                            {
                                "run_pk": ids[f"{service}-{i}"],
                                "service": service,
                                "environment": "production",
                                "slo": f"slo-{k}",
                                "at": at,
                                "status": status,
                                "counts_as_bad": status == "breach",
                                "counted": True,
                                "good_events": 0 if status == "breach" else 1,
                                "total_events": 1,
                                "observed": "value = 12",
                                "observed_value": 12.0,
                                "threshold": "value < 100",
                                "reason": "all thresholds met",
                                "samples": "[12.0]",
                            }
                        )
                conn.execute(insert(schema.verdicts), rows)
                incidents = []
                if s % 10 == 3:  # an open incident
                    incidents.append((NOW - timedelta(hours=2), None))
                if s % 5 == 1:  # one resolved ten days ago
                    incidents.append((NOW - timedelta(days=10, hours=3), NOW - timedelta(days=10)))
                for opened, resolved in incidents:
                    conn.execute(
                        insert(schema.incidents).values(
                            service=service,
                            environment="production",
                            slo="slo-0",
                            opened_at=opened,
                            since=opened,
                            resolved_at=resolved,
                            cause="3 consecutive bad runs",
                        )
                    )
            runs += len(slots)
            verdicts += len(rows)
            if s % 20 == 19:
                print(f"  filled {s + 1} services", file=sys.stderr, flush=True)
    finally:
        store.dispose()
    return runs, verdicts


def build(url: str, out: Path) -> dict[str, float]:
    """Read, render and write the page; the time of each step and the sizes."""
    from sloprobe.history import HistoryStore
    from sloprobe.status_page import build_status_page, render_site, write_site

    store = HistoryStore.open(url)
    try:
        started = time.perf_counter()
        page = build_status_page(store, now=NOW, title="Bench")
        read = time.perf_counter()
        files = render_site(page)
        rendered = time.perf_counter()
        write_site(files, out)
        written = time.perf_counter()
    finally:
        store.dispose()
    sizes = {name: len(text.encode()) for name, text in files.items()}
    pages = [n for n in sizes if n.endswith(".html") and n != "index.html"]
    return {
        "read": read - started,
        "render": rendered - read,
        "write": written - rendered,
        "total": written - started,
        "files": len(files),
        "bytes": sum(sizes.values()),
        "html": sum(sizes[n] for n in sizes if n.endswith(".html")),
        "svg": sum(sizes[n] for n in sizes if n.endswith(".svg")),
        "json": sum(sizes[n] for n in sizes if n.endswith(".json")),
        "index": sizes["index.html"],
        "page": sum(sizes[n] for n in pages) / max(1, len(pages)),
        "largest": max(sizes[n] for n in pages) if pages else 0,
        "environments": len(page.environments),
        "slos": sum(len(e.slos) for e in page.environments),
    }


def compact(url: str) -> float:
    from sloprobe.history import HistoryStore

    store = HistoryStore.open(url)
    try:
        started = time.perf_counter()
        store.prune(NOW - timedelta(days=400))  # rolls up; drops nothing
        return time.perf_counter() - started
    finally:
        store.dispose()


def _rows(figures: dict[str, float], what: str) -> list[list[str]]:
    total = figures["total"]
    return [
        [f"{what}: read history (baseline)", f"{figures['read']:.2f} s", "1.00×", ""],
        [
            f"{what}: render {figures['files']:,.0f} files (Jinja2, badges)",
            f"{figures['render']:.2f} s",
            f"{figures['render'] / figures['read']:.2f}×",
            "",
        ],
        [
            f"{what}: write them (atomically, each)",
            f"{figures['write']:.2f} s",
            f"{figures['write'] / figures['read']:.2f}×",
            "",
        ],
        [
            f"{what}: **the command's work, in all**",
            f"**{total:.2f} s**",
            f"{total / figures['read']:.2f}×",
            f"{figures['bytes'] / 2**20:.1f} MiB",
        ],
    ]


def _peak_rss_mib(reset: bool = False) -> float:
    """The process's peak resident memory; ``reset`` starts it again from now where Linux lets
    it (/proc/self/clear_refs), so that the peaks of benches run before this one in the
    process (run.py) do not count; what they left resident still does."""
    if reset:
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def section(
    mode: Mode = FULL,
    services: int | None = None,
    slos: int | None = None,
    days: int | None = None,
    step_min: int = 60,
    compacted: bool = True,
) -> str:
    """Fill the history, build the page from it, and (``compacted``) again from its roll-ups."""
    services = mode.size(200, quick=50, small=4) if services is None else services
    slos = mode.size(10, small=3) if slos is None else slos
    days = mode.size(90, small=3) if days is None else days
    resident = _peak_rss_mib(reset=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/history.db"
        started = time.perf_counter()
        runs, verdicts = fill(url, services, slos, days, step_min)
        filled = time.perf_counter() - started
        size = Path(f"{tmp}/history.db").stat().st_size
        print(f"  filled in {filled:.0f} s; building", file=sys.stderr, flush=True)
        full = build(url, Path(tmp) / "site")
        rows = _rows(full, "run rows")
        note_compact = ""
        if compacted:
            print("  compacting", file=sys.stderr, flush=True)
            took = compact(url)
            rolled = build(url, Path(tmp) / "site")  # over the earlier page, as a re-publish
            rows += _rows(rolled, "roll-ups")
            note_compact = (
                f" Compacting it as every run's prune does (everything but the last day rolled "
                f"up into a row per SLO per day) took {took:.0f} s; the second group of rows "
                f"builds the page again from that, over the first page's files."
            )
        peak = _peak_rss_mib()
    cadence = "hourly" if step_min == 60 else f"{step_min}-minute"
    return table(
        f"Status page: {services} services × {slos} SLOs × {days} days of {cadence} runs",
        ["step", "time", "ratio", "output"],
        rows,
        f"History: {runs:,} runs, {verdicts:,} verdict rows, {size / 2**20:.0f} MiB of SQLite, "
        f"filled in bulk in {filled:.0f} s ({cadence} runs: {days} days of five-minute runs would be "
        f"{services * slos * days * 288:,} verdict rows, too many to fill in bulk here; the "
        f"page reads the same database sums either way).{note_compact} Output: "
        f"{full['files']:,.0f} files — index.html {full['index'] / 1024:.0f} KiB, a service "
        f"page {full['page'] / 1024:.0f} KiB on average ({full['largest'] / 1024:.0f} KiB the "
        f"largest; {slos} SLOs × 90 day bars with their dates), HTML {full['html'] / 2**20:.1f} MiB, "
        f"SVG badges {full['svg'] / 2**20:.1f} MiB, endpoint JSON {full['json'] / 1024:.0f} KiB. "
        f"{full['environments']:.0f} environments, {full['slos']:,.0f} SLOs; peak RSS of the "
        f"bench process while it ran {peak:.0f} MiB ({resident:.0f} MiB when it began). Reading is most of the time: per environment its "
        f"latest run, its 90-day timeline (days of run rows bucketed by the database; rolled-up "
        f"days come as a point per hour, decoded in Python) and four window sums per SLO; the "
        f"incidents once. No goal: the figures are for scale. bench/run.py runs it; alone, "
        f"`python bench/bench_status_page.py --compact --update-results` puts this section into "
        f"RESULTS.md.",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, help="default 200 (4 with --small)")
    parser.add_argument("--slos", type=int, help="default 10 (3 with --small)")
    parser.add_argument("--days", type=int, help="default 90 (3 with --small)")
    parser.add_argument("--step", type=int, default=60, help="minutes between runs (default 60)")
    parser.add_argument("--compact", action="store_true", help="also build from a compacted copy")
    parser.add_argument(
        "--update-results", action="store_true", help="write the section into bench/RESULTS.md"
    )
    add_mode_options(parser)
    args = parser.parse_args()
    text = section(mode_of(args), args.services, args.slos, args.days, args.step, args.compact)
    print(text)
    if args.update_results:
        update_results(HEADING, text)


if __name__ == "__main__":
    main()
