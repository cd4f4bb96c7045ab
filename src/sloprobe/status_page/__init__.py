"""A static status page and badges from the shared run history (``sloprobe status-page``).

:mod:`.build` reads history into plain data (public by default: SLO names,
descriptions and states only), :mod:`.render` turns it into self-contained
HTML pages, :mod:`.badges` into SVG badges and shields.io endpoint JSON, and
:func:`write_status_page` writes them all into a directory that GitHub Pages
(``actions/upload-pages-artifact`` + ``actions/deploy-pages``) can publish as
it is. docs/status-page.md has the workflow.

A publisher like the sinks: it reads the model and history, never the plugin
or the probes (the import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sloprobe.history import HistoryStore
from sloprobe.status_page.build import StatusPage, build_status_page
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
) -> Written:
    """Build the status page of every service in ``store`` and write it under ``out``."""
    page = build_status_page(store, internal=internal, title=title, now=now)
    files = render_site(page)
    write_site(files, out)
    return Written(
        page=page,
        files=len(files),
        bytes=sum(len(text.encode()) for text in files.values()),
        pages=sum(1 for name in files if name.endswith(".html")),
        badges=sum(1 for name in files if name.endswith(".svg")),
    )


__all__ = [
    "StatusPage",
    "StatusPageError",
    "Written",
    "build_status_page",
    "render_site",
    "write_site",
    "write_status_page",
]
