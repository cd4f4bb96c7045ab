"""Recording one run with 15 writers at once on one PostgreSQL history, against one writer alone.

``python bench/bench_concurrent_writers.py [--rounds N] [--quick | --small] [--update-results]``;
``bench/run.py`` runs it too.

The writers are tests/scale's: one process per (location, service), each running
the plugin's own SuiteRun — a real probe of the reference service, judged against
history with a quorum across locations, recorded and pruned — for N rounds. The
baseline is one such writer alone, in the same run, on the same server. A small
run has 3 writers (one service in its 3 locations) for 2 rounds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from contextlib import ExitStack

from common import (
    FULL,
    ROOT,
    Mode,
    Unavailable,
    add_mode_options,
    mode_of,
    on_path,
    table,
    update_results,
)

on_path(ROOT, ROOT / "src")

HEADING = "### Concurrent writers:"


def _run(pairs: list[tuple[str, str]], base_url: str, history: str, rounds: int) -> float:
    """Seconds per recorded run, over all writers (wall time × writers / runs)."""
    from sqlalchemy import create_engine, func, select
    from tests.scale import test_locations_at_scale as scale

    from sloprobe.history import schema

    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=scale.writer, args=(loc, svc, base_url, base_url, history, rounds))
        for loc, svc in pairs
    ]
    started = time.perf_counter()
    for process in writers:
        process.start()
    for process in writers:
        process.join()
    took = time.perf_counter() - started
    failed = [p.exitcode for p in writers if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"concurrent writers: {len(failed)} writer(s) exited {failed}")
    engine = create_engine(history)
    with engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(schema.runs)).scalar_one()
    engine.dispose()
    if runs != rounds * len(pairs):
        raise RuntimeError(f"concurrent writers: {runs} runs recorded of {rounds * len(pairs)}")
    return took * len(pairs) / runs


def section(mode: Mode = FULL, postgres_url: str | None = None, rounds: int | None = None) -> str:
    """The section; PostgreSQL from ``postgres_url`` (a test's server) or a throwaway server."""
    from tests.scale import test_locations_at_scale as scale
    from tests.support.postgres_server import find_bindir, postgres_server, scratch_database

    from sloprobe.demo.run import warm_up
    from sloprobe.demo.service import ServiceConfig, start_service

    rounds = mode.size(30, quick=10, small=2) if rounds is None else rounds
    all_pairs = [(loc, svc) for svc in scale.SERVICES for loc in scale.LOCATIONS]
    pairs = all_pairs[: mode.size(len(all_pairs), small=len(scale.LOCATIONS))]
    if postgres_url is None and find_bindir() is None:
        raise Unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    with ExitStack() as stack:
        server = postgres_url or stack.enter_context(postgres_server())
        service = stack.enter_context(start_service(ServiceConfig()))
        warm_up(service.base_url, jobs=1)
        with scratch_database(server, "bench") as history:
            alone = _run(pairs[:1], service.base_url, history, rounds)
        with scratch_database(server, "bench") as history:
            together = _run(pairs, service.base_url, history, rounds)
    writers = len(pairs)
    return table(
        f"Concurrent writers: recording with {writers} writers at once on one PostgreSQL history",
        ["writers", "wall time per recorded run", "ratio to one writer", "runs recorded per s"],
        [
            ["1", f"{alone * 1000:.0f} ms", "1.00×", f"{1 / alone:.1f}"],
            [
                str(writers),
                f"{together * 1000:.0f} ms",
                f"{together / alone:.2f}×",
                f"{writers / together:.1f}",
            ],
        ],
        f"{rounds} rounds per writer; each run a real probe of the reference service, judged "
        "with a quorum across 3 locations, recorded and pruned (SuiteRun). Wall time × writers / "
        f"runs: on a {os.cpu_count()}-core machine {writers} processes share the cores, so the "
        "ratio includes CPU contention, not only PostgreSQL's locks. No goal but that no run is "
        "lost: none was, in either (the bench fails otherwise).",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, help="rounds per writer (default 30; 2 with --small)")
    parser.add_argument(
        "--update-results", action="store_true", help="write the section into bench/RESULTS.md"
    )
    add_mode_options(parser)
    args = parser.parse_args()
    text = section(mode_of(args), rounds=args.rounds)
    print(text)
    if args.update_results:
        update_results(HEADING, text)


if __name__ == "__main__":
    main()
