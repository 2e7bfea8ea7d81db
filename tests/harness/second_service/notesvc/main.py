"""The notes API. The engine and the Redis client are built from the settings when the app
starts (its lifespan), so importing this module connects to nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

import redis
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notesvc.models import Base, Note, Notebook
from notesvc.settings import Settings

COUNT_SECONDS = 60


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings.from_environment()
    engine = create_engine(settings.database_url)
    Base.metadata.create_all(engine)  # the service makes its own tables: nothing to prepare
    app.state.engine = engine
    app.state.cache = redis.Redis.from_url(settings.cache_url)
    try:
        yield
    finally:
        app.state.cache.close()
        engine.dispose()


app = FastAPI(title="notes", lifespan=lifespan)


def session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as opened:
        yield opened


def cache(request: Request) -> redis.Redis:
    return request.app.state.cache  # type: ignore[no-any-return]


SessionDep = Annotated[Session, Depends(session)]
CacheDep = Annotated[redis.Redis, Depends(cache)]


class NotebookIn(BaseModel):
    title: str


class NoteIn(BaseModel):
    body: str


def count_key(notebook_id: int) -> str:
    return f"notes:count:{notebook_id}"


@app.post("/notebooks", status_code=201)
def create_notebook(given: NotebookIn, db: SessionDep) -> dict[str, object]:
    notebook = Notebook(title=given.title)
    db.add(notebook)
    try:
        db.commit()
    except IntegrityError:
        raise HTTPException(409, f"a notebook is titled {given.title!r} already") from None
    return {"id": notebook.id, "title": notebook.title}


@app.post("/notebooks/{notebook_id}/notes", status_code=201)
def add_note(
    notebook_id: int, given: NoteIn, db: SessionDep, cached: CacheDep
) -> dict[str, object]:
    if db.get(Notebook, notebook_id) is None:
        raise HTTPException(404, "no such notebook")
    note = Note(notebook_id=notebook_id, body=given.body)
    db.add(note)
    db.commit()
    cached.delete(count_key(notebook_id))
    return {"id": note.id, "body": note.body}


@app.get("/notebooks/{notebook_id}/count")
def note_count(notebook_id: int, db: SessionDep, cached: CacheDep) -> dict[str, object]:
    """The notebook's number of notes, from the cache when it holds it."""
    hit = cached.get(count_key(notebook_id))
    if hit is not None:
        return {"count": int(hit), "cached": True}
    counted = db.scalar(select(func.count()).where(Note.notebook_id == notebook_id)) or 0
    cached.set(count_key(notebook_id), counted, ex=COUNT_SECONDS)
    return {"count": counted, "cached": False}
