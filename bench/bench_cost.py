"""Cost: sloprobe's own CPU per probe, and its fixed cost over bare pytest.

Suites of N HTTP probes (one sample each, a GET of a tiny JSON answer, one SLO per probe) run
under sloprobe as a user runs them, one child process each (``python -m pytest slo.yaml
--base-url URL --history=off -p no:cacheprovider -q``), against a threaded HTTP server in the
bench's own process, so only the child's CPU counts (user + sys, from ``os.wait4``). In the same
run, interleaved round after round: bare pytest on a file with one trivial test, a plain
httpx script making the same N GETs, and an asyncio one making them as sloprobe does (one
httpx.AsyncClient, at most ``concurrency`` at a time). CPU = intercept + slope × N is fitted by
least squares to each way's medians.

``python bench/bench_cost.py [--quick | --small]`` prints the section; ``bench/run.py`` runs it.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import FULL, Mode, add_mode_options, mode_of, table
from suite_runs import RunFailed, Way, child_env, sloprobe_python, timed_run

from sloprobe.config.model import Settings

PER_PROBE_GOAL_MS = 1.0  # sloprobe's own CPU per probe, over what the GET itself costs
FIXED_GOAL_S = 0.25  # sloprobe's fixed CPU over bare pytest
BODY = b'{"ok": true}'

PLAIN_SCRIPT = """
import sys, httpx
base, count = sys.argv[1], int(sys.argv[2])
with httpx.Client(base_url=base, timeout=10) as client:
    for _ in range(count):
        answer = client.get("/ok")
        assert answer.status_code == 200 and answer.json()["ok"] is True
"""

# The same GETs as sloprobe sends them: one AsyncClient, at most `concurrency` at a time, so the
# difference between the two scripts is what asyncio and httpx's async pool cost.
ASYNC_SCRIPT = """
import asyncio, sys, httpx
base, count, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
async def main():
    slots = asyncio.Semaphore(limit)
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        async def one():
            async with slots:
                answer = await client.get("/ok")
                assert answer.status_code == 200 and answer.json()["ok"] is True
        await asyncio.gather(*(one() for _ in range(count)))
asyncio.run(main())
"""
DEFAULT_CONCURRENCY: int = Settings.model_fields["concurrency"].default  # when slo.yaml sets none

BARE_TEST = "def test_one():\n    assert True\n"


class Server:
    """A threaded HTTP/1.1 server answering every GET with a tiny JSON body; counts them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        counted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                with counted._lock:
                    counted.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Threaded(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self._server = Threaded(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def take_count(self) -> int:
        with self._lock:
            count, self.requests = self.requests, 0
        return count

    @contextmanager
    def running(self) -> Iterator[Server]:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


def slo_yaml(count: int) -> str:
    """A suite of ``count`` HTTP probes, one sample each, each with one SLO on its answer."""
    lines = ["version: 1", "service: cost-bench", "target:", "  timeout: 5s", "probes:"]
    names = [f"p{i:03d}" for i in range(count)]
    for name in names:
        lines += [
            f"  {name}:",
            "    http:",
            "      path: /ok",
            "      values:",
            "        up: { json: ok, unit: bool }",
        ]
    lines.append("slos:")
    for name in names:
        lines += [
            f"  {name}-up:",
            f"    probe: {name}",
            "    measure: up",
            "    threshold: value == true",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Measured:
    """A way of running, with the number of requests every run of it must make."""

    way: Way
    count: int  # N: probes or GETs (0 for bare pytest)


def make_ways(python: str, url: str, folder: Path, counts: Sequence[int]) -> list[Measured]:
    """Bare pytest, then sloprobe and the plain script at each N; each in a folder of its own
    with an empty pytest.ini, so no ini file above it counts."""

    def room(name: str, files: dict[str, str]) -> Path:
        where = folder / name
        where.mkdir()
        for file, text in {"pytest.ini": "[pytest]\n", **files}.items():
            (where / file).write_text(text)
        return where

    pytest = [python, "-m", "pytest"]
    quiet = ["-p", "no:cacheprovider", "-q"]
    ways = [
        Measured(
            Way(
                "bare",
                [*pytest, "test_one.py", "-p", "no:sloprobe", *quiet],
                room("bare", {"test_one.py": BARE_TEST}),
                child_env(),
                checked=False,
            ),
            0,
        )
    ]
    for n in counts:
        suite = room(f"sloprobe-{n}", {"slo.yaml": slo_yaml(n)})
        command = [*pytest, "slo.yaml", "--base-url", url, "--history=off", *quiet]
        ways.append(Measured(Way(f"sloprobe-{n}", command, suite, child_env()), n))
    plain = room("plain", {"plain.py": PLAIN_SCRIPT, "async.py": ASYNC_SCRIPT})
    for n in counts:
        command = [python, "plain.py", url, str(n)]
        ways.append(Measured(Way(f"plain-{n}", command, plain, child_env()), n))
    for n in counts:
        command = [python, "async.py", url, str(n), str(DEFAULT_CONCURRENCY)]
        ways.append(Measured(Way(f"async-{n}", command, plain, child_env()), n))
    return ways


def run_rounds(server: Server, ways: Sequence[Measured], repeats: int, warm_round: bool) -> None:
    """``repeats`` timed rounds of every way, after one untimed round if ``warm_round``; each
    round starts with the next way. A run must make exactly its N requests."""
    for round_ in range(repeats + warm_round):
        shift = round_ % len(ways)
        for measured in [*ways[shift:], *ways[:shift]]:
            way = measured.way
            server.take_count()
            wall, cpu = timed_run(way.command, way.cwd, way.env)
            made = server.take_count()
            if made != measured.count:
                raise RunFailed(f"{way.name} made {made} requests, not {measured.count}")
            if round_ >= warm_round:
                way.walls.append(wall)
                way.cpus.append(cpu)
                way.requests.append(made)


def fit(ways: Sequence[Measured]) -> tuple[float, float]:
    """Slope and intercept (seconds of CPU per N, and at N = 0), least squares over the medians."""
    slope, intercept = statistics.linear_regression(
        [float(m.count) for m in ways], [m.way.cpu for m in ways]
    )
    return slope, intercept


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def section(mode: Mode = FULL) -> str:
    counts: tuple[int, ...] = mode.size((1, 50, 200), small=(1, 10))
    python = sloprobe_python(mode.small)  # a full run: sloprobe alone, without the tests' plugins
    with tempfile.TemporaryDirectory() as tmp, Server().running() as server:
        ways = make_ways(python, server.url, Path(tmp), counts)
        run_rounds(server, ways, mode.repeats, warm_round=not mode.small)
    bare = ways[0].way
    slo = [m for m in ways if m.way.name.startswith("sloprobe-")]
    plain = [m for m in ways if m.way.name.startswith("plain-")]
    asynchronous = [m for m in ways if m.way.name.startswith("async-")]
    slo_slope, slo_intercept = fit(slo)
    plain_slope, plain_intercept = fit(plain)
    async_slope, async_intercept = fit(asynchronous)
    own_ms = (slo_slope - plain_slope) * 1000
    over_async_ms = (slo_slope - async_slope) * 1000
    fixed = slo_intercept - bare.cpu
    for figure in (slo_slope, slo_intercept, plain_slope, plain_intercept, async_slope):
        if not math.isfinite(figure):
            raise RuntimeError(f"cost: the fit gave {figure}")
    per_probe = mode.goal(
        f"sloprobe's own CPU ≤ {PER_PROBE_GOAL_MS:g} ms per probe (slope − a plain httpx GET's)",
        own_ms <= PER_PROBE_GOAL_MS,
        f"{own_ms:.2f} ms",
    )
    fixed_verdict = mode.goal(
        f"sloprobe's fixed CPU ≤ {FIXED_GOAL_S:g} s over bare pytest",
        fixed <= FIXED_GOAL_S,
        f"{fixed:.3f} s",
    )

    def row(label: str, measured: Measured, line: tuple[float, float] | None) -> list[str]:
        way = measured.way
        fitted = f"{line[1] + line[0] * measured.count:.3f} s" if line else ""
        return [label, str(measured.count), f"{way.wall:.3f} s", f"{way.cpu:.3f} s", fitted]

    rows = [row("bare pytest, one trivial test", ways[0], None)]
    rows += [
        row(f"sloprobe, {plural(m.count, 'probe')}", m, (slo_slope, slo_intercept)) for m in slo
    ]
    rows += [
        row(f"plain httpx script, {plural(m.count, 'GET')}", m, (plain_slope, plain_intercept))
        for m in plain
    ]
    rows += [
        row(f"asyncio httpx script, {plural(m.count, 'GET')}", m, (async_slope, async_intercept))
        for m in asynchronous
    ]
    where = (
        "the project's venv, with the test suite's pytest plugins (loaded by bare pytest too)"
        if mode.small
        else "a venv with only sloprobe[demo] in it (bench/.venvs/sloprobe)"
    )
    runs = table(
        f"Cost: sloprobe's own CPU per probe and fixed cost over bare pytest "
        f"({', '.join(map(str, counts))} HTTP probes)",
        ["run", "probes / GETs", "median wall", "median CPU (user+sys)", "fitted CPU"],
        rows,
        f"Medians of {mode.repeats} interleaved run{'s' if mode.repeats > 1 else ''} of each"
        f"{'' if mode.small else ' after one untimed round'}; CPU is user + sys of the child "
        "process (os.wait4), so the HTTP server, a threaded http.server in the bench's own "
        'process answering `{"ok": true}` to every GET, is not counted. Every run\'s GETs are '
        "counted by the server: N for sloprobe and the plain script, none for bare pytest. "
        "sloprobe runs `python -m pytest slo.yaml --base-url URL --history=off -p no:cacheprovider "
        "-q` on N probes of one sample each (`http: {path: /ok}`, value `up` read from the JSON, "
        "SLO `value == true`) at the default concurrency, rendering its default report; bare "
        "pytest runs one `assert True` test with `-p no:sloprobe -p no:cacheprovider -q`, so "
        "importing the plugin counts as sloprobe's; the plain script makes the N GETs in turn "
        "on one httpx.Client and checks each answer; the asyncio script makes them on one "
        f"httpx.AsyncClient, at most {DEFAULT_CONCURRENCY} at a time (sloprobe's default "
        f"concurrency), and checks each answer. All four ran from {where}.",
    )
    fit_rows = [
        ["sloprobe: slope (CPU per probe)", f"{slo_slope * 1000:.2f} ms", "", ""],
        ["plain httpx script: slope (CPU per GET)", f"{plain_slope * 1000:.2f} ms", "", ""],
        [
            f"asyncio httpx script: slope (CPU per GET, {DEFAULT_CONCURRENCY} at a time)",
            f"{async_slope * 1000:.2f} ms",
            "",
            "",
        ],
        [
            "sloprobe's own CPU per probe (sloprobe's slope − the plain script's)",
            f"{own_ms:.2f} ms",
            f"≤ {PER_PROBE_GOAL_MS:g} ms",
            f"**{per_probe}**",
        ],
        [
            "sloprobe's slope − the asyncio script's (what is left past asyncio and httpx's pool)",
            f"{over_async_ms:.2f} ms",
            "",
            "",
        ],
        ["sloprobe: intercept (CPU at N = 0)", f"{slo_intercept:.3f} s", "", ""],
        ["plain httpx script: intercept", f"{plain_intercept:.3f} s", "", ""],
        ["bare pytest: median CPU", f"{bare.cpu:.3f} s", "", ""],
        [
            "sloprobe's fixed CPU over bare pytest (intercept − bare pytest)",
            f"{fixed:.3f} s",
            f"≤ {FIXED_GOAL_S:g} s",
            f"**{fixed_verdict}**",
        ],
    ]
    fitted = table(
        "Cost fit: CPU = intercept + slope × N, least squares over each way's medians",
        ["figure", "value", "goal", "verdict"],
        fit_rows,
        f"Goals: sloprobe's own CPU ≤ {PER_PROBE_GOAL_MS:g} ms per probe: **{per_probe}** "
        f"({own_ms:.2f} ms; the slope itself is {slo_slope * 1000:.2f} ms, a plain GET "
        f"{plain_slope * 1000:.2f} ms); fixed CPU ≤ {FIXED_GOAL_S:g} s over bare pytest: "
        f"**{fixed_verdict}** ({fixed:.3f} s). The per-probe goal is judged on sloprobe's slope "
        "less the plain script's: sending a GET and reading its JSON with httpx costs that much "
        "in any client, so what is left is sloprobe's own (the pytest item, the probe's spec and "
        "runner, judging, the result files and the report's rows). Of that, the asyncio script "
        f"shows {(async_slope - plain_slope) * 1000:.2f} ms per GET is the price of sending "
        "concurrently with asyncio and httpx's async pool instead of one request after another; "
        f"the remaining {over_async_ms:.2f} ms is sloprobe's code. The fit is over the medians, "
        "one point per N, so each N weighs the same and an odd slow run does not tilt the line.",
    )
    return runs + "\n" + fitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_mode_options(parser)
    print(section(mode_of(parser.parse_args())))


if __name__ == "__main__":
    main()
