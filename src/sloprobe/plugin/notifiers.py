"""The run's notifiers: Sentry (events and Crons check-ins) and Slack, opened at the start, closed at the end.

Opening sends the run's in-progress check-in; delivering speaks on incident
transitions only (see :mod:`sloprobe.notify.plan`); closing sends the
check-in's end. A notifier that cannot be reached is a warning, never a
verdict.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sloprobe.config.model import SloFile
    from sloprobe.history import HistoryStore
    from sloprobe.model.result import RunResult
    from sloprobe.notify.plan import ChannelPolicy
    from sloprobe.notify.sentry import SentryNotifier
    from sloprobe.redact import Redactor


@dataclass
class RunNotifiers:
    """Sentry and Slack for one run of ``spec``."""

    spec: SloFile
    release: str | None
    started_at: datetime
    redactor: Redactor
    warnings: list[str] = field(default_factory=list)
    _sentry: SentryNotifier | None = None
    _sentry_closing: SentryNotifier | None = None
    _checkin_id: str | None = None

    @property
    def sentry_dsn(self) -> str | None:
        configured = self.spec.settings.sentry.dsn
        return (
            (configured.get_secret_value() if configured else None)
            or os.environ.get("SENTRY_DSN")
            or None
        )

    @property
    def slack_webhook(self) -> str | None:
        configured = self.spec.settings.slack.webhook
        return (
            (configured.get_secret_value() if configured else None)
            or os.environ.get("SLACK_WEBHOOK_URL")
            or None
        )

    @property
    def sentry_open(self) -> bool:
        return self._sentry is not None

    def start(self, connect: bool = True) -> None:
        """Open the Sentry client and send the run's in-progress check-in.

        Without ``connect`` (a partial run) only the secrets are learnt, for redaction.
        """
        dsn = self.sentry_dsn
        self.redactor.add(dsn, self.slack_webhook)
        if dsn:
            self.redactor.add(*_dsn_parts(dsn))
        if not connect or not dsn or self._sentry is not None:
            return
        settings = self.spec.settings.sentry
        try:
            from sloprobe.notify.sentry import SentryNotifier

            self._sentry = SentryNotifier(
                dsn, self.spec.environment, self.release, self.redactor, settings.flush_timeout
            )
        except ImportError:
            self.warnings.append(
                "Sentry is configured but sentry-sdk is missing: pip install 'sloprobe[sentry]'"
            )
            return
        except Exception as exc:  # a bad DSN must not stop the probes
            self.warnings.append(f"Sentry not used: {self.redactor(str(exc))[:200]}")
            return
        if settings.checkins:
            self._checkin_id = self._sentry.checkin(
                self._monitor_slug(), "in_progress", None, None, self._monitor_config()
            )

    def policies(self) -> dict[str, ChannelPolicy]:
        from sloprobe.notify.deliver import channel_policies

        return channel_policies(
            self.spec.settings, self._sentry is not None, self.slack_webhook is not None
        )

    def deliver(
        self, judged: RunResult, store: HistoryStore, policies: dict[str, ChannelPolicy]
    ) -> list[str]:
        """Send what the run owes (and what earlier runs could not send); returns warnings."""
        from sloprobe.notify.deliver import Channels, deliver

        settings = self.spec.settings
        channels = Channels(
            sentry=self._sentry,
            slack_webhook=self.slack_webhook,
            sentry_level=settings.sentry.level,
            slack_timeout=settings.slack.timeout,
            policies=policies,
            before_close=self._checkin_ok,
        )
        from sloprobe.history.replay import queued_by

        run = judged.run
        earlier = queued_by(store, run.service, run.environment, run.run_id)
        self._sentry_closing, self._sentry = self._sentry, None  # deliver() closes it
        try:
            return deliver(judged, store, channels, report_url(), earlier)
        finally:
            self._sentry_closing = None

    def follow_incidents(self, judged: RunResult) -> None:
        """``incidents: monitors``: one Crons check-in per SLO, ``error`` while its incident is open.

        Sentry's own thresholds (1 and 1: sloprobe's flap control already decided) then
        open the monitor's issue when the incident opens and resolve it when it
        resolves. A lost check-in needs no retry: the next run says the same state.
        """
        sentry = self._sentry
        if sentry is None or self.spec.settings.sentry.incidents != "monitors":
            return
        config = {**self._monitor_config(), "failure_issue_threshold": 1, "recovery_threshold": 1}
        for verdict in judged.verdicts:
            if verdict.history is None:
                continue  # not judged over time: whether an incident is open is unknown
            status = "error" if verdict.history.incident.open else "ok"
            slug = slo_monitor_slug(self.spec.service, self.spec.environment, verdict.slo)
            sentry.checkin(slug, status, None, None, config)

    def finish(self, status: str = "ok") -> None:
        """Close the check-in and the client if deliver() did not (no history, or it failed)."""
        if self._sentry is not None:
            self._checkin_ok(status)
            self._sentry.close()
            self._sentry = None

    def _monitor_slug(self) -> str:
        spec = self.spec
        return spec.settings.sentry.monitor.slug or f"{spec.service}-{spec.environment}-sloprobe"

    def _monitor_config(self) -> dict[str, object]:
        """The Crons monitor follows the run's own cron and its allowance for lateness (schedule.py)."""
        from sloprobe.plugin.schedule import run_schedule

        monitor = self.spec.settings.sentry.monitor
        schedule = run_schedule(self.spec, os.environ)
        cron = schedule.cron if schedule else monitor.schedule
        margin = round(schedule.allowance_s / 60) if schedule else monitor.checkin_margin
        return {
            "schedule": {"type": "crontab", "value": cron},
            "checkin_margin": margin,
            "max_runtime": monitor.max_runtime,
            "timezone": monitor.timezone,
        }

    def _checkin_ok(self, status: str = "ok") -> None:
        notifier = self._sentry or self._sentry_closing
        if notifier is not None and self._checkin_id is not None:
            duration = (datetime.now(UTC) - self.started_at).total_seconds()
            notifier.checkin(
                self._monitor_slug(), status, self._checkin_id, duration, self._monitor_config()
            )
            self._checkin_id = None


def report_url() -> str | None:
    """The CI run that produced this report, when running in GitHub Actions."""
    server, repository, run_id = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return (
        f"{server}/{repository}/actions/runs/{run_id}" if server and repository and run_id else None
    )


SLUG_MAX = 50  # Sentry's limit on a monitor slug


def slo_monitor_slug(service: str, environment: str, slo: str) -> str:
    """``shop-production-checkout-latency``: lower case, at most 50 characters, unique per SLO."""
    import hashlib
    import re

    name = f"{service}-{environment}-{slo}"
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    if len(slug) <= SLUG_MAX:
        return slug
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{slug[: SLUG_MAX - 9].rstrip('-')}-{digest}"


def _dsn_parts(dsn: str) -> list[str]:
    """A DSN's public key is a secret too; mask it on its own as well."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return []
    return [p for p in (parts.username, parts.password) if p]
