"""Badges: every SVG parses as SVG and says what its endpoint JSON says; the JSON is shields.io's.

The endpoint schema is shields.io's own (services/endpoint-common.js in
badges/shields, and https://shields.io/badges/endpoint-badge): ``schemaVersion``
is 1, ``label`` a string (may be empty), ``message`` a non-empty string, the rest
optional, and any other key is rejected.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]

from sloprobe.status_page.badges import COLORS, Badge, text_width
from tests.status_page.conftest import Site
from tests.status_page.scenario import ENVIRONMENTS, SLOS

SVG = "{http://www.w3.org/2000/svg}"
SHIELDS_ENDPOINT = {
    "type": "object",
    "required": ["schemaVersion", "label", "message"],
    "additionalProperties": False,
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {"type": "string"},
        "labelColor": {"type": "string"},
        "isError": {"type": "boolean"},
        "namedLogo": {"type": "string"},
        "logoSvg": {"type": "string"},
        "logoColor": {"type": "string"},
        "logoWidth": {"type": "number"},
        "logoPosition": {"type": "number"},
        "style": {"type": "string"},
        "cacheSeconds": {"type": "integer", "minimum": 0},
    },
}
# Colours shields.io names (badge-maker's named colours).
SHIELDS_COLORS = {
    "brightgreen",
    "green",
    "yellowgreen",
    "yellow",
    "orange",
    "red",
    "blue",
    "grey",
    "lightgrey",
    "success",
    "important",
    "critical",
    "informational",
    "inactive",
}


def _badge(svg: Path) -> dict[str, object]:
    """What an SVG badge draws, read as XML."""
    root = ET.parse(svg).getroot()
    assert root.tag == f"{SVG}svg"
    width, height = int(root.attrib["width"]), int(root.attrib["height"])
    assert height == 20 and width > 20
    names = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert names <= {"svg", "title", "linearGradient", "stop", "clipPath", "rect", "g", "text"}
    rects = [r for r in root.iter(f"{SVG}rect") if "fill" in r.attrib]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert len(texts) == 4 and texts[0] == texts[1] and texts[2] == texts[3]  # shadow and text
    label_box, message_box = rects[1], rects[2]
    assert int(label_box.attrib["width"]) + int(message_box.attrib["width"]) == width
    for text in root.iter(f"{SVG}text"):  # each text fits its box
        assert float(text.attrib["textLength"]) < width
    return {
        "label": texts[0],
        "message": texts[2],
        "fill": message_box.attrib["fill"],
        "title": root.find(f"{SVG}title").text,  # type: ignore[union-attr]
        "aria": root.attrib["aria-label"],
    }


def test_every_badge_is_svg_and_matches_its_endpoint_json(site: Site) -> None:
    svgs = sorted((site.public / "badges").rglob("*.svg"))
    expected = len(ENVIRONMENTS) + sum(len(SLOS[s]) for s, _ in ENVIRONMENTS)
    assert len(svgs) == expected == 13
    for svg in svgs:
        endpoint = json.loads(svg.with_suffix(".json").read_text())
        jsonschema.validate(endpoint, SHIELDS_ENDPOINT)
        assert endpoint["color"] in SHIELDS_COLORS
        drawn = _badge(svg)
        assert drawn["label"] == endpoint["label"] and drawn["message"] == endpoint["message"]
        assert drawn["fill"] == COLORS[endpoint["color"]]
        assert drawn["title"] == drawn["aria"] == f"{endpoint['label']}: {endpoint['message']}"


def test_what_the_badges_say(site: Site) -> None:
    def said(path: str) -> tuple[str, str, str]:
        found = json.loads((site.public / "badges" / path).read_text())
        return found["label"], found["message"], found["color"]

    assert said("billing/production.json") == ("billing", "down", "red")
    assert said("shop/production.json") == ("shop production", "degraded", "yellow")
    assert said("shop/staging.json") == ("shop staging", "up", "brightgreen")
    assert said("search/production.json") == ("search", "stale", "lightgrey")
    depth = next(
        s
        for e in site.page.environments
        if (e.service, e.environment) == ("shop", "production")
        for s in e.slos
        if s.name == "queue-depth"
    )
    uptime = depth.uptime("30 d")
    assert uptime is not None and uptime.bad_runs == 3
    assert said("shop/production/queue-depth.json") == ("queue-depth", "96.6%", "brightgreen")
    assert said("shop/production/health-latency.json") == ("health-latency", "100%", "yellow")
    assert said("billing/production/payments-up.json")[2] == "red"
    assert said("search/production/query-latency.json")[2] == "lightgrey"  # stale


def test_hostile_labels_stay_text(tmp_path: Path) -> None:
    badge = Badge('<script>alert(1)</script> & "x"', "100%", "brightgreen")
    path = tmp_path / "b.svg"
    path.write_text(badge.svg())
    drawn = _badge(path)
    assert drawn["label"] == '<script>alert(1)</script> & "x"'
    assert "<script" not in path.read_text()
    assert text_width("mmm") > text_width("iii") > 0
