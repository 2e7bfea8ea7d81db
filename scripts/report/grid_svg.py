"""reports/grid.svg: the version grid as one static image (no script, no external font) that a
README or a CI job summary can embed; each box has its shape and word, and a <title> with its
detail for viewers that show one on hover."""

from __future__ import annotations

from html import escape

from scripts.report.grid import GridBox, GridRow
from scripts.report.states import HATCH_COLOUR, LOOKS, TEXT_COLOUR

LABEL_W = 110
BOX_W, BOX_H, GAP = 92, 48, 4
PAD = 8
LEGEND_H = 26
FONT = "DejaVu Sans,Verdana,Geneva,sans-serif"


def render_grid_svg(rows: list[GridRow]) -> str:
    widest = max((len(row.boxes) for row in rows), default=0)
    width = PAD * 2 + LABEL_W + widest * (BOX_W + GAP)
    legend_w = PAD * 2 + len(LOOKS) * 130
    width = max(width, legend_w)
    height = PAD * 2 + len(rows) * (BOX_H + GAP) + LEGEND_H
    body: list[str] = []
    for index, row in enumerate(rows):
        y = PAD + index * (BOX_H + GAP)
        body.append(
            f'<text x="{PAD}" y="{y + BOX_H / 2 + 5}" font-weight="bold" font-size="13">'
            f"{escape(row.label)}</text>"
        )
        body += [_box(box, PAD + LABEL_W + n * (BOX_W + GAP), y) for n, box in enumerate(row.boxes)]
    body.append(_legend(PAD, height - PAD - 14))
    summary = "; ".join(
        f"{row.label}: " + ", ".join(box.summary for box in row.boxes) for row in rows
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="{escape(summary)}"'
        f' font-family="{FONT}" fill="{TEXT_COLOUR}">'
        f"<title>Versions: {escape(summary)}</title>"
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{LOOKS["unavailable"].fill}"/>'
        f'<rect width="1.2" height="6" fill="{HATCH_COLOUR}"/></pattern></defs>'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
        f"{''.join(body)}</svg>\n"
    )


def _fill(state: str) -> str:
    return "url(#hatch)" if state == "unavailable" else LOOKS[state].fill


def _stroke(state: str) -> str:
    dash = {"unavailable": ' stroke-dasharray="5 3"', "missing": ' stroke-dasharray="2 2"'}
    return f' stroke="{TEXT_COLOUR}" stroke-width="1.5"{dash.get(state, "")}'


def _shape(state: str, x: float, y: float) -> str:
    return (
        f'<svg x="{x}" y="{y}" width="12" height="12" viewBox="0 0 12 12" color="{TEXT_COLOUR}">'
        f"{LOOKS[state].shape}</svg>"
    )


def _box(box: GridBox, x: float, y: float) -> str:
    detail = "\n".join(f"{k}: {v}" for k, v in box.details)
    return (
        f'<g data-state="{box.state}"><title>{escape(box.summary)}\n{escape(detail)}</title>'
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4"'
        f' fill="{_fill(box.state)}"{_stroke(box.state)}/>'
        f"{_shape(box.state, x + 5, y + 5)}"
        f'<text x="{x + 21}" y="{y + 15}" font-size="13" font-weight="bold">'
        f"{escape(_fit(box.version, 9))}</text>"
        f'<text x="{x + 5}" y="{y + 29}" font-size="11">{escape(_fit(box.shown, 14))}</text>'
        f'<text x="{x + 5}" y="{y + 42}" font-size="11">'
        f"{escape(LOOKS[box.state].word)}</text></g>"
    )


def _legend(x: float, y: float) -> str:
    items: list[str] = []
    for n, (state, look) in enumerate(LOOKS.items()):
        left = x + n * 130
        items.append(
            f'<rect x="{left}" y="{y}" width="16" height="16" rx="3" fill="{_fill(state)}"'
            f"{_stroke(state)}/>{_shape(state, left + 2, y + 2)}"
            f'<text x="{left + 21}" y="{y + 12}" font-size="11">{escape(look.word)}</text>'
        )
    return "".join(items)


def _fit(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"
