"""SQLite: a DB-API module the suite loads (`SQLITE_MODULE`); no server to start."""

from __future__ import annotations

from scripts.backends.base import Backend

VERSION_ATTRIBUTE = "sqlite_version"
"""What an SQLite DB-API module reports its library version in."""


class Sqlite(Backend):
    name = "sqlite"
    display_name = "SQLite"
    role = "database"


BACKEND = Sqlite()
