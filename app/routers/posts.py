"""/posts: create with a token, read, and change or delete your own."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.conflicts import retried_on_conflict
from app.deps import CurrentUser, PostId, SessionDep, caller_gone, forbidden, not_found
from app.errors import documented
from app.models import Post
from app.request_body import StrictJSONRoute
from app.schemas import PostCreate, PostRead, PostUpdate
from app.users_store import delete_and_commit

router = APIRouter(prefix="/posts", tags=["posts"], route_class=StrictJSONRoute)

POST_NOT_FOUND = "Post not found"


@router.post("", status_code=status.HTTP_201_CREATED, responses=documented(401, 408, 413))
@retried_on_conflict
def create_post(body: PostCreate, db: SessionDep, current: CurrentUser) -> PostRead:
    post = Post(title=body.title, content=body.content, author_id=current.id)
    db.add(post)
    try:
        db.commit()
    except IntegrityError:  # the only constraint a post can break: its author was deleted
        db.rollback()
        raise caller_gone() from None
    # No refresh: every column was set here (expire_on_commit is off), and the row may
    # already be gone again with its author.
    return PostRead.model_validate(post)


@router.get("/{post_id}", responses=documented(404))
def get_post(post_id: PostId, db: SessionDep) -> PostRead:
    post = db.get(Post, post_id)
    if post is None:
        raise not_found(POST_NOT_FOUND)
    return PostRead.model_validate(post)


def _own_post(db: SessionDep, post_id: int, current: CurrentUser) -> Post:
    post = db.get(Post, post_id)
    if post is None:
        raise not_found(POST_NOT_FOUND)
    if post.author_id != current.id:
        raise forbidden("Only the author can change this post")
    return post


@router.put("/{post_id}", responses=documented(401, 403, 404, 408, 413))
@retried_on_conflict
def update_post(
    post_id: PostId, body: PostUpdate, db: SessionDep, current: CurrentUser
) -> PostRead:
    post = _own_post(db, post_id, current)
    for field, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(post, field, value)
    try:
        db.commit()
    except StaleDataError:  # the UPDATE matched no row: deleted since it was read
        db.rollback()
        raise not_found(POST_NOT_FOUND) from None
    return PostRead.model_validate(post)


@router.delete(
    "/{post_id}", status_code=status.HTTP_204_NO_CONTENT, responses=documented(401, 403, 404)
)
@retried_on_conflict
def delete_post(post_id: PostId, db: SessionDep, current: CurrentUser) -> None:
    post = _own_post(db, post_id, current)
    # A statement, not session.delete(): a row deleted meanwhile is a 404, not a warning
    if not delete_and_commit(db, Post, post.id):
        raise not_found(POST_NOT_FOUND)
