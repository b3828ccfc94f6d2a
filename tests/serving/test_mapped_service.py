"""The service on a model trained on a mapped CRM export: requests in the export's own fields, by their names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pipelines.mapped_training import run_mapped_training

from pipelines.demo.synthetic import generate_crm, write_crm
from pipelines.settings import Settings
from pipelines.training import run_training
from serving.app import build_service
from tests.pipelines.test_mapped_training import write_messy_export
from tests.serving.conftest import AUTH, KEYS, registry_settings

LEAD = {
    "lead_id": "00Q-1",
    "created_at": "2026-11-02T09:30:00+01:00",
    "Email": "anna.mueller@acme-logistik.de",
    "No. of Employees": "1.200",
    "Industry": "  MANUFACTURING ",
    "Lead Source": "webinar",
    "Website Visits": 7,
    "Demo Requested": "ja",
    "Description": "Bitte Rückruf wegen Preisen",
}


@pytest.fixture(scope="module")
def mapped_registry(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("mapped-service")
    settings = registry_settings(folder)
    run_mapped_training(settings, *write_messy_export(folder, 8_000))
    return settings


@pytest.fixture
def client(mapped_registry: Settings) -> Iterator[TestClient]:
    with TestClient(build_service(mapped_registry, KEYS)) as test_client:
        yield test_client


@pytest.mark.slow
def test_a_lead_in_the_exports_fields_is_scored_with_reasons(client: TestClient) -> None:
    response = client.post("/v1/leads/score", json=LEAD, headers=AUTH)

    assert response.status_code == 200, response.text
    body = response.json()
    assert 0 < body["probability"] < 1
    assert body["model"]["version"] == "1"
    assert body["reasons_for"] or body["reasons_against"]
    assert body["warnings"] == []
    assert "anna.mueller" not in response.text


@pytest.mark.slow
def test_missing_and_contract_fields_are_named_in_warnings(client: TestClient) -> None:
    partial = {"lead_id": "00Q-2", "Industry": "Software", "company_size": 800}

    body = client.post("/v1/leads/score", json=partial, headers=AUTH).json()

    assert "missing optional field(s), scored as unknown: Email, No. of Employees" in body["warnings"][0]
    assert "ignored unknown field(s): company_size" in body["warnings"]


@pytest.mark.slow
def test_the_openapi_schema_documents_the_export_fields(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    properties = schema["components"]["schemas"]["MappedLeadIn"]["properties"]
    assert {"lead_id", "created_at", "No. of Employees", "Demo Requested"} <= set(properties)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("field", "value"),
    [("Website Visits", float("inf")), ("Description", "x" * 2_001), ("lead_id", ""), ("Industry", ["a", "b"])],
)
def test_bad_values_are_refused_naming_the_field(client: TestClient, field: str, value: object) -> None:
    response = client.post(
        "/v1/leads/score",
        content=json.dumps({**LEAD, field: value}).replace("Infinity", "1e999"),
        headers={**AUTH, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert field in response.json()["error"]["message"]


@pytest.mark.slow
def test_a_batch_is_scored_and_logged_without_pii(mapped_registry: Settings) -> None:
    leads = [{**LEAD, "lead_id": f"00Q-{i}"} for i in range(5)]

    with TestClient(build_service(mapped_registry, KEYS)) as client:  # leaving shuts down: the log drains
        response = client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 5
    engine = sa.create_engine(mapped_registry.serving.scoring_log_url or "")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT lead_id, features, reasons FROM scores")).all()
    assert {row.lead_id for row in rows} >= {f"00Q-{i}" for i in range(5)}
    assert not any("anna.mueller" in row.features or "anna.mueller" in row.reasons for row in rows)


@pytest.mark.slow
def test_a_new_version_with_other_input_fields_is_not_swapped_in(tmp_path: Path) -> None:
    settings = registry_settings(tmp_path)
    run_mapped_training(settings, *write_messy_export(tmp_path, 6_000))
    with TestClient(build_service(settings, KEYS)) as client:
        write_crm(generate_crm(20_000, seed=13), settings.data.leads.parent, "parquet")
        contract = run_training(settings)
        mlflow.MlflowClient(settings.mlflow.tracking_uri).set_registered_model_alias(
            settings.mlflow.registered_model, "champion", contract.registered.version
        )

        reloaded = client.post("/v1/admin/reload", headers=AUTH)
        still = client.post("/v1/leads/score", json=LEAD, headers=AUTH)

    assert reloaded.status_code == 409
    assert reloaded.json()["error"]["code"] == "model_inputs_changed"
    assert still.json()["model"]["version"] == "1"
