"""``sloprobe docs``: reference docs generated from the code, as Markdown."""

from __future__ import annotations

import argparse
import sys

from sloprobe.cli.common import Subparsers


def add_parser(commands: Subparsers) -> None:
    docs = commands.add_parser(
        "docs",
        help="print generated reference docs (Markdown)",
        description="Print reference docs generated from the code: `sloprobe docs probes > docs/probes.md`.",
    )
    docs.add_argument(
        "topic", choices=["probes"], help="probes: every probe kind, its options and measures"
    )


def handle(args: argparse.Namespace, rest: list[str]) -> int:
    from sloprobe.probe_docs import render_probe_docs

    text = render_probe_docs()
    out = sys.stdout
    if (out.encoding or "").lower().replace("-", "") != "utf8" and hasattr(out, "buffer"):
        out.flush()  # the docs hold → and —: write UTF-8 whatever the locale says
        out.buffer.write(text.encode())
        out.buffer.flush()
    else:
        out.write(text)
    return 0
