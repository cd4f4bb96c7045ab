"""The default suite's requests made several ways, each timed by its own process's CPU.

Shared by the overhead bench (``bench_runtime.overhead``: sloprobe against a plain httpx script)
and the tavern bench (``bench_tavern``: the same and tavern). Every way is a child process making
the default suite's requests to the reference service, which runs in the bench's own process, so
only the client's CPU counts: user + sys time of the child, from ``os.wait4``. The ways run in
turn, round after round, each round starting with the next way so that none always runs first;
every run's requests are checked against the service's log, and a run that fails or asks other
requests than the suite's fails the bench.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import PYTHON, ROOT

BENCH = Path(__file__).resolve().parent
SLOPROBE_VENV = BENCH / ".venvs" / "sloprobe"
INSTALL_TIMEOUT_S = 600
NO_CACHE = shutil.ignore_patterns("__pycache__")

# The default suite's requests (slo.yaml and probes/test_job_roundtrip.py), in the reference
# service's shape, as a plain script makes them.
PLAIN_SCRIPT = """
import sys, time, httpx
base = sys.argv[1]
with httpx.Client(base_url=base, timeout=10) as c:
    for _ in range(5):
        assert c.get("/health").json()["status"] == "healthy"
    assert c.get("/admin/metrics").json()["current_queue"]["queued"] < 100
    assert c.get("/admin/workers").json()["estimated_active"] >= 1
    stats = c.get("/admin/jobs/stats", params={"hours": 24}).json()
    assert stats["success_rate_percent"] >= 90
    job = c.post("/jobs", data={"asset_id": "bench", "prompt": "bench", "tier": "standard"}).json()["job_id"]
    while c.get(f"/jobs/{job}").json()["status"] in ("queued", "processing"):
        time.sleep(0.1)
"""

# What each run must have asked, as (method, path, query), besides its polls of the job.
EXPECTED = Counter(
    {
        ("GET", "/health", ""): 5,
        ("GET", "/admin/metrics", ""): 1,
        ("GET", "/admin/workers", ""): 1,
        ("GET", "/admin/jobs/stats", "hours=24"): 1,
        ("POST", "/jobs", ""): 1,
    }
)


class RunFailed(RuntimeError):
    """One of the timed runs exited non-zero or did not make the suite's requests."""


class VenvUnavailable(RuntimeError):
    """A bench venv could not be made; the message says which step failed and how."""


@dataclass
class Way:
    """One way of making the requests: a command, and its times over the rounds."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    checked: bool = True  # the run makes the suite's requests (else it makes none)
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)

    def request_count(self) -> str:
        low, high = min(self.requests), max(self.requests)
        return str(low) if low == high else f"{low}–{high}"


def tail(text: str, lines: int = 8) -> str:
    # pip's "Location ... is ignored" warnings about local mirrors are noise here
    kept = [line for line in text.splitlines() if line.strip() and "is ignored" not in line]
    return "\n".join(line if len(line) <= 300 else line[:300] + " …" for line in kept[-lines:])


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a timed run: this one, less what would change what the run does
    (the test runner's variables, sloprobe's settings, notifiers); bytecode caches allowed,
    as an installed package has them."""
    dropped = ("PYTHONDONTWRITEBYTECODE", "PROBE_BASE_URL", "SENTRY_DSN", "SLACK_WEBHOOK_URL")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith(("PYTEST_", "SLOPROBE_"))
    }
    env.update(extra)
    return env


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
        print(f"bench: {shown}", file=sys.stderr, flush=True)
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VenvUnavailable(f"`{shown}` failed: {exc}") from exc
        if done.returncode != 0:
            raise VenvUnavailable(
                f"`{shown}` exited {done.returncode}:\n{tail(done.stderr + done.stdout)}"
            )
    stamp.write_text(stamp_text)
    return python, True


def sloprobe_python(small: bool = False) -> str:
    """The Python that runs the suite under sloprobe.

    A full run uses a venv with only sloprobe (and its demo extra), as a user installs it,
    made on first use under bench/.venvs: the project's own venv also holds the test suite's
    pytest plugins (hypothesis, pytest-redis, xdist…), which every pytest run there loads. A
    small run, which judges no goal, uses this Python and installs nothing.
    """
    if small:
        return PYTHON
    stamp = (ROOT / "pyproject.toml").read_text()
    return str(venv_python(SLOPROBE_VENV, stamp, ["-e", f"{ROOT}[demo]"])[0])


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
            raise RunFailed(f"`{' '.join(command)}` exited {process.returncode}:\n{tail(text, 40)}")
    return wall, usage.ru_utime + usage.ru_stime


def check_requests(name: str, entries: Sequence[Any]) -> int:
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


@dataclass
class Suite:
    """The running reference service and a folder with copies of what the ways run."""

    service: Any  # sloprobe.demo.service.RunningService
    folder: Path

    @property
    def url(self) -> str:
        return str(self.service.base_url)

    def plain(self, python: str) -> Way:
        """The plain script, run by ``python``: the same interpreter and venv as sloprobe's run,
        so neither pays for packages the other's venv holds (httpx imports its command line,
        rich and all, where rich is installed)."""
        return Way("plain", [python, "plain.py", self.url], self.folder / "plain", child_env())

    def sloprobe(self, python: str) -> Way:
        command = suite_command(python, self.url, self.folder / "out")
        return Way("sloprobe", command, self.folder / "suite", child_env())


@contextmanager
def reference_suite() -> Iterator[Suite]:
    """The reference service, started in this process and warmed up (its jobs succeed, so the
    24-hour success rate exists), and copies of the default suite and of the plain script."""
    from sloprobe.demo.run import warm_up
    from sloprobe.demo.service import ServiceConfig, start_service

    with tempfile.TemporaryDirectory() as tmp, start_service(ServiceConfig()) as service:
        folder = Path(tmp)
        suite = folder / "suite"
        suite.mkdir()
        for name in ("slo.yaml", "conftest.py"):
            shutil.copy(ROOT / name, suite / name)
        shutil.copytree(ROOT / "probes", suite / "probes", ignore=NO_CACHE)
        (folder / "plain").mkdir()
        (folder / "plain" / "plain.py").write_text(PLAIN_SCRIPT)
        warm_up(service.base_url)
        yield Suite(service, folder)


def run_rounds(suite: Suite, ways: Sequence[Way], repeats: int, warm_round: bool) -> None:
    """``repeats`` timed rounds of every way, after one untimed round if ``warm_round``
    (bytecode caches, page cache); each round starts with the next way."""
    ways = list(ways)
    for round_ in range(repeats + warm_round):
        shift = round_ % len(ways)
        for way in ways[shift:] + ways[:shift]:
            suite.service.clear_request_log()
            wall, cpu = timed_run(way.command, way.cwd, way.env)
            made = check_requests(way.name, suite.service.request_log) if way.checked else 0
            if round_ >= warm_round:
                way.walls.append(wall)
                way.cpus.append(cpu)
                way.requests.append(made)
