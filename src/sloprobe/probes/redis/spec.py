"""Config of the Redis queue probe: queues in one Redis database, read with their library's key layout."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration
from sloprobe.model.units import Unit
from sloprobe.probes.redis import layouts

INSTALL_HINT = "install the redis extra: pip install 'sloprobe[redis]'"
_SCHEMES = ("redis", "rediss", "unix")


class RedisQueueProbe(StrictModel):
    """Queues in one Redis database, read with the key layout of the library that fills them."""

    url: str = Field(
        repr=False,
        description="`redis://[user:password@]host:port/db`, `rediss://…` or `unix://…`; the password is redacted everywhere.",
    )
    layout: Literal["rq", "celery", "bullmq"]
    queues: list[str] = Field(
        min_length=1, description="Queue names; depth is per queue and total."
    )
    prefix: str | None = Field(
        None,
        description="Key prefix: RQ's queue prefix (default `rq:queue:`; `<ns>:queue:` for RQ_KEY_PREFIX=<ns>), BullMQ's `prefix` (default `bull`), kombu's `global_keyprefix` for Celery (default none).",
    )
    timeout: Duration = Field(5.0, description="Bound on connecting and reading, all included.")
    oldest_age: bool = Field(
        True, description="Also read the age of the oldest waiting job (RQ and BullMQ)."
    )
    workers: bool = Field(
        False,
        description="RQ and BullMQ: count the queues' live workers as the library knows them (RQ: also their heartbeat age). Celery's are counted through Flower.",
    )
    priority_steps: list[int] = Field(
        default_factory=lambda: list(layouts.KOMBU_PRIORITY_STEPS),
        min_length=1,
        description="Celery only: the broker transport option `priority_steps`.",
    )
    sep: str = Field(
        layouts.KOMBU_SEP,
        min_length=1,
        description="Celery only: the broker transport option `sep` (kombu's default is `\\x06\\x16`).",
    )

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        # never echo the value: it may hold a password
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in _SCHEMES:
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("queues")
    @classmethod
    def _distinct_queues(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("a queue name cannot be empty")
        if len(set(value)) != len(value):
            raise ValueError("each queue may be listed once")
        return value

    @model_validator(mode="after")
    def _layout_options(self) -> RedisQueueProbe:
        if self.workers and self.layout == "celery":
            raise ValueError(
                "`workers` counts the workers RQ and BullMQ make known in Redis; it needs "
                f"`layout: rq` or `layout: bullmq`. {layouts.CELERY_NO_WORKERS}"
            )
        celery_only = sorted({"priority_steps", "sep"} & self.model_fields_set)
        if celery_only and self.layout != "celery":
            raise ValueError(f"`{celery_only[0]}` applies to `layout: celery` only")
        return self

    @property
    def key_prefix(self) -> str:
        if self.prefix is not None:
            return self.prefix
        return {"rq": layouts.RQ_QUEUE_PREFIX, "bullmq": layouts.BULLMQ_PREFIX}.get(self.layout, "")

    @property
    def reads_age(self) -> bool:
        return self.oldest_age and self.layout != "celery"


def redis_series_units(spec: RedisQueueProbe) -> dict[str, Unit]:
    """The series a Redis queue probe produces and their units (for config-time checks).

    Celery has no ``oldest_age``: its messages carry no enqueue time
    (:data:`~sloprobe.probes.redis.layouts.CELERY_NO_AGE`).
    """
    units: dict[str, Unit] = {"depth": Unit.COUNT}
    for queue in spec.queues:
        units[f"depth.{queue}"] = Unit.COUNT
        if spec.layout == "bullmq":
            units.update({f"depth.{queue}.{s}": Unit.COUNT for s in layouts.BULLMQ_STATES})
            units[f"paused.{queue}"] = Unit.BOOLEAN
    if spec.reads_age:
        units["oldest_age"] = Unit.S
        units.update({f"oldest_age.{queue}": Unit.S for queue in spec.queues})
    if spec.workers:
        units["workers"] = Unit.COUNT
        units.update({f"workers.{queue}": Unit.COUNT for queue in spec.queues})
        if spec.layout == "rq":
            units["heartbeat_age"] = Unit.S
    return units
