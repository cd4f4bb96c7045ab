"""Reading a bench's Markdown section back: its tables, and the figures in their cells."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

FIGURE = re.compile(
    r"^\**(?P<number>-?[\d,]+(?:\.\d+)?)\s?(?P<unit>s|ms|×|× the goal|MiB|KiB|MB|mismatches)?\**$"
)


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    note: str

    def column(self, name: str) -> list[str]:
        index = self.header.index(name)
        return [row[index] for row in self.rows]

    def row(self, starts: str) -> list[str]:
        found = [row for row in self.rows if row[0].startswith(starts)]
        assert len(found) == 1, f"{len(found)} rows start with {starts!r} in {self.title!r}"
        return found[0]


def tables(text: str) -> list[Table]:
    """Every ``### title`` with its table and the note after it, as common.table writes them."""
    found = []
    for block in re.split(r"^### ", text, flags=re.M)[1:]:
        title, _, rest = block.partition("\n")
        lines = rest.strip("\n").split("\n")
        table_lines = [line for line in lines if line.startswith("|")]
        note = "\n".join(line for line in lines if not line.startswith("|")).strip()
        cells = [[c.strip() for c in line.strip("|").split("|")] for line in table_lines]
        assert len(cells) >= 2 and set(cells[1]) == {"---"}, f"no table under {title!r}"
        rows = cells[2:]
        assert all(len(row) == len(cells[0]) for row in rows), f"ragged table {title!r}"
        found.append(Table(title, cells[0], rows, note))
    return found


def figure(cell: str, unit: str | None = None) -> float:
    """The number in a cell such as ``0.312 s``, ``2.25×`` or ``**21.80 s**``: finite, ≥ 0."""
    match = FIGURE.match(cell.strip())
    assert match, f"not a figure: {cell!r}"
    if unit is not None:
        assert match["unit"] == unit, f"{cell!r} is not in {unit}"
    value = float(match["number"].replace(",", ""))
    assert math.isfinite(value) and value >= 0, cell
    return value
