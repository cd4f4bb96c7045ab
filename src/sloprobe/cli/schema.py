"""``sloprobe schema``: the JSON Schema of slo.yaml, for editor completion."""

from __future__ import annotations

import argparse
import json

from sloprobe.cli.common import Subparsers


def add_parser(commands: Subparsers) -> None:
    commands.add_parser("schema", help="print the JSON Schema of slo.yaml (for editor completion)")


def handle(args: argparse.Namespace, rest: list[str]) -> int:
    from sloprobe.config.model import described_slo_file

    schema = described_slo_file().model_json_schema(by_alias=True)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "sloprobe slo.yaml",
    }
    print(json.dumps(schema, indent=2, sort_keys=False))
    return 0
