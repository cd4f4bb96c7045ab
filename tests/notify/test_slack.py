"""Slack gets the same incident transitions as Sentry: one message per opening, escaped, retried when refused."""

from __future__ import annotations

import json
from pathlib import Path

from sloprobe.config import LoadedSloFile, load_slo_text
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunResult
from sloprobe.model.units import Unit
from sloprobe.plugin.suite_run import SuiteRun
from tests.history.simulation import STEP, T0
from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
target: {{base_url: "http://127.0.0.1:9"}}
settings:
  slack: {{webhook: "{webhook}", recovery: true}}
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {{json: depth}}
slos:
  depth:
    probe: queue
    measure: depth
    threshold: value == "<@here>"
"""


def run_once(loaded: LoadedSloFile, history: str, index: int, value: str) -> RunResult:
    run = SuiteRun(
        loaded, history_option=history, started_at=T0 + index * STEP, run_id=f"run-{index}"
    )
    run.start_notifiers()
    run.measurements["queue"] = Measurement(
        "queue", "http", run.started_at, 0.01, {"depth": Series("depth", Unit.NONE, (value,))}
    )
    run.judge("depth")
    return run.record(run.result())


def test_one_message_per_transition_escaped_and_retried(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    webhook = f"{scripted.base_url}/hooks/T000/B000/secret-path"
    loaded = load_slo_text(SUITE.format(webhook=webhook), "slo.yaml", {})
    history = str(tmp_path / "h.db")
    scripted.routes["/hooks/T000/B000/secret-path"] = Answer(500, "no")
    refused = [
        run_once(loaded, history, i, "<!channel> & friends") for i in range(3)
    ]  # opens on the third bad run
    assert any("Slack webhook answered 500" in w for w in refused[-1].warnings)
    assert "secret-path" not in json.dumps(list(refused[-1].warnings))
    scripted.routes["/hooks/T000/B000/secret-path"] = Answer(200, "ok")
    for i in range(3, 8):
        run_once(loaded, history, i, "<@here>" if i >= 5 else "<!channel> & friends")
    posts = [h for method, path, h in scripted.requests if method == "POST"]
    assert len(posts) == 3  # the refused opening, the opening again next run, the recovery
    delivered = [json.loads(body) for body in scripted.bodies[-2:]]
    assert delivered[0]["text"].startswith(
        "shop (production): SLO depth breached: value = '&lt;!channel&gt; &amp; friends'"
    )
    assert "recovered" in delivered[1]["text"]


def test_a_slack_webhook_that_drips_its_answer_cannot_hold_the_run(
    scripted: ScriptedServer,
) -> None:
    import time

    from sloprobe.notify.slack import post_to_slack

    scripted.routes["/slow"] = Answer(200, "ok", delay_s=3)
    clock = time.monotonic()
    why = post_to_slack(f"{scripted.base_url}/slow", "down", timeout=0.5)
    took = time.monotonic() - clock
    assert why == "Slack webhook gave no answer within 500 ms"
    assert took < 2
    scripted.routes["/hook/secret-part"] = Answer(
        302, "", {"Location": "http://127.0.0.2:9/elsewhere"}
    )
    why = post_to_slack(f"{scripted.base_url}/hook/secret-part", "down", timeout=2)
    assert why == "Slack webhook answered 302"  # a redirect is not followed
    assert [r[1] for r in scripted.requests] == ["/slow", "/hook/secret-part"]
