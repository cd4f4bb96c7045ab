"""Overhead, concurrency, accuracy and startup, each against a baseline measured in the same run."""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path

from common import PYTHON, ROOT, median_time, run_seconds, slow_server, table

PLAIN_SCRIPT = """
import sys, time, httpx
base = sys.argv[1]
with httpx.Client(base_url=base, timeout=10) as c:
    for _ in range(5):
        c.get("/health")
    c.get("/admin/metrics"); c.get("/admin/workers"); c.get("/admin/jobs/stats", params={"hours": 24})
    job = c.post("/jobs", data={"asset_id": "bench", "prompt": "bench", "tier": "standard"}).json()["job_id"]
    while c.get(f"/jobs/{job}").json()["status"] in ("queued", "processing"):
        time.sleep(0.1)
"""


def suite_command(python: str, url: str, report_dir: Path) -> list[str]:
    """The default suite run as a user runs it, without history (each run starts alike)."""
    return [
        python,
        "-m",
        "pytest",
        "slo.yaml",
        "probes",
        f"--base-url={url}",
        "-q",
        "-p",
        "no:cacheprovider",
        "--history=off",
        f"--report-dir={report_dir}",
    ]


def overhead(repeats: int) -> str:
    from sloprobe.demo.run import warm_up
    from sloprobe.demo.service import ServiceConfig, start_service

    with tempfile.TemporaryDirectory() as tmp, start_service(ServiceConfig()) as service:
        suite = Path(tmp)
        for name in ("slo.yaml", "conftest.py"):
            shutil.copy(ROOT / name, suite / name)
        shutil.copytree(
            ROOT / "probes", suite / "probes", ignore=shutil.ignore_patterns("__pycache__")
        )
        (suite / "plain.py").write_text(PLAIN_SCRIPT)
        warm_up(service.base_url)
        url = service.base_url
        from bench_tavern import sloprobe_python

        clean = str(sloprobe_python())  # sloprobe alone, without the test suite's own plugins
        sloprobe = run_seconds(suite_command(clean, url, suite / "out"), suite, repeats)
        plain = run_seconds([PYTHON, "plain.py", url], suite, repeats)
        bare = run_seconds([clean, "-m", "pytest", "--version"], suite, repeats)
    ratio = sloprobe / plain
    verdict = "met" if ratio <= 1.5 else "missed"
    return table(
        "Overhead: the default suite vs a plain httpx script making the same requests",
        ["run", "median wall time", "ratio"],
        [
            ["plain httpx script (baseline)", f"{plain:.3f} s", "1.00×"],
            ["sloprobe (pytest + plugin)", f"{sloprobe:.3f} s", f"{ratio:.2f}×"],
            ["`pytest --version` alone", f"{bare:.3f} s", f"{bare / plain:.2f}×"],
        ],
        f"Goal ≤ 1.5×: **{verdict}**. `pytest --version` alone is {bare / sloprobe:.0%} of sloprobe's run. "
        "The plain script pays only for Python and httpx; sloprobe also pays for pytest's collection, building "
        "the pydantic config model, rendering the HTML report (Jinja2) and writing four result files — a fixed "
        "cost of about a second per run, whatever the suite's size, which the requests of a real suite "
        "(remote targets, 50–500 ms each) dwarf. The requests themselves run at the same speed (see accuracy).",
    )


def concurrency(repeats: int) -> str:
    from sloprobe.config.model import ProbeSpec, Target
    from sloprobe.probes.context import make_context
    from sloprobe.probes.http.spec import HttpProbe
    from sloprobe.probes.runner import run_probes

    rows = []
    with slow_server(0.2) as url:
        context = make_context(url, Target(timeout=30))
        one = {"p": ProbeSpec(http=HttpProbe(path="/slow"))}
        fifty = {f"p{i}": ProbeSpec(http=HttpProbe(path="/slow")) for i in range(50)}
        single = median_time(lambda: run_probes(one, context, 1, 60), repeats)
        rows.append(["1 probe (baseline)", "1", f"{single:.3f} s", "1.00×"])
        for limit in (8, 50):
            took = median_time(lambda limit=limit: run_probes(fifty, context, limit, 60), repeats)
            rows.append(
                [
                    f"50 probes, `concurrency: {limit}`",
                    str(limit),
                    f"{took:.3f} s",
                    f"{took / single:.2f}×",
                ]
            )
    met = "met" if float(rows[-1][3][:-1]) < 2 else "missed"
    return table(
        "Concurrency: 50 HTTP probes against 200 ms endpoints",
        ["run", "limit", "median", "vs slowest single probe"],
        rows,
        f"Goal < 2× with enough concurrency: **{met}**. The default `concurrency: 8` runs 50 probes in ⌈50/8⌉ = 7 waves (≈ 7×): it protects the target; raise it for many slow probes.",
    )


def accuracy() -> str:
    import numpy

    from sloprobe.config.model import ProbeSpec, Target
    from sloprobe.model.percentiles import PercentileMethod, percentile
    from sloprobe.probes.context import make_context
    from sloprobe.probes.http.spec import HttpProbe
    from sloprobe.probes.runner import run_probes

    rows = []
    handled: list[float] = []
    with slow_server(0.0, handled) as url:
        for delay_ms in (10, 50, 100):
            handled.clear()
            spec = {"p": ProbeSpec(http=HttpProbe(path=f"/x?delay={delay_ms}", samples=30))}
            measured = run_probes(spec, make_context(url, Target()), 1, 60)["p"]
            probe = [float(s) for s in measured.series["latency"].samples]
            # the server's own time for each request: from reading it to flushing the answer
            errors = [abs(p - h) for p, h in zip(probe, handled[-len(probe) :], strict=True)]
            error = statistics.median(errors) * 1000
            rows.append([f"{delay_ms} ms", f"{error:.2f} ms", "met" if error < 2 else "missed"])
    rng = numpy.random.default_rng(7)
    mismatches = 0
    for _ in range(200):
        values = list(rng.lognormal(size=int(rng.integers(1, 500))))
        for q in (50, 90, 95, 99, 99.9):
            linear = percentile(values, q, PercentileMethod.LINEAR)
            nearest = percentile(values, q, PercentileMethod.NEAREST_RANK)
            mismatches += not numpy.isclose(linear, numpy.percentile(values, q, method="linear"))
            mismatches += not numpy.isclose(
                nearest, numpy.percentile(values, q, method="inverted_cdf")
            )
    rows.append(
        [
            "percentiles vs numpy (1,000 cases × 2 methods)",
            f"{mismatches} mismatches",
            "met" if mismatches == 0 else "missed",
        ]
    )
    return table(
        "Accuracy: latency measured by the probe vs the server's own timing; percentile math vs numpy",
        ["case", "p50 error / result", "goal"],
        rows,
    )


def startup(repeats: int) -> str:
    bare = run_seconds([PYTHON, "-c", "pass"], repeats=repeats)
    version = run_seconds([str(Path(PYTHON).parent / "sloprobe"), "--version"], repeats=repeats)
    pytest_version = run_seconds([PYTHON, "-m", "pytest", "--version"], repeats=repeats)
    plugin = run_seconds([PYTHON, "-c", "import sloprobe.plugin.hooks"], repeats=repeats)
    http_run = run_seconds(
        [PYTHON, "-c", "import sloprobe.plugin.suite_run, sloprobe.probes.http"], repeats=repeats
    )
    rows = [
        ["`python -c pass` (baseline)", f"{bare * 1000:.0f} ms", "1.00×"],
        ["`sloprobe --version`", f"{version * 1000:.0f} ms", f"{version / bare:.2f}×"],
        [
            "`pytest --version` (baseline 2)",
            f"{pytest_version * 1000:.0f} ms",
            f"{pytest_version / bare:.2f}×",
        ],
        [
            "import the plugin (what every pytest run pays)",
            f"{plugin * 1000:.0f} ms",
            f"{plugin / bare:.2f}×",
        ],
        ["imports of an HTTP-only SLO run", f"{http_run * 1000:.0f} ms", f"{http_run / bare:.2f}×"],
    ]
    return table(
        "Startup",
        ["command", "median", "vs `python -c pass`"],
        rows,
        "SQLAlchemy, Jinja2, sentry-sdk and redis are imported only when a run records history, renders a report, notifies, or reads Redis.",
    )
