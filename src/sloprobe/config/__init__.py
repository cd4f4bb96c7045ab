"""Load slo.yaml into typed, immutable objects, or explain precisely why not.

Validation happens in two passes: pydantic checks shapes and types, then
:func:`_cross_check` checks what one field says about another (an SLO's
probe exists, its measure is a series that probe produces, its threshold
fits the unit of that series). Every problem found is reported at once,
each with file, line and field path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sloprobe.config.errors import ConfigError, ConfigProblem
from sloprobe.config.model import SloFile, SloSpec
from sloprobe.config.yaml_source import EnvPolicy, Path_, YamlSource, load_yaml, parse_yaml
from sloprobe.judge.thresholds import Threshold, ThresholdError
from sloprobe.model.units import Dimension, Unit

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "EnvPolicy",
    "LoadedSloFile",
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
    spec = _model(source)
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
                if (path := _unset_at(source, _data_path(source.data, e["loc"], e["type"])))
                and tried.get(path, 0) < len(_STAND_INS)
            }
            if not unset:  # what is left is wrong whatever the variables hold
                raise ConfigError(_problems_from(exc, source)) from None
            for path in unset:
                _set(source.data, path, _STAND_INS[tried.get(path, 0)])
                tried[path] = tried.get(path, 0) + 1


def _unset_at(source: YamlSource, path: Path_) -> Path_ | None:
    """The unset-variable value at or above ``path``, if the problem is there."""
    for end in range(len(path), 0, -1):
        if tuple(path[:end]) in source.unset:
            return tuple(path[:end])
    return None


def _set(data: Any, path: Path_, value: str) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _problems_from(exc: ValidationError, source: YamlSource) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    seen: set[tuple[Path_, str]] = set()
    for error in exc.errors(include_url=False):
        path = _data_path(source.data, error["loc"], error["type"])
        message = _message(error, path, source.data)
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


def _message(error: Mapping[str, Any], path: Path_, data: Any) -> str:
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
    return message


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
    model: type[BaseModel] | None = SloFile
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


def _cross_check(spec: SloFile, source: YamlSource) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for name, slo in spec.slos.items():
        problems.extend(_check_slo(spec, name, slo, source))
    return problems


def _check_slo(spec: SloFile, name: str, slo: SloSpec, source: YamlSource) -> list[ConfigProblem]:
    probe = spec.probes.get(slo.probe)
    if probe is None:
        known = ", ".join(f"`{p}`" for p in spec.probes) or "none defined"
        close = difflib.get_close_matches(slo.probe, list(spec.probes), n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"probes: {known}"
        return [source.problem(("slos", name, "probe"), f"no probe named `{slo.probe}`; {hint}")]
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
    problems = []
    for key, thresholds in (("threshold", slo.thresholds), ("warn", slo.warn_thresholds)):
        for index, threshold in enumerate(thresholds):
            raw = source.data["slos"][name][key]
            path: Path_ = (
                ("slos", name, key, index) if isinstance(raw, list) else ("slos", name, key)
            )
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
