"""A Luneo-shaped backend (luneo-monitoring-summary.md) and a real Prometheus scraping it.

The exporter exposes the seed's metric names in Prometheus text format (a wait gauge
per queue, AI cost gauges, the OpenAI duration histogram) plus an HTTP request counter
the seed does not name, with traffic: 10 requests/s, 4 OpenAI calls/s. Prometheus
scrapes it every second and evaluates the seed's three alert rules, so a test can
compare sloprobe's verdicts with Prometheus's own judgement.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from tests.prometheus.test_real_prometheus import query
from tests.support.prometheus_server import start_prometheus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "prometheus" / "slo.yaml"
# Every metric name luneo-monitoring-summary.md shows; anything else in the example is a guess.
SEED_METRICS = {
    "luneo_worker_queue_wait_time_seconds",
    "luneo_worker_queue_wait_time_current_seconds",
    "luneo_openai_request_duration_seconds",
    "luneo_render_duration_seconds",
    "luneo_embed_handshake_failures_total",
    "luneo_ar_conversion_duration_seconds",
    "luneo_ai_cost_current_cents",
    "luneo_ai_cost_baseline_cents",
}
WINDOW_S = 8  # the rules' window, short: RATE_WINDOW stands in for their 5m
REQUESTS = "luneo_http_requests_total"  # the seed names no request counter: ours says so
ERRORS = 'status_code=~"5.."'
ENV = {
    "HTTP_REQUESTS_METRIC": REQUESTS,
    "HTTP_ERROR_MATCHER": ERRORS,
    "RATE_WINDOW": f"{WINDOW_S}s",
}
RULES = f"""\
groups:
  - name: luneo
    rules:
      - alert: QueueWaitTimeHigh
        expr: luneo_worker_queue_wait_time_current_seconds > 60
        for: 2m
      - alert: ErrorRateHigh
        expr: sum(rate({REQUESTS}{{{ERRORS}}}[{WINDOW_S}s])) / sum(rate({REQUESTS}[{WINDOW_S}s])) > 0.01
        for: 5m
      - alert: CostSpikeDetected
        expr: luneo_ai_cost_current_cents > 2 * luneo_ai_cost_baseline_cents
        for: 5m
"""
RULE_OF = {"QueueWaitTimeHigh": "queue-wait", "ErrorRateHigh": "error-rate"}
RULE_OF["CostSpikeDetected"] = "cost-spike"
OPENAI_P95 = (
    "histogram_quantile(0.95, sum by (le) "
    f"(rate(luneo_openai_request_duration_seconds_bucket[{WINDOW_S}s])))"
)
HEALTHY_WAITS = {"render": 3.0, "video": 12.0, "ai": 8.0}


@dataclass
class State:
    waits: dict[str, float]
    cost: float = 1500.0
    baseline: float = 1000.0
    error_every: int = 0  # every Nth request fails with a 500; 0: none
    openai_s: float = 1.2


class Luneo:
    """A backend exposing the seed's metrics, with traffic: 10 requests/s, 4 OpenAI calls/s."""

    def __init__(self) -> None:
        self.state = State(dict(HEALTHY_WAITS))
        registry = CollectorRegistry()
        self.wait = Gauge(
            "luneo_worker_queue_wait_time_current_seconds",
            "Wait of the oldest queued job.",
            ["queue"],
            registry=registry,
        )
        self.waited = Histogram(
            "luneo_worker_queue_wait_time_seconds",
            "Time jobs waited.",
            ["queue"],
            registry=registry,
        )
        self.openai = Histogram(
            "luneo_openai_request_duration_seconds",
            "OpenAI request duration.",
            ["model", "operation"],
            buckets=(0.5, 1, 2.5, 5, 10, 20, 30, 60),
            registry=registry,
        )
        self.handshakes = Counter(
            "luneo_embed_handshake_failures", "Embed handshake failures.", registry=registry
        )
        self.cost = Gauge("luneo_ai_cost_current_cents", "AI cost.", registry=registry)
        self.baseline = Gauge(
            "luneo_ai_cost_baseline_cents", "AI cost baseline.", registry=registry
        )
        self.requests = Counter(
            REQUESTS.removesuffix("_total"), "HTTP requests.", ["status_code"], registry=registry
        )
        self.registry = registry
        self.stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = generate_latest(owner.registry)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        threading.Thread(target=self._traffic, daemon=True).start()

    def _traffic(self) -> None:
        tick = 0
        while not self.stop.wait(0.1):
            tick += 1
            state = self.state
            failed = state.error_every and tick % state.error_every == 0
            self.requests.labels(status_code="500" if failed else "200").inc()
            if tick % 2 == 0:
                self.openai.labels("dall-e-3", "image_generation").observe(state.openai_s)
                self.openai.labels("gpt-4o", "chat").observe(state.openai_s * 0.8)
            for queue, wait in state.waits.items():
                self.wait.labels(queue).set(wait)
                self.waited.labels(queue).observe(wait)
            self.cost.set(state.cost)
            self.baseline.set(state.baseline)


@pytest.fixture(scope="session")
def luneo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Luneo, str]]:
    """The exporter, and a real Prometheus scraping it every second with the seed's rules."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (scripts/test.sh installs Debian's prometheus)")
    backend = Luneo()
    root = tmp_path_factory.mktemp("luneo-prom")
    (root / "alerts.yml").write_text(RULES)
    (root / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{root / 'alerts.yml'}']\n"
        "scrape_configs: [{job_name: backend, "
        f"static_configs: [{{targets: ['{backend.url[7:]}']}}]}}]\n"
    )
    process, url = start_prometheus(binary, root / "prometheus.yml", root / "data")
    try:
        # Samples enough for a rate and a rule evaluation; polled, never a fixed sleep.
        wait_for(lambda: bool(query(url, f"sum(rate({REQUESTS}[{WINDOW_S}s]))")), url, 60)
        yield backend, url
    finally:
        process.terminate()
        process.wait(timeout=15)
        backend.stop.set()
        backend.server.shutdown()


def wait_for(ready: Callable[[], bool], url: str, within: float = 45) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except (httpx.HTTPError, ValueError, KeyError):  # Prometheus still starting
            pass
        time.sleep(0.25)
    pytest.fail(f"Prometheus at {url} did not reach the expected state within {within} s")


def active_alerts(url: str) -> dict[str, list[dict[str, str]]]:
    """Prometheus's own judgement: each active (pending or firing) alert and its labels."""
    alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    found: dict[str, list[dict[str, str]]] = {}
    for alert in alerts:
        found.setdefault(alert["labels"]["alertname"], []).append(alert["labels"])
    return found


# OpenAI calls over 20 s within the window: none means the p95 stays under the bound from
# here on. The p95 alone can mislead: a burst of fast calls (tests/prometheus/
# test_prometheus_items.py observes a thousand at once) keeps it low while slow calls made
# after the burst are still in the window, and it jumps over 20 s once the burst leaves it.
SLOW_IN_WINDOW = (
    f'sum(increase(luneo_openai_request_duration_seconds_bucket{{le="+Inf"}}[{WINDOW_S}s])) '
    f'- sum(increase(luneo_openai_request_duration_seconds_bucket{{le="20.0"}}[{WINDOW_S}s]))'
)


def settle(url: str, alerts: set[str], openai_slow: bool = False) -> None:
    """Wait until Prometheus's rules (and its OpenAI p95) say what the backend now does."""

    def ready() -> bool:
        p95 = query(url, OPENAI_P95)
        if not p95 or set(active_alerts(url)) != alerts:
            return False
        if openai_slow:
            return p95[0] > 20
        return p95[0] <= 20 and query(url, SLOW_IN_WINDOW) == [0.0]

    wait_for(ready, url)


def run_example(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, backend: str, server: str
) -> tuple[int, dict[str, dict[str, Any]], str]:
    """The example, unchanged, as a user runs it: exit code, verdicts, terminal output."""
    for name, value in {**ENV, "PROMETHEUS_URL": server}.items():
        monkeypatch.setenv(name, value)
    shutil.copy(EXAMPLE, pytester.path / "slo.yaml")
    result = pytester.runpytest("--base-url", backend, "--history=off", "-p", "no:cacheprovider")
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    verdicts = {v["slo"]: v for v in data["verdicts"]}
    return int(result.ret), verdicts, result.stdout.str()


def breaches(verdicts: dict[str, dict[str, Any]]) -> set[str]:
    return {slo for slo, v in verdicts.items() if v["status"] == "breach"}
