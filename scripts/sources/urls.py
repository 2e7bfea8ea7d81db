"""Server URLs: `$VARS` expansion, hiding passwords, the suite's driver for a bare scheme."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>\w+)\}|(?P<plain>\w+))")


class UnsetVariableError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def expand(url: str, environ: dict[str, str] | None = None) -> str:
    """`url` with `$NAME` / `${NAME}` replaced; `UnsetVariableError` for an unset (or empty) one."""
    env = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        found = env.get(name)
        if not found:
            raise UnsetVariableError(name)
        return found

    return _VARIABLE.sub(value, url)


def hide_password(url: str) -> str:
    """`url` with its password replaced by `***` (for logs and provenance)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def with_suite_driver(url: str, driver_schemes: Mapping[str, str]) -> str:
    """`url` with a bare scheme replaced by the suite's driver scheme (the backend's
    `driver_schemes`); the rest kept as given.

    `mysql://u@h/test` -> `mysql+pymysql://u@h/test`; `valkey://h:6379/0` -> `redis://h:6379/0`.
    """
    scheme, separator, rest = url.partition("://")
    return f"{driver_schemes.get(scheme, scheme)}{separator}{rest}"


def with_scheme(url: str, scheme: str) -> str:
    """`url` with its scheme replaced: `postgresql+psycopg2://u@h/db` -> `postgresql+psycopg://u@h/db`
    (a stack's driver hands the suite its database so)."""
    _, separator, rest = url.partition("://")
    return f"{scheme}{separator}{rest}"
