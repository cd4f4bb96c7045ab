"""Discovery and the shipped examples agree (issue 27, item 6): against a server that answers only
as a seed shows, `sloprobe discover` proposes the probes, paths and fields of that seed's example.

Where the example leaves a field to a `${VAR}` (the seed names it without showing it), the
seed-shaped server gives it a name of its own; discovery must find exactly that name — the
value a user would fill in. Where the example leaves a unit to a variable because the seed
cannot tell it (a success rate: ratio or percent), discovery must not guess it either: it says
the field was seen and why it is not proposed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from sloprobe.config import EnvPolicy, load_slo_file
from sloprobe.probes.http.spec import HttpProbe
from tests.discover.support import discover, validates
from tests.support.luster_server import ASSET, FIELDS, PASSWORD, luster_service
from tests.support.marb_stack import QUEUE, marb_stack
from tests.support.pose_service import ADMIN_JWT, pose_service
from tests.support.pose_service import QUEUE as POSE_QUEUE
from tests.support.redis_process import have_redis_server, redis_process

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _http_reads(spec: Any) -> dict[str, dict[str, str]]:
    """{path: {JSON path: unit}} of every GET http probe in a loaded suite."""
    reads: dict[str, dict[str, str]] = {}
    for probe in spec.probes.values():
        http = getattr(probe, "http", None)
        if isinstance(http, HttpProbe) and http.method == "GET":
            values = reads.setdefault(http.path, {})
            for value in http.values.values():
                if value.json_path is not None:
                    values[value.json_path] = value.unit.value
    return reads


def test_luster_discovery_proposes_the_examples_paths_and_fields(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    example = load_slo_file(
        EXAMPLES / "fastapi-db-worker" / "slo.yaml",
        environ={**os.environ, **FIELDS, "ADMIN_PASSWORD": PASSWORD, "PROBE_ASSET_ID": ASSET},
        env=EnvPolicy(lenient=True),
    ).spec
    with luster_service() as luster:
        # A service in use has run jobs: its stats show a rate and a processing time.
        answer = httpx.post(f"{luster.base_url}/jobs", data={"asset_id": ASSET, "tier": "premium"})
        assert answer.status_code == 201
        job = answer.json()["job"]["uuid"]
        for _ in range(100):
            if luster.jobs[job].ended is not None:
                break
            httpx.get(f"{luster.base_url}/health")  # paces the wait on the service itself
        status, out, err = discover(
            luster.base_url,
            "--out",
            str(tmp_path),
            "--basic-user",
            "admin",
            "--basic-password-env",
            "ADMIN_PASSWORD",
        )
    assert status == 0, out + err
    text = (tmp_path / "slo.yaml").read_text()
    proposed = _http_reads(validates(tmp_path / "slo.yaml"))
    expected = _http_reads(example)

    # Every GET the example makes is a probe of the proposal, on the same path.
    assert set(expected) <= set(proposed), (set(expected), set(proposed))
    unclear = {f"{FIELDS['SUCCESS_RATE_FIELD']}"}  # the example's SUCCESS_RATE_UNIT variable
    for path, fields in expected.items():
        for json_path, unit in fields.items():
            if json_path in unclear:
                assert f"Seen, not proposed: {json_path} (1: a ratio or a percent?" in text
                assert json_path not in proposed[path]
                continue
            assert json_path in proposed[path], (path, json_path, proposed[path])
            if unit != "none":
                assert proposed[path][json_path] == unit, (path, json_path)
    # The job probe is a POST: without an OpenAPI document discovery cannot see it, and says
    # where it looked.
    assert "openapi           not found" in out
    assert not any(p.kind == "job" for p in validates(tmp_path / "slo.yaml").probes.values())
    # Auth as the example has it: the password a variable, never the value.
    assert "${ADMIN_PASSWORD}" in text and PASSWORD not in text


# ---------------------------------------------------------------- Celery and BullMQ (shapes 2, 3)

needs_redis = pytest.mark.skipif(not have_redis_server(), reason="needs redis-server on PATH")
POSE_MOUNT = "/api/apps/pose-generator"  # where the seed mounts the app's endpoints


def _http_probes(spec: Any, mount: str = "") -> dict[str, dict[str, Any]]:
    """{path: {"query": …, "values": {JSON path: (unit, count, length)}}} of GET http probes;
    ``mount`` goes before relative paths (a proposal discovered under the app's mount)."""
    probes: dict[str, dict[str, Any]] = {}
    for probe in spec.probes.values():
        http = getattr(probe, "http", None)
        if isinstance(http, HttpProbe) and http.method == "GET":
            path = http.path if "://" in http.path else mount + http.path
            values = {
                v.json_path: (v.unit.value, v.count, v.length)
                for v in http.values.values()
                if v.json_path is not None
            }
            probes[path] = {"query": dict(http.query), "values": values}
    return probes


def _redis_probes(spec: Any) -> set[tuple[Any, ...]]:
    """(layout, queues, prefix, url, workers) of every redis probe."""
    found = set()
    for probe in spec.probes.values():
        queue = getattr(probe, "redis", None)
        if queue is not None:
            found.add((queue.layout, tuple(queue.queues), queue.prefix, queue.url, queue.workers))
    return found


def _uncommented(text: str, *names: str) -> str:
    """``text`` with the probes and SLOs ``names``, written commented out, restored: removing the
    ``# `` is all it takes, as the proposal says."""
    lines: list[str] = []
    inside = False
    for line in text.splitlines():
        inside = line in {f"  # {n}:" for n in names} or (inside and line.startswith("  #   "))
        lines.append("  " + line[4:] if inside else line)
    return "\n".join(lines) + "\n"


def _states(spec: Any, mount: str = "") -> dict[tuple[str, str], Any]:
    """{(path, JSON path): threshold} of the SLOs that hold an http field to a state."""
    held = {}
    for slo in spec.slos.values():
        http = getattr(spec.probes[slo.probe], "http", None)
        value = http.values.get(slo.measure) if isinstance(http, HttpProbe) else None
        if value is not None and value.json_path and '== "' in str(slo.threshold):
            path = http.path if "://" in http.path else mount + http.path
            held[(path, value.json_path)] = slo.threshold
    return held


def _said_above(text: str, probe: str) -> str:
    """The comment above ``probe`` in a proposal, its lines joined."""
    block = text.split(f"\n  {probe}:\n", 1)[0].rsplit("\n\n", 1)[1]
    return " ".join(line.strip().removeprefix("# ") for line in block.splitlines())


def _load(path: Path, environ: dict[str, str]) -> Any:
    return load_slo_file(path, environ={**os.environ, **environ}, env=EnvPolicy(lenient=True)).spec


def _agree(expected: dict[str, Any], proposed: dict[str, Any], unseen: dict[str, set[str]]) -> None:
    """Every GET of the example is a probe of the proposal with the same query and fields, but
    the fields in ``unseen`` (path → JSON paths), which discovery cannot tell from an answer."""
    assert set(expected) <= set(proposed), (set(expected), set(proposed))
    for path, want in expected.items():
        got = proposed[path]
        assert got["query"] == want["query"], (path, got["query"], want["query"])
        for json_path, read in want["values"].items():
            if json_path in unseen.get(path, set()):
                assert json_path not in got["values"], (path, json_path)
            else:
                assert got["values"].get(json_path) == read, (path, json_path, got["values"])


@needs_redis
def test_celery_discovery_proposes_the_examples_probes_paths_fields_and_queue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """examples/celery-flower against the seed-shaped stack: API health, Flower, the broker."""
    with redis_process() as broker, marb_stack(broker) as marb:
        marb.publish(3)  # a service in use
        marb.wait_for(lambda: marb.tasks_in("SUCCESS") == 3, "3 tasks done")
        names = {
            "CELERY_BROKER_URL": broker.url,
            "CELERY_QUEUE": QUEUE,
            "FLOWER_URL": marb.flower_url,
            "CELERY_BACKLOG_MAX": "5",
            "CELERY_FAILED_TASKS_LIMIT": "5",
        }
        for name in ("FLOWER_BASIC_AUTH", "REDIS_URL"):
            monkeypatch.delenv(name, raising=False)
        example = _load(EXAMPLES / "celery-flower" / "slo.yaml", names)
        status, out, err = discover(
            marb.api_url,
            "--out",
            str(tmp_path),
            "--redis",
            broker.url,
            "--flower",
            marb.flower_url,
        )
    assert status == 0, out + err
    text = (tmp_path / "slo.yaml").read_text()
    validates(tmp_path / "slo.yaml")
    # Flower's failed tasks: the probe is seen (GET /api/tasks answered) but its bound is none
    # of Flower's answers, so it is written commented out, naming the variable and why.
    assert "Commented out until you fill in what they need: flower-failed." in text
    assert "Flower keeps the failed tasks it saw and sets no" in text
    assert '#     query: { state: FAILURE, limit: "${CELERY_FAILED_TASKS_LIMIT}" }' in text
    enabled = tmp_path / "enabled.yaml"
    enabled.write_text(_uncommented(text, "flower-failed", "celery-failed-tasks"))
    filled = {"REDIS_URL": broker.url, "CELERY_FAILED_TASKS_LIMIT": "5"}
    proposal = _load(enabled, filled)
    assert proposal.slos["celery-failed-tasks"].threshold == example.slos["failed-tasks"].threshold

    _agree(_http_probes(example), _http_probes(proposal), unseen={})
    assert _redis_probes(proposal) == _redis_probes(example)
    assert _redis_probes(example) == {("celery", (QUEUE,), None, broker.url, False)}
    # Each state the example holds to a word is held to the same word, the one seen.
    assert _states(example).items() <= _states(proposal).items()
    assert len(_states(example)) == 4


@needs_redis
def test_bullmq_discovery_proposes_the_examples_probes_paths_fields_and_queue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """examples/bullmq-node against the seed-shaped service: health, admin metrics, the queue."""
    monkeypatch.setenv("ADMIN_JWT", ADMIN_JWT)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with redis_process() as server, pose_service(server) as pose:
        pose.submit(3)  # a service in use: its metrics show a rate
        pose.wait_for(pose.settled, "3 generations done")
        example = _load(
            EXAMPLES / "bullmq-node" / "slo.yaml",
            {"REDIS_URL": server.url, "BULLMQ_QUEUE": POSE_QUEUE},
        )
        # At the API's root the app's endpoints are not found: they are under its mount, which
        # no GET can guess. Discovery says so, and finds them when given the mount.
        status, out, err = discover(pose.base_url, "--print", "--bearer-env", "ADMIN_JWT")
        assert status == 1, out + err
        assert "none of 17 paths answered 2xx; a service mounted under a path is asked there" in err
        status, out, err = discover(
            pose.base_url + POSE_MOUNT,
            "--out",
            str(tmp_path),
            "--bearer-env",
            "ADMIN_JWT",
            "--redis",
            server.url,
        )
    assert status == 0, out + err
    text = (tmp_path / "slo.yaml").read_text()
    validates(tmp_path / "slo.yaml")
    proposal = _load(tmp_path / "slo.yaml", {"REDIS_URL": server.url})
    metrics = f"{POSE_MOUNT}/metrics"
    unseen = {
        metrics: {"avgGenerationTime", "queueDepth", "totalGenerations", "totalCreditsRefunded"}
    }
    expected = _http_probes(example)
    # The example asks for the last hour (`period: 1h`): a query parameter no answer shows
    # (without an OpenAPI document, and there is none), so the proposal asks the default period.
    assert expected[metrics]["query"] == {"period": "1h"}
    assert "openapi           not found" in out
    expected[metrics]["query"] = {}
    _agree(expected, _http_probes(proposal, POSE_MOUNT), unseen)
    # Each field left out says why: a unit no name tells, a depth proposed once per service,
    # counts no rule holds to a bound (the example's bounds come from the seed's document).
    said = _said_above(text, "metrics")
    assert (
        "Seen, not proposed: avgGenerationTime (a duration in which unit? its name does not say)"
        in said
    )
    assert (
        "Seen, not proposed: queueDepth (a queue depth too; proposed: checks.queue.counts.waiting (/health))"
        in said
    )
    others = said.split("Seen, no rule proposes an SLO on: ", 1)[1]
    assert "totalGenerations" in others and "totalCreditsRefunded" in others
    assert _states(example).items() <= _states(proposal, POSE_MOUNT).items()
    assert len(_states(example)) == 4
    assert _redis_probes(proposal) == _redis_probes(example)
    assert _redis_probes(example) == {("bullmq", (POSE_QUEUE,), None, server.url, True)}
    assert proposal.slos["bullmq-workers"].probe == "bullmq-queues"  # the example's workers-live
    assert 'auth: { bearer: "${ADMIN_JWT}" }' in text and ADMIN_JWT not in text
