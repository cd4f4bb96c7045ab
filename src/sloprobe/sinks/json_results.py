"""results.json: the run's result for machines (CI steps, dashboards, later runs), in the codec's format."""

from __future__ import annotations

import json
from pathlib import Path

from sloprobe.codec import result_to_dict
from sloprobe.model.result import RunResult
from sloprobe.sinks.files import write_atomically

FILE_NAME = "results.json"


def write_json_results(result: RunResult, directory: Path) -> Path:
    text = json.dumps(result_to_dict(result), indent=2, sort_keys=True, allow_nan=False)
    return write_atomically(directory / FILE_NAME, text + "\n")
