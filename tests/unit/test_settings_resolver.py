"""One settings resolver (issue 28): no module of sloprobe reads the environment but
`sloprobe.settings` and the config loader's `${VAR}` expansion; every variable read by name
through the resolver is listed, with its purpose, in `settings.VARIABLES`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from tests.support.python_ast import parse as parse_python

from sloprobe import settings

SRC = Path(settings.__file__).resolve().parent
# The resolver itself; the config loader, whose ${VAR} expansion reads the variables a
# slo.yaml names (the user's, not sloprobe's); the bundled reference service, which is the
# target a run probes, a program of its own.
ALLOWED = {
    SRC / "settings.py",
    SRC / "config" / "yaml_source.py",
    *(SRC / "demo" / "service").glob("*.py"),
}


def _reads_environment(tree: ast.AST) -> list[int]:
    """Lines that touch os.environ, os.getenv, os.putenv or `from os import environ`."""
    names = ("environ", "getenv", "environb")
    lines = []
    for node in ast.walk(tree):
        attribute = (
            isinstance(node, ast.Attribute)
            and node.attr in names
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
        imported = (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in names for a in node.names)
        )
        if attribute or imported:
            lines.append(getattr(node, "lineno", 0))
    return lines


def test_no_module_but_the_resolver_reads_the_environment() -> None:
    found = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if path not in ALLOWED
        and (lines := _reads_environment(parse_python(path.read_text(encoding="utf-8"))))
    }
    assert found == {}, f"read the environment through sloprobe.settings instead: {found}"


def test_the_scan_sees_every_way_of_reading_it() -> None:
    for source in (
        "import os\nos.environ.get('X')",
        "import os\nos.getenv('X')",
        "from os import environ",
        "import os\nx = os.environ['X']",
    ):
        assert _reads_environment(parse_python(source)), source


def test_every_variable_read_by_name_is_listed() -> None:
    named: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(parse_python(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
                in ("variable", "seconds")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                named.add(node.args[0].value)
    assert named, "the scan found no read at all"
    assert named - set(settings.VARIABLES) == set()


def test_flag_then_environment_then_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.BASE_URL_ENV, "http://from-env")
    assert settings.base_url("http://flag", "http://file") == "http://flag"
    assert settings.base_url(None, "http://file") == "http://from-env"
    monkeypatch.setenv(settings.BASE_URL_ENV, "")  # empty counts as unset
    assert settings.base_url(None, "http://file") == "http://file"
    monkeypatch.setenv(settings.HISTORY_URL_ENV, "sqlite:///env.db")
    assert settings.history_url("off", "sqlite:///file.db") == "off"
    assert settings.history_url(None, "sqlite:///file.db") == "sqlite:///env.db"


def test_the_ci_run_url_needs_all_three_parts() -> None:
    env = {
        "GITHUB_SERVER_URL": "https://github.com/",
        "GITHUB_REPOSITORY": "acme/api",
        "GITHUB_RUN_ID": "42",
    }
    assert settings.ci_run_url(env) == "https://github.com/acme/api/actions/runs/42"
    assert settings.ci_run_url({**env, "GITHUB_RUN_ID": ""}) is None
