"""Load slo.yaml into typed, immutable objects, or explain precisely why not.

Validation happens in two passes: pydantic checks shapes and types, then
:func:`_cross_check` checks what one field says about another (an SLO's
probe exists, its measure is a series that probe produces, its threshold
fits the unit of that series). Every problem found is reported at once,
each with file, line and field path: when the first pass fails, the second
still checks every probe and SLO field that did parse, so that fixing one
batch of problems never reveals another.

It reads the probe registry (each kind brings its spec) but must not import probe I/O code
(runner, context, network, any ``measure`` module), history, notifiers, sinks, the plugin or
the CLI, nor the judge: a threshold is parsed here (``model.thresholds``) and evaluated there
(import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sloprobe.config.errors import ConfigError, ConfigProblem
from sloprobe.config.model import ProbeSpec, SloFile, after_problems, described_slo_file
from sloprobe.config.yaml_source import _VARIABLE as VARIABLE
from sloprobe.config.yaml_source import (
    CoreLoader,
    EnvPolicy,
    Path_,
    YamlSource,
    dotted,
    load_yaml,
    parse_yaml,
)
from sloprobe.model.thresholds import Threshold, ThresholdError, parse_threshold
from sloprobe.model.units import Dimension, Unit

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "EnvPolicy",
    "LoadedSloFile",
    "Variable",
    "file_variables",
    "load_slo_file",
    "load_slo_text",
]


@dataclass(frozen=True)
class LoadedSloFile:
    """A validated slo.yaml, with where it lives and the line of each SLO (for pytest items)."""

    path: Path
    spec: SloFile
    slo_lines: Mapping[str, int]
    notes: tuple[ConfigProblem, ...] = ()  # unset variables a lenient load let through

    @property
    def directory(self) -> Path:
        return self.path.parent


def load_slo_file(
    path: str | Path, environ: Mapping[str, str] | None = None, env: EnvPolicy | None = None
) -> LoadedSloFile:
    """Read and validate ``path``; raise ConfigError listing every problem."""
    return _validate(load_yaml(path, environ, env), Path(path))


def load_slo_text(
    text: str, file: str = "slo.yaml", environ: Mapping[str, str] | None = None
) -> LoadedSloFile:
    """Validate YAML text (tests, ``sloprobe validate -``)."""
    return _validate(parse_yaml(text, file, environ or {}), Path(file))


def _validate(source: YamlSource, path: Path) -> LoadedSloFile:
    if not isinstance(source.data, dict):
        raise ConfigError(
            [
                source.problem(
                    (), "expected a mapping with `version`, `service`, `probes` and `slos`"
                )
            ]
        )
    try:
        spec = _model(source)
    except ConfigError as exc:  # the cross-checks of what did parse join the structural problems
        found = [
            *exc.problems,
            *_cross_check(None, source, frozenset(p.field for p in exc.problems)),
        ]
        raise ConfigError(sorted(found, key=lambda p: p.line or 0)) from None
    problems = _cross_check(spec, source)
    if problems:
        raise ConfigError(problems)
    slo_lines = {name: source.line_of(("slos", name)) or 1 for name in spec.slos}
    return LoadedSloFile(path, spec, slo_lines, tuple(source.notes))


# Stand-ins for a value whose variable is unset in a lenient load (`sloprobe validate` without
# the secrets): the first that a field accepts lets the rest of the file be checked.
_STAND_INS = (
    "redis://unset.invalid:6379/0",
    "postgresql://unset.invalid/db",
    "https://unset.invalid",
    "1",
    "true",
    "1s",  # a duration (`timeout: ${TIMEOUT}`): a bare number is refused there
    "99%",  # an objective
    "value == 0",  # a threshold that reads a variable (`value < ${JOB_E2E_MAX}`)
)


def _model(source: YamlSource) -> SloFile:
    """Validate; in a lenient load, a field whose variable is unset gets a stand-in, not an error.

    Its type cannot be checked without the value, and the unset variable is
    already a note; every other field is checked as in a run.
    """
    tried: dict[Path_, int] = {}
    while True:
        try:
            return SloFile.model_validate(source.data)
        except ValidationError as exc:
            unset = {
                path
                for e in exc.errors(include_url=False)
                if e["type"] not in _WRONG_WHATEVER_THE_VALUE
                and (path := _unset_at(source, _data_path(source.data, e["loc"], e["type"])))
                and tried.get(path, 0) < len(_STAND_INS)
            }
            if not unset:  # what is left is wrong whatever the variables hold
                raise ConfigError(_problems_from(exc, source, frozenset(tried))) from None
            for path in unset:
                _set(source.data, path, _stand_in(exc, source, path, tried.get(path, 0)))
                tried[path] = tried.get(path, 0) + 1


# A key the model does not know is wrong whatever its `${VAR}` holds: no stand-in is tried.
_WRONG_WHATEVER_THE_VALUE = frozenset({"extra_forbidden"})


def _stand_in(exc: ValidationError, source: YamlSource, path: Path_, attempt: int) -> str:
    """A value the field takes: one of its choices (a unit) when it has some, else the next
    of :data:`_STAND_INS`."""
    for error in exc.errors(include_url=False):
        at = _unset_at(source, _data_path(source.data, error["loc"], error["type"]))
        expected = (error.get("ctx") or {}).get("expected")
        if at == path and isinstance(expected, str):
            first = re.search(r"'([^']+)'", expected)
            if first is not None and attempt == 0:
                return first[1]
    return _STAND_INS[min(attempt, len(_STAND_INS) - 1)]


def _unset_at(source: YamlSource, path: Path_) -> Path_ | None:
    """The unset-variable value at or above ``path``, if the problem is there; or one inside
    it, for a check of a whole list (``queues: ["${QUEUE}"]``: "a queue name cannot be empty")."""
    for end in range(len(path), 0, -1):
        if tuple(path[:end]) in source.unset:
            return tuple(path[:end])
    inside = sorted(
        (p for p in source.unset if path and len(p) > len(path) and p[: len(path)] == path),
        key=str,
    )
    return inside[0] if inside else None


def _set(data: Any, path: Path_, value: str) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _problems_from(
    exc: ValidationError, source: YamlSource, stood_in: frozenset[Path_] = frozenset()
) -> list[ConfigProblem]:
    """Each field's problem; ``stood_in``: unset-variable values that got stand-ins, whose
    complaint is about the last stand-in, not the file, so it is not shown as one."""
    problems: list[ConfigProblem] = []
    seen: set[tuple[Path_, str]] = set()
    for error in exc.errors(include_url=False):
        path = _data_path(source.data, error["loc"], error["type"])
        if error["type"] not in _WRONG_WHATEVER_THE_VALUE and _unset_at(source, path) in stood_in:
            message = (
                "its value is an environment variable that is not set, and this field takes "
                "no stand-in: set the variable to check it"
            )
        else:
            hidden = _from_variable(source, path)
            message = _message(error, path, source.data, hidden)
            value = error.get("input")
            if hidden and isinstance(value, str) and value:  # pydantic's words may quote it too
                message = message.replace(value, "***")
        if (path, message) in seen:
            continue
        seen.add((path, message))
        problems.append(source.problem(path, message))
    # A union reports each member's complaint; one per field is enough.
    first: dict[str, ConfigProblem] = {}
    for problem in problems:
        first.setdefault(problem.field, problem)
    return sorted(first.values(), key=lambda p: p.line or 0)


def _data_path(data: Any, loc: tuple[int | str, ...], kind: str) -> Path_:
    """The part of pydantic's ``loc`` that exists in the YAML (dropping union tags like ``float``)."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        inside = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if inside:
            node = node[part]
        elif not (index == len(loc) - 1 and kind in ("missing", "extra_forbidden")):
            break
        path.append(part)
    return tuple(path)


def _from_variable(source: YamlSource, path: Path_) -> bool:
    """Whether the value at ``path`` was written as a `${VAR}`: what it holds may be a secret,
    so a problem with it never quotes it."""
    line = source.line_of(path)
    return (
        line is not None and line <= len(source.text_lines) and "${" in source.text_lines[line - 1]
    )


def _message(error: Mapping[str, Any], path: Path_, data: Any, hidden: bool = False) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key(path, data)
    if kind == "missing":
        return "required field is missing"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "literal_error" and path == ("version",):
        return f"unsupported format version {error.get('input')!r}; this sloprobe reads version 1"
    if kind.startswith("string_pattern") and path and isinstance(path[-1], str):
        return f"`{error.get('input')}` is not a valid name (letters, digits, `_`, `-`, `.`)"
    if kind == "tuple_type" and path and path[-1] in ("threshold", "warn"):
        return f"expected a threshold such as `value < 100` or `p95 < 300ms`, got {_shown(error, hidden)}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_shown(error, hidden)}"
    bound = _BOUNDS.get(kind)
    if bound is not None:
        words, key = bound
        return f"must be {words} {(error.get('ctx') or {}).get(key)}, got {_shown(error, hidden)}"
    return message


# pydantic's words for a wrong type, said as slo.yaml's reader would.
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (`key: value` lines)",
    "list_type": "a list (`- item` lines or `[a, b]`)",
}
_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


def _shown(error: Mapping[str, Any], hidden: bool = False) -> str:
    """The value a problem is about, briefly: `5`, a list, a mapping; a variable's, unquoted."""
    value = error.get("input")
    if hidden:
        return "the value of its variable"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    return f"`{text[:60]}`"


def _unknown_key(path: Path_, data: Any) -> str:
    key = str(path[-1])
    model = _model_at(path[:-1], data)
    if model is None:
        return f"unknown key `{key}`"
    allowed = sorted(f.alias or name for name, f in model.model_fields.items())
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = (
        f"did you mean `{close[0]}`?"
        if close
        else "expected one of " + ", ".join(f"`{a}`" for a in allowed)
    )
    return f"unknown key `{key}`; {hint}"


def _model_at(path: Path_, data: Any) -> type[BaseModel] | None:
    """Which model class describes the mapping at ``path`` (for key suggestions)."""
    model: type[BaseModel] | None = described_slo_file()
    index = 0
    while model is not None and index < len(path):
        part = path[index]
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return None
        annotation = field.annotation
        inner = _first_model(annotation)
        origin = getattr(annotation, "__origin__", None)
        if origin is dict:
            inner = _first_model(annotation.__args__[1])  # type: ignore[union-attr]
            index += 1  # skip the user-chosen name
        model = inner
        index += 1
    return model


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class _SloParts:
    """What the cross-checks read of one SLO: those of its fields that parsed (None: unchecked)."""

    probe: str | None
    measure: str | None
    thresholds: tuple[tuple[Path_, Threshold], ...]


def _cross_check(
    spec: SloFile | None, source: YamlSource, wrong: frozenset[str] = frozenset()
) -> list[ConfigProblem]:
    """What one field says about another, for every SLO; ``spec`` None: the first pass failed.

    Then each probe is validated on its own and each SLO read field by field, so
    that the problems of both passes are said at once. A field with a problem of
    its own (``wrong``) is not checked again, and the SLOs of a broken probe are
    not told that it is missing.
    """
    data: dict[str, Any] = source.data
    probes: dict[str, ProbeSpec | None] = dict(spec.probes) if spec is not None else {}
    if spec is None:
        if not isinstance(data.get("probes"), dict) or not isinstance(data.get("slos"), dict):
            return []
        for name, raw in data["probes"].items():
            try:
                probes[name] = ProbeSpec.model_validate(raw)
            except ValidationError:
                probes[name] = None  # its own problems are said already
    problems: list[ConfigProblem] = []
    if spec is not None:  # `after:` names a probe of the file, and never goes round
        problems.extend(source.problem(path, message) for path, message in after_problems(spec))
    for name, raw in data["slos"].items():
        if isinstance(raw, dict):
            problems.extend(_check_slo(probes, name, _parts(name, raw, wrong), source))
    return problems


def _parts(name: str, raw: dict[str, Any], wrong: frozenset[str]) -> _SloParts:
    def text(key: str) -> str | None:
        value = raw.get(key)
        return value if isinstance(value, str) and f"slos.{name}.{key}" not in wrong else None

    thresholds: list[tuple[Path_, Threshold]] = []
    for key in ("threshold", "warn"):
        value = raw.get(key)
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            try:
                threshold = parse_threshold(item) if isinstance(item, str) else None
            except ThresholdError:
                threshold = None  # a problem of the first pass
            if threshold is not None:
                path = (
                    ("slos", name, key, index) if isinstance(value, list) else ("slos", name, key)
                )
                thresholds.append((path, threshold))
    return _SloParts(text("probe"), text("measure"), tuple(thresholds))


def _check_slo(
    probes: Mapping[str, ProbeSpec | None], name: str, slo: _SloParts, source: YamlSource
) -> list[ConfigProblem]:
    if slo.probe is None:
        return []
    if slo.probe not in probes:
        known = ", ".join(f"`{p}`" for p in probes) or "none defined"
        close = difflib.get_close_matches(slo.probe, list(probes), n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"probes: {known}"
        return [source.problem(("slos", name, "probe"), f"no probe named `{slo.probe}`; {hint}")]
    probe = probes[slo.probe]
    if probe is None or slo.measure is None:
        return []  # a broken probe: what it measures is not known yet
    units = probe.series_units()
    unit = units.get(slo.measure)
    if unit is None:
        offered = ", ".join(f"`{s}`" for s in units) or "none"
        return [
            source.problem(
                ("slos", name, "measure"),
                f"probe `{slo.probe}` does not measure `{slo.measure}`; it measures {offered}",
            )
        ]
    if any(
        p[:2] == ("probes", slo.probe) and p[-2:] == (slo.measure, "unit") for p in source.unset
    ):
        return []  # its unit is an unset variable (a note already): nothing to hold it to
    problems = []
    for path, threshold in slo.thresholds:
        if _unset_at(source, path) is not None:
            continue  # the threshold reads an unset variable: a note already
        try:
            threshold.check_unit(unit)
        except ThresholdError as exc:
            problems.append(source.problem(path, f"{exc} (`{slo.measure}` is in `{unit}`)"))
            continue
        bare = _bare_number_against_time(threshold, unit)
        if bare:
            problems.append(source.problem(path, bare))
    return problems


_TIME_NAMES = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_BARE_NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?(?![\w.%])"
)


def _bare_number_against_time(threshold: Threshold, unit: Unit) -> str | None:
    """Why a unit-less number held against a time is refused, or None if it is not one.

    k6 reads ``p(95)<300`` as 300 ms, and that form keeps k6's meaning; anywhere else
    ``value < 30`` on a measure in seconds would silently mean 30 ms: the unit must be written.
    """
    if threshold.target_dimension is not None:
        return None
    if re.match(r"\s*p\(", threshold.text):
        return None  # k6's own form, `p(95)<300`: a bare number is milliseconds, as in k6
    if threshold.result_dimension(unit) is not Dimension.TIME:
        return None  # `count < 30` over latencies counts samples: a bare number is right
    text = threshold.text
    start = re.search(r"[<>=!\[]", text)
    head, tail = (text[: start.start()], text[start.start() :]) if start else ("", text)
    numbers = _BARE_NUMBER.findall(tail)
    written = head + _BARE_NUMBER.sub(lambda m: m.group(0) + str(unit), tail)
    other = f" (or `{numbers[0]}{'ms' if unit is Unit.S else 's'}`)" if numbers else ""
    return (
        f"`{text}` compares a time in {_TIME_NAMES[str(unit)]} with a bare number: "
        f"write `{written}`{other}"
    )


@dataclass(frozen=True)
class Variable:
    """A ``${NAME}`` the file reads, the fields that read it, and whether it has a default."""

    name: str
    fields: tuple[str, ...]
    has_default: bool


def file_variables(path: str | Path) -> list[Variable]:
    """The environment variables a file reads, in the order they first appear.

    Read from the YAML's values, not its text: a variable in a comment, an
    escaped ``$${X}`` or a top-level ``x-`` block used nowhere is none a run needs.
    """
    try:
        node = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=CoreLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    found: dict[str, tuple[list[str], bool]] = {}
    for field, text in _scalars(node, ()):
        for match in VARIABLE.finditer(text):
            if match.group(1):
                continue  # `$${X}`: the text `${X}`
            fields, defaulted = found.setdefault(match.group(2), ([], True))
            fields.append(field)
            found[match.group(2)] = (fields, defaulted and match.group(3) is not None)
    return [Variable(n, tuple(dict.fromkeys(f)), d) for n, (f, d) in found.items()]


def _scalars(node: yaml.Node | None, path: Path_) -> Iterator[tuple[str, str]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            if not path and name.startswith("x-"):
                continue  # anchors only; where they are used, they are read again
            yield from _scalars(value, path if name == "<<" else (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            yield from _scalars(child, (*path, index))
    elif isinstance(node, yaml.ScalarNode) and "${" in str(node.value):
        yield dotted(path), str(node.value)
