"""The README and the pages under docs/ hold together: every relative link leads to a file (and
heading) that exists, and `nox -l` describes each session in a whole sentence."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
PAGES = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.M)


def prose(markdown: str) -> str:
    """The text a reader sees as prose: code blocks and code spans removed."""
    return INLINE_CODE.sub("", FENCE.sub("", markdown))


def relative_links(markdown: str) -> list[str]:
    """Link targets that point into this repository (not to a web address)."""
    targets = LINK.findall(prose(markdown))
    return [target for target in targets if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a page: lower case, punctuation dropped, spaces
    as hyphens, a repeated one numbered."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def test_anchors_follow_githubs_rule_for_code_and_punctuation() -> None:
    page = "# What `nox -s matrix` fetches\n## Notes\n## Notes\n```\n# not a heading\n```\n"
    assert anchors(page) == {"what-nox--s-matrix-fetches", "notes", "notes-1"}


def test_links_in_code_are_not_links() -> None:
    page = "[a](a.md) `[b](b.md)`\n```\n[c](c.md)\n```\n[d](https://example.org)\n"
    assert relative_links(page) == ["a.md"]


def test_the_readme_links_every_page_under_docs() -> None:
    linked = {target.split("#")[0] for target in relative_links(PAGES[0].read_text())}
    pages = {f"docs/{page.name}" for page in PAGES[1:]}
    assert pages, "no pages under docs/"
    assert pages <= linked, f"pages the README does not link: {sorted(pages - linked)}"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPOSITORY)) for p in PAGES])
def test_every_relative_link_points_to_a_file_and_heading_that_exist(page: Path) -> None:
    broken = []
    for target in relative_links(page.read_text()):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif (
            anchor
            and destination.suffix == ".md"
            and anchor not in anchors(destination.read_text())
        ):
            broken.append(f"{target}: no such heading in {destination.name}")
    assert not broken, f"{page.name}: {broken}"


def session_docstrings() -> dict[str, str]:
    """Each nox session function of noxfile.py with its docstring."""
    tree = ast.parse((REPOSITORY / "noxfile.py").read_text())
    sessions = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(
            "nox.session" in ast.unparse(decorator) for decorator in node.decorator_list
        ):
            sessions[node.name] = ast.get_docstring(node) or ""
    return sessions


def test_each_sessions_docstring_opens_with_a_sentence_of_its_own() -> None:
    sessions = session_docstrings()
    assert {"tests", "matrix", "cell"} <= set(sessions)
    for name, docstring in sessions.items():
        first_paragraph = docstring.split("\n\n")[0]
        assert "\n" not in first_paragraph, f"{name}: its first sentence runs onto a second line"
        assert first_paragraph.endswith("."), f"{name}: {first_paragraph!r} is no whole sentence"


def test_nox_lists_every_session_with_a_whole_sentence() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-l"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    # `* tests -> Run ...` (selected by default), `- cell(postgres-16) [postgres,...] -> Run ...`
    lines = re.findall(r"^[*-] (\S+)(?: \[[^\]]*\])? -> (.*)$", listed.stdout, re.M)
    descriptions = dict(lines)
    assert {"tests", "matrix"} <= set(descriptions)
    cut = {
        name: text
        for name, text in descriptions.items()
        if not text or not text.endswith(".") or len(text) > 100
    }
    assert not cut, f"descriptions cut short, missing or too long: {cut}"
