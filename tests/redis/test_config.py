"""The Redis queue probe's config and series, and its behaviour without the redis extra."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.model.units import Unit
from sloprobe.probes.context import make_context
from sloprobe.probes.redis.spec import INSTALL_HINT, RedisQueueProbe, redis_series_units
from sloprobe.probes.runner import run_probes

URL = "redis://:hunter2-secret@cache:6379/0"


def spec(**fields: object) -> RedisQueueProbe:
    return RedisQueueProbe.model_validate({"url": URL, "queues": ["default"], **fields})


def test_defaults_per_layout() -> None:
    assert spec(layout="rq").key_prefix == "rq:queue:"
    assert spec(layout="bullmq").key_prefix == "bull"
    assert spec(layout="celery").key_prefix == ""
    assert spec(layout="celery", prefix="app_").key_prefix == "app_"
    assert spec(layout="rq", timeout="250ms").timeout == 0.25
    assert spec(layout="celery").priority_steps == [0, 3, 6, 9]
    assert spec(layout="celery").sep == "\x06\x16"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"layout": "celery", "workers": True}, "needs `layout: rq`"),
        ({"layout": "rq", "sep": ":"}, "`sep` applies to `layout: celery` only"),
        ({"layout": "bullmq", "priority_steps": [0, 5]}, "`priority_steps` applies"),
        ({"layout": "rq", "queues": []}, "at least 1 item"),
        ({"layout": "rq", "queues": ["a", "a"]}, "listed once"),
        ({"layout": "rq", "queues": [" "]}, "cannot be empty"),
        ({"layout": "sidekiq"}, "'rq', 'celery' or 'bullmq'"),
        ({"layout": "rq", "depth": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invalid(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(**fields)


def test_bad_url_does_not_echo_the_password() -> None:
    with pytest.raises(ValidationError) as raised:
        RedisQueueProbe.model_validate(
            {"url": "http://:hunter2-secret@cache/", "layout": "rq", "queues": ["q"]}
        )
    (error,) = raised.value.errors()
    assert error["msg"] == "Value error, expected a redis://, rediss:// or unix:// URL"
    assert "hunter2" not in repr(spec(layout="rq"))


def test_series_units() -> None:
    rq = redis_series_units(spec(layout="rq", queues=["a", "b"], workers=True))
    assert rq == {
        "depth": Unit.COUNT,
        "depth.a": Unit.COUNT,
        "depth.b": Unit.COUNT,
        "oldest_age": Unit.S,
        "oldest_age.a": Unit.S,
        "oldest_age.b": Unit.S,
        "workers": Unit.COUNT,
        "workers.a": Unit.COUNT,
        "workers.b": Unit.COUNT,
        "heartbeat_age": Unit.S,
    }
    celery = redis_series_units(spec(layout="celery"))
    assert celery == {"depth": Unit.COUNT, "depth.default": Unit.COUNT}
    bullmq = redis_series_units(spec(layout="bullmq", oldest_age=False))
    assert bullmq["paused.default"] is Unit.BOOLEAN
    assert bullmq["depth.default.prioritized"] is Unit.COUNT
    assert "oldest_age" not in bullmq
    assert len(bullmq) == 1 + 1 + 8 + 1


def test_without_the_redis_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    hidden = ("redis", "redis.", "sloprobe.probes.redis.measure")
    for module in [m for m in sys.modules if m == "redis" or m.startswith(hidden)]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "redis", None)  # import redis now raises ImportError
    context = make_context("", Target())
    probe = ProbeSpec.model_validate({"redis": spec(layout="rq").model_dump(exclude_unset=True)})
    measurement = run_probes({"q": probe}, context, 1, 5.0)["q"]
    assert measurement.failure == f"`redis` probes cannot run: {INSTALL_HINT}"
    assert context.redactor("hunter2-secret") == "***"
