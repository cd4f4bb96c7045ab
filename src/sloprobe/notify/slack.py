"""Slack incoming webhook: the same notices as Sentry, as plain text."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sloprobe.notify.http import send
from sloprobe.notify.outgoing import Outgoing
from sloprobe.probes.tracing import TraceRef
from sloprobe.redact import Redactor


def slack_text(text: str) -> str:
    """Escape Slack's three control characters so target content cannot form links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_to_slack(webhook: str, text: str, timeout: float, markup: str = "") -> str | None:
    """Post one message; returns why it failed (secret-free), or None when Slack took it.

    ``text`` is escaped (target content forms no link or mention); ``markup`` is sloprobe's
    own, already safe (a trace link built from a checked id), and is sent as it is.

    Through the notifiers' one bounded path: a total deadline, a capped read of
    the answer, no redirect followed, the webhook URL (a secret) never shown.
    """
    scrub = Redactor([webhook, webhook.rsplit("/", 1)[-1]])
    return send(
        "POST",
        webhook,
        content=json.dumps({"text": slack_text(text) + markup}).encode(),
        headers={"Content-Type": "application/json"},
        timeout=timeout,
        what="Slack webhook",
        scrub=scrub,
    )


def trace_line(trace: TraceRef | None) -> str:
    """Slack's line for the trace: a link when there is a URL, else the id; the job beside it."""
    if trace is None:
        return ""
    shown = f"<{trace.url}|{trace.trace_id}>" if trace.url else trace.trace_id
    job = f" (job {slack_text(trace.job)})" if trace.job else ""
    return f"\nTrace: {shown}{job}"


@dataclass(frozen=True)
class SlackChannel:
    """The Slack webhook as a :class:`~sloprobe.notify.deliver.Sender`: Slack's 2xx is delivery."""

    webhook: str
    timeout: float

    def send(self, outgoing: Outgoing) -> str | None:
        return post_to_slack(
            self.webhook, outgoing.text, self.timeout, markup=trace_line(outgoing.trace)
        )

    def settle(self) -> set[str]:
        return set()  # each answer was known when it was sent
