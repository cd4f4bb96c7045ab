"""Which integrations a run uses, said in one line: an unset secret must not turn one off quietly.

On GitHub Actions a missing secret arrives as an empty string
(``SENTRY_DSN: ${{ secrets.SENTRY_DSN }}``), which would otherwise switch
Sentry, Slack, PagerDuty, a webhook, the OpenTelemetry export or a shared
history off without a word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sloprobe.settings import HISTORY_URL_ENV

if TYPE_CHECKING:
    from sloprobe.config.model import SloFile


def _env_state(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if value is None:
        return f"{name} not set"
    return f"{name} is empty" if not value.strip() else ""


def integrations_line(
    spec: SloFile, environ: Mapping[str, str], history: str | None, history_option: str | None
) -> str | None:
    """``integrations: Sentry off (SENTRY_DSN is empty), …``; None when every one is on."""
    parts: list[str] = []
    settings = spec.settings
    if settings.sentry.dsn is None:
        why = _env_state(environ, "SENTRY_DSN")
        if why:
            parts.append(f"Sentry off ({why})")
    if settings.slack.webhook is None:
        why = _env_state(environ, "SLACK_WEBHOOK_URL")
        if why:
            parts.append(f"Slack off ({why})")
    if "pagerduty" in settings.model_fields_set:  # configured, so its key was meant to be there
        key = settings.pagerduty.routing_key
        if key is None or not key.get_secret_value().strip():
            parts.append("PagerDuty off (routing_key is empty)")
    for name, hook in settings.webhooks.items():
        if not hook.url.get_secret_value().strip():
            parts.append(f"webhook {name} off (url is empty)")
    from sloprobe.sinks.otel_export import otel_off

    otel = otel_off(environ)  # the run's own spans over OTLP: on with the OTEL_* variables
    if otel:
        parts.append(f"OpenTelemetry off ({otel})")
    if history is None:
        parts.append("history off")
    elif history_option is None and settings.history.url is None:
        shared = environ.get(HISTORY_URL_ENV)
        if shared is not None and not shared.strip():
            parts.append(f"history local ({HISTORY_URL_ENV} is empty)")
    return "integrations: " + ", ".join(parts) if parts else None
