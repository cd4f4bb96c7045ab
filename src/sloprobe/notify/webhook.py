"""Generic webhooks: a Jinja2 template makes the body, so Teams, Discord or Opsgenie are configuration.

Templates render in an immutable sandbox with undefined names as errors. In a
JSON body every ``{{ … }}`` is one JSON value: strings quoted and escaped, so
whatever a target sent stays a string and never breaks the JSON
(:func:`json_value`); ``| json`` says the same explicitly. A text body gets the
values as text. Every value has been through the run's redactor first
(:meth:`Outgoing.context`).

config/model.py checks a template's shape when slo.yaml is loaded, without
Jinja2; :func:`compile_webhook` compiles it and renders it once per
transition with sample data when the run starts, so a template that cannot
work is said before any incident needs it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from sloprobe.model.history import IncidentState, SloHistory, Transition
from sloprobe.model.notice import Notice
from sloprobe.model.result import RunInfo
from sloprobe.model.status import Status
from sloprobe.model.verdict import Verdict
from sloprobe.notify import http
from sloprobe.notify.outgoing import Outgoing, Scrub
from sloprobe.notify.where import Quorum, Seen, Sighting

MAX_BODY_BYTES = 256 * 1024
PUBLIC_HEADERS = frozenset({"content-type", "accept", "user-agent"})  # not secrets
CONTENT_TYPES = {"json": "application/json", "text": "text/plain; charset=utf-8"}


class JsonText(str):
    """Text that is JSON already (the ``json`` filter's output): not encoded again."""


def _plain(value: Any) -> Any:
    if isinstance(value, Undefined):
        raise TemplateError("an undefined value cannot be sent")
    return value


def json_value(value: Any) -> JsonText:
    """The ``json`` filter, and what a JSON body does with every ``{{ … }}``: one JSON value."""
    if isinstance(value, JsonText):
        return value
    return JsonText(json.dumps(_plain(value), ensure_ascii=True, default=str))


def text_value(value: Any) -> str:
    """What a text body does with every ``{{ … }}``: the value as text, none as nothing."""
    value = _plain(value)
    return "" if value is None else str(value)


_MARKDOWN = re.compile(r"([\\`*_~|<>#\[\]@])")  # styles, quotes, links, mentions


def markdown(value: Any) -> str:
    """Chat markdown escaped (``\\*``, ``\\[``, …), so target text forms no link, mention or style."""
    value = _plain(value)
    return "" if value is None else _MARKDOWN.sub(r"\\\1", str(value))


def environment(body_format: str) -> ImmutableSandboxedEnvironment:
    """The sandbox a notification template renders in (config's template_problem compiles with the same filters)."""
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=json_value if body_format == "json" else text_value,
    )
    env.filters["json"] = env.filters["tojson"] = json_value
    env.filters["markdown"] = markdown
    return env


# Built-in bodies. Values from the target (observed, reason, the headline) are escaped with
# `markdown` where a chat renders markdown; names from slo.yaml are shown as written.
PRESETS = {
    "generic": """\
{
  "source": "sloprobe",
  "event": {{ notice.kind }},
  "id": {{ notice.id }},
  "text": {{ text }},
  "service": {{ service }},
  "environment": {{ environment }},
  "slo": {{ slo }},
  "status": {{ status }},
  "observed": {{ observed }},
  "threshold": {{ threshold }},
  "reason": {{ reason }},
  "owner": {{ owner }},
  "runbook": {{ runbook_url }},
  "incident": {{ incident }},
  "locations": {{ locations }},
  "seen": {{ seen }},
  "quorum": {{ quorum }},
  "trace": {{ trace }},
  "links": {{ links }},
  "report_url": {{ report_url }}
}
""",
    "teams": """\
{
  "type": "message",
  "attachments": [{
    "contentType": "application/vnd.microsoft.card.adaptive",
    "contentUrl": null,
    "content": {
      "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
      "type": "AdaptiveCard",
      "version": "1.4",
      "body": [
        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
         "color": {{ "Good" if notice.kind == "resolved" else "Attention" }},
         "text": {{ service ~ " (" ~ environment ~ "): SLO " ~ slo ~ " " ~ notice.kind }}},
        {"type": "TextBlock", "wrap": true, "text": {{ headline | markdown }}},
        {"type": "FactSet", "facts": [
          {"title": "Observed", "value": {{ (observed or "-") | markdown }}},
          {"title": "Threshold", "value": {{ threshold or "-" }}},
          {"title": "Owner", "value": {{ owner or "-" }}},
          {"title": "Since", "value": {{ incident.since or incident.opened_at or "-" }}}
        ]}
      ],
      "actions": [
        {% for link in links %}{% if not loop.first %}, {% endif %}
        {"type": "Action.OpenUrl", "title": {{ link.title }}, "url": {{ link.url }}}
        {% endfor %}
      ]
    }
  }]
}
""",
    "discord": """\
{
  "content": {{ (text | markdown) | truncate(1900, true, "…", 0) }},
  "allowed_mentions": {"parse": []},
  "embeds": [{
    "title": {{ ("SLO " ~ slo ~ " " ~ notice.kind) | truncate(250, true, "…", 0) }},
    {% if runbook_url %}"url": {{ runbook_url }},{% endif %}
    "color": {{ 3066993 if notice.kind == "resolved" else 15158332 }},
    "fields": [
      {"name": "Observed", "value": {{ ((observed or "-") | markdown) | truncate(1000, true, "…", 0) }}, "inline": true},
      {"name": "Threshold", "value": {{ (threshold or "-") | truncate(1000, true, "…", 0) }}, "inline": true},
      {"name": "Owner", "value": {{ (owner or "-") | truncate(1000, true, "…", 0) }}, "inline": true}
    ]
  }]
}
""",
}


def template_source(body: str) -> str:
    return PRESETS.get(body, body)


def compile_template(body: str, body_format: str) -> Template:
    """Compile a webhook's body; raises TemplateError (the syntax error, with its line)."""
    return environment(body_format).from_string(template_source(body))


def render(template: Template, body_format: str, outgoing: Outgoing, scrub: Scrub) -> bytes:
    """The body of one delivery; raises TemplateError or ValueError when it cannot be made."""
    text = template.render(outgoing.context(scrub))
    if body_format == "json":
        json.loads(text)  # never send a body the receiver cannot read
    data = text.encode("utf-8")
    if len(data) > MAX_BODY_BYTES:
        raise ValueError(f"the body is {len(data)} bytes; the limit is {MAX_BODY_BYTES}")
    return data


def sample(kind: str) -> Outgoing:
    """A notice of ``kind`` with every field set, for test-rendering a template at start."""
    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    transition = Transition.RESOLVED if kind == "resolved" else Transition.OPENED
    incident = IncidentState(
        True, transition, at, 900.0, 3, 0, "3 consecutive bad runs", None, 1, at
    )
    verdict = Verdict(
        slo="sample-slo",
        probe="sample",
        measure="latency",
        status=Status.BREACH,
        observed='p95 = 1.2s "quoted" <tag>',
        threshold="p95 < 300ms",
        reason="p95 = 1.2s, expected p95 < 300ms",
        counts_as_bad=True,
        description="a sample",
        owner="team-sample",
        runbook="https://runbooks.example/sample",
        history=SloHistory(incident),
    )
    run = RunInfo("sample", "service", "production", at, at, "0", "slo.yaml", None)
    notice = Notice(1, "sample-slo", "sample", kind, kind)
    seen = Seen(
        (Sighting("eu-west", at, "p95 = 1.2s"), Sighting("us-east", at, "p95 = 900ms")),
        Quorum(2, 600.0),
    )
    return Outgoing(
        notice, run, verdict, "SLO sample-slo breached", "https://ci.example/run/1", seen
    )


def check(body: str, body_format: str, kinds: tuple[str, ...]) -> str | None:
    """Why the template cannot make a body for one of ``kinds`` (compile, render, JSON); None if it can."""
    try:
        template = compile_template(body, body_format)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        return f"template line {line}: {exc}" if line else f"template: {exc}"
    for kind in kinds:
        try:
            render(template, body_format, sample(kind), str)
        except (TemplateError, ValueError, TypeError) as exc:
            why = str(exc) or type(exc).__name__
            return f"cannot render a notice of kind `{kind}`: {why}"[:300]
    return None


@dataclass
class WebhookChannel:
    """One named webhook of ``settings.webhooks``."""

    name: str
    url: str
    method: str
    headers: dict[str, str]
    body: str
    body_format: str
    timeout: float
    scrub: Scrub
    problem: str | None = None  # why it cannot send (a template that does not work)
    _template: Template | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.problem is None:
            try:
                self._template = compile_template(self.body, self.body_format)
            except TemplateError as exc:
                self.problem = f"its body template does not compile: {exc}"

    def send(self, outgoing: Outgoing) -> str | None:
        what = f"webhook `{self.name}`"
        if self.problem is not None or self._template is None:
            return f"{what} not sent: {self.problem}"
        try:
            content = render(self._template, self.body_format, outgoing, self.scrub)
        except (TemplateError, ValueError, TypeError) as exc:
            return f"{what} not sent: its body template failed ({self.scrub(str(exc))[:200]})"
        headers = {
            "Content-Type": CONTENT_TYPES[self.body_format],
            "User-Agent": "sloprobe",
            "Idempotency-Key": outgoing.event_id,  # the same on every retry: receivers may dedupe
        }
        configured = {name.lower() for name in self.headers}
        headers = {k: v for k, v in headers.items() if k.lower() not in configured}
        headers.update(self.headers)
        return http.send(
            self.method,
            self.url,
            content=content,
            headers=headers,
            timeout=self.timeout,
            what=what,
            scrub=self.scrub,
        )

    def settle(self) -> set[str]:
        return set()  # each answer was known when it was sent
