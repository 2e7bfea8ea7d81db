"""Data helpers for users: the database decides uniqueness; no HTTP errors raised here."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import User


def insert_user(
    db: Session, name: str, email: str, password_hash: str | None = None
) -> User | None:
    """Insert and commit a user; None when the email is taken (the unique constraint decides)."""
    user = User(name=name, email=email, password_hash=password_hash)
    db.add(user)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return None
    db.refresh(user)
    return user


def commit_or_conflict(db: Session) -> bool:
    """Commit pending changes; False (rolled back) when they break a unique constraint."""
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return False
    return True
