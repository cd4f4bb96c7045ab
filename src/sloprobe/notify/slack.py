"""Slack incoming webhook: the same notices as Sentry, as plain text."""

from __future__ import annotations

import json

from sloprobe.notify.http import send
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
