"""The status page as plain data, read from the shared history (:mod:`.source`).

Every service and environment in history, each SLO with its current state, its
uptime over 24 h, 7 d, 30 d and 90 d, a strip of its last 90 UTC days (the worst
status of each day; a day without a run is ``None``), and the open and recent
incidents.

**Public by default.** A public page carries SLO names, descriptions and states
only: the model built for it has no field that could hold a target URL, a header,
an observed value or excerpt, a reason, an owner or a runbook — they are read
into :class:`SloInternals` and :class:`EnvironmentInternals` only when
``internal`` is asked for, so nothing a renderer does can leak them. All text
that came from history, public or internal, is made inert here (control and
bidirectional characters shown as escapes) and internal text has credentials in
common formats masked again, in case history holds what a probe's redactor
missed; the templates escape it besides.

**Uptime** is the share of good runs among the runs that counted, as an error
budget counts them: a run whose ``no_data`` the SLO allows counts neither way,
a scheduled run that never fired is not a run. Each window says how much of it
history covers when that is less than the window (90 d of a history kept 37 d).

**Locations.** Runs record where they probed from (``$SLOPROBE_LOCATION``, the CI
runner). An SLO's state is the fleet's verdict, quorum applied: each location's latest
verdict of the round (the hour before the newest), as history counted it. A breach that
quorum withheld (bad, not counted: seen from fewer locations than the quorum) makes the
SLO ``warning``, "degraded at" that location (:attr:`SloState.degraded_at`), never a
breach; a good run that did not count because enough other locations saw a breach says
nothing good. Whichever location ran last, the state is the same. When an SLO was
probed from two locations or more in the last day, :attr:`SloState.locations` holds the
latest status seen from each; otherwise it stays empty and pages show nothing for it.

**Location names are private by default**: on GitHub Actions a location is
``self-hosted/<runner name>``. A public page names a location only when it is in
``public_locations``; any other is "location 2 of 3" (numbered by name, per
environment). Internal pages name them all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from sloprobe.history import HistoryStore
from sloprobe.model.history import WindowTotals
from sloprobe.model.result import RunResult
from sloprobe.model.status import Status
from sloprobe.model.timeline import Point
from sloprobe.model.verdict import Verdict
from sloprobe.redact import Redactor, neutralise, redact_url
from sloprobe.status_page import source
from sloprobe.status_page.page import (
    COVERED,
    DAYS,
    RECENT_INCIDENTS,
    STALE_AFTER,
    UNNAMED,
    WINDOWS,
    Day,
    EnvironmentInternals,
    EnvironmentState,
    Incident,
    LocationState,
    ServiceState,
    SloInternals,
    SloState,
    StatusPage,
    Uptime,
    location_order,
    worst,
)

_LATER = timedelta(microseconds=1)  # window_totals counts runs before ``before``: include now


def build_status_page(
    store: HistoryStore,
    *,
    internal: bool = False,
    title: str = "Status",
    now: datetime | None = None,
    public_locations: Collection[str] = (),
) -> StatusPage:
    """Read every service and environment of ``store`` into a :class:`StatusPage`.

    ``public_locations``: the locations a public page may name; it numbers the others.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    public = frozenset(public_locations)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    first_day = today - (DAYS - 1) * timedelta(days=1)
    stored = sorted(
        source.environments(store),
        key=lambda e: (e.service, e.environment != "production", e.environment),
    )
    incidents: dict[tuple[str, str], list[source.StoredIncident]] = {}
    for incident in source.incidents(store, resolved_since=first_day):
        incidents.setdefault((incident.service, incident.environment), []).append(incident)
    services: dict[str, list[EnvironmentState]] = {}
    for env in stored:
        mine = incidents.get((env.service, env.environment), [])
        services.setdefault(env.service, []).append(
            _environment(store, env, mine, now, first_day, internal, public)
        )
    return StatusPage(
        title=_text(title),
        built_at=now,
        internal=internal,
        services=tuple(ServiceState(_text(n), tuple(e)) for n, e in services.items()),
    )


def _environment(
    store: HistoryStore,
    env: source.StoredEnvironment,
    mine: Sequence[source.StoredIncident],
    now: datetime,
    first_day: datetime,
    internal: bool,
    public: frozenset[str] = frozenset(),
) -> EnvironmentState:
    service, environment = env.service, env.environment
    latest = source.latest_run(store, service, environment)
    points = source.timeline(store, service, environment, first_day, DAYS)
    judged = {v.slo: v for v in latest.verdicts} if latest is not None else {}
    slo_names = list(judged) + sorted(set(points) - set(judged))
    windows = [(now - span, now + _LATER) for _, span in WINDOWS]
    totals = source.window_totals(store, service, environment, slo_names, windows)
    open_slos = {i.slo for i in mine if i.resolved_at is None}
    where = source.latest_by_location(store, service, environment, now - LOCATIONS_SINCE)
    names = _location_names({loc for seen in where.values() for loc in seen}, public, internal)
    slos = tuple(
        _with_locations(
            _slo(
                name,
                judged.get(name),
                latest,
                [p for p in points.get(name, ()) if p.at <= now],
                totals[name],
                now,
                first_day,
                name in open_slos,
                internal,
            ),
            where.get(name, {}),
            names,
        )
        for name in slo_names
    )
    resolved = [_incident(i, internal) for i in mine if i.resolved_at is not None]
    return EnvironmentState(
        service=_text(service),
        environment=_text(environment),
        last_run_at=env.last_run_at,
        slos=slos,
        open_incidents=tuple(_incident(i, internal) for i in mine if i.resolved_at is None),
        recent_incidents=tuple(resolved[:RECENT_INCIDENTS]),
        more_incidents=max(0, len(resolved) - RECENT_INCIDENTS),
        stale=now - env.last_run_at > STALE_AFTER,
        internal=_environment_internals(latest) if internal and latest is not None else None,
    )


LOCATIONS_SINCE = timedelta(days=1)  # a location that has not probed for a day is not shown
# A location's latest verdict takes part in the fleet's when it is at most this older than
# the newest: quorum's ``within`` is at most an hour, so an older one is of an earlier round.
ROUND = timedelta(hours=1)


def _location_names(
    locations: Iterable[str | None], public: frozenset[str], internal: bool
) -> dict[str | None, str]:
    """How the page names each location: itself when public (or on an internal page),
    else ``location 2 of 3``, numbered by name so the numbers stay put from page to page."""
    named = sorted(loc for loc in locations if loc is not None)
    names: dict[str | None, str] = {
        loc: _text(loc) if internal or loc in public else f"location {index} of {len(named)}"
        for index, loc in enumerate(named, 1)
    }
    names[None] = UNNAMED
    return names


def _withheld(verdict: source.StoredVerdict, status: Status) -> bool:
    """A breach that quorum did not count: seen from fewer locations than it asks."""
    return status is Status.BREACH and verdict.counts_as_bad and not verdict.counted


def _with_locations(
    slo: SloState,
    seen: Mapping[str | None, source.StoredVerdict],
    names: Mapping[str | None, str],
) -> SloState:
    """The fleet's verdict, quorum applied, and the per-location table when runs come from
    two named locations or more (one tells nothing more)."""
    slo = _fleet(slo, seen, names)
    named = {loc: v for loc, v in seen.items() if loc is not None}
    if len(named) < 2:
        return slo
    states = tuple(
        LocationState(names[location], status, verdict.at, _withheld(verdict, status))
        for location, verdict in sorted(named.items())
        if (status := _status(verdict.status)) is not None
    )
    return dataclasses.replace(slo, locations=states)


def _fleet(
    slo: SloState,
    seen: Mapping[str | None, source.StoredVerdict],
    names: Mapping[str | None, str],
) -> SloState:
    """The SLO's state across locations: each one's latest verdict of the round, as counted.

    A breach quorum withheld is "degraded at" its location (warning); a good run that did
    not count (enough other locations saw a breach) says nothing good; any other verdict
    stands as it is. The worst of these is the fleet's. Without locations, or with one,
    that is the latest run's verdict as before, unless quorum withheld it.
    """
    if not seen:
        return slo
    newest = max(v.at for v in seen.values())
    statuses: list[Status] = []
    degraded: list[str | None] = []
    for location, verdict in seen.items():
        status = _status(verdict.status)
        if status is None or verdict.at < newest - ROUND:
            continue
        if _withheld(verdict, status):
            degraded.append(location)
        elif status is Status.OK and not verdict.counted:
            continue  # a healthy location while enough others see a breach
        else:
            statuses.append(status)
    fleet = worst([*statuses, Status.WARNING if degraded else None])
    if fleet is None:  # only good runs that did not count: what the latest said stands
        return slo
    where = (
        tuple(sorted((names[loc] for loc in degraded), key=location_order))
        if fleet is Status.WARNING
        else ()
    )
    return dataclasses.replace(slo, status=fleet, degraded_at=where)


def _slo(
    name: str,
    verdict: Verdict | None,
    latest: RunResult | None,
    points: list[Point],
    totals: list[WindowTotals],
    now: datetime,
    first_day: datetime,
    incident_open: bool,
    internal: bool,
) -> SloState:
    if verdict is not None and latest is not None:
        status: Status | None = verdict.status
        checked_at: datetime | None = latest.run.started_at
    else:  # not judged by the latest run: the last point history has of it
        status = _status(points[-1].status) if points else None
        checked_at = points[-1].at if points else None
    return SloState(
        name=_text(name),
        description=_secret_free(verdict.description) if verdict and verdict.description else None,
        status=status,
        checked_at=checked_at,
        uptimes=tuple(
            _uptime(label, span, t, now) for (label, span), t in zip(WINDOWS, totals, strict=True)
        ),
        days=_days(points, first_day),
        incident_open=incident_open,
        in_latest_run=verdict is not None,
        internal=_slo_internals(verdict, latest) if internal and verdict and latest else None,
    )


def _uptime(label: str, span: timedelta, totals: WindowTotals, now: datetime) -> Uptime:
    covered = None
    if totals.first_at is not None:
        seconds = (now - totals.first_at).total_seconds()
        if seconds < COVERED * span.total_seconds():
            covered = max(0.0, seconds)
    return Uptime(label, span.total_seconds(), totals.runs, totals.bad_runs, covered)


def _days(points: list[Point], first_day: datetime) -> tuple[Day, ...]:
    """The worst status of each UTC day from ``first_day`` on (a few hundred thousand points
    for a page of many services: compared as severities, not as Status objects)."""
    worst_of: dict[date, tuple[int, Status]] = {}
    for point in points:
        found = _RANKED.get(point.status)
        if found is None:
            continue
        at = point.at if point.at.tzinfo is UTC else point.at.astimezone(UTC)
        day = at.date()
        current = worst_of.get(day)
        if current is None or found[0] > current[0]:
            worst_of[day] = found
    start = first_day.date()
    return tuple(
        Day(d, worst_of[d][1] if d in worst_of else None)
        for d in (start + timedelta(days=i) for i in range(DAYS))
    )


_RANKED = {s.value: (s.severity, s) for s in Status}


def _status(value: str) -> Status | None:
    try:
        return Status(value)
    except ValueError:
        return None


def _incident(row: source.StoredIncident, internal: bool) -> Incident:
    return Incident(
        slo=_text(row.slo),
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        cause=_secret_free(row.cause) if internal and row.cause else None,
    )


def _environment_internals(latest: RunResult) -> EnvironmentInternals:
    run = latest.run
    return EnvironmentInternals(
        base_url=_text(redact_url(run.base_url)) if run.base_url else None,
        release=_secret_free(run.release) if run.release else None,
        run_id=_text(run.run_id),
        trigger=_text(run.trigger),
    )


def _slo_internals(verdict: Verdict, latest: RunResult) -> SloInternals:
    measurement = latest.measurements.get(verdict.probe)
    troubled = verdict.status is not Status.OK and measurement is not None
    failure = measurement.failure if troubled and measurement is not None else None
    excerpt = measurement.excerpt if troubled and measurement is not None else None
    return SloInternals(
        observed=_secret_free(verdict.observed),
        threshold=_secret_free(verdict.threshold),
        reason=_secret_free(verdict.reason),
        owner=_secret_free(verdict.owner) if verdict.owner else None,
        runbook=_secret_free(verdict.runbook) if verdict.runbook else None,
        failure=_secret_free(failure) if failure else None,
        excerpt=_secret_free(excerpt) if excerpt else None,
    )


_REDACT = Redactor()  # no configured secret here: credential formats and URL userinfo


def _text(text: str) -> str:
    """History's text made inert: controls and bidirectional overrides shown as escapes."""
    return neutralise(text)


def _secret_free(text: str) -> str:
    """Free text from history (descriptions, reasons, excerpts): inert, credentials masked."""
    return neutralise(_REDACT(text))
