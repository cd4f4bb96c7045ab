"""The codec round-trips every RunResult, and history replays verdicts exactly as judged."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sloprobe.codec import CodecError, result_from_dict, result_to_dict
from sloprobe.history import HistoryStore
from sloprobe.history.replay import load_run
from sloprobe.model.history import (
    AlertState,
    Budget,
    BurnRate,
    IncidentState,
    RunOutcome,
    SloHistory,
    Transition,
)
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Level, Status
from sloprobe.model.units import Unit
from sloprobe.model.verdict import ThresholdCheck, Verdict

text = st.text(max_size=30)
names = st.from_regex(r"[a-z][a-z0-9_.-]{0,15}", fullmatch=True)
times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
any_float = st.floats(allow_nan=True, allow_infinity=True)
finite = st.floats(allow_nan=False, allow_infinity=False)
samples = st.one_of(any_float, text, st.booleans())
maybe = st.none


@st.composite
def measurements(draw: st.DrawFn, probe: str) -> Measurement:
    series_names = draw(st.lists(names, max_size=4, unique=True))
    return Measurement(
        probe=probe,
        kind=draw(st.sampled_from(["http", "job", "redis", "sql", "prometheus", "tcp"])),
        started_at=draw(times),
        duration_s=draw(finite),
        series={
            n: Series(
                n, draw(st.sampled_from(list(Unit))), tuple(draw(st.lists(samples, max_size=5)))
            )
            for n in series_names
        },
        failure=draw(st.none() | text),
        missing=draw(st.dictionaries(names, text, max_size=3)),
        attempts=draw(st.integers(0, 10)),
        retries=draw(st.integers(0, 10)),
        excerpt=draw(st.none() | text),
        details=draw(st.dictionaries(names, text, max_size=3)),
        skipped=draw(st.none() | text),
        deferred=draw(st.booleans()),
        trace_id=draw(st.none() | st.text("0123456789abcdef", min_size=32, max_size=32)),
    )


rates = st.builds(BurnRate, finite, st.none() | any_float, st.integers(0, 9000))
histories = st.builds(
    SloHistory,
    incident=st.builds(
        IncidentState,
        open=st.booleans(),
        transition=st.none() | st.sampled_from(list(Transition)),
        opened_at=st.none() | times,
        duration_s=st.none() | finite,
        bad_streak=st.integers(0, 100),
        good_streak=st.integers(0, 100),
        cause=st.none() | text,
        silenced=st.none() | text,
        incident_id=st.none() | st.integers(1, 10**6),
        since=st.none() | times,
    ),
    budget=st.none()
    | st.builds(
        Budget,
        objective=finite,
        window_s=finite,
        budgeting=st.sampled_from(["timeslices", "occurrences"]),
        runs=st.integers(0, 9000),
        good=st.integers(0, 9000),
        total=st.integers(0, 9000),
        compliance=st.none() | any_float,
        total_s=finite,
        remaining_fraction=st.none() | any_float,
        remaining_s=st.none() | any_float,
        exhausted_in_s=st.none() | any_float,
        history_s=finite,
    ),
    burn_rates=st.lists(rates, max_size=4).map(tuple),
    alerts=st.lists(
        st.builds(AlertState, st.sampled_from(["page", "ticket"]), finite, rates, rates), max_size=4
    ).map(tuple),
    runs_seen=st.integers(0, 9000),
)


@st.composite
def verdicts(draw: st.DrawFn, slo: str, probe: str) -> Verdict:
    return Verdict(
        slo=slo,
        probe=probe,
        measure=draw(names),
        status=draw(st.sampled_from(list(Status))),
        observed=draw(text),
        threshold=draw(text),
        reason=draw(text),
        counts_as_bad=draw(st.booleans()),
        checks=tuple(
            draw(
                st.lists(
                    st.builds(
                        ThresholdCheck,
                        text,
                        st.sampled_from(list(Level)),
                        st.none() | samples,
                        text,
                        st.none() | st.booleans(),
                    ),
                    max_size=3,
                )
            )
        ),
        warn=draw(st.none() | text),
        samples=draw(st.integers(0, 1000)),
        percentile_method=draw(st.sampled_from(list(PercentileMethod))),
        description=draw(st.none() | text),
        owner=draw(st.none() | text),
        runbook=draw(st.none() | text),
        history=draw(st.none() | histories),
    )


@st.composite
def results(draw: st.DrawFn) -> RunResult:
    probes = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    slos = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    started = draw(times)
    info = RunInfo(
        run_id=draw(st.text("0123456789abcdef", min_size=12, max_size=12)),
        service=draw(names),
        environment=draw(names),
        started_at=started,
        finished_at=started + timedelta(seconds=draw(st.floats(0, 3600))),
        sloprobe_version=draw(names),
        slo_file=draw(names),
        base_url=draw(st.none() | text),
        trigger=draw(names),
        release=draw(st.none() | text),
    )
    return RunResult(
        info,
        tuple(draw(verdicts(slo, draw(st.sampled_from(probes)))) for slo in slos),
        {p: draw(measurements(p)) for p in probes},
        tuple(draw(st.lists(text, max_size=3))),
    )


def _has_nan(value: object) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nan(v) for v in value)
    return False


@given(results())
@settings(max_examples=150, deadline=None)
def test_the_codec_round_trips_through_strict_json(result: RunResult) -> None:
    encoded = result_to_dict(result)
    text_ = json.dumps(encoded, allow_nan=False)  # strict JSON: no NaN or Infinity literals
    decoded = result_from_dict(json.loads(text_))
    assert result_to_dict(decoded) == encoded
    if not _has_nan(json.loads(json.dumps(encoded))) and "nan" not in text_:
        assert decoded == result  # equal as objects, not only as dicts
    else:  # NaN != NaN: compare field by field where it can hide
        assert decoded.run == result.run
        assert [v.slo for v in decoded.verdicts] == [v.slo for v in result.verdicts]


@given(results())
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_history_replays_the_verdicts_it_stored(tmp_path: Path, result: RunResult) -> None:
    store = HistoryStore.open(f"sqlite:///{tmp_path / (uuid.uuid4().hex + '.db')}")
    try:
        judged = store.record(
            result,
            lambda view: result,
            lambda v: RunOutcome(result.run.started_at, v.counts_as_bad),
        )
        replayed = load_run(store, result.run.run_id)
    finally:
        store.dispose()
    assert replayed is not None
    assert result_to_dict(replayed) == result_to_dict(judged)


def test_a_foreign_dict_is_a_codec_error() -> None:
    try:
        result_from_dict({"run": {"run_id": "x"}})
    except CodecError as exc:
        assert "not a sloprobe run" in str(exc)
    else:
        raise AssertionError("a dict without a run decoded")
