"""The status page as files: ``index.html``, a page per service, badges; and writing them to a directory.

Layout of the directory (relative links only, so it works wherever it is
served from — a GitHub Pages project site lives under ``/<repo>/``)::

    index.html                                   every service and environment
    services/<service>.html                      its environments, their SLOs and incidents
    badges/<service>/<environment>.svg|.json     the environment: up, degraded, down
    badges/<service>/<environment>/<slo>.svg|.json   the SLO: its 30-day uptime

Names become file names as they are when they are made of letters, digits,
``-``, ``_`` and ``.`` (as sloprobe's service and SLO names are); any other name
gets its unsafe characters replaced and a short hash of the name appended, so
two names never share a file and no file is hidden (a leading dot).

Pages are rendered by Jinja2 with autoescape on; nothing is marked safe but the
markup this module builds itself. No page has a script, a handler or anything to
load: the Content-Security-Policy is ``default-src 'none'``.

:func:`write_site` writes into a directory that is empty, new, or holds an
earlier status page (its ``index.html`` says so): each file atomically, then it
removes the files of the earlier page that this one no longer has, so a
published copy never keeps a service's page after the service left history.
Hidden files (``.nojekyll``, a ``.git``) are left alone.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from sloprobe.errors import InputError
from sloprobe.files import write_atomically
from sloprobe.model.status import Status
from sloprobe.model.units import format_duration, format_percent, plural
from sloprobe.status_page.badges import Badge, degraded_text, environment_badge, slo_badge
from sloprobe.status_page.page import (
    BADGE_WINDOW,
    Day,
    EnvironmentState,
    ServiceState,
    SloState,
    StatusPage,
    Uptime,
)
from sloprobe.templating import bytecode_cache

GENERATOR = "sloprobe status-page"
MARKER = f'<meta name="generator" content="{GENERATOR}">'
"""In every page: how :func:`write_site` knows a directory holds a status page it may replace."""

_environment = Environment(
    loader=PackageLoader("sloprobe.status_page", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    bytecode_cache=bytecode_cache(),
)


class StatusPageError(InputError):
    """The status page cannot be written where it was asked to be."""


def slug(name: str) -> str:
    """A file name for ``name``: itself when it is safe, else made safe plus a hash of it."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "-", name)[:80].lstrip(".")
    if safe == name and safe:
        return safe
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{safe}-{digest}" if safe else digest


def service_file(service: str) -> str:
    return f"services/{slug(service)}.html"


def badge_file(service: str, environment: str, slo: str | None = None) -> str:
    """The badge's path without its suffix (``.svg`` and ``.json`` share it)."""
    base = f"badges/{slug(service)}/{slug(environment)}"
    return f"{base}/{slug(slo)}" if slo is not None else base


def env_anchor(env: EnvironmentState) -> str:
    return f"env-{slug(env.environment)}"


def slo_anchor(env: EnvironmentState, slo: str) -> str:
    return f"slo-{slug(env.environment)}-{slug(slo)}"


@dataclass(frozen=True)
class Segment:
    """Days in a row with one status: the index's strip draws these, not each day."""

    start: int
    length: int
    status: Status | None
    first: Day
    last: Day


def render_site(page: StatusPage) -> dict[str, str]:
    """Every file of the status page by its path in the directory, as text."""
    files: dict[str, str] = {"index.html": _render("index.html.j2", page, root="")}
    for service in page.services:
        files[service_file(service.name)] = _render(
            "service.html.j2", page, root="../", service=service
        )
        for env in service.environments:
            for path, badge in _badges(service, env):
                files[f"{path}.svg"] = badge.svg()
                files[f"{path}.json"] = badge.endpoint_json()
    return files


def _badges(service: ServiceState, env: EnvironmentState) -> Iterator[tuple[str, Badge]]:
    yield badge_file(service.name, env.environment), environment_badge(env, env_label(service, env))
    for slo in env.slos:
        yield badge_file(service.name, env.environment, slo.name), slo_badge(slo, env.stale)


def env_label(service: ServiceState, env: EnvironmentState) -> str:
    """A service's badge says its name; with several environments, which one too."""
    if len(service.environments) == 1:
        return service.name
    return f"{service.name} {env.environment}"


def _render(template: str, page: StatusPage, root: str, **more: object) -> str:
    return _environment.get_template(template).render(
        page=page,
        root=root,
        generator=GENERATOR,
        headline=headline(page),
        open_incidents=[(e, i) for e in page.environments for i in e.open_incidents],
        status_class=status_class,
        status_label=status_label,
        uptime_text=uptime_text,
        lowest_uptime=lowest_uptime,
        time=time_tag,
        day_label=day_label,
        days_summary=days_summary,
        segments=segments,
        duration=format_duration,
        plural=plural,
        link=safe_link,
        service_file=service_file,
        slug=slug,
        badge_file=badge_file,
        env_anchor=env_anchor,
        slo_anchor=slo_anchor,
        env_label=env_label,
        degraded=degraded_text,
        badge_window=BADGE_WINDOW,
        OK=Status.OK,
        **more,
    )


def status_class(status: Status | None) -> str:
    """The CSS class of a status: its value, ``none`` when nothing ran."""
    return status.value if status is not None else "none"


def status_label(status: Status | None) -> str:
    return status.label if status is not None else "no runs"


def headline(page: StatusPage) -> str:
    """``All 24 SLOs met``, ``1 breached, 1 degraded at one location, 2 warning, 1 no data;
    19 of 24 SLOs met``."""
    slos = [s for e in page.environments for s in e.slos]
    if not slos:
        return "No runs in the history yet"
    met = sum(1 for s in slos if s.status is Status.OK)
    stale = sum(1 for e in page.environments if e.stale)
    stale_text = f"; {plural(stale, 'environment')} with no run for a day" if stale else ""
    if met == len(slos):
        return f"All {plural(len(slos), 'SLO')} met{stale_text}"
    parts = []
    degraded = [s for s in slos if s.degraded_at]
    for status, word in (
        (Status.BREACH, "breached"),
        (Status.WARNING, "warning"),
        (Status.NO_DATA, "no data"),
        (None, "no runs"),
    ):
        if status is Status.WARNING and degraded:
            single = all(len(s.degraded_at) == 1 for s in degraded)
            where = "one location" if single else "some locations"
            each = " each" if single and len(degraded) > 1 else ""
            parts.append(f"{len(degraded)} degraded at {where}{each}")
        count = sum(1 for s in slos if s.status is status and not s.degraded_at)
        if count:
            parts.append(f"{count} {word}")
    return f"{', '.join(parts)}; {met} of {plural(len(slos), 'SLO')} met{stale_text}"


def uptime_text(uptime: Uptime | None) -> str:
    """``99.9%``, ``>99.9%``, ``100%``; ``no runs`` for a window without a counted run."""
    if uptime is None or uptime.share is None:
        return "no runs"
    return format_percent(uptime.share)


def lowest_uptime(env: EnvironmentState, label: str) -> tuple[SloState, Uptime] | None:
    """The SLO with the lowest uptime over ``label``'s window (the index's one number)."""
    found = [
        (slo, u) for slo in env.slos if (u := slo.uptime(label)) is not None and u.share is not None
    ]
    return min(found, key=lambda f: f[1].share or 0.0) if found else None


def time_tag(at: datetime | None) -> Markup:
    """``<time datetime="…Z">2026-11-24 12:00 UTC</time>``."""
    if at is None:
        return Markup("never")
    at = at.astimezone(UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        at.strftime("%Y-%m-%dT%H:%M:%SZ"), at.strftime("%Y-%m-%d %H:%M UTC")
    )


def day_label(day: Day) -> str:
    return f"{day.day.isoformat()}: {status_label(day.status)}"


def days_summary(days: tuple[Day, ...]) -> str:
    """``83 ok, 2 warning, 1 breach, 4 no runs``: the strip in words, worst last."""
    order = (Status.OK, Status.NO_DATA, Status.WARNING, Status.BREACH, None)
    counts = [(s, sum(1 for d in days if d.status is s)) for s in order]
    return ", ".join(f"{count} {status_label(s)}" for s, count in counts if count)


def segments(days: tuple[Day, ...]) -> list[Segment]:
    """Runs of days with the same status, oldest first."""
    found: list[Segment] = []
    for index, day in enumerate(days):
        if found and found[-1].status is day.status:
            last = found[-1]
            found[-1] = Segment(last.start, last.length + 1, last.status, last.first, day)
        else:
            found.append(Segment(index, 1, day.status, day, day))
    return found


def safe_link(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (``javascript:``) stays text."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


# --- writing ---


def write_site(files: dict[str, str], out: Path) -> list[Path]:
    """Write ``files`` under ``out`` and drop the earlier page's files it no longer has.

    Raises :class:`StatusPageError` when ``out`` is a file, or a directory that holds
    other things than an earlier status page.
    """
    if out.exists() and not out.is_dir():
        raise StatusPageError(f"{out} is a file, not a directory")
    earlier = _earlier_files(out)
    written = []
    for relative, text in sorted(files.items()):
        written.append(write_atomically(out / relative, text))
    keep = {out / relative for relative in files}
    for path in earlier:
        if path not in keep:
            path.unlink(missing_ok=True)
    if out.is_dir():
        _drop_empty_directories(out)
    return written


def _earlier_files(out: Path) -> list[Path]:
    """The files of the status page already in ``out`` (none when it is new or empty)."""
    if not out.is_dir():
        return []
    found = list(_visible_files(out))
    if not found:
        return []
    index = out / "index.html"
    try:
        ours = index.is_file() and MARKER in index.read_text(encoding="utf-8", errors="replace")
    except OSError:
        ours = False
    if not ours:
        raise StatusPageError(
            f"{out} is not empty and holds no status page; choose a new or empty directory"
        )
    return found


def _visible_files(root: Path) -> Iterator[Path]:
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
        for name in names:
            if not name.startswith("."):
                yield Path(directory) / name


def _drop_empty_directories(directory: Path, top: bool = True) -> None:
    """Remove the directories under ``directory`` that dropping old files left empty."""
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink() and not child.name.startswith("."):
            _drop_empty_directories(child, top=False)
    if not top and not any(directory.iterdir()):
        directory.rmdir()
