"""The settings resolver: the one module of sloprobe that reads the process environment.

Every variable sloprobe reads is named in :data:`VARIABLES` with what it is for,
so a reader finds them all here and ``sloprobe docs`` could list them. A value
that also has a flag or a slo.yaml setting is resolved in one order, first set
wins: the command line, the environment, slo.yaml, the default (like
pytest-timeout's resolver); the plugin's :class:`~sloprobe.plugin.options.RunOptions`
holds the results for a run, and sinks, notifiers and probes get values, never
the environment.

Two other readers of variables are outside this rule on purpose: the config
loader's ``${VAR}`` expansion (the variables a slo.yaml names are the user's,
not sloprobe's), and the bundled reference service (the target, not the tool).
A test fails when any other module reads ``os.environ``.

It imports nothing of sloprobe (an import-linter contract), so any layer may ask it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import quote

BASE_URL_ENV = "PROBE_BASE_URL"
HISTORY_URL_ENV = "SLOPROBE_HISTORY_URL"

VARIABLES: dict[str, str] = {
    # sloprobe's own
    BASE_URL_ENV: "the target's base URL (after --base-url, before target.base_url)",
    HISTORY_URL_ENV: "the history database (after --history, before settings.history.url)",
    "SLOPROBE_REPORT_DIR": "where reports go (after --report-dir)",
    "SLOPROBE_EXIT_ON": "breach, warning or incident (after --exit-on)",
    "SLOPROBE_TRIGGER": "why the run ran: local, schedule, deploy (after --trigger)",
    "SLOPROBE_RELEASE": "the release under test (after --release)",
    "SLOPROBE_LOCATION": "where the run ran (else the GitHub runner's kind)",
    "SLOPROBE_SCHEDULE": "the cron the run is scheduled on (after GitHub's schedule event)",
    "SLOPROBE_ENVIRONMENT": "the environment of `sloprobe history`'s Sentry fallback event",
    "SLOPROBE_MONITOR_SLUG": "the Crons monitor of a run that could not start",
    "SLOPROBE_PUBLIC_LOCATIONS": "locations a public status page may name",
    "SLOPROBE_ARTIFACT_NAME": "the report artifact's name, for the step summary's link",
    "SLOPROBE_HISTORY_CONNECT_TIMEOUT": "history: seconds to wait for PostgreSQL to answer",
    "SLOPROBE_HISTORY_LOCK_TIMEOUT": "history: seconds to wait for another run's lock",
    "SLOPROBE_TRACES_URL": "the bundled suite's settings.traces.url (`sloprobe demo` sets it)",
    # notifiers (after slo.yaml's settings)
    "SENTRY_DSN": "Sentry: breach events and Crons check-ins",
    "SLACK_WEBHOOK_URL": "Slack: breach and resolve messages",
    # GitHub Actions (the runner sets them)
    "GITHUB_ACTIONS": "running on GitHub Actions",
    "GITHUB_SERVER_URL": "the run's page (with the two below)",
    "GITHUB_REPOSITORY": "the run's page",
    "GITHUB_RUN_ID": "the run's page",
    "GITHUB_RUN_ATTEMPT": "the run's attempt, for artifact names",
    "GITHUB_STEP_SUMMARY": "the file the step summary is written to",
    "GITHUB_OUTPUT": "the file step outputs are written to",
    "GITHUB_EVENT_NAME": "schedule, deployment_status, …",
    "GITHUB_EVENT_PATH": "the event's payload (the schedule's cron)",
    "RUNNER_ENVIRONMENT": "github-hosted or self-hosted (the location)",
    "RUNNER_NAME": "a self-hosted runner's name (the location)",
    "RUNNER_OS": "the runner's OS (the location)",
    "RUNNER_ARCH": "the runner's architecture (the location)",
    # OpenTelemetry's standard variables (the run's own spans)
    "OTEL_EXPORTER_OTLP_ENDPOINT": "OTLP/HTTP endpoint for the run's spans",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "the same, for traces only",
    "OTEL_EXPORTER_OTLP_HEADERS": "headers for the OTLP endpoint (secrets)",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "the same, for traces only",
    "OTEL_EXPORTER_OTLP_TIMEOUT": "the export's bound",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "the same, for traces only",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "only http/protobuf is spoken",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "the same, for traces only",
    "OTEL_TRACES_EXPORTER": "`none` turns the export off",
    "OTEL_SDK_DISABLED": "`true` turns the export off",
    # pytest's
    "PYTEST_ADDOPTS": "pytest's extra options (a path given to --history there)",
}


def environ() -> Mapping[str, str]:
    """The environment, for resolvers that read a family of variables (GitHub's, OTel's)."""
    return os.environ


def variable(name: str) -> str | None:
    """One variable, or None when unset or empty (a run treats an empty variable as unset)."""
    value = os.environ.get(name)
    return value if value else None


def seconds(name: str, default: int) -> int:
    """A bound in whole seconds from ``name`` when it holds a positive number, else ``default``."""
    value = (variable(name) or "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


def first(*values: str | None) -> str | None:
    """The first value that is set: a flag's, then a variable's, then a setting's."""
    return next((value for value in values if value), None)


def base_url(flag: str | None, configured: str | None) -> str | None:
    """--base-url, else $PROBE_BASE_URL, else target.base_url."""
    return first(flag, variable(BASE_URL_ENV), configured)


def history_url(flag: str | None, configured: str | None = None) -> str | None:
    """--history, else $SLOPROBE_HISTORY_URL, else settings.history.url (``off`` as given)."""
    return first(flag, variable(HISTORY_URL_ENV), configured)


def ci_run_url(env: Mapping[str, str] | None = None) -> str | None:
    """The GitHub Actions run's page (``$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/
    $GITHUB_RUN_ID``), or None outside one. Not yet safe to link: sinks make it so."""
    env = os.environ if env is None else env
    server, repository, run_id = (
        env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if not (server and repository and run_id):
        return None
    return f"{server.rstrip('/')}/{repository}/actions/runs/{quote(run_id, safe='')}"
