"""The fuzz group: schemathesis checks every operation and the links between them, bounded.

In-process against the ASGI app, inside the test's rolled-back transaction on this worker's
database, so every matrix cell fuzzes the API against its own server version. Examples are
few and derived from the test names (repeatable); `nox -s fuzz` is the long, random run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import redis
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.orm import Session

from app.main import app
from tests.support.asgi import without_lifespan
from tests.support.scenarios import rolled_back_scenario

# Hypothesis keeps caches in ./.hypothesis: a scratch folder instead, never the checkout.
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "fastapi-compat-matrix-hypothesis"))

IN_PROCESS_APP = without_lifespan(app)
CONFIG_FILE = Path(__file__).parents[1] / "support" / "schemathesis.toml"
EXAMPLES_PER_OPERATION = 8
STATEFUL_SCENARIOS = 10
STEPS_PER_SCENARIO = 5

BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,  # no example database: every run starts from the test names
    suppress_health_check=list(HealthCheck),
)

pytestmark = pytest.mark.fuzz


@pytest.fixture
def api_schema(client: TestClient) -> OpenApiSchema:
    """The app's schema, its calls served in-process by the app (in the test's transaction)."""
    config = SchemathesisConfig.from_path(CONFIG_FILE)
    return schemathesis.openapi.from_asgi("/openapi.json", IN_PROCESS_APP, config=config)


OPERATIONS = [
    (method.upper(), path) for path, methods in app.openapi()["paths"].items() for method in methods
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_each_operation(
    api_schema: OpenApiSchema, auth_headers: dict[str, str], method: str, path: str
) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @BOUNDED
    def conforms(case: Case) -> None:
        case.call_and_validate(headers=auth_headers)

    conforms()


def test_fuzz_stateful_links(
    api_schema: OpenApiSchema, db_session: Session, redis_client: redis.Redis
) -> None:
    connection = db_session.connection()

    class EachScenarioFromTheSameState(api_schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self._scenario = rolled_back_scenario(connection, redis_client)
            self._headers = self._scenario.__enter__()

        def teardown(self) -> None:
            self._scenario.__exit__(None, None, None)

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": self._headers}

    EachScenarioFromTheSameState.run(
        settings=settings(
            BOUNDED,
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STEPS_PER_SCENARIO,
            phases=[Phase.generate],
        )
    )
