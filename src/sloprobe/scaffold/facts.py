"""What a suite needs from its environment, read from its slo.yaml: extras to install, the path that
says the deploy is ready. ``sloprobe action-facts`` prints them for the GitHub action; ``sloprobe
init`` writes them into the scaffold.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from sloprobe.probes.registry import KINDS

DEFAULT_READY_PATH = "/health"
# The extra that brings a database driver; a SQL URL of another database needs none of it.
POSTGRES_EXTRA = "postgres"


@dataclass(frozen=True)
class SuiteFacts:
    extras: tuple[str, ...]  # sorted pip extras of sloprobe
    reasons: tuple[str, ...]  # one line per extra: which probe or setting needs it
    notes: tuple[str, ...]  # drivers no extra brings, guesses
    ready_path: str
    ready_from: str  # "probe `health`", or why the default was taken
    service: str
    environment: str


def suite_facts(data: Mapping[str, Any], environ: Mapping[str, str]) -> SuiteFacts:
    """Facts from slo.yaml as read (variables interpolated, unset ones empty), before validation:
    an unset ``${REDIS_URL}`` must not hide which extras the suite needs."""
    needed: dict[str, list[str]] = {}
    notes: list[str] = []
    for name, kind, body in _probes(data):
        extra = KINDS[kind].extra
        if extra is None:
            continue
        if extra == POSTGRES_EXTRA:
            scheme = _scheme(body.get("url"))
            if scheme.startswith("sqlite"):
                continue  # SQLAlchemy brings SQLite
            if scheme and not scheme.startswith("postgres"):
                notes.append(
                    f"probe `{name}`: no sloprobe extra brings the driver for `{scheme}`; "
                    "install it next to sloprobe"
                )
                continue
            if not scheme:
                notes.append(f"probe `{name}`: its URL is not set here; assuming PostgreSQL")
        needed.setdefault(extra, []).append(f"probe `{name}` ({kind})")
    settings = _mapping(data.get("settings"))
    dsn = _mapping(settings.get("sentry")).get("dsn")
    if dsn or environ.get("SENTRY_DSN"):
        needed.setdefault("sentry", []).append("settings.sentry.dsn" if dsn else "$SENTRY_DSN")
    history = _mapping(settings.get("history"))
    history_url = environ.get("SLOPROBE_HISTORY_URL") or history.get("url")
    if history.get("enabled", True) is not False and _scheme(history_url).startswith("postgres"):
        needed.setdefault(POSTGRES_EXTRA, []).append("the history database")
    path, source = ready_path(data)
    return SuiteFacts(
        extras=tuple(sorted(needed)),
        reasons=tuple(f"{extra}: {', '.join(needed[extra])}" for extra in sorted(needed)),
        notes=tuple(notes),
        ready_path=path,
        ready_from=source,
        service=_one_line(data.get("service")),
        environment=_one_line(data.get("environment")) or "production",
    )


def ready_path(data: Mapping[str, Any]) -> tuple[str, str]:
    """The first path on the target that a GET probe reads (an http probe, else a scrape)."""
    for name, kind, body in _probes(data):
        path = body.get("path")
        method = str(body.get("method", "GET")).upper()
        if kind == "http" and method == "GET" and isinstance(path, str) and path.startswith("/"):
            query = {
                str(k): str(v).lower() if isinstance(v, bool) else v
                for k, v in _mapping(body.get("query")).items()
            }
            return (f"{path}?{urlencode(query)}" if query else path), f"probe `{name}`"
    for name, kind, body in _probes(data):
        url = body.get("url", "/metrics")
        if kind == "prometheus" and isinstance(url, str) and url.startswith("/"):
            return url, f"probe `{name}`"
    return DEFAULT_READY_PATH, "the default: no GET probe on the target in the SLO file"


def _probes(data: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(name, kind, the kind's options) of each probe, in file order."""
    for name, probe in _mapping(data.get("probes")).items():
        for kind in _mapping(probe):
            if kind in KINDS:
                yield str(name), kind, _mapping(probe[kind])
                break


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _scheme(url: Any) -> str:
    return urlsplit(url).scheme.lower() if isinstance(url, str) and "://" in url else ""


def _one_line(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""
