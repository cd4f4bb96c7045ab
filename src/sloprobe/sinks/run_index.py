"""A report index across runs: each run's report and results kept under runs/, an index.html, latest.json.

Keeps the last ``RETENTION`` runs, so a report directory carried between
scheduled runs (an artifact, GitHub Pages) stays small.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from sloprobe.model.result import RunResult
from sloprobe.sinks.files import write_atomically
from sloprobe.sinks.json_results import results_text

RETENTION = 50
_environment = Environment(
    loader=PackageLoader("sloprobe.sinks", "templates"), autoescape=True, undefined=StrictUndefined
)


def write_run_index(result: RunResult, directory: Path) -> Path:
    runs = directory / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    stem = f"{result.run.started_at:%Y%m%dT%H%M%SZ}-{result.run.run_id}"
    text = results_text(result)  # the same document as results.json
    write_atomically(runs / f"{stem}.json", text)
    write_atomically(directory / "latest.json", text)
    report = directory / "report.html"
    if report.is_file():
        shutil.copyfile(report, runs / f"{stem}.html")
    kept = sorted(runs.glob("*.json"), reverse=True)
    for old in kept[RETENTION:]:
        old.unlink(missing_ok=True)
        old.with_suffix(".html").unlink(missing_ok=True)
    entries = [_entry(path) for path in kept[:RETENTION]]
    html = _environment.get_template("index.html.j2").render(
        service=result.run.service, entries=[e for e in entries if e]
    )
    return write_atomically(directory / "index.html", html)


def _entry(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    html = path.with_suffix(".html")
    return {
        "started": data["run"]["started_at"][:19].replace("T", " "),
        "service": data["run"]["service"],
        "environment": data["run"]["environment"],
        "status": data["status"],
        "breached": [v["slo"] for v in data["verdicts"] if v["counts_as_bad"]],
        "report": f"runs/{html.name}" if html.exists() else None,
        "results": f"runs/{path.name}",
    }
