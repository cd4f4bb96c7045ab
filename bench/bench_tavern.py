"""CPU and wall time of the default suite's checks: sloprobe vs tavern vs a plain httpx script.

``python bench/bench_tavern.py [--repeats N]``; ``bench/run.py`` runs it too. The three ways make the
same requests to the reference service, started in this process, so only the client's CPU counts:
user + sys time of each child process, from ``os.wait4``. Tavern is installed on first use into its
own venv, ``bench/.venvs/tavern``; its suite is ``bench/tavern/test_slo.tavern.yaml``. When tavern
cannot be installed, ``run.py`` skips this comparison and says why.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_runtime import PLAIN_SCRIPT, suite_command
from common import PYTHON, ROOT, table

BENCH = Path(__file__).resolve().parent
TAVERN_SUITE = BENCH / "tavern"
TAVERN_VENV = BENCH / ".venvs" / "tavern"
SLOPROBE_VENV = BENCH / ".venvs" / "sloprobe"
# tavern 3.7.1 allows pytest < 10 but imports _pytest.python_api.ApproxBase, which pytest 9.2 moved.
TAVERN_REQUIREMENTS = ("tavern>=2,<4", "pytest<9.2")
INSTALL_TIMEOUT_S = 600
RUN_TIMEOUT_S = 120

# What each run must have asked, as (method, path, query): the default suite's requests.
EXPECTED = Counter(
    {
        ("GET", "/health", ""): 5,
        ("GET", "/admin/metrics", ""): 1,
        ("GET", "/admin/workers", ""): 1,
        ("GET", "/admin/jobs/stats", "hours=24"): 1,
        ("POST", "/jobs", ""): 1,
    }
)


class TavernUnavailable(RuntimeError):
    """Tavern could not be installed or loaded; the message says why."""


class RunFailed(RuntimeError):
    """One of the timed runs exited non-zero or did not make the suite's requests."""


@dataclass
class Way:
    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def _tail(text: str, lines: int = 8) -> str:
    # pip's "Location ... is ignored" warnings about local mirrors are noise here
    kept = [line for line in text.splitlines() if line.strip() and "is ignored" not in line]
    return "\n".join(line if len(line) <= 300 else line[:300] + " …" for line in kept[-lines:])


def _tavern_loads(python: Path) -> str | None:
    """None if tavern's pytest plugin imports in that venv, else why not."""
    try:
        done = subprocess.run(
            [str(python), "-c", "import tavern._core.pytest"],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if done.returncode == 0 else _tail(done.stderr, 3)


class VenvUnavailable(RuntimeError):
    """A bench venv could not be made; the message says which step failed and how."""


def venv_python(venv: Path, stamp_text: str, packages: Sequence[str]) -> tuple[Path, bool]:
    """The Python of ``venv`` with ``packages`` installed (cached: the stamp says with what);
    and whether it was installed just now."""
    python = venv / "bin" / "python"
    stamp = venv / "bench-stamp.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == stamp_text:
        return python, False
    steps = [] if python.exists() else [[PYTHON, "-m", "venv", str(venv)]]
    steps.append(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages]
    )
    for step in steps:
        shown = " ".join(step)
        print(f"bench_tavern: {shown}", file=sys.stderr, flush=True)
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VenvUnavailable(f"`{shown}` failed: {exc}") from exc
        if done.returncode != 0:
            raise VenvUnavailable(
                f"`{shown}` exited {done.returncode}:\n{_tail(done.stderr + done.stdout)}"
            )
    stamp.write_text(stamp_text)
    return python, True


def tavern_python() -> Path:
    """The Python of the tavern venv, created and installed on first use (cached under bench/.venvs)."""
    try:
        python, fresh = venv_python(
            TAVERN_VENV, "\n".join(TAVERN_REQUIREMENTS) + "\n", TAVERN_REQUIREMENTS
        )
    except VenvUnavailable as exc:
        raise TavernUnavailable(str(exc)) from exc
    problem = _tavern_loads(python)
    if problem is not None and not fresh:  # a cached venv gone bad: install it again
        (TAVERN_VENV / "bench-stamp.txt").unlink(missing_ok=True)
        return tavern_python()
    if problem is not None:
        (TAVERN_VENV / "bench-stamp.txt").unlink(missing_ok=True)
        raise TavernUnavailable(
            f"tavern installed, but its pytest plugin does not load:\n{problem}"
        )
    return python


def sloprobe_python() -> Path:
    """The Python of a venv with only sloprobe (and its demo extra), as a user installs it.

    The project's own venv also holds the test suite's pytest plugins (hypothesis,
    pytest-redis, xdist…), which every pytest run there loads: tavern gets a venv
    of its own, so sloprobe gets one too.
    """
    stamp = (ROOT / "pyproject.toml").read_text()
    return venv_python(SLOPROBE_VENV, stamp, ["-e", f"{ROOT}[demo]"])[0]


def _versions(python: Path | str, *packages: str) -> list[str]:
    code = "import sys, importlib.metadata as m; print(*(m.version(p) for p in sys.argv[1:]))"
    done = subprocess.run(
        [str(python), "-c", code, *packages], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def timed_run(command: Sequence[str], cwd: Path, env: dict[str, str] | None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + sys of the child and what it waited for) of one run."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            text = output.read().decode(errors="replace")
            raise RunFailed(
                f"`{' '.join(command)}` exited {process.returncode}:\n{_tail(text, 40)}"
            )
    return wall, usage.ru_utime + usage.ru_stime


def _check_requests(name: str, entries: Sequence[Any]) -> int:
    """The number of requests a run made; RunFailed unless they are the suite's requests."""
    seen: Counter[tuple[str, str, str]] = Counter()
    polls = 0
    for entry in entries:  # sloprobe.demo.service.LoggedRequest
        method, path, query, status = entry.method, entry.path, entry.query, entry.status
        if status >= 400:
            raise RunFailed(f"{name}: {method} {path} answered {status}")
        if method == "GET" and path.startswith("/jobs/"):
            polls += 1
        else:
            seen[(method, path, query)] += 1
    if seen != EXPECTED or polls < 1:
        raise RunFailed(
            f"{name} made other requests than the suite's: {dict(seen)} and {polls} polls of the job"
        )
    return len(entries)


def comparison(repeats: int = 5) -> str:
    """The Markdown section; raises TavernUnavailable when tavern cannot be installed."""
    import pytest

    from sloprobe.demo.run import warm_up
    from sloprobe.demo.service import ServiceConfig, start_service

    tavern = tavern_python()
    sloprobe = sloprobe_python()
    # Every way may write bytecode caches, as an installed package has them.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    tavern_version, tavern_pytest = _versions(tavern, "tavern", "pytest")
    with tempfile.TemporaryDirectory() as tmp, start_service(ServiceConfig()) as service:
        url = service.base_url
        suite, tavern_dir, plain_dir = (
            Path(tmp) / "suite",
            Path(tmp) / "tavern",
            Path(tmp) / "plain",
        )
        suite.mkdir()
        for name in ("slo.yaml", "conftest.py"):
            shutil.copy(ROOT / name, suite / name)
        no_cache = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / "probes", suite / "probes", ignore=no_cache)
        shutil.copytree(TAVERN_SUITE, tavern_dir, ignore=no_cache)
        plain_dir.mkdir()
        (plain_dir / "plain.py").write_text(PLAIN_SCRIPT)
        ways = [
            Way("plain", [PYTHON, "plain.py", url], plain_dir, env),
            Way(
                "tavern",
                [
                    str(tavern),
                    "-m",
                    "pytest",
                    "test_slo.tavern.yaml",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                ],
                tavern_dir,
                {**env, "BENCH_BASE_URL": url},
            ),
            Way(
                "sloprobe",
                suite_command(str(sloprobe), url, suite / "out"),
                suite,
                env,
            ),
        ]
        warm_up(url)
        # One untimed round first (bytecode caches, page cache), then the rounds in turn,
        # each starting with the next way so that none always runs first.
        for round_ in range(repeats + 1):
            for way in ways[round_ % 3 :] + ways[: round_ % 3]:
                service.clear_request_log()
                wall, cpu = timed_run(way.command, way.cwd, way.env)
                made = _check_requests(way.name, service.request_log)
                if round_:
                    way.walls.append(wall)
                    way.cpus.append(cpu)
                    way.requests.append(made)
    plain, tav, slo = ways

    def count(way: Way) -> str:
        low, high = min(way.requests), max(way.requests)
        return str(low) if low == high else f"{low}–{high}"

    def row(label: str, way: Way) -> list[str]:
        return [
            label,
            count(way),
            f"{way.wall:.3f} s",
            f"{way.cpu:.3f} s",
            f"{way.cpu / tav.cpu:.2f}×",
            f"{way.cpu / plain.cpu:.2f}×",
            f"{way.wall / tav.wall:.2f}×",
            f"{way.wall / plain.wall:.2f}×",
        ]

    vs_tavern, vs_plain = slo.cpu / tav.cpu, slo.cpu / plain.cpu
    tavern_goal = "met" if vs_tavern <= 1.0 else "missed"
    plain_goal = "met" if vs_plain <= 3.0 else "missed"
    return table(
        f"Tavern: the default suite's checks under sloprobe, tavern {tavern_version} and a plain httpx script",
        [
            "run",
            "requests",
            "median wall",
            "median CPU (user+sys)",
            "CPU vs tavern",
            "CPU vs plain",
            "wall vs tavern",
            "wall vs plain",
        ],
        [
            row("plain httpx script (baseline)", plain),
            row(f"tavern {tavern_version} (pytest {tavern_pytest})", tav),
            row(f"sloprobe (pytest {pytest.__version__} + plugin)", slo),
        ],
        f"Goals, on CPU time: sloprobe no slower than tavern (≤ 1.00×): **{tavern_goal}** ({vs_tavern:.2f}×); "
        f"sloprobe ≤ 3× the plain script: **{plain_goal}** ({vs_plain:.2f}×; wall {slo.wall / plain.wall:.2f}×). "
        f"Medians of {repeats} interleaved runs of each after one untimed round; CPU is user + sys of the child "
        "process (os.wait4), so the reference service, which runs in the bench's own process, is not counted. "
        "Every run's requests are checked against the service's log: 5 × GET /health, the three admin reads, "
        "POST /jobs and GET /jobs/{id} until the job has ended (the count varies with the polls). Tavern runs "
        "bench/tavern/test_slo.tavern.yaml from its own venv (bench/.venvs/tavern); it polls with `max_retries: "
        "100` and `delay_after: 0.1` on the stage, and sleeps `delay_after` once more after the stage passes, "
        "so its wall time holds 0.1 s of sleep the others lack (no CPU). Its thresholds go through "
        "`verify_response_with` (bench/tavern/slo_checks.py): tavern compares values only for equality.",
    )


def section(repeats: int = 5) -> str:
    """For bench/run.py: the comparison, or a note that it was skipped, and why."""
    try:
        return comparison(repeats)
    except TavernUnavailable as exc:
        print(f"bench_tavern: skipped, tavern is unavailable: {exc}", file=sys.stderr)
        return (
            f"### Tavern\n\nSkipped: tavern could not be installed or loaded.\n\n```\n{exc}\n```\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each way (default 5)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    try:
        print(comparison(args.repeats))
    except TavernUnavailable as exc:
        sys.exit(f"bench_tavern: tavern is unavailable: {exc}")


if __name__ == "__main__":
    main()
