"""Property-based fuzzing of the API with schemathesis, from the app's own OpenAPI document: over every
operation, as the admin's all-scope token, no answer is a 5xx and every answer fits its documented schema.
A bounded number of examples per operation keeps it to seconds (raise FUZZ_EXAMPLES to dig deeper)."""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.identity_models import RunRequest
from ms_prcs.service.launch import ENDED
from tests.service.conftest import World

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
SLOW = {("POST", "/api/v1/runs"): 2}
"""Starting a run starts a process: a few examples are enough."""


@pytest.mark.slow
def test_no_operation_answers_5xx_or_outside_its_schema(app: FastAPI, world: World, session: Session) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {world.tokens['full']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 45
    for operation in operations:
        examples = SLOW.get((operation.method.upper(), operation.path), EXAMPLES)

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            case.validate_response(
                response, checks=[checks.not_a_server_error, checks.response_schema_conformance]
            )

        fuzz()
    deadline = time.monotonic() + 60  # runs the fuzzer started end before the database goes
    while session.scalar(select(RunRequest.id).where(RunRequest.state.not_in(ENDED))) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.2)
        session.expire_all()
