"""Overhead, concurrency, accuracy and startup, each against a baseline measured in the same run.

``python bench/bench_runtime.py [--quick | --small]`` prints the four sections; ``bench/run.py``
runs them too.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from common import (
    FULL,
    PYTHON,
    Mode,
    Unavailable,
    add_mode_options,
    median_time,
    mode_of,
    run_seconds,
    slow_server,
    table,
)
from suite_runs import Way, child_env, reference_suite, run_rounds, sloprobe_python

PLAIN_GOAL = 2.0  # the default suite's CPU at most this many times the plain script's

# The floor under any pytest plugin built on the libraries a default run uses: pytest running one
# trivial test, with those libraries imported and no sloprobe code (its plugin is not loaded).
# A run cannot cost less than this, whatever sloprobe does.
FLOOR_IMPORTS = (
    "import asyncio, anyio, httpx, jinja2, markupsafe, prometheus_client, pydantic, yaml"
)
FLOOR_FILES = {
    "conftest.py": FLOOR_IMPORTS + "\n",
    "test_floor.py": "def test_floor():\n    assert True\n",
    "pytest.ini": "[pytest]\n",
}


def overhead(mode: Mode = FULL) -> str:
    """The default suite under sloprobe against a plain httpx script making the same requests,
    on CPU time, interleaved in one run; and ``pytest --version`` alone for scale."""
    python = sloprobe_python(mode.small)  # a full run: sloprobe alone, without the tests' plugins
    with reference_suite() as suite:
        plain, slo = suite.plain(python), suite.sloprobe(python)
        bare = Way(
            "pytest --version",
            [python, "-m", "pytest", "--version"],
            suite.folder / "suite",
            child_env(),
            checked=False,
        )
        room = suite.folder / "floor"
        room.mkdir()
        for name, text in FLOOR_FILES.items():
            (room / name).write_text(text)
        floor_command = [python, "-m", "pytest", "test_floor.py", "-q", "-p", "no:sloprobe"]
        floor_command += ["-p", "no:cacheprovider"]
        floor = Way("floor", floor_command, room, child_env(), checked=False)
        ways = [plain, slo, bare, floor]
        run_rounds(suite, ways, mode.repeats, warm_round=not mode.small)
    ratio = slo.cpu / plain.cpu
    left = PLAIN_GOAL * plain.cpu - floor.cpu
    room_left = (
        f"That leaves {left * 1000:.0f} ms of CPU under the goal for collecting, probing, judging "
        "and writing the outputs"
        if left > 0
        else f"The floor alone is over the goal by {-left * 1000:.0f} ms: no plugin on pytest and "
        "these libraries can meet it, whatever its own code costs"
    )
    verdict = mode.goal(
        f"default suite's CPU ≤ {PLAIN_GOAL:.1f}× a plain httpx script's",
        ratio <= PLAIN_GOAL,
        f"{ratio:.2f}×",
    )

    def row(label: str, way: Way) -> list[str]:
        return [
            label,
            way.request_count(),
            f"{way.wall:.3f} s",
            f"{way.cpu:.3f} s",
            f"{way.cpu / plain.cpu:.2f}×",
            f"{way.wall / plain.wall:.2f}×",
        ]

    where = (
        "the project's venv, with the test suite's pytest plugins"
        if mode.small
        else "a venv with only sloprobe[demo] in it (bench/.venvs/sloprobe)"
    )
    return table(
        "Overhead: the default suite vs a plain httpx script making the same requests",
        ["run", "requests", "median wall", "median CPU (user+sys)", "CPU ratio", "wall ratio"],
        [
            row("plain httpx script (baseline)", plain),
            row("sloprobe (pytest + plugin)", slo),
            row("`pytest --version` alone", bare),
            row("pytest + the run's libraries, no sloprobe (floor)", floor),
        ],
        f"Goal, on CPU time: sloprobe ≤ {PLAIN_GOAL:.1f}× the plain script: **{verdict}** "
        f"({ratio:.2f}×; wall {slo.wall / plain.wall:.2f}×). Medians of {mode.repeats} interleaved "
        f"run{'s' if mode.repeats > 1 else ''} of each{'' if mode.small else ' after one untimed round'}; "
        "CPU is user + sys of the child process (os.wait4), so the reference service, which runs "
        "in the bench's own process, is not counted. Both make the same requests, checked against "
        "the service's log (5 × GET /health, the three admin reads, POST /jobs and GET /jobs/{id} "
        "until the job has ended), and check the same values. `pytest --version` alone is "
        f"{bare.cpu / slo.cpu:.0%} of sloprobe's CPU: the rest is collecting slo.yaml, building "
        "the config model, running the probes, rendering the HTML report (Jinja2) and writing the "
        "result files — a fixed cost per run, whatever the suite's size, which the requests of a "
        f"real suite (remote targets, 50–500 ms each) dwarf. The floor row is pytest running one "
        f"trivial test with the libraries a default run uses imported (`{FLOOR_IMPORTS}`) and "
        f"sloprobe's plugin not loaded: {floor.cpu / plain.cpu:.2f}× the plain script before any "
        f"work. {room_left} (sloprobe spends {(slo.cpu - floor.cpu) * 1000:.0f} ms over the floor). "
        f"sloprobe and the plain script ran from {where}.",
    )


def concurrency(mode: Mode = FULL) -> str:
    """N HTTP probes against slow endpoints, at the default limit and at N, against one probe."""
    from sloprobe.config.model import ProbeSpec, Target
    from sloprobe.probes.context import make_context
    from sloprobe.probes.http.spec import HttpProbe
    from sloprobe.probes.runner import run_probes

    count = mode.size(50, small=16)
    delay_ms = mode.size(200, small=50)
    waves = -(-count // 8)
    rows = []
    with slow_server(delay_ms / 1000) as url:
        context = make_context(url, Target(timeout=30))
        one = {"p": ProbeSpec(http=HttpProbe(path="/slow"))}
        many = {f"p{i}": ProbeSpec(http=HttpProbe(path="/slow")) for i in range(count)}
        for measured in run_probes(many, context, count, 60).values():
            if measured.failure:  # every probe must have measured, or the times mean nothing
                raise RuntimeError(
                    f"concurrency: probe {measured.probe} failed: {measured.failure}"
                )
        single = median_time(lambda: run_probes(one, context, 1, 60), mode.repeats)
        rows.append(["1 probe (baseline)", "1", f"{single:.3f} s", "1.00×"])
        for limit in (8, count):
            took = median_time(
                lambda limit=limit: run_probes(many, context, limit, 60), mode.repeats
            )
            rows.append(
                [
                    f"{count} probes, `concurrency: {limit}`",
                    str(limit),
                    f"{took:.3f} s",
                    f"{took / single:.2f}×",
                ]
            )
    ratio = float(rows[-1][3][:-1])
    verdict = mode.goal(
        f"{count} probes at `concurrency: {count}` < 2× one probe", ratio < 2, f"{ratio:.2f}×"
    )
    return table(
        f"Concurrency: {count} HTTP probes against {delay_ms} ms endpoints",
        ["run", "limit", "median", "vs slowest single probe"],
        rows,
        f"Goal < 2× with enough concurrency: **{verdict}** ({ratio:.2f}×). The "
        f"default `concurrency: 8` runs {count} probes in ⌈{count}/8⌉ = {waves} waves "
        f"(≈ {waves}×): it protects the target; raise it for many slow probes.",
    )


def accuracy(mode: Mode = FULL) -> str:
    """Latency as the probe measures it against the server's own timing; percentiles vs numpy."""
    try:
        import numpy
    except ImportError as exc:
        raise Unavailable(
            "numpy is not installed: the percentile math is checked against it "
            "(pip install -r bench/requirements.txt)"
        ) from exc

    from sloprobe.config.model import ProbeSpec, Target
    from sloprobe.model.percentiles import PercentileMethod, percentile
    from sloprobe.probes.context import make_context
    from sloprobe.probes.http.spec import HttpProbe
    from sloprobe.probes.runner import run_probes

    rows = []
    handled: list[float] = []
    samples = mode.size(30, small=5)
    with slow_server(0.0, handled) as url:
        for delay_ms in mode.size((10, 50, 100), small=(10,)):
            handled.clear()
            spec = {"p": ProbeSpec(http=HttpProbe(path=f"/x?delay={delay_ms}", samples=samples))}
            measured = run_probes(spec, make_context(url, Target()), 1, 60)["p"]
            if measured.failure:
                raise RuntimeError(f"accuracy: the probe failed: {measured.failure}")
            probe = [float(s) for s in measured.series["latency"].samples]
            # the server notes a request's time once it has flushed the answer, which the probe
            # may have read (and gone on) before: wait for the last note
            deadline = time.monotonic() + 5
            while len(handled) < len(probe) and time.monotonic() < deadline:
                time.sleep(0.005)
            # the server's own time for each request: from reading it to flushing the answer
            errors = [abs(p - h) for p, h in zip(probe, handled[-len(probe) :], strict=True)]
            error = statistics.median(errors) * 1000
            verdict = mode.goal(
                f"probe latency within 2 ms of the server's ({delay_ms} ms requests)",
                error < 2,
                f"{error:.2f} ms",
            )
            rows.append([f"{delay_ms} ms", f"{error:.2f} ms", verdict])
    rng = numpy.random.default_rng(7)
    mismatches = 0
    cases = mode.size(200, small=20)
    quantiles = (50, 90, 95, 99, 99.9)
    for _ in range(cases):
        values = list(rng.lognormal(size=int(rng.integers(1, 500))))
        for q in quantiles:
            linear = percentile(values, q, PercentileMethod.LINEAR)
            nearest = percentile(values, q, PercentileMethod.NEAREST_RANK)
            mismatches += not numpy.isclose(linear, numpy.percentile(values, q, method="linear"))
            mismatches += not numpy.isclose(
                nearest, numpy.percentile(values, q, method="inverted_cdf")
            )
    rows.append(
        [
            f"percentiles vs numpy ({cases * len(quantiles):,} cases × 2 methods)",
            f"{mismatches} mismatches",
            mode.goal("percentiles equal to numpy's", mismatches == 0, f"{mismatches} mismatches"),
        ]
    )
    return table(
        "Accuracy: latency measured by the probe vs the server's own timing; percentile math vs numpy",
        ["case", "p50 error / result", "goal"],
        rows,
        f"Goals: the probe's latency within 2 ms of the server's own time (median over {samples} "
        "samples); no percentile that differs from numpy's (linear; nearest rank as inverted_cdf).",
    )


def startup(mode: Mode = FULL) -> str:
    """Wall time of starting Python, the CLI, pytest and the plugin's imports."""
    repeats = mode.repeats
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
        "Startup: Python, the CLI, pytest and the plugin's imports",
        ["command", "median", "vs `python -c pass`"],
        rows,
        f"Medians of {repeats} run{'s' if repeats > 1 else ''}, in the project's venv; no goal. "
        "SQLAlchemy, Jinja2, sentry-sdk and redis are imported only when a run records history, "
        "renders a report, notifies, or reads Redis.",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_mode_options(parser)
    mode = mode_of(parser.parse_args())
    for bench in (overhead, concurrency, accuracy, startup):
        print(bench(mode))


if __name__ == "__main__":
    main()
