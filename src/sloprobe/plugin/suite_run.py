"""One pytest session's SLO run: the loaded slo.yaml, its measurements and verdicts.

A run goes through five steps, each with one home:

1. **resolve** — :func:`sloprobe.plugin.options.resolve`, when the file is collected;
2. **measure** — :meth:`SuiteRun.measure_once`, before the first SLO item (the runner);
3. **judge** — :meth:`SuiteRun.judge`, as each SLO item runs (the judge, this run only);
4. **record** — :meth:`SuiteRun.record`, at session end: judged over time against history,
   stored, and the notifiers (:mod:`sloprobe.notify.run`) told of transitions; when
   history cannot be used, :attr:`SuiteRun.history_lost` says why and
   :meth:`SuiteRun.history_consequence` what the run then cannot judge;
5. **publish** — :mod:`sloprobe.plugin.publish` (from ``pytest_sessionfinish``): sinks and exit status.

The plugin's hooks and items share this object through ``config.stash``. It
exists only when an SLO file was collected, which is what keeps the plugin
inert in every other pytest run.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sloprobe import __version__, settings
from sloprobe.config import LoadedSloFile
from sloprobe.config.model import ProbeSpec, SloSpec
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.judge.over_time import judge_run, outcome_function, pooled_verdict
from sloprobe.model.measurement import Measurement, Sample
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.schedule import ScheduleHealth
from sloprobe.model.status import Status
from sloprobe.model.units import format_duration
from sloprobe.model.verdict import Verdict
from sloprobe.notify.run import RunNotifiers
from sloprobe.plugin.location import run_location
from sloprobe.plugin.names import NO_TARGET
from sloprobe.probes.context import ProbeContext, make_context
from sloprobe.probes.job.spec import JobProbe
from sloprobe.probes.registry import KINDS
from sloprobe.probes.runner import run_probes
from sloprobe.redact import Redactor, redact_url
from sloprobe.settings import BASE_URL_ENV, history_url

if TYPE_CHECKING:
    from sloprobe.history import HistoryStore


@dataclass
class SuiteRun:
    """State of the SLO run inside one pytest session."""

    loaded: LoadedSloFile
    base_url_option: str | None = None
    report_dir: Path = Path("reports")
    trigger: str = "local"
    job_now: bool = False  # --job-now: every job probe runs, whatever its `every` says
    release: str | None = None
    needed_yaml_probes: set[str] = field(default_factory=set)
    measurements: dict[str, Measurement] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    measured: bool = False
    history_option: str | None = None
    # Why this run could not judge against its past (history unusable, or a corrupt file
    # moved aside); None when history was used or is off.
    history_lost: str | None = None
    # Why the run judges only some of the file's SLOs (see plugin/selection.py); a partial run
    # is a local experiment unless record_partial: no history, no notifications.
    partial: str | None = None
    record_partial: bool = False
    selected: int = 0  # SLO items selected to run
    _context: ProbeContext | None = None
    _store: HistoryStore | None = None
    _store_failed: bool = False
    _notifiers: RunNotifiers | None = None

    @property
    def base_url(self) -> str | None:
        return settings.base_url(self.base_url_option, self.loaded.spec.target.base_url)

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
        """Whether any of these probes needs the target's base URL.

        A kind that talks to the target may still name its own absolute URL (a
        scrape of ``http://…/metrics``): then it needs no base URL, and a run of
        only such probes (and PromQL, Redis, …) is not a usage error.
        """
        specs = self.loaded.spec.probes
        return any(KINDS[specs[p].kind].needs_base_url(specs[p].body) for p in probes)

    @property
    def local_only(self) -> bool:
        """A partial run that must not touch budgets, incidents or notifications."""
        return self.partial is not None and not self.record_partial

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
            sentry_dsn=self.notifiers.sentry_dsn,
        )
        self.measurements.update(outcome.measurements)
        self.warnings.extend(outcome.warnings)

    @property
    def jobs_now(self) -> bool:
        """A deploy check (or ``--job-now``) sends its job whenever the last one ran: a re-run
        after a failed deploy must measure the new release, not carry the old result."""
        return self.job_now or self.trigger == "deploy"

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
                    if (
                        job.every
                        and not self.jobs_now
                        and runs
                        and (now - runs[-1]).total_seconds() < job.every
                    ):
                        ago = format_duration((now - runs[-1]).total_seconds())
                        deferred[name] = f"ran {ago} ago; runs every {format_duration(job.every)}"
                    elif job.max_per_day and len(runs) >= job.max_per_day:
                        deferred[name] = (
                            f"ran {len(runs)} times in 24 h; max_per_day is {job.max_per_day}"
                        )
        except HistoryError as exc:
            self._failed("history not read for job schedules", exc)
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
        configured = self.loaded.spec.settings.history
        if self.history_option == "off" or not configured.enabled:
            return None
        chosen = history_url(self.history_option, configured.url)
        if chosen and "://" not in chosen:
            chosen = f"sqlite:///{Path(chosen).resolve()}"
        return chosen or f"sqlite:///{(self.report_dir / 'history.db').resolve()}"

    def _history(self) -> HistoryStore | None:
        if self._store is None and not self._store_failed and self.history_url:
            from sloprobe.history import HistoryError, HistoryStore

            try:
                self._store = HistoryStore.open(self.history_url, move_aside_corrupt=True)
            except HistoryError as exc:
                self._give_up(f"history not used: {exc}")
            else:
                self._say_recovered(self._store)
        return self._store

    def _give_up(self, warning: str) -> None:
        """History failed: say so, and use it no more this run (so a run waits on it once at most)."""
        self.warnings.append(warning)
        self.history_lost = self.history_lost or warning
        self._store_failed = True
        if self._store is not None:
            self._store.dispose()
            self._store = None

    def _failed(self, what: str, exc: Exception) -> bool:
        """A history step failed; True when a fresh history replaced a corrupt file (retry the step).

        A corrupt SQLite file is moved aside for a fresh one; anything else (a lock
        held past its bound, an unreachable server) ends history for this run.
        """
        from sloprobe.history import HistoryError

        store = self._store
        if store is None or not isinstance(exc, HistoryError) or not exc.corrupt:
            self._give_up(f"{what}: {exc}")
            return False
        self._store = None
        try:
            self._store = store.recover(exc)
        except HistoryError as again:
            self._give_up(f"{what}: {again}")
            return False
        self._say_recovered(self._store)
        return True

    def _say_recovered(self, store: HistoryStore) -> None:
        """A corrupt or empty history file was moved aside: the run's past is lost, say so."""
        for note in store.notes:
            self.warnings.append(f"history not used: {note}")
            self.history_lost = self.history_lost or note
        store.notes = []

    def history_consequence(self, exit_on: str) -> str | None:
        """What this run cannot judge without its history (None: history was used, or is off)."""
        if self.history_lost is None:
            return None
        if exit_on == "incident":
            return (
                "history could not be used, so incidents cannot be judged: "
                "this run fails (--exit-on incident)"
            )
        budgets = [v.slo for v in self.verdicts.values() if self.loaded.spec.slos[v.slo].objective]
        if budgets:
            return (
                f"history could not be used, so the error budgets of {', '.join(sorted(budgets))} "
                "cannot be judged; only this run's own verdicts set the exit status"
            )
        return None

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
            self._failed(f"history not read for {slo}", exc)
            return []

    def record(self, result: RunResult) -> RunResult:
        """Judge the run over time, store it, and notify; a failure of either is a warning, never a verdict.

        History that cannot be used sets :attr:`history_lost`; whether that fails
        the run is for the exit status to decide (:meth:`history_consequence`).
        """
        notifiers = self.notifiers
        if self.local_only:
            notifiers.finish()  # a run cut short by -x opened its check-in: close it
            return dataclasses.replace(result, warnings=tuple(self.warnings))
        try:
            judged = self._record(result, notifiers)
        finally:
            notifiers.finish()
            if self._store is not None:
                self._store.dispose()
        return dataclasses.replace(judged, warnings=tuple(self.warnings))

    def _record(self, result: RunResult, notifiers: RunNotifiers) -> RunResult:
        store = self._history()
        if store is None:  # no history: nothing to import (SQLAlchemy costs ~100 ms)
            return result
        from sloprobe.history import HistoryError
        from sloprobe.notify.plan import plan_notices

        spec = self.loaded.spec
        policies = notifiers.policies()

        def write(store: HistoryStore) -> RunResult:
            current = dataclasses.replace(result, warnings=tuple(self.warnings))
            return store.record_with_notices(
                current,
                lambda view: judge_run(current, spec, view),
                outcome_function(current, spec),
                lambda run, view: plan_notices(run, policies, view.last_sent) if policies else [],
            )

        try:
            judged = write(store)
        except HistoryError as exc:
            if not self._failed("history not written", exc) or self._store is None:
                return result
            store = self._store  # a fresh history in place of a corrupt file: this run is its first
            try:
                judged = write(store)
            except HistoryError as again:
                self._give_up(f"history not written: {again}")
                return result
        step = "pruned"
        try:
            # This service's runs only: a shared database holds others with their own retention.
            store.prune(
                result.run.started_at - timedelta(seconds=spec.settings.history.retention),
                service=spec.service,
                environment=spec.environment,
            )
            step = "read back for the report"
            window = max([s.window for s in spec.slos.values() if s.objective] + [86400.0])
            judged = dataclasses.replace(
                judged,
                timeline=store.timeline(
                    spec.service,
                    spec.environment,
                    judged.run.started_at - timedelta(seconds=window),
                ),
            )
            judged = dataclasses.replace(judged, schedule=self._schedule_health(judged))
            notifiers.follow_incidents(judged)
            if policies:
                step = "used for notifications"
                from sloprobe.history.replay import queued_by
                from sloprobe.plugin.where_seen import WhereSeen

                run = judged.run
                where = WhereSeen(store, run.service, run.environment)
                earlier = queued_by(store, run.service, run.environment, run.run_id)
                self.warnings.extend(notifiers.deliver(judged, store, policies, where, earlier))
        except HistoryError as exc:
            # The run was judged and stored; only what comes after it is missing.
            self.warnings.append(f"history written but not {step}: {exc}")
        return judged

    def _schedule_health(self, judged: RunResult) -> ScheduleHealth | None:
        """Runs held in the last 24 h against the cron this run belongs to (plugin/schedule.py)."""
        from sloprobe.judge.schedule import BadCron, schedule_health

        schedule = self.notifiers.schedule  # resolved once for the run (plugin/schedule.py)
        if schedule is None:
            return None
        runs = {p.at for points in judged.timeline.values() for p in points}
        runs.add(judged.run.started_at)
        try:
            return schedule_health(
                schedule.cron,
                runs,
                judged.run.started_at,
                schedule.allowance_s,
                timezone=schedule.timezone,
            )
        except BadCron as exc:
            self.warnings.append(f"schedule health not judged: {exc} (from {schedule.source})")
            return None

    # -- notifiers -----------------------------------------------------------------------

    @property
    def notifiers(self) -> RunNotifiers:
        if self._notifiers is None:
            from sloprobe.plugin.schedule import run_schedule

            # The cron the run belongs to, resolved once: the Crons monitor follows it and the
            # schedule health is judged against it.
            self._notifiers = RunNotifiers(
                self.loaded.spec,
                self.release,
                self.started_at,
                self.context.redactor,
                self.warnings,
                schedule=run_schedule(self.loaded.spec, settings.environ()),
            )
        return self._notifiers

    def start_notifiers(self) -> None:
        """Open Sentry (the run's in-progress check-in) before any probe runs."""
        if self.history_url:
            self.context.redactor.add(_password(self.history_url))
        self.notifiers.start(connect=not self.local_only)

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
            partial=self.partial,
            location=run_location(settings.environ()),
            ci_url=settings.ci_run_url(),
        )
        order = list(spec.slos)
        verdicts = tuple(sorted(self.verdicts.values(), key=lambda v: order.index(v.slo)))
        used = {v.probe for v in verdicts}
        measurements = {n: m for n, m in self.measurements.items() if n in used}
        from sloprobe.plugin.integrations import integrations_line

        line = integrations_line(spec, settings.environ(), self.history_url, self.history_option)
        notes = (line,) if line else ()
        return RunResult(info, verdicts, measurements, tuple(self.warnings), notes=notes)


def _password(url: str) -> str | None:
    try:
        from urllib.parse import urlsplit

        return urlsplit(url).password
    except ValueError:
        return None


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
