"""Run every benchmark and write bench/RESULTS.md.

``python bench/run.py [--quick | --small] [--only NAME,…] [--skip NAME,…]``

Every timing is a ratio against a baseline measured in the same run; these machines are
noisy, so the medians of several repeats are reported. Every bench runs, or is skipped
with the reason said on stderr, at the end, and in its place in RESULTS.md: tavern could
not be installed (it is installed on first use into bench/.venvs/tavern), PostgreSQL or
numpy is missing, or ``--only``/``--skip`` left it out. A bench that fails is reported the
same way, and run.py then exits 1. A bench_*.py that BENCHES below does not name is still
run, as a script (``python bench/bench_x.py``, with ``--small`` in small mode), and what it
prints is its section. ``--small`` runs each bench once at small sizes, as
tests/bench does, and prints the sections without writing RESULTS.md. A full run takes
about 10 minutes on 2 cores, most of it recording the history-size bench's month and
filling the status page's history; the first one also makes bench/.venvs.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_concurrent_writers
import bench_cost
import bench_history_size
import bench_runtime
import bench_scale
import bench_status_page
import bench_tavern
from common import JUDGED, PYTHON, Judged, Mode, Unavailable, add_mode_options, mode_of, table

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"


@dataclass(frozen=True)
class Bench:
    title: str  # how its section's heading starts in RESULTS.md, up to the colon
    run: Callable[[Mode], str]
    module: str  # its file under bench/
    script: bool = False  # run as a script: a bench_*.py that BENCHES does not name


# In the order of RESULTS.md. Every bench_*.py is here (tests/bench checks it).
BENCHES: dict[str, Bench] = {
    "overhead": Bench("Overhead", bench_runtime.overhead, "bench_runtime.py"),
    "tavern": Bench("Tavern", bench_tavern.comparison, "bench_tavern.py"),
    "concurrency": Bench("Concurrency", bench_runtime.concurrency, "bench_runtime.py"),
    "accuracy": Bench("Accuracy", bench_runtime.accuracy, "bench_runtime.py"),
    "startup": Bench("Startup", bench_runtime.startup, "bench_runtime.py"),
    "cost": Bench("Cost", bench_cost.section, "bench_cost.py"),
    "history": Bench("History", bench_scale.history, "bench_scale.py"),
    "sql-percentile": Bench("SQL percentile", bench_scale.sql_percentile, "bench_scale.py"),
    "history-size": Bench("History size", bench_history_size.section, "bench_history_size.py"),
    "status-page": Bench("Status page", bench_status_page.section, "bench_status_page.py"),
    "concurrent-writers": Bench(
        "Concurrent writers", bench_concurrent_writers.section, "bench_concurrent_writers.py"
    ),
}


def _script(path: Path) -> Callable[[Mode], str]:
    """A bench that only has a command line: run it, and what it prints is its section."""

    def run(mode: Mode) -> str:
        command = [PYTHON, str(path), *(["--small"] if mode.small else [])]
        done = subprocess.run(command, capture_output=True, text=True, cwd=BENCH.parent)
        if done.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(command)}` exited {done.returncode}:\n{done.stderr[-3000:]}"
            )
        text = done.stdout.strip("\n")
        if not text.startswith("### "):
            text = f"### {path.name}\n\n{text}"
        heading, _, body = text.partition("\n")
        if "\n|" not in "\n" + body:  # plain lines, not a table: keep them as printed
            body = f"\n```\n{body.strip(chr(10))}\n```"
        return f"{heading}\n{body}\n\nRun as a script: `python bench/{path.name}`.\n"

    return run


for _path in sorted(BENCH.glob("bench_*.py")):
    if _path.name not in {bench.module for bench in BENCHES.values()}:
        _name = _path.stem.removeprefix("bench_").replace("_", "-")
        BENCHES[_name] = Bench(_path.name, _script(_path), _path.name, script=True)


@dataclass
class Outcome:
    name: str
    section: str
    seconds: float = 0.0
    skipped: str | None = None  # why it did not run
    failed: bool = False
    goals: list[Judged] = field(default_factory=list)


def _not_run(name: str, why: str) -> Outcome:
    section = f"### {BENCHES[name].title}: not run\n\n{why[0].upper()}{why[1:]}.\n"
    return Outcome(name, section, skipped=why)


def run_bench(name: str, mode: Mode) -> Outcome:
    """One bench: its section, or a note in its place saying why it did not run or failed."""
    bench = BENCHES[name]
    print(f"bench/run.py: {name} …", file=sys.stderr, flush=True)
    started = time.perf_counter()
    judged_before = len(JUDGED)
    try:
        text = bench.run(mode)
    except Unavailable as exc:
        return _not_run(name, f"skipped: {exc}")
    except Exception as exc:
        shown = "".join(traceback.format_exception(exc)[-12:])
        print(shown, file=sys.stderr)
        why = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return Outcome(
            name,
            f"### {bench.title}: failed\n\n```\n{shown.rstrip()}\n```\n",
            time.perf_counter() - started,
            skipped=why,
            failed=True,
        )
    return Outcome(name, text, time.perf_counter() - started, goals=list(JUDGED[judged_before:]))


def run_all(mode: Mode, left_out: dict[str, str]) -> list[Outcome]:
    """Every bench in turn, but those in ``left_out`` (name: why), which are skipped."""
    outcomes = []
    for name in BENCHES:
        if name in left_out:
            outcomes.append(_not_run(name, f"skipped: {left_out[name]}"))
        else:
            outcomes.append(run_bench(name, mode))
    return outcomes


def summary(outcomes: Sequence[Outcome]) -> str:
    rows = []
    for outcome in outcomes:
        if outcome.skipped:
            rows.append([outcome.name, "", f"**{outcome.skipped}**", ""])
        elif not outcome.goals:
            rows.append([outcome.name, "no goal: figures for scale", "", ""])
        for judged in outcome.goals:
            rows.append([outcome.name, judged.goal, f"**{judged.verdict}**", judged.figure])
    return table("Goals", ["bench", "goal", "verdict", "figure"], rows)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def _names(text: str) -> set[str]:
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = names - set(BENCHES)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"no bench {', '.join(sorted(unknown))}; the benches: {', '.join(BENCHES)}"
        )
    return names


def main(argv: Sequence[str] | None = None) -> int:
    # Installed packages have bytecode caches; let every child write and use them.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_mode_options(parser)
    parser.add_argument("--only", type=_names, help="run only these benches (comma-separated)")
    parser.add_argument("--skip", type=_names, default=set(), help="skip these benches")
    args = parser.parse_args(argv)
    mode = mode_of(args)
    left_out = {
        name: "not named by --only" for name in BENCHES if name not in (args.only or BENCHES)
    }
    left_out.update({name: "left out by --skip" for name in args.skip})
    started = time.perf_counter()
    outcomes = run_all(mode, left_out)
    shown = " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    header = (
        "# Benchmark results\n\n"
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python bench/run.py{' ' + shown if shown else ''}` "
        f"in {time.perf_counter() - started:.0f} s on {machine()}. Each section says its goal, "
        "if it has one, and whether this run met it; the table below gathers them.\n"
    )
    text = "\n".join([header, summary(outcomes), *(o.section for o in outcomes)])
    print(text)
    if not mode.small:
        RESULTS.write_text(text)
    skipped = [o for o in outcomes if o.skipped]
    ran = [o for o in outcomes if not o.skipped]
    print(
        f"bench/run.py: ran {len(ran)} of {len(outcomes)} benches"
        + "".join(f"\n  {o.name}: {o.seconds:.0f} s" for o in ran),
        file=sys.stderr,
    )
    for outcome in skipped:
        print(f"bench/run.py: {outcome.name} {outcome.skipped}", file=sys.stderr)
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
