"""`sloprobe validate`, `sloprobe schema` and `sloprobe demo`'s options: clear answers, exit codes that scripts can use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sloprobe.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_validate_accepts_the_repo_suite(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "slo.yaml")]) == 0
    assert "ok (service reference-job-service, 5 probes, 7 SLOs)" in capsys.readouterr().out


def test_validate_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "slo.yaml"
    broken.write_text(
        (ROOT / "slo.yaml")
        .read_text()
        .replace("    threshold: value < 100", "    treshold: value < 100")
    )
    assert main(["validate", str(broken)]) == 4
    err = capsys.readouterr().err
    assert f"{broken}:" in err
    assert "slos.queue-depth.treshold: unknown key `treshold`; did you mean `threshold`?" in err
    assert "Traceback" not in err


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 4
    assert "cannot read the file" in capsys.readouterr().err


def test_schema_is_json_schema_that_accepts_the_suite(capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "sloprobe slo.yaml"
    suite = yaml.safe_load(
        (ROOT / "slo.yaml").read_text().replace("${SLOPROBE_ENVIRONMENT:-demo}", "demo")
    )
    jsonschema.validate(suite, schema)
    suite["slos"]["queue-depth"]["treshold"] = "value < 1"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(suite, schema)


def test_run_without_slo_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 4
    assert "sloprobe demo" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "text", "said"),
    [
        ("--failure-rate", "2", "is not a share between 0 and 1"),
        ("--failure-rate", "nan", "is not a share between 0 and 1"),
        ("--backlog", "-5", "is not a count from 0 to 1000000"),
        ("--backlog", "1e9", "is not a whole number"),
        ("--backlog", "1.5", "is not a whole number"),
        ("--latency-ms", "-100", "is not a latency from 0 to 3600000 ms"),
        ("--latency-ms", "1e8", "is not a latency from 0 to 3600000 ms"),
        ("--latency-ms", "abc", "is not a number"),
    ],
)
def test_demo_fault_out_of_range_is_a_usage_error(
    option: str, text: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused by the parser, before the reference service starts: no traceback."""
    with pytest.raises(SystemExit) as exit_:
        main(["demo", option, text])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: `{text}` {said}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("option", ["--interval", "--timeout"])
def test_wait_refuses_a_zero_duration(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A zero interval would poll without pause; a zero timeout would never ask."""
    assert main(["wait", "--base-url", "http://127.0.0.1:9", option, "0s"]) == 4
    assert f"{option} must be longer than zero" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["report"], ["history", "show"]])
def test_a_reading_command_creates_no_history_where_there_is_none(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(command) == 4
    assert f"no history at {tmp_path / 'reports' / 'history.db'}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_report_names_the_run_it_cannot_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sloprobe.history import HistoryStore

    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    HistoryStore.open(f"sqlite:///{tmp_path / 'reports' / 'history.db'}").dispose()
    assert main(["report", "--run", "999999"]) == 4
    assert "no stored run 999999" in capsys.readouterr().err


def test_a_closed_pipe_ends_a_command_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sloprobe validate … | head -1`: the reader left; no BrokenPipeError traceback, and the
    exit status a shell gives a command whose reader closed the pipe."""
    import io

    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", Closed())
    assert main(["validate", str(ROOT / "slo.yaml")]) == 141
