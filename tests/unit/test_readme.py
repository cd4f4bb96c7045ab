"""The slo.yaml shown in the README is a valid file, and the repo's own suite validates."""

from __future__ import annotations

import re
from pathlib import Path

from sloprobe.config import load_slo_file, load_slo_text

ROOT = Path(__file__).resolve().parents[2]


def test_readme_example_is_valid() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## slo.yaml by example\s+```yaml\n(.*?)```", readme, re.S)
    assert block is not None
    loaded = load_slo_text(
        block.group(1), "README.md", {"PROBE_BASE_URL": "https://x.example", "API_TOKEN": "abcdef"}
    )
    assert set(loaded.spec.slos) == {
        "health-up",
        "health-latency",
        "success-rate",
        "processing-time",
    }


def test_repo_suite_is_valid_and_has_no_target() -> None:
    loaded = load_slo_file(ROOT / "slo.yaml", environ={})
    assert loaded.spec.target.base_url is None
    assert {
        "health-up",
        "health-latency",
        "queue-depth",
        "workers-live",
        "job-success-rate",
    } <= set(loaded.spec.slos)
