"""/auth: register, log in, refresh."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.auth import (
    TokenError,
    create_access_token,
    create_refresh_token,
    decode_token,
    hash_password,
    verify_password,
)
from app.deps import SessionDep, email_taken, unauthorized
from app.models import User
from app.schemas import (
    AccessToken,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserRead,
)
from app.tasks import enqueue_welcome_email
from app.users_store import insert_user

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_CREDENTIALS = "Incorrect email or password"


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(body: RegisterRequest, db: SessionDep) -> UserRead:
    user = insert_user(db, body.name, body.email, hash_password(body.password))
    if user is None:
        raise email_taken()
    enqueue_welcome_email(user.email, user.name)
    return UserRead.model_validate(user)


@router.post("/login")
def login(body: LoginRequest, db: SessionDep) -> TokenPair:
    user = db.query(User).filter(User.email == body.email).one_or_none()
    # Same answer (and same hashing effort) for an unknown email and a wrong password.
    if not verify_password(body.password, user.password_hash if user else None) or user is None:
        raise unauthorized(BAD_CREDENTIALS)
    return TokenPair(
        access_token=create_access_token(user.id), refresh_token=create_refresh_token(user.id)
    )


@router.post("/refresh")
def refresh(body: RefreshRequest, db: SessionDep) -> AccessToken:
    try:
        subject = decode_token(body.refresh_token, "refresh")
    except TokenError as error:
        raise unauthorized(str(error)) from error
    user = db.get(User, int(subject)) if subject.isdigit() else None
    if user is None:
        raise unauthorized("Invalid token: unknown user")
    return AccessToken(access_token=create_access_token(user.id))
