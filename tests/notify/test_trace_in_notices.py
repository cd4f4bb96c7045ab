"""A notice carries the failing probe's trace: Sentry's trace context, Slack's line, the
webhook's context and links, PagerDuty's links; the template's secret masked in each."""

from __future__ import annotations

import json
from pathlib import Path

from sloprobe.config import load_slo_text
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.units import Unit
from sloprobe.plugin.suite_run import SuiteRun
from tests.history.simulation import STEP, T0
from tests.support.fake_sentry import fake_sentry
from tests.support.scripted_server import Answer, ScriptedServer

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CANARY = "trace-tmpl-c4n4ry-42"
SUITE = """\
version: 1
service: shop
target: {{base_url: "http://127.0.0.1:9"}}
settings:
  incident: {{open_after: 1}}
  sentry: {{dsn: "{dsn}"}}
  slack: {{webhook: "{base}/slack"}}
  webhooks:
    ops: {{url: "{base}/hook"}}
  traces: {{url: "https://jaeger.example/trace/{{trace_id}}?token={canary}"}}
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {{json: depth, unit: count}}
slos:
  depth: {{probe: queue, measure: depth, threshold: value < 100}}
"""


def test_every_channel_carries_the_failing_probes_trace(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    scripted.routes["/slack"] = Answer(200, "ok")
    scripted.routes["/hook"] = Answer(200, "{}")
    with fake_sentry() as sentry:
        text = SUITE.format(dsn=sentry.dsn, base=scripted.base_url, canary=CANARY)
        loaded = load_slo_text(text, "slo.yaml", {})
        run = SuiteRun(loaded, history_option=str(tmp_path / "h.db"), started_at=T0 + STEP)
        run.start_notifiers()
        run.measurements["queue"] = Measurement(
            "queue",
            "http",
            run.started_at,
            0.01,
            {"depth": Series("depth", Unit.COUNT, (500.0,))},
            trace_id=TRACE,
        )
        run.judge("depth")
        run.record(run.result())
    link = f"https://jaeger.example/trace/{TRACE}?token=***"
    [event] = sentry.unique_events().values()
    assert event["contexts"]["trace"]["trace_id"] == TRACE
    bodies = dict(zip((r[1] for r in scripted.requests), scripted.bodies, strict=True))
    assert f"Trace: <{link}|{TRACE}>" in json.loads(bodies["/slack"])["text"]
    hook = json.loads(bodies["/hook"])
    assert hook["trace"]["id"] == TRACE and hook["trace"]["url"] == link
    assert {"title": "Trace", "url": link} in hook["links"]
    everything = json.dumps(event) + b"".join(scripted.bodies).decode()
    assert CANARY not in everything
