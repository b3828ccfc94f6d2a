"""Property-based requests generated from the service's own OpenAPI schema: no input may cause a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from pipelines.settings import Settings
from tests.builders import AUTH, served_app


@pytest.fixture(scope="module")
def service(registry: Settings) -> FastAPI:
    return served_app(registry, max_batch=20)  # loaded now: schemathesis calls the app without its lifespan


@pytest.mark.slow
def test_no_input_causes_a_server_error(service: FastAPI) -> None:
    # Hypothesis driven per operation here, because schemathesis' pytest plugin does not run under pytest 9.
    schema = schemathesis.openapi.from_asgi("/openapi.json", service)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.path for operation in operations} >= {"/v1/leads/score", "/v1/leads/score-batch"}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=AUTH)

            assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"
            if response.status_code >= 400:
                assert "error" in response.json() or "status" in response.json()

        no_server_error()
