"""The SQL probe on real PostgreSQL and SQLite: values, percentiles in the database, read-only, bounded."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sloprobe.model.measurement import Measurement
from sloprobe.model.percentiles import PercentileMethod, percentile
from sloprobe.probes.sql.measure import run_sql_probe
from sloprobe.probes.sql.spec import SqlProbe
from sloprobe.redact import Redactor
from tests.support.postgres_server import scratch_database

ROWS = 3000
random.seed(7)
DURATIONS = [round(random.lognormvariate(0, 1), 1) for _ in range(ROWS)]  # rounding makes ties


def fill(url: str) -> None:
    now = datetime.now(UTC)  # at fill time: the "time since the last finished job" test reads it
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE jobs (id integer primary key, status varchar(20), created_at timestamp, finished_at timestamp, seconds float)"
            )
        )
        rows = [
            {
                "id": i,
                "status": "queued" if i % 10 == 0 else "succeeded",
                "created_at": now - timedelta(minutes=i),
                "finished_at": None if i % 10 == 0 else now - timedelta(minutes=i, seconds=-3),
                "seconds": None if i % 10 == 0 else DURATIONS[i],
            }
            for i in range(ROWS)
        ]
        conn.execute(
            text("INSERT INTO jobs VALUES (:id, :status, :created_at, :finished_at, :seconds)"),
            rows,
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
        fill(url)
        yield url
        return
    server: str = request.getfixturevalue("postgres_url")
    with scratch_database(server, "jobs") as url:
        fill(url)
        yield url


def measure(url: str, timeout: float = 10.0, **queries: dict[str, object]) -> Measurement:
    spec = SqlProbe.model_validate({"url": url, "timeout": timeout, "queries": queries})
    return asyncio.run(run_sql_probe("db", spec, Redactor()))


def test_queue_depth_and_time_since_last_finished(database: str) -> None:
    age = (
        "EXTRACT(EPOCH FROM (now() - max(finished_at)))"
        if "postgres" in database
        else "(julianday('now') - julianday(max(finished_at))) * 86400"
    )
    m = measure(
        database,
        depth={"sql": "SELECT count(*) FROM jobs WHERE status = 'queued'", "unit": "count"},
        idle={"sql": f"SELECT {age} FROM jobs WHERE status = 'succeeded'", "unit": "s"},
    )
    assert m.failure is None, m.failure
    assert m.series["depth"].samples == (300.0,)
    idle = m.series["idle"].samples[0]
    assert isinstance(idle, float) and -5 < idle < 120  # the newest job finished moments ago


@pytest.mark.parametrize("method", [PercentileMethod.LINEAR, PercentileMethod.NEAREST_RANK])
def test_percentiles_in_the_database_equal_sloprobes_own(
    database: str, method: PercentileMethod
) -> None:
    m = measure(
        database,
        work={
            "sql": "SELECT seconds FROM jobs",
            "unit": "s",
            "mode": "percentile",
            "percentiles": [50, 95, 99, 100],
            "method": method.value,
        },
    )
    assert m.failure is None, m.failure
    present = [d for i, d in enumerate(DURATIONS) if i % 10 != 0]  # NULLs are ignored
    assert m.series["work.count"].samples == (float(len(present)),)
    for q in (50, 95, 99, 100):
        assert m.series[f"work.p{q}"].samples[0] == pytest.approx(
            percentile(present, q, method), rel=1e-9
        )


def test_column_mode_is_capped(database: str) -> None:
    m = measure(
        database,
        recent={
            "sql": "SELECT seconds FROM jobs WHERE seconds IS NOT NULL",
            "unit": "s",
            "mode": "column",
            "max_rows": 100,
        },
    )
    assert len(m.series["recent"].samples) == 100


def test_read_only(database: str) -> None:
    m = measure(database, bad={"sql": "DELETE FROM jobs RETURNING id"})
    assert m.failure is not None and "read-only" in m.failure
    engine = create_engine(database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar() == ROWS
    engine.dispose()


def test_statement_timeout(database: str) -> None:
    slow = (
        "SELECT pg_sleep(600)"
        if "postgres" in database
        else "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    )
    start = time.monotonic()
    m = measure(database, timeout=1.0, slow={"sql": slow})
    assert m.failure is not None
    assert time.monotonic() - start < 1.0 + 1.5


def test_null_and_no_rows_are_no_data(database: str) -> None:
    m = measure(
        database,
        none={"sql": "SELECT max(seconds) FROM jobs WHERE id < 0"},
        empty={"sql": "SELECT seconds FROM jobs WHERE id < 0"},
    )
    assert m.missing == {"none": "the query returned NULL", "empty": "the query returned no rows"}


def test_wrong_password_and_server_down_are_secret_free(postgres_url: str) -> None:
    port = postgres_url.rsplit(":", 1)[1].split("/")[0]
    m = measure(
        f"postgresql+psycopg://nobody:hunter2-secret@127.0.0.1:{port}/nope",
        depth={"sql": "SELECT 1"},
    )
    assert m.failure is not None and "hunter2-secret" not in m.failure
    down = measure(
        "postgresql+psycopg://nobody:hunter2-secret@127.0.0.1:9/nope",
        timeout=2.0,
        depth={"sql": "SELECT 1"},
    )
    assert down.failure is not None and "hunter2-secret" not in down.failure
