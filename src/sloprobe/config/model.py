"""The typed, immutable model of slo.yaml (format version 1).

Maps onto OpenSLO's concepts where they exist: an SLO's ``probe``/``measure``
is its indicator, ``threshold`` its objective for a single run. The JSON
Schema printed by ``sloprobe schema`` is generated from these classes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, create_model, model_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration, Expressions, HttpMethod, Name, Objective
from sloprobe.judge.thresholds import Threshold, parse_threshold
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.units import Unit
from sloprobe.probes.registry import KINDS


class BasicAuth(StrictModel):
    username: str
    password: SecretStr


class Auth(StrictModel):
    bearer: SecretStr | None = Field(None, description="Sent as `Authorization: Bearer …`.")
    basic: BasicAuth | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Auth:
        if (self.bearer is None) == (self.basic is None):
            raise ValueError("set exactly one of `bearer` or `basic`")
        return self


Method = HttpMethod


class Login(StrictModel):
    """A request whose answer yields a token used by every probe for the run (and redacted everywhere)."""

    method: Method = "POST"
    path: str
    json_body: Any = Field(None, alias="json")
    form: dict[str, str] | None = None
    token: str = Field("access_token", description="JSON path of the token in the answer.")
    header: str = "Authorization"
    scheme: str | None = Field(
        "Bearer", description="Prefix of the header value; null for the bare token."
    )


class Target(StrictModel):
    """The service under test. ``base_url`` may come from --base-url or PROBE_BASE_URL instead."""

    base_url: str | None = None
    timeout: Duration = 10.0
    headers: dict[str, str] = Field(default_factory=dict)
    auth: Auth | None = None
    verify_tls: bool = True
    login: Login | None = Field(
        None, description="A request whose answer yields a token for the run."
    )
    synthetic_header: str | None = Field(
        "X-Synthetic",
        description="Header `<name>: true` sent with every probe request; null to omit.",
    )


class _ProbeBase(StrictModel):
    """A probe of slo.yaml: its options, and exactly one kind (a key named after it)."""

    description: str | None = None
    deadline: Duration | None = Field(
        None, description="Upper bound on the whole probe, retries included."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> _ProbeBase:
        kinds = [name for name in KINDS if getattr(self, name, None) is not None]
        if len(kinds) != 1:
            listed = ", ".join(f"`{k}`" for k in KINDS)
            raise ValueError(f"a probe needs exactly one kind: one of {listed}")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in KINDS if getattr(self, name, None) is not None)

    @property
    def body(self) -> Any:
        """The kind's own spec (an ``HttpProbe``, a ``JobProbe``, …)."""
        return getattr(self, self.kind)

    def series_units(self) -> dict[str, Unit]:
        """The series this probe produces and their units (for config-time checks)."""
        return KINDS[self.kind].series_units(self.body)


# One optional field per registered kind: the registry, not this file, says which kinds exist.
if TYPE_CHECKING:
    ProbeSpec = _ProbeBase
else:
    ProbeSpec = create_model(
        "ProbeSpec",
        __base__=_ProbeBase,
        __doc__=_ProbeBase.__doc__,
        **{
            name: (kind.spec | None, Field(None, description=kind.summary))
            for name, kind in KINDS.items()
        },
    )


AlertLevel = Literal["page", "ticket"]


class IncidentPolicy(StrictModel):
    """Flap control: how many bad runs open an incident and how many good runs resolve it."""

    open_after: int = Field(
        3, ge=1, le=1000, description="Consecutive bad runs that open an incident."
    )
    resolve_after: int = Field(
        2, ge=1, le=1000, description="Consecutive good runs that resolve it."
    )
    burn_min_bad_runs: int = Field(
        2,
        ge=1,
        description="Bad runs a burn-rate window must hold before its alert opens an incident.",
    )
    open_on_burn: list[AlertLevel] = Field(
        default_factory=lambda: list[AlertLevel](["page"]),
        description="Burn-rate alert levels that open an incident at once.",
    )


class BurnRateAlert(StrictModel):
    """One multi-window burn-rate condition (SRE workbook): both windows must burn at `factor`."""

    level: AlertLevel
    long: Duration
    short: Duration
    factor: float = Field(gt=0)


def _workbook_alerts() -> list[BurnRateAlert]:
    return [
        BurnRateAlert(level="page", long=3600, short=300, factor=14.4),
        BurnRateAlert(level="page", long=6 * 3600, short=1800, factor=6),
        BurnRateAlert(level="ticket", long=86400, short=7200, factor=3),
        BurnRateAlert(level="ticket", long=3 * 86400, short=6 * 3600, factor=1),
    ]


class Silence(StrictModel):
    """A maintenance window or silence: runs are kept in history but open no incident."""

    slos: list[Name] = Field(default_factory=list, description="SLOs silenced; empty means all.")
    starts: datetime | None = None
    until: datetime
    reason: str | None = None

    def covers(self, slo: str, now: datetime) -> bool:
        starts = self.starts or datetime.min.replace(tzinfo=UTC)
        return (not self.slos or slo in self.slos) and _aware(starts) <= now < _aware(self.until)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SloSpec(StrictModel):
    description: str | None = None
    probe: Name
    measure: Name = Field(
        description="A series of the probe: `latency`, `status`, `ok` or a named value."
    )
    threshold: Expressions
    warn: Expressions = ()
    no_data: Literal["fail", "pass"] = Field("fail", description="Whether no data fails the run.")
    percentile_method: PercentileMethod | None = None
    marks: list[Name] = Field(default_factory=list, description="pytest marks, for `-m`.")
    owner: str | None = None
    runbook: str | None = None
    objective: Objective | None = Field(
        None, description="Share of good runs (or events) over `window`, e.g. 99.5%."
    )
    window: Duration = Field(
        30 * 86400.0, description="Rolling window of the objective (OpenSLO timeWindow)."
    )
    budgeting: Literal["timeslices", "occurrences"] = Field(
        "timeslices",
        description="timeslices: each run is good or bad; occurrences: each sample is an event.",
    )
    over: Duration | None = Field(
        None,
        description="Judge the threshold over samples pooled from this much history, e.g. 24h.",
    )
    incident: IncidentPolicy | None = Field(
        None, description="Overrides settings.incident for this SLO."
    )

    @cached_property
    def thresholds(self) -> tuple[Threshold, ...]:
        return tuple(parse_threshold(t) for t in self.threshold)

    @cached_property
    def warn_thresholds(self) -> tuple[Threshold, ...]:
        return tuple(parse_threshold(t) for t in self.warn)


class HistorySettings(StrictModel):
    """Where runs are remembered. The default is a SQLite file in the report directory."""

    enabled: bool = True
    url: str | None = Field(
        None,
        description="SQLAlchemy URL; default sqlite:///<report_dir>/history.db (or $SLOPROBE_HISTORY_URL).",
    )
    retention: Duration = Field(400 * 86400.0, description="Runs older than this are pruned.")


class SentryMonitor(StrictModel):
    """Sentry Crons: a check-in per run, so a schedule that stops firing raises an issue."""

    slug: str | None = Field(
        None, description="Monitor slug; default `<service>-<environment>-sloprobe`."
    )
    schedule: str = Field("*/5 * * * *", description="Crontab of the scheduled run.")
    checkin_margin: int = Field(5, ge=1, description="Minutes a check-in may be late.")
    max_runtime: int = Field(15, ge=1, description="Minutes a run may take.")
    timezone: str = "UTC"


class SentrySettings(StrictModel):
    """Breach events through sentry-sdk: one per incident, not one per run."""

    dsn: SecretStr | None = Field(None, description="Default: $SENTRY_DSN; no DSN, no events.")
    level: Literal["fatal", "error", "warning"] = "error"
    reminder_every: Duration | None = Field(
        None, description="Remind while an incident lasts; default off."
    )
    recovery: bool = Field(False, description="Send an info notice when an incident resolves.")
    checkins: bool = True
    incidents: Literal["events", "monitors"] = Field(
        "events",
        description="events: one event per incident (closed by hand in Sentry); monitors: a "
        "Crons monitor per SLO whose check-ins follow its incident, so Sentry opens the issue "
        "when the incident opens and resolves it when the incident resolves (one monitor per "
        "SLO: Sentry bills Crons monitors beyond the first).",
    )
    monitor: SentryMonitor = Field(default_factory=SentryMonitor)
    flush_timeout: Duration = Field(
        5.0, description="Upper bound on waiting for Sentry at the end of a run."
    )


class SlackSettings(StrictModel):
    """The same incident transitions, to a Slack incoming webhook."""

    webhook: SecretStr | None = Field(
        None, description="Default: $SLACK_WEBHOOK_URL; none, no messages."
    )
    recovery: bool = True
    timeout: Duration = 5.0


class Settings(StrictModel):
    concurrency: int = Field(8, ge=1, le=256, description="YAML probes run at once.")
    probe_deadline: Duration = Field(60.0, description="Default deadline of each probe.")
    percentile_method: PercentileMethod = PercentileMethod.LINEAR
    report_dir: str = "reports"
    history: HistorySettings = Field(default_factory=HistorySettings)
    incident: IncidentPolicy = Field(default_factory=IncidentPolicy)
    burn_rate_alerts: list[BurnRateAlert] = Field(default_factory=_workbook_alerts)
    min_runs: int = Field(
        1, ge=1, description="Fewer runs than this in a window give no_data for its burn rate."
    )
    silences: list[Silence] = Field(default_factory=list)
    sentry: SentrySettings = Field(default_factory=SentrySettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)


class SloFile(StrictModel):
    """The whole slo.yaml."""

    version: Literal[1] = Field(description="Format version; 1 is the only one so far.")
    service: Name
    environment: str = "production"
    target: Target = Field(default_factory=Target)
    settings: Settings = Field(default_factory=Settings)
    probes: dict[Name, ProbeSpec]
    slos: dict[Name, SloSpec] = Field(min_length=1)
