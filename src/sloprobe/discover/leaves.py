"""The fields of a JSON answer, or of a JSON Schema, as :class:`~.model.Leaf` records.

Both walks are bounded (depth, number of fields, ``$ref`` hops). Lists are not
walked into — ``jobs.0.status`` names whichever job happens to be first — but
a list is itself a leaf (its length can be counted). A key that cannot be
written as a dotted path, or whose name looks secret, is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sloprobe.discover.model import SAFE_KEY, Leaf
from sloprobe.redact import looks_secret

MAX_DEPTH = 5
MAX_LEAVES = 300
MAX_REFS = 20

Resolve = Callable[[Any], Any]


def _usable(key: object) -> bool:
    return isinstance(key, str) and bool(SAFE_KEY.match(key)) and not looks_secret(key)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def answer_leaves(document: Any) -> list[Leaf]:
    """Every field of an answer (objects walked, lists kept whole), in document order."""
    found: list[Leaf] = []

    def walk(node: Any, parts: tuple[str, ...]) -> None:
        if len(found) >= MAX_LEAVES:
            return
        if isinstance(node, dict) and len(parts) < MAX_DEPTH:
            for key, value in node.items():
                if _usable(key):
                    walk(value, (*parts, key))
            return
        if parts:
            found.append(Leaf(parts, node, _json_type(node), observed=True))

    walk(document, ())
    return found


def resolver(document: Any) -> Resolve:
    """Follows local ``$ref``s (``#/components/schemas/X``, ``#/definitions/X``), a few hops."""

    def resolve(schema: Any) -> Any:
        hops = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and hops < MAX_REFS:
            ref: str = schema["$ref"]
            if not ref.startswith("#/"):
                return {}
            node: Any = document
            for part in ref[2:].split("/"):
                node = (
                    node.get(part.replace("~1", "/").replace("~0", "~"))
                    if isinstance(node, dict)
                    else None
                )
            schema, hops = node if isinstance(node, dict) else {}, hops + 1
        return schema if isinstance(schema, dict) else {}

    return resolve


def flatten(node: Any, resolve: Resolve) -> dict[str, Any]:
    """One object schema: ``$ref`` followed, ``allOf`` merged, the first non-null ``anyOf``."""
    schema: dict[str, Any] = resolve(node)
    for _ in range(MAX_REFS):
        if "allOf" in schema and isinstance(schema["allOf"], list):
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            properties = dict(merged.get("properties") or {})
            required = list(merged.get("required") or [])
            for part in schema["allOf"]:
                part = flatten(part, resolve)
                properties.update(part.get("properties") or {})
                required += list(part.get("required") or [])
                merged.update(
                    {k: v for k, v in part.items() if k not in ("properties", "required")}
                )
            schema = {**merged, "properties": properties, "required": required}
            continue
        choices = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(choices, list) and choices:
            chosen = [resolve(c) for c in choices if resolve(c).get("type") != "null"]
            base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            schema = {**base, **(chosen[0] if chosen else {})}
            continue
        return schema
    return schema


def schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    return "object" if "properties" in schema else "unknown"


def enum_of(schema: dict[str, Any]) -> tuple[str, ...]:
    values = schema.get("enum")
    if not isinstance(values, list):
        return ()
    return tuple(str(v) for v in values if isinstance(v, str | int) and not isinstance(v, bool))


def schema_leaves(schema: Any, resolve: Resolve) -> list[Leaf]:
    """Every property of a response schema (nested objects walked), with its type and enum."""
    found: list[Leaf] = []

    def walk(node: Any, parts: tuple[str, ...]) -> None:
        node = flatten(node, resolve)
        kind = schema_type(node)
        properties = node.get("properties")
        if isinstance(properties, dict) and properties and len(parts) < MAX_DEPTH:
            for key, child in properties.items():
                if _usable(key) and len(found) < MAX_LEAVES:
                    walk(child, (*parts, key))
            return
        if parts:
            example = node.get("example", node.get("default"))
            found.append(Leaf(parts, example, kind, observed=False, enum=enum_of(node)))

    walk(schema, ())
    return found
