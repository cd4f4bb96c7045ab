"""``sloprobe demo``: the bundled reference job service, probed end to end."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

from sloprobe.cli.common import INTERRUPTED, USAGE_ERROR, Subparsers


def _number(
    kind: Callable[[str], float], low: float, high: float, what: str
) -> Callable[[str], float]:
    """An argparse type: ``kind`` within [low, high], or a usage error saying the range."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            number = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"`{text}` is not {number}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"`{text}` is not {what}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def add_parser(commands: Subparsers) -> None:
    demo = commands.add_parser(
        "demo",
        help="probe the bundled reference job service end to end",
        description="Start the reference job service on a free loopback port, run the default suite against it, write the report, stop the service. Fault options make SLOs breach on purpose.",
    )
    demo.add_argument(
        "--latency-ms",
        type=_number(float, 0, 3_600_000, "a latency from 0 to 3600000 ms"),
        default=0.0,
        help="added latency on every API request",
    )
    demo.add_argument(
        "--failure-rate",
        type=_number(float, 0, 1, "a share between 0 and 1"),
        default=0.0,
        help="share of jobs that fail, 0..1",
    )
    demo.add_argument("--workers-stopped", action="store_true", help="stop the workers")
    demo.add_argument(
        "--backlog",
        type=_number(int, 0, 1_000_000, "a count from 0 to 1000000"),
        default=0,
        help="N queued jobs the workers do not drain",
    )
    demo.add_argument(
        "--report-dir", default="reports", help="where reports go (default: reports/)"
    )


def handle(args: argparse.Namespace, rest: list[str]) -> int:
    try:
        from sloprobe.demo.run import run_demo
    except ImportError as exc:
        print(
            f"sloprobe demo needs the `demo` extra ({exc.name} is missing): pip install 'sloprobe[demo]'",
            file=sys.stderr,
        )
        return USAGE_ERROR
    try:
        return run_demo(
            latency_ms=args.latency_ms,
            failure_rate=args.failure_rate,
            workers_stopped=args.workers_stopped,
            backlog=args.backlog,
            report_dir=Path(args.report_dir),
            pytest_args=rest,
        )
    except KeyboardInterrupt:
        print("sloprobe demo: interrupted; the reference service was stopped", file=sys.stderr)
        return INTERRUPTED
