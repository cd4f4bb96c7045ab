"""results.json: the run's result for machines (CI steps, dashboards, later runs), in the codec's format.

Beside the codec's exact numbers, each verdict with history carries
``history.text``: the same phrases people read in the terminal and the report
(``{"budget": "not enough history yet (20 m of 30 d)", "burn_rates": {"1 h":
"16.7×"}, ...}``), from ``model.describe``. Readers of the codec ignore it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sloprobe.codec import result_to_dict
from sloprobe.files import write_atomically
from sloprobe.model.describe import history_texts
from sloprobe.model.result import RunResult

FILE_NAME = "results.json"


def results_document(result: RunResult) -> dict[str, Any]:
    """The codec's dict of the run, plus the human phrases of each verdict's history."""
    data = result_to_dict(result)
    for verdict, encoded in zip(result.verdicts, data["verdicts"], strict=True):
        texts = history_texts(verdict)
        if texts is not None and encoded["history"] is not None:
            encoded["history"]["text"] = texts
    return data


# The last run encoded, and its text: results.json, runs/<stem>.json and latest.json are one
# document, encoded once. Kept by identity (a RunResult is immutable), one entry.
_last_encoded: tuple[RunResult, str] | None = None


def results_text(result: RunResult) -> str:
    global _last_encoded
    if _last_encoded is not None and _last_encoded[0] is result:
        return _last_encoded[1]
    text = json.dumps(results_document(result), indent=2, sort_keys=True, allow_nan=False) + "\n"
    _last_encoded = (result, text)
    return text


def write_json_results(result: RunResult, directory: Path) -> Path:
    return write_atomically(directory / FILE_NAME, results_text(result))
