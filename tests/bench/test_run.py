"""bench/run.py runs every bench, or says which it skipped and why."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest
from common import SMALL

from tests.bench.conftest import BENCH, run_small

spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
assert spec is not None and spec.loader is not None
run = importlib.util.module_from_spec(spec)
sys.modules["bench_run"] = run
spec.loader.exec_module(run)


def test_every_bench_file_is_run_by_run_py() -> None:
    files = {path.name for path in BENCH.glob("bench_*.py")}
    named = {bench.module for bench in run.BENCHES.values()}
    assert files == named, "a bench/bench_*.py that bench/run.py does not run (or the reverse)"


SCRIPTS = [name for name, bench in run.BENCHES.items() if bench.script]


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_bench_run_py_knows_only_as_a_script_runs_small_and_prints_its_figures(name: str) -> None:
    text = run_small(run.BENCHES[name].run, SMALL)
    heading, _, body = text.partition("\n")
    assert heading.startswith("### ")
    assert re.search(r"\d", body), f"no figure in what {run.BENCHES[name].module} printed"


def test_a_small_run_says_what_it_skipped_and_why_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = (BENCH / "RESULTS.md").read_text()
    assert run.main(["--small", "--only", "startup", "--skip", "history"]) == 0
    out, err = capsys.readouterr()
    assert "### Startup: Python, the CLI" in out
    assert "### Tavern: not run\n\nSkipped: not named by --only." in out
    assert "bench/run.py: history skipped: left out by --skip" in err
    assert f"bench/run.py: ran 1 of {len(run.BENCHES)} benches" in err
    assert (BENCH / "RESULTS.md").read_text() == before


def test_a_bench_that_cannot_run_is_skipped_with_its_reason_and_one_that_fails_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from common import Unavailable

    def missing(mode: object) -> str:
        raise Unavailable("PostgreSQL is not installed")

    def broken(mode: object) -> str:
        raise RuntimeError("the service answered 404")

    monkeypatch.setitem(run.BENCHES, "startup", run.Bench("Startup", missing, "bench_runtime.py"))
    monkeypatch.setitem(run.BENCHES, "history", run.Bench("History", broken, "bench_scale.py"))
    assert run.main(["--small", "--only", "startup,history"]) == 1
    out, err = capsys.readouterr()
    assert "### Startup: not run\n\nSkipped: PostgreSQL is not installed." in out
    assert "| startup |  | **skipped: PostgreSQL is not installed** |  |" in out
    assert "### History: failed" in out and "the service answered 404" in out
    assert "bench/run.py: history failed: RuntimeError: the service answered 404" in err
