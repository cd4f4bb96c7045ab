"""sloprobe talks to sentry-sdk through its public API only, and what it sends did not change.

A sentry-sdk minor release may rename anything private: the scan below fails on any
private sentry_sdk name in src/sloprobe. The notifier itself runs against the real
sentry-sdk and a real local envelope endpoint (tests/support/fake_sentry.py).
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sloprobe.model.notice import Notice
from sloprobe.notify.sentry import SentryNotifier
from sloprobe.redact import Redactor
from tests.support.fake_sentry import fake_sentry
from tests.support.python_ast import parse as parse_python

SRC = Path(__file__).resolve().parents[2] / "src" / "sloprobe"
SECRET = "s3cret-xyz-0042"
CONFIG = {
    "schedule": {"type": "crontab", "value": "*/5 * * * *"},
    "checkin_margin": 3,
    "max_runtime": 20,
    "timezone": "Europe/Berlin",
}
# Check-ins as sent by the previous implementation (sentry_sdk.crons.api._create_check_in_event
# through scope.capture_event, sentry-sdk 2.76.0), recorded against fake_sentry before the
# change; ids, timestamps, the trace context, sdk and server_name left out.
RECORDED_CHECKINS: list[dict[str, Any]] = [
    {
        "type": "check_in",
        "monitor_slug": "shop-production-sloprobe",
        "status": "in_progress",
        "duration": None,
        "environment": "production",
        "release": "v1.2.3",
        "platform": "python",
        "monitor_config": {
            "checkin_margin": 3,
            "max_runtime": 20,
            "schedule": {"type": "crontab", "value": "*/5 * * * *"},
            "timezone": "Europe/Berlin",
        },
    },
    {
        "type": "check_in",
        "monitor_slug": "shop-production-sloprobe",
        "status": "ok",
        "duration": 12.5,
        "environment": "production",
        "release": "v1.2.3",
        "platform": "python",
        "monitor_config": {
            "checkin_margin": 3,
            "max_runtime": 20,
            "schedule": {"type": "crontab", "value": "*/5 * * * *"},
            "timezone": "Europe/Berlin",
        },
    },
    {
        "type": "check_in",
        "monitor_slug": "shop-production-depth",
        "status": "error",
        "duration": None,
        "environment": "production",
        "release": "v1.2.3",
        "platform": "python",
        "monitor_config": {
            "checkin_margin": 3,
            "failure_issue_threshold": 1,
            "max_runtime": 20,
            "recovery_threshold": 1,
            "schedule": {"type": "crontab", "value": "*/5 * * * *"},
            "timezone": "Europe/Berlin",
        },
    },
    {  # report_cannot_run(): no monitor_config at all
        "type": "check_in",
        "monitor_slug": "sloprobe",
        "status": "error",
        "duration": None,
        "environment": "production",
        "release": "v1.2.3",
        "platform": "python",
    },
    {
        "type": "check_in",
        "monitor_slug": "slug-***",
        "status": "ok",
        "duration": None,
        "environment": "production",
        "release": "v1.2.3",
        "platform": "python",
        "monitor_config": {"timezone": "***"},
    },
]
VOLATILE = {"check_in_id", "event_id", "timestamp", "contexts", "sdk", "server_name"}


# --- no private sentry_sdk name in src/sloprobe ------------------------------------------------


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def private_sentry_uses(source: str) -> list[str]:
    """Private sentry_sdk names the source imports, reads, or overrides in a subclass."""
    tree = parse_python(source)
    found: list[str] = []
    bound: set[str] = set()  # local names standing for sentry_sdk modules and objects
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sentry_sdk":
                    found += [f"import {alias.name}" for p in alias.name.split(".") if _private(p)]
                    bound.add(alias.asname or alias.name.split(".")[0])
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "sentry_sdk"
        ):
            found += [f"from {node.module}" for p in node.module.split(".") if _private(p)]
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"from {node.module} import {alias.name}")
                bound.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _root(node) in bound and _private(node.attr):
            found.append(f"{_root(node)}….{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "hasattr"}
            and node.args
            and _root(node.args[0]) in bound
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append(f"{node.func.id}(…, {node.args[1].value!r})")
        elif isinstance(node, ast.ClassDef) and any(_root(b) in bound for b in node.bases):
            for item in ast.walk(node):
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _private(item.name):
                    found.append(f"{node.name}.{item.name} overrides a sentry_sdk class")
                elif (
                    isinstance(item, ast.Attribute)
                    and isinstance(item.ctx, ast.Store)
                    and isinstance(item.value, ast.Name)
                    and item.value.id == "self"
                    and _private(item.attr)
                ):
                    found.append(f"{node.name}: self.{item.attr} on a sentry_sdk class")
    # dotted paths in text too (strings, importlib): sentry_sdk.x._y
    for match in re.finditer(r"\bsentry_sdk(?:\.\w+)+", source):
        if any(_private(part) for part in match.group(0).split(".")):
            found.append(match.group(0))
    return sorted(set(found))


def test_src_uses_no_private_sentry_sdk_name() -> None:
    offences = {
        str(path.relative_to(SRC)): uses
        for path in sorted(SRC.rglob("*.py"))
        if (uses := private_sentry_uses(path.read_text(encoding="utf-8")))
    }
    assert offences == {}


def test_the_scan_finds_what_the_previous_code_did() -> None:
    old = """
import sentry_sdk
from sentry_sdk.transport import HttpTransport
from sentry_sdk.crons.api import _create_check_in_event
from sentry_sdk._types import MonitorConfig

class ConfirmingTransport(HttpTransport):
    def __init__(self, options):
        super().__init__(options)
        self._seen = set()

    def _handle_response(self, response, envelope):
        super()._handle_response(response, envelope)

sentry_sdk.get_client()._capture_log(None, None)
getattr(sentry_sdk.transport, "_parse_rate_limits")
"sentry_sdk.crons.api._create_check_in_event"
"""
    found = private_sentry_uses(old)
    assert "from sentry_sdk.crons.api import _create_check_in_event" in found
    assert "from sentry_sdk._types" in found
    assert "ConfirmingTransport._handle_response overrides a sentry_sdk class" in found
    assert "ConfirmingTransport: self._seen on a sentry_sdk class" in found
    assert "sentry_sdk…._capture_log" in found
    assert "getattr(…, '_parse_rate_limits')" in found
    assert "sentry_sdk.crons.api._create_check_in_event" in found
    public = "import sentry_sdk\nfrom sentry_sdk.crons import capture_checkin\n"
    public += "class T(sentry_sdk.transport.Transport):\n    def __init__(self): self.x = 1\n"
    assert private_sentry_uses(public) == []


# --- the notifier against a real local endpoint ------------------------------------------------


def _notifier(dsn: str, flush_timeout: float = 2.0) -> SentryNotifier:
    return SentryNotifier(dsn, "production", "v1.2.3", Redactor([SECRET]), flush_timeout)


def _event(notifier: SentryNotifier, event_id: str) -> str:
    notice = Notice(1, "depth", "sentry", "opened", "k")
    return notifier.send(
        notice,
        event_id=event_id,
        message="SLO depth breached",
        level="error",
        fingerprint=["sloprobe", "depth"],
        tags={"transition": "opened"},
        contexts={"slo": "depth"},
    )


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the local endpoint got nothing in time"
        time.sleep(0.01)


def test_close_tells_a_2xx_from_a_429() -> None:
    with fake_sentry() as sentry:
        notifier = _notifier(sentry.dsn)
        taken = _event(notifier, "a" * 32)
        taken_checkin = notifier.checkin("shop-probe", "in_progress", None, None, CONFIG)
        notifier.close()
        assert sentry.refused == 0  # answered in order: the first pair was taken

        notifier = _notifier(sentry.dsn)
        first = _event(notifier, "b" * 32)
        _wait_for(lambda: len(sentry.events) == 2)  # taken before Sentry starts refusing
        sentry.mode = "429"
        refused = _event(notifier, "c" * 32)
        refused_checkin = notifier.checkin("shop-probe", "ok", taken_checkin, 1.0, CONFIG)
        accepted = notifier.close()
    assert taken == "a" * 32
    assert first in accepted
    assert refused not in accepted and refused_checkin not in accepted
    assert sentry.refused >= 1  # each envelope asks for itself: 429s are not remembered
    assert [e["event_id"] for e in sentry.events] == ["a" * 32, "b" * 32]


def test_every_accepted_id_is_reported() -> None:
    with fake_sentry() as sentry:
        notifier = _notifier(sentry.dsn)
        event_id = _event(notifier, "d" * 32)
        check_in_id = notifier.checkin("shop-probe", "in_progress", None, None, CONFIG)
        accepted = notifier.close()
    assert {event_id, check_in_id} <= accepted
    assert sentry.checkins[0]["check_in_id"] == check_in_id


def test_a_stalled_sentry_is_bounded_by_the_flush_timeout() -> None:
    with fake_sentry() as sentry:
        sentry.mode, sentry.slow_s = "slow", 3.0
        notifier = _notifier(sentry.dsn, flush_timeout=0.5)
        event_id = _event(notifier, "e" * 32)
        check_in_id = notifier.checkin("shop-probe", "in_progress", None, None, CONFIG)
        start = time.monotonic()
        accepted = notifier.close()
        elapsed = time.monotonic() - start
        sentry.mode = "ok"  # the stalled request ends; nothing more is sent
    assert elapsed < 1.5
    assert event_id not in accepted and check_in_id not in accepted


def _comparable(checkin: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in checkin.items() if k not in VOLATILE}


def test_checkins_carry_what_the_previous_implementation_sent() -> None:
    with fake_sentry() as sentry:
        notifier = _notifier(sentry.dsn)
        cid = notifier.checkin("shop-production-sloprobe", "in_progress", None, None, CONFIG)
        again = notifier.checkin("shop-production-sloprobe", "ok", cid, 12.5, CONFIG)
        monitors = {**CONFIG, "failure_issue_threshold": 1, "recovery_threshold": 1}
        notifier.checkin("shop-production-depth", "error", None, None, monitors)
        notifier.checkin("sloprobe", "error", None, None, {})
        notifier.checkin(f"slug-{SECRET}", "ok", None, None, {"timezone": SECRET})
        accepted = notifier.close()
    assert again == cid and re.fullmatch(r"[0-9a-f]{32}", cid)
    assert [_comparable(c) for c in sentry.checkins] == RECORDED_CHECKINS
    assert [c["check_in_id"] for c in sentry.checkins[:2]] == [cid, cid]
    assert {c["check_in_id"] for c in sentry.checkins} <= accepted
    assert sentry.checkins[0]["sdk"]["name"] == "sentry.python"
    assert SECRET not in b"".join(sentry.raw).decode()


def test_another_projects_sentry_client_is_neither_used_nor_touched() -> None:
    """pytest may be running a project that set up its own Sentry: ours stays apart."""
    import sentry_sdk

    with fake_sentry() as theirs, fake_sentry() as ours:
        their_client = sentry_sdk.Client(
            dsn=theirs.dsn,
            environment="their-env",
            release="their-release",
            default_integrations=False,
        )
        global_scope = sentry_sdk.get_global_scope()
        before = global_scope.client
        global_scope.set_client(their_client)
        try:
            with sentry_sdk.new_scope() as current:
                current.set_client(their_client)  # even in the current scope, looked at first
                notifier = _notifier(ours.dsn)
                event_id = _event(notifier, "f" * 32)
                check_in_id = notifier.checkin("shop-probe", "in_progress", None, None, CONFIG)
                accepted = notifier.close()
                assert sentry_sdk.get_client() is their_client
                assert sentry_sdk.get_current_scope() is current
            assert sentry_sdk.get_global_scope().client is their_client
        finally:
            global_scope.set_client(before)
            their_client.close(timeout=1.0)
    assert {event_id, check_in_id} <= accepted
    assert theirs.raw == []
    assert [(c["environment"], c["release"]) for c in ours.checkins] == [("production", "v1.2.3")]
    assert [(e["environment"], e["release"]) for e in ours.events] == [("production", "v1.2.3")]


@pytest.mark.parametrize("dsn", ["ftp://key@127.0.0.1/1", "http://127.0.0.1/1", "http://k@h/x"])
def test_a_bad_dsn_raises_a_value_error(dsn: str) -> None:
    """notify/run.py turns any exception into 'Sentry not used: …', as before."""
    with pytest.raises(ValueError):
        _notifier(dsn)
