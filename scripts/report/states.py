"""How a state looks without emoji: a colour from a colour-blind-safe palette (Okabe and Ito's),
a shape drawn as SVG, and a word. The HTML, grid.svg and the badges all draw from here, so a
reader needs neither an emoji font nor colour vision to tell the states apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StateLook:
    word: str  # what the state is called on the page ("not run" for unavailable)
    fill: str  # the box's colour; black text on it reads at 4.5:1 or better
    shape: str  # SVG elements drawn in a 12 x 12 box, stroked/filled with currentColor


# Okabe & Ito (2008): bluish green, orange, vermillion, reddish purple, and greys
_CHECK = '<path d="M2 6.5l2.8 2.8L10 3.5" fill="none" stroke="currentColor" stroke-width="2"/>'
_TRIANGLE = (
    '<path d="M6 1.2L11 10.5H1z" fill="none" stroke="currentColor" stroke-width="1.5"/>'
    '<path d="M6 4.5v3" stroke="currentColor" stroke-width="1.5"/>'
)
_CROSS = '<path d="M2.5 2.5l7 7M9.5 2.5l-7 7" stroke="currentColor" stroke-width="2"/>'
_BOLT = '<path d="M7 0.8L2.5 7h3l-1 4.2L9.5 5h-3z" fill="currentColor"/>'
_SLASHED_CIRCLE = (
    '<circle cx="6" cy="6" r="4.3" fill="none" stroke="currentColor" stroke-width="1.5"/>'
    '<path d="M3 9l6-6" stroke="currentColor" stroke-width="1.5"/>'
)
_DASH = '<path d="M2.5 6h7" stroke="currentColor" stroke-width="2"/>'

LOOKS: dict[str, StateLook] = {
    "passed": StateLook("passed", "#009E73", _CHECK),
    "flaky": StateLook("flaky", "#E69F00", _TRIANGLE),
    "failed": StateLook("failed", "#D55E00", _CROSS),
    "error": StateLook("error", "#CC79A7", _BOLT),
    "unavailable": StateLook("not run", "#C8C8C8", _SLASHED_CIRCLE),
    "missing": StateLook("not in this run", "#FFFFFF", _DASH),
}
"""Cell states and the verdict's version states (`missing`: no result for the version)."""

TEXT_COLOUR = "#000000"
HATCH_COLOUR = "#8C8C8C"  # the stripes over an unavailable box: not run is not failed


def shape_svg(state: str, size: int = 12) -> str:
    """The state's shape as an inline SVG, hidden from screen readers (the word is beside it)."""
    return (
        f'<svg class="shape" width="{size}" height="{size}" viewBox="0 0 12 12"'
        f' aria-hidden="true" focusable="false">{LOOKS[state].shape}</svg>'
    )


def state_css() -> str:
    """`.st-<state>` classes: the fill of boxes, pills and marks; unavailable is hatched and
    dashed, missing dotted, so that neither can be mistaken for a failure."""
    rules = [
        f".st-{state}{{background-color:{look.fill};color:{TEXT_COLOUR}}}"
        for state, look in LOOKS.items()
    ]
    rules.append(
        ".st-unavailable{background-image:repeating-linear-gradient(135deg,transparent 0 5px,"
        f"{HATCH_COLOUR} 5px 6px);border-style:dashed!important}}"
    )
    rules.append(".st-missing{border-style:dotted!important}")
    return "\n".join(rules)
