"""Every example in examples/ validates; the shape-1 example runs against the reference service."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sloprobe.config import load_slo_file
from sloprobe.demo.run import warm_up
from sloprobe.demo.service import ServiceConfig, start_service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", sorted(p.parent.name for p in EXAMPLES.glob("*/slo.yaml")))
def test_example_validates(example: str) -> None:
    loaded = load_slo_file(EXAMPLES / example / "slo.yaml", environ={})
    assert loaded.spec.slos


def test_there_is_an_example_for_each_shape() -> None:
    assert {p.parent.name for p in EXAMPLES.glob("*/slo.yaml")} >= {
        "fastapi-db-worker",
        "celery-flower",
        "bullmq-node",
        "prometheus",
    }


def test_shape_one_example_runs_against_the_reference_service(pytester: pytest.Pytester) -> None:
    shutil.copy(EXAMPLES / "fastapi-db-worker" / "slo.yaml", pytester.path / "slo.yaml")
    with start_service(ServiceConfig()) as service:
        warm_up(service.base_url)
        result = pytester.runpytest("--base-url", service.base_url, "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    verdicts = json.loads((pytester.path / "reports" / "results.json").read_text())["verdicts"]
    assert {v["status"] for v in verdicts} == {"ok"}
    assert {v["slo"] for v in verdicts} >= {
        "job-e2e",
        "workers-live",
        "failed-jobs",
        "service-healthy",
    }
