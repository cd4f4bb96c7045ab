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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from sloprobe.model.notice import Notice
from sloprobe.model.result import RunResult
from sloprobe.model.verdict import Verdict
from sloprobe.notify.messages import headline
from sloprobe.notify.outgoing import Handed, Outgoing
from sloprobe.notify.plan import ChannelPolicy
from sloprobe.notify.where import HistoryReads, Quorum, Seen, where_seen
from sloprobe.probes.tracing import TraceLinks

if TYPE_CHECKING:
    from sloprobe.history import HistoryStore

__all__ = ["CLAIM_LEASE_S", "Channels", "Handed", "Sender", "deliver"]


class Sender(Protocol):
    """A channel: Sentry, Slack, PagerDuty or a webhook, one notice at a time.

    ``send`` answers None when the receiver took the notice, the reason when it
    did not (secret-free), or :class:`Handed` when the channel learns only later
    whether it got through (Sentry's queue): then :meth:`settle`, called once
    after every notice was sent, answers which of them the receiver accepted.
    """

    def send(self, outgoing: Outgoing) -> str | Handed | None: ...

    def settle(self) -> set[str]: ...


@dataclass
class Channels:
    """The notifiers configured for this run, each a :class:`Sender` under its channel's name
    (``sentry``, ``slack``, ``pagerduty``, a webhook's name)."""

    senders: dict[str, Sender] = field(default_factory=dict)
    policies: dict[str, ChannelPolicy] = field(default_factory=dict)
    traces: TraceLinks = field(default_factory=TraceLinks)  # settings.traces.url, redacted
    # Where a breach was seen (notify/where.py): each SLO's quorum, and what is read of
    # history for it (bad runs, when an incident opened); without it a notice quotes the
    # queuing run alone.
    quorums: dict[str, Quorum] = field(default_factory=dict)
    where: HistoryReads | None = None


# How long a claim keeps other runs off a notice: longer than a run's whole delivery (each
# channel is bounded by its timeout); a run that died while sending leaves it to a run after.
CLAIM_LEASE_S = 120.0


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
    handed: dict[int, tuple[str, str]] = {}  # row id → (channel, key): known at settle()
    failures: dict[int, str] = {}
    refused: dict[str, str] = {}  # channel → why: it is sent nothing more this run
    owner = f"{run.run_id}@{run.location or 'here'}"
    seen_by: dict[tuple[int, str, str], Seen | None] = {}  # one read per incident and event
    for item in pending:
        result = (queued_by or {}).get(item.row_id, current)
        notice = item.notice
        sender = channels.senders.get(notice.channel)
        if sender is None:
            continue  # not this run's to send (its channel is off here): left pending, unclaimed
        if notice.channel in refused:
            failures[item.row_id] = refused[notice.channel]  # not attempted: it stays pending
            continue
        if not store.claim_notice(item.row_id, owner, datetime.now(UTC), CLAIM_LEASE_S):
            continue  # another location's run is sending it, or has sent it
        verdict = next((v for v in result.verdicts if v.slo == notice.slo), None)
        seen = _seen(notice, verdict, result, channels, seen_by)
        # The failing probe's trace (settings.traces.url): where the backend's own spans are.
        measured = result.measurements.get(verdict.probe) if verdict is not None else None
        trace = channels.traces.ref(measured) if notice.kind != "resolved" else None
        outgoing = Outgoing(
            notice,
            result.run,
            verdict,
            headline(notice, verdict, seen),
            report_url,
            seen,
            trace,
            measured.kind if measured is not None else None,
        )
        answer = sender.send(outgoing)
        if isinstance(answer, Handed):
            handed[item.row_id] = (notice.channel, answer.key)
        elif answer is None:
            store.mark_notice(item.row_id, datetime.now(UTC))
        else:
            failures[item.row_id] = refused[notice.channel] = answer
            store.mark_notice(item.row_id, None, answer)
    accepted = {name: sender.settle() for name, sender in channels.senders.items()}
    for row_id, (channel, key) in handed.items():
        if key in accepted[channel]:
            store.mark_notice(row_id, datetime.now(UTC))
        else:
            why = f"{_title(channel)} did not accept it in time"
            failures[row_id] = why
            store.mark_notice(row_id, None, why)
    if failures:
        reasons = "; ".join(sorted(set(failures.values())))
        return [
            f"{len(failures)} notification(s) not delivered ({reasons}); they will be sent again next run"
        ]
    return []


def _title(channel: str) -> str:
    return {"sentry": "Sentry", "slack": "Slack", "pagerduty": "PagerDuty"}.get(channel, channel)


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
