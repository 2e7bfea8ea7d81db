"""Data helpers for users: the database decides uniqueness; no HTTP errors raised here."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import Base
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


def delete_and_commit(db: Session, model: type[Base], row_id: int) -> bool:
    """Delete the row `row_id` of `model` with a statement and commit; False when there was
    none (deleted meanwhile by another request). The database cascades to dependent rows."""
    table: Any = model
    result = cast(CursorResult[Any], db.execute(delete(model).where(table.id == row_id)))
    db.commit()
    return bool(result.rowcount)
