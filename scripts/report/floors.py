"""The floors and ceilings `python -m scripts floor` found, as lines of the report's verdict.

Each results folder the report reads may hold a `floors.json` (`scripts.floor.answer`); each
answer in it becomes one line: `SQLAlchemy ≥ 2.0.31 required (floor on sqlite-stdlib, ...)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as html_escape
from pathlib import Path

from scripts.floor.answer import answers_in
from scripts.report.markdown_text import escape as markdown_escape


def floor_lines(results_dirs: Sequence[Path]) -> list[str]:
    """One line per answer kept in the results folders' floors.json, oldest search key first."""
    return [answer.line() for answer in answers_in(results_dirs)]


def floors_markdown(lines: Sequence[str]) -> list[str]:
    """The verdict's Markdown list items."""
    return [f"- {markdown_escape(line)}" for line in lines]


def floors_html(lines: Sequence[str]) -> str:
    """The verdict's HTML list items."""
    return "".join(f'<li class="floor">{html_escape(line)}</li>' for line in lines)
