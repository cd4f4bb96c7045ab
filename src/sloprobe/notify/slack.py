"""Slack incoming webhook: the same notices as Sentry, as plain text."""

from __future__ import annotations

import httpx


def slack_text(text: str) -> str:
    """Escape Slack's three control characters so target content cannot form links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_to_slack(webhook: str, text: str, timeout: float) -> str | None:
    """Post one message; returns why it failed (secret-free), or None when Slack took it."""
    try:
        response = httpx.post(webhook, json={"text": slack_text(text)}, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"Slack webhook unreachable ({type(exc).__name__})"
    if response.status_code >= 300:
        return f"Slack webhook answered {response.status_code}"
    return None
