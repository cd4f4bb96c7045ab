"""A static status page and badges from the shared run history (``sloprobe status-page``).

:mod:`.build` reads history into plain data (public by default: SLO names,
descriptions and states only), :mod:`.render` turns it into self-contained
HTML pages, :mod:`.badges` into SVG badges and shields.io endpoint JSON, and
:func:`write_status_page` writes them all into a directory that GitHub Pages
(``actions/upload-pages-artifact`` + ``actions/deploy-pages``) can publish as
it is. docs/status-page.md has the workflow.

A publisher like the sinks: it reads the model and history, never the plugin
or the probes (the import-linter contracts in pyproject.toml).

Location names are private on a public page ("location 1 of 3") unless listed in
``public_locations``; ``sloprobe status-page`` takes them from
``$SLOPROBE_PUBLIC_LOCATIONS`` (comma-separated), as :func:`write_status_page` does
when it is given none.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sloprobe.history import HistoryStore
from sloprobe.settings import environ
from sloprobe.status_page.build import build_status_page
from sloprobe.status_page.page import StatusPage
from sloprobe.status_page.render import StatusPageError, render_site, write_site


@dataclass(frozen=True)
class Written:
    """What :func:`write_status_page` wrote."""

    page: StatusPage
    files: int
    bytes: int
    pages: int  # HTML pages: the index and one per service
    badges: int  # SVG badges (each with its endpoint JSON)


def write_status_page(
    store: HistoryStore,
    out: Path,
    *,
    internal: bool = False,
    title: str = "Status",
    now: datetime | None = None,
    public_locations: Collection[str] | None = None,
) -> Written:
    """Build the status page of every service in ``store`` and write it under ``out``.

    ``public_locations``: the locations the page may name; by default those
    ``$SLOPROBE_PUBLIC_LOCATIONS`` lists, none when it is unset.
    """
    if public_locations is None:
        public_locations = public_locations_from(environ())
    page = build_status_page(
        store, internal=internal, title=title, now=now, public_locations=public_locations
    )
    files = render_site(page)
    write_site(files, out)
    return Written(
        page=page,
        files=len(files),
        bytes=sum(len(text.encode()) for text in files.values()),
        pages=sum(1 for name in files if name.endswith(".html")),
        badges=sum(1 for name in files if name.endswith(".svg")),
    )


PUBLIC_LOCATIONS_VARIABLE = "SLOPROBE_PUBLIC_LOCATIONS"


def public_locations_from(environ: Mapping[str, str]) -> frozenset[str]:
    """The locations ``$SLOPROBE_PUBLIC_LOCATIONS`` lists: ``eu-west,us-east``."""
    listed = environ.get(PUBLIC_LOCATIONS_VARIABLE) or ""
    return frozenset(name.strip() for name in listed.split(",") if name.strip())


__all__ = [
    "PUBLIC_LOCATIONS_VARIABLE",
    "StatusPage",
    "StatusPageError",
    "Written",
    "build_status_page",
    "public_locations_from",
    "render_site",
    "write_site",
    "write_status_page",
]
