"""Celery with a Redis broker: sloprobe's depth equals kombu's own count, priority sub-queues included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery

from tests.redis.conftest import probe, value

# Task priorities 0..9: with kombu's default steps [0, 3, 6, 9] they land in four lists.
PRIORITIES = {"emails": [0, 0, 2, 4, 5, 7, 9, 9, 9], "reports": [None, 3]}


@pytest.fixture
def celery_app(redis_url: str) -> Iterator[Any]:
    """A factory of Celery apps on the test broker, closed at the end."""
    apps: list[Celery] = []

    def make(**transport_options: Any) -> Celery:
        app = Celery("sloprobe-test", broker=redis_url, set_as_current=False)
        app.conf.broker_transport_options = {
            "queue_order_strategy": "priority",
            **transport_options,
        }
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def publish(app: Celery) -> None:
    for queue, priorities in PRIORITIES.items():
        for priority in priorities:
            app.send_task("sloprobe.test.task", args=(1,), queue=queue, priority=priority)


def kombu_view(app: Celery, queue: str, steps: list[int]) -> tuple[int, dict[str, int]]:
    """kombu's own count of a queue, and the length of each list it spreads the queue over."""
    with app.connection_for_write() as connection:
        channel: Any = connection.default_channel
        size = channel._size(queue)  # what queue_declare() reports as message_count
        lists = {
            channel._q_for_pri(queue, s): channel.client.llen(channel._q_for_pri(queue, s))
            for s in steps
        }
    return size, lists


def test_default_priority_steps(redis_url: str, celery_app: Any) -> None:
    app = celery_app()
    publish(app)
    emails, lists = kombu_view(app, "emails", [0, 3, 6, 9])
    assert emails == 9
    assert list(lists) == ["emails", "emails\x06\x163", "emails\x06\x166", "emails\x06\x169"]
    assert all(length > 0 for length in lists.values())  # every priority sub-queue is non-empty
    reports, _ = kombu_view(app, "reports", [0, 3, 6, 9])

    measurement, _ = probe(redis_url, layout="celery", queues=["emails", "reports", "absent"])
    assert value(measurement, "depth.emails") == emails
    assert value(measurement, "depth.reports") == reports == 2
    assert "depth.absent" not in measurement.series
    assert "`_kombu.binding.absent`" in measurement.missing["depth.absent"]
    assert "`absent`" in measurement.missing["depth"]  # no total that reads `absent` as 0
    both, _ = probe(redis_url, layout="celery", queues=["emails", "reports"])
    assert value(both, "depth") == emails + reports
    assert "oldest_age" not in measurement.series  # Celery messages carry no enqueue time
    assert "no enqueue time" in measurement.details["oldest_age"]


def test_custom_steps_separator_and_key_prefix(
    redis_url: str, redis_client: redis.Redis, celery_app: Any
) -> None:
    """The configuration Celery's docs suggest for Redis priorities, with a global key prefix."""
    steps = list(range(10))
    app = celery_app(priority_steps=steps, sep=":", global_keyprefix="myapp_")
    publish(app)
    emails, lists = kombu_view(app, "emails", steps)
    assert sum(1 for length in lists.values() if length) == 6  # 0, 2, 4, 5, 7 and 9
    assert redis_client.llen("myapp_emails:9") == 3  # kombu's keys, as Redis holds them

    measurement, _ = probe(
        redis_url,
        layout="celery",
        queues=["emails", "reports"],
        prefix="myapp_",
        priority_steps=steps,
        sep=":",
    )
    assert value(measurement, "depth.emails") == emails == 9
    assert value(measurement, "depth") == 11
    # with kombu's default steps and separator only the step-0 list is found
    default, _ = probe(redis_url, layout="celery", queues=["emails"], prefix="myapp_")
    assert value(default, "depth") == lists["emails"]
