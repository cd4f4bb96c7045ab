"""CPU and wall time of the default suite's checks: sloprobe vs tavern vs a plain httpx script.

``python bench/bench_tavern.py [--quick | --small]``; ``bench/run.py`` runs it too. The three ways
make the same requests to the reference service, started in this process, so only the client's CPU
counts: user + sys time of each child process, from ``os.wait4`` (bench/suite_runs.py). Tavern is
installed on first use into its own venv, ``bench/.venvs/tavern``; its suite is
``bench/tavern/test_slo.tavern.yaml``. When tavern cannot be installed, ``run.py`` skips this
comparison and says why.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from common import FULL, Mode, Unavailable, add_mode_options, mode_of, table
from suite_runs import (
    NO_CACHE,
    VenvUnavailable,
    Way,
    child_env,
    reference_suite,
    run_rounds,
    sloprobe_python,
    tail,
    venv_python,
)

BENCH = Path(__file__).resolve().parent
TAVERN_SUITE = BENCH / "tavern"
TAVERN_VENV = BENCH / ".venvs" / "tavern"
# tavern 3.7.1 allows pytest < 10 but imports _pytest.python_api.ApproxBase, which pytest 9.2 moved.
TAVERN_REQUIREMENTS = ("tavern>=2,<4", "pytest<9.2")
RUN_TIMEOUT_S = 120
TAVERN_GOAL = 0.9  # sloprobe's CPU at most this many times tavern's


class TavernUnavailable(Unavailable):
    """Tavern could not be installed or loaded; the message says why."""


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
    return None if done.returncode == 0 else tail(done.stderr, 3)


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


def _versions(python: Path | str, *packages: str) -> list[str]:
    code = "import sys, importlib.metadata as m; print(*(m.version(p) for p in sys.argv[1:]))"
    done = subprocess.run(
        [str(python), "-c", code, *packages], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def comparison(mode: Mode = FULL) -> str:
    """The Markdown section; raises TavernUnavailable when tavern cannot be installed."""
    import pytest

    tavern = tavern_python()
    sloprobe = sloprobe_python(mode.small)
    tavern_version, tavern_pytest = _versions(tavern, "tavern", "pytest")
    with reference_suite() as suite:
        tavern_dir = suite.folder / "tavern"
        shutil.copytree(TAVERN_SUITE, tavern_dir, ignore=NO_CACHE)
        command = [
            str(tavern),
            "-m",
            "pytest",
            "test_slo.tavern.yaml",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        ways = [
            suite.plain(sloprobe),
            Way("tavern", command, tavern_dir, child_env(BENCH_BASE_URL=suite.url)),
            suite.sloprobe(sloprobe),
        ]
        run_rounds(suite, ways, mode.repeats, warm_round=not mode.small)
    plain, tav, slo = ways

    def row(label: str, way: Way) -> list[str]:
        return [
            label,
            way.request_count(),
            f"{way.wall:.3f} s",
            f"{way.cpu:.3f} s",
            f"{way.cpu / tav.cpu:.2f}×",
            f"{way.cpu / plain.cpu:.2f}×",
            f"{way.wall / tav.wall:.2f}×",
            f"{way.wall / plain.wall:.2f}×",
        ]

    vs_tavern = slo.cpu / tav.cpu
    verdict = mode.goal(
        f"default suite's CPU ≤ {TAVERN_GOAL:.1f}× tavern's",
        vs_tavern <= TAVERN_GOAL,
        f"{vs_tavern:.2f}×",
    )
    runs = f"{mode.repeats} interleaved run{'s' if mode.repeats > 1 else ''} of each"
    where = (
        "the project's venv, with the test suite's pytest plugins"
        if mode.small
        else "a venv with only sloprobe[demo] in it (bench/.venvs/sloprobe)"
    )
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
        f"Goal, on CPU time: sloprobe ≤ {TAVERN_GOAL:.1f}× tavern: **{verdict}** "
        f"({vs_tavern:.2f}×; wall {slo.wall / tav.wall:.2f}×). The goal against the plain script is "
        f"judged in the overhead section, from its own runs. Medians of {runs}"
        f"{'' if mode.small else ' after one untimed round'}; CPU is user + sys of the child "
        "process (os.wait4), so the reference service, which runs in the bench's own process, is "
        "not counted. Every run's requests are checked against the service's log: 5 × GET /health, "
        "the three admin reads, POST /jobs and GET /jobs/{id} until the job has ended (the count "
        "varies with the polls). Tavern runs bench/tavern/test_slo.tavern.yaml from its own venv "
        "(bench/.venvs/tavern); it polls with `max_retries: 100` and `delay_after: 0.1` on the "
        "stage, and sleeps `delay_after` once more after the stage passes, so its wall time holds "
        "0.1 s of sleep the others lack (no CPU). Its thresholds go through "
        "`verify_response_with` (bench/tavern/slo_checks.py): tavern compares values only for "
        f"equality. sloprobe and the plain script ran from {where}.",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_mode_options(parser)
    mode = mode_of(parser.parse_args())
    try:
        print(comparison(mode))
    except TavernUnavailable as exc:
        sys.exit(f"bench_tavern: tavern is unavailable: {exc}")


if __name__ == "__main__":
    main()
