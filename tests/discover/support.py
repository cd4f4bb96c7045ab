"""Running `sloprobe discover` in-process and the proposed suite through pytest, for these tests."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from sloprobe.cli import main
from sloprobe.config import EnvPolicy, load_slo_file


def discover(*args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``sloprobe discover ARGS``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["discover", *args])
    return status, out.getvalue(), err.getvalue()


def validates(path: Path) -> Any:
    """The loaded spec; `sloprobe validate` accepts the file (unset variables are notes)."""
    assert main(["validate", str(path)]) == 0
    return load_slo_file(path, environ={}, env=EnvPolicy(lenient=True)).spec


def run_suite(
    suite: pytest.Pytester, slo: Path, base_url: str, *args: str
) -> tuple[int, dict[str, Any]]:
    """Run the proposed file as `sloprobe run` does; (exit status, verdict per SLO)."""
    shutil.copy(slo, suite.path / "slo.yaml")
    result = suite.runpytest(
        "slo.yaml", "--base-url", base_url, "--history=off", "-p", "no:cacheprovider", *args
    )
    partial = suite.path / "reports" / "partial" / "results.json"  # a run narrowed with -k
    data = json.loads(
        (partial if partial.is_file() else suite.path / "reports" / "results.json").read_text()
    )
    return int(result.ret), {v["slo"]: v for v in data["verdicts"]}
