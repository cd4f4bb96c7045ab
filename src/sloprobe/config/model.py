"""The typed, immutable model of slo.yaml (format version 1).

Maps onto OpenSLO's concepts where they exist: an SLO's ``probe``/``measure``
is its indicator, ``threshold`` its objective for a single run. The JSON
Schema printed by ``sloprobe schema`` is generated from these classes.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    Field,
    GetCoreSchemaHandler,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from sloprobe.config.notifications import (
    _TEMPLATE_NAME as _TEMPLATE_NAME,
)

# Notification settings live in notifications.py, re-exported here with the rest of the model.
from sloprobe.config.notifications import BUILT_IN_CHANNELS, CHANNEL_NAME
from sloprobe.config.notifications import EXTRA_TEMPLATE_FILTERS as EXTRA_TEMPLATE_FILTERS
from sloprobe.config.notifications import (
    PAGERDUTY_EVENTS_URL as PAGERDUTY_EVENTS_URL,
)
from sloprobe.config.notifications import (
    WEBHOOK_PRESETS as WEBHOOK_PRESETS,
)
from sloprobe.config.notifications import (
    NoticeKind as NoticeKind,
)
from sloprobe.config.notifications import PagerDutySettings as PagerDutySettings
from sloprobe.config.notifications import SentryMonitor as SentryMonitor
from sloprobe.config.notifications import SentrySettings as SentrySettings
from sloprobe.config.notifications import SlackSettings as SlackSettings
from sloprobe.config.notifications import Traces as Traces
from sloprobe.config.notifications import WebhookSettings as WebhookSettings
from sloprobe.config.notifications import (
    _http_url as _http_url,
)
from sloprobe.config.notifications import (
    _open_and_resolve as _open_and_resolve,
)
from sloprobe.config.notifications import template_problem as template_problem
from sloprobe.fields.base import StrictModel

# The target's spec lives below config and probes (fields/target.py), re-exported here.
from sloprobe.fields.target import Auth as Auth
from sloprobe.fields.target import BasicAuth as BasicAuth
from sloprobe.fields.target import Login as Login
from sloprobe.fields.target import Target as Target
from sloprobe.fields.types import Duration, Expressions, Name, Objective
from sloprobe.model.history import FLAP_LOOKBACK_S
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.thresholds import Threshold, parse_threshold
from sloprobe.model.units import Dimension, Unit
from sloprobe.probes.registry import KIND_NAMES, KINDS


class _ProbeBase(StrictModel):
    """A probe of slo.yaml: its options, and exactly one kind (a key named after it)."""

    description: str | None = None
    deadline: Duration | None = Field(
        None, description="Upper bound on the whole probe, retries included."
    )
    after: list[Name] = Field(
        default_factory=list,
        description="Probes that must finish before this one starts (`after: job`: read the "
        "job statistics once the run's own job has ended). Only probes of this run are waited for.",
    )

    @field_validator("after", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

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


@dataclass(frozen=True)
class _KindSpec:
    """A kind's field of ProbeSpec: validated by the kind's own spec model, which is imported
    and built the first time a probe of that kind is read, so a file of HTTP probes never
    builds the job, Redis or SQL models. pydantic nests the errors of that validation under
    the field (``probes.<name>.job.submit.path``), as for a field typed with the model."""

    name: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(self._validate)

    def _validate(self, value: Any, info: core_schema.ValidationInfo) -> Any:
        spec = KINDS[self.name].spec
        if value is None or isinstance(value, spec):
            return value
        return spec.model_validate(value, context=info.context)


# One optional field per registered kind: the registry, not this file, says which kinds exist.
if TYPE_CHECKING:
    ProbeSpec = _ProbeBase
else:
    ProbeSpec = create_model(
        "ProbeSpec",
        __base__=_ProbeBase,
        __doc__=_ProbeBase.__doc__,
        **{name: (Annotated[Any, _KindSpec(name)], None) for name in KIND_NAMES},
    )


AlertLevel = Literal["page", "ticket"]


class Quorum(StrictModel):
    """How many locations must see a breach before a round counts as bad (docs/at-scale.md)."""

    locations: int = Field(
        ge=1, le=100, description="Distinct locations whose runs breach within `within`."
    )
    within: Duration = Field(
        600.0,
        le=3600.0,
        description="How close together their breaches must be (at most 1h: history keeps "
        "every run's verdict in full for an hour).",
    )


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


class NothingToCount(StrictModel):
    """Another measure of the same probe that says there was nothing to count."""

    measure: Name = Field(description="A series of the same probe, e.g. `total` (jobs counted).")
    threshold: str = Field(description="When it holds, there was nothing: e.g. `value == 0`.")

    @cached_property
    def parsed(self) -> Threshold:
        return parse_threshold(self.threshold)

    @field_validator("threshold")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_threshold(value)
        return value


class SloSpec(StrictModel):
    description: str | None = None
    probe: Name
    measure: Name = Field(
        description="A series of the probe: `latency`, `status`, `ok` or a named value."
    )
    threshold: Expressions
    warn: Expressions = ()
    no_data: Literal["fail", "pass"] = Field("fail", description="Whether no data fails the run.")
    nothing_to_count: NothingToCount | None = Field(
        None,
        description="No data, never a breach, when another measure of the probe says there was "
        "nothing to count: a 0 % success rate of 0 jobs is not a failure. "
        "E.g. `{measure: total, threshold: value == 0}`.",
    )
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
    for_: Duration | None = Field(
        None,
        alias="for",
        description="Breach only once the threshold has failed for this long (as an alert "
        "rule's `for: 2m`): until then a failing run is a warning, `pending`, and history "
        "keeps it as bad so the streak goes on.",
    )
    incident: IncidentPolicy | None = Field(
        None, description="Overrides settings.incident for this SLO."
    )
    quorum: Quorum | None = Field(None, description="Overrides settings.quorum for this SLO.")

    @cached_property
    def thresholds(self) -> tuple[Threshold, ...]:
        return tuple(parse_threshold(t) for t in self.threshold)

    @cached_property
    def warn_thresholds(self) -> tuple[Threshold, ...]:
        return tuple(parse_threshold(t) for t in self.warn)


RETENTION_MARGIN_S = 7 * 86400.0  # past the longest window: late or imported runs, a look back


class HistorySettings(StrictModel):
    """Where runs are remembered. The default is a SQLite file in the report directory.

    ``retention`` left unset is derived from the SLOs (:func:`default_retention`):
    the longest span any of them is judged over, plus a week.
    """

    enabled: bool = True
    url: str | None = Field(
        None,
        description="SQLAlchemy URL; default sqlite:///<report_dir>/history.db (or $SLOPROBE_HISTORY_URL).",
    )
    retention: Duration = Field(
        # A factory, so the JSON Schema shows no fixed default: SloFile derives it.
        default_factory=lambda: 30 * 86400.0 + RETENTION_MARGIN_S,
        description="Runs older than this are pruned. Default: the longest span the SLOs are "
        "judged over (an objective's `window`, `over`, a burn-rate alert's long window, a day "
        "of flap control) plus 7 days; 37d with the default 30d window. docs/history.md.",
    )


class Settings(StrictModel):
    concurrency: int = Field(8, ge=1, le=256, description="YAML probes run at once.")
    probe_deadline: Duration = Field(60.0, description="Default deadline of each probe.")
    percentile_method: PercentileMethod = PercentileMethod.LINEAR
    report_dir: str = "reports"
    history: HistorySettings = Field(default_factory=HistorySettings)
    incident: IncidentPolicy = Field(default_factory=IncidentPolicy)
    quorum: Quorum | None = Field(
        None,
        description="With runs from several locations: a breach counts toward budgets, burn "
        "rates and incidents only once this many locations saw it; default: every run counts.",
    )
    burn_rate_alerts: list[BurnRateAlert] = Field(default_factory=_workbook_alerts)
    min_runs: int = Field(
        1, ge=1, description="Fewer runs than this in a window give no_data for its burn rate."
    )
    silences: list[Silence] = Field(default_factory=list)
    sentry: SentrySettings = Field(default_factory=SentrySettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    pagerduty: PagerDutySettings = Field(default_factory=PagerDutySettings)
    webhooks: dict[str, WebhookSettings] = Field(
        default_factory=dict,
        description="Named webhooks (Teams, Discord, Opsgenie, …); the name is the channel's.",
    )
    traces: Traces = Field(default_factory=Traces)
    routes: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Channels by SLO `owner` (`*`: any owner not listed): sentry, slack, "
        "pagerduty or a webhook's name. Default: every configured channel, for every SLO.",
    )

    @field_validator("webhooks")
    @classmethod
    def _webhook_names(cls, webhooks: dict[str, WebhookSettings]) -> dict[str, WebhookSettings]:
        for name in webhooks:
            if name in BUILT_IN_CHANNELS:
                raise ValueError(f"`{name}` is a built-in channel; give the webhook another name")
            if not CHANNEL_NAME.match(name):
                raise ValueError(
                    f"`{name}` is not a valid webhook name (letters, digits, `_`, `-`, `.`; "
                    "at most 30 characters)"
                )
        return webhooks

    @field_validator("routes")
    @classmethod
    def _known_channels(
        cls, routes: dict[str, list[str]], info: ValidationInfo
    ) -> dict[str, list[str]]:
        if "webhooks" not in info.data:  # the webhooks are wrong already: said there
            return routes
        known = [*BUILT_IN_CHANNELS, *info.data["webhooks"]]
        for owner, channels in routes.items():
            for channel in channels:
                if channel not in known:
                    close = difflib.get_close_matches(channel, known, n=1)
                    hint = (
                        f"did you mean `{close[0]}`?"
                        if close
                        else "channels: " + ", ".join(f"`{c}`" for c in known)
                    )
                    raise ValueError(f"`{owner}` routes to `{channel}`, not a channel; {hint}")
        return routes


class SloFile(StrictModel):
    """The whole slo.yaml."""

    version: Literal[1] = Field(description="Format version; 1 is the only one so far.")
    service: Name
    environment: str = "production"
    target: Target = Field(default_factory=Target)
    settings: Settings = Field(default_factory=Settings)
    probes: dict[Name, ProbeSpec]
    slos: dict[Name, SloSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _retention_from_windows(self) -> SloFile:
        """An unset ``settings.history.retention`` follows the SLOs; a set one wins."""
        history = self.settings.history
        if "retention" not in history.model_fields_set:
            derived = history.model_copy(update={"retention": default_retention(self)})
            # Frozen: the validated object is completed once, before anyone holds it.
            object.__setattr__(
                self, "settings", self.settings.model_copy(update={"history": derived})
            )
        return self

    @model_validator(mode="after")
    def _jobs_wait_no_longer_than_judged(self) -> SloFile:
        """A job probe without its own ``poll.timeout`` waits as long as its SLO's bound on
        ``total`` (plus one poll), not the default: past the bound it has breached already,
        and a stopped worker should fail a deploy gate within the SLO's own time."""
        for name, probe in self.probes.items():
            job = getattr(probe, "job", None)
            if job is None or "timeout" in job.poll.model_fields_set:
                continue
            bound = job_bound(self, name)
            if bound is not None:
                poll = job.poll.model_copy(update={"timeout": bound + job.poll.max_interval})
                body = job.model_copy(update={"poll": poll})
                self.probes[name] = probe.model_copy(update={"job": body})
        return self


@cache
def described_slo_file() -> type[SloFile]:
    """SloFile with each kind's field typed by the kind's spec model: for what reads the models'
    shape instead of validating a file (the JSON Schema of ``sloprobe schema``, suggestions for
    a mistyped key). It imports every kind; validating a file does not need it."""
    fields: dict[str, Any] = {
        name: (kind.spec | None, Field(None, description=kind.summary))
        for name, kind in KINDS.items()
    }
    probe = create_model("ProbeSpec", __base__=_ProbeBase, __doc__=_ProbeBase.__doc__, **fields)
    described: type[SloFile] = create_model(
        "SloFile", __base__=SloFile, __doc__=SloFile.__doc__, probes=(dict[Name, probe], ...)
    )
    return described


def default_retention(spec: SloFile) -> float:
    """How long history must reach back for every judgement of ``spec``, plus a margin.

    The longest of: each objective's window (budgets), each ``over`` (pooled samples),
    each burn-rate alert's long window, and a day (flap control, probe schedules).
    """
    spans = [FLAP_LOOKBACK_S, *(a.long for a in spec.settings.burn_rate_alerts)]
    for slo in spec.slos.values():
        if slo.objective is not None:
            spans.append(slo.window)
        if slo.over is not None:
            spans.append(slo.over)
    return max(spans) + RETENTION_MARGIN_S


def after_problems(spec: SloFile) -> list[tuple[tuple[str, ...], str]]:
    """Each ``after:`` that names no probe, or that closes a circle (which would never start)."""
    problems: list[tuple[tuple[str, ...], str]] = []
    for name, probe in spec.probes.items():
        for other in probe.after:
            if other not in spec.probes:
                close = difflib.get_close_matches(other, list(spec.probes), n=1)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                problems.append((("probes", name, "after"), f"no probe named `{other}`{hint}"))
    for name in spec.probes:
        circle = _circle_from(name, spec)
        if circle is not None:
            problems.append(
                (("probes", name, "after"), f"`after` goes round: {' → '.join(circle)}")
            )
    return problems


def _circle_from(start: str, spec: SloFile) -> list[str] | None:
    """A path of ``after`` links from ``start`` back to itself, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        name, path = stack.pop()
        for other in spec.probes[name].after:
            if other == start:
                return [*path, start]
            if other in spec.probes and other not in visited:
                visited.add(other)
                stack.append((other, [*path, other]))
    return None


def job_bound(spec: SloFile, probe: str) -> float | None:
    """The longest upper bound the SLOs put on a job probe's ``total`` (seconds), if any."""
    bounds: list[float] = []
    for slo in spec.slos.values():
        if slo.probe != probe or slo.measure != "total":
            continue
        for threshold in slo.thresholds:
            target = threshold.targets[0] if threshold.targets else None
            if (
                threshold.op in ("<", "<=")
                and threshold.target_dimension is Dimension.TIME
                and isinstance(target, int | float)
                and not isinstance(target, bool)
            ):
                bounds.append(float(target))
    return max(bounds) if bounds else None
