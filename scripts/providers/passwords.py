"""Passwords for throwaway servers: a new one for every server started (the hashed forms the
servers store, so that not even a server's own log can show one, are the backends').

A password lives only in the URL handed to the suite (and in a 0600 file in the server's own
0700 folder, for Redis). Anything shown or written (provenance, results, reports, errors)
goes through `scripts.providers.urls.hide_password` first.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from scripts.providers.accounts import Account, give_to

PASSWORD_BYTES = 24  # 32 URL-safe characters: safe in URLs, config files and SQL literals
REDACTED = "***"


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def write_secret_file(path: Path, text: str, account: Account | None) -> None:
    """`text` in a new file only `account` (the server) can read: mode 0600, its owner."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    give_to(account, path)


def passwords_in(urls: Iterable[str]) -> list[str]:
    """The passwords the URLs carry."""
    found = []
    for url in urls:
        try:
            password = urlsplit(url).password
        except ValueError:
            continue
        if password:
            found.append(password)
    return found


def redact_files(folder: Path, passwords: Iterable[str]) -> None:
    """Replace each password with `***` in every file of `folder` (the suite's own output
    shows connection arguments when a connection fails)."""
    wanted = [p for p in passwords if p]
    if not wanted:
        return
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        cleaned = text
        for password in wanted:
            cleaned = cleaned.replace(password, REDACTED)
        if cleaned != text:
            path.write_text(cleaned, encoding="utf-8", errors="surrogateescape")
