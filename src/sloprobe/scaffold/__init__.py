"""``sloprobe init``: scaffold a probe-suite repository, never overwriting without being asked."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SHAPES = {
    "fastapi-db-worker": "FastAPI + a database-polling worker (+ RQ)",
    "celery-flower": "FastAPI + Celery on Redis, watched with Flower",
    "bullmq-node": "Node service with BullMQ queues on Redis",
    "prometheus": "a service instrumented with Prometheus",
}

EXAMPLE_PROBE = """
  example:
    description: The Python probe in probes/test_example.py.
    python:
      values:
        seconds: { unit: s }
"""
EXAMPLE_SLO = """
  example-fast:
    probe: example
    measure: seconds
    threshold: max < 2s
"""


@dataclass(frozen=True)
class Scaffolded:
    created: list[Path]
    kept: list[Path]


def example_slo_yaml(shape: str) -> str:
    """The shape's example slo.yaml (packaged, or from a source checkout), plus the example probe."""
    packaged = resources.files("sloprobe") / "examples" / shape / "slo.yaml"
    if packaged.is_file():
        text = packaged.read_text(encoding="utf-8")
    else:
        checkout = Path(__file__).resolve().parents[3] / "examples" / shape / "slo.yaml"
        text = checkout.read_text(encoding="utf-8")
    head, _, slos = text.partition("\nslos:\n")
    return head.rstrip() + "\n" + EXAMPLE_PROBE + "\nslos:\n" + slos.rstrip() + "\n" + EXAMPLE_SLO


def scaffold(directory: Path, shape: str, force: bool = False) -> Scaffolded:
    files = resources.files("sloprobe.scaffold") / "files"
    plan = {
        directory / "slo.yaml": example_slo_yaml(shape),
        directory / "probes" / "test_example.py": (files / "test_example.py").read_text(
            encoding="utf-8"
        ),
        directory / "conftest.py": (files / "conftest.py").read_text(encoding="utf-8"),
        directory / ".github" / "workflows" / "probe.yml": (files / "probe.yml").read_text(
            encoding="utf-8"
        ),
        directory / ".github" / "workflows" / "deploy-verify.yml": (
            files / "deploy-verify.yml"
        ).read_text(encoding="utf-8"),
        directory / ".gitignore": (files / "gitignore").read_text(encoding="utf-8"),
    }
    created, kept = [], []
    for path, text in plan.items():
        if path.exists() and not force:
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(path)
    return Scaffolded(created, kept)
