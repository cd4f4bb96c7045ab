"""Config errors that point at the file, line and field that is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sloprobe.errors import InputError


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a config file, located as precisely as we can."""

    file: str
    line: int | None
    field: str
    message: str
    source_line: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )
        if self.source_line is not None:
            text += f"\n    {self.line} | {self.source_line}"
        return text


class ConfigError(InputError):
    """slo.yaml could not be loaded; ``problems`` lists every error found."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.render())

    @classmethod
    def single(
        cls, file: str | Path, message: str, line: int | None = None, field: str = ""
    ) -> ConfigError:
        return cls([ConfigProblem(str(file), line, field, message)])

    def render(self) -> str:
        count = len(self.problems)
        head = "invalid slo file" if count == 1 else f"invalid slo file ({count} problems)"
        return head + ":\n" + "\n".join(f"  {p}" for p in self.problems)
