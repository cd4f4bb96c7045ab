"""A report index across runs: each run's report and results kept under runs/, an index.html, latest.json.

Keeps the last ``RETENTION`` runs, so a report directory carried between
scheduled runs (an artifact, GitHub Pages) stays small. The HTML report sink
writes each run's own page (``runs/<stem>.html``, with links that work from
there); this sink writes its results beside it, lists both, and prunes.
Each run's row has an anchor (``index.html#run-<stem>``) that its report links to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from sloprobe.files import write_atomically
from sloprobe.model.result import RunResult
from sloprobe.sinks.json_results import results_text
from sloprobe.sinks.report_links import RUNS, index_anchor, run_stem

RETENTION = 50
_environment = Environment(
    loader=PackageLoader("sloprobe.sinks", "templates"), autoescape=True, undefined=StrictUndefined
)


def write_run_index(result: RunResult, directory: Path) -> Path:
    runs = directory / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    stem = run_stem(result.run)
    text = results_text(result)  # the same document as results.json
    write_atomically(runs / f"{stem}.json", text)
    write_atomically(directory / "latest.json", text)
    kept = sorted(runs.glob("*.json"), reverse=True)
    for old in kept[RETENTION:]:
        old.unlink(missing_ok=True)
        old.with_suffix(".html").unlink(missing_ok=True)
    entries = [_entry(path) for path in kept[:RETENTION]]
    html = _environment.get_template("index.html.j2").render(
        service=result.run.service,
        entries=[e for e in entries if e],
        current=stem,
        latest=(directory / "report.html").is_file(),
    )
    return write_atomically(directory / "index.html", html)


def _entry(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    html = path.with_suffix(".html")
    return {
        "anchor": index_anchor(path.stem),
        "stem": path.stem,
        "started": data["run"]["started_at"][:19].replace("T", " "),
        "started_iso": data["run"]["started_at"],
        "service": data["run"]["service"],
        "environment": data["run"]["environment"],
        "status": data["status"],
        "breached": [v["slo"] for v in data["verdicts"] if v["counts_as_bad"]],
        "report": f"{RUNS}/{quote(html.name)}" if html.exists() else None,
        "results": f"{RUNS}/{quote(path.name)}",
    }
