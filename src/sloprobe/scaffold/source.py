"""Where sloprobe is installed from in GitHub Actions: one ``owner/repo@ref``, never a package index.

The repository is the ``Repository`` entry of ``[project.urls]`` in pyproject.toml, the ref is
the release tag of this version (``v<version>``). The action (``uses: owner/repo@ref``), the
reusable deploy workflow and the pip requirement of the scheduled workflow
(``sloprobe[...] @ git+https://github.com/owner/repo@ref``) all name that one reference;
``sloprobe init --action owner/repo@ref`` replaces it (a fork, a commit SHA).

The scaffolded action step is pinned by the release's full commit (``@<sha>  # v0.1.0``), as
zizmor's ``unpinned-uses`` asks of every user repository: a wheel built from git records
its commit at build time (``hatch_build.py``); a source checkout reads it from git (the
tag's commit, else the checkout's). Only when neither knows it does the tag stand alone.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

_REFERENCE = re.compile(r"^(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)@(?P<ref>[\w./-]+)$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_GITHUB_URL = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class ActionSource:
    owner: str
    repo: str
    ref: str
    commit: str | None = None  # the full commit of ``ref``: what the action step is pinned by

    @classmethod
    def parse(cls, text: str) -> ActionSource:
        """``owner/repo@ref``; ValueError naming the expected form otherwise."""
        found = _REFERENCE.match(text.strip())
        if found is None or ".." in found["ref"]:
            raise ValueError(f"`{text}` is not owner/repo@ref (e.g. my-org/sloprobe@v0.1.0)")
        return cls(found["owner"], found["repo"], found["ref"])

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def action(self) -> str:
        """What a workflow step writes after ``uses:``."""
        return f"{self.repository}@{self.ref}"

    @property
    def uses(self) -> str:
        """The action step's ``uses:`` value: by full commit, the tag in a comment, when known."""
        if self.commit is None or self.commit == self.ref:
            return self.action
        return f"{self.repository}@{self.commit}  # {self.ref}"

    @property
    def reusable_workflow(self) -> str:
        return f"{self.repository}/.github/workflows/deploy-verify.yml@{self.ref}"

    def requirement(self, extras: tuple[str, ...] = ()) -> str:
        """The pip requirement that installs sloprobe from this repository at this ref."""
        wanted = f"[{','.join(extras)}]" if extras else ""
        return f"sloprobe{wanted} @ git+https://github.com/{self.repository}@{self.ref}"


def default_source() -> ActionSource:
    """The project's own repository (pyproject.toml ``[project.urls] Repository``) at ``v<version>``."""
    urls, version = _project_urls_and_version()
    repository = urls.get("repository")
    if repository is None:
        raise LookupError("pyproject.toml has no [project.urls] Repository")
    found = _GITHUB_URL.match(repository)
    if found is None:
        raise LookupError(f"[project.urls] Repository `{repository}` is not a github.com URL")
    tag = f"v{version}"
    return ActionSource(found["owner"], found["repo"], tag, release_commit(tag))


def release_commit(tag: str) -> str | None:
    """The full commit this sloprobe was built from: recorded in the wheel, else from git."""
    package = Path(__file__).resolve().parents[1]
    recorded = package / "_release_commit"
    if recorded.is_file():
        text = recorded.read_text(encoding="ascii", errors="replace").strip()
        return text if _COMMIT.match(text) else None
    checkout = package.parents[1]
    if not (checkout / ".git").exists():
        return None
    for name in (f"refs/tags/{tag}^{{commit}}", "HEAD"):
        try:
            done = subprocess.run(
                ["git", "-C", str(checkout), "rev-parse", "--verify", "-q", name],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode == 0 and _COMMIT.match(done.stdout.strip()):
            return done.stdout.strip()
    return None


def _project_urls_and_version() -> tuple[dict[str, str], str]:
    """From the source checkout's pyproject.toml when running from one, else the installed metadata."""
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "sloprobe":
            urls = {str(k).lower(): str(v) for k, v in project.get("urls", {}).items()}
            return urls, str(project["version"])
    meta = metadata.metadata("sloprobe")
    urls = {}
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    return urls, meta["Version"]
