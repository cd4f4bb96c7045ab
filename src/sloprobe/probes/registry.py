"""Every probe kind sloprobe knows, in one place. Adding a kind is one folder plus one line here.

A kind's module (its ``KIND`` declaration and spec models, never its measuring
code) is imported the first time :data:`KINDS` is asked for it: a run of HTTP
probes does not pay for the job, Redis or SQL models. Iterating over the names,
and ``in``, import nothing. The config layer reads this module to validate slo.yaml.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from sloprobe.probes.base import ProbeKind

KIND_NAMES: tuple[str, ...] = (
    "http",
    "job",
    "python",
    "redis",
    "sql",
    "prometheus",
    "promql",
    "tcp",
    "tls",
)
"""The kinds, in the order the docs and the schema list them; each is ``sloprobe.probes.<name>``."""


@cache
def _declared(name: str) -> ProbeKind[Any]:
    kind: ProbeKind[Any] = importlib.import_module(f"sloprobe.probes.{name}").KIND
    if kind.name != name:
        raise RuntimeError(f"sloprobe.probes.{name} declares the kind `{kind.name}`")
    return kind


class _Kinds(Mapping[str, ProbeKind[Any]]):
    """The registry as a mapping of name to kind, each kind imported when first looked up."""

    def __getitem__(self, name: str) -> ProbeKind[Any]:
        if name not in KIND_NAMES:
            raise KeyError(name)
        return _declared(name)

    def __iter__(self) -> Iterator[str]:
        return iter(KIND_NAMES)

    def __len__(self) -> int:
        return len(KIND_NAMES)

    def __contains__(self, name: object) -> bool:
        return name in KIND_NAMES


KINDS: Mapping[str, ProbeKind[Any]] = _Kinds()
