"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from sqlalchemy.orm import Session

from app.auth import HashingBusyError, TokenClaims, TokenError, TokenType, decode_token
from app.cache import UserCache, get_user_cache
from app.config import get_settings
from app.database import get_db
from app.limits import ID_MAX, ID_MIN
from app.models import User

_bearer = HTTPBearer(auto_error=False)

# scope="function": the session closes when the route returns, before the answer is sent and
# before background work; on SQLite an open session can hold the write lock.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
CacheDep = Annotated[UserCache, Depends(get_user_cache)]
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]

_ID_RANGE = f"ASCII digits, {ID_MIN}..{ID_MAX} (ids are 32-bit); anything else is 422"


def _plain_digits(segment: object) -> object:
    """A path id is ASCII digits only: no sign, space, underscore, decimal point or other
    script's digits, which int() would otherwise read (`+5`, ` 5`, `1_0` as 10, `1.0`)."""
    if isinstance(segment, str) and not (segment.isascii() and segment.isdigit()):
        raise ValueError("must be written in ASCII digits only (e.g. 42)")
    return segment


_PlainDigits = BeforeValidator(_plain_digits)
UserId = Annotated[
    int, Path(ge=ID_MIN, le=ID_MAX, description=f"A user id: {_ID_RANGE}"), _PlainDigits
]
PostId = Annotated[
    int, Path(ge=ID_MIN, le=ID_MAX, description=f"A post id: {_ID_RANGE}"), _PlainDigits
]


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client to send a bearer token."""
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def token_owner(db: Session, token: str, token_type: TokenType) -> User:
    """The account a valid token of `token_type` was issued to; 401 otherwise.

    A token names an id and the account's stamp: the token of a deleted account never
    passes for an account that got its id later.
    """
    try:
        claims: TokenClaims = decode_token(token, token_type)
    except TokenError as error:
        raise unauthorized(str(error)) from error
    user = db.get(User, claims.user_id)
    if user is None or not claims.matches(user):
        raise caller_gone()
    return user


def caller_gone() -> HTTPException:
    """The 401 of a token whose account does not exist (any more: a request may find it
    deleted half-way, by the owner's own concurrent DELETE)."""
    return unauthorized("Invalid token: unknown user")


def get_current_user(credentials: CredentialsDep, db: SessionDep) -> User:
    """The user an access token in `Authorization: Bearer` belongs to; 401 otherwise."""
    if credentials is None:
        raise unauthorized("Not authenticated")
    return token_owner(db, credentials.credentials, "access")


def get_optional_user(credentials: CredentialsDep, db: SessionDep) -> User | None:
    """The token's user when a token is sent (401 when it is not valid); None without one."""
    if credentials is None:
        return None
    return token_owner(db, credentials.credentials, "access")


def get_viewer(credentials: CredentialsDep, db: SessionDep) -> User | None:
    """Who reads a user, when it matters (PRIVATE_USERS: emails are shown to their owner)."""
    if not get_settings().private_users:
        return None
    return get_optional_user(credentials, db)


def get_user_creator(credentials: CredentialsDep, db: SessionDep) -> User | None:
    """Who may use POST /users: anyone (the examples' contract), or, with PRIVATE_USERS,
    the holder of a valid access token."""
    if not get_settings().private_users:
        return None
    return get_current_user(credentials, db)


CurrentUser = Annotated[User, Depends(get_current_user)]
Viewer = Annotated[User | None, Depends(get_viewer)]
UserCreator = Annotated[User | None, Depends(get_user_creator)]


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=detail)


def not_found(detail: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=detail)


def email_taken() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_400_BAD_REQUEST, detail="A user with this email already exists"
    )


def too_busy(error: HashingBusyError) -> HTTPException:
    """429 with Retry-After: the password hashing pool is full (see PASSWORD_HASHING_*)."""
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail="Too many logins and registrations at once; retry after Retry-After seconds",
        headers={"Retry-After": str(error.retry_after_seconds)},
    )
