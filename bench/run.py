"""Run every benchmark and write bench/RESULTS.md: ``python bench/run.py [--quick]``.

Every timing is a ratio against a baseline measured in the same run; these
machines are noisy, so the medians of several repeats are reported. The
comparison with tavern installs it on first use into bench/.venvs/tavern, and
is skipped, with the reason, when that fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_runtime
import bench_scale
import bench_tavern


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


def main() -> None:
    # Installed packages have bytecode caches; let every child write and use them.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats and rows (a minute or two)"
    )
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    started = time.perf_counter()
    sections = [
        bench_runtime.overhead(repeats),
        bench_tavern.section(repeats),  # a note instead when tavern cannot be installed
        bench_runtime.concurrency(repeats),
        bench_runtime.accuracy(),
        bench_runtime.startup(repeats),
        bench_scale.history(2000 if args.quick else 8640),
        bench_scale.sql_percentile(100_000 if args.quick else 1_000_000, postgres=True),
    ]
    header = (
        "# Benchmark results\n\n"
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python bench/run.py{' --quick' if args.quick else ''}` "
        f"in {time.perf_counter() - started:.0f} s on {machine()}.\n"
    )
    text = header + "\n" + "\n".join(sections)
    print(text)
    (Path(__file__).resolve().parent / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
