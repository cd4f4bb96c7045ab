"""Running a shipped example's slo.yaml through pytest, as a user does, and reading its verdicts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest


def run_example(
    suite: pytest.Pytester, example: Path, base_url: str, *args: str
) -> tuple[Any, dict[str, Any]]:
    """(pytest's result, verdict per SLO) of ``example`` run against ``base_url``."""
    shutil.copy(example, suite.path / "slo.yaml")
    result = suite.runpytest(
        "--base-url", base_url, "--history=off", "-p", "no:cacheprovider", *args
    )
    data = json.loads((suite.path / "reports" / "results.json").read_text())
    return result, {v["slo"]: v for v in data["verdicts"]}


def breached(verdicts: dict[str, Any]) -> set[str]:
    return {slo for slo, v in verdicts.items() if v["status"] == "breach"}


def said(verdict: dict[str, Any]) -> str:
    """What a verdict says of itself: its observed value and its reason."""
    return f"{verdict['observed']} {verdict['reason']}"
