"""Fixtures of this probe suite (sloprobe's own `target` and `recorder` come from the plugin)."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """With the plugin disabled, this folder's testpaths (slo.yaml, probes/) mean nothing: say so."""
    blocked = config.pluginmanager.is_blocked("sloprobe")
    if blocked and config.args_source is pytest.Config.ArgsSource.TESTPATHS:
        pytest.exit(
            "sloprobe's plugin is disabled (-p no:sloprobe), and this folder's testpaths are "
            "its SLO suite (slo.yaml and probes/), which only the plugin runs: nothing to do. "
            "sloprobe's own tests run with `pytest tests`.",
            returncode=pytest.ExitCode.NO_TESTS_COLLECTED,
        )


@pytest.fixture
def job_timeout() -> float:
    """Seconds a synthetic job may take before the round trip counts as failed."""
    return float(os.environ.get("SLOPROBE_JOB_TIMEOUT", "10"))
