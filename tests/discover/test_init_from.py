"""`sloprobe init --from URL`: the scaffold around the file discovery proposes, green on the
service it came from (its Python example probe included), with the workflows and variables."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from sloprobe.cli import main
from sloprobe.demo.run import warm_up
from sloprobe.demo.service import ServiceConfig, start_service
from tests.discover.support import set_scrape_interval


def _init(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["init", *args])
    return status, out.getvalue(), err.getvalue()


def test_init_from_a_running_service_scaffolds_what_it_said(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    target = tmp_path / "jobs"
    with start_service(ServiceConfig()) as service:
        warm_up(service.base_url, jobs=2)
        status, said, report = _init("--from", service.base_url, str(target))
        assert status == 0, report
        assert "shape   discovered" in said and "--from" in said
        assert "openapi           found" in report
        slo = (target / "slo.yaml").read_text()
        assert "Proposed by `sloprobe discover`" not in slo.splitlines()[0]  # init's own header
        assert "current_queue.queued" in slo  # read from the service, not from an example
        assert {p.name for p in (target / ".github" / "workflows").iterdir()} == {
            "probe.yml",
            "deploy-verify.yml",
        }
        for name in ("slo.yaml", "conftest.py"):
            shutil.copy(target / name, pytester.path / name)
        # The one change, for the suite's time: histogram scrapes 2 s apart (run_suite says why).
        set_scrape_interval(pytester.path / "slo.yaml", "2s")
        shutil.copytree(target / "probes", pytester.path / "probes")
        result = pytester.runpytest(
            "--base-url", service.base_url, "--history=off", "-p", "no:cacheprovider"
        )
    assert result.ret == 0, result.stdout.str()


def test_init_from_refuses_a_shape_too_and_a_service_that_says_nothing(
    tmp_path: Path, closed_port_url: str
) -> None:
    status, _, err = _init("--from", "http://127.0.0.1:9", "--shape", "prometheus", str(tmp_path))
    assert status == 4 and "exclude each other" in err
    status, _, err = _init("--from", closed_port_url, str(tmp_path / "x"))
    assert status == 1 and "nothing written" in err
    assert not (tmp_path / "x" / "slo.yaml").exists()
