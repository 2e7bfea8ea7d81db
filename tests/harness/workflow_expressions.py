"""GitHub Actions `${{ ... }}` expressions, enough of them to replay this repository's workflows.

Supported: context paths (`matrix.cell`, `steps.list.outputs.matrix`, `env.X`, `inputs.tag`),
string/number/boolean/null literals, `==`, `!=`, `!`, `&&`, `||` (which return an operand, as
on GitHub), parentheses, and the functions `always()`, `success()`, `failure()`, `cancelled()`,
`fromJSON()`, `toJSON()`. Anything else raises `UnsupportedExpressionError` naming the expression,
so a workflow that outgrows the replay fails loudly instead of being replayed wrongly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op>==|!=|&&|\|\||!|\(|\)|,)|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_*-]+)*))"
)


class UnsupportedExpressionError(Exception):
    """An expression the replay cannot evaluate faithfully."""


Status = Callable[[], bool]


class Evaluator:
    """Evaluates expressions against contexts (`matrix`, `env`, ...) and a job status."""

    def __init__(self, contexts: Mapping[str, Any], *, job_failed: bool = False) -> None:
        self.contexts = contexts
        self.job_failed = job_failed

    def substitute(self, text: str) -> str:
        """`text` with every `${{ ... }}` replaced by its value as a string."""
        return EXPRESSION.sub(lambda match: as_text(self.evaluate(match.group(1))), text)

    def condition(self, expression: str | None) -> bool:
        """An `if:`; without a status function in it, `success() && (...)` is implied."""
        if expression is None:
            return not self.job_failed
        inner = EXPRESSION.fullmatch(expression.strip())
        text = inner.group(1) if inner else expression
        value = truthy(self.evaluate(text))
        if not re.search(r"\b(always|success|failure|cancelled)\(\)", text):
            return value and not self.job_failed
        return value

    def evaluate(self, text: str) -> Any:
        tokens = _tokenize(text)
        parser = _Parser(tokens, self, text)
        value = parser.or_expression()
        if parser.position != len(tokens):
            raise UnsupportedExpressionError(f"cannot replay the expression {text!r}")
        return value

    def lookup(self, path: str, text: str) -> Any:
        head, *rest = path.split(".")
        if head not in self.contexts:
            raise UnsupportedExpressionError(
                f"the context {head!r} in {text!r} is not replayed; known: {sorted(self.contexts)}"
            )
        value: Any = self.contexts[head]
        for part in rest:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    def call(self, name: str, arguments: list[Any], text: str) -> Any:
        if name == "always":
            return True
        if name == "success":
            return not self.job_failed
        if name == "failure":
            return self.job_failed
        if name == "cancelled":
            return False
        if name == "fromJSON":
            return json.loads(arguments[0])
        if name == "toJSON":
            return json.dumps(arguments[0])
        raise UnsupportedExpressionError(f"the function {name}() in {text!r} is not replayed")


def truthy(value: Any) -> bool:
    return value not in (None, False, "", 0)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise UnsupportedExpressionError(f"cannot read {text[position:]!r} in {text!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], evaluator: Evaluator, text: str) -> None:
        self.tokens = tokens
        self.position = 0
        self.evaluator = evaluator
        self.text = text

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise UnsupportedExpressionError(f"unexpected end of {self.text!r}")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def or_expression(self) -> Any:
        value = self.and_expression()
        while self._peek() == "||":
            self._take()
            right = self.and_expression()
            value = value if truthy(value) else right
        return value

    def and_expression(self) -> Any:
        value = self.comparison()
        while self._peek() == "&&":
            self._take()
            right = self.comparison()
            value = right if truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        if self._peek() in ("==", "!="):
            operator = self._take()[1]
            right = self.unary()
            equal = _loose(value) == _loose(right)
            return equal if operator == "==" else not equal
        return value

    def unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, token = self._take()
        if token == "(":
            value = self.or_expression()
            self._expect(")")
            return value
        if kind == "string":
            return token[1:-1].replace("''", "'")
        if kind == "number":
            return float(token) if "." in token else int(token)
        if kind != "name":
            raise UnsupportedExpressionError(f"unexpected {token!r} in {self.text!r}")
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        if self._peek() == "(":
            self._take()
            arguments: list[Any] = []
            while self._peek() != ")":
                arguments.append(self.or_expression())
                if self._peek() == ",":
                    self._take()
            self._expect(")")
            return self.evaluator.call(token, arguments, self.text)
        return self.evaluator.lookup(token, self.text)

    def _expect(self, token: str) -> None:
        if self._take()[1] != token:
            raise UnsupportedExpressionError(f"expected {token!r} in {self.text!r}")


def _loose(value: Any) -> Any:
    """GitHub compares strings case-insensitively."""
    return value.casefold() if isinstance(value, str) else value
