"""Deliver the notices history holds for this service, and record what got through.

Order matters for "no duplicates, nothing lost": notices are queued in the
same transaction as the run (see HistoryStore.record_with_notices), sent
here, and marked delivered only once the receiver accepted them (a 2xx for
Slack, webhooks and PagerDuty). A crash after sending and before marking
resends the same event id, which Sentry deduplicates (PagerDuty: the same
``dedup_key``; a webhook: the same ``Idempotency-Key``); a refusal (down,
429, 5xx) leaves the notice pending for next run. Once a webhook or
PagerDuty refuses, the run sends it nothing more: its other notices wait for
the next run too, in order, and a receiver that is down costs one timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sloprobe.model.notice import Notice
from sloprobe.model.result import RunResult
from sloprobe.model.verdict import Verdict
from sloprobe.notify.messages import context, headline
from sloprobe.notify.outgoing import Outgoing
from sloprobe.notify.plan import ChannelPolicy
from sloprobe.notify.slack import post_to_slack, slack_text
from sloprobe.notify.where import HistoryReads, Quorum, Seen, where_seen
from sloprobe.probes.tracing import TraceLinks, TraceRef, new_span_id

if TYPE_CHECKING:
    from sloprobe.history import HistoryStore
    from sloprobe.notify.sentry import SentryNotifier


class Sender(Protocol):
    """A channel that sends one notice at a time: None when the receiver took it, else why not."""

    def send(self, outgoing: Outgoing) -> str | None: ...


@dataclass
class Channels:
    """The notifiers configured for this run."""

    sentry: SentryNotifier | None = None
    slack_webhook: str | None = None
    sentry_level: str = "error"
    slack_timeout: float = 5.0
    policies: dict[str, ChannelPolicy] = field(default_factory=dict)
    before_close: Callable[[], None] | None = None  # e.g. the run's final check-in
    senders: dict[str, Sender] = field(default_factory=dict)  # PagerDuty and webhooks, by name
    traces: TraceLinks = field(default_factory=TraceLinks)  # settings.traces.url, redacted
    # Where a breach was seen (notify/where.py): each SLO's quorum, and what is read of
    # history for it (bad runs, when an incident opened); without it a notice quotes the
    # queuing run alone.
    quorums: dict[str, Quorum] = field(default_factory=dict)
    where: HistoryReads | None = None


# How long a claim keeps other runs off a notice: longer than a run's whole delivery (each
# channel is bounded by its timeout); a run that died while sending leaves it to a run after.
CLAIM_LEASE_S = 120.0


def sentry_trace(trace: TraceRef) -> dict[str, Any]:
    """Sentry's ``trace`` context: the breach event sits in the backend's own trace."""
    return {
        "trace_id": trace.trace_id,
        "span_id": new_span_id(),
        "op": "sloprobe.probe",
        "type": "trace",
    }


def trace_line(trace: TraceRef | None) -> str:
    """Slack's line for the trace: a link when there is a URL, else the id; the job beside it."""
    if trace is None:
        return ""
    shown = f"<{trace.url}|{trace.trace_id}>" if trace.url else trace.trace_id
    job = f" (job {slack_text(trace.job)})" if trace.job else ""
    return f"\nTrace: {shown}{job}"


def _can_send(channel: str, channels: Channels) -> bool:
    """Whether this run has the channel of a notice configured (else another run sends it)."""
    if channel == "sentry":
        return channels.sentry is not None
    if channel == "slack":
        return channels.slack_webhook is not None
    return channel in channels.senders


def deliver(
    result: RunResult,
    store: HistoryStore,
    channels: Channels,
    report_url: str | None,
    queued_by: Mapping[int, RunResult] | None = None,
) -> list[str]:
    """Send every pending notice; returns warnings for what could not be delivered.

    A notice an earlier run queued (``queued_by``: row id → that run) is sent with
    that run's data: its verdict, observed value and tags, not this run's.
    """
    current = result
    run = result.run
    pending = store.pending_notices(run.service, run.environment)
    sent_to_sentry: dict[int, str] = {}
    warnings: list[str] = []
    slack_failures: dict[int, str] = {}
    failures: dict[int, str] = {}  # PagerDuty and webhooks
    refused: dict[str, str] = {}  # channel → why: it is sent nothing more this run
    owner = f"{run.run_id}@{run.location or 'here'}"
    seen_by: dict[tuple[int, str, str], Seen | None] = {}  # one read per incident and event
    for item in pending:
        result = (queued_by or {}).get(item.row_id, current)
        notice = item.notice
        if notice.channel in refused and notice.channel in channels.senders:
            failures[item.row_id] = refused[notice.channel]  # not attempted: it stays pending
            continue
        if not _can_send(notice.channel, channels):
            continue  # not this run's to send (its channel is off here): left pending, unclaimed
        if not store.claim_notice(item.row_id, owner, datetime.now(UTC), CLAIM_LEASE_S):
            continue  # another location's run is sending it, or has sent it
        verdict = next((v for v in result.verdicts if v.slo == notice.slo), None)
        seen = _seen(notice, verdict, result, channels, seen_by)
        message = headline(notice, verdict, seen)
        # The failing probe's trace (settings.traces.url): where the backend's own spans are.
        trace = (
            channels.traces.ref(result.measurements.get(verdict.probe))
            if verdict is not None and notice.kind != "resolved"
            else None
        )
        if notice.channel == "sentry" and channels.sentry is not None:
            level = "info" if notice.kind == "resolved" else channels.sentry_level
            fingerprint = ["sloprobe", run.service, run.environment, notice.slo]
            if notice.kind == "resolved":
                fingerprint.append("recovered")  # its own issue: no regression of the breach issue
            tags = {
                "service": run.service,
                "slo": notice.slo,
                "transition": notice.kind,
                "status": verdict.status.value if verdict else "unknown",
                "probe_kind": result.measurements[verdict.probe].kind
                if verdict and verdict.probe in result.measurements
                else "unknown",
                **(seen.tags() if seen is not None else {}),
            }
            sent_to_sentry[item.row_id] = channels.sentry.send(
                notice,
                event_id=notice.event_id(run.service, run.environment),
                message=message,
                level=level,
                fingerprint=fingerprint,
                tags=tags,
                contexts={
                    **context(result, verdict, report_url, notice, seen),
                    **({"trace_url": trace.url, "job": trace.job} if trace is not None else {}),
                },
                trace=sentry_trace(trace) if trace is not None else None,
            )
        elif notice.channel == "slack" and channels.slack_webhook is not None:
            why = post_to_slack(
                channels.slack_webhook,
                f"{run.service} ({run.environment}): {message}",
                channels.slack_timeout,
                markup=trace_line(trace),
            )
            if why is None:
                store.mark_notice(item.row_id, datetime.now(UTC))
            else:
                slack_failures[item.row_id] = why
                store.mark_notice(item.row_id, None, why)
        elif (sender := channels.senders.get(notice.channel)) is not None:
            why = sender.send(
                Outgoing(notice, result.run, verdict, message, report_url, seen, trace)
            )
            if why is None:
                store.mark_notice(item.row_id, datetime.now(UTC))
            else:
                failures[item.row_id] = refused[notice.channel] = why
                store.mark_notice(item.row_id, None, why)
    if channels.before_close is not None:
        channels.before_close()
    accepted = channels.sentry.close() if channels.sentry is not None else set()
    for row_id, event_id in sent_to_sentry.items():
        if event_id in accepted:
            store.mark_notice(row_id, datetime.now(UTC))
        else:
            store.mark_notice(row_id, None, "not accepted by Sentry")
    undelivered = (
        (len(sent_to_sentry) - sum(1 for e in sent_to_sentry.values() if e in accepted))
        + len(slack_failures)
        + len(failures)
    )
    if undelivered:
        reasons = sorted(
            set(slack_failures.values())
            | set(failures.values())
            | (
                {"Sentry did not accept it in time"}
                if len(sent_to_sentry) > len(accepted & set(sent_to_sentry.values()))
                else set()
            )
        )
        warnings.append(
            f"{undelivered} notification(s) not delivered ({'; '.join(reasons)}); they will be sent again next run"
        )
    return warnings


def _seen(
    notice: Notice,
    verdict: Verdict | None,
    result: RunResult,
    channels: Channels,
    known: dict[tuple[int, str, str], Seen | None],
) -> Seen | None:
    """Where the breach of the notice's incident was seen (read once per incident and event)."""
    if channels.where is None:
        return None
    key = (notice.incident_id, notice.kind, notice.key)
    if key not in known:
        known[key] = where_seen(
            notice,
            verdict,
            result.run.started_at,
            channels.quorums.get(notice.slo),
            channels.where,
        )
    return known[key]
