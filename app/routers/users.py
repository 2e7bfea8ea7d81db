"""/users: create, read (cached), update, delete, and a user's posts."""

from __future__ import annotations

import redis
from fastapi import APIRouter, Response, status
from sqlalchemy.orm.exc import StaleDataError

from app.cache import CacheStatus
from app.config import get_settings
from app.conflicts import retried_on_conflict
from app.deps import (
    CacheDep,
    CurrentUser,
    SessionDep,
    UserCreator,
    UserId,
    Viewer,
    caller_gone,
    email_taken,
    forbidden,
    not_found,
)
from app.errors import documented
from app.models import User
from app.request_body import StrictJSONRoute
from app.schemas import PostList, PostRead, UserCreate, UserPublic, UserRead, UserUpdate
from app.tasks import queue_welcome_email
from app.users_store import commit_or_conflict, delete_and_commit, insert_user

router = APIRouter(prefix="/users", tags=["users"], route_class=StrictJSONRoute)

USER_NOT_FOUND = "User not found"


@router.post("", status_code=status.HTTP_201_CREATED, responses=documented(400, 401, 408, 413))
def create_user(body: UserCreate, db: SessionDep, _creator: UserCreator) -> UserRead:
    user = insert_user(db, body.name, body.email)
    if user is None:
        raise email_taken()
    # Published by the publishing thread: a slow or silent broker holds up no request.
    queue_welcome_email(user.email, user.name)
    return UserRead.model_validate(user)


def _as_seen_by(user: UserRead, viewer: User | None) -> UserPublic:
    """The user as `viewer` may see them: with PRIVATE_USERS, the email is the owner's only."""
    shown = not get_settings().private_users or (viewer is not None and viewer.id == user.id)
    return UserPublic(
        id=user.id, name=user.name, email=user.email if shown else None, created_at=user.created_at
    )


X_CACHE = {
    "X-Cache": {
        "description": "MISS (read from the database), HIT (from the cache), BYPASS (cache down)",
        "schema": {"type": "string", "enum": [member.value for member in CacheStatus]},
    }
}


@router.get("/{user_id}", responses={200: {"headers": X_CACHE}, **documented(401, 404)})
def get_user(
    user_id: UserId, db: SessionDep, cache: CacheDep, response: Response, viewer: Viewer
) -> UserPublic:
    try:
        cached = cache.get(user_id)
    except redis.RedisError:
        cache_status = CacheStatus.BYPASS
    else:
        if cached is not None:
            response.headers["X-Cache"] = CacheStatus.HIT
            return _as_seen_by(cached, viewer)
        cache_status = CacheStatus.MISS
    user = db.get(User, user_id)
    if user is None:
        raise not_found(USER_NOT_FOUND)
    body = UserRead.model_validate(user)
    if cache_status is CacheStatus.MISS:
        cache.put(body)
    response.headers["X-Cache"] = cache_status
    return _as_seen_by(body, viewer)


@router.put("/{user_id}", responses=documented(400, 401, 403, 408, 413))
@retried_on_conflict
def update_user(
    user_id: UserId, body: UserUpdate, db: SessionDep, cache: CacheDep, current: CurrentUser
) -> UserRead:
    if current.id != user_id:
        raise forbidden("You can only change your own account")
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changes.items():
        setattr(current, field, value)
    try:
        if not commit_or_conflict(db):
            raise email_taken()
    except StaleDataError:  # the caller's account was deleted since the token was checked
        db.rollback()
        raise caller_gone() from None
    cache.invalidate(user_id)
    # No refresh: the columns hold what was committed (expire_on_commit is off), and the
    # account may be gone again by now.
    return UserRead.model_validate(current)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=documented(401, 403))
@retried_on_conflict
def delete_user(user_id: UserId, db: SessionDep, cache: CacheDep, current: CurrentUser) -> None:
    if current.id != user_id:
        raise forbidden("You can only delete your own account")
    # A statement, not session.delete(): deleted meanwhile (by the owner's other request) is
    # a 401 like any request of a deleted account. Posts go with it (ON DELETE CASCADE).
    deleted = delete_and_commit(db, User, user_id)
    cache.invalidate(user_id)
    if not deleted:
        raise caller_gone()


@router.get("/{user_id}/posts", responses=documented(404))
def list_user_posts(user_id: UserId, db: SessionDep) -> PostList:
    user = db.get(User, user_id)
    if user is None:
        raise not_found(USER_NOT_FOUND)
    return PostList(posts=[PostRead.model_validate(post) for post in user.posts])
