"""Text made safe for Markdown: table cells, inline code and fenced blocks."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([|\\`*_<>])")


def escape(text: str) -> str:
    """Text safe in a Markdown table cell: one line, pipes and markup escaped."""
    one_line = " ".join(text.split())
    return _MARKDOWN_SPECIAL.sub(
        lambda m: "&lt;" if m[1] == "<" else "&gt;" if m[1] == ">" else "\\" + m[1], one_line
    )


def code(text: str) -> str:
    """An inline code span for a table cell: one line, pipes escaped, backticks fenced."""
    one_line = " ".join(text.split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", one_line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{fence}{pad}{one_line}{pad}{fence}"


def fenced(text: str) -> list[str]:
    """A fenced code block that the text cannot close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", text, fence]
