"""Job submission and status, from the OpenAPI document alone: a ``job`` probe, live or commented out.

A pair is a ``POST P`` and a ``GET P/{x}``. The submit form (or JSON body)
sends each required field its first allowed value (``enum``), else its
``example``, else its ``default``; the id is the POST answer's field named
like ``{x}``, ``id`` or ``…_id``; the state is the GET answer's ``status`` or
``state``, its ``enum`` sorted into success, failure and running states (those
neither waiting nor ended). When
any of these is unknown, the probe is written commented out with a ``${VAR}``
where the value goes and a line saying what to fill in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sloprobe.discover import thresholds as rules
from sloprobe.discover.leaves import Resolve, enum_of, flatten, resolver, schema_leaves, schema_type
from sloprobe.discover.model import SAFE_KEY, Leaf, Probe, Slo, Var, slug, unique
from sloprobe.discover.openapi import Operation, operations, response_schema

SUCCESS = frozenset(
    ["succeeded", "success", "successful", "completed", "complete", "done", "finished"]
)
FAILURE = frozenset(
    ["failed", "failure", "error", "errored", "cancelled", "canceled", "aborted", "timeout"]
)
WAITING = frozenset(
    ["queued", "pending", "waiting", "created", "scheduled", "submitted", "new", "delayed"]
)
SAFE_VALUE = re.compile(r"^[A-Za-z0-9 _\-.:@/+]{0,100}$")
_SYNTHETIC = ("synthetic", "is_synthetic", "isSynthetic")


def _pairs(document: dict[str, Any]) -> list[tuple[Operation, Operation]]:
    ops = operations(document)
    gets = {op.path: op for op in ops if op.method == "GET"}
    pairs = []
    for post in (op for op in ops if op.method == "POST" and "{" not in op.path):
        for path, get in gets.items():
            rest = path[len(post.path.rstrip("/")) :]
            if path.startswith(post.path.rstrip("/") + "/") and re.fullmatch(r"/\{[^/{}]+\}", rest):
                pairs.append((post, get))
    jobby = {"job", "jobs", "task", "tasks", "run", "runs"}
    pairs.sort(key=lambda pg: (not pg[0].path_words() & jobby, len(pg[0].path)))
    return pairs


def _body_required(post: Operation, resolve: Resolve) -> bool:
    body = resolve(post.spec.get("requestBody"))
    return isinstance(body, dict) and body.get("required") is True


def _body(post: Operation, resolve: Resolve) -> tuple[str, dict[str, Any]] | None:
    """("form" or "json", the body's object schema)."""
    body = resolve(post.spec.get("requestBody"))
    content = body.get("content") if isinstance(body, dict) else None
    if isinstance(content, dict):
        for media, part in content.items():
            if not isinstance(part, dict):
                continue
            style = "json" if "json" in media else "form" if "form" in media else None
            if style:
                return style, flatten(part.get("schema"), resolve)
    form = [
        resolve(p) for p in post.spec.get("parameters", []) if resolve(p).get("in") == "formData"
    ]
    if form:
        props = {p["name"]: p for p in form if isinstance(p.get("name"), str)}
        return "form", {
            "properties": props,
            "required": [n for n, p in props.items() if p.get("required")],
        }
    body_param = [
        resolve(p) for p in post.spec.get("parameters", []) if resolve(p).get("in") == "body"
    ]
    return ("json", flatten(body_param[0].get("schema"), resolve)) if body_param else None


def _field_value(schema: dict[str, Any]) -> tuple[Any, str] | None:
    """A value the schema allows, and where it came from; None if it says none."""
    enum = enum_of(schema)
    if enum:
        return enum[0], f"the first of its allowed values ({', '.join(enum[:6])})"
    examples = schema.get("examples")
    example = examples[0] if isinstance(examples, list) and examples else schema.get("example")
    for value, where in ((example, "its example"), (schema.get("default"), "its default")):
        if isinstance(value, bool | int | float) or (
            isinstance(value, str) and SAFE_VALUE.match(value)
        ):
            return value, where
    return None


def pick(leaves: list[Leaf], *names: str) -> Leaf | None:
    for name in names:
        for leaf in sorted(leaves, key=lambda leaf: len(leaf.parts)):
            if leaf.key == name and len(leaf.parts) <= 2:
                return leaf
    return None


@dataclass
class _Draft:
    """What the job probe is being built from, and what is still unknown."""

    resolve: Resolve
    variables: dict[str, str]
    notes: dict[tuple[str, ...], str] = field(default_factory=dict)
    fill: list[str] = field(default_factory=list)  # what to fill in, one line each

    def unknown(self, var: str, what: str, line: str) -> Var:
        self.variables[var] = what
        self.fill.append(f"{var}: {line}")
        return Var(f"${{{var}}}")


def job_proposal(
    document: dict[str, Any], taken: set[str], variables: dict[str, str]
) -> tuple[list[Probe], list[Slo]]:
    pairs = _pairs(document)
    if not pairs:
        return [], []
    post, get = pairs[0]
    draft = _Draft(resolver(document), variables)
    param = re.search(r"\{([^/{}]+)\}$", get.path)
    names = id_names(param.group(1) if param else "id")
    options = {"submit": _submit(post, names, draft), "status": _status(get, draft)}
    name = unique("job", taken)
    origin = [
        f"From operations {post.name} (POST {post.path}) and {get.name} (GET {get.path}).",
        "Each run submits one real job; add `every: 1h` to send fewer. Discovery sent none.",
    ]
    fill = draft.fill
    disabled = ["To enable it, fill in and uncomment:", *fill] if fill else []
    probe = Probe(
        name,
        "job",
        options,
        "A synthetic job submitted and followed to its end.",
        origin,
        draft.notes,
        disabled,
        hints={"id_names": names},
    )
    total = rules.seconds_text(rules.JOB_TOTAL_S)
    slos = [
        Slo(
            unique("job-succeeds", taken),
            name,
            "succeeded",
            "value == true",
            "A job submitted now succeeds.",
            ["The job ends in a success state."],
        ),
        Slo(
            unique("job-e2e", taken),
            name,
            "total",
            f"value < {total}",
            "A job submitted now finishes soon.",
            [
                f"No job was sent during discovery, so nothing was measured: {total} is the job kind's default poll timeout. Tighten it."
            ],
        ),
    ]
    return [probe], slos


def _submit(post: Operation, names: tuple[str, ...], draft: _Draft) -> dict[str, Any]:
    """The ``submit`` options: path, body (allowed values or variables), the id's path."""
    resolve, notes = draft.resolve, draft.notes
    submit: dict[str, Any] = {"path": post.path}
    body = _body(post, resolve)
    if body is not None:
        style, schema = body
        fields: dict[str, Any] = {}
        properties = schema.get("properties") or {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        for name in required:
            if not SAFE_KEY.match(name) or name in _SYNTHETIC:
                continue
            prop = flatten(properties.get(name), resolve)
            found = _field_value(prop)
            if found is not None:
                fields[name] = found[0]
                notes[("submit", style, name)] = f"{found[1]} in the request schema"
                continue
            kind = schema_type(prop)
            fields[name] = draft.unknown(
                f"JOB_{slug(name).upper().replace('-', '_')}",
                f"the submit field `{name}` ({kind}; no enum, example or default in the schema)",
                f"a value of the submit field `{name}` ({kind}) your service accepts",
            )
        optional = [
            n for n in properties if n not in required and isinstance(n, str) and SAFE_KEY.match(n)
        ]
        if optional:
            notes[("submit", "path")] = f"optional fields not sent: {', '.join(optional[:6])}"
        if fields:
            submit[style] = fields
        elif style == "json" and _body_required(post, resolve):
            submit["json"] = {}  # required, all its fields optional: `{}` is a body, none is 422
            notes[("submit", "json")] = "the request body is required; its fields are optional"
        synthetic = next((n for n in _SYNTHETIC if n in properties), None)
        if synthetic and schema_type(flatten(properties[synthetic], resolve)) == "boolean":
            submit["synthetic_field"] = synthetic
    answer = schema_leaves(response_schema(post), resolve)
    id_leaf = pick(answer, *names)
    if id_leaf is not None:
        submit["id"] = id_leaf.path
        notes[("submit", "id")] = f"the POST answer's schema has `{id_leaf.path}`"
    else:
        submit["id"] = draft.unknown(
            "JOB_ID_FIELD",
            f"the JSON path of the new job's id in the answer to POST {post.path}",
            f"where the answer to POST {post.path} holds the job's id (its schema does not say)",
        )
    return submit


def id_names(param_name: str) -> tuple[str, ...]:
    """The names a new job's id goes by: the status path's parameter's first."""
    names = (param_name, "id", "job_id", "jobId", "task_id", "taskId", "uuid")
    return tuple(dict.fromkeys(names))


def _status(get: Operation, draft: _Draft) -> dict[str, Any]:
    """The ``status`` options: path, the state's field and its states, timestamps."""
    resolve, notes = draft.resolve, draft.notes
    status_path = re.sub(r"\{[^/{}]+\}$", "{id}", get.path)
    status: dict[str, Any] = {"path": status_path}
    leaves = schema_leaves(response_schema(get), resolve)
    state = pick(leaves, "status", "state")
    if state is not None:
        status["field"] = state.path
        notes[("status", "field")] = f"`{state.path}` in the schema of GET {get.path}"
        for word, group in (("success", SUCCESS), ("failure", FAILURE)):
            chosen = [v for v in state.enum if v.lower() in group]
            if chosen:
                status[word] = chosen
        if state.enum and "success" not in status:  # the kind's default states are not its own
            status["success"] = [
                draft.unknown(
                    "JOB_SUCCESS_STATE",
                    f"the state GET {get.path} gives a job that succeeded",
                    f"which of {', '.join(state.enum)} means a job succeeded "
                    "(none is a word the job kind knows)",
                )
            ]
        # The enum's other states, but waiting ones: a worker has the job (for queue wait).
        running = [v for v in state.enum if v.lower() not in SUCCESS | FAILURE | WAITING]
        if running and "success" in status:
            status["running"] = running
        if not state.enum:
            notes[("status", "field")] += "; no enum: the job kind's default states"
    else:
        status["field"] = draft.unknown(
            "JOB_STATUS_FIELD",
            f"the JSON path of the job's state in the answer to GET {get.path}",
            f"where GET {get.path} holds the job's state (its schema does not say)",
        )
    for option, names in (
        ("finished_at", ("completed_at", "ended_at")),
        ("error", ("error_message", "failure_reason")),
    ):
        leaf = pick(leaves, *names)
        if leaf is not None and pick(leaves, option) is None:
            status[option] = leaf.path
    return status
