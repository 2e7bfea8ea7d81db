"""What a name, a title, a post's content and an email may hold, said once for code and schema.

Each rule is a regular expression published in the OpenAPI schema (`pattern`) and checked by
the same expression here, so what the schema calls valid is what the service accepts:

- no control characters: PostgreSQL cannot store NUL, and the other backends would store what
  PostgreSQL refuses (content keeps tabs and line breaks);
- (lone surrogates, which no backend can store, never get this far: see app.request_body);
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
# Unicode White_Space without the control characters: the same set for Python's str.strip()
# and for the regex engines of JSON Schema validators (whose `\s` differ from Python's).
SPACES = r" \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

_REFUSED_IN_LINES = CONTROLS + BIDI_CONTROLS
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


def _describe(character: str) -> str:
    code = ord(character)
    if re.fullmatch(rf"[{BIDI_CONTROLS}]", character):
        kind = "the bidirectional control character"
    else:
        kind = "the control character"
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
