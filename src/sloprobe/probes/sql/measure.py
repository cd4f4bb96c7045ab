"""The SQL probe: read-only queries with a statement timeout, percentiles computed in the database.

PostgreSQL computes percentiles itself (``percentile_cont`` is the linear
method, ``percentile_disc`` the nearest-rank one); on SQLite, which has no
percentile functions, the probe counts the rows and fetches only the ranks
it needs (``ORDER BY … LIMIT 1 OFFSET k``), so a million rows never reach
Python. Connections are read-only (SQLite ``mode=ro``, PostgreSQL
``READ ONLY`` transactions) and every statement is bounded by ``timeout``.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import sqlalchemy  # noqa: F401  (imported before the first timed request)

from sloprobe.extras import missing_driver
from sloprobe.model.measurement import Measurement, Reading, Sample, Series
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.units import Unit
from sloprobe.probes.base import ProbeCall, timed
from sloprobe.probes.network import describe_error
from sloprobe.probes.sql.spec import SqlProbe, SqlQuery, sql_series_units
from sloprobe.redact import Redactor, redact_url, redact_urls_in


async def measure(call: ProbeCall[SqlProbe]) -> Reading:
    return await read_sql(call.spec, call.context.redactor)


async def run_sql_probe(name: str, spec: SqlProbe, redactor: Redactor) -> Measurement:
    """:func:`read_sql` as probe ``name``'s timed Measurement, outside a run."""
    return await timed(name, "sql", read_sql(spec, redactor))


async def read_sql(spec: SqlProbe, redactor: Redactor) -> Reading:
    try:
        from sqlalchemy.engine import make_url

        redactor.add(make_url(spec.url).password)
    except Exception:  # an unparsable URL is reported below, without its text
        pass
    try:
        series, missing = await asyncio.wait_for(
            asyncio.to_thread(_measure, spec), max(spec.timeout, 2.0) + 1.0
        )
        failure = None
    except TimeoutError:
        step = f"sql {_shown(spec.url)}"
        failure = f"{step}: read timeout (no answer within {spec.timeout:g}s)"
        series, missing = {}, {}
    except ImportError as exc:
        series, missing, failure = {}, {}, missing_driver(exc)
    except Exception as exc:
        series, missing, failure = {}, {}, _describe(exc, redactor, spec.url)
    units = sql_series_units(spec)
    return Reading(
        series={n: Series(n, units[n], tuple(series.get(n, ()))) for n in units}
        if failure is None
        else {},
        failure=failure,
        missing=missing,
    )


def _measure(spec: SqlProbe) -> tuple[dict[str, list[Sample]], dict[str, str]]:
    from sqlalchemy import text

    engine = _engine(spec)
    series: dict[str, list[Sample]] = {}
    missing: dict[str, str] = {}
    try:
        with engine.connect() as conn:
            _read_only(conn, spec.timeout)
            for name, query in spec.queries.items():
                if query.mode == "percentile":
                    values, count = _percentiles(conn, query)
                    series[f"{name}.count"] = [float(count)]
                    for q, value in zip(query.percentiles, values, strict=True):
                        key = f"{name}.p{q:g}"
                        if value is None:
                            missing[key] = "the query returned no rows"
                        else:
                            series[key] = [query.unit.to_base(value)]
                    continue
                rows = conn.execute(text(query.sql)).yield_per(1000)
                if query.mode == "value":
                    row = rows.first()
                    if row is None:
                        missing[name] = "the query returned no rows"
                    elif row[0] is None:
                        missing[name] = "the query returned NULL"
                    else:
                        series[name] = [_sample(row[0], query.unit)]
                else:
                    found = []
                    for index, row in enumerate(rows):
                        if index >= query.max_rows:
                            break
                        if row[0] is not None:
                            found.append(_sample(row[0], query.unit))
                    if found:
                        series[name] = found
                    else:
                        missing[name] = "the query returned no rows"
            conn.rollback()
    finally:
        engine.dispose()
    return series, missing


def _engine(spec: SqlProbe) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(spec.url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        uri = f"file:{database}?mode=ro" if not database.startswith("file:") else database
        return create_engine("sqlite://", creator=lambda: _sqlite_read_only(uri, spec.timeout))
    args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        args["connect_timeout"] = max(2, math.ceil(spec.timeout))  # libpq reads under 2 as 2
    return create_engine(url, connect_args=args)


def _sqlite_read_only(uri: str, timeout: float) -> Any:
    import sqlite3

    connection = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
    deadline = time.monotonic() + timeout
    # SQLite has no statement timeout: a progress handler aborts a query that runs too long.
    connection.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    return connection


def _read_only(conn: Any, timeout: float) -> None:
    from sqlalchemy import text

    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION READ ONLY"))
        conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout * 1000)}"))


def _percentiles(conn: Any, query: SqlQuery) -> tuple[list[float | None], int]:
    from sqlalchemy import text

    inner = query.sql.strip().rstrip(";")
    qs = [q / 100 for q in query.percentiles]
    if conn.dialect.name == "postgresql":
        function = (
            "percentile_cont" if query.method is PercentileMethod.LINEAR else "percentile_disc"
        )
        row = conn.execute(
            text(
                f"SELECT {function}(CAST(:qs AS double precision[])) WITHIN GROUP (ORDER BY v), count(v) FROM ({inner}) AS s(v)"
            ),
            {"qs": qs},
        ).one()
        found = list(row[0]) if row[0] is not None else [None] * len(qs)
        return [float(v) if v is not None else None for v in found], int(row[1])
    column = _first_column(conn, inner)
    count = int(
        conn.execute(
            text(f"SELECT count(*) FROM ({inner}) AS s WHERE s.{column} IS NOT NULL")
        ).scalar()
        or 0
    )
    if count == 0:
        return [None] * len(qs), 0

    needed: dict[
        float, tuple[int, int, float]
    ] = {}  # q → (lower rank, upper rank, fraction), 0-based
    for q in query.percentiles:
        if query.method is PercentileMethod.NEAREST_RANK:
            rank = max(1, math.ceil(q / 100 * count)) - 1
            needed[q] = (rank, rank, 0.0)
        else:
            position = (count - 1) * q / 100
            lower = math.floor(position)
            needed[q] = (lower, min(lower + 1, count - 1), position - lower)
    ranks = sorted({r for low, high, _ in needed.values() for r in (low, high)})
    # One sort, in the database: number the rows and keep only the ranks we need.
    listed = ", ".join(str(r + 1) for r in ranks)
    rows = conn.execute(
        text(
            f"SELECT rn, v FROM (SELECT s.{column} AS v, ROW_NUMBER() OVER (ORDER BY s.{column}) AS rn "
            f"FROM ({inner}) AS s WHERE s.{column} IS NOT NULL) AS numbered WHERE rn IN ({listed})"
        )
    ).all()
    at = {int(rn) - 1: float(v) for rn, v in rows}
    values: list[float | None] = []
    for q in query.percentiles:
        low, high, fraction = needed[q]
        values.append(at[low] + (at[high] - at[low]) * fraction)
    return values, count


def _first_column(conn: Any, inner: str) -> str:
    from sqlalchemy import text

    keys = [str(k) for k in conn.execute(text(f"SELECT * FROM ({inner}) LIMIT 0")).keys()]  # noqa: SIM118
    if len(keys) != 1:
        raise ValueError("a percentile query selects exactly one column")
    return '"' + keys[0].replace('"', '""') + '"'


def _sample(value: Any, unit: Unit) -> Sample:
    if isinstance(value, bool | str):
        return value
    return unit.to_base(float(value))


def _describe(exc: BaseException, redactor: Redactor, url: str) -> str:
    original = getattr(exc, "orig", None) or exc
    step = f"sql {_shown(url)}"
    text_ = " ".join(str(original).split())
    lowered = text_.lower()
    if "read-only" in lowered or "readonly" in lowered or "read only" in lowered:
        return f"refused: the probe is read-only ({redactor(redact_urls_in(text_))[:200]})"
    if "statement timeout" in lowered or "interrupted" in lowered:
        return "the query was cancelled by the statement timeout"
    if getattr(exc, "connection_invalidated", False) or type(exc).__name__ == "OperationalError":
        return describe_error(original, redactor, step)
    return f"{step}: {type(original).__name__}: {redactor(redact_urls_in(text_))[:300]}"


def _shown(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return redact_url(url)
