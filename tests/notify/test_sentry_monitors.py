"""`incidents: monitors`: Sentry opens an SLO's issue with its incident and resolves it with it.

The real sentry-sdk against a local endpoint that decodes envelopes; the runs are the
plugin's own (SuiteRun), with the clock injected as in test_sentry.py.
"""

from __future__ import annotations

import time
from pathlib import Path

from sloprobe.config import LoadedSloFile, load_slo_text
from sloprobe.notify.run import SLUG_MAX, slo_monitor_slug
from tests.notify.test_sentry import SUITE, one_run
from tests.support.fake_sentry import fake_sentry


def _suite(dsn: str) -> LoadedSloFile:
    text = SUITE.format(dsn=dsn, recovery="false", canary="c4nary-v4lue-0042")
    text = text.replace(
        "    flush_timeout: 2s\n", "    flush_timeout: 2s\n    incidents: monitors\n"
    )
    return load_slo_text(text, "slo.yaml", {})


def test_the_slo_monitor_follows_the_incident_and_no_event_is_sent(tmp_path: Path) -> None:
    history = str(tmp_path / "h.db")
    values = [500.0] * 5 + [1.0] * 19  # an incident opens, then resolves once burn and streak allow
    with fake_sentry() as sentry:
        loaded = _suite(sentry.dsn)
        results = [one_run(loaded, history, i, v) for i, v in enumerate(values)]
        time.sleep(0.2)
    assert sentry.events == []  # the monitor's issue is the incident's issue
    slo_checkins = [c for c in sentry.checkins if c["monitor_slug"] == "shop-production-depth"]
    open_states = [
        r.verdicts[0].history is not None and r.verdicts[0].history.incident.open for r in results
    ]
    assert [c["status"] for c in slo_checkins] == ["error" if o else "ok" for o in open_states]
    assert "error" in [c["status"] for c in slo_checkins][:5]
    assert [c["status"] for c in slo_checkins][-1] == "ok"
    config = slo_checkins[0]["monitor_config"]
    assert (config["failure_issue_threshold"], config["recovery_threshold"]) == (1, 1)
    # the run's own check-in pair is still there, for a schedule that stops firing
    assert {c["monitor_slug"] for c in sentry.checkins} == {
        "shop-production-depth",
        "shop-production-sloprobe",
    }


def test_slugs_are_sentry_shaped_and_unique_when_cut() -> None:
    assert slo_monitor_slug("Shop API", "prod", "p95 latency") == "shop-api-prod-p95-latency"
    long_a = slo_monitor_slug("service", "production", "a" * 60 + "-one")
    long_b = slo_monitor_slug("service", "production", "a" * 60 + "-two")
    assert len(long_a) <= SLUG_MAX and len(long_b) <= SLUG_MAX and long_a != long_b
