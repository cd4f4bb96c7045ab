"""A Redis queue probe configured in slo.yaml alone, judged through the plugin like any other."""

from __future__ import annotations

import json

import pytest
import redis
from rq import Queue

RQ_SUITE = """\
version: 1
service: workers
probes:
  rq:
    redis:
      url: ${{REDIS_URL}}
      layout: rq
      queues: [default, emails]
slos:
  backlog:
    probe: rq
    measure: depth
    threshold: value < 3
  emails:
    probe: rq
    measure: depth.emails
    threshold: value == 0
"""


def test_rq_depth_from_slo_yaml(
    pytester: pytest.Pytester, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = redis.Redis.from_url(redis_url)
    for _ in range(4):
        Queue("default", connection=connection).enqueue("builtins.print", "x")
    Queue("emails", connection=connection).enqueue("builtins.print", "x")
    Queue("emails", connection=connection).empty()  # exists, empty
    monkeypatch.setenv("REDIS_URL", redis_url)
    pytester.makefile(".yaml", slo=RQ_SUITE.replace("{{", "{").replace("}}", "}"))
    result = pytester.runpytest("--history", "off")
    assert result.ret == 1
    verdicts = {
        v["slo"]: v
        for v in json.loads((pytester.path / "reports" / "results.json").read_text())["verdicts"]
    }
    assert verdicts["backlog"]["status"] == "breach"
    assert verdicts["backlog"]["observed"] == "value = 4"
    assert verdicts["emails"]["status"] == "ok"
