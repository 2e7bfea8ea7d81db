"""Notebooks and notes, through the plugin's rolled-back session and Redis client."""

from __future__ import annotations

import redis
from notesvc.main import count_key
from notesvc.models import Note, Notebook
from sqlalchemy import select
from sqlalchemy.orm import Session


def test_a_notebook_holds_its_notes(tables: None, db_session: Session) -> None:
    notebook = Notebook(title="groceries", notes=[Note(body="milk"), Note(body="bread")])
    db_session.add(notebook)
    db_session.commit()  # a SAVEPOINT released: rolled back after the test
    bodies = db_session.scalars(select(Note.body).where(Note.notebook_id == notebook.id))
    assert sorted(bodies) == ["bread", "milk"]


def test_each_test_starts_without_the_last_ones_rows(tables: None, db_session: Session) -> None:
    assert db_session.scalars(select(Notebook).where(Notebook.title == "groceries")).all() == []


def test_the_cache_holds_a_count_until_it_expires(redis_client: redis.Redis) -> None:
    redis_client.set(count_key(1), 3, ex=60)
    assert int(redis_client.get(count_key(1)) or 0) == 3
    assert 0 < redis_client.ttl(count_key(1)) <= 60
