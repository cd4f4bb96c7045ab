"""One pytest session's SLO run: the loaded slo.yaml, its measurements and verdicts.

A run goes through five steps, each with one home:

1. **resolve** — :func:`sloprobe.plugin.options.resolve`, when the file is collected;
2. **measure** — :meth:`SuiteRun.measure_once`, before the first SLO item (the runner);
3. **judge** — :meth:`SuiteRun.judge`, as each SLO item runs (the judge, this run only);
4. **record** — :meth:`SuiteRun.record`, at session end: judged over time against history,
   stored, and the notifiers (:mod:`sloprobe.plugin.notifiers`) told of transitions;
5. **publish** — ``pytest_sessionfinish`` in :mod:`sloprobe.plugin.hooks`: sinks and exit status.

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
from sloprobe.plugin.notifiers import RunNotifiers
from sloprobe.probes.context import ProbeContext, make_context
from sloprobe.probes.job.spec import JobProbe
from sloprobe.probes.registry import KINDS
from sloprobe.probes.runner import run_probes
from sloprobe.redact import Redactor, redact_url

if TYPE_CHECKING:
    from sloprobe.history import HistoryStore

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
    _notifiers: RunNotifiers | None = None

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
        notifiers = self.notifiers
        store = self._history()
        if store is None:
            notifiers.finish()
            return dataclasses.replace(result, warnings=tuple(self.warnings))
        from sloprobe.history import HistoryError
        from sloprobe.notify.plan import plan_notices

        spec = self.loaded.spec
        policies = notifiers.policies()
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
                self.warnings.extend(notifiers.deliver(judged, store, policies))
        except HistoryError as exc:
            self.warnings.append(f"history not written: {exc}")
        finally:
            notifiers.finish()
            store.dispose()
        return dataclasses.replace(judged, warnings=tuple(self.warnings))

    # -- notifiers -----------------------------------------------------------------------

    @property
    def notifiers(self) -> RunNotifiers:
        if self._notifiers is None:
            self._notifiers = RunNotifiers(
                self.loaded.spec,
                self.release,
                self.started_at,
                self.context.redactor,
                self.warnings,
            )
        return self._notifiers

    def start_notifiers(self) -> None:
        """Open Sentry (the run's in-progress check-in) before any probe runs."""
        if self.history_url:
            self.context.redactor.add(_password(self.history_url))
        self.notifiers.start()

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
