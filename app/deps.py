"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth import TokenError, decode_token
from app.cache import UserCache, get_user_cache
from app.database import get_db
from app.models import User

_bearer = HTTPBearer(auto_error=False)

SessionDep = Annotated[Session, Depends(get_db)]
CacheDep = Annotated[UserCache, Depends(get_user_cache)]
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client to send a bearer token."""
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def get_current_user(credentials: CredentialsDep, db: SessionDep) -> User:
    """The user an access token in `Authorization: Bearer` belongs to; 401 otherwise."""
    if credentials is None:
        raise unauthorized("Not authenticated")
    try:
        subject = decode_token(credentials.credentials, "access")
    except TokenError as error:
        raise unauthorized(str(error)) from error
    user = db.get(User, int(subject)) if subject.isdigit() else None
    if user is None:
        raise unauthorized("Invalid token: unknown user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=detail)


def not_found(detail: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=detail)


def email_taken() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_400_BAD_REQUEST, detail="A user with this email already exists"
    )
