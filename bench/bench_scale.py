"""Scale: history over 30 days × 20 SLOs, and p95 over 1,000,000 job rows, against naive baselines.

``python bench/bench_scale.py [--quick | --small]``; ``bench/run.py`` runs both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import FULL, ROOT, Mode, Unavailable, add_mode_options, mode_of, on_path, table

on_path(ROOT)

SLOS = 20
STEP = timedelta(minutes=5)


def measured(action: Callable[[], Any]) -> tuple[float, int, Any]:
    tracemalloc.start()
    start = time.perf_counter()
    value = action()
    took = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return took, peak, value


def history(mode: Mode = FULL) -> str:
    """Judging and recording one run over a month of runs, against a naive scan; the report."""
    runs = mode.size(8640, quick=2000, small=288)
    from sqlalchemy import insert, select

    from sloprobe.config import load_slo_text
    from sloprobe.history import HistoryStore, schema
    from sloprobe.judge.evaluate import evaluate_slo
    from sloprobe.judge.over_time import judge_run, outcome_function
    from sloprobe.model.measurement import Measurement, Series
    from sloprobe.model.result import RunInfo, RunResult
    from sloprobe.model.units import Unit

    text = "version: 1\nservice: bench\nprobes:\n  p:\n    http:\n      path: /\n      values:\n        v: {json: v, unit: count}\nslos:\n"
    text += "".join(
        f"  s{i}:\n    probe: p\n    measure: v\n    threshold: value < 100\n    objective: 99.5%\n    window: 30d\n"
        for i in range(SLOS)
    )
    loaded = load_slo_text(text, "slo.yaml", {})
    now = datetime(2026, 11, 30, tzinfo=UTC)
    start = now - runs * STEP
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore.open(f"sqlite:///{tmp}/h.db")
        with store.engine.begin() as conn:  # bulk fill: 30 days of five-minute runs
            for index in range(runs):
                at = start + index * STEP
                run_pk = conn.execute(
                    insert(schema.runs).values(
                        run_id=f"r{index}",
                        service="bench",
                        environment="production",
                        started_at=at,
                        finished_at=at,
                        trigger="schedule",
                        sloprobe_version="bench",
                        status="ok",
                    )
                ).inserted_primary_key[0]
                bad = index % 97 == 0
                conn.execute(
                    insert(schema.verdicts),
                    [
                        {
                            "run_pk": run_pk,
                            "service": "bench",
                            "environment": "production",
                            "slo": f"s{i}",
                            "at": at,
                            "status": "breach" if bad else "ok",
                            "counts_as_bad": bad,
                            "counted": True,
                            "good_events": 0 if bad else 1,
                            "total_events": 1,
                            "observed": "x",
                            "threshold": "value < 100",
                            "reason": "",
                            "samples": "[1.0]",
                        }
                        for i in range(SLOS)
                    ],
                )
        measurement = Measurement("p", "http", now, 0.01, {"v": Series("v", Unit.COUNT, (1.0,))})
        verdicts = tuple(evaluate_slo(n, s, measurement) for n, s in loaded.spec.slos.items())
        result = RunResult(
            RunInfo("next", "bench", "production", now, now, "bench", "slo.yaml", None),
            verdicts,
            {"p": measurement},
        )
        ours_time, ours_peak, judged = measured(
            lambda: store.record(
                result,
                lambda view: judge_run(result, loaded.spec, view),
                outcome_function(result, loaded.spec),
            )
        )

        def naive() -> dict[str, float]:
            with store.engine.connect() as conn:
                rows = [
                    dict(r._mapping) for r in conn.execute(select(schema.verdicts))
                ]  # every column of every row
            out = {}
            for i in range(SLOS):
                mine = [r for r in rows if r["slo"] == f"s{i}"]
                for window in (300, 1800, 3600, 7200, 21600, 86400, 259200, 2592000):
                    since = now - timedelta(seconds=window)
                    inside = [r for r in mine if r["at"].replace(tzinfo=UTC) > since]
                    bad = sum(1 for r in inside if r["counts_as_bad"])
                    out[f"s{i}/{window}"] = bad / len(inside) / 0.005 if inside else math.nan
                    _ = [json.loads(r["samples"]) for r in inside]
            return out

        naive_time, naive_peak, _ = measured(naive)
        import dataclasses

        from sloprobe.codec import result_to_dict
        from sloprobe.sinks.html_report import render_html_report

        timeline_time, _, timeline = measured(
            lambda: store.timeline(
                "bench", "production", now - timedelta(days=30), now - timedelta(days=1)
            )
        )
        shown = dataclasses.replace(judged, timeline=timeline)
        json_time, _, _ = measured(lambda: json.dumps(result_to_dict(shown)))
        html_time, html_peak, html = measured(lambda: render_html_report(shown))
        store.dispose()
    budget = judged.verdicts[0].history.budget
    return (
        table(
            f"History: judging and recording one run over {runs / 288:g} days of five-minute runs ({runs:,} runs × {SLOS} SLOs)",
            ["approach", "time", "ratio", "peak Python memory"],
            [
                [
                    "naive: load every stored row, scan lists per window (baseline)",
                    f"{naive_time:.3f} s",
                    "1.00×",
                    f"{naive_peak / 1e6:.1f} MB",
                ],
                [
                    "sloprobe: judge_run + record (indexed window queries, one transaction)",
                    f"{ours_time:.3f} s",
                    f"{ours_time / naive_time:.2f}×",
                    f"{ours_peak / 1e6:.1f} MB",
                ],
            ],
            f"Compliance found: {budget.compliance:.4f} over {budget.runs:,} runs (sanity check).",
        )
        + "\n"
        + table(
            f"Report over the same history ({runs:,} runs × {SLOS} SLOs, charts downsampled to 288 points)",
            ["step", "time", "ratio", "size / memory"],
            [
                ["writing results.json (baseline)", f"{json_time:.3f} s", "1.00×", ""],
                [
                    "reading the timeline for the charts",
                    f"{timeline_time:.3f} s",
                    f"{timeline_time / json_time:.1f}×",
                    "",
                ],
                [
                    "rendering report.html with its charts",
                    f"{html_time:.3f} s",
                    f"{html_time / json_time:.1f}×",
                    f"{len(html.encode()) / 1024:.0f} KiB; {html_peak / 1e6:.1f} MB peak",
                ],
            ],
        )
    )


@contextmanager
def postgres_database(postgres_url: str | None) -> Iterator[str]:
    """A fresh PostgreSQL database: on the server at ``postgres_url`` (a test's), else on a
    throwaway server started for it (tests/support); Unavailable if PostgreSQL is not installed."""
    from tests.support.postgres_server import find_bindir, postgres_server, scratch_database

    if postgres_url is not None:
        with scratch_database(postgres_url, "bench") as url:
            yield url
        return
    if find_bindir() is None:
        raise Unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


def sql_percentile(mode: Mode = FULL, postgres_url: str | None = None) -> str:
    """p95 of a column through the SQL probe's query path, against fetching every row.

    PostgreSQL comes from ``postgres_url`` when given; without it a throwaway server is
    started, and when PostgreSQL is not installed only SQLite is measured (the note says so).
    """
    from contextlib import ExitStack

    from sqlalchemy import create_engine, text

    from sloprobe.model.percentiles import percentile
    from sloprobe.probes.sql.measure import run_sql_probe
    from sloprobe.probes.sql.spec import SqlProbe
    from sloprobe.redact import Redactor

    rows = mode.size(1_000_000, quick=100_000, small=10_000)
    out = []
    missing = ""
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'jobs.db'}")]
        try:
            targets.append(("PostgreSQL", stack.enter_context(postgres_database(postgres_url))))
        except Unavailable as exc:
            missing = f"PostgreSQL not measured: {exc}."
        for label, url in targets:
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE jobs (id integer, seconds float)"))
                if url.startswith("sqlite"):
                    conn.execute(
                        text(
                            f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) INSERT INTO jobs SELECT x, abs(random() % 100000) / 1000.0 FROM c"
                        )
                    )
                else:
                    conn.execute(
                        text(
                            f"INSERT INTO jobs SELECT g, random() * 100 FROM generate_series(1, {rows}) g"
                        )
                    )

            def naive(engine: Any = engine) -> float:
                with engine.connect() as conn:
                    values = [r[0] for r in conn.execute(text("SELECT seconds FROM jobs")).all()]
                return percentile(values, 95)

            spec = SqlProbe.model_validate(
                {
                    "url": url,
                    "timeout": 600,
                    "queries": {
                        "w": {
                            "sql": "SELECT seconds FROM jobs",
                            "mode": "percentile",
                            "percentiles": [95],
                        }
                    },
                }
            )
            naive_time, naive_peak, expected = measured(naive)
            ours_time, ours_peak, m = measured(
                lambda spec=spec: asyncio.run(run_sql_probe("db", spec, Redactor()))
            )
            if m.failure:
                raise RuntimeError(f"sql_percentile: the SQL probe failed on {label}: {m.failure}")
            got = m.series["w.p95"].samples[0]
            engine.dispose()
            same = (
                "same"
                if math.isclose(got, expected, rel_tol=1e-9)
                else f"differs ({got} vs {expected})"
            )
            out += [
                [
                    label,
                    "naive: fetch all rows, sort in Python (baseline)",
                    f"{naive_time:.2f} s",
                    "1.00×",
                    f"{naive_peak / 1e6:.1f} MB",
                    "",
                ],
                [
                    label,
                    "sloprobe's query path",
                    f"{ours_time:.2f} s",
                    f"{ours_time / naive_time:.2f}×",
                    f"{ours_peak / 1e6:.1f} MB",
                    same,
                ],
            ]
    return table(
        f"SQL percentile: p95 over {rows:,} job rows",
        ["database", "approach", "time", "ratio", "peak Python memory", "p95"],
        out,
        "No goal but the same p95 as the baseline's; the ratio is the time against fetching every "
        f"row and sorting in Python. {missing}".strip(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_mode_options(parser)
    mode = mode_of(parser.parse_args())
    print(history(mode))
    print(sql_percentile(mode))


if __name__ == "__main__":
    main()
