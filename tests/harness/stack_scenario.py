"""A run with stacks and interpreters, rendered without running a cell, for the report's tests.

sqlite-stdlib          passed   the default cell: SQLAlchemy 2.1.9, Celery 5.5.3 + kombu
                                5.5.4, redis 6.4.0, Python 3.11.9
sqlalchemy-2.0         passed   SQLAlchemy 2.0.44
postgres-16            failed   psycopg2-binary 2.9.11 (the default driver on PostgreSQL);
                                its server fails a test, which says nothing of the libraries
postgres-16+psycopg3   passed   psycopg 3.3.9 on the same server: psycopg2 is judged by
                                postgres-16 beside it
redis-6.0              failed   kombu 5.5.4's ZRANGE … BYSCORE needs Redis 6.2
redis-6.0+celery-5.3   passed   Celery 5.3.6 + kombu 5.3.7 on Redis 6.0
py3.12                 passed   Python 3.12.11
py3.13                 failed   Python 3.13.5
"""

from __future__ import annotations

from pathlib import Path

from scripts.report.build import Written, write_report
from scripts.results import Axis, CellResult, CellState, write_result
from tests.harness.result_factories import cell_result

MATRIX = """
[matrix]
strategy = "axis"
default-database = "sqlite-stdlib"
default-cache = "redis-7.0"

[database.sqlite.stdlib]
library = { module = "sqlite3" }

[database.postgres.16]
url = "postgresql+psycopg2://postgres@127.0.0.1:1/postgres"

[cache.redis."7.0"]
url = "redis://127.0.0.1:1/0"

[cache.redis."6.0"]
url = "redis://127.0.0.1:1/0"
"""

SQLITE, POSTGRES = Axis("sqlite", "stdlib"), Axis("postgres", "16")
REDIS_7, REDIS_6 = Axis("redis", "7.0"), Axis("redis", "6.0")
DEFAULT_STACK = {"sqlalchemy": "2.1", "celery": "5.5", "redispy": "6"}
DEFAULT_ENVIRONMENT = {
    "python": "3.11.9",
    "platform": "linux",
    "sqlalchemy": "2.1.9",
    "fastapi": "0.115.6",  # the same in every cell: no axis, no line
    "celery": "5.5.3",
    "kombu": "5.5.4",
    "redis": "6.4.0",
}
KOMBU_REASON = (
    "1 test failed: tests/integration/test_tasks.py::test_task_runs —"
    " redis.exceptions.ResponseError: syntax error (ZRANGE … BYSCORE REV needs Redis 6.2)"
)


def stack_cell(
    cell: str,
    state: CellState,
    database: Axis,
    cache: Axis,
    *,
    stack: dict[str, str] | None = None,
    interpreter: str = "3.11",
    installed: dict[str, str] | None = None,
    reason: str | None = None,
) -> CellResult:
    result = cell_result(cell, state, reason=reason)
    result.axes = {"database": database, "cache": cache}
    result.stack = {**DEFAULT_STACK, **(stack or {})}
    result.interpreter = interpreter
    result.environment = {**DEFAULT_ENVIRONMENT, **(installed or {})}
    return result


PSYCOPG2 = {"driver": "psycopg2"}
CELLS = (
    stack_cell("sqlite-stdlib", "passed", SQLITE, REDIS_7),
    stack_cell(
        "sqlalchemy-2.0",
        "passed",
        SQLITE,
        REDIS_7,
        stack={"sqlalchemy": "2.0"},
        installed={"sqlalchemy": "2.0.44"},
    ),
    stack_cell(
        "postgres-16",
        "failed",
        POSTGRES,
        REDIS_7,
        stack=PSYCOPG2,
        installed={"psycopg2-binary": "2.9.11"},
        reason="1 test failed: tests/integration/test_users_api.py::test_collation",
    ),
    stack_cell(
        "postgres-16+psycopg3",
        "passed",
        POSTGRES,
        REDIS_7,
        stack={"driver": "psycopg3"},
        installed={"psycopg": "3.3.9"},
    ),
    stack_cell("redis-6.0", "failed", SQLITE, REDIS_6, reason=KOMBU_REASON),
    stack_cell(
        "redis-6.0+celery-5.3",
        "passed",
        SQLITE,
        REDIS_6,
        stack={"celery": "5.3"},
        installed={"celery": "5.3.6", "kombu": "5.3.7"},
    ),
    stack_cell(
        "py3.12", "passed", SQLITE, REDIS_7, interpreter="3.12", installed={"python": "3.12.11"}
    ),
    stack_cell(
        "py3.13",
        "failed",
        SQLITE,
        REDIS_7,
        interpreter="3.13",
        installed={"python": "3.13.5"},
        reason="1 test failed: tests/integration/test_auth.py::test_login",
    ),
)


def stack_report(root: Path) -> Written:
    """The cells above written as results and rendered into `root/reports`."""
    matrix_file = root / "matrix.toml"
    matrix_file.write_text(MATRIX, encoding="utf-8")
    for result in CELLS:
        write_result(result, root / "results" / result.cell)
    return write_report(
        [root / "results"], root / "reports", matrix_file=matrix_file, previous=None, history=None
    )
