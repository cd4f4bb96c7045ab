"""The bad-config corpus: every broken slo.yaml is refused, naming the line that is actually wrong.

Each file's first lines say what to expect: ``# expect: <part of the message>``
and, for files without one wrong line, ``# expect-line: none``. The wrong
line is marked in the file itself with ``# <- wrong``, so the expectation
comes from the file, not from what sloprobe happens to print. Some files are
made by the tests (non-UTF-8 bytes, an oversized file).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sloprobe.config import ConfigError, load_slo_file

CORPUS = Path(__file__).resolve().parent
FILES = sorted(CORPUS.glob("*/*.yaml"))
CATEGORIES = {
    "syntax",
    "structure",
    "types",
    "units",
    "references",
    "duplicates",
    "environment",
    "hostile",
}


def expectation(path: Path) -> tuple[str, int | None]:
    lines = path.read_text(encoding="utf-8").splitlines()
    message = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("# expect:"))
    if any(line.startswith("# expect-line: none") for line in lines):
        return message, None
    wrong = [number for number, line in enumerate(lines, 1) if "<- wrong" in line]
    assert len(wrong) == 1, f"{path} must mark exactly one wrong line"
    return message, wrong[0]


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_refused_with_file_line_and_message(path: Path) -> None:
    message, line = expectation(path)
    with pytest.raises(ConfigError) as caught:
        load_slo_file(path, environ={})
    problems = caught.value.problems
    matching = [p for p in problems if message in p.message]
    assert matching, [str(p) for p in problems]
    problem = matching[0]
    assert problem.file == str(path)
    if line is not None:
        assert problem.line == line, str(problem)
        assert str(problem).startswith(f"{path}:{line}:")


def test_the_corpus_is_broad() -> None:
    assert len(FILES) >= 30
    assert {p.parent.name for p in FILES} == CATEGORIES


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_bytes(b"version: 1\nservice: shop\nprobes:\n  caf\xe9: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_slo_file(path, environ={})
    assert caught.value.problems[0].line == 4
    assert "not valid UTF-8" in caught.value.problems[0].message


def test_oversized_file_is_refused_without_reading_it_into_yaml(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text("version: 1\n" + "# padding\n" * 350_000)
    with pytest.raises(ConfigError, match="the limit is"):
        load_slo_file(path, environ={})


@pytest.mark.parametrize("path", FILES[::5], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_validate_command_exits_4_without_a_traceback(path: Path) -> None:
    message, line = expectation(path)
    done = subprocess.run(
        [sys.executable, "-m", "sloprobe.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": ""},
    )
    assert done.returncode == 4
    assert message in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    if line is not None:
        assert f"{path}:{line}:" in done.stderr
