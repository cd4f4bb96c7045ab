"""GitHub Actions expressions (`${{ … }}`), the documented subset the workflows here use.

Literals (strings in single quotes, numbers, true, false, null), contexts with `.name` and
`['name']` access (names may hold `-`), `!`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`
(which return an operand, as GitHub's do), parentheses, and the functions always, success,
failure, cancelled, toJSON, fromJSON, contains, startsWith, endsWith, format. String comparison
ignores case, as GitHub's does. Anything else raises: a workflow this parser cannot read fails
its test instead of being guessed at.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op>\|\||&&|==|!=|<=|>=|[!<>().,\[\]])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


class ExpressionError(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        found = _TOKEN.match(text, position)
        if found is None:
            raise ExpressionError(f"cannot read `{text[position:]}` in `{text}`")
        kind = found.lastgroup
        assert kind is not None
        tokens.append((kind, found[kind]))
        position = found.end()
    return tokens


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and not (isinstance(value, float) and value == 0)


def evaluate(text: str, contexts: dict[str, Any]) -> Any:
    parser = _Parser(_tokens(text), contexts, text)
    value = parser.either()
    if parser.position != len(parser.tokens):
        raise ExpressionError(f"unexpected `{parser.tokens[parser.position][1]}` in `{text}`")
    return value


def interpolate(text: str, contexts: dict[str, Any]) -> str:
    """Every `${{ … }}` of `text` replaced by its value as text."""
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: as_text(evaluate(m[1], contexts)), text, flags=re.S)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) or a is None or b is None:
        return bool(a == b)
    return _number(a) == _number(b)


def _number(value: Any) -> float:
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value) if value.strip() else 0.0
        except ValueError:
            return float("nan")
    return float("nan")


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], contexts: dict[str, Any], text: str) -> None:
        self.tokens, self.contexts, self.text, self.position = tokens, contexts, text, 0

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ExpressionError(f"`{self.text}` ends too early")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected `{expected}`, found `{token[1]}` in `{self.text}`")
        self.position += 1
        return token

    def either(self) -> Any:
        value = self.both()
        while self.peek() == "||":
            self.take()
            right = self.both()
            value = value if truthy(value) else right
        return value

    def both(self) -> Any:
        value = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            value = right if truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            right = self.unary()
            if op == "==":
                value = _equal(value, right)
            elif op == "!=":
                value = not _equal(value, right)
            else:
                a, b = _number(value), _number(right)
                value = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.access(self.primary())

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text) if "." in text else int(text)
        if text == "(":
            value = self.either()
            self.take(")")
            return value
        if kind != "name":
            raise ExpressionError(f"unexpected `{text}` in `{self.text}`")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self.peek() == "(":
            return self.call(text)
        if text not in self.contexts:
            raise ExpressionError(f"unknown context `{text}` in `{self.text}`")
        return self.contexts[text]

    def access(self, value: Any) -> Any:
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                kind, name = self.take()
                if kind != "name":
                    raise ExpressionError(f"expected a property name after `.` in `{self.text}`")
            else:
                name = self.either()
                self.take("]")
            value = _property(value, name)
        return value

    def call(self, function: str) -> Any:
        self.take("(")
        arguments = []
        while self.peek() != ")":
            arguments.append(self.either())
            if self.peek() == ",":
                self.take()
        self.take(")")
        status = str(self.contexts.get("job", {}).get("status", "success"))
        match function.lower(), arguments:
            case "always", []:
                return True
            case "success", []:
                return status == "success"
            case "failure", []:
                return status == "failure"
            case "cancelled", []:
                return False
            case "tojson", [value]:
                return json.dumps(value, indent=2)
            case "fromjson", [str() as value]:
                return json.loads(value)
            case "contains", [haystack, needle]:
                if isinstance(haystack, list):
                    return any(_equal(x, needle) for x in haystack)
                return as_text(needle).lower() in as_text(haystack).lower()
            case "startswith", [text, prefix]:
                return as_text(text).lower().startswith(as_text(prefix).lower())
            case "endswith", [text, suffix]:
                return as_text(text).lower().endswith(as_text(suffix).lower())
            case "format", [str() as template, *values]:
                return re.sub(r"\{(\d+)\}", lambda m: as_text(values[int(m[1])]), template)
        raise ExpressionError(
            f"unknown function {function}({len(arguments)} arguments) in `{self.text}`"
        )


def _property(value: Any, name: Any) -> Any:
    if isinstance(value, dict):
        if name in value:
            return value[name]
        lowered = {str(k).lower(): v for k, v in value.items()}
        return lowered.get(str(name).lower())
    if isinstance(value, list) and isinstance(name, int | float):
        index = int(name)
        return value[index] if 0 <= index < len(value) else None
    return None
