"""``sloprobe init``: scaffold a probe-suite repository, never overwriting without being asked.

The suite is a shape's example made the user's (see :mod:`sloprobe.scaffold.suite`); the two
workflows pass every ``${VAR}`` its slo.yaml reads, and install sloprobe from one
``owner/repo@ref`` (:mod:`sloprobe.scaffold.source`), never from a package index.

It writes files from templates and the examples; it must not import the plugin, the
probes' I/O code, history or notifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sloprobe.config.yaml_source import EnvPolicy, parse_yaml
from sloprobe.scaffold.facts import SuiteFacts, suite_facts
from sloprobe.scaffold.source import ActionSource, default_source
from sloprobe.scaffold.suite import TARGET_VARIABLE, Variable, suite_slo_yaml, variables

SHAPES = {
    "fastapi-db-worker": "FastAPI + a database-polling worker (+ RQ)",
    "celery-flower": "FastAPI + Celery on Redis, watched with Flower",
    "bullmq-node": "Node service with BullMQ queues on Redis",
    "prometheus": "a service instrumented with Prometheus",
}
DEFAULT_SHAPE = "fastapi-db-worker"
REQUIREMENTS = "requirements-sloprobe.txt"
# The scheduled workflow passes SENTRY_DSN: the Sentry extra is installed whether or not it is set.
SCHEDULED_EXTRAS = ("sentry",)

__all__ = [
    "DEFAULT_SHAPE",
    "DISCOVERED",
    "REQUIREMENTS",
    "SHAPES",
    "ActionSource",
    "Scaffolded",
    "Suite",
    "default_source",
    "plan_suite",
    "scaffold",
    "service_name",
]


@dataclass(frozen=True)
class Suite:
    """What `sloprobe init` writes, before it writes anything."""

    shape: str
    service: str
    source: ActionSource
    files: dict[Path, str]  # relative path -> text
    variables: list[Variable]  # every ${VAR} of slo.yaml, PROBE_BASE_URL first
    facts: SuiteFacts


@dataclass(frozen=True)
class Scaffolded:
    suite: Suite
    created: list[Path]
    kept: list[Path]


def service_name(directory: Path) -> str:
    """A valid service name from a folder name: `My Service` -> `my-service`."""
    name = re.sub(r"[^a-z0-9_.-]+", "-", directory.resolve().name.lower()).strip("-._")
    return name or "my-service"


def cache_scope(service: str, environment: str) -> str:
    """The history cache's key prefix: one per service and environment (``shop-production``)."""
    scope = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{service}-{environment or 'production'}")
    return scope.strip("-") or "suite"


DISCOVERED = "discovered"


def plan_suite(
    shape: str, service: str, source: ActionSource, slo_text: str | None = None
) -> Suite:
    """The files of a suite for ``shape``; ``slo_text``: the slo.yaml `sloprobe discover`
    proposed for the service (``init --from URL``), in place of the shape's example."""
    description = SHAPES.get(shape, "discovered from the service")
    slo_yaml = suite_slo_yaml(shape, description, service, slo_text)
    # Read with every variable unset, as on a fresh repository (tests load it as a run does).
    parsed = parse_yaml(slo_yaml, "slo.yaml", environ={}, env=EnvPolicy(lenient=True))
    facts = suite_facts(parsed.data, environ={})
    found = [Variable(TARGET_VARIABLE, required=True, secret=False)] + [
        v for v in variables(slo_yaml) if v.name != TARGET_VARIABLE
    ]
    extras = tuple(sorted({*facts.extras, *SCHEDULED_EXTRAS}))
    why = "; ".join(facts.reasons) or "no probe needs one"
    files = resources.files("sloprobe.scaffold") / "files"

    def template(name: str) -> str:
        return (files / name).read_text(encoding="utf-8")

    def render(text: str, **values: str) -> str:
        for key, value in values.items():
            text = text.replace(f"%%{key}%%", value)
        if "%%" in text:
            raise ValueError(f"a placeholder is left in the template: {text!r}")
        return text

    scheduled_env = _env_lines(found)
    deploy_env = _env_lines([v for v in found if v.name != TARGET_VARIABLE])
    plan = {
        Path("slo.yaml"): slo_yaml,
        Path("probes/test_example.py"): render(
            template("test_example.py"), READY_PATH=facts.ready_path
        ),
        Path("conftest.py"): template("conftest.py"),
        Path(REQUIREMENTS): render(
            template(REQUIREMENTS),
            EXTRAS_WHY=f"sentry: $SENTRY_DSN; {why}",
            REQUIREMENT=source.requirement(extras),
        ),
        Path(".github/workflows/probe.yml"): render(
            template("probe.yml"),
            ENV=scheduled_env,
            REQUIREMENTS=REQUIREMENTS,
            CACHE_SCOPE=cache_scope(facts.service, facts.environment),
        ),
        Path(".github/workflows/deploy-verify.yml"): render(
            template("deploy-verify.yml"), ENV=deploy_env, ACTION=source.uses
        ),
        Path(".gitignore"): template("gitignore"),
    }
    return Suite(shape, service, source, plan, found, facts)


def scaffold(directory: Path, suite: Suite, force: bool = False) -> Scaffolded:
    created, kept = [], []
    for relative, text in suite.files.items():
        path = directory / relative
        if path.exists() and not force:
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(path)
    return Scaffolded(suite, created, kept)


def _env_lines(found: list[Variable]) -> str:
    if not found:
        return "      # (none)"
    lines = []
    for variable in found:
        note = "required" if variable.required else "optional: slo.yaml has a default"
        lines.append(f"      {variable.name}: {variable.expression}  # {note}")
    return "\n".join(lines)
