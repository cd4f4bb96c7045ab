"""Where a report links to: the run index, the runs before and after it, the CI run, runbooks.

A report directory holds ``report.html`` (the latest run), ``index.html``, and
under ``runs/`` each kept run as ``<stem>.json`` and ``<stem>.html``. The same
report is written twice — as ``report.html`` and as ``runs/<stem>.html`` — so
its relative links are worked out for each place (:func:`links_for`).

Everything here is pure: the caller lists the files and reads the environment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from sloprobe.model.result import RunInfo

RUNS = "runs"
NEXT_MARKER = "<!-- sloprobe:next-run -->"
"""Where an archived report's link to the next run goes once that run is written."""


def run_stem(run: RunInfo) -> str:
    """``20261124T120000Z-abc123``: how a run's files under ``runs/`` are named, oldest first."""
    return f"{run.started_at:%Y%m%dT%H%M%SZ}-{run.run_id}"


def stem_time(stem: str) -> datetime | None:
    try:
        return datetime.strptime(stem[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def index_anchor(stem: str) -> str:
    """The id of a run's row in index.html."""
    return f"run-{stem}"


def safe_link(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (``javascript:``, ``data:``) stays text."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def ci_link(url: str | None) -> str | None:
    """The run's CI page (:attr:`RunInfo.ci_url`), safe to put in a link; None without one."""
    return safe_link(url) if url else None


@dataclass(frozen=True)
class Neighbour:
    """A run kept before or after this one."""

    stem: str
    has_report: bool

    @property
    def started(self) -> datetime | None:
        return stem_time(self.stem)


def neighbours(
    stem: str, kept: Iterable[tuple[str, bool]]
) -> tuple[Neighbour | None, Neighbour | None]:
    """The kept runs just before and just after ``stem``: ``kept`` is (stem, has report.html)."""
    others = sorted((s, html) for s, html in kept if s != stem)
    before = [Neighbour(s, html) for s, html in others if s < stem]
    after = [Neighbour(s, html) for s, html in others if s > stem]
    return (before[-1] if before else None, after[0] if after else None)


@dataclass(frozen=True)
class ReportLinks:
    """Relative links from one copy of a report; None where there is nothing to link."""

    index: str | None = None  # the run index (at this run's row for an archived copy)
    latest: str | None = None  # report.html, from an archived copy
    this_run: str | None = None  # the archived copy, from report.html: a link that stays
    results: str | None = None
    previous: str | None = None
    previous_at: datetime | None = None
    next: str | None = None
    next_at: datetime | None = None
    next_marker: bool = False  # an archived copy of the newest run: the next run fills it in
    ci: str | None = None


def _href(*parts: str, anchor: str | None = None) -> str:
    path = "/".join(quote(p) for p in parts)
    return f"{path}#{quote(anchor)}" if anchor else path


def links_for(
    stem: str,
    archived: bool,
    previous: Neighbour | None,
    following: Neighbour | None,
    ci: str | None,
) -> ReportLinks:
    """The links of ``report.html`` (``archived`` False) or of ``runs/<stem>.html`` (True)."""
    up = ".." if archived else None
    here = () if archived else (RUNS,)

    def at_root(name: str, anchor: str | None = None) -> str:
        return _href(up, name, anchor=anchor) if up else _href(name, anchor=anchor)

    def run(neighbour: Neighbour | None) -> str | None:
        if neighbour is None:
            return None
        if neighbour.has_report:
            return _href(*here, f"{neighbour.stem}.html")
        return at_root("index.html", index_anchor(neighbour.stem))

    return ReportLinks(
        index=at_root("index.html", index_anchor(stem)) if archived else at_root("index.html"),
        latest=at_root("report.html") if archived else None,
        this_run=None if archived else _href(RUNS, f"{stem}.html"),
        results=_href(f"{stem}.json") if archived else "results.json",
        previous=run(previous),
        previous_at=previous.started if previous else None,
        next=run(following),
        next_at=following.started if following else None,
        next_marker=archived and following is None,
        ci=ci,
    )
