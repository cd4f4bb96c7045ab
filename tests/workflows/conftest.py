"""Fixtures for running workflows here: a local GitHub holding sloprobe as it is in this working tree,
and a runner's Python without sloprobe in it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from sloprobe.scaffold import ActionSource, default_source
from tests.workflows.runner import LocalGitHub, working_tree_files

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sloprobe_files() -> dict[str, bytes]:
    """This working tree, uncommitted changes included: what a release tag would hold."""
    return working_tree_files(ROOT)


@pytest.fixture
def source() -> ActionSource:
    """Where the scaffold and the docs say sloprobe lives (pyproject's Repository, tag v<version>).

    By its tag: the local github.com publishes this working tree under the tag, not under the
    checkout's commit (test_init checks the commit pin the scaffold writes by default).
    """
    return dataclasses.replace(default_source(), commit=None)


@pytest.fixture
def github(tmp_path: Path, sloprobe_files: dict[str, bytes], source: ActionSource) -> LocalGitHub:
    """A local github.com with sloprobe's repository, its release tag on this working tree."""
    host = LocalGitHub(tmp_path / "github.com")
    host.publish(source.repository, sloprobe_files, tags=(source.ref,))
    return host


@pytest.fixture(scope="session")
def runner_site_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What pip would install for sloprobe with its runtime extras, and pip itself, linked from the
    test environment: a runner whose pip cache is warm.

    sloprobe itself is left out: the workflow under test installs it, from the source it names,
    so the install step runs for real and offline, its dependencies already satisfied. Test-only
    packages (pytest plugins such as xdist or hypothesis) are left out too, as on a runner.
    """
    ours = Path(next(p for p in sys.path if p.endswith("site-packages")))
    linked = tmp_path_factory.mktemp("runner-site-packages")
    wanted = _closure({"sloprobe": {"redis", "sentry", "postgres"}, "pip": set()})
    wanted.discard("sloprobe")
    tops: set[str] = set()
    for name in wanted:
        for file in metadata.distribution(name).files or []:
            top = file.parts[0]
            if top not in ("..", "__pycache__") and not top.endswith(".pth"):
                tops.add(top)
    for top in sorted(tops):
        if (ours / top).exists():
            (linked / top).symlink_to(ours / top)
    return linked


def _closure(roots: dict[str, set[str]]) -> set[str]:
    """The installed distributions `roots` (name: extras) need, markers evaluated."""
    seen: set[str] = set()
    todo = list(roots.items())
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in seen and not extras:
            continue
        seen.add(key)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            wanted_by = [{"extra": e} for e in extras] or [{"extra": ""}]
            applies = requirement.marker is None or any(
                requirement.marker.evaluate(env) for env in wanted_by
            )
            if applies and canonicalize_name(requirement.name) not in seen:
                todo.append((requirement.name, set(requirement.extras)))
    return seen


@pytest.fixture
def runner_python(tmp_path: Path, runner_site_packages: Path) -> Path:
    """A fresh Python for one job (what setup-python puts on PATH): no sloprobe in it."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    venv = tmp_path / "runner-python"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    [site] = venv.glob("lib/python*/site-packages")
    (site / "zz-runner-cache.pth").write_text(f"{runner_site_packages}\n", encoding="utf-8")
    return venv / "bin" / "python"
