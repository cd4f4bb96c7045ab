"""A small YAML writer for proposals: block mappings, flow for short leaves, comments beside keys.

Text read from a service is written so it stays text: quoted when it is not
a plain word, and with ``${`` escaped as ``$${`` so a run never interpolates
a variable the service put there. Only :class:`Var` values (the proposal's
own ``${NAME}``) are written as variables.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping
from typing import Any

from sloprobe.discover.model import Var
from sloprobe.redact import neutralise

OptionPath = tuple[str, ...]
_PLAIN = re.compile(r'^[A-Za-z_/][A-Za-z0-9_ ./<>=!%"\-]*$')
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-.]*$")
_SPECIAL = frozenset(["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"])
FLOW_WIDTH = 96
COMMENT_WIDTH = 92


def scalar(value: Any) -> str:
    if isinstance(value, Var):
        return json.dumps(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if value is None:
        return "null"
    text = str(value).replace("${", "$${")
    plain = (
        _PLAIN.match(text)
        and text.lower() not in _SPECIAL
        and not text.endswith(" ")
        and ": " not in text
        and " #" not in text
    )
    return text if plain else json.dumps(text, ensure_ascii=False)


def key_text(key: str) -> str:
    return key if _PLAIN_KEY.match(key) and key.lower() not in _SPECIAL else json.dumps(key)


def comment(text: str) -> str:
    """Text made safe for one comment line: no line breaks, controls shown, not a YAML end."""
    return neutralise(text).replace("\n", " ").replace("\r", " ")


def comment_lines(lines: list[str], indent: int) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    for line in lines:
        wrapped = textwrap.wrap(comment(line), COMMENT_WIDTH - len(pad)) or [""]
        out += [f"{pad}# {part}".rstrip() for part in wrapped]
    return out


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{key_text(k)}: {_flow(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    text = scalar(value)
    return text if not re.search(r"[,\[\]{}]", text) or text.startswith('"') else json.dumps(text)


def _is_leaf(value: Any) -> bool:
    if isinstance(value, list):
        return all(not isinstance(v, Mapping | list) for v in value)
    return not isinstance(value, Mapping)


def block(
    data: Mapping[str, Any],
    notes: Mapping[OptionPath, str],
    indent: int,
    path: OptionPath = (),
) -> list[str]:
    """``data`` as a block mapping at ``indent`` (two spaces each), comments from ``notes``."""
    pad = "  " * indent
    lines: list[str] = []
    for key, value in data.items():
        here = (*path, key)
        note = notes.get(here)
        tail = f"  # {comment(note)}" if note else ""
        inner = [p for p in notes if p[: len(here)] == here and p != here]
        if isinstance(value, Mapping) and value:
            flow = f"{pad}{key_text(key)}: {_flow(value)}"
            small = all(_is_leaf(v) for v in value.values()) and not inner
            if small and len(flow) <= FLOW_WIDTH:
                lines.append(flow + tail)
            else:
                lines.append(f"{pad}{key_text(key)}:{tail}")
                lines += block(value, notes, indent + 1, here)
        elif isinstance(value, list) and not _is_leaf(value):
            raise TypeError(f"lists of mappings are not written here ({'.'.join(here)})")
        else:
            shown = _flow(value) if isinstance(value, list | Mapping) else scalar(value)
            lines.append(f"{pad}{key_text(key)}: {shown}{tail}")
    return lines


def commented_out(lines: list[str], indent: int) -> list[str]:
    """Lines written as comments at ``indent``, so removing ``# `` restores them."""
    pad = "  " * indent
    return [f"{pad}# {line[len(pad) :]}" if line.startswith(pad) else f"# {line}" for line in lines]
