"""A badge per backend: its supported versions, coloured by the worst state; as a small flat
SVG, and as a shields.io endpoint JSON (https://shields.io/badges/endpoint-badge) that a
README can show live from wherever the report is published."""

from __future__ import annotations

import json
from html import escape

from scripts.report.model import BackendVerdict
from scripts.report.states import LOOKS, TEXT_COLOUR
from scripts.report.verdict import STATE_WORDS, summarise

# each colour is a state's, and the badge draws that state's shape too (not colour alone)
COLOUR_STATES = {"green": "passed", "yellow": "flaky", "red": "failed", "grey": "unavailable"}
COLOURS = {colour: LOOKS[state].fill for colour, state in COLOUR_STATES.items()}
_CHAR_WIDTH = 6.6  # average width of an 11 px Verdana glyph, close enough for a badge
_SHAPE_W = 16  # the state's shape, left of the message


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
    right = round(len(message) * _CHAR_WIDTH + 10) + _SHAPE_W
    total = left + right
    fill = COLOURS[colour]
    state = COLOUR_STATES[colour]
    words = summarise_words(verdict)
    title = escape(f"{label}: {words}")
    label_x, message_x = left / 2, left + _SHAPE_W + (right - _SHAPE_W) / 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img"'
        f' aria-label="{title}"><title>{title}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb"'
        ' stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{fill}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<svg x="{left + 4}" y="4" width="12" height="12" viewBox="0 0 12 12"'
        f' color="{TEXT_COLOUR}" data-state="{state}">{LOOKS[state].shape}</svg>'
        '<g text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif"'
        ' font-size="11">'
        f'<text x="{label_x}" y="14" fill="#fff">{escape(label)}</text>'
        f'<text x="{message_x}" y="14" fill="{TEXT_COLOUR}" data-colour="{colour}">'
        f"{escape(message)}</text></g></svg>\n"
    )


def summarise_words(verdict: BackendVerdict) -> str:
    """The verdict's summary in words (a badge's title must not need an emoji font)."""
    return summarise(verdict.versions, STATE_WORDS)


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
