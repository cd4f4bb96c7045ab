"""The small ones of issue 24, item 5: each against real servers, files and databases.

(`sloprobe history show`'s columns are in tests/history/test_history_cli_columns.py.)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.history.simulation import play, suite
from tests.support.scripted_server import Answer, ScriptedServer

from sloprobe.config import ConfigError, load_slo_file, load_slo_text
from sloprobe.config.model import ProbeSpec, Target
from sloprobe.config.yaml_source import EnvPolicy
from sloprobe.demo.run import warm_up
from sloprobe.demo.service import ServiceConfig, start_service
from sloprobe.history import HistoryError, HistoryStore
from sloprobe.history import errors as history_bounds
from sloprobe.model.measurement import Measurement
from sloprobe.plugin.integrations import integrations_line
from sloprobe.probes.context import make_context
from sloprobe.probes.http.spec import HttpProbe
from sloprobe.probes.runner import run_probes
from sloprobe.scaffold import default_source, plan_suite

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

SUITE = """\
version: 1
service: shop
probes:
  health:
    http: {path: /health}
slos:
  health-fast:
    probe: health
    measure: latency
    threshold: p95 < 2s
"""


def _http(base_url: str, target: Target | None = None, **http: object) -> Measurement:
    spec = ProbeSpec(http=HttpProbe.model_validate(http))
    context = make_context(base_url, target or Target(timeout=2.0))
    return run_probes({"p": spec}, context, concurrency=4, default_deadline=10.0)["p"]


def _suite_copy(tmp_path: Path) -> Path:
    """The repository's own probe suite (slo.yaml, probes/), as a user's directory."""
    copy = tmp_path / "suite"
    copy.mkdir()
    for name in ("slo.yaml", "conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(ROOT / "probes", copy / "probes")
    return copy


def _environ(**changes: str) -> dict[str, str]:
    """This environment, without the variables a suite reads unless a test sets them."""
    unset = ("PROBE_BASE_URL", "SLOPROBE_HISTORY_URL", "SENTRY_DSN", "SLACK_WEBHOOK_URL")
    environ = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("CI")}
    environ["PATH"] = f"{BIN}{os.pathsep}{environ.get('PATH', '')}"
    return environ | changes


# --- 2. `sloprobe history export | head`: silent, as `git log | head` ---


def test_an_export_into_a_closed_pipe_stops_silently(tmp_path: Path) -> None:
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'h.db'}")
    play(store, suite(), "g" * 60)  # well past a pipe's 64 KiB: the writer meets the closed end
    store.dispose()
    script = (
        f"set -o pipefail; '{BIN / 'sloprobe'}' history export --history h.db | head -n 1;"
        ' echo "exit=${PIPESTATUS[0]}"'
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.stderr == ""  # before: `sloprobe: [Errno 32] Broken pipe`
    first, status = done.stdout.splitlines()
    assert json.loads(first) == {"format": "sloprobe.history/1"}
    assert status == "exit=141"  # 128 + SIGPIPE, as git's


# --- 3. a variable set but empty ---

WITH_VARIABLE = SUITE.replace("    http: {path: /health}", "    http: {path: '${HEALTH_PATH}'}")


def test_a_variable_set_but_empty_is_said_to_be_so() -> None:
    with pytest.raises(ConfigError) as empty:
        load_slo_text(WITH_VARIABLE, "slo.yaml", {"HEALTH_PATH": ""})
    [problem] = empty.value.problems
    assert "environment variable `HEALTH_PATH` is set but empty" in problem.message
    with pytest.raises(ConfigError) as unset:
        load_slo_text(WITH_VARIABLE, "slo.yaml", {})
    assert "environment variable `HEALTH_PATH` is not set" in unset.value.problems[0].message


def test_an_empty_variable_is_still_treated_as_unset(tmp_path: Path) -> None:
    """As before: `${X}` empty takes a default, and validation notes it as it notes an unset one."""
    with_default = WITH_VARIABLE.replace("${HEALTH_PATH}", "${HEALTH_PATH:-/ready}")
    loaded = load_slo_text(with_default, "slo.yaml", {"HEALTH_PATH": ""})
    assert loaded.spec.probes["health"].http is not None
    assert loaded.spec.probes["health"].http.path == "/ready"
    (tmp_path / "slo.yaml").write_text(WITH_VARIABLE)
    lenient = load_slo_file(
        tmp_path / "slo.yaml", environ={"HEALTH_PATH": ""}, env=EnvPolicy(lenient=True)
    )
    assert [n.message for n in lenient.notes if "HEALTH_PATH" in n.message] == [
        "environment variable `HEALTH_PATH` is set but empty "
        "(write `${HEALTH_PATH:-default}` for a default)"
    ]


# --- 4. an HTTP failure says the service's own message ---


def test_an_unexpected_status_says_the_services_message(scripted: ScriptedServer) -> None:
    detail = "Database unavailable: connection to 10.0.0.5:5432 refused"
    scripted.routes["/health"] = Answer(503, json.dumps({"detail": detail}))
    m = _http(scripted.base_url, path="/health")
    assert m.failure == (
        f'GET {scripted.base_url}/health: HTTP 503, expected 2xx; the service said "{detail}"'
    )


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('{"message": "queue full"}', "queue full"),
        ('{"error": {"message": "rate limited", "code": 42}}', "rate limited"),
        ('{"errors": [{"detail": "bad tenant"}, {"detail": "other"}]}', "bad tenant"),
        ('{"detail": [{"loc": ["body"], "msg": "field required"}]}', "field required"),
        ("upstream timed out\nat gateway 3\n", "upstream timed out"),
    ],
    ids=["message", "error", "errors[0]", "fastapi-validation", "text"],
)
def test_the_message_is_found_where_services_put_it(
    scripted: ScriptedServer, body: str, said: str
) -> None:
    scripted.routes["/x"] = Answer(500, body)
    m = _http(scripted.base_url, path="/x")
    assert m.failure is not None and m.failure.endswith(f'; the service said "{said}"')


@pytest.mark.parametrize(
    "body",
    ['{"detail": "Not Found"}', "<html><body><h1>404</h1></body></html>", "", "{}"],
    ids=["the-status-phrase", "html", "empty", "no-message"],
)
def test_nothing_is_added_when_the_body_says_nothing_more(
    scripted: ScriptedServer, body: str
) -> None:
    scripted.routes["/x"] = Answer(404, body)
    assert _http(scripted.base_url, path="/x").failure == (
        f"GET {scripted.base_url}/x: HTTP 404, expected 2xx"
    )


def test_the_message_is_bounded_masked_and_inert(scripted: ScriptedServer) -> None:
    token = "s3cr3t-T0KEN-4f9a2c7e1b"
    target = Target.model_validate({"timeout": 2.0, "auth": {"bearer": token}})
    # The secret straddles the cut: masked before cutting, no piece of it shown.
    message = "x" * 110 + f" {token} \u202erest" + "y" * 200
    scripted.routes["/x"] = Answer(503, json.dumps({"detail": message}))
    m = _http(scripted.base_url, target, path="/x")
    assert m.failure is not None
    said = m.failure.split("; the service said ", 1)[1]
    assert token not in m.failure and token[:4] not in said
    cut = said.strip('"').replace("\\u202e", "\u202e")  # 120 characters before neutralising
    assert len(cut) <= 120 and said.endswith('…"') and " *** \\u202e" in said
    scripted.routes["/y"] = Answer(503, json.dumps({"detail": "bad \u202e\u0007 input"}))
    m = _http(scripted.base_url, target, path="/y")
    assert m.failure is not None and m.failure.endswith('"bad \\u202e\\u0007 input"')


# --- 5. the scheduled workflow's status page, when the probe wrote no history ---


def _status_page_steps() -> list[tuple[str, str]]:
    """(workflow, the Status page step's script) of the repository's and the scaffold's."""
    scaffold = plan_suite("prometheus", "svc", default_source())
    texts = {
        ".github/workflows/probe.yml": (ROOT / ".github/workflows/probe.yml").read_text(),
        "scaffold probe.yml": scaffold.files[Path(".github/workflows/probe.yml")],
    }
    found = []
    for name, text in texts.items():
        steps = yaml.safe_load(text)["jobs"]["probe"]["steps"]
        [step] = [s for s in steps if s.get("name") == "Status page"]
        found.append((name, step["run"]))
    return found


@pytest.mark.parametrize(
    ("workflow", "script"), _status_page_steps(), ids=["repository", "scaffold"]
)
def test_the_status_page_step_is_skipped_with_a_notice_when_there_is_no_history(
    workflow: str, script: str, tmp_path: Path
) -> None:
    (tmp_path / "step.sh").write_text(script)
    # GitHub runs a step as `bash -e`, an unset secret as an empty string.
    run = ["bash", "-e", str(tmp_path / "step.sh")]
    environ = _environ(SLOPROBE_HISTORY_URL="")
    done = subprocess.run(
        run, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr  # before: 4, `no history at …`
    assert "::notice title=Status page skipped::no history at reports/history.db" in done.stdout
    assert not (tmp_path / "reports").exists()
    # With history, the step writes the page as before.
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'reports' / 'history.db'}")
    play(store, suite(), "gg")
    store.dispose()
    done = subprocess.run(
        run, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::notice" not in done.stdout
    assert (tmp_path / "reports" / "status" / "index.html").is_file()


# --- 6. pg8000 history URLs get the connect timeout psycopg URLs have ---


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (backlog) and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_a_silent_pg8000_history_server_is_given_up_on_within_the_connect_timeout(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pg8000")
    monkeypatch.setattr(history_bounds, "PG_CONNECT_TIMEOUT_S", 2)
    url = f"postgresql+pg8000://probe:s3cret-pw@127.0.0.1:{silent_port}/h"
    raised: list[BaseException] = []

    def open_history() -> None:
        try:
            HistoryStore.open(url)
        except BaseException as exc:
            raised.append(exc)

    started = time.monotonic()
    opening = threading.Thread(target=open_history, daemon=True)  # before: it waited for ever
    opening.start()
    opening.join(timeout=15)
    took = time.monotonic() - started
    assert not opening.is_alive(), "no bound: still waiting for the silent server"
    assert 1.5 <= took < 6
    [caught] = raised
    assert isinstance(caught, HistoryError)
    assert str(caught) == (
        f"cannot open history at postgresql+pg8000://***@127.0.0.1:{silent_port}/h: "
        "no answer from the history database within 2s (PostgreSQL connect_timeout)"
    )


def test_a_pg8000_history_works_on_a_real_postgresql(postgres_history_url: str) -> None:
    """Its socket bound, once connected, is above the server's own lock and statement bounds."""
    pytest.importorskip("pg8000")
    url = postgres_history_url.replace("+psycopg://", "+pg8000://")
    store = HistoryStore.open(url)
    try:
        [result] = play(store, suite(), "g")
        with store.engine.connect() as conn:
            sock = conn.connection.dbapi_connection._usock  # type: ignore[union-attr]
            reads = max(history_bounds.PG_LOCK_TIMEOUT_S, history_bounds.PG_STATEMENT_TIMEOUT_S)
            assert sock.gettimeout() == reads + history_bounds.PG_CONNECT_TIMEOUT_S
    finally:
        store.dispose()
    assert result.verdicts[0].history is not None


# --- 7. the integrations line names webhooks (and PagerDuty) that are off ---


def test_the_integrations_line_names_a_webhook_that_is_off() -> None:
    extra = (
        "settings:\n"
        "  pagerduty: {routing_key: '${PAGERDUTY_ROUTING_KEY:-}'}\n"
        "  webhooks:\n"
        "    teams: {url: '${TEAMS_WEBHOOK_URL:-}', body: teams}\n"
        "    ops: {url: 'https://hooks.example/ops', body: generic}\n"
    )
    spec = load_slo_text(SUITE + extra, "slo.yaml", {}).spec
    environ = {
        "SENTRY_DSN": "http://k@127.0.0.1:9/1",
        "SLACK_WEBHOOK_URL": "http://x/h",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x",
    }
    assert integrations_line(spec, environ, "sqlite:///h.db", None) == (
        "integrations: PagerDuty off (routing_key is empty), webhook teams off (url is empty)"
    )
    on = load_slo_text(
        SUITE + extra,
        "slo.yaml",
        {"TEAMS_WEBHOOK_URL": "https://t/x", "PAGERDUTY_ROUTING_KEY": "k"},
    ).spec
    assert integrations_line(on, environ, "sqlite:///h.db", None) is None


# --- 8. a suite that set no environment is not labelled production ---


@pytest.mark.parametrize(
    ("environment", "label"),
    [("", "environment unset"), ("environment: staging\n", "staging")],
    ids=["unset", "set"],
)
def test_the_summary_says_unset_for_a_suite_with_no_environment(
    pytester: pytest.Pytester, scripted: ScriptedServer, environment: str, label: str
) -> None:
    scripted.routes["/health"] = Answer(200, "{}")
    pytester.makefile(
        ".yaml", slo=SUITE.replace("service: shop\n", f"service: shop\n{environment}")
    )
    result = pytester.runpytest(f"--base-url={scripted.base_url}", "--history=off")
    assert result.ret == 0
    result.stdout.fnmatch_lines([f"*SLO summary: shop ({label})*"])
    assert "(production)" not in result.stdout.str()


# --- 9. the demo's Python probe fails in one clear line ---


def test_the_demo_job_probe_fails_in_one_line_without_retry_noise(tmp_path: Path) -> None:
    copy = _suite_copy(tmp_path)
    with start_service(ServiceConfig()) as service:
        service.set_faults(workers_stopped=True)
        done = subprocess.run(
            [str(BIN / "pytest"), "-k", "job-roundtrip", "-p", "no:cacheprovider"],
            cwd=copy,
            env=_environ(PROBE_BASE_URL=service.base_url, SLOPROBE_JOB_TIMEOUT="0.5"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "RetryError" not in out and "During handling" not in out
    failure = out.split("_ test_job_roundtrip _", 1)[1].split("\n_", 1)[0]
    [line] = [line for line in failure.splitlines()[1:] if line.strip()]
    assert line.startswith("job ") and line.endswith("did not finish within 0.5s")


# --- 10. a mistyped SQLite URL is refused, with what was meant ---


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (
            "sqlite:/tmp/h.db",
            "`sqlite:/tmp/h.db` is no SQLite URL (too few slashes), so it would be taken for a "
            "file path under the working directory: write `sqlite:////tmp/h.db` for the absolute "
            "path /tmp/h.db, or `sqlite:///tmp/h.db` for tmp/h.db relative to the working directory",
        ),
        (
            "sqlite://tmp",
            "`sqlite://tmp` is no SQLite URL: `tmp` would be a host, which SQLite URLs never have "
            "(`sqlite:///` before a relative path, `sqlite:////` before an absolute one): write "
            "`sqlite:////tmp` for the absolute path /tmp, or `sqlite:///tmp` for tmp relative to "
            "the working directory",
        ),
    ],
    ids=["too-few-slashes", "a-host"],
)
@pytest.mark.parametrize("command", ["import", "run"])
def test_a_mistyped_sqlite_url_is_refused_with_what_was_meant(
    url: str, error: str, command: str, tmp_path: Path, scripted: ScriptedServer
) -> None:
    """Before, `sqlite:/tmp/h.db` was quietly a history at ./sqlite:/tmp/h.db."""
    (tmp_path / "slo.yaml").write_text(SUITE)
    scripted.routes["/health"] = Answer(200, "{}")
    arguments = {
        "import": ["history", "import", "--history", url, os.devnull],
        "run": ["run", "--base-url", scripted.base_url, "--history", url],
    }[command]
    done = subprocess.run(
        [str(BIN / "sloprobe"), *arguments],
        cwd=tmp_path,
        env=_environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout + done.stderr
    assert error in out
    if command == "import":
        assert done.returncode == 4
    else:  # a run goes on without history, and says so
        assert f"history not used: {error}" in out
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) in (
        ["slo.yaml"],
        ["reports", "slo.yaml"],
    )
    assert not list(tmp_path.rglob("*.db"))


# --- 11. "other other" ---


def test_a_probe_run_after_the_timed_ones_says_other_once(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    database = tmp_path / "jobs.db"
    with sqlite3.connect(database) as db:
        db.execute("create table jobs (id integer)")
    scripted.routes["/health"] = Answer(200, "{}")
    sql = {"url": f"sqlite:///{database}", "queries": {"n": {"sql": "select count(*) from jobs"}}}
    probes = {
        "health": ProbeSpec.model_validate({"http": {"path": "/health"}}),
        "rows": ProbeSpec.model_validate({"sql": sql}),
        "more-rows": ProbeSpec.model_validate({"sql": sql}),
        "even-more-rows": ProbeSpec.model_validate({"sql": sql}),
    }
    context = make_context(scripted.base_url, Target(timeout=2.0))
    measured = run_probes(probes, context, concurrency=4, default_deadline=10.0)
    assert (
        measured["rows"]
        .details["scheduled"]
        .startswith("then, with 2 other probes, at most 4 at once")
    )
    assert measured["health"].details["scheduled"].startswith("first, alone")
    assert not any("other other" in m.details["scheduled"] for m in measured.values())


# --- 12. the README's `-k queue-depth` line runs as written ---


def test_the_readme_line_for_one_slo_has_the_base_url_it_needs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    [line] = [x for x in readme.splitlines() if "-k queue-depth -v" in x]
    command = line.split("  #", 1)[0].strip()
    copy = _suite_copy(tmp_path)
    with start_service(ServiceConfig()) as service:
        warm_up(service.base_url)
        done = subprocess.run(
            ["bash", "-c", command.replace("https://jobs.example.com", service.base_url)],
            cwd=copy,
            env=_environ(),  # no PROBE_BASE_URL: the line must carry the target itself
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stdout + done.stderr  # before: "no target to probe"
    assert "slo.yaml::queue-depth PASSED" in done.stdout
