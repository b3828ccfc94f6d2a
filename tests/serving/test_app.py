"""The scoring service over HTTP (FastAPI's test client, real registry, real model)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from pipelines.settings import Settings
from serving.app import ServiceConfig, create_app, parse_api_keys
from tests.serving.conftest import ANALYST_KEY, AUTH, KEYS, lead, make_holder


def test_score_one_lead(client: TestClient, registry: Settings) -> None:
    response = client.post("/v1/leads/score", json=lead(), headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert body["lead_id"] == "CRM-1"
    assert 0 < body["probability"] < 1
    assert body["score"] == round(body["probability"] * 100)
    assert body["is_mql"] == (body["probability"] >= body["threshold"])
    assert body["grade"][0] in "ABCD"
    assert body["grade"][1] in "1234"
    assert body["priority"] == "P1"
    assert body["respond_within_hours"] == 4
    assert body["reasons_for"][0]["label"]
    assert body["model"] == {"name": registry.mlflow.registered_model, "version": "1"}
    assert body["warnings"] == ["missing optional field(s), scored as unknown: campaign"]


def test_service_scores_like_the_registered_model(client: TestClient, registry: Settings) -> None:
    scorer = make_holder(registry)
    scorer.reload()
    request = lead(campaign="2025Q1-seo", demo_requested=False)
    frame = pd.DataFrame([{k: v for k, v in request.items() if k != "lead_id"}])

    body = client.post("/v1/leads/score", json=request, headers=AUTH).json()

    expected = scorer.current.scorer.explain(frame).iloc[0]
    assert body["probability"] == pytest.approx(expected["probability"], abs=1e-12)
    assert body["grade"] == expected["grade"]
    assert [r["feature"] for r in body["reasons_for"]] == [r["feature"] for r in expected["reasons_for"]]


def test_warnings_name_unseen_categories_missing_and_unknown_fields(client: TestClient) -> None:
    body = client.post(
        "/v1/leads/score", json=lead(industry="Asteroid Mining", crm_owner="someone", country=None), headers=AUTH
    ).json()

    assert "industry: value not seen in training, scored as unknown" in body["warnings"]
    assert "missing optional field(s), scored as unknown: country, campaign" in body["warnings"]
    assert "ignored unknown field(s): crm_owner" in body["warnings"]


def test_a_lead_with_only_an_id_is_scored(client: TestClient) -> None:
    response = client.post("/v1/leads/score", json={"lead_id": "bare"}, headers=AUTH)

    assert response.status_code == 200
    assert response.json()["warnings"][0].startswith("missing optional field(s)")


def test_batch_scores_like_single_calls(client: TestClient) -> None:
    leads = [lead(lead_id=f"B{i}", company_size=50 * (i + 1), demo_requested=i % 2 == 0) for i in range(10)]

    batch = client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH)
    singles = [client.post("/v1/leads/score", json=one, headers=AUTH).json() for one in leads]

    assert batch.status_code == 200
    results = batch.json()["results"]
    assert [r["lead_id"] for r in results] == [f"B{i}" for i in range(10)]
    np.testing.assert_allclose([r["probability"] for r in results], [s["probability"] for s in singles], atol=1e-12)


def test_batch_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/v1/leads/score-batch", json={"leads": [lead()] * 51}, headers=AUTH)

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "batch_too_large",
        "message": "at most 50 leads per call, got 51",
        "details": [],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lead(company_size="big"), "company_size"),
        (lead(company_size=1e12), "company_size"),
        (lead(website_visits=-1), "website_visits"),
        (lead(demo_requested="maybe"), "demo_requested"),
        ({k: v for k, v in lead().items() if k != "lead_id"}, "lead_id"),
        (lead(lead_id=""), "lead_id"),
        (lead(job_title="x" * 500), "job_title"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(client: TestClient, body: dict[str, object], field: str) -> None:
    response = client.post("/v1/leads/score", json=body, headers=AUTH)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [detail["field"] for detail in error["details"]] == [field]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_422(client: TestClient, literal: str) -> None:
    content = json.dumps(lead()).replace('"website_visits": 5', f'"website_visits": {literal}')

    response = client.post("/v1/leads/score", content=content, headers={**AUTH, "content-type": "application/json"})

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "website_visits"


@pytest.mark.parametrize("route", ["/v1/leads/score", "/v1/leads/score-batch"])
def test_malformed_json_is_422(client: TestClient, route: str) -> None:
    response = client.post(route, content=b'{"lead_id": ', headers={**AUTH, "content-type": "application/json"})

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body"


@pytest.mark.parametrize("body", [{"leads": []}, {"leads": "all"}, {"leads": [{"company_size": 5}]}, []])
def test_malformed_batches_are_422(client: TestClient, body: object) -> None:
    response = client.post("/v1/leads/score-batch", json=body, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_missing_key_is_401_and_wrong_key_403(client: TestClient) -> None:
    missing = client.post("/v1/leads/score", json=lead())
    wrong = client.post("/v1/leads/score", json=lead(), headers={"X-API-Key": "not-the-key"})

    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "forbidden"


def test_every_named_key_is_accepted_and_named_in_the_log(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="leadq.serving"):
        response = client.post("/v1/leads/score", json=lead(), headers={"X-API-Key": ANALYST_KEY})

    assert response.status_code == 200
    assert "for analyst" in caplog.text


@pytest.mark.parametrize("route", ["/healthz", "/readyz", "/metrics"])
def test_health_endpoints_are_open(client: TestClient, route: str) -> None:
    assert client.get(route).status_code == 200


def test_model_info(client: TestClient) -> None:
    info = client.get("/v1/model", headers=AUTH).json()

    assert info["version"] == "1"
    assert info["alias"] == "champion"
    assert info["threshold_policy"] == "capacity"
    assert info["test_quarters"]
    assert 0.5 < info["test_metrics"]["test_roc_auc"] <= 1


def test_metrics_count_requests_scores_and_mqls(client: TestClient) -> None:
    client.post("/v1/leads/score", json=lead(), headers=AUTH)
    client.post("/v1/leads/score", json=lead(company_size=-5), headers=AUTH)

    text = client.get("/metrics").text

    assert 'leadq_requests_total{method="POST",route="/v1/leads/score",status="200"} 1.0' in text
    assert 'leadq_requests_total{method="POST",route="/v1/leads/score",status="422"} 1.0' in text
    assert 'leadq_scores_total{model_version="1"} 1.0' in text
    assert "leadq_request_seconds_bucket" in text
    assert "leadq_mqls_total" in text


def test_scoring_log_keeps_every_score_without_pii(
    registry: Settings, log_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    email = "very.private.person@secret-domain.example"
    app = create_app(make_holder(registry), ServiceConfig(api_keys=KEYS, scoring_log_url=log_url))
    with caplog.at_level(logging.DEBUG), TestClient(app) as client:
        created = "2026-10-05T09:30:00+02:00"
        client.post("/v1/leads/score", json=lead(lead_id="P1", email=email, created_at=created), headers=AUTH)
        leads = [lead(lead_id=f"P{i}", email=email) for i in range(2, 32)]
        client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH)

    engine = sa.create_engine(log_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM scores ORDER BY id")).mappings().all()
    assert [row["lead_id"] for row in rows] == [f"P{i}" for i in range(1, 32)]
    assert rows[0]["model_version"] == "1"
    assert str(rows[0]["lead_created_at"]).startswith("2026-10-05 07:30:00")  # kept in UTC
    assert rows[1]["lead_created_at"] is None
    assert all(row["respond_within_hours"] is None or row["respond_within_hours"] > 0 for row in rows)
    assert json.loads(rows[0]["features"])["is_freemail"] == 0.0
    assert json.loads(rows[0]["reasons"])["for"]
    dump = json.dumps([dict(row) for row in rows], default=str)
    assert email not in dump
    assert "secret-domain" not in dump
    assert email not in caplog.text


def test_service_refuses_to_start_without_keys(registry: Settings) -> None:
    with pytest.raises(ValueError, match="no API key configured"):
        create_app(make_holder(registry), ServiceConfig(api_keys={}))


def test_insecure_dev_mode_serves_without_keys(registry: Settings) -> None:
    app = create_app(make_holder(registry), ServiceConfig(api_keys={}, allow_no_auth=True))
    with TestClient(app) as client:
        assert client.post("/v1/leads/score", json=lead()).status_code == 200


def test_api_keys_are_parsed_and_malformed_entries_named() -> None:
    assert parse_api_keys("crm:abcdefgh12, analyst : zyxwvuts98") == {"crm": "abcdefgh12", "analyst": "zyxwvuts98"}
    assert parse_api_keys(None) == {}
    with pytest.raises(ValueError, match="entry 2: expected name:key"):
        parse_api_keys("crm:abcdefgh12,nokey")
    with pytest.raises(ValueError, match="at least 8 characters"):
        parse_api_keys("crm:short")


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/v2/nothing", headers=AUTH)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "http_error"


@pytest.mark.parametrize("created_at", ["1900-01-01T00:00:00", "not a date"])
def test_implausible_creation_time_is_422_naming_the_field(client: TestClient, created_at: str) -> None:
    response = client.post("/v1/leads/score", json=lead(created_at=created_at), headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "created_at"


def test_creation_time_is_a_known_field_not_a_warning(client: TestClient) -> None:
    response = client.post("/v1/leads/score", json=lead(created_at="2026-10-05T09:30:00Z"), headers=AUTH)

    assert response.status_code == 200
    assert not any("created_at" in warning for warning in response.json()["warnings"])
