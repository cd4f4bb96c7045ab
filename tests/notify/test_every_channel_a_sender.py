"""Every notification channel is a `Sender` (issue 28): one breach notice goes through each of
Sentry, Slack, PagerDuty and a webhook by the same loop, each receiver gets it once, and history
marks each delivered only once its receiver took it."""

from __future__ import annotations

import json
from pathlib import Path

from sloprobe.config import load_slo_text
from sloprobe.history import HistoryStore
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.units import Unit
from sloprobe.notify.deliver import Sender
from sloprobe.plugin.suite_run import SuiteRun
from tests.history.simulation import STEP, T0
from tests.support.fake_sentry import fake_sentry
from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
target: {{base_url: "http://127.0.0.1:9"}}
settings:
  incident: {{open_after: 1}}
  sentry: {{dsn: "{dsn}"}}
  slack: {{webhook: "{base}/slack"}}
  pagerduty: {{routing_key: "pd-key-0123456789abcdef0123", url: "{base}/pagerduty"}}
  webhooks:
    ops: {{url: "{base}/hook"}}
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {{json: depth, unit: count}}
slos:
  depth: {{probe: queue, measure: depth, threshold: value < 100}}
"""


def _run(text: str, history: Path, slot: int) -> tuple[SuiteRun, list[str]]:
    run = SuiteRun(
        load_slo_text(text, "slo.yaml", {}),
        history_option=str(history),
        started_at=T0 + slot * STEP,
    )
    run.start_notifiers()
    run.measurements["queue"] = Measurement(
        "queue", "http", run.started_at, 0.01, {"depth": Series("depth", Unit.COUNT, (500.0,))}
    )
    run.judge("depth")
    result = run.record(run.result())
    return run, list(result.warnings)


def _pending(history: Path) -> list[str]:
    store = HistoryStore.open(f"sqlite:///{history}")
    try:
        return sorted(p.notice.channel for p in store.pending_notices("shop", "production"))
    finally:
        store.dispose()


def test_one_notice_through_each_channel_by_one_loop(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    for path in ("/slack", "/pagerduty", "/hook"):
        scripted.routes[path] = Answer(202, "{}")
    with fake_sentry() as sentry:
        text = SUITE.format(dsn=sentry.dsn, base=scripted.base_url)
        run, warnings = _run(text, tmp_path / "h.db", 1)
        notifiers = run.notifiers
        senders = notifiers.senders() if notifiers is not None else {}
    assert not [w for w in warnings if "not delivered" in w], warnings
    assert len(sentry.unique_events()) == 1
    asked = [path for _, path, _ in scripted.requests]
    assert sorted(asked) == ["/hook", "/pagerduty", "/slack"]
    assert json.loads(scripted.bodies[asked.index("/slack")])["text"].startswith("shop (")
    assert _pending(tmp_path / "h.db") == []
    for sender in senders.values():  # PagerDuty and webhooks; Sentry and Slack are built alike
        assert callable(getattr(sender, "send", None)) and callable(getattr(sender, "settle", None))


def test_a_refusing_channel_keeps_its_notice_and_the_others_deliver(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    scripted.routes["/slack"] = Answer(500, "down")
    scripted.routes["/pagerduty"] = Answer(202, "{}")
    scripted.routes["/hook"] = Answer(200, "{}")
    with fake_sentry() as sentry:
        text = SUITE.format(dsn=sentry.dsn, base=scripted.base_url)
        _, warnings = _run(text, tmp_path / "h.db", 1)
        assert [w for w in warnings if "1 notification(s) not delivered" in w], warnings
        assert _pending(tmp_path / "h.db") == ["slack"]
        scripted.routes["/slack"] = Answer(200, "ok")
        _, warnings = _run(text, tmp_path / "h.db", 2)  # the next run sends what was owed
    assert not [w for w in warnings if "not delivered" in w], warnings
    assert _pending(tmp_path / "h.db") == []
    assert [path for _, path, _ in scripted.requests].count("/slack") == 2
    assert len(sentry.unique_events()) == 1


def test_the_protocol_names_both_methods() -> None:
    assert {"send", "settle"} <= set(Sender.__dict__)
