"""Recording one run with 15 writers at once on one PostgreSQL history, against one writer alone.

``python bench/bench_concurrent_writers.py [--rounds N]``

The writers are tests/scale's: one process per (location, service), each running
the plugin's own SuiteRun — a real probe of the reference service, judged against
history with a quorum across locations, recorded and pruned — for N rounds. The
baseline is one such writer alone, in the same run, on the same server.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time

from common import ROOT, table, update_results

sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select
from tests.scale import test_locations_at_scale as scale
from tests.support.postgres_server import postgres_server, scratch_database

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import ServiceConfig, start_service
from sloprobe.history import schema


def _run(pairs: list[tuple[str, str]], base_url: str, history: str, rounds: int) -> float:
    """Seconds per recorded run, over all writers (wall time × writers / runs)."""
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
    engine = create_engine(history)
    with engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(schema.runs)).scalar_one()
    engine.dispose()
    assert runs == rounds * len(pairs), runs
    return took * len(pairs) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--update-results", action="store_true", help="write the section into bench/RESULTS.md"
    )
    args = parser.parse_args()
    all_pairs = [(loc, svc) for svc in scale.SERVICES for loc in scale.LOCATIONS]
    with postgres_server() as server, start_service(ServiceConfig()) as service:
        warm_up(service.base_url, jobs=1)
        with scratch_database(server, "bench") as history:
            alone = _run(all_pairs[:1], service.base_url, history, args.rounds)
        with scratch_database(server, "bench") as history:
            together = _run(all_pairs, service.base_url, history, args.rounds)
    text = table(
        "Recording with 15 concurrent writers on one PostgreSQL history",
        ["writers", "wall time per recorded run", "ratio to one writer", "runs recorded per s"],
        [
            ["1", f"{alone * 1000:.0f} ms", "1.00×", f"{1 / alone:.1f}"],
            [
                "15",
                f"{together * 1000:.0f} ms",
                f"{together / alone:.2f}×",
                f"{15 / together:.1f}",
            ],
        ],
        f"{args.rounds} rounds per writer; each run a real probe of the reference service, "
        "judged with a quorum across 3 locations, recorded and pruned (SuiteRun). Wall time "
        "× writers / runs: on a 2-core machine 15 processes share the cores, so the ratio "
        "includes CPU contention, not only PostgreSQL's locks. No run lost in either.",
    )
    print(text)
    if args.update_results:
        update_results("### Recording with 15 concurrent writers", text)


if __name__ == "__main__":
    main()
