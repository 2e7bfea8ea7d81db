"""The JSON Schema generator: type hints become the schema's types, required members and
enums; what hints cannot say comes from a `Shape`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import jsonschema
import pytest

from scripts.json_schema import SchemaBuilder, Shape

Colour = Literal["red", "green"]


@dataclass(frozen=True)
class Leaf:
    """A leaf: its first paragraph is its description.

    Not this one."""

    colour: Colour
    weight: float | None
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Tree:
    name: str
    leaves: list[Leaf]
    by_colour: dict[Colour, int]
    pair: tuple[int, str]
    parent: Tree | None = None
    hidden: str = ""

    @property
    def size(self) -> int:
        return len(self.leaves)


SHAPES = {
    Tree: Shape(
        added={"size": int},
        renamed={"leaves": "leafs"},
        left_out=frozenset({"hidden"}),
        optional=frozenset({"parent"}),
        notes={"size": {"minimum": 0}},
    )
}


def _validator() -> jsonschema.Draft202012Validator:
    builder = SchemaBuilder(SHAPES, {Colour: "Colour"})
    schema = {**builder.object_of(Tree), "$defs": builder.defs}
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


GOOD = {
    "name": "oak",
    "leafs": [{"colour": "red", "weight": None, "tags": ["a"]}],
    "by_colour": {"red": 1},
    "pair": [1, "x"],
    "size": 1,
}


def test_a_document_as_the_classes_write_it_is_valid() -> None:
    assert _validator().is_valid(GOOD)
    assert _validator().is_valid({**GOOD, "parent": {**GOOD, "parent": None}})


@pytest.mark.parametrize(
    "change",
    [
        {"leafs": [{"colour": "blue", "weight": None, "tags": []}]},  # not in the Literal
        {"by_colour": {"blue": 1}},  # a Literal key
        {"pair": [1, 2]},
        {"size": -1},  # a note
        {"hidden": ""},  # left out: no other members
        {"leaves": []},  # written under its new name
        {"leafs": [{"colour": "red", "tags": []}]},  # weight is required, though it may be null
    ],
)
def test_what_the_classes_never_write_is_refused(change: dict[str, object]) -> None:
    assert not _validator().is_valid({**GOOD, **change})


def test_a_class_is_described_by_its_docstrings_first_paragraph_and_named_once() -> None:
    builder = SchemaBuilder(SHAPES, {Colour: "Colour"})
    builder.object_of(Tree)
    assert builder.defs["Leaf"]["description"] == "A leaf: its first paragraph is its description."
    assert builder.defs["Colour"] == {"enum": ["red", "green"]}
    assert sorted(builder.defs) == ["Colour", "Leaf", "Tree"]
