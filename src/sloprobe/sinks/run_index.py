"""A report index across runs: each run's report and results kept under runs/, an index.html, latest.json.

Keeps the last ``RETENTION`` runs, so a report directory carried between
scheduled runs (an artifact, GitHub Pages) stays small. The HTML report sink
writes each run's own page (``runs/<stem>.html``, with links that work from
there); this sink writes its results beside it, lists both, and prunes.
Each run's row has an anchor (``index.html#run-<stem>``) that its report links to.

The rows' facts are kept in ``index.json``, so a run reads that one small file
instead of parsing every kept run's results (50 runs of 200 probes are 17 MB of
JSON); a kept run missing from it (an older directory, a lost or damaged file) is
read from its results file as before.
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
ROWS = "index.json"  # what index.html lists, as data: each kept run's row
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
    known = _read_rows(directory / ROWS)
    known[stem] = _facts(result)
    rows: dict[str, dict[str, Any]] = {}
    for path in kept[:RETENTION]:
        facts = known.get(path.stem) or _facts_from(path)
        if facts is not None:
            rows[path.stem] = facts
    write_atomically(directory / ROWS, json.dumps(rows, indent=1, sort_keys=True) + "\n")
    html = _environment.get_template("index.html.j2").render(
        service=result.run.service,
        entries=[_entry(runs, s, facts) for s, facts in rows.items()],
        current=stem,
        latest=(directory / "report.html").is_file(),
    )
    return write_atomically(directory / "index.html", html)


def _facts(result: RunResult) -> dict[str, Any]:
    """What a run's row shows, from the run itself (the same values its results file holds)."""
    run = result.run
    return {
        "started_at": run.started_at.isoformat(),
        "service": run.service,
        "environment": run.environment,
        "status": result.status.value,
        "breached": [v.slo for v in result.verdicts if v.counts_as_bad],
    }


def _facts_from(path: Path) -> dict[str, Any] | None:
    """What a run's row shows, read from its results file; None if it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        run = data["run"]
        return {
            "started_at": str(run["started_at"]),
            "service": str(run["service"]),
            "environment": str(run["environment"]),
            "status": str(data["status"]),
            "breached": [str(v["slo"]) for v in data["verdicts"] if v["counts_as_bad"]],
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The kept rows' facts; only well-formed entries (a damaged file is read as empty)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    fields = {"started_at": str, "service": str, "environment": str, "status": str}
    return {
        stem: facts
        for stem, facts in data.items()
        if isinstance(facts, dict)
        and all(isinstance(facts.get(name), kind) for name, kind in fields.items())
        and isinstance(facts.get("breached"), list)
        and all(isinstance(slo, str) for slo in facts["breached"])
    }


def _entry(runs: Path, stem: str, facts: dict[str, Any]) -> dict[str, Any]:
    html = runs / f"{stem}.html"
    started: str = facts["started_at"]
    return {
        "anchor": index_anchor(stem),
        "stem": stem,
        "started": started[:19].replace("T", " "),
        "started_iso": started,
        "service": facts["service"],
        "environment": facts["environment"],
        "status": facts["status"],
        "breached": facts["breached"],
        "report": f"{RUNS}/{quote(html.name)}" if html.exists() else None,
        "results": f"{RUNS}/{quote(stem + '.json')}",
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
