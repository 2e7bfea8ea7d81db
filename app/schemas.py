"""Request and response bodies."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from app.models import EMAIL_MAX, NAME_MAX, TITLE_MAX, normalise_email

# Control characters are refused: PostgreSQL cannot store NUL in text at all, and the other
# backends would store what PostgreSQL refuses, so the schema differs by backend otherwise.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARACTERS_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refuse(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        found = pattern.search(value)
        if found:
            raise ValueError(f"must not contain the control character {found.group()!r}")
        return value

    return check


SingleLine = AfterValidator(_refuse(CONTROL_CHARACTERS))
Multiline = AfterValidator(_refuse(CONTROL_CHARACTERS_BUT_WHITESPACE))

PASSWORD_MIN = 8
PASSWORD_MAX = 128
CONTENT_MAX = 20_000

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX), SingleLine
]
Email = Annotated[EmailStr, Field(max_length=EMAIL_MAX), AfterValidator(normalise_email)]
Password = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX), SingleLine
]
Content = Annotated[str, Field(min_length=1, max_length=CONTENT_MAX), Multiline]


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


class RegisterRequest(BaseModel):
    name: Name
    email: Email
    password: Password


class LoginRequest(BaseModel):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]


class RefreshRequest(BaseModel):
    refresh_token: Annotated[str, Field(min_length=1)]


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
