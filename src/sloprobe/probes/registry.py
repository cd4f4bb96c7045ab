"""Every probe kind sloprobe knows, in one place. Adding a kind is one folder plus one line here.

Importing this module imports each kind's spec (pydantic models), never its
measuring code: the config layer reads it to validate slo.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sloprobe.probes import http, job, prometheus, promql, python, redis, sql, tcp, tls
from sloprobe.probes.base import ProbeKind

KINDS: Mapping[str, ProbeKind[Any]] = {
    kind.name: kind
    for kind in (
        http.KIND,
        job.KIND,
        python.KIND,
        redis.KIND,
        sql.KIND,
        prometheus.KIND,
        promql.KIND,
        tcp.KIND,
        tls.KIND,
    )
}
