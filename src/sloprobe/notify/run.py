"""The run's notifiers, opened at the start, closed at the end: Sentry (events and Crons
check-ins), Slack, PagerDuty and the webhooks of ``settings.webhooks``, every one a
:class:`~sloprobe.notify.deliver.Sender`.

The plugin holds one :class:`RunNotifiers` per run and tells it when: ``start``
before the probes, ``policies`` and :func:`~sloprobe.notify.plan.plan_notices` inside
the history transaction, ``deliver`` after it, ``finish`` at the end. What a notice
needs of history (where a breach was seen, which run queued an older notice) and the
run's schedule come in from the plugin: this package imports neither.

Opening learns every notifier secret (for the redactor, before any probe
runs), sends the run's in-progress check-in and compiles the webhook
templates; delivering speaks on incident transitions only, to the channels
``settings.routes`` gives each SLO's owner (see :mod:`sloprobe.notify.plan`,
:mod:`sloprobe.notify.routes`); closing sends the check-in's end. A notifier
that cannot be reached is a warning, never a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, urlsplit

from sloprobe.settings import variable

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sloprobe.config.model import SloFile
    from sloprobe.history import HistoryStore
    from sloprobe.model.result import RunResult
    from sloprobe.notify.deliver import Sender
    from sloprobe.notify.plan import ChannelPolicy
    from sloprobe.notify.sentry import SentryNotifier
    from sloprobe.notify.where import HistoryReads, Quorum
    from sloprobe.redact import Redactor


class MonitorSchedule(Protocol):
    """The cron a run belongs to, as the plugin resolved it (plugin/schedule.py)."""

    @property
    def cron(self) -> str: ...

    @property
    def allowance_s(self) -> float: ...

    @property
    def timezone(self) -> str: ...

    @property
    def source(self) -> str: ...


@dataclass
class RunNotifiers:
    """Sentry, Slack, PagerDuty and webhooks for one run of ``spec``."""

    spec: SloFile
    release: str | None
    started_at: datetime
    redactor: Redactor
    warnings: list[str] = field(default_factory=list)
    # The schedule the run belongs to (None: nobody scheduled it): the Crons monitor follows it.
    schedule: MonitorSchedule | None = None
    _sentry: SentryNotifier | None = None
    _sentry_closing: SentryNotifier | None = None
    _checkin_id: str | None = None
    _senders: dict[str, Sender] | None = None  # PagerDuty and webhooks, once opened

    @property
    def sentry_dsn(self) -> str | None:
        configured = self.spec.settings.sentry.dsn
        return (configured.get_secret_value() if configured else None) or variable("SENTRY_DSN")

    @property
    def slack_webhook(self) -> str | None:
        configured = self.spec.settings.slack.webhook
        return (configured.get_secret_value() if configured else None) or variable(
            "SLACK_WEBHOOK_URL"
        )

    @property
    def pagerduty_key(self) -> str | None:
        configured = self.spec.settings.pagerduty.routing_key
        return (configured.get_secret_value().strip() if configured else None) or None

    def start(self, connect: bool = True) -> None:
        """Learn every notifier secret, open PagerDuty and the webhooks (templates compiled and
        test-rendered), open the Sentry client and send the run's in-progress check-in.

        Without ``connect`` (a partial run) only the secrets are learnt, for redaction.
        """
        dsn = self.sentry_dsn
        self.redactor.add(dsn, self.slack_webhook, self.pagerduty_key)
        from sloprobe.probes.tracing import template_secrets

        self.redactor.add(*template_secrets(self.spec.settings.traces.url))  # a trace link's
        if dsn:
            self.redactor.add(*_dsn_parts(dsn))
        for hook in self.spec.settings.webhooks.values():
            from sloprobe.notify.webhook import PUBLIC_HEADERS  # only when there is a webhook

            self.redactor.add(*_url_secrets(hook.url.get_secret_value()))
            for name, value in hook.headers.items():
                if name.lower() not in PUBLIC_HEADERS:
                    secret = value.get_secret_value()
                    self.redactor.add(secret, secret.split(" ", 1)[-1])
        if connect:
            self.senders()
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

    def senders(self) -> dict[str, Sender]:
        """PagerDuty and the webhooks that can send in this run (made once); warns of the rest."""
        if self._senders is not None:
            return self._senders
        settings = self.spec.settings
        if not (settings.webhooks or settings.routes or "pagerduty" in settings.model_fields_set):
            self._senders = {}  # nothing to open: a run pays only for what it uses
            return self._senders
        from sloprobe.notify.pagerduty import PagerDutyChannel
        from sloprobe.notify.routes import unknown_owners
        from sloprobe.notify.webhook import WebhookChannel, check

        senders: dict[str, Sender] = {}
        pagerduty = settings.pagerduty
        key = self.pagerduty_key
        if key:
            senders["pagerduty"] = PagerDutyChannel(
                pagerduty.url, key, pagerduty.severity, pagerduty.timeout, self.scrub
            )
        elif "pagerduty" in settings.model_fields_set:
            self.warnings.append("PagerDuty off: settings.pagerduty.routing_key is empty")
        for name, hook in settings.webhooks.items():
            url = hook.url.get_secret_value().strip()
            if not url:
                self.warnings.append(f"webhook `{name}` off: settings.webhooks.{name}.url is empty")
                continue
            problem = check(hook.body, hook.format, tuple(hook.transitions))
            if problem is not None:
                # Its notices are still queued: they wait, pending, for a template that works.
                self.warnings.append(f"settings.webhooks.{name}.body: {problem}")
            senders[name] = WebhookChannel(
                name,
                url,
                hook.method,
                {k: v.get_secret_value() for k, v in hook.headers.items()},
                hook.body,
                hook.format,
                hook.timeout,
                self.scrub,
                problem,
            )
        owners = [slo.owner for slo in self.spec.slos.values()]
        for owner in unknown_owners(settings.routes, owners):
            self.warnings.append(
                f"settings.routes: no SLO has the owner `{owner}`; its route is never used"
            )
        self._senders = senders
        return senders

    def scrub(self, text: str) -> str:
        """What leaves through a notifier: secrets masked, target text inert."""
        from sloprobe.redact import neutralise

        return neutralise(self.redactor(text))

    def policies(self) -> dict[str, ChannelPolicy]:
        from sloprobe.notify.routes import channel_policies

        senders = self.senders()
        return channel_policies(
            self.spec.settings,
            sentry=self._sentry is not None,
            slack=self.slack_webhook is not None,
            pagerduty="pagerduty" in senders,
            webhooks=[name for name in senders if name != "pagerduty"],
        )

    def deliver(
        self,
        judged: RunResult,
        store: HistoryStore,
        policies: dict[str, ChannelPolicy],
        where: HistoryReads,
        earlier: Mapping[int, RunResult],
    ) -> list[str]:
        """Send what the run owes (and what earlier runs could not send); returns warnings.

        ``where``: history's reads for where a breach was seen; ``earlier``: the runs that
        queued notices still pending (row id → run), whose data those notices carry."""
        from sloprobe.notify.deliver import Channels, deliver
        from sloprobe.probes.tracing import TraceLinks

        settings = self.spec.settings
        senders: dict[str, Sender] = {}
        if self._sentry is not None:
            from sloprobe.notify.sentry import SentryChannel

            senders["sentry"] = SentryChannel(self._sentry, settings.sentry.level, self._checkin_ok)
        if self.slack_webhook is not None:
            from sloprobe.notify.slack import SlackChannel

            senders["slack"] = SlackChannel(self.slack_webhook, settings.slack.timeout)
        channels = Channels(
            senders={**senders, **self.senders()},
            policies=policies,
            quorums=self.quorums(),
            where=where,
            traces=TraceLinks(settings.traces.url, self.redactor),
        )
        self._sentry_closing, self._sentry = self._sentry, None  # deliver() closes it
        try:
            return deliver(judged, store, channels, judged.run.ci_url, earlier)
        finally:
            self._sentry_closing = None

    def quorums(self) -> dict[str, Quorum]:
        """Each SLO's quorum across locations (its own, else ``settings.quorum``), if any."""
        from sloprobe.notify.where import Quorum

        found = {}
        for name, slo in self.spec.slos.items():
            rule = slo.quorum or self.spec.settings.quorum
            if rule is not None:
                found[name] = Quorum(rule.locations, rule.within)
        return found

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
        monitor = self.spec.settings.sentry.monitor
        schedule = self.schedule
        cron = schedule.cron if schedule else monitor.schedule
        margin = round(schedule.allowance_s / 60) if schedule else monitor.checkin_margin
        return {
            "schedule": {"type": "crontab", "value": cron},
            "checkin_margin": margin,
            "max_runtime": monitor.max_runtime,
            "timezone": schedule.timezone if schedule else monitor.timezone,  # one zone, both
        }

    def _checkin_ok(self, status: str = "ok") -> None:
        notifier = self._sentry or self._sentry_closing
        if notifier is not None and self._checkin_id is not None:
            duration = (datetime.now(UTC) - self.started_at).total_seconds()
            notifier.checkin(
                self._monitor_slug(), status, self._checkin_id, duration, self._monitor_config()
            )
            self._checkin_id = None


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


_TOKEN_LENGTH = 16  # a path segment this long in a webhook URL is taken for its token


def _url_secrets(url: str) -> list[str]:
    """A webhook URL is a secret whole, and so are its token-like parts: Slack, Discord and
    Teams keep the token in the path or the query, where an error message could quote it."""
    if not url:
        return []
    found = [url, url.split("://", 1)[-1]]
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    found += [parts.password or "", parts.path if len(parts.path) >= _TOKEN_LENGTH else ""]
    found += [s for s in parts.path.split("/") if len(s) >= _TOKEN_LENGTH]
    found += [v for _, v in parse_qsl(parts.query) if len(v) >= 8]
    return [f for f in found if f]


def _dsn_parts(dsn: str) -> list[str]:
    """A DSN's public key is a secret too; mask it on its own as well."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return []
    return [p for p in (parts.username, parts.password) if p]
