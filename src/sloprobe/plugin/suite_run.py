"""One pytest session's SLO run: the loaded slo.yaml, its measurements and verdicts.

The plugin's hooks and items share this object through ``config.stash``. It
exists only when an SLO file was collected, which is what keeps the plugin
inert in every other pytest run.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sloprobe import __version__
from sloprobe.config import LoadedSloFile
from sloprobe.config.model import ProbeSpec, SloSpec
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.judge.over_time import judge_run, outcome_function, pooled_verdict
from sloprobe.model.measurement import Measurement, Sample
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Status
from sloprobe.model.units import format_duration
from sloprobe.model.verdict import Verdict
from sloprobe.plugin.names import BASE_URL_ENV, NO_TARGET
from sloprobe.probes.context import ProbeContext, make_context
from sloprobe.probes.job.spec import JobProbe
from sloprobe.probes.registry import KINDS
from sloprobe.probes.runner import run_probes
from sloprobe.redact import Redactor, redact_url

if TYPE_CHECKING:
    from sloprobe.history import HistoryStore
    from sloprobe.notify.sentry import SentryNotifier

HISTORY_URL_ENV = "SLOPROBE_HISTORY_URL"


@dataclass
class SuiteRun:
    """State of the SLO run inside one pytest session."""

    loaded: LoadedSloFile
    base_url_option: str | None = None
    report_dir: Path = Path("reports")
    trigger: str = "local"
    release: str | None = None
    needed_yaml_probes: set[str] = field(default_factory=set)
    measurements: dict[str, Measurement] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    measured: bool = False
    history_option: str | None = None
    _context: ProbeContext | None = None
    _store: HistoryStore | None = None
    _store_failed: bool = False
    _sentry: SentryNotifier | None = None
    _sentry_closing: SentryNotifier | None = None
    _checkin_id: str | None = None

    @property
    def base_url(self) -> str | None:
        return (
            self.base_url_option
            or os.environ.get(BASE_URL_ENV)
            or self.loaded.spec.target.base_url
            or None
        )

    def no_target_message(self) -> str:
        return NO_TARGET.format(env=BASE_URL_ENV, file=self.loaded.path.name)

    @property
    def context(self) -> ProbeContext:
        """The probe context; only asked for once a target is known to be set."""
        if self._context is None:
            # Probes that do not speak to the target (Redis, PromQL) run without a base URL.
            self._context = make_context(self.base_url or "", self.loaded.spec.target)
        return self._context

    def needs_target(self, probes: set[str]) -> bool:
        """Whether any of these probes talks to the target's base URL."""
        return any(KINDS[self.loaded.spec.probes[p].kind].talks_to_target for p in probes)

    def measure_once(self) -> None:
        """Run every needed YAML probe, once, before the first SLO is judged."""
        if self.measured:
            return
        self.measured = True
        self.start_notifiers()
        spec = self.loaded.spec
        probes = {n: spec.probes[n] for n in sorted(self.needed_yaml_probes)}
        outcome = run_probes(
            probes,
            self.context,
            spec.settings.concurrency,
            spec.settings.probe_deadline,
            deferred=self._not_due(probes),
        )
        self.measurements.update(outcome.measurements)
        self.warnings.extend(outcome.warnings)

    def _not_due(self, probes: dict[str, ProbeSpec]) -> dict[str, str]:
        """Job probes that ran too recently (``every``) or too often today (``max_per_day``)."""
        limited = {
            n: p.body
            for n, p in probes.items()
            if isinstance(p.body, JobProbe) and (p.body.every or p.body.max_per_day)
        }
        store = self._history() if limited else None
        if store is None:
            return {}
        from sloprobe.history import HistoryError

        spec, now, deferred = self.loaded.spec, self.started_at, {}
        try:
            with store.view(spec.service, spec.environment) as view:
                for name, job in limited.items():
                    assert job is not None
                    runs = view.probe_runs(name, now - timedelta(days=1))
                    if job.every and runs and (now - runs[-1]).total_seconds() < job.every:
                        ago = format_duration((now - runs[-1]).total_seconds())
                        deferred[name] = f"ran {ago} ago; runs every {format_duration(job.every)}"
                    elif job.max_per_day and len(runs) >= job.max_per_day:
                        deferred[name] = (
                            f"ran {len(runs)} times in 24 h; max_per_day is {job.max_per_day}"
                        )
        except HistoryError as exc:
            self.warnings.append(f"history not read for job schedules: {exc}")
        return deferred

    def judge(self, slo: str) -> Verdict:
        """This run's verdict of one SLO; a bug while judging breaches that SLO alone, never the run."""
        try:
            verdict = self._judge(slo)
        except Exception as exc:
            verdict = judging_failed(slo, self.loaded.spec.slos[slo], exc, self.context.redactor)
            self.warnings.append(
                f"internal error while judging `{slo}`: this is a bug in sloprobe; please report it"
            )
        self.verdicts[slo] = verdict
        return verdict

    def _judge(self, slo: str) -> Verdict:
        spec = self.loaded.spec
        slo_spec = spec.slos[slo]
        measurement = self.measurements.get(slo_spec.probe)
        if slo_spec.over is not None:
            verdict = pooled_verdict(
                slo, slo_spec, measurement, self._pooled(slo, slo_spec.over), spec.settings
            )
        else:
            verdict = evaluate_slo(slo, slo_spec, measurement, spec.settings.percentile_method)
        return verdict

    # -- history -----------------------------------------------------------------------

    @property
    def history_url(self) -> str | None:
        """--history, $SLOPROBE_HISTORY_URL, settings.history.url, else a SQLite file in the report dir."""
        settings = self.loaded.spec.settings.history
        if self.history_option == "off" or not settings.enabled:
            return None
        chosen = self.history_option or os.environ.get(HISTORY_URL_ENV) or settings.url
        if chosen and "://" not in chosen:
            chosen = f"sqlite:///{Path(chosen).resolve()}"
        return chosen or f"sqlite:///{(self.report_dir / 'history.db').resolve()}"

    def _history(self) -> HistoryStore | None:
        if self._store is None and not self._store_failed and self.history_url:
            from sloprobe.history import HistoryError, HistoryStore

            try:
                self._store = HistoryStore.open(self.history_url)
            except HistoryError as exc:
                self._store_failed = True
                self.warnings.append(f"history not used: {exc}")
        return self._store

    def _pooled(self, slo: str, over_s: float) -> list[Sample]:
        store = self._history()
        if store is None:
            return []
        from sloprobe.history import HistoryError

        spec = self.loaded.spec
        try:
            with store.view(spec.service, spec.environment) as view:
                return view.samples(slo, self.started_at - timedelta(seconds=over_s))
        except HistoryError as exc:
            self.warnings.append(f"history not read for {slo}: {exc}")
            return []

    def record(self, result: RunResult) -> RunResult:
        """Judge the run over time, store it, and notify; a failure of either is a warning, never a verdict."""
        store = self._history()
        if store is None:
            self._finish_checkin()
            return dataclasses.replace(result, warnings=tuple(self.warnings))
        from sloprobe.history import HistoryError
        from sloprobe.notify.deliver import Channels, channel_policies, deliver
        from sloprobe.notify.plan import plan_notices

        spec = self.loaded.spec
        slack = self.slack_webhook
        policies = channel_policies(spec.settings, self._sentry is not None, slack is not None)
        judged = result
        try:
            judged = store.record_with_notices(
                result,
                lambda view: judge_run(result, spec, view),
                outcome_function(result, spec),
                lambda run, view: plan_notices(run, policies, view.last_sent) if policies else [],
            )
            store.prune(result.run.started_at - timedelta(seconds=spec.settings.history.retention))
            window = max([s.window for s in spec.slos.values() if s.objective] + [86400.0])
            judged = dataclasses.replace(
                judged,
                timeline=store.timeline(
                    spec.service,
                    spec.environment,
                    judged.run.started_at - timedelta(seconds=window),
                ),
            )
            if policies:
                channels = Channels(
                    sentry=self._sentry,
                    slack_webhook=slack,
                    sentry_level=spec.settings.sentry.level,
                    slack_timeout=spec.settings.slack.timeout,
                    policies=policies,
                    before_close=self._checkin_ok,
                )
                self._sentry_closing, self._sentry = self._sentry, None  # deliver() closes it
                self.warnings.extend(deliver(judged, store, channels, report_url()))
                self._sentry_closing = None
        except HistoryError as exc:
            self.warnings.append(f"history not written: {exc}")
        finally:
            self._finish_checkin()
            store.dispose()
        return dataclasses.replace(judged, warnings=tuple(self.warnings))

    # -- Sentry and Slack ---------------------------------------------------------------

    @property
    def sentry_dsn(self) -> str | None:
        configured = self.loaded.spec.settings.sentry.dsn
        return (
            (configured.get_secret_value() if configured else None)
            or os.environ.get("SENTRY_DSN")
            or None
        )

    @property
    def slack_webhook(self) -> str | None:
        configured = self.loaded.spec.settings.slack.webhook
        return (
            (configured.get_secret_value() if configured else None)
            or os.environ.get("SLACK_WEBHOOK_URL")
            or None
        )

    def start_notifiers(self) -> None:
        """Open the Sentry client and send the run's in-progress check-in."""
        dsn = self.sentry_dsn
        redactor = self.context.redactor
        redactor.add(dsn, self.slack_webhook, self.history_url and _password(self.history_url))
        if dsn:
            redactor.add(*_dsn_parts(dsn))
        if not dsn or self._sentry is not None:
            return
        settings = self.loaded.spec.settings.sentry
        try:
            from sloprobe.notify.sentry import SentryNotifier

            self._sentry = SentryNotifier(
                dsn, self.loaded.spec.environment, self.release, redactor, settings.flush_timeout
            )
        except ImportError:
            self.warnings.append(
                "Sentry is configured but sentry-sdk is missing: pip install 'sloprobe[sentry]'"
            )
            return
        except Exception as exc:  # a bad DSN must not stop the probes
            self.warnings.append(f"Sentry not used: {redactor(str(exc))[:200]}")
            return
        if settings.checkins:
            self._checkin_id = self._sentry.checkin(
                self._monitor_slug(), "in_progress", None, None, self._monitor_config()
            )

    def _monitor_slug(self) -> str:
        spec = self.loaded.spec
        return spec.settings.sentry.monitor.slug or f"{spec.service}-{spec.environment}-sloprobe"

    def _monitor_config(self) -> dict[str, object]:
        monitor = self.loaded.spec.settings.sentry.monitor
        return {
            "schedule": {"type": "crontab", "value": monitor.schedule},
            "checkin_margin": monitor.checkin_margin,
            "max_runtime": monitor.max_runtime,
            "timezone": monitor.timezone,
        }

    def _checkin_ok(self, status: str = "ok") -> None:
        notifier = self._sentry_for_checkin
        if notifier is not None and self._checkin_id is not None:
            duration = (datetime.now(UTC) - self.started_at).total_seconds()
            notifier.checkin(
                self._monitor_slug(), status, self._checkin_id, duration, self._monitor_config()
            )
            self._checkin_id = None

    def _finish_checkin(self, status: str = "ok") -> None:
        """Close the check-in and the client if deliver() did not (no history, or it failed)."""
        if self._sentry is not None:
            self._checkin_ok(status)
            self._sentry.close()
            self._sentry = None

    @property
    def _sentry_for_checkin(self) -> SentryNotifier | None:
        return self._sentry or self._sentry_closing

    def result(self) -> RunResult:
        spec = self.loaded.spec
        base_url = self.base_url
        info = RunInfo(
            run_id=self.run_id,
            service=spec.service,
            environment=spec.environment,
            started_at=self.started_at,
            finished_at=datetime.now(UTC),
            sloprobe_version=__version__,
            slo_file=str(self.loaded.path),
            base_url=redact_url(base_url) if base_url else None,
            trigger=self.trigger,
            release=self.release,
        )
        order = list(spec.slos)
        verdicts = tuple(sorted(self.verdicts.values(), key=lambda v: order.index(v.slo)))
        used = {v.probe for v in verdicts}
        measurements = {n: m for n, m in self.measurements.items() if n in used}
        return RunResult(info, verdicts, measurements, tuple(self.warnings))


def report_url() -> str | None:
    """The CI run that produced this report, when running in GitHub Actions."""
    server, repository, run_id = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return (
        f"{server}/{repository}/actions/runs/{run_id}" if server and repository and run_id else None
    )


def _password(url: str) -> str | None:
    try:
        from urllib.parse import urlsplit

        return urlsplit(url).password
    except ValueError:
        return None


def _dsn_parts(dsn: str) -> list[str]:
    """A DSN's public key is a secret too; mask it on its own as well."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(dsn)
    except ValueError:
        return []
    return [p for p in (parts.username, parts.password) if p]


def judging_failed(slo: str, spec: SloSpec, exc: BaseException, redactor: Redactor) -> Verdict:
    """The verdict of an SLO whose judging raised: breached, with the internal-error reason."""
    return Verdict(
        slo=slo,
        probe=spec.probe,
        measure=spec.measure,
        status=Status.BREACH,
        observed="failed",
        threshold=" and ".join(spec.threshold),
        reason=redactor(f"internal error while judging {slo}: {type(exc).__name__}: {exc}")[:500],
        counts_as_bad=True,
        description=spec.description,
        owner=spec.owner,
        runbook=spec.runbook,
    )
