"""Request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app import text_rules
from app.limits import (
    CONTENT_MAX,
    EMAIL_MAX,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    TITLE_MAX,
)

TOKEN_MAX = 4096  # a token of ours is ~250 characters
SINGLE_LINE = {"pattern": text_rules.SINGLE_LINE_PATTERN}
MULTILINE = {"pattern": text_rules.MULTILINE_PATTERN}


# Lengths count the characters sent; names and titles are then trimmed.
Name = Annotated[
    str,
    Field(min_length=1, max_length=NAME_MAX, json_schema_extra=SINGLE_LINE),
    AfterValidator(text_rules.single_line),
]
Title = Annotated[
    str,
    Field(min_length=1, max_length=TITLE_MAX, json_schema_extra=SINGLE_LINE),
    AfterValidator(text_rules.single_line),
]
Content = Annotated[
    str,
    Field(min_length=1, max_length=CONTENT_MAX, json_schema_extra=MULTILINE),
    AfterValidator(text_rules.multiline),
]
# Stored NFKC-normalised, trimmed, lower-cased: fullwidth letters become their ASCII forms.
Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=EMAIL_MAX,
        description=text_rules.EMAIL_RULE,
        json_schema_extra={"format": "email"},
    ),
    AfterValidator(text_rules.email),
]
Password = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


class UserCreate(BaseModel):
    name: Name
    email: Email


class UserUpdate(BaseModel):
    name: Name | None = None
    email: Email | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    created_at: datetime


class UserPublic(BaseModel):
    """A user as anyone may see them; `email` is null unless shown (see PRIVATE_USERS)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str | None = Field(
        description="The user's email; null for anyone but the user when PRIVATE_USERS is on"
    )
    created_at: datetime


class ErrorMessage(BaseModel):
    """Every error but 422: what went wrong, and how to put it right where that helps."""

    detail: str


class RegisterRequest(BaseModel):
    name: Name
    email: Email
    password: Password


class LoginRequest(BaseModel):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]


class RefreshRequest(BaseModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=TOKEN_MAX)]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (a scheme name)


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (a scheme name)


class PostCreate(BaseModel):
    title: Title
    content: Content


class PostUpdate(BaseModel):
    title: Title | None = None
    content: Content | None = None


class PostRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    content: str
    author_id: int
    created_at: datetime


class PostList(BaseModel):
    posts: list[PostRead]


class ProtectedRead(BaseModel):
    subject: str
    user_id: int
    email: str
