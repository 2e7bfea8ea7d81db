"""A badge per backend: its supported versions, coloured by the worst state; as a small flat
SVG, and as a shields.io endpoint JSON (https://shields.io/badges/endpoint-badge) that a
README can show live from wherever the report is published."""

from __future__ import annotations

import json
from html import escape

from scripts.report.model import BackendVerdict

COLOURS = {"green": "#2da44e", "yellow": "#bf8700", "red": "#cf222e", "grey": "#6e7781"}
_CHAR_WIDTH = 6.6  # average width of an 11 px Verdana glyph, close enough for a badge


def badge_text_and_colour(verdict: BackendVerdict) -> tuple[str, str]:
    states = {v.state for v in verdict.versions}
    message = verdict.supported or "none supported"
    if "failed" in states or "error" in states:
        colour = "red" if verdict.supported == "" else "yellow"
        if "failed" in states:
            colour = "red"
    elif "flaky" in states:
        colour = "yellow"
    elif verdict.supported:
        colour = "green" if states <= {"passed"} else "yellow"
    else:
        colour = "grey"
        message = "not run"
    return message, colour


def render_badge(verdict: BackendVerdict) -> str:
    label = verdict.name
    message, colour = badge_text_and_colour(verdict)
    left = round(len(label) * _CHAR_WIDTH + 10)
    right = round(len(message) * _CHAR_WIDTH + 10)
    total = left + right
    fill = COLOURS[colour]
    title = escape(f"{label}: {verdict.summary}")
    label_x, message_x = left / 2, left + right / 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img"'
        f' aria-label="{title}"><title>{title}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb"'
        ' stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{fill}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif"'
        ' font-size="11">'
        f'<text x="{label_x}" y="14">{escape(label)}</text>'
        f'<text x="{message_x}" y="14" data-colour="{colour}">{escape(message)}</text></g></svg>\n'
    )


SHIELDS_COLOURS = {"green": "brightgreen", "yellow": "yellow", "red": "red", "grey": "lightgrey"}


def render_endpoint(verdict: BackendVerdict) -> str:
    """`{"schemaVersion": 1, "label": "PostgreSQL", "message": "13–18", "color": ...}`."""
    message, colour = badge_text_and_colour(verdict)
    document = {
        "schemaVersion": 1,
        "label": verdict.name,
        "message": message,
        "color": SHIELDS_COLOURS[colour],
        "cacheSeconds": 3600,
    }
    return json.dumps(document, ensure_ascii=False) + "\n"
