"""slo.yaml's ``settings`` for notifications: Sentry, Slack, PagerDuty, webhooks and trace links.

Each channel's options, validated when the file is loaded (a webhook's template
compiles, a URL is http(s)); the channels themselves are in :mod:`sloprobe.notify`.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration
from sloprobe.probes.tracing import link_template_problem


class SentryMonitor(StrictModel):
    """Sentry Crons: a check-in per run, so a schedule that stops firing raises an issue."""

    slug: str | None = Field(
        None, description="Monitor slug; default `<service>-<environment>-sloprobe`."
    )
    schedule: str = Field("*/5 * * * *", description="Crontab of the scheduled run.")
    checkin_margin: int = Field(5, ge=1, description="Minutes a check-in may be late.")
    max_runtime: int = Field(15, ge=1, description="Minutes a run may take.")
    timezone: str = Field(
        "UTC", description="IANA zone `schedule` is read in, by Sentry and the schedule health."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """Sentry would refuse an unknown zone only at the first check-in; say so at load."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if value == "UTC":  # needs no tz database
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"unknown time zone `{value}`: an IANA name such as `Europe/Berlin`"
            ) from None
        return value


class SentrySettings(StrictModel):
    """Breach events through sentry-sdk: one per incident, not one per run."""

    dsn: SecretStr | None = Field(None, description="Default: $SENTRY_DSN; no DSN, no events.")
    level: Literal["fatal", "error", "warning"] = "error"
    reminder_every: Duration | None = Field(
        None, description="Remind while an incident lasts; default off."
    )
    recovery: bool = Field(False, description="Send an info notice when an incident resolves.")
    checkins: bool = True
    incidents: Literal["events", "monitors"] = Field(
        "events",
        description="events: one event per incident (closed by hand in Sentry); monitors: a "
        "Crons monitor per SLO whose check-ins follow its incident, so Sentry opens the issue "
        "when the incident opens and resolves it when the incident resolves (one monitor per "
        "SLO: Sentry bills Crons monitors beyond the first).",
    )
    monitor: SentryMonitor = Field(default_factory=SentryMonitor)
    flush_timeout: Duration = Field(
        5.0, description="Upper bound on waiting for Sentry at the end of a run."
    )


class SlackSettings(StrictModel):
    """The same incident transitions, to a Slack incoming webhook."""

    webhook: SecretStr | None = Field(
        None, description="Default: $SLACK_WEBHOOK_URL; none, no messages."
    )
    recovery: bool = True
    timeout: Duration = 5.0


PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
# Channels that are not webhooks: settings.routes names them, a webhook may not take their name.
BUILT_IN_CHANNELS = ("sentry", "slack", "pagerduty")
WEBHOOK_PRESETS = ("generic", "teams", "discord")  # their templates: notify/webhook.py
NoticeKind = Literal["opened", "resolved", "reminder"]
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,29}$")  # history keeps 30 characters
_TEMPLATE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Filters notify/webhook.py adds to Jinja2's own: `json` (also `tojson`) and `markdown`.
EXTRA_TEMPLATE_FILTERS = ("json", "tojson", "markdown")


def template_problem(text: str) -> str | None:
    """What keeps ``text`` from compiling as a notification template; None if nothing.

    Jinja2 itself compiles it, in the sandbox and with the filters notify/webhook.py
    renders with, so a typo is a config error with its line rather than a delivery
    that fails later. (jinja2 is imported here only when a webhook is configured.)
    """
    from jinja2 import TemplateError, TemplateSyntaxError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment()
    env.filters.update(dict.fromkeys(EXTRA_TEMPLATE_FILTERS, str))
    try:
        env.from_string(text)
    except TemplateSyntaxError as exc:
        return f"template line {exc.lineno}: {exc.message}"
    except TemplateError as exc:
        return str(exc.message or exc)
    return None


def _http_url(value: str) -> None:
    if value and not value.strip().lower().startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")


def _open_and_resolve() -> list[NoticeKind]:
    return ["opened", "resolved"]


class PagerDutySettings(StrictModel):
    """PagerDuty Events API v2: `trigger` when an incident opens, `resolve` when it resolves."""

    routing_key: SecretStr | None = Field(
        None,
        description="The Events API v2 integration key, a secret: `${PAGERDUTY_ROUTING_KEY}`. "
        "None or empty: no PagerDuty events.",
    )
    url: str = Field(PAGERDUTY_EVENTS_URL, description="The Events API v2 endpoint.")
    severity: Literal["critical", "error", "warning", "info"] = "critical"
    timeout: Duration = Field(5.0, description="Upper bound on one delivery.")

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        _http_url(url)
        return url


class WebhookSettings(StrictModel):
    """A generic webhook: incident transitions as a JSON (or text) body from a Jinja2 template."""

    url: SecretStr = Field(
        description="Where to send, a secret: `${TEAMS_WEBHOOK_URL}` (http or https). Empty: off."
    )
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Sent with every delivery; each value but Content-Type, Accept and "
        "User-Agent is a secret, masked wherever it could appear.",
    )
    body: str = Field(
        "generic",
        description="A preset (`generic`, `teams`, `discord`) or a Jinja2 template. In a JSON "
        "body every `{{ … }}` is one JSON value (strings quoted and escaped).",
    )
    format: Literal["json", "text"] = Field(
        "json", description="json: the body is JSON, each value JSON-encoded; text: plain text."
    )
    timeout: Duration = Field(5.0, description="Upper bound on one delivery.")
    transitions: list[NoticeKind] = Field(
        default_factory=_open_and_resolve,
        min_length=1,
        description="Which incident transitions are sent.",
    )
    reminder_every: Duration = Field(
        4 * 3600.0, description="With `reminder` in transitions: how often, while it lasts."
    )

    @field_validator("url")
    @classmethod
    def _http(cls, url: SecretStr) -> SecretStr:
        _http_url(url.get_secret_value())
        return url

    @field_validator("body")
    @classmethod
    def _template(cls, body: str) -> str:
        word = body.strip()
        if word in WEBHOOK_PRESETS:
            return word
        if _TEMPLATE_NAME.fullmatch(word):  # one word: a preset, misspelt
            close = difflib.get_close_matches(word, WEBHOOK_PRESETS, n=1)
            hint = f"did you mean `{close[0]}`?" if close else "a template holds `{{ … }}`"
            presets = ", ".join(f"`{p}`" for p in WEBHOOK_PRESETS)
            raise ValueError(f"no preset named `{word}` (presets: {presets}); {hint}")
        problem = template_problem(body)
        if problem is not None:
            raise ValueError(problem)
        return body

    @model_validator(mode="after")
    def _preset_is_json(self) -> WebhookSettings:
        if self.body in WEBHOOK_PRESETS and self.format == "text":
            raise ValueError(f"the `{self.body}` preset is JSON; `format: text` needs a template")
        return self


class Traces(StrictModel):
    """Where a probe's trace is opened: a failed check links to the backend's own trace."""

    url: str | None = Field(
        None,
        description="A link template with `{trace_id}`: Sentry, Grafana Tempo, Jaeger, "
        "Honeycomb, Datadog (presets in docs/traces.md); also `{trace_id_64}`, `{start}`, "
        "`{end}`, `{start_ms}`, `{end_ms}`. Shown, never sent; a secret in it is masked. "
        "None or empty: trace ids are shown as text.",
    )

    @field_validator("url")
    @classmethod
    def _template(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        problem = link_template_problem(url.strip())
        if problem is not None:
            raise ValueError(problem)
        return url.strip()
