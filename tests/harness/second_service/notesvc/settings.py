"""The service's settings, read from the environment when the app starts (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DATABASE_ENV = "NOTES_DATABASE_URL"
CACHE_ENV = "NOTES_CACHE_URL"


@dataclass(frozen=True)
class Settings:
    database_url: str
    cache_url: str

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            database_url=os.environ.get(DATABASE_ENV, "sqlite:///./notes.db"),
            cache_url=os.environ.get(CACHE_ENV, "redis://127.0.0.1:6379/0"),
        )
