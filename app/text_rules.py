"""What a name, a title, a post's content and an email may hold, said once for code and schema.

Each rule is a regular expression published in the OpenAPI schema (`pattern`) and checked by
the same expression here, so what the schema calls valid is what the service accepts:

- no control characters: PostgreSQL cannot store NUL, and the other backends would store what
  PostgreSQL refuses (content keeps tabs and line breaks);
- (lone surrogates, which no backend can store, never get this far: see app.request_body);
- names and titles: no bidirectional embedding, override or isolate characters (U+202A–U+202E,
  U+2066–U+2069), which make a name display as something else; no other format character
  (Unicode category Cf in the BMP: zero-width space, LRM/RLM marks, word joiner, BOM, soft
  hyphen...) but the zero-width joiner and non-joiner that emoji and some scripts need; no line
  or paragraph separator (U+2028, U+2029), which would break the line; leading and trailing
  whitespace is trimmed, and something visible must remain.
"""

from __future__ import annotations

import re

import email_validator

from app.models import normalise_email

CONTROLS = r"\x00-\x1f\x7f"
CONTROLS_BUT_LINE_BREAKS_AND_TABS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
# The BMP's other format characters (category Cf) but U+200C/U+200D (zero-width non-joiner
# and joiner: emoji sequences and several scripts need them). Invisible, so a name holding one
# looks like another name, or like nothing.
FORMAT_CHARACTERS = (
    r"\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
    r"\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb"
)
LINE_SEPARATORS = r"\u2028\u2029"  # Zl and Zp: a line break in a single-line value
# Unicode White_Space without the control characters and line separators: the same set for
# Python's str.strip() and for the regex engines of JSON Schema validators (whose `\s` differ
# from Python's).
SPACES = r" \x85\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"

_REFUSED_IN_LINES = CONTROLS + BIDI_CONTROLS + FORMAT_CHARACTERS + LINE_SEPARATORS
_VISIBLE = rf"[^{_REFUSED_IN_LINES}{SPACES}]"

# Spaces around one run that starts and ends visible and holds no refused character.
SINGLE_LINE_PATTERN = rf"^[{SPACES}]*{_VISIBLE}(?:[^{_REFUSED_IN_LINES}]*{_VISIBLE})?[{SPACES}]*$"
MULTILINE_PATTERN = rf"^[^{CONTROLS_BUT_LINE_BREAKS_AND_TABS}]*$"

# The whole value must match (as `^...$` means in JSON Schema; Python's `$` would also
# match before a final line break).
_SINGLE_LINE = re.compile(SINGLE_LINE_PATTERN.removeprefix("^").removesuffix("$"))
_MULTILINE = re.compile(MULTILINE_PATTERN.removeprefix("^").removesuffix("$"))
_FIRST_REFUSED_IN_LINES = re.compile(rf"[{_REFUSED_IN_LINES}]")
_FIRST_REFUSED_IN_TEXT = re.compile(rf"[{CONTROLS_BUT_LINE_BREAKS_AND_TABS}]")


_KINDS = (
    (re.compile(rf"[{BIDI_CONTROLS}]"), "the bidirectional control character"),
    (re.compile(rf"[{FORMAT_CHARACTERS}]"), "the invisible format character"),
    (re.compile(rf"[{LINE_SEPARATORS}]"), "the line separator"),
)


def _describe(character: str) -> str:
    code = ord(character)
    kind = next(
        (name for pattern, name in _KINDS if pattern.fullmatch(character)),
        "the control character",
    )
    return f"must not contain {kind} U+{code:04X}"


def single_line(value: str) -> str:
    """A name or title: checked against SINGLE_LINE_PATTERN, returned trimmed."""
    if not _SINGLE_LINE.fullmatch(value):
        found = _FIRST_REFUSED_IN_LINES.search(value)
        raise ValueError(_describe(found.group()) if found else "must not be blank")
    return value.strip()


def multiline(value: str) -> str:
    """Post content: checked against MULTILINE_PATTERN, returned as sent."""
    if not _MULTILINE.fullmatch(value):
        found = _FIRST_REFUSED_IN_TEXT.search(value)
        assert found is not None
        raise ValueError(_describe(found.group()))
    return value


EMAIL_RULE = (
    "An email address: NFKC-normalised, trimmed and lower-cased before it is stored or "
    "compared (fullwidth letters are their ASCII forms). Addresses at .test are accepted; "
    "those at .invalid, .local, .localhost, .onion and .arpa are refused."
)


def email(value: str) -> str:
    """An email address in its stored form (NFKC, trimmed, lower-cased), or ValueError.

    Any syntactically valid address is accepted (nothing is looked up), `.test` and dotless
    domains included, except at the names reserved never to receive mail: EMAIL_RULE.
    """
    stored = normalise_email(value)
    try:
        email_validator.validate_email(
            stored, check_deliverability=False, globally_deliverable=False, test_environment=True
        )
    except email_validator.EmailNotValidError as error:
        raise ValueError(f"is not a valid email address: {error}") from None
    return stored
