"""`sloprobe discover` against the reference service: how long it takes and what it sends.

``python bench/bench_discover.py [--small] [--repeats N]``

Starts the bundled reference service (warmed up with 20 jobs), then runs discovery
``--repeats`` times (default 10; ``--small``: 2, and no slow-service case) and reports
the median and worst wall time, the requests sent per source (from the discovery's own
count and from the service's request log, which must agree), the methods seen by the
service (GET only), and the size of the proposal. A second case adds 50 ms to every
answer of the service, which shows what the sequential requests cost on a slow target.
Stand-alone on purpose (stdlib and sloprobe only); it prints, and writes nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sloprobe.config.model import Target  # noqa: E402
from sloprobe.demo.run import warm_up  # noqa: E402
from sloprobe.demo.service import Faults, ServiceConfig, start_service  # noqa: E402
from sloprobe.discover import DiscoverOptions, Discovery, discover  # noqa: E402


def one_case(title: str, latency_ms: float, repeats: int) -> list[str]:
    config = ServiceConfig(faults=Faults(api_latency_ms=0.0))
    with start_service(config) as service:
        warm_up(service.base_url)
        service.set_faults(api_latency_ms=latency_ms)
        times: list[float] = []
        last: Discovery | None = None
        logged = 0
        methods: Counter[str] = Counter()
        for _ in range(repeats):
            service.clear_request_log()
            clock = time.perf_counter()
            last = discover(DiscoverOptions(service.base_url, Target(timeout=5.0)))
            times.append(time.perf_counter() - clock)
            entries = service.request_log
            logged = len(entries)
            methods.update(e.method for e in entries)
    assert last is not None and last.text is not None, last.problem if last else "no run"
    sources = ", ".join(f"{r.source} {r.requests}" for r in last.proposal.reports if r.requests)
    slos = len(last.proposal.live_slos())
    probes = sum(1 for p in last.proposal.probes if not p.disabled)
    return [
        f"{title}:",
        f"  wall time      median {statistics.median(times) * 1000:.0f} ms, "
        f"worst {max(times) * 1000:.0f} ms over {repeats} runs",
        f"  requests sent  {last.requests} (service logged {logged}; {sources})",
        f"  methods        {dict(methods)}",
        f"  proposal       {probes} probes, {slos} SLOs, {len(last.text.splitlines())} lines",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2 runs, no slow-service case")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.small else 10)
    lines = ["### Discovery (sloprobe discover against the reference service)"]
    lines += one_case("reference service", 0.0, repeats)
    if not args.small:
        lines += one_case("reference service, +50 ms per answer", 50.0, max(2, repeats // 3))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
