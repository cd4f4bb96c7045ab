"""Badges: a shields-like SVG and a shields.io endpoint JSON per environment of a service and per SLO.

An environment's badge says ``<service> | up`` (every SLO ok), ``degraded`` (a
warning), ``degraded at ap-south`` (a breach seen from fewer locations than the
quorum: no budget, no incident), ``down`` (a breach), ``no data`` or ``stale`` (no
run for a day); an SLO's says ``<slo> | 99.9%``, its 30-day uptime. Colour follows
the current status, the fleet's verdict (:mod:`.build`): ok green, warning and
degraded yellow, breach red, anything unknown grey.

The endpoint JSON follows shields.io's endpoint schema
(https://shields.io/badges/endpoint-badge): ``schemaVersion`` 1, ``label``,
``message`` (never empty), ``color`` — a named colour shields knows; shields
rejects keys outside its schema, so there are no others. Publish it and
``https://img.shields.io/endpoint?url=<its URL>`` draws the badge in any style.

The SVG is drawn here, no font at hand: text widths are estimated from Verdana's
advance widths at 11 px and every text carries ``textLength``, so a viewer with
another font squeezes or spreads the text to the box instead of overflowing it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sloprobe.model.status import Status
from sloprobe.model.units import format_percent
from sloprobe.status_page.page import BADGE_WINDOW, EnvironmentState, SloState

# Shields' named colours and the hex each draws.
COLORS = {
    "brightgreen": "#4c1",
    "yellow": "#dfb317",
    "red": "#e05d44",
    "lightgrey": "#9f9f9f",
}
_BY_STATUS = {
    Status.OK: "brightgreen",
    Status.WARNING: "yellow",
    Status.BREACH: "red",
    Status.NO_DATA: "lightgrey",
}
_STATE = {
    Status.OK: "up",
    Status.WARNING: "degraded",
    Status.BREACH: "down",
    Status.NO_DATA: "no data",
}
_LABEL_COLOR = "#555"
_PAD = 6  # px either side of a text
_HEIGHT = 20


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    color: str  # a key of COLORS

    def endpoint(self) -> dict[str, Any]:
        """The shields.io endpoint document."""
        return {
            "schemaVersion": 1,
            "label": self.label,
            "message": self.message,
            "color": self.color,
        }

    def endpoint_json(self) -> str:
        return json.dumps(self.endpoint(), ensure_ascii=False) + "\n"

    def svg(self) -> str:
        label_text, message_text = text_width(self.label), text_width(self.message)
        left = round(label_text) + 2 * _PAD
        right = round(message_text) + 2 * _PAD
        width = left + right
        said = f"{self.label}: {self.message}"
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_HEIGHT}" '
            f'role="img" aria-label={quoteattr(said)}>'
            f"<title>{escape(said)}</title>"
            '<linearGradient id="shade" x2="0" y2="100%">'
            '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
            '<stop offset="1" stop-opacity=".1"/></linearGradient>'
            f'<clipPath id="round"><rect width="{width}" height="{_HEIGHT}" rx="3" fill="#fff"/>'
            "</clipPath>"
            '<g clip-path="url(#round)">'
            f'<rect width="{left}" height="{_HEIGHT}" fill="{_LABEL_COLOR}"/>'
            f'<rect x="{left}" width="{right}" height="{_HEIGHT}" fill="{COLORS[self.color]}"/>'
            f'<rect width="{width}" height="{_HEIGHT}" fill="url(#shade)"/></g>'
            '<g fill="#fff" text-anchor="middle" '
            'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
            f"{_text(left / 2, label_text, self.label)}"
            f"{_text(left + right / 2, message_text, self.message)}"
            "</g></svg>\n"
        )


def _text(x: float, width: float, text: str) -> str:
    fit = f'textLength="{width:.1f}" lengthAdjust="spacingAndGlyphs"'
    shown = escape(text)
    return (
        f'<text x="{x:.1f}" y="15" fill="#010101" fill-opacity=".3" {fit}>{shown}</text>'
        f'<text x="{x:.1f}" y="14" {fit}>{shown}</text>'
    )


def environment_badge(env: EnvironmentState, label: str) -> Badge:
    """``<label> | up``: the environment's worst current status, grey once it is stale."""
    status = env.status
    if env.stale:
        return Badge(label, "stale", "lightgrey")
    if status is None:
        return Badge(label, "no data", "lightgrey")
    if env.degraded_at:
        return Badge(label, degraded_text(env.degraded_at), _BY_STATUS[status])
    return Badge(label, _STATE[status], _BY_STATUS[status])


def degraded_text(where: tuple[str, ...]) -> str:
    """``degraded at ap-south``, ``degraded at location 1 of 3, location 3 of 3``."""
    return f"degraded at {', '.join(where)}"


def slo_badge(slo: SloState, stale: bool = False) -> Badge:
    """``<slo> | 99.9%``: its 30-day uptime, coloured by its current status."""
    uptime = slo.uptime(BADGE_WINDOW)
    share = uptime.share if uptime is not None else None
    message = format_percent(share) if share is not None else "no data"
    color = "lightgrey" if stale or slo.status is None else _BY_STATUS[slo.status]
    return Badge(slo.name, message, color)


# Verdana at 11 px: advance widths of the characters names and percents are made of.
_WIDTHS = {
    **dict.fromkeys("ijl.,:;'|!", 3.4),
    **dict.fromkeys("frtI()[]{}/\\ -", 4.9),
    **dict.fromkeys("abcdeghknopqsuvxyz", 6.7),
    **dict.fromkeys("0123456789", 7.0),
    **dict.fromkeys("ABCDEFGHJKLNOPQRSTUVXYZ_#?<>=+*~$&", 7.6),
    **dict.fromkeys("mwMW", 10.6),
    "%": 11.9,
}
_OTHER = 7.6


def text_width(text: str) -> float:
    """The width ``text`` takes in Verdana 11 px, estimated per character."""
    return sum(_WIDTHS.get(c, _OTHER) for c in text)
