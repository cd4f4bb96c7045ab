"""sloprobe's Prometheus math against a real Prometheus server scraping the same exposition."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.probes.context import make_context
from sloprobe.probes.prometheus.measure import evaluate_metric, parse_exposition
from sloprobe.probes.prometheus.spec import MetricSpec
from sloprobe.probes.runner import run_probes
from tests.support.prometheus_server import start_prometheus

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def exposition(counts: list[int], failed: int, total: int, depth: int) -> str:
    lines = ["# TYPE job_seconds histogram"]
    cumulative = 0
    for bound, count in zip((*BUCKETS, "+Inf"), counts, strict=True):
        cumulative += count
        lines.append(f'job_seconds_bucket{{le="{bound}"}} {cumulative}')
    lines += [f"job_seconds_count {cumulative}", "job_seconds_sum 12.5"]
    lines += [
        "# TYPE jobs_finished counter",
        f'jobs_finished_total{{status="failed"}} {failed}',
        f'jobs_finished_total{{status="ok"}} {total - failed}',
    ]
    lines += ["# TYPE queue_depth gauge", f"queue_depth {depth}"]
    return "\n".join(lines) + "\n"


A = exposition([3, 10, 20, 5, 2, 1, 0], failed=5, total=200, depth=7)
B = exposition([4, 12, 30, 25, 9, 2, 1], failed=9, total=260, depth=42)  # every bucket grew
RESET = exposition([1, 1, 0, 0, 0, 0, 0], failed=1, total=3, depth=1)  # the process restarted


class Exposition:
    def __init__(self) -> None:
        self.text = A
        holder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = holder.text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Exposition]]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (scripts/test.sh installs Debian's prometheus)")
    target = Exposition()
    root = tmp_path_factory.mktemp("prom")
    (root / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs: [{{job_name: app, static_configs: [{{targets: ['{target.url[7:]}']}}]}}]\n"
    )
    process, url = start_prometheus(binary, root / "prometheus.yml", root / "data")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if query(url, "queue_depth"):
                    break
            except (httpx.HTTPError, ValueError, KeyError):  # starting: not up, or not JSON yet
                pass
            time.sleep(0.3)
        else:
            pytest.fail("Prometheus did not scrape the target within 30 s")
        yield url, target
    finally:
        process.terminate()
        process.wait(timeout=15)
        target.server.shutdown()


def query(url: str, promql: str, at: float | None = None) -> list[float]:
    params: dict[str, str] = {"query": promql}
    if at is not None:
        params["time"] = f"{at:.3f}"
    data = httpx.get(f"{url}/api/v1/query", params=params, timeout=5).json()["data"]
    return [float(item["value"][1]) for item in data["result"]]


def q95() -> MetricSpec:
    return MetricSpec(name="job_seconds", kind="histogram_quantile", quantile=0.95, unit="s")


def test_quantiles_rates_and_resets_match_prometheus(prometheus: tuple[str, Exposition]) -> None:
    url, target = prometheus
    # 1. The quantile over the current exposition.
    ours, _ = evaluate_metric(q95(), parse_exposition(A), None, None)
    theirs = query(url, "histogram_quantile(0.95, sum by (le) (job_seconds_bucket))")
    assert theirs and ours == pytest.approx(theirs[0])
    # 2. The quantile of what happened between two scrapes.
    time.sleep(2.2)  # A held for several scrapes
    switched = time.time()
    target.text = B
    time.sleep(2.5)
    now = time.time()
    offset = now - (switched - 1.0)  # a moment when A was the latest sample
    ours_delta, _ = evaluate_metric(q95(), parse_exposition(B), parse_exposition(A), None)
    theirs_delta = query(
        url,
        f"histogram_quantile(0.95, sum by (le) (job_seconds_bucket - job_seconds_bucket offset {int(offset * 1000)}ms))",
        now,
    )
    assert theirs_delta and ours_delta == pytest.approx(theirs_delta[0])
    ratio = MetricSpec(
        kind="ratio",
        name="x",
        numerator={"name": "jobs_finished_total", "labels": {"status": "failed"}},
        denominator={"name": "jobs_finished_total"},
        unit="ratio",
    )
    ours_ratio, _ = evaluate_metric(ratio, parse_exposition(B), parse_exposition(A), None)
    theirs_ratio = query(
        url,
        f'sum(jobs_finished_total{{status="failed"}} - jobs_finished_total{{status="failed"}} offset {int(offset * 1000)}ms)'
        f" / sum(jobs_finished_total - jobs_finished_total offset {int(offset * 1000)}ms)",
        now,
    )
    assert ours_ratio == pytest.approx(theirs_ratio[0]) == pytest.approx(4 / 60)
    # 3. A counter reset: Prometheus sees it as one, and sloprobe counts the increase from 0.
    target.text = RESET
    time.sleep(2.5)
    assert query(url, "resets(jobs_finished_total[10s])") == [1.0, 1.0]
    counter = MetricSpec(name="jobs_finished_total", kind="counter", unit="count")
    ours_reset, _ = evaluate_metric(counter, parse_exposition(RESET), parse_exposition(B), None)
    assert ours_reset == sum(query(url, "jobs_finished_total")) == 3


def test_promql_and_scrape_probes_end_to_end(prometheus: tuple[str, Exposition]) -> None:
    url, target = prometheus
    specs = {
        "server": ProbeSpec.model_validate(
            {
                "promql": {
                    "server": url,
                    "queries": {
                        "depth": {"query": "queue_depth"},
                        "none": {"query": "nothing_here"},
                    },
                }
            }
        ),
        "scrape": ProbeSpec.model_validate(
            {
                "prometheus": {
                    "url": "/",
                    # Two scrapes 1 s apart for the histogram (the 15 s default has its own test).
                    "interval": "1s",
                    "metrics": {
                        "depth": {"name": "queue_depth"},
                        "p95": {
                            "name": "job_seconds",
                            "kind": "histogram_quantile",
                            "quantile": 0.95,
                            "unit": "s",
                        },
                    },
                }
            }
        ),
    }
    measured = run_probes(specs, make_context(target.url, Target()), 2, 30.0)
    server, scrape = measured["server"], measured["scrape"]
    assert server.failure is None and scrape.failure is None
    assert server.series["depth"].samples == (float(query(url, "queue_depth")[0]),)
    assert server.missing["none"].startswith(
        "query `none` returned no samples: `nothing_here` has no series"
    )
    assert scrape.series["depth"].samples[0] == parse_exposition(target.text)["queue_depth"][()]
