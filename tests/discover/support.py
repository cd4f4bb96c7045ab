"""Running `sloprobe discover` in-process and the proposed suite through pytest, for these tests."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloprobe.cli import main
from sloprobe.config import EnvPolicy, load_slo_file


def discover(*args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``sloprobe discover ARGS``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["discover", *args])
    return status, out.getvalue(), err.getvalue()


def set_scrape_interval(path: Path, interval: str) -> None:
    data = yaml.safe_load(path.read_text())
    scraped = [p["prometheus"] for p in data["probes"].values() if "prometheus" in p]
    assert scraped, "no prometheus probe to shorten"
    for probe in scraped:
        probe["interval"] = interval
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def validates(path: Path) -> Any:
    """The loaded spec; `sloprobe validate` accepts the file (unset variables are notes)."""
    assert main(["validate", str(path)]) == 0
    return load_slo_file(path, environ={}, env=EnvPolicy(lenient=True)).spec


def run_suite(
    suite: pytest.Pytester,
    slo: Path,
    base_url: str,
    *args: str,
    scrape_interval: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Run the proposed file as `sloprobe run` does; (exit status, verdict per SLO).

    ``scrape_interval``: the one change made to the file, for the suite's time: its scraped
    histograms' two scrapes that far apart instead of the kind's default 15 s (the default
    itself is tested in tests/prometheus/test_prometheus_items.py)."""
    shutil.copy(slo, suite.path / "slo.yaml")
    if scrape_interval is not None:
        set_scrape_interval(suite.path / "slo.yaml", scrape_interval)
    result = suite.runpytest(
        "slo.yaml", "--base-url", base_url, "--history=off", "-p", "no:cacheprovider", *args
    )
    partial = suite.path / "reports" / "partial" / "results.json"  # a run narrowed with -k
    data = json.loads(
        (partial if partial.is_file() else suite.path / "reports" / "results.json").read_text()
    )
    return int(result.ret), {v["slo"]: v for v in data["verdicts"]}
