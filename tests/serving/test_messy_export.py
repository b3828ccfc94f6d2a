"""The service on a model of a messy single-table export (German CSV, the CRM's own column names and words),
built as ``leadq serve`` builds it (``pipelines.serve.build_service``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from pipelines.score import ScoreOptions, run_score
from pipelines.serve import build_service
from pipelines.settings import Settings
from serving.schemas import UNSEEN_WARNING
from tests.builders import AUTH, KEYS, logged_rows, messy_export, wait_until

LEAD = {
    "lead_id": "00Q-1",
    "created_at": "2026-11-02T09:30:00+01:00",
    "Email": "anna.mueller@acme-logistik.de",
    "Job Title": "Leiterin Einkauf",
    "No. of Employees": "1.200",
    "Industry": "  MANUFACTURING ",
    "Lead Source": "webinar",
    "Website Visits": 7,
    "Demo Requested": "ja",
    "Description": "Bitte Rückruf wegen Preisen",
    "Interests": "crm ; ERP",
}


@pytest.fixture
def messy_settings(registry: Settings, messy_version: str, log_url: str) -> Settings:
    """The registry's settings serving the messy export's version (by number) with a scoring log per test."""
    serving = registry.serving.model_copy(
        update={"model_alias": None, "model_version": messy_version, "scoring_log_url": log_url}
    )
    return registry.model_copy(update={"serving": serving})


@pytest.fixture
def client(messy_settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_service(messy_settings, KEYS)) as test_client:
        yield test_client


@pytest.mark.slow
def test_a_lead_in_the_exports_fields_and_words_is_scored_with_reasons(client: TestClient, messy_version: str) -> None:
    response = client.post("/v1/leads/score", json=LEAD, headers=AUTH)

    assert response.status_code == 200, response.text
    body = response.json()
    assert 0 < body["probability"] < 1
    assert body["model"]["version"] == messy_version
    assert body["reasons_for"] or body["reasons_against"]
    assert body["warnings"] == []
    assert "anna.mueller" not in response.text


@pytest.mark.slow
def test_missing_fields_and_the_synthetic_exports_names_are_named_in_warnings(client: TestClient) -> None:
    partial = {"lead_id": "00Q-2", "Industry": "Software", "company_size": 800}

    body = client.post("/v1/leads/score", json=partial, headers=AUTH).json()

    optional = "missing optional field(s), scored as unknown: Email, Job Title, No. of"
    assert any(warning.startswith(optional) for warning in body["warnings"])
    assert "ignored 1 unknown field(s): company_size" in body["warnings"]


@pytest.mark.slow
def test_the_openapi_document_shows_the_exports_fields_by_role(client: TestClient) -> None:
    properties = client.get("/openapi.json").json()["components"]["schemas"]["LeadIn"]["properties"]

    # lead_id, created_at, then the export columns in the mapping's order, then a lead's raw activities
    assert list(properties) == [*LEAD, "activities"]
    assert "(count)" in properties["No. of Employees"]["description"]
    assert "(text)" in properties["Description"]["description"]
    assert "never stored" in properties["Email"]["description"]
    assert "(multi_select)" in properties["Interests"]["description"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Website Visits", -2),
        ("No. of Employees", "-5"),
        ("Demo Requested", "vielleicht"),
        ("Description", "x" * 2_001),
        ("Industry", ["a", "b"]),
        ("lead_id", ""),
    ],
)
def test_bad_values_are_refused_naming_the_field(client: TestClient, field: str, value: object) -> None:
    response = client.post("/v1/leads/score", json={**LEAD, field: value}, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == field


@pytest.mark.slow
def test_a_batch_is_scored_and_logged_without_pii(messy_settings: Settings) -> None:
    leads = [{**LEAD, "lead_id": f"00Q-{i}"} for i in range(5)]

    with TestClient(build_service(messy_settings, KEYS)) as client:  # leaving shuts down: the log drains
        response = client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 5
    with sa.create_engine(messy_settings.serving.scoring_log_url or "").connect() as connection:
        rows = connection.execute(sa.text("SELECT lead_id, features, reasons FROM scores")).all()
    assert [row.lead_id for row in rows] == [f"00Q-{i}" for i in range(5)]
    assert json.loads(rows[0].features)["email_is_freemail"] == 0.0
    assert not any("anna.mueller" in row.features or "acme-logistik" in row.reasons for row in rows)


@pytest.mark.slow
def test_a_lead_sent_as_its_export_row_is_read_by_the_exports_id_and_date_columns(
    client: TestClient, log_url: str
) -> None:
    row = {key: value for key, value in LEAD.items() if key not in ("lead_id", "created_at")}
    # the whole row: the outcome and sales' status too, which the mapping names and the model never reads
    row |= {"Lead ID": "00Q-9", "Created Date": "2026-11-02T09:30:00+01:00", "Converted": "1", "Lead Status": "Working"}
    unseen = {**row, "Lead ID": "00Q-10", "Created Date": "", "Industry": "Asteroid Mining"}

    response = client.post("/v1/leads/score", json=row, headers=AUTH)
    other = client.post("/v1/leads/score", json=unseen, headers=AUTH)

    assert response.status_code == 200, response.text
    assert response.json()["lead_id"] == "00Q-9"
    assert response.json()["warnings"] == []  # no "ignored unknown field(s): Converted, Lead Status"
    assert other.status_code == 200, other.text  # an empty creation date: none, as in the export
    assert other.json()["warnings"] == [f"Industry: {UNSEEN_WARNING}"]  # by the export's name, as sent
    wait_until(lambda: len(logged_rows(log_url)) == 2, "the scores in the log's database")
    [created] = [row["lead_created_at"] for row in logged_rows(log_url) if row["lead_id"] == "00Q-9"]
    assert str(created).startswith("2026-11-02 08:30")  # the lead's own creation, in UTC: its audit quarter and SLA


@pytest.mark.slow
def test_a_multi_select_fields_options_are_read_in_any_order_case_and_spacing(messy_settings: Settings) -> None:
    spellings = ["crm ; ERP", "ERP;CRM", " erp ;  Crm ", "ERP; CRM; Sonstiges"]  # an option the model lacks: left out
    leads = [{**LEAD, "lead_id": f"00Q-{i}", "Interests": text} for i, text in enumerate(spellings)]
    alone = {**LEAD, "lead_id": "00Q-9", "Interests": "BI"}

    with TestClient(build_service(messy_settings, KEYS)) as client:
        batch = client.post("/v1/leads/score-batch", json={"leads": [*leads, alone]}, headers=AUTH)
        too_long = client.post("/v1/leads/score", json={**LEAD, "Interests": "ERP; " * 2000}, headers=AUTH)
    with sa.create_engine(messy_settings.serving.scoring_log_url or "").connect() as connection:
        logged = dict(connection.execute(sa.text("SELECT lead_id, features FROM scores")).all())

    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert len({result["probability"] for result in results[:4]}) == 1  # one choice, four spellings
    assert results[4]["probability"] != results[0]["probability"]
    chosen = {lead_id: json.loads(features) for lead_id, features in logged.items()}
    flags = ("interests_erp", "interests_crm", "interests_bi")
    assert [chosen["00Q-0"][flag] for flag in flags] == [1.0, 1.0, 0.0]
    assert [chosen["00Q-9"][flag] for flag in flags] == [0.0, 0.0, 1.0]
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"][0]["field"] == "Interests"


@pytest.mark.slow
def test_leadq_score_reads_a_multi_select_column_as_the_service_does(
    messy_settings: Settings, messy_version: str, synthetic_crm: Any, tmp_path: Path
) -> None:
    rows = messy_export(synthetic_crm).head(60)
    assert rows["Interests"].str.contains(";").sum() >= 5  # several options in one cell, as the CRM writes them
    export, out = tmp_path / "export.csv", tmp_path / "scores.csv"
    rows.to_csv(export, sep=";", index=False)

    options = ScoreOptions(out=out, rejects=tmp_path / "rejects.csv", fmt="csv", version=messy_version, chunk_size=16)
    run_score(messy_settings, export, options)
    as_written = pd.read_csv(export, sep=";", dtype=str, keep_default_na=False)
    sent = as_written.drop(columns="Created Date").to_dict(orient="records")  # the service takes ISO times
    with TestClient(build_service(messy_settings, KEYS)) as client:
        answer = client.post("/v1/leads/score-batch", json={"leads": sent}, headers=AUTH)

    assert answer.status_code == 200, answer.text
    served = answer.json()["results"]
    scores = pd.read_csv(out, dtype={"Lead ID": str})
    assert scores["Lead ID"].tolist() == [lead["lead_id"] for lead in served]
    np.testing.assert_allclose(scores["leadq_probability"], [lead["probability"] for lead in served], rtol=1e-12)
    assert scores["leadq_grade"].tolist() == [lead["grade"] for lead in served]
    labels = [lead["reasons_for"][0]["label"] if lead["reasons_for"] else np.nan for lead in served]
    assert scores["leadq_reason_1"].tolist() == labels
