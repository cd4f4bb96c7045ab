"""``sloprobe demo``: the bundled reference job service, probed end to end."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sloprobe.cli.common import INTERRUPTED, USAGE_ERROR, Subparsers


def add_parser(commands: Subparsers) -> None:
    demo = commands.add_parser(
        "demo",
        help="probe the bundled reference job service end to end",
        description="Start the reference job service on a free loopback port, run the default suite against it, write the report, stop the service. Fault options make SLOs breach on purpose.",
    )
    demo.add_argument(
        "--latency-ms", type=float, default=0.0, help="added latency on every API request"
    )
    demo.add_argument(
        "--failure-rate", type=float, default=0.0, help="share of jobs that fail, 0..1"
    )
    demo.add_argument("--workers-stopped", action="store_true", help="stop the workers")
    demo.add_argument(
        "--backlog", type=int, default=0, help="N queued jobs the workers do not drain"
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
