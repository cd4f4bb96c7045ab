"""Load YAML safely while remembering the line of every value.

``yaml.safe_load`` loses positions; we compose the node graph instead and
build plain data from it, recording ``path -> line`` so a validation error
can name the line that is actually wrong. Duplicate keys (which PyYAML
silently overwrites) are errors, and alias expansion is capped so an anchor
bomb is refused rather than eating the machine's memory.

Plain scalars are read by YAML 1.2 core-schema rules (:class:`CoreLoader`),
not PyYAML's YAML 1.1 ones, so ``country: NO``, ``t: 1:30`` and ``v: on``
arrive as the text written rather than as ``False``, ``90`` and ``True``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sloprobe.config.errors import ConfigError, ConfigProblem

Path_ = tuple[str | int, ...]

MAX_NODES = 20_000
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
)
MAX_DEPTH = 64  # slo.yaml needs about 8; PyYAML recurses per level
MAX_BYTES = 2 * 1024 * 1024
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")
_VARIABLE = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


_CORE = "tag:yaml.org,2002:"
_CORE_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_CORE_FLOAT = re.compile(
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)
_CORE_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


if TYPE_CHECKING:
    _FastLoader = yaml.SafeLoader
else:
    # libyaml's parser when PyYAML has it (its wheels do): the same nodes and marks, composed
    # in C — a 200-probe slo.yaml in 7 ms instead of 180 ms. The implicit types stay ours
    # (the resolvers are Python). A file it refuses, or nests too deep, is read again by the
    # pure-Python parser, whose messages and lines the errors are worded on.
    _FastLoader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


class CoreLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema's implicit types.

    YAML 1.1 (PyYAML's default) reads ``yes/no/on/off/y/n`` as booleans,
    ``1:30`` as 90 and ``017`` as octal 15, silently changing what a user
    wrote. Here only ``true``/``false`` (``True``, ``TRUE``, …) are booleans,
    ints are decimal, ``0o17`` or ``0x1F``, and there are no timestamps:
    anything else stays text. ``<<`` merge keys stay, as anchors rely on them.
    """

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012

    def construct_core_bool(self, node: yaml.ScalarNode) -> bool:
        value = self._core_scalar(node, _CORE_BOOL, "a boolean (true or false)")
        return value.lower() == "true"

    def construct_core_int(self, node: yaml.ScalarNode) -> int:
        value = self._core_scalar(node, _CORE_INT, "an integer")
        if value.startswith(("0o", "0x")):
            return int(value[2:], 8 if value[1] == "o" else 16)
        return int(value, 10)  # `017` is 17: YAML 1.2 has no 0-prefixed octal

    def construct_core_float(self, node: yaml.ScalarNode) -> float:
        value = str(self.construct_scalar(node))
        if _CORE_INT.match(value):
            return float(self.construct_core_int(node))
        value = self._core_scalar(node, _CORE_FLOAT, "a number")
        lowered = value.lower()
        if lowered.endswith(".inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        if lowered == ".nan":
            return math.nan
        return float(value)

    def _core_scalar(self, node: yaml.ScalarNode, pattern: re.Pattern[str], what: str) -> str:
        """The scalar's text, if YAML 1.2 core reads it as ``what`` (an explicit `!!int yes` is not)."""
        value = str(self.construct_scalar(node))
        if not pattern.match(value):
            raise yaml.constructor.ConstructorError(
                None, None, f"`{value}` is not {what} in YAML 1.2", node.start_mark
            )
        return value


CoreLoader.add_implicit_resolver(_CORE + "bool", _CORE_BOOL, list("tTfF"))
CoreLoader.add_implicit_resolver(_CORE + "int", _CORE_INT, list("-+0123456789"))
CoreLoader.add_implicit_resolver(_CORE + "float", _CORE_FLOAT, list("-+0123456789."))
CoreLoader.add_implicit_resolver(_CORE + "null", _CORE_NULL, ["~", "n", "N", ""])
CoreLoader.add_implicit_resolver(_CORE + "merge", re.compile(r"^(?:<<)$"), ["<"])
CoreLoader.add_constructor(_CORE + "bool", CoreLoader.construct_core_bool)
CoreLoader.add_constructor(_CORE + "int", CoreLoader.construct_core_int)
CoreLoader.add_constructor(_CORE + "float", CoreLoader.construct_core_float)


class FastCoreLoader(_FastLoader):
    """:class:`CoreLoader`'s implicit types over libyaml's parser (when PyYAML has it): it only
    composes; :class:`CoreLoader` constructs the values from its nodes."""

    yaml_implicit_resolvers = CoreLoader.yaml_implicit_resolvers


def _compose(text: str) -> yaml.Node | None:
    """The node graph, fast; None when only the careful path can say what is wrong."""
    if _FastLoader is yaml.SafeLoader:
        return None
    try:
        depth = 0
        for token in yaml.scan(text, Loader=_FastLoader):
            depth += isinstance(token, _OPENING) - isinstance(token, _CLOSING)
            if depth > MAX_DEPTH:
                return None
        return yaml.compose(text, Loader=FastCoreLoader)
    except (yaml.YAMLError, RecursionError):
        return None


@dataclass
class YamlSource:
    """Plain data from a YAML file plus where each value came from."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    text_lines: list[str] = field(default_factory=list)
    notes: list[ConfigProblem] = field(default_factory=list)  # unset variables when allowed; `017`
    unset: set[Path_] = field(default_factory=set)  # values that held an unset variable (lenient)

    def line_of(self, path: Path_) -> int | None:
        """Line of the deepest known node along ``path`` (1-based)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: Path_, message: str, line: int | None = None) -> ConfigProblem:
        line = line or self.line_of(path)
        source = (
            self.text_lines[line - 1].rstrip() if line and line <= len(self.text_lines) else None
        )
        return ConfigProblem(self.file, line, dotted(path), message, source)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True)
class EnvPolicy:
    """What an unset ``${VAR}`` is: an error (a run), a note (``sloprobe validate`` without
    ``--strict-env``), or nothing where an option will give the value (``--base-url``)."""

    lenient: bool = False
    supplied: frozenset[Path_] = frozenset()


def load_yaml(
    path: str | Path, environ: Mapping[str, str] | None = None, env: EnvPolicy | None = None
) -> YamlSource:
    """Read ``path`` into a YamlSource; raise ConfigError naming file and line."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError.single(file, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError.single(file, f"the file is {len(raw)} bytes; the limit is {MAX_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError.single(file, f"not valid UTF-8 (byte {exc.start})", line) from None
    return parse_yaml(text, file, os.environ if environ is None else environ, env)


def parse_yaml(
    text: str, file: str, environ: Mapping[str, str], env: EnvPolicy | None = None
) -> YamlSource:
    source = YamlSource(file, None, text_lines=text.splitlines())
    node = _compose(text)
    try:
        if node is None:  # refused (or no libyaml): the careful path finds and words it
            _check_depth(text, file, source)
            node = yaml.compose(text, Loader=CoreLoader)
    except yaml.MarkedYAMLError as exc:
        # An unclosed bracket or quote is noticed lines later; where it was opened is what is wrong.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else None
        reason = exc.problem or exc.context or "invalid YAML"
        if (
            exc.context
            and exc.context_mark
            and exc.problem_mark
            and exc.context_mark.line != exc.problem_mark.line
        ):
            reason = f"{reason} ({exc.context} that starts here; noticed on line {exc.problem_mark.line + 1})"
        snippet = (
            source.text_lines[line - 1].rstrip()
            if line and line <= len(source.text_lines)
            else None
        )
        raise ConfigError(
            [ConfigProblem(file, line, "", f"YAML syntax: {reason}", snippet)]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError.single(file, f"YAML syntax: {exc}") from None
    except RecursionError:  # a bound below Python's own, missed by the scan: still a config error
        raise ConfigError.single(file, f"nested more than {MAX_DEPTH} levels deep") from None
    if node is None:
        raise ConfigError.single(
            file,
            "the file is empty; expected a mapping with `version`, `target`, `probes` and `slos`",
        )
    builder = _Builder(source, environ, env or EnvPolicy())
    source.data = builder.build(node, ())
    if builder.problems:
        raise ConfigError(builder.problems)
    return source


_OPENING = (
    yaml.FlowSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.BlockMappingStartToken,
)
_CLOSING = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)


def _check_depth(text: str, file: str, source: YamlSource) -> None:
    """Refuse nesting deeper than MAX_DEPTH before composing (PyYAML composes recursively)."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, _OPENING):
            depth += 1
            if depth > MAX_DEPTH:
                line = token.start_mark.line + 1
                snippet = (
                    source.text_lines[line - 1][:120] if line <= len(source.text_lines) else None
                )
                raise ConfigError(
                    [
                        ConfigProblem(
                            file, line, "", f"nested more than {MAX_DEPTH} levels deep", snippet
                        )
                    ]
                )
        elif isinstance(token, _CLOSING):
            depth -= 1


class _Builder:
    def __init__(self, source: YamlSource, environ: Mapping[str, str], env: EnvPolicy) -> None:
        self.source = source
        self.environ = environ
        self.env = env
        self.visited = 0
        self.problems: list[ConfigProblem] = []
        self.constructor = CoreLoader("")

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise ConfigError.single(
                self.source.file,
                f"more than {MAX_NODES} values after expanding aliases (an alias bomb?)",
                node.start_mark.line + 1,
                dotted(path),
            )
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        if node.tag not in _PLAIN_TAGS:
            self.problems.append(
                self.source.problem(
                    path, f"the YAML tag `{node.tag}` is not allowed (slo.yaml is plain data)"
                )
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        value = self._construct(node, path)
        if isinstance(node, yaml.ScalarNode) and not node.style:  # plain: None, or libyaml's ""
            self._note_leading_zero(node, path)
        if isinstance(value, str) and "${" in value:
            return self._interpolate(value, node, path)
        return value

    def _construct(self, node: yaml.Node, path: Path_) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.constructor.ConstructorError, ValueError) as exc:  # `!!int abc`
            reason = getattr(exc, "problem", None) or str(exc)
            line = node.start_mark.line + 1
            self.problems.append(self.source.problem(path, f"YAML: {reason}", line))
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        self.constructor.flatten_mapping(node)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            # A key is a name: the text as written (`on`, `017`, `null`), never a converted value.
            if isinstance(key_node, yaml.ScalarNode):
                self._construct(key_node, path)  # refuses `!!int abc: …` all the same
                key = str(key_node.value)
            else:
                key = str(self._construct(key_node, path))
            if not path and key.startswith("x-"):
                continue  # top-level `x-…` blocks hold YAML anchors, as in Compose files
            child = (*path, key)
            if key in out:
                self.source.lines[child] = key_node.start_mark.line + 1
                self.problems.append(
                    self.source.problem(
                        child, f"duplicate key `{key}` (an earlier one would be silently replaced)"
                    )
                )
                continue
            self.source.lines[child] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, child)
            self.source.lines[child] = key_node.start_mark.line + 1
        return out

    def _note_leading_zero(self, node: yaml.ScalarNode, path: Path_) -> None:
        """``017`` is the number 17 in YAML 1.2 (octal 15 in 1.1): say so, since the 0 is lost."""
        text = node.value
        if node.tag != _CORE + "int" or not _LEADING_ZERO.match(text):
            return
        digits = text.lstrip("+-").lstrip("0") or "0"
        octal = f", or `0o{digits}` for octal" if set(digits) <= set("01234567") else ""
        self.source.notes.append(
            self.source.problem(
                path,
                f'`{text}` is read as the number {int(text, 10)}; write `"{text}"` to keep '
                f"the leading zero{octal}",
            )
        )

    def _interpolate(self, value: str, node: yaml.Node, path: Path_) -> str:
        def replace(match: re.Match[str]) -> str:
            escaped, name, default = match.group(1), match.group(2), match.group(3)
            if escaped:
                return match.group(0)[1:]
            if name in self.environ and self.environ[name] != "":
                return self.environ[name]
            if default is not None:
                return default
            if path in self.env.supplied:
                return ""  # an option gives this value (e.g. --base-url): the variable may be unset
            self.source.lines[path] = node.start_mark.line + 1
            # An empty value counts as unset (`${X}` is `${X:-}`), but says it was set:
            # a secret missing on GitHub Actions arrives as an empty string.
            state = "is set but empty" if name in self.environ else "is not set"
            problem = self.source.problem(
                path,
                f"environment variable `{name}` {state} (write `${{{name}:-default}}` for a default)",
            )
            (self.source.notes if self.env.lenient else self.problems).append(problem)
            if self.env.lenient:
                self.source.unset.add(path)
            return ""

        return _VARIABLE.sub(replace, value)
