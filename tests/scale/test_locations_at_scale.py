"""3 locations × 3 services × 70 rounds, 9 writers at once into one PostgreSQL history.

The reference service is the target; one location's probes go through a proxy on
another loopback address (127.0.0.2) that drops every connection, and a second
location goes through it for rounds 30–49. Each (location, service) is its own
process running the plugin's own SuiteRun with the round's time injected.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import struct
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import ServiceConfig, start_service
from sloprobe.history import schema

T0 = datetime(2026, 11, 2, tzinfo=UTC)
ROUND = timedelta(minutes=5)
ROUNDS = 70
SERVICES = tuple(f"svc-{i}" for i in range(3))  # 9 writers on 2 cores: contention enough
LOCATIONS = ("eu-west", "us-east", "ap-south")
OUTAGE = range(30, 50)  # us-east's network breaks too: two of three locations see it
SUITE = """\
version: 1
service: {service}
settings:
  quorum: {{locations: 2, within: 10m}}
probes:
  health:
    http: {{path: /health, retries: 0, timeout: 2s}}
slos:
  health-up:
    probe: health
    measure: ok
    threshold: value == true
"""


def _broken(location: str, index: int) -> bool:
    return location == "ap-south" or (location == "us-east" and index in OUTAGE)


def writer(
    location: str,
    service: str,
    good: str,
    dropped: str,
    history: str,
    rounds: int = ROUNDS,
    barrier: Any = None,
) -> None:
    """One (location, service): ``rounds`` rounds, each a real probe and a record into PostgreSQL.

    The locations of a service start each round together (``barrier``, if given), as
    scheduled runs do in real time: without it one process could run many injected rounds
    ahead of another, which no schedule does, and what each run found in history would depend
    on that race."""
    os.environ["SLOPROBE_LOCATION"] = location
    os.environ.pop("GITHUB_ACTIONS", None)
    from sloprobe.config import load_slo_text
    from sloprobe.plugin.suite_run import SuiteRun

    loaded = load_slo_text(SUITE.format(service=service), "slo.yaml", {})
    offset = timedelta(seconds=7 * LOCATIONS.index(location))
    for index in range(rounds):
        if barrier is not None:
            barrier.wait(timeout=120)
        run = SuiteRun(
            loaded,
            base_url_option=dropped if _broken(location, index) else good,
            history_option=history,
            started_at=T0 + index * ROUND + offset,
            run_id=f"{service}-{location}-{index}",
        )
        run.needed_yaml_probes = {"health"}
        run.measure_once()
        run.judge("health-up")
        run.record(run.result())


@pytest.fixture
def dropping_proxy() -> Iterator[str]:
    """127.0.0.2: accepts and resets every connection (a location whose network is broken)."""
    server = socket.create_server(("127.0.0.2", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.2:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        server.close()


def test_one_broken_location_opens_nothing_two_open_an_incident_and_no_run_is_lost(
    dropping_proxy: str, postgres_history_url: str
) -> None:
    with start_service(ServiceConfig()) as service:
        warm_up(service.base_url, jobs=1)
        context = multiprocessing.get_context("spawn")
        barriers = {svc: context.Barrier(len(LOCATIONS)) for svc in SERVICES}
        writers = [
            context.Process(
                target=writer,
                args=(
                    loc,
                    svc,
                    service.base_url,
                    dropping_proxy,
                    postgres_history_url,
                    ROUNDS,
                    barriers[svc],
                ),
            )
            for svc in SERVICES
            for loc in LOCATIONS
        ]
        for process in writers:
            process.start()
        for process in writers:
            process.join(timeout=240)
        assert [p.exitcode for p in writers] == [0] * len(writers)

    engine = create_engine(postgres_history_url)
    try:
        with engine.connect() as conn:
            runs: dict[str, int] = dict(
                conn.execute(
                    select(schema.runs.c.service, func.count()).group_by(schema.runs.c.service)
                ).all()
            )
            incidents = conn.execute(
                select(schema.incidents.c.service, schema.incidents.c.opened_at)
            ).all()
    finally:
        engine.dispose()
    assert runs == {svc: ROUNDS * len(LOCATIONS) for svc in SERVICES}  # 630: none lost
    opened = {svc: [at for s, at in incidents if s == svc] for svc in SERVICES}
    start, end = T0 + OUTAGE.start * ROUND, T0 + OUTAGE.stop * ROUND
    for svc, times in opened.items():
        assert times, f"{svc}: two of three locations broke for 20 rounds and no incident opened"
        for at in times:  # ap-south alone, 70 rounds long, opened none
            assert start <= at.astimezone(UTC) <= end, (svc, at)
