"""A shared history of four environments of three services, judged and stored by the real judge and store.

90 days of runs, sparse where it can be (one run a day until three days ago,
then hourly, then every five minutes for the last hour) so it fills in a few
seconds; then compacted as the plugin compacts after every run (days older
than one rolled up), so the status page reads roll-ups as well as run rows.

- shop/production: queue-depth breached three days running 20 days ago (an
  incident, resolved two days later), success-rate warned 40 days ago, and
  health-latency warns now;
- shop/staging: every run good; a day without runs every 17 days;
- billing/production: the probe fails in the last four runs with a body full of
  hostile markup and a canary secret (an incident open on both SLOs);
- search/production: stopped three days ago (stale).

Every run's base URL carries the canary as password and ``api_key``, and an owner
holds hostile markup: what a history may hold when a redactor missed something.
:attr:`Scenario.truth` keeps each judged verdict (when, status, counted, bad), to
check the page's numbers against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sloprobe.config import LoadedSloFile, load_slo_text
from sloprobe.history import HistoryStore
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.judge.over_time import judge_run, outcome_function
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Status
from sloprobe.model.units import Unit

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
CANARY = "canary-5e4d3c2b1a09"
HOSTILE = '<script>alert("sp")</script><img src=x onerror=alert(1)>'
DAY = timedelta(days=1)

SUITES = {
    "shop": f"""\
version: 1
service: shop
settings:
  incident: {{open_after: 3, resolve_after: 2}}
probes:
  api:
    http:
      path: /admin/metrics
      values:
        depth: {{json: depth, unit: count}}
        success: {{json: success, unit: "%"}}
slos:
  queue-depth:
    description: Jobs are not piling up.
    probe: api
    measure: depth
    threshold: value < 100
    objective: 99%
    window: 30d
    owner: 'queue team {HOSTILE}'
    runbook: https://runbooks.example/queue-depth
  success-rate:
    description: "Jobs succeed (dashboard token={CANARY})."
    probe: api
    measure: success
    threshold: value >= 90%
    warn: value >= 95%
    owner: jobs team
    runbook: "javascript:alert(document.domain)"
  health-latency:
    description: The health check answers fast.
    probe: api
    measure: latency
    threshold: value < 1s
    warn: value < 300ms
""",
    "billing": """\
version: 1
service: billing
settings:
  incident: {open_after: 3, resolve_after: 2}
probes:
  api:
    http:
      path: /health
      values:
        up: {json: up, unit: count}
slos:
  invoice-latency:
    description: Invoices render within two seconds.
    probe: api
    measure: latency
    threshold: value < 2s
  payments-up:
    description: The payment API answers.
    probe: api
    measure: up
    threshold: value >= 1
""",
    "search": """\
version: 1
service: search
probes:
  api:
    http:
      path: /health
slos:
  query-latency:
    description: Searches answer within half a second.
    probe: api
    measure: latency
    threshold: value < 500ms
""",
}
ENVIRONMENTS = (
    ("shop", "production"),
    ("shop", "staging"),
    ("billing", "production"),
    ("search", "production"),
)
SLOS = {
    "shop": ("queue-depth", "success-rate", "health-latency"),
    "billing": ("invoice-latency", "payments-up"),
    "search": ("query-latency",),
}


@dataclass(frozen=True)
class Judged:
    """One verdict as the judge gave it: what the page's numbers must agree with."""

    at: datetime
    status: Status
    bad: bool
    counted: bool


@dataclass
class Scenario:
    url: str
    truth: dict[tuple[str, str, str], list[Judged]] = field(default_factory=dict)


def run_times(service: str, environment: str) -> list[datetime]:
    """When each environment ran, oldest first."""
    days = [
        NOW.replace(hour=6) - back * DAY
        for back in range(92, 2, -1)
        if not (environment == "staging" and back % 17 == 5)
    ]
    if service == "search":
        return days
    hourly = [NOW - timedelta(hours=h) for h in range(48, 1, -1)]
    recent = [NOW - timedelta(minutes=5 * m) for m in range(12, -1, -1)]
    return days + hourly + recent


def _values(service: str, environment: str, at: datetime) -> tuple[dict[str, float], str | None]:
    """The measure values of one run, and the probe's failure (None: it answered)."""
    back = (NOW - at).total_seconds() / 86400
    if service == "shop":
        depth = 250.0 if environment == "production" and 20 <= back < 23 else 12.0
        success = 0.93 if environment == "production" and 40 <= back < 41 else 0.99
        latency = 0.45 if environment == "production" and at == NOW else 0.08
        return {"depth": depth, "success": success, "latency": latency}, None
    if service == "billing":
        if at > NOW - timedelta(minutes=16):
            return {}, f"HTTP 500 from https://api:{CANARY}@pay.example/?token={CANARY}: {HOSTILE}"
        return {"latency": 0.4, "up": 1.0}, None
    return {"latency": 0.12}, None


def _measurement(service: str, environment: str, at: datetime) -> Measurement:
    values, failure = _values(service, environment, at)
    units = {"depth": Unit.COUNT, "success": Unit.PERCENT, "latency": Unit.S, "up": Unit.COUNT}
    series = {name: Series(name, units[name], (value,)) for name, value in values.items()}
    return Measurement(
        "api",
        "http",
        at,
        0.05,
        series,
        failure=failure,
        excerpt=f'{{"error": "{HOSTILE}", "debug": "token={CANARY}"}}' if failure else None,
        details={"request": f"GET https://{service}.example/health?api_key={CANARY}"},
    )


def _record(
    store: HistoryStore, loaded: LoadedSloFile, environment: str, at: datetime, index: int
) -> RunResult:
    spec = loaded.spec
    measurement = _measurement(spec.service, environment, at)
    verdicts = tuple(
        evaluate_slo(name, slo, measurement, spec.settings.percentile_method)
        for name, slo in spec.slos.items()
    )
    info = RunInfo(
        f"{spec.service}-{environment}-{index:04d}",
        spec.service,
        environment,
        at,
        at + timedelta(seconds=2),
        "0.1.0",
        "slo.yaml",
        f"https://probe:{CANARY}@{spec.service}.example/?api_key={CANARY}",
        trigger="schedule",
        release="v1.2.3",
    )
    result = RunResult(info, verdicts, {"api": measurement})
    return store.record(
        result,
        lambda view: judge_run(result, spec, view),
        outcome_function(result, spec),
    )


def build_history(url: str, environments: tuple[tuple[str, str], ...] = ENVIRONMENTS) -> Scenario:
    """Fill the history at ``url`` with the scenario and compact it as runs do."""
    scenario = Scenario(url)
    store = HistoryStore.open(url)
    try:
        for service, environment in environments:
            text = SUITES[service].replace(
                f"service: {service}\n", f"service: {service}\nenvironment: {environment}\n"
            )
            loaded = load_slo_text(text, "slo.yaml", {})
            for index, at in enumerate(run_times(service, environment)):
                judged = _record(store, loaded, environment, at, index)
                outcome = outcome_function(judged, loaded.spec)
                for verdict in judged.verdicts:
                    counted = outcome(verdict).counted
                    scenario.truth.setdefault((service, environment, verdict.slo), []).append(
                        Judged(at, verdict.status, verdict.counts_as_bad, counted)
                    )
        store.prune(NOW - timedelta(days=400))  # rolls every day but the last up, drops nothing
    finally:
        store.dispose()
    return scenario
