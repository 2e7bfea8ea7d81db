"""What a name, a title, a post's content and an email may hold, said once for code and schema.

Each rule is a regular expression published in the OpenAPI schema (`pattern`) and checked by
the same expression here, so what the schema calls valid is what the service accepts:

- no control characters: PostgreSQL cannot store NUL, and the other backends would store what
  PostgreSQL refuses (content keeps tabs and line breaks);
- no lone surrogates: no backend can store them, they are not Unicode text;
- names and titles: no bidirectional embedding, override or isolate characters (U+202A–U+202E,
  U+2066–U+2069), which make a name display as something else; leading and trailing whitespace
  is trimmed, and something visible must remain.
"""

from __future__ import annotations

import re

import email_validator

from app.models import normalise_email

CONTROLS = r"\x00-\x1f\x7f"
CONTROLS_BUT_LINE_BREAKS_AND_TABS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
SURROGATES = r"\ud800-\udfff"

_REFUSED_IN_LINES = CONTROLS + BIDI_CONTROLS + SURROGATES
_REFUSED_IN_TEXT = CONTROLS_BUT_LINE_BREAKS_AND_TABS + SURROGATES

# Whitespace around one visible run that holds no refused character.
SINGLE_LINE_PATTERN = (
    rf"^\s*[^{_REFUSED_IN_LINES}\s](?:[^{_REFUSED_IN_LINES}]*[^{_REFUSED_IN_LINES}\s])?\s*$"
)
MULTILINE_PATTERN = rf"^[^{_REFUSED_IN_TEXT}]*$"

_SINGLE_LINE = re.compile(SINGLE_LINE_PATTERN)
_MULTILINE = re.compile(MULTILINE_PATTERN)
_FIRST_REFUSED_IN_LINES = re.compile(rf"[{_REFUSED_IN_LINES}]")
_FIRST_REFUSED_IN_TEXT = re.compile(rf"[{_REFUSED_IN_TEXT}]")


def _describe(character: str) -> str:
    code = ord(character)
    if 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate"
    elif re.fullmatch(rf"[{BIDI_CONTROLS}]", character):
        kind = "the bidirectional control character"
    else:
        kind = "the control character"
    return f"must not contain {kind} U+{code:04X}"


def single_line(value: str) -> str:
    """A name or title: checked against SINGLE_LINE_PATTERN, returned trimmed."""
    if not _SINGLE_LINE.search(value):
        found = _FIRST_REFUSED_IN_LINES.search(value.strip())
        raise ValueError(_describe(found.group()) if found else "must not be blank")
    return value.strip()


def multiline(value: str) -> str:
    """Post content: checked against MULTILINE_PATTERN, returned as sent."""
    if not _MULTILINE.search(value):
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
