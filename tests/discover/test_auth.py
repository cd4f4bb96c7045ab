"""Auth through an environment variable: refused without it, `${VAR}` in the file with it,
and the secret in no output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import RunningService, ServiceConfig, start_service
from tests.discover.support import discover, run_suite, validates

TOKEN = "tok-8f2c1e5a9b7d4f60"


@pytest.fixture(scope="module")
def guarded() -> Iterator[RunningService]:
    """The reference service with its /admin routes behind a bearer token."""
    with start_service(ServiceConfig(admin_token=TOKEN)) as running:
        warm_up(running.base_url, admin_token=TOKEN)
        yield running


def test_without_auth_the_admin_routes_are_reported_refused(
    guarded: RunningService, tmp_path: Path
) -> None:
    status, out, err = discover(guarded.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    assert "6 of 6 read" not in out and "4 refused" in out
    assert "refused: GET " in out and "/admin/metrics → 401 (auth refused)" in out
    spec = validates(tmp_path / "slo.yaml")
    assert not any(name.startswith("admin") for name in spec.probes)
    assert spec.target.auth is None


def test_with_auth_from_the_environment_the_file_holds_the_variable_only(
    guarded: RunningService,
    tmp_path: Path,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADMIN_JWT", TOKEN)
    status, out, err = discover(
        guarded.base_url, "--out", str(tmp_path), "--bearer-env", "ADMIN_JWT"
    )
    assert status == 0, out + err
    assert "refused" not in out
    text = (tmp_path / "slo.yaml").read_text()
    assert TOKEN not in text + out + err
    assert 'auth: { bearer: "${ADMIN_JWT}" }' in text
    assert "#   ADMIN_JWT: the bearer token (secret)" in text
    spec = validates(tmp_path / "slo.yaml")
    assert {"admin-health", "admin-metrics", "admin-jobs-stats"} <= set(spec.probes)
    # With the variable set, the admin SLOs are met through the token.
    ret, verdicts = run_suite(
        pytester,
        tmp_path / "slo.yaml",
        guarded.base_url,
        "-k",
        "workers-live or (queue-depth and not job)",
    )
    assert ret == 0, {s: (v["status"], v["reason"]) for s, v in verdicts.items()}
    assert verdicts["workers-live"]["status"] == "ok"
    assert TOKEN not in (pytester.path / "reports" / "partial" / "results.json").read_text()


def test_an_unset_variable_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_HERE", raising=False)
    status, _, err = discover("http://127.0.0.1:9", "--bearer-env", "NOT_SET_HERE")
    assert status == 4 and "NOT_SET_HERE is not set" in err
