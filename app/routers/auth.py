"""/auth: register, log in, refresh."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.auth import (
    HashingBusyError,
    create_access_token,
    create_refresh_token,
    hash_password,
    verify_password,
)
from app.deps import SessionDep, email_taken, token_owner, too_busy, unauthorized
from app.errors import documented
from app.models import User
from app.request_body import StrictJSONRoute
from app.schemas import (
    AccessToken,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserRead,
)
from app.tasks import queue_welcome_email
from app.users_store import insert_user

router = APIRouter(prefix="/auth", tags=["auth"], route_class=StrictJSONRoute)

BAD_CREDENTIALS = "Incorrect email or password"


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, responses=documented(400, 408, 413, 429)
)
def register(body: RegisterRequest, db: SessionDep) -> UserRead:
    # Hashed before the insert's transaction begins: no lock is held while argon2 works.
    try:
        password_hash = hash_password(body.password)
    except HashingBusyError as error:
        raise too_busy(error) from None
    user = insert_user(db, body.name, body.email, password_hash)
    if user is None:
        raise email_taken()
    queue_welcome_email(user.email, user.name)
    return UserRead.model_validate(user)


@router.post("/login", responses=documented(401, 408, 413, 429))
def login(body: LoginRequest, db: SessionDep) -> TokenPair:
    user = db.query(User).filter(User.email == body.email).one_or_none()
    # End the read before the slow hash check: on SQLite every transaction holds the write
    # lock, and elsewhere the connection goes back to the pool for other requests.
    db.commit()
    # Same answer (and same hashing effort) for an unknown email and a wrong password.
    try:
        matches = verify_password(body.password, user.password_hash if user else None)
    except HashingBusyError as error:
        raise too_busy(error) from None
    if not matches or user is None:
        raise unauthorized(BAD_CREDENTIALS)
    return TokenPair(
        access_token=create_access_token(user), refresh_token=create_refresh_token(user)
    )


@router.post("/refresh", responses=documented(401, 408, 413))
def refresh(body: RefreshRequest, db: SessionDep) -> AccessToken:
    user = token_owner(db, body.refresh_token, "refresh")
    return AccessToken(access_token=create_access_token(user))
