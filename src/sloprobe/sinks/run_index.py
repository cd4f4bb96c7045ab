"""A report index across runs: each run's report and results kept under runs/, an index.html, latest.json.

Keeps the last ``RETENTION`` runs, so a report directory carried between
scheduled runs (an artifact, GitHub Pages) stays small. The HTML report sink
writes each run's own page (``runs/<stem>.html``, with links that work from
there); this sink writes its results beside it, lists both, and prunes.
Each run's row has an anchor (``index.html#run-<stem>``) that its report links to.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from sloprobe.files import write_atomically
from sloprobe.model.result import RunResult
from sloprobe.sinks.json_results import FILE_NAME, results_text
from sloprobe.sinks.report_links import (
    RUNS,
    ci_link,
    index_anchor,
    links_for,
    neighbours,
    run_stem,
)
from sloprobe.templating import bytecode_cache

RETENTION = 50
_environment = Environment(
    loader=PackageLoader("sloprobe.sinks", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    bytecode_cache=bytecode_cache(),
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


def live_run_after(result: RunResult, directory: Path) -> str | None:
    """The id of the run ``directory``'s live outputs show, if it started after ``result``'s.

    ``sloprobe report --run OLD`` re-renders a past run: written over results.json
    and metrics.prom, a Prometheus textfile collector would show its breach as
    current. None (write the live outputs) when they show this run, an older one,
    or cannot be read.
    """
    try:
        live = json.loads((directory / FILE_NAME).read_text(encoding="utf-8"))["run"]
        run_id = str(live["run_id"])
        later = datetime.fromisoformat(live["started_at"]) > result.run.started_at
    except (OSError, ValueError, KeyError, TypeError):  # TypeError: a time without its zone
        return None
    return run_id if later and run_id != result.run.run_id else None


def write_archived(result: RunResult, directory: Path) -> list[Path]:
    """A past run's report and results under ``runs/`` only, linked to the runs kept beside it."""
    from sloprobe.sinks.html_report import render_html_report

    runs = directory / RUNS
    stem = run_stem(result.run)
    kept: dict[str, bool] = {}
    for path in runs.glob("*.*") if runs.is_dir() else ():
        if path.suffix in (".json", ".html") and not path.name.startswith("."):
            kept[path.stem] = kept.get(path.stem, False) or path.suffix == ".html"
    previous, following = neighbours(stem, kept.items())
    links = links_for(stem, True, previous, following, ci_link(result.run.ci_url))
    html = write_atomically(runs / f"{stem}.html", render_html_report(result, links))
    return [html, write_atomically(runs / f"{stem}.json", results_text(result))]
