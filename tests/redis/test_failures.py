"""Redis failing is data: a clear, secret-free ``failure`` within the timeout, never an exception."""

from __future__ import annotations

import time

import pytest
import redis
from pytest_redis.executor import RedisExecutor

from tests.redis.conftest import PASSWORD, probe, url_of


def test_wrong_password_is_a_failure_without_the_password(redis_auth_server: RedisExecutor) -> None:
    wrong = "not-the-Right-pw"
    measurement, redactor = probe(url_of(redis_auth_server, wrong), layout="rq", queues=["default"])
    assert measurement.failure is not None
    assert "refused the credentials" in measurement.failure
    everything = " ".join(
        [measurement.failure, *measurement.details.values(), *measurement.missing.values()]
    )
    assert wrong not in everything
    assert PASSWORD not in everything
    assert f"{redis_auth_server.host}:{redis_auth_server.port}" in measurement.failure
    assert redactor(f"x {wrong} y") == "x *** y"  # the probe taught the redactor its password


def test_no_password_where_one_is_needed(redis_auth_server: RedisExecutor) -> None:
    measurement, _ = probe(url_of(redis_auth_server), layout="bullmq", queues=["q"])
    assert measurement.failure is not None
    assert "needs credentials" in measurement.failure


def test_right_password_reads(redis_auth_server: RedisExecutor) -> None:
    measurement, _ = probe(url_of(redis_auth_server, PASSWORD), layout="celery", queues=["celery"])
    assert measurement.failure is None
    assert "does not exist" in measurement.missing["depth"]  # read, and nothing declared it
    assert PASSWORD not in measurement.details["redis"] + measurement.missing["depth"]


def test_password_in_query_is_redacted(redis_auth_server: RedisExecutor) -> None:
    url = f"redis://{redis_auth_server.host}:{redis_auth_server.port}/0?password=wrong-in-query"
    measurement, _ = probe(url, layout="rq", queues=["default"])
    assert measurement.failure is not None
    assert "wrong-in-query" not in measurement.failure + measurement.details["redis"]


def test_stopped_redis_fails_fast(redis_doomed_server: RedisExecutor) -> None:
    url = url_of(redis_doomed_server)
    assert probe(url, layout="rq", queues=["default"])[0].failure is None
    redis_doomed_server.stop()
    clock = time.perf_counter()
    measurement, _ = probe(url, layout="rq", queues=["default"], timeout="2s")
    assert time.perf_counter() - clock < 2.5
    assert measurement.failure is not None
    assert measurement.failure.startswith("redis redis://127.0.0.1:")
    assert measurement.failure.endswith(": connection refused")
    assert measurement.series == {}


@pytest.mark.parametrize("layout", ["rq", "celery", "bullmq"])
def test_unanswering_redis_times_out(frozen_redis: RedisExecutor, layout: str) -> None:
    clock = time.perf_counter()
    measurement, _ = probe(url_of(frozen_redis), layout=layout, queues=["q"], timeout="500ms")
    elapsed = time.perf_counter() - clock
    assert (
        measurement.failure
        == f"redis {url_of(frozen_redis)}: read timeout (no answer within 500ms)"
    )
    assert 0.4 < elapsed < 1.5


def test_key_of_another_type_names_the_key(redis_url: str, redis_client: redis.Redis) -> None:
    redis_client.set("rq:queue:default", "not a list")
    measurement, _ = probe(redis_url, layout="rq", queues=["default"])
    assert measurement.failure is not None
    assert "'rq:queue:default'" in measurement.failure
    assert "WRONGTYPE" in measurement.failure
