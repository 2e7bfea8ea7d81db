"""compat.html's version grid: a row per backend, a box per version coloured by its state with
its shape and word; hover or focus opens the box's detail, a click goes to the cell's row."""

from __future__ import annotations

from html import escape

from scripts.report.grid import GridBox, GridRow
from scripts.report.states import LOOKS, shape_svg, state_css

GRID_CSS = """
#grid{margin:.4em 0 .6em}
#grid h2{margin:0 0 .3em;font-size:1.1em;border:0}
.grid-row{display:flex;align-items:stretch;gap:4px;margin:0 0 4px}
.grid-label{flex:0 0 7.5em;font-weight:600;align-self:center}
.grid-boxes{display:flex;flex-wrap:wrap;gap:4px;margin:0;padding:0;list-style:none}
.box{position:relative;display:block;width:6.9em;padding:2px 5px;border:2px solid #000;
 border-radius:4px;text-decoration:none;line-height:1.25;font-size:13px}
.box:focus{outline:3px solid #0072B2;outline-offset:2px}
.box b{display:block;font-size:14px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.box .shape{vertical-align:-1px;margin-right:3px}
.box small{display:block;font-size:11px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.box .tip{display:none;position:absolute;z-index:5;left:0;top:100%;margin-top:4px;width:30em;
 padding:.5em .7em;background:#fff;color:#1f2328;border:1px solid #57606a;border-radius:4px;
 box-shadow:0 2px 8px rgba(0,0,0,.25);font-size:12px;white-space:normal;overflow-wrap:anywhere}
.box:hover .tip,.box:focus .tip{display:block}
.tip dt{font-weight:600;float:left;clear:left;width:4.5em}.tip dd{margin:0 0 2px 5em}
.grid-legend{display:flex;flex-wrap:wrap;gap:.8em;font-size:12px;margin:.3em 0 0}
.grid-legend span{display:inline-flex;align-items:center;gap:3px}
.grid-legend i{display:inline-block;width:14px;height:14px;border:2px solid #000;
 border-radius:3px;box-sizing:border-box}
""" + state_css()


def grid_section(rows: list[GridRow]) -> str:
    """The grid, the first thing under the title."""
    body = "".join(_row(row) for row in rows) or "<p>No versions in this run.</p>"
    legend = "".join(
        f'<span><i class="st-{state}"></i>{shape_svg(state)}{escape(look.word)}</span>'
        for state, look in LOOKS.items()
    )
    return (
        '<section id="grid" aria-labelledby="grid-title">'
        '<h2 id="grid-title">Versions: supported, failing, not run</h2>'
        f'{body}<p class="grid-legend">{legend}</p></section>'
    )


def _row(row: GridRow) -> str:
    boxes = "".join(f"<li>{_box(box)}</li>" for box in row.boxes)
    return (
        f'<div class="grid-row" data-kind="{escape(row.kind)}">'
        f'<span class="grid-label">{escape(row.label)}</span>'
        f'<ul class="grid-boxes" aria-label="{escape(row.label)}">{boxes}</ul></div>'
    )


def _box(box: GridBox) -> str:
    tip = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in box.details)
    href = f' href="#cell-{escape(box.cell)}"' if box.cell else ' tabindex="0"'
    tag = "a" if box.cell else "span"
    word = LOOKS[box.state].word
    return (
        f'<{tag} class="box st-{box.state}"{href} data-state="{box.state}"'
        f' data-version="{escape(box.version)}">'
        f"<b>{shape_svg(box.state)}{escape(box.version)}</b>"
        # the state's word first, then what ran: two lines a box, so that a grid of sixteen
        # rows (servers, libraries, the interpreter) still fits a 1366x768 screen
        f"<small>{escape(word)}{' · ' + escape(box.shown) if box.shown != box.version else ''}"
        "</small>"
        f'<span class="tip" role="tooltip"><dl>{tip}</dl></span></{tag}>'
    )
