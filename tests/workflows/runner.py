"""A small, strict stand-in for a GitHub Actions runner, to run this repository's workflows and the
scaffolded ones on this machine, offline.

What is real: every `run:` step, executed as the runner does (`bash --noprofile --norc -eo
pipefail`, the workspace as working directory, GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT and
GITHUB_STEP_SUMMARY files read back between steps); the `${{ }}` expressions (a parser for the
subset GitHub documents — contexts, `||`, `&&`, `!`, `==`, `!=`, status functions, toJSON; anything
else is an error, never a guess); composite actions, local (`uses: ./dir`, read from the workspace
as the runner does, so a missing checkout fails as on GitHub) and remote (`uses: owner/repo@ref`,
cloned from the local GitHub below); reusable workflows called with `uses:
owner/repo/.github/workflows/f.yml@ref`, their inputs and secrets checked against `on.workflow_call`
as GitHub does, the `github` context staying the caller's and `job.workflow_repository`/
`job.workflow_sha` naming the called file's repository and commit (GitHub's documented semantics).

A local GitHub: repositories under a folder, reached at `https://github.com/owner/repo` through
git's `url.<base>.insteadOf`, so `actions/checkout` and `pip install git+https://github.com/...`
fetch from them with real git.

Stand-ins, for the third-party actions whose code is not here: `actions/checkout` (real git:
repository, ref, path; default the caller's repository at its commit), `actions/setup-python`
(puts the runner's Python on PATH; with `cache: pip` it fails as v5.6.0 does when no file matches
`cache-dependency-path`, default `**/requirements.txt`, then `**/pyproject.toml`),
`actions/cache/restore|save` (a folder), `actions/upload-artifact` (a folder; a name used twice in
a run fails as v4 does).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.workflows.expressions import evaluate, interpolate, truthy

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What the runner process passes on from the machine: locale, home, pip's own settings.
PASSED_ON = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TERM")


class WorkflowError(Exception):
    """GitHub would refuse this workflow or step before running it."""


# --- the local GitHub -------------------------------------------------------------------------


@dataclass
class LocalGitHub:
    root: Path

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.gitconfig = self.root / "gitconfig"
        self.gitconfig.write_text(
            f'[url "file://{self.root}/"]\n\tinsteadOf = https://github.com/\n'
            "[user]\n\tname = sloprobe tests\n\temail = tests@sloprobe.invalid\n"
            "[init]\n\tdefaultBranch = main\n"
            "[advice]\n\tdetachedHead = false\n",
            encoding="utf-8",
        )

    def env(self) -> dict[str, str]:
        return {"GIT_CONFIG_GLOBAL": str(self.gitconfig), "GIT_CONFIG_NOSYSTEM": "1"}

    def git(self, *args: str, cwd: Path) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise WorkflowError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def publish(
        self, repository: str, files: Mapping[str, bytes], tags: tuple[str, ...] = ()
    ) -> str:
        """A repository `owner/repo` holding `files` in one commit on main; its SHA."""
        path = self.root / repository
        path.mkdir(parents=True)
        self.git("init", "-q", cwd=path)
        for name, content in files.items():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        self.git("add", "-A", cwd=path)
        self.git("commit", "-q", "-m", f"{repository}", cwd=path)
        for tag in tags:
            self.git("tag", tag, cwd=path)
        return self.git("rev-parse", "HEAD", cwd=path)

    def resolve(self, repository: str, ref: str) -> str:
        path = self.root / repository
        if not path.is_dir():
            raise WorkflowError(f"repository {repository} not found")
        return self.git("rev-parse", f"{ref}^{{commit}}", cwd=path)

    def read(self, repository: str, ref: str, file: str) -> str:
        return self.git(
            "show", f"{self.resolve(repository, ref)}:{file}", cwd=self.root / repository
        )

    def checkout(self, repository: str, ref: str, into: Path) -> None:
        """What actions/checkout does with real git: fetch `ref` of github.com/`repository`."""
        into.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", cwd=into)
        self.git("fetch", "-q", "--depth=1", f"https://github.com/{repository}", ref, cwd=into)
        self.git("checkout", "-q", "--force", "FETCH_HEAD", cwd=into)


def working_tree_files(root: Path) -> dict[str, bytes]:
    """The files of a git working tree as they are now: tracked and new, without ignored ones."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    files = {}
    for name in filter(None, (n.decode() for n in listed)):
        path = root / name
        if path.is_file() and not path.is_symlink():
            files[name] = path.read_bytes()
    return files


# --- a run ------------------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    outcome: str  # success, failure, skipped
    log: str = ""
    seconds: float = 0.0


@dataclass
class JobResult:
    status: str  # success or failure
    steps: list[StepResult]
    outputs: dict[str, str]
    summary: str

    @property
    def log(self) -> str:
        return "\n".join(
            f"--- {s.name} ({s.outcome}, {s.seconds:.1f} s)\n{s.log}" for s in self.steps
        )

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)


@dataclass
class Run:
    """One workflow run on one machine: its workspace, its artifacts and caches."""

    github: LocalGitHub
    python: Path  # the runner's Python (what setup-python puts on PATH)
    home: Path
    repository: str  # the repository the run belongs to (github.repository)
    sha: str
    event_name: str
    event: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    run_id: str = "4242"
    run_attempt: str = "1"
    timeout_s: float = 240.0
    artifacts: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workspace = self.home / "workspace"
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.temp = self.home / "temp"
        self.temp.mkdir(exist_ok=True)
        self.event_path = self.home / "event.json"
        self.event_path.write_text(json.dumps(self.event), encoding="utf-8")

    def checkout_caller(self) -> None:
        self.github.checkout(self.repository, self.sha, self.workspace)

    # -- jobs

    def run_job(
        self,
        workflow: dict[str, Any],
        job_id: str,
        inputs: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        workflow_source: tuple[str, str] | None = None,
    ) -> JobResult:
        """Run one job; `workflow_source` is (repository, sha) of the file that defines it."""
        job = workflow["jobs"][job_id]
        source = workflow_source or (self.repository, self.sha)
        ctx = _Job(
            run=self,
            job_id=job_id,
            inputs=inputs or {},
            secrets=secrets if secrets is not None else self.secrets,
            job_context={
                "status": "success",
                "workflow_repository": source[0],
                "workflow_sha": source[1],
            },
        )
        return ctx.execute(job, workflow.get("env") or {})

    def call_reusable(
        self, caller: dict[str, Any], job_id: str
    ) -> tuple[JobResult, dict[str, str]]:
        """Run a caller's job `uses: owner/repo/.github/workflows/file@ref` as GitHub does."""
        job = caller["jobs"][job_id]
        found = re.fullmatch(r"([\w.-]+/[\w.-]+)/(\.github/workflows/[\w.-]+)@(.+)", job["uses"])
        if found is None:
            raise WorkflowError(f"not a reusable workflow reference: {job['uses']}")
        repository, path, ref = found.groups()
        sha = self.github.resolve(repository, ref)
        called = _load_yaml(self.github.read(repository, sha, path))
        spec = _triggers(called).get("workflow_call")
        if not isinstance(spec, dict):
            raise WorkflowError(f"{path} has no on.workflow_call: it cannot be called")
        contexts = self.contexts(inputs={}, secrets=self.secrets, job={}, steps={}, env={})
        given = {k: _evaluate_value(v, contexts) for k, v in (job.get("with") or {}).items()}
        inputs = _checked_inputs(spec.get("inputs") or {}, given)
        declared = spec.get("secrets") or {}
        if job.get("secrets") == "inherit":
            secrets = dict(self.secrets)
        else:
            secrets = {}
            for name, value in (job.get("secrets") or {}).items():
                if name not in declared:
                    raise WorkflowError(
                        f"Invalid secret, {name} is not defined in the referenced workflow."
                    )
                secrets[name] = str(_evaluate_value(value, contexts))
        for name, options in declared.items():
            if (options or {}).get("required") and not secrets.get(name):
                raise WorkflowError(f"Secret {name} is required, but not provided while calling.")
        results = {}
        for called_job in called["jobs"]:
            results[called_job] = self.run_job(
                called, called_job, inputs, secrets, (repository, sha)
            )
        jobs = {k: {"outputs": r.outputs, "result": r.status} for k, r in results.items()}
        outputs = {
            name: interpolate(str(o["value"]), {"jobs": jobs})
            for name, o in (spec.get("outputs") or {}).items()
        }
        [result] = results.values()
        return result, outputs

    def contexts(self, **extra: Any) -> dict[str, Any]:
        return {
            "github": {
                "repository": self.repository,
                "repository_owner": self.repository.split("/")[0],
                "sha": self.sha,
                "ref": "refs/heads/main",
                "event_name": self.event_name,
                "event": self.event,
                "run_id": self.run_id,
                "run_attempt": self.run_attempt,
                "workspace": str(self.workspace),
                "server_url": "https://github.com",
                "token": "",
            },
            "vars": self.vars,
            "runner": {"os": "Linux", "arch": "X64", "temp": str(self.temp)},
            "strategy": {"job-index": 0, "job-total": 1, "fail-fast": True},
            "matrix": {},
            **extra,
        }


@dataclass
class _Job:
    run: Run
    job_id: str
    inputs: dict[str, Any]
    secrets: dict[str, str]
    job_context: dict[str, Any]

    def __post_init__(self) -> None:
        self.env_file_entries: dict[str, str] = {}
        self.path_entries: list[str] = []
        self.steps: dict[str, Any] = {}
        self.results: list[StepResult] = []
        self.summary = ""
        self.failed = False

    def contexts(
        self,
        env: Mapping[str, str],
        steps: dict[str, Any] | None = None,
        action: _Action | None = None,
    ) -> dict[str, Any]:
        ctx = self.run.contexts(
            inputs=self.inputs,
            secrets=self.secrets,
            job={**self.job_context, "status": "failure" if self.failed else "success"},
            steps=self.steps if steps is None else steps,
            env=dict(env),
        )
        ctx["github"] = {**ctx["github"], "job": self.job_id}
        if action is not None:  # inside a composite action: its inputs, its path
            ctx["inputs"] = action.inputs
            ctx["github"]["action_path"] = str(action.path)
        return ctx

    def execute(self, job: dict[str, Any], workflow_env: dict[str, Any]) -> JobResult:
        if "if" in job and not truthy(_condition(job["if"], self.contexts({}))):
            return JobResult("skipped", [], {}, "")
        env = {k: str(_evaluate_value(v, self.contexts({}))) for k, v in workflow_env.items()}
        env |= {
            k: str(_evaluate_value(v, self.contexts(env)))
            for k, v in (job.get("env") or {}).items()
        }
        for index, step in enumerate(job["steps"]):
            self.step(step, index, env, self.steps, action=None)
        ctx = self.contexts(env)
        outputs = {k: interpolate(str(v), ctx) for k, v in (job.get("outputs") or {}).items()}
        return JobResult(
            "failure" if self.failed else "success", self.results, outputs, self.summary
        )

    # -- steps

    def step(
        self,
        step: dict[str, Any],
        index: int,
        env: dict[str, str],
        steps: dict[str, Any],
        action: _Action | None,
    ) -> bool:
        """Run one step; False if it failed. `action` is the composite action it belongs to."""
        step_id = step.get("id") or f"__step{index}"
        name = step.get("name") or step.get("id") or step.get("uses") or step["run"].split("\n")[0]
        ctx = self.contexts(env, steps, action)
        condition = step.get("if", "success()")
        if not truthy(_condition(condition, ctx)):
            steps[step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            self.results.append(StepResult(name, "skipped"))
            return True
        started = time.monotonic()
        step_env = {
            **env,
            **{k: str(_evaluate_value(v, ctx)) for k, v in (step.get("env") or {}).items()},
        }
        try:
            if "run" in step:
                outputs, log, ok = self.shell(interpolate(step["run"], ctx), step_env, action)
            else:
                with_ = {k: _evaluate_value(v, ctx) for k, v in (step.get("with") or {}).items()}
                outputs, log, ok = self.uses(step["uses"], with_, step_env)
        except WorkflowError as exc:
            outputs, log, ok = {}, f"::error::{exc}", False
        outcome = "success" if ok else "failure"
        steps[step_id] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
        self.results.append(StepResult(name, outcome, log, time.monotonic() - started))
        if not ok:
            self.failed = True
        return ok

    def shell(
        self, script: str, env: dict[str, str], action: _Action | None
    ) -> tuple[dict[str, str], str, bool]:
        files = {}
        for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
            files[name] = self.run.temp / f"{name.lower()}-{uuid.uuid4().hex}"
            files[name].write_text("", encoding="utf-8")
        script_file = self.run.temp / f"step-{uuid.uuid4().hex}.sh"
        script_file.write_text(script, encoding="utf-8")
        process_env = {
            **{k: os.environ[k] for k in PASSED_ON if k in os.environ},
            **{k: v for k, v in os.environ.items() if k.startswith("PIP_")},
            **self.run.github.env(),
            "PATH": ":".join([*reversed(self.path_entries), SYSTEM_PATH]),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.run.workspace),
            "GITHUB_REPOSITORY": self.run.repository,
            "GITHUB_SHA": self.run.sha,
            "GITHUB_EVENT_NAME": self.run.event_name,
            "GITHUB_EVENT_PATH": str(self.run.event_path),
            "GITHUB_RUN_ID": self.run.run_id,
            "GITHUB_RUN_ATTEMPT": self.run.run_attempt,
            "GITHUB_JOB": self.job_id,
            "RUNNER_TEMP": str(self.run.temp),
            **{k: str(v) for k, v in files.items()},
            **self.env_file_entries,
            **env,
        }
        if action is not None:
            process_env["GITHUB_ACTION_PATH"] = str(action.path)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=self.run.workspace,
            env=process_env,
            capture_output=True,
            text=True,
            timeout=self.run.timeout_s,
        )
        self.env_file_entries |= _key_values(files["GITHUB_ENV"].read_text(encoding="utf-8"))
        self.path_entries += [p for p in files["GITHUB_PATH"].read_text().splitlines() if p]
        self.summary += files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
        outputs = _key_values(files["GITHUB_OUTPUT"].read_text(encoding="utf-8"))
        log = (
            done.stdout
            + done.stderr
            + ("" if done.returncode == 0 else f"\n(exit {done.returncode})")
        )
        return outputs, log, done.returncode == 0

    def uses(
        self, uses: str, with_: dict[str, Any], env: dict[str, str]
    ) -> tuple[dict[str, str], str, bool]:
        if uses.startswith("./"):
            directory = (self.run.workspace / uses).resolve()
            if not any((directory / f).is_file() for f in ("action.yml", "action.yaml")):
                raise WorkflowError(
                    f"Can't find 'action.yml', 'action.yaml' or 'Dockerfile' under '{directory}'. "
                    "Did you forget to run actions/checkout before running your local action?"
                )
            return self.composite(directory, with_, env)
        name, _, ref = uses.partition("@")
        stand_in = STAND_INS.get(name)
        if stand_in is not None:
            return stand_in(self, with_, env)
        repository = "/".join(name.split("/")[:2])
        subpath = "/".join(name.split("/")[2:])
        directory = self.run.home / "_actions" / repository / ref
        if not directory.exists():
            self.run.github.checkout(repository, ref, directory)
        return self.composite(directory / subpath, with_, env)

    def composite(
        self, directory: Path, with_: dict[str, Any], env: dict[str, str]
    ) -> tuple[dict[str, str], str, bool]:
        action = _Action(
            directory, _load_yaml((directory / "action.yml").read_text(encoding="utf-8"))
        )
        if action.spec["runs"]["using"] != "composite":
            raise WorkflowError(f"{directory}: only composite actions run here")
        unknown = set(with_) - set(action.spec.get("inputs") or {})
        if unknown:
            raise WorkflowError(f"Unexpected input(s) {sorted(unknown)} for {directory.name}")
        ctx = self.contexts(env)
        for name, spec in (action.spec.get("inputs") or {}).items():
            if name in with_:
                action.inputs[name] = with_[name]
            elif spec.get("required"):
                raise WorkflowError(f"Input required and not supplied: {name}")
            else:
                action.inputs[name] = _evaluate_value(spec.get("default", ""), ctx)
        steps: dict[str, Any] = {}
        ok = True
        failed_before = self.failed
        self.failed = False
        for index, step in enumerate(action.spec["runs"]["steps"]):
            ok = self.step(step, index, env, steps, action) and ok
        self.failed = failed_before or not ok
        action_ctx = self.contexts(env, steps, action)
        outputs = {
            name: interpolate(str(o["value"]), action_ctx)
            for name, o in (action.spec.get("outputs") or {}).items()
        }
        return outputs, "", ok


@dataclass
class _Action:
    path: Path
    spec: dict[str, Any]
    inputs: dict[str, Any] = field(default_factory=dict)


# --- stand-ins for third-party actions ---------------------------------------------------------


def _checkout(
    job: _Job, with_: dict[str, Any], env: dict[str, str]
) -> tuple[dict[str, str], str, bool]:
    repository = str(with_.get("repository") or job.run.repository)
    default_ref = job.run.sha if repository == job.run.repository else "main"
    ref = str(with_.get("ref") or default_ref)
    into = (job.run.workspace / str(with_.get("path") or ".")).resolve()
    if job.run.workspace.resolve() not in (into, *into.parents):
        raise WorkflowError(f"Repository path '{into}' is not under '{job.run.workspace}'")
    job.run.github.checkout(repository, ref, into)
    return {}, f"checked out {repository}@{ref} into {into}", True


def _setup_python(
    job: _Job, with_: dict[str, Any], env: dict[str, str]
) -> tuple[dict[str, str], str, bool]:
    version = subprocess.run(
        [str(job.run.python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    wanted = str(with_.get("python-version") or "")
    if wanted and not version.startswith(wanted):
        raise WorkflowError(f"this runner has Python {version}, the step asks for {wanted}")
    log = f"Python {version}"
    if with_.get("cache") == "pip":
        patterns = str(with_.get("cache-dependency-path") or "**/requirements.txt").split("\n")
        matched = _glob(job.run.workspace, patterns) or _glob(
            job.run.workspace, ["**/pyproject.toml"]
        )
        if not matched:
            raise WorkflowError(
                f"No file in {job.run.workspace} matched to [{','.join(patterns)} or "
                "**/pyproject.toml], make sure you have checked out the target repository"
            )
        log += f"; pip cache keyed on {', '.join(matched)}"
    job.path_entries.append(str(job.run.python.parent))
    job.env_file_entries["pythonLocation"] = str(job.run.python.parent.parent)
    return {"python-version": version, "cache-hit": "false"}, log, True


def _cache_dir(job: _Job) -> Path:
    return job.run.home.parent / "_cache"


def _cache_restore(
    job: _Job, with_: dict[str, Any], env: dict[str, str]
) -> tuple[dict[str, str], str, bool]:
    saved = _cache_dir(job)
    keys = [str(with_["key"])] + [k for k in str(with_.get("restore-keys") or "").split("\n") if k]
    for key in keys:
        exact = saved / key
        candidates = (
            sorted(saved.glob(f"{key}*"), key=lambda p: p.stat().st_mtime) if saved.is_dir() else []
        )
        found = exact if exact.is_dir() else (candidates[-1] if candidates else None)
        if found is not None:
            shutil.copytree(found, job.run.workspace, dirs_exist_ok=True)
            return {"cache-hit": str(found == exact).lower()}, f"restored {found.name}", True
    return {"cache-hit": "false"}, "Cache not found", True


def _cache_save(
    job: _Job, with_: dict[str, Any], env: dict[str, str]
) -> tuple[dict[str, str], str, bool]:
    target = _cache_dir(job) / str(with_["key"])
    if target.exists():
        return {}, "Cache already exists", True
    for name in _paths(job.run.workspace, str(with_["path"])):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        source = job.run.workspace / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, destination)
    return {}, f"saved {target.name}", True


def _upload_artifact(
    job: _Job, with_: dict[str, Any], env: dict[str, str]
) -> tuple[dict[str, str], str, bool]:
    name = str(with_.get("name") or "artifact")
    if name in job.run.artifacts:
        raise WorkflowError(
            f"Failed to CreateArtifact: an artifact with this name already exists on the workflow run: {name}"
        )
    found = _paths(job.run.workspace, str(with_["path"]))
    if not found:
        policy = with_.get("if-no-files-found", "warn")
        if policy == "error":
            raise WorkflowError(f"No files were found with the provided path: {with_['path']}")
        return {}, f"No files were found with the provided path ({policy})", True
    target = job.run.home.parent / "_artifacts" / name
    for relative in found:
        source = job.run.workspace / relative
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, destination)
    job.run.artifacts[name] = target
    return {"artifact-id": str(len(job.run.artifacts))}, f"uploaded {name}", True


STAND_INS: dict[
    str, Callable[[_Job, dict[str, Any], dict[str, str]], tuple[dict[str, str], str, bool]]
] = {
    "actions/checkout": _checkout,
    "actions/setup-python": _setup_python,
    "actions/cache/restore": _cache_restore,
    "actions/cache/save": _cache_save,
    "actions/upload-artifact": _upload_artifact,
}


# --- helpers -----------------------------------------------------------------------------------


def _load_yaml(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise WorkflowError("not a mapping")
    return data


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on or {}


def _checked_inputs(declared: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    for name in given:
        if name not in declared:
            raise WorkflowError(f"Invalid input, {name} is not defined in the referenced workflow.")
    inputs = {}
    for name, spec in declared.items():
        if name in given:
            value = given[name]
            kind = spec.get("type", "string")
            if kind == "string" and not isinstance(value, str):
                value = str(value)
            inputs[name] = value
        elif spec.get("required"):
            raise WorkflowError(f"Input {name} is required, but not provided while calling.")
        else:
            inputs[name] = spec.get(
                "default", "" if spec.get("type", "string") == "string" else None
            )
    return inputs


def _condition(expression: Any, ctx: dict[str, Any]) -> Any:
    text = str(expression).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not re.search(r"\b(always|success|failure|cancelled)\(", text):
        text = f"success() && ({text})"
    return evaluate(text, ctx)


def _evaluate_value(value: Any, ctx: dict[str, Any]) -> Any:
    """A `with:`/`env:` value: `${{ x }}` alone keeps its type, text around it makes a string."""
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", value, re.S)
    if whole is not None and "${{" not in whole[1]:
        found = evaluate(whole[1], ctx)
        return "" if found is None else found
    return interpolate(value, ctx)


def _key_values(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIMITER` blocks."""
    found: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            while index < len(lines) and lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            index += 1
            found[name] = "\n".join(value)
        elif "=" in line:
            name, value_ = line.split("=", 1)
            found[name] = value_
    return found


def _glob(root: Path, patterns: list[str]) -> list[str]:
    found = []
    for pattern in (p.strip() for p in patterns if p.strip()):
        found += [
            str(p.relative_to(root))
            for p in root.glob(pattern)
            if p.is_file() and ".git" not in p.parts
        ]
    return sorted(set(found))


def _paths(root: Path, spec: str) -> list[str]:
    """upload-artifact / cache `path:` lines (files, folders, globs) that exist."""
    found = []
    for line in (x.strip() for x in spec.split("\n") if x.strip()):
        if any(c in line for c in "*?["):
            found += [str(p.relative_to(root)) for p in root.glob(line)]
        elif (root / line).exists():
            found.append(line.rstrip("/"))
    return [p for p in found if not fnmatch.fnmatch(p, ".git*")]
