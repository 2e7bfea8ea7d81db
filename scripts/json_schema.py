"""JSON Schema (draft 2020-12) from dataclasses and their type hints.

A small generator, standard library only, whose output depends on nothing but the classes it
is given (no library version can reorder or rename it): a dataclass becomes an object in
`$defs` (its fields in order, all required unless named optional, no other properties), and
its fields' hints become `string`, `integer`, `number`, `boolean`, `null`, `enum` (a
`Literal`), `array` (`list`, `tuple[X, ...]`), `object` (`dict`; `Literal` keys become
`propertyNames`), a union, or a `$ref`. What the hints cannot say (a description, a minimum,
a pattern, a member written beside the fields) the caller adds as `Shape` notes.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Shape:
    """How one dataclass is written as JSON, beyond its fields' type hints."""

    notes: Mapping[str, JsonSchema] = field(default_factory=dict)
    """field -> schema keywords added to (or replacing) what its hint gives"""
    added: Mapping[str, object] = field(default_factory=dict)
    """members written beside the fields (a property's value): name -> type hint"""
    renamed: Mapping[str, str] = field(default_factory=dict)
    """field -> the name it is written under"""
    left_out: frozenset[str] = frozenset()
    """fields not written (or written elsewhere)"""
    optional: frozenset[str] = frozenset()
    """members a document may lack (added after documents were already written)"""
    written_as: object = None
    """a type hint the whole class is written as instead (a class written as its text: str)"""


class SchemaBuilder:
    """Builds schemas, collecting each dataclass and each named `Literal` in `$defs` once."""

    def __init__(
        self,
        shapes: Mapping[type, Shape] | None = None,
        names: Mapping[object, str] | None = None,
    ) -> None:
        self.shapes = dict(shapes or {})
        self.names = dict(names or {})  # a Literal (or any hint) -> its name in $defs
        self.defs: dict[str, JsonSchema] = {}

    def of(self, hint: object) -> JsonSchema:
        """The schema of one type hint."""
        if hint in self.names:
            return self._named(self.names[hint], hint)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            written_as = self.shapes.get(hint, Shape()).written_as
            if written_as is not None:
                return self.of(written_as)
            return self._named(hint.__name__, hint)
        return self._plain(hint)

    def _named(self, name: str, hint: object) -> JsonSchema:
        if name not in self.defs:
            self.defs[name] = {}  # claimed first: a class may refer to itself
            is_class = isinstance(hint, type) and dataclasses.is_dataclass(hint)
            self.defs[name] = (
                self.object_of(hint) if isinstance(hint, type) and is_class else self._plain(hint)
            )
        return {"$ref": f"#/$defs/{name}"}

    def object_of(self, cls: type) -> JsonSchema:
        """The object a dataclass is written as."""
        shape = self.shapes.get(cls, Shape())
        hints = typing.get_type_hints(cls)
        members: dict[str, object] = {
            shape.renamed.get(f.name, f.name): hints[f.name]
            for f in dataclasses.fields(cls)
            if f.name not in shape.left_out
        }
        members.update(shape.added)
        properties = {}
        for name, hint in members.items():
            properties[name] = {**self.of(hint), **shape.notes.get(name, {})}
        schema: JsonSchema = {"type": "object"}
        if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):
            schema["description"] = " ".join(cls.__doc__.split("\n\n")[0].split())
        schema["required"] = [name for name in members if name not in shape.optional]
        schema["additionalProperties"] = False
        schema["properties"] = properties
        return schema

    def _plain(self, hint: object) -> JsonSchema:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is None or hint is type(None):
            return {"type": "null"}
        simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
        if isinstance(hint, type) and hint in simple:
            return {"type": simple[hint]}
        if hint is object:
            return {}
        if origin is typing.Literal:
            return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
        if origin in (typing.Union, types.UnionType):
            return self._union(args)
        if origin in (list, tuple) and (origin is list or args[1:] == (Ellipsis,)):
            return {"type": "array", "items": self.of(args[0])}
        if origin is tuple:
            items = [self.of(arg) for arg in args]
            size = len(args)
            return {"type": "array", "prefixItems": items, "minItems": size, "maxItems": size}
        if origin is dict:
            key, value = args
            schema: JsonSchema = {"type": "object"}
            if typing.get_origin(key) is typing.Literal or key in self.names:
                schema["propertyNames"] = self.of(key)
            if value is not object:
                schema["additionalProperties"] = self.of(value)
            return schema
        raise TypeError(f"no JSON Schema for the type hint {hint!r}")

    def _union(self, args: tuple[object, ...]) -> JsonSchema:
        options = [self.of(arg) for arg in args]
        simple = [option.get("type") for option in options]
        if all(isinstance(option.get("type"), str) and len(option) == 1 for option in options):
            return {"type": simple}
        enums = [option for option in options if set(option) == {"enum"}]
        if len(enums) + simple.count("null") == len(options) and enums:
            null = [None] if "null" in simple else []
            return {"enum": [value for option in enums for value in option["enum"]] + null}
        return {"oneOf": options}
