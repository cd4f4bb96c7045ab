"""Webhooks and PagerDuty: one message per transition, retried until a 2xx, routed by owner.

Real local HTTP endpoints record what they are sent; each run is what the
plugin does in one scheduled run (SuiteRun with the clock injected and a real
SQLite history), as in test_sentry.py.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sloprobe.config import ConfigError, LoadedSloFile, load_slo_text
from sloprobe.config.model import EXTRA_TEMPLATE_FILTERS, template_problem
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunResult
from sloprobe.model.units import Unit
from sloprobe.notify import webhook
from sloprobe.notify.plan import ChannelPolicy
from sloprobe.notify.routes import routed
from sloprobe.plugin.suite_run import SuiteRun
from tests.history.simulation import STEP, T0
from tests.support.scripted_server import Answer, ScriptedServer

ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"  # 32 characters, like PagerDuty's
HOOK_TOKEN = "hooktoken-Zx81Qw0pLm27Vb44"
HOSTILE = '"}], "x": "<script>alert(1)</script>'
DOCS = Path(__file__).resolve().parents[2] / "docs" / "slo-semantics.md"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Endpoint:
    """A local receiver: records every request, answers ``status[path]`` (default 202)."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)
    answer: dict[str, bytes] = field(default_factory=dict)
    delay_s: dict[str, float] = field(default_factory=dict)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@contextmanager
def endpoint(port: int = 0) -> Iterator[Endpoint]:
    recorder = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            recorder.received.append(Received(self.path, dict(self.headers.items()), body))
            time.sleep(recorder.delay_s.get(self.path, 0.0))
            answer = recorder.answer.get(self.path, b'{"status": "success"}')
            self.send_response(recorder.status.get(self.path, 202))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    recorder.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PD = "/v2/enqueue"
OPS = f"/hooks/ops/{HOOK_TOKEN}"

SUITE = """\
version: 1
service: shop
target: {{base_url: "http://127.0.0.1:9"}}
settings:
  incident: {{open_after: 3, resolve_after: 2}}
  pagerduty:
    routing_key: "{key}"
    url: "{base}{pd}"
    timeout: 2s
  webhooks:
    ops:
      url: "{hook}"
      headers: {{X-Api-Key: "hook-header-s3cret"}}
      timeout: {timeout}
{hooks}{extra}
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {{json: depth, unit: count}}
        state: {{json: state}}
slos:
  depth:
    probe: queue
    measure: depth
    threshold: value < 100
    owner: team-queue
    runbook: https://runbooks.example/depth
  state:
    probe: queue
    measure: state
    threshold: value == "ok"
    owner: team-web
    runbook: "javascript:alert(1)"
"""


def suite(
    base: str, hook: str | None = None, extra: str = "", timeout: str = "2s", hooks: str = ""
) -> LoadedSloFile:
    """``extra``: more settings; ``hooks``: more webhooks (indented under ``webhooks:``)."""
    text = SUITE.format(
        key=ROUTING_KEY,
        base=base,
        pd=PD,
        hook=hook or f"{base}{OPS}",
        extra=extra,
        timeout=timeout,
        hooks=hooks,
    )
    return load_slo_text(text, "slo.yaml", {})


def one_run(
    loaded: LoadedSloFile, history: str, index: int, depth: float, state: str = "ok"
) -> RunResult:
    """What the plugin does in one scheduled run, with the clock injected."""
    run = SuiteRun(
        loaded, history_option=history, started_at=T0 + index * STEP, run_id=f"run-{index}"
    )
    run.start_notifiers()
    run.measurements["queue"] = Measurement(
        "queue",
        "http",
        run.started_at,
        0.01,
        {
            "depth": Series("depth", Unit.COUNT, (depth,)),
            "state": Series("state", Unit.NONE, (state,)),
        },
    )
    run.judge("depth")
    run.judge("state")
    return run.record(run.result())


def outage(index: int) -> float:
    """Two outages in 24 runs: bad 0–5, good 6–11, bad 12–17, good 18–23."""
    return 500.0 if (index // 6) % 2 == 0 else 1.0


def test_pagerduty_and_a_webhook_get_one_message_per_transition_over_24_runs(
    tmp_path: Path,
) -> None:
    history = str(tmp_path / "h.db")
    with endpoint() as receiver:
        loaded = suite(receiver.base_url)
        results = [one_run(loaded, history, i, outage(i)) for i in range(24)]
    assert all(not r.warnings for r in results)

    events = [r.json for r in receiver.at(PD)]
    assert [e["event_action"] for e in events] == ["trigger", "resolve"] * 2
    first, second = events[0]["dedup_key"], events[2]["dedup_key"]
    assert events[1]["dedup_key"] == first and events[3]["dedup_key"] == second  # resolve its own
    assert first != second  # one key per incident
    assert re.fullmatch(r"sloprobe/shop/production/depth/incident-\d+", first)

    trigger = events[0]
    assert trigger["routing_key"] == ROUTING_KEY
    payload = trigger["payload"]
    assert payload["summary"] == (
        "shop (production): SLO depth breached: value = 500, expected value < 100 "
        "(3 bad runs, since 00:00 UTC)"
    )
    assert len(payload["summary"]) <= 1024
    assert payload["severity"] == "critical"
    assert payload["source"] == "127.0.0.1"
    assert payload["component"] == "depth"
    assert payload["timestamp"].startswith("2026-11-01T00:10:00")  # the run that opened it
    details = payload["custom_details"]
    assert details["observed"] == "value = 500"
    assert details["threshold"] == "value < 100"
    assert details["owner"] == "team-queue"
    assert details["runbook"] == "https://runbooks.example/depth"
    assert details["incident"]["since"].startswith("2026-11-01T00:00:00")
    assert trigger["links"] == [{"href": "https://runbooks.example/depth", "text": "Runbook"}]
    assert set(events[1]) == {"routing_key", "event_action", "dedup_key"}

    hooks = [r.json for r in receiver.at(OPS)]
    assert [(h["slo"], h["event"]) for h in hooks] == [
        ("depth", "opened"),
        ("depth", "resolved"),
    ] * 2
    assert len({h["id"] for h in hooks}) == 4  # four notices, each sent once
    opened = receiver.at(OPS)[0]
    assert opened.headers["Content-Type"] == "application/json"
    assert opened.headers["X-Api-Key"] == "hook-header-s3cret"
    assert opened.headers["Idempotency-Key"] == hooks[0]["id"]
    assert hooks[0]["incident"]["bad_runs"] == 3


def test_a_refused_delivery_is_sent_once_on_the_next_run(tmp_path: Path) -> None:
    history = str(tmp_path / "h.db")
    with endpoint() as receiver:
        loaded = suite(receiver.base_url)
        one_run(loaded, history, 0, 500.0)
        one_run(loaded, history, 1, 500.0)
        receiver.status[OPS] = 503
        receiver.status[PD] = 429
        refused = one_run(loaded, history, 2, 500.0)  # opens the incident; both refuse it
        (warning,) = refused.warnings
        assert "2 notification(s) not delivered" in warning
        assert "webhook `ops` answered 503" in warning
        assert "PagerDuty answered 429" in warning
        assert refused.verdicts[0].status.value == "breach"
        del receiver.status[OPS], receiver.status[PD]
        for i in range(3, 10):
            assert not one_run(loaded, history, i, 500.0).warnings
    sent = receiver.at(OPS)
    assert len(sent) == 2  # the refused attempt, then the one delivery
    assert sent[0].body == sent[1].body  # the same notice, from the run that opened it
    assert sent[0].headers["Idempotency-Key"] == sent[1].headers["Idempotency-Key"]
    events = [r.json for r in receiver.at(PD)]
    assert [e["event_action"] for e in events] == ["trigger", "trigger"]
    assert events[0]["dedup_key"] == events[1]["dedup_key"]


def test_a_receiver_that_refuses_connections_gets_it_when_it_is_back(tmp_path: Path) -> None:
    history = str(tmp_path / "h.db")
    port = free_port()
    with endpoint() as pagerduty:
        loaded = suite(pagerduty.base_url, hook=f"http://127.0.0.1:{port}{OPS}")
        for i in range(3):
            result = one_run(loaded, history, i, 500.0)
        assert any("webhook `ops` unreachable (ConnectError)" in w for w in result.warnings)
        with endpoint(port) as back:
            for i in range(3, 6):
                one_run(loaded, history, i, 500.0 if i < 4 else 1.0)
    assert [r.json["event"] for r in back.at(OPS)] == ["opened", "resolved"]


def test_each_delivery_is_bounded_by_its_timeout(tmp_path: Path) -> None:
    history = str(tmp_path / "h.db")
    with endpoint() as receiver:
        loaded = suite(receiver.base_url, timeout="300ms")
        for i in range(2):
            one_run(loaded, history, i, 500.0)
        receiver.delay_s[OPS] = 5.0
        started = time.monotonic()
        slow = one_run(loaded, history, 2, 500.0)  # opens the incident
        elapsed = time.monotonic() - started
        del receiver.delay_s[OPS]
        assert elapsed < 1.5  # the webhook's answer was due in 5 s; the run waited 300 ms
        assert any("webhook `ops` gave no answer within 300 ms" in w for w in slow.warnings)
        assert not one_run(loaded, history, 3, 500.0).warnings
    keys = {r.headers["Idempotency-Key"] for r in receiver.at(OPS)}
    assert len(receiver.at(OPS)) == 2 and len(keys) == 1  # the same notice, sent again


def test_routes_by_owner(tmp_path: Path) -> None:
    routes = """\
  routes:
    team-queue: [pagerduty]
    "*": [ops]
"""
    history = str(tmp_path / "h.db")
    with endpoint() as receiver:
        loaded = suite(receiver.base_url, extra=routes)
        for i in range(4):
            one_run(loaded, history, i, 500.0, "down")  # both SLOs open an incident
    assert {r.json["payload"]["component"] for r in receiver.at(PD)} == {"depth"}
    (state,) = [r.json for r in receiver.at(OPS)]
    assert state["slo"] == "state" and state["owner"] == "team-web"
    assert state["runbook"] is None  # `javascript:` is no link


def test_without_a_star_route_other_owners_go_everywhere() -> None:
    policies = {"pagerduty": ChannelPolicy(True), "ops": ChannelPolicy(True)}
    only_pd = routed(policies, {"team-queue": ["pagerduty"]})
    assert only_pd["pagerduty"].serves("team-queue")
    assert not only_pd["ops"].serves("team-queue")
    assert only_pd["ops"].serves("team-web") and only_pd["pagerduty"].serves(None)
    muted = routed(policies, {"team-queue": [], "*": ["ops"]})
    assert not muted["ops"].serves("team-queue") and not muted["pagerduty"].serves("team-queue")
    assert muted["ops"].serves(None) and not muted["pagerduty"].serves("team-web")


@pytest.mark.parametrize(
    "template",
    [
        "generic",
        '{"text": {{ text }}, "observed": {{ observed }}, "reason": {{ reason | json }}}',
    ],
)
def test_hostile_target_text_stays_a_json_string(tmp_path: Path, template: str) -> None:
    history = str(tmp_path / "h.db")
    with endpoint() as receiver:
        raw = f"""\
    raw:
      url: "{receiver.base_url}/hooks/raw"
      body: {json.dumps(template)}
"""
        loaded = suite(receiver.base_url, hooks=raw)
        for i in range(3):
            one_run(loaded, history, i, 1.0, HOSTILE)
    (sent,) = receiver.at("/hooks/raw")
    body = sent.json  # valid JSON
    assert "x" not in body
    assert HOSTILE in body["observed"]
    assert HOSTILE in body["text"]
    assert HOSTILE in body["reason"]


def test_a_template_that_fails_at_run_time_is_said_and_its_notices_wait(tmp_path: Path) -> None:
    history = str(tmp_path / "h.db")
    with endpoint() as receiver:
        typo = f"""\
    typo:
      url: "{receiver.base_url}/hooks/typo"
      body: '{{"slo": {{{{ notice.sol }}}}}}'
"""
        loaded = suite(receiver.base_url, hooks=typo)
        results = [one_run(loaded, history, i, 500.0) for i in range(3)]
    said = "\n".join(results[-1].warnings)
    assert "settings.webhooks.typo.body: cannot render a notice of kind `opened`" in said
    assert "webhook `typo` not sent" in said and "sent again next run" in said
    assert not receiver.at("/hooks/typo")
    assert len(receiver.at(OPS)) == 1  # the other channels are not held up


def test_secrets_reach_no_result_report_or_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer
) -> None:
    """A target that echoes the routing key and the webhook's token, receivers that quote them."""
    from sloprobe.sinks import publish

    history = str(tmp_path / "h.db")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_REPOSITORY", "shop/probes")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    with endpoint() as receiver:
        loaded = suite(receiver.base_url)
        receiver.status[PD] = 400
        receiver.answer[PD] = json.dumps(
            {"status": "invalid event", "errors": [f"routing key {ROUTING_KEY} is unknown"]}
        ).encode()
        receiver.status[OPS] = 500
        receiver.answer[OPS] = json.dumps({"message": f"bad {OPS} hook-header-s3cret"}).encode()
        echo = f"key {ROUTING_KEY} hook {receiver.base_url}{OPS} header hook-header-s3cret"
        scripted.routes["/metrics"] = Answer(200, json.dumps({"depth": 500, "state": echo}))
        for i in range(3):
            run = SuiteRun(
                loaded,
                base_url_option=scripted.base_url,
                history_option=history,
                started_at=T0 + i * STEP,
                run_id=f"run-{i}",
            )
            run.needed_yaml_probes = {"queue"}
            run.measure_once()  # learns the notifiers' secrets, then probes the target
            run.judge("depth")
            run.judge("state")
            result = run.record(run.result())
        written, _ = publish(result, tmp_path / "reports")
    warnings = "\n".join(result.warnings)
    assert "PagerDuty answered 400: routing key *** is unknown" in warnings
    assert "webhook `ops` answered 500: bad *** ***" in warnings
    assert {p.name for p in written} >= {"results.json", "report.html"}
    outputs = [p.read_text() for p in written if p.suffix in (".json", ".html")] + [warnings]
    assert any("header ***" in text for text in outputs[:-1])  # the echo was kept, masked
    for text in outputs:
        for secret in (ROUTING_KEY, HOOK_TOKEN, "hook-header-s3cret"):
            assert secret not in text
    # ... while the receivers got what they need
    trigger = receiver.at(PD)[0].json
    assert trigger["routing_key"] == ROUTING_KEY
    assert trigger["client_url"] == "https://github.example/shop/probes/actions/runs/42"
    assert trigger["links"][-1] == {"href": trigger["client_url"], "text": "Run"}


def test_a_text_webhook() -> None:
    template = "{{ text }}\nrunbook: {{ runbook_url or 'none' }}"
    channel = webhook.WebhookChannel("t", "http://x", "POST", {}, template, "text", 1.0, str)
    assert channel.problem is None and channel._template is not None
    body = webhook.render(channel._template, "text", webhook.sample("opened"), str).decode()
    assert (
        body
        == "service (production): SLO sample-slo breached\nrunbook: https://runbooks.example/sample"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"text": {{ text | jsn }}}', "template line 1: No filter named 'jsn'"),
        ('{"text": {{ text }', "template line 1: unexpected '}'"),
        ('{% if owner %}{"a": 1}', "looking for the following tags: 'elif' or 'else' or 'endif'"),
        ("team", "no preset named `team`"),
    ],
)
def test_a_bad_template_is_a_config_error_naming_the_field(body: str, message: str) -> None:
    text = f"""\
version: 1
service: shop
settings:
  webhooks:
    chat:
      url: https://hooks.example/x
      body: {json.dumps(body)}
probes:
  health:
    http: {{path: /health}}
slos:
  up:
    probe: health
    measure: latency
    threshold: p95 < 1s
"""
    with pytest.raises(ConfigError) as caught:
        load_slo_text(text, "slo.yaml", {})
    (problem,) = caught.value.problems
    assert problem.field == "settings.webhooks.chat.body"
    assert problem.line == 7
    assert message in problem.message


def test_routes_name_known_channels_and_webhooks_no_built_in_one() -> None:
    base = """\
version: 1
service: shop
settings:
{settings}
probes:
  health:
    http: {{path: /health}}
slos:
  up:
    probe: health
    measure: latency
    threshold: p95 < 1s
"""
    routes = "  webhooks: {ops: {url: https://h.example/x}}\n  routes: {team-a: [pagerdty]}"
    with pytest.raises(ConfigError) as caught:
        load_slo_text(base.format(settings=routes), "slo.yaml", {})
    (problem,) = caught.value.problems
    assert problem.field == "settings.routes"
    assert (
        "`team-a` routes to `pagerdty`, not a channel; did you mean `pagerduty`?" in problem.message
    )
    with pytest.raises(ConfigError) as caught:
        load_slo_text(base.format(settings="  webhooks: {slack: {url: https://h.example/x}}"))
    assert "built-in channel" in caught.value.problems[0].message


TEMPLATES = [
    '{"a": {{ {"x": {"y": 1}} }}}',
    "{{ '}}' }} {# a comment #}",
    "{% for l in links %}{{ l.url }}{% if not loop.last %},{% endif %}{% else %}[]{% endfor %}",
    "{%- set x = 1 -%}{{- x -}}",
    "{% raw %}{{ not parsed {% endraw %}",
    "{{ x | truncate(3) | markdown }}",
    "{{ x | jsn }}",
    "{{ x }",
    "{{ x ) }}",
    "{% if a %}",
    "{% endfor %}",
    "{% else %}",
    "{{ }}",
    "{{ x | }}",
    "{# open",
    "{{ 'open }}",
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_load_time_check_agrees_with_jinja2(template: str) -> None:
    """What slo.yaml's check accepts compiles; what it refuses, Jinja2 refuses too."""
    from jinja2 import TemplateError

    problem = template_problem(template)
    try:
        webhook.environment("json").from_string(template)
    except TemplateError:
        assert problem is not None
    else:
        assert problem is None, problem


def test_the_filters_slo_yaml_allows_are_the_sandbox_s() -> None:
    assert set(EXTRA_TEMPLATE_FILTERS) <= set(webhook.environment("json").filters)


def _docs_example(title: str) -> str:
    text = DOCS.read_text()
    section = text.split("## Webhooks and PagerDuty", 1)[1]
    block = section.split(f"#### {title}\n", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    return block


@pytest.mark.parametrize("title", ["Microsoft Teams", "Discord"])
def test_the_docs_examples_load_and_render_json(title: str) -> None:
    example = _docs_example(title)
    head = "version: 1\nservice: shop\n"
    tail = "probes:\n  health:\n    http: {path: /health}\nslos:\n  up:\n    probe: health\n    measure: latency\n    threshold: p95 < 1s\n    owner: team-web\n"
    environ = {
        "TEAMS_WEBHOOK_URL": "https://example.invalid/workflows/x",
        "DISCORD_WEBHOOK_URL": "https://discord.example/api/webhooks/1/x",
        "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
    }
    loaded = load_slo_text(head + example + tail, "slo.yaml", environ)
    hooks = loaded.spec.settings.webhooks
    assert hooks
    for hook in hooks.values():
        assert webhook.check(hook.body, hook.format, ("opened", "resolved", "reminder")) is None
