"""Fixtures of this probe suite (sloprobe's own `target` and `recorder` come from the plugin)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def job_timeout() -> float:
    """Seconds a synthetic job may take before the round trip counts as failed."""
    return float(os.environ.get("SLOPROBE_JOB_TIMEOUT", "10"))
