"""/users: create, read (cached), update, delete, and a user's posts."""

from __future__ import annotations

import redis
from fastapi import APIRouter, Response, status

from app.cache import CacheStatus
from app.deps import CacheDep, CurrentUser, SessionDep, email_taken, forbidden, not_found
from app.models import User
from app.schemas import PostList, PostRead, UserCreate, UserRead, UserUpdate
from app.tasks import enqueue_welcome_email
from app.users_store import commit_or_conflict, insert_user

router = APIRouter(prefix="/users", tags=["users"])

USER_NOT_FOUND = "User not found"


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, db: SessionDep) -> UserRead:
    user = insert_user(db, body.name, body.email)
    if user is None:
        raise email_taken()
    enqueue_welcome_email(user.email, user.name)
    return UserRead.model_validate(user)


@router.get("/{user_id}")
def get_user(user_id: int, db: SessionDep, cache: CacheDep, response: Response) -> UserRead:
    try:
        cached = cache.get(user_id)
    except redis.RedisError:
        cache_status = CacheStatus.BYPASS
    else:
        if cached is not None:
            response.headers["X-Cache"] = CacheStatus.HIT
            return cached
        cache_status = CacheStatus.MISS
    user = db.get(User, user_id)
    if user is None:
        raise not_found(USER_NOT_FOUND)
    body = UserRead.model_validate(user)
    if cache_status is CacheStatus.MISS:
        cache.put(body)
    response.headers["X-Cache"] = cache_status
    return body


@router.put("/{user_id}")
def update_user(
    user_id: int, body: UserUpdate, db: SessionDep, cache: CacheDep, current: CurrentUser
) -> UserRead:
    if current.id != user_id:
        raise forbidden("You can only change your own account")
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changes.items():
        setattr(current, field, value)
    if not commit_or_conflict(db):
        raise email_taken()
    cache.invalidate(user_id)
    db.refresh(current)
    return UserRead.model_validate(current)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: int, db: SessionDep, cache: CacheDep, current: CurrentUser) -> None:
    if current.id != user_id:
        raise forbidden("You can only delete your own account")
    db.delete(current)
    db.commit()
    cache.invalidate(user_id)


@router.get("/{user_id}/posts")
def list_user_posts(user_id: int, db: SessionDep) -> PostList:
    user = db.get(User, user_id)
    if user is None:
        raise not_found(USER_NOT_FOUND)
    return PostList(posts=[PostRead.model_validate(post) for post in user.posts])
