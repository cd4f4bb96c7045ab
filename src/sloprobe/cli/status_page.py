"""``sloprobe status-page``: a static status page and badges from the shared history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sloprobe.cli.common import USAGE_ERROR, Subparsers
from sloprobe.settings import history_url


def add_parser(commands: Subparsers) -> None:
    status_page = commands.add_parser(
        "status-page",
        help="write a static status page and badges from the shared history",
        description="Write a static status page (an index, a page per service), SVG badges and "
        "shields.io endpoint JSON for every service and environment in the history into DIR, "
        "as GitHub Pages publishes it (docs/status-page.md). Public by default: SLO names, "
        "descriptions and states only.",
    )
    status_page.add_argument(
        "--history",
        metavar="URL|PATH",
        help="the shared history: a SQLAlchemy URL or SQLite path (default: $SLOPROBE_HISTORY_URL)",
    )
    status_page.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="where to write (new, empty, or an earlier page)",
    )
    shown = status_page.add_mutually_exclusive_group()
    shown.add_argument(
        "--public",
        dest="internal",
        action="store_false",
        help="SLO names, descriptions and states only (default)",
    )
    shown.add_argument(
        "--internal",
        dest="internal",
        action="store_true",
        help="also target URLs, observed values, reasons, owners, runbooks: never publish it",
    )
    status_page.set_defaults(internal=False)
    status_page.add_argument("--title", default="Status", help="the pages' title (default Status)")
    status_page.add_argument(
        "--public-locations",
        metavar="A,B",
        help="locations the public page may name (default $SLOPROBE_PUBLIC_LOCATIONS; "
        "others read 'location N of M')",
    )


def handle(args: argparse.Namespace, rest: list[str]) -> int:

    from sloprobe.errors import SloprobeError
    from sloprobe.history import HistoryError, HistoryStore
    from sloprobe.model.units import plural
    from sloprobe.status_page import write_status_page

    url = history_url(args.history)
    if not url:
        print(
            "sloprobe status-page: no history; pass --history URL|PATH or set SLOPROBE_HISTORY_URL",
            file=sys.stderr,
        )
        return USAGE_ERROR
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        # Reading must not leave an empty history behind where a path was mistyped.
        print(
            f"sloprobe status-page: no history at {url.removeprefix('sqlite:///')}", file=sys.stderr
        )
        return USAGE_ERROR
    try:
        store = HistoryStore.open(url)
    except HistoryError as exc:
        print(f"sloprobe status-page: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        public = (
            [name.strip() for name in args.public_locations.split(",") if name.strip()]
            if args.public_locations is not None
            else None
        )
        written = write_status_page(
            store, Path(args.out), internal=args.internal, title=args.title, public_locations=public
        )
    except (SloprobeError, OSError) as exc:  # the store, or where the page was asked to go
        print(f"sloprobe status-page: {exc}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        store.dispose()
    page = written.page
    slos = sum(len(e.slos) for e in page.environments)
    print(
        f"sloprobe status-page: {plural(len(page.services), 'service')}, "
        f"{plural(len(page.environments), 'environment')}, {plural(slos, 'SLO')} -> {args.out}: "
        f"{plural(written.pages, 'page')}, {plural(written.badges, 'badge')}, "
        f"{written.bytes / 1024:.0f} KiB"
        + (" (internal: not for publishing)" if args.internal else "")
    )
    if not page.services:
        print("sloprobe status-page: the history holds no run yet", file=sys.stderr)
    return 0
