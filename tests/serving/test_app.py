"""The scoring service over HTTP (FastAPI's test client, a real registry, the model trained on the synthetic export)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from urllib.parse import urlparse

import mlflow
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from pipelines.settings import Settings
from pipelines.training import TrainingOutcome, log_outcome
from serving.app import ServiceConfig, create_app
from serving.model_holder import ModelInputsChangedError
from tests.builders import (
    ADMIN,
    ANALYST_KEY,
    AUTH,
    KEYS,
    logged_rows,
    make_holder,
    point_alias,
    requests_of,
    scoring_request,
    served_app,
)

EXPORT_FIELDS = [name for name in scoring_request() if name != "lead_id"]


def test_score_one_lead(client: TestClient, registry: Settings) -> None:
    response = client.post("/v1/leads/score", json=scoring_request(), headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert body["lead_id"] == "CRM-1"
    assert 0 < body["probability"] < 1
    assert body["score"] == round(body["probability"] * 100)
    assert body["is_mql"] == (body["probability"] >= body["threshold"])
    assert body["grade"][0] in "ABCD"
    assert body["grade"][1] in "1234"
    assert body["priority"]
    assert body["reasons_for"][0]["label"]
    assert body["model"] == {"name": registry.mlflow.registered_model, "version": "1"}
    assert body["warnings"] == ["missing optional field(s), scored as unknown: campaign"]


def test_service_scores_export_rows_like_the_registered_model(
    client: TestClient, registry: Settings, synthetic_crm: object
) -> None:
    leads = synthetic_crm.leads.tail(20)  # type: ignore[attr-defined]
    holder = make_holder(registry)
    holder.reload()

    batch = client.post("/v1/leads/score-batch", json={"leads": requests_of(leads)}, headers=AUTH)
    single = client.post("/v1/leads/score", json=requests_of(leads.head(1))[0], headers=AUTH)

    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    expected = holder.current.scorer.explain(leads.drop(columns=["lead_id", "created_at"]))
    assert [r["lead_id"] for r in results] == leads["lead_id"].tolist()
    np.testing.assert_allclose([r["probability"] for r in results], expected["probability"], atol=1e-12)
    assert [r["grade"] for r in results] == expected["grade"].tolist()
    assert [[x["feature"] for x in r["reasons_for"]] for r in results] == [
        [x["feature"] for x in reasons] for reasons in expected["reasons_for"]
    ]
    assert single.json()["probability"] == pytest.approx(results[0]["probability"], abs=1e-12)
    assert not any("unknown field" in warning for r in results for warning in r["warnings"])


def test_the_exports_own_spellings_score_like_their_values(client: TestClient) -> None:
    plain = scoring_request(company_size=1200, demo_requested=True, webinar_attended=False, consent_tracking=True)
    spelled = scoring_request(company_size="1200", demo_requested="ja", webinar_attended=0, consent_tracking="yes")
    placeholders = scoring_request(company_size="N/A", demo_requested="Select")
    unknown = scoring_request(company_size=None, demo_requested=None)

    scores = [
        client.post("/v1/leads/score", json=body, headers=AUTH) for body in (plain, spelled, placeholders, unknown)
    ]

    assert [response.status_code for response in scores] == [200] * 4
    assert scores[0].json()["probability"] == pytest.approx(scores[1].json()["probability"], abs=1e-12)
    assert scores[2].json()["probability"] == pytest.approx(scores[3].json()["probability"], abs=1e-12)
    # a word for missing is named as missing, as a field left out is
    named = "missing optional field(s), scored as unknown: company_size, campaign"
    assert named in scores[2].json()["warnings"]
    # every training lead said whether it asked for a demo: without it the score may be far off, and that is said
    assert f"{EVERY_TRAINING_LEAD}: demo_requested" in scores[2].json()["warnings"]


def test_number_text_the_model_reads_no_number_from_is_scored_unknown_and_named(client: TestClient) -> None:
    unreadable = scoring_request(pages_per_visit="about three", time_on_site_s="7 min")
    unknown = scoring_request(pages_per_visit=None, time_on_site_s=7)

    scored, expected = (client.post("/v1/leads/score", json=body, headers=AUTH) for body in (unreadable, unknown))

    assert scored.status_code == 200  # as such text was read in training: unknown, not refused
    assert scored.json()["probability"] == pytest.approx(expected.json()["probability"], abs=1e-12)
    warnings = scored.json()["warnings"]
    assert "field(s) without a number the model can read, scored as unknown: pages_per_visit" in warnings
    assert "about three" not in scored.text


def test_warnings_name_unseen_categories_missing_and_unknown_fields_never_values(client: TestClient) -> None:
    body = scoring_request(industry="Asteroid Mining", crm_owner="Erika Mustermann", country=None)

    response = client.post("/v1/leads/score", json=body, headers=AUTH)

    warnings = response.json()["warnings"]
    assert "industry: value not seen in training, scored as unknown" in warnings
    assert "missing optional field(s), scored as unknown: country, campaign" in warnings
    assert "ignored 1 unknown field(s): crm_owner" in warnings
    assert "Erika" not in response.text
    assert "Asteroid" not in " ".join(warnings)


EVERY_TRAINING_LEAD = (
    "missing field(s) 99.5% or more of the training leads had, scored as unknown: the score may be far off without them"
)


def test_a_lead_with_only_an_id_is_scored_with_every_field_named_missing(client: TestClient) -> None:
    response = client.post("/v1/leads/score", json={"lead_id": "bare"}, headers=AUTH)

    assert response.status_code == 200
    every, optional = response.json()["warnings"]
    assert every.startswith(f"{EVERY_TRAINING_LEAD}: ")
    assert optional.startswith("missing optional field(s), scored as unknown: ")
    named = [*every.removeprefix(f"{EVERY_TRAINING_LEAD}: ").split(", "), *optional.split(": ")[-1].split(", ")]
    assert sorted(named) == sorted(EXPORT_FIELDS)
    assert "demo_requested" in every  # the synthetic export's yes/no fields are never empty


def test_batch_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/v1/leads/score-batch", json={"leads": [scoring_request()] * 51}, headers=AUTH)

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "batch_too_large",
        "message": "at most 50 leads per call, got 51",
        "details": [],
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("website_visits", -1),  # count
        ("company_size", "-3"),  # count as text
        ("company_size", "many"),
        ("company_size", True),  # a boolean is not a company size (issue 15)
        ("company_size", False),
        ("website_visits", True),
        ("pages_per_visit", True),  # numeric
        ("pages_per_visit", [3.2]),
        ("demo_requested", "maybe"),  # boolean
        ("demo_requested", 2),
        ("consent_tracking", "perhaps"),  # consent
        ("industry", ["Software", "Retail"]),  # categorical
        ("industry", True),
        ("industry", [[[["Software"]]]]),  # nested
        ("industry", "x" * 501),
        ("email", 12345),  # email
        ("email", "x" * 321),
        ("job_title", {"title": "CEO"}),  # job title
        ("lead_id", ""),
        ("lead_id", 12345.5),  # a whole JSON number is read as its text (a CRM's numeric id); no other number
        ("lead_id", True),
        ("created_at", "not a date"),
        ("created_at", 1_767_600_000),  # seconds or milliseconds? an ISO time says
        ("created_at", "1900-01-01T00:00:00"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(client: TestClient, field: str, value: object) -> None:
    response = client.post("/v1/leads/score", json=scoring_request(**{field: value}), headers=AUTH)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [detail["field"] for detail in error["details"]] == [field]
    assert field in error["message"]


def test_a_missing_lead_id_is_422(client: TestClient) -> None:
    body = {name: value for name, value in scoring_request().items() if name != "lead_id"}

    response = client.post("/v1/leads/score", json=body, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "lead_id"
    assert "the export's id column is sent under this name" in response.json()["error"]["details"][0]["message"]


def test_a_creation_time_in_the_exports_format_is_422_asking_for_iso_8601(client: TestClient) -> None:
    response = client.post("/v1/leads/score", json=scoring_request(created_at="14.03.2025"), headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {
            "field": "created_at",
            "message": "expected an ISO 8601 time such as 2026-10-05T09:30:00+02:00 (naive: UTC)",
        }
    ]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_422_naming_the_field(client: TestClient, literal: str) -> None:
    content = json.dumps(scoring_request()).replace('"pages_per_visit": 3.2', f'"pages_per_visit": {literal}')

    response = client.post("/v1/leads/score", content=content, headers={**AUTH, "content-type": "application/json"})

    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"field": "pages_per_visit", "message": "expected a finite number, not NaN or infinity"}
    ]


def test_errors_in_a_batch_name_the_lead_and_field_never_the_value(client: TestClient) -> None:
    leads = [scoring_request(lead_id="ok"), scoring_request(lead_id="bad", email="private.person@" + "x" * 320)]

    response = client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "leads.1.email"
    assert "private.person" not in response.text


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
    missing = client.post("/v1/leads/score", json=scoring_request())
    wrong = client.post("/v1/leads/score", json=scoring_request(), headers={"X-API-Key": "not-the-key"})

    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "forbidden"


def test_every_named_key_is_accepted_and_named_in_the_log(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="leadq.serving"):
        response = client.post("/v1/leads/score", json=scoring_request(), headers={"X-API-Key": ANALYST_KEY})

    assert response.status_code == 200
    assert "for analyst" in caplog.text


@pytest.mark.parametrize("route", ["/healthz", "/readyz", "/metrics"])
def test_health_endpoints_are_open(client: TestClient, route: str) -> None:
    assert client.get(route).status_code == 200


def test_readiness_names_the_served_version(client: TestClient) -> None:
    assert client.get("/readyz").json() == {"status": "ok", "model_version": "1"}


def test_model_info(client: TestClient) -> None:
    info = client.get("/v1/model", headers=AUTH).json()

    assert info["version"] == "1"
    assert info["alias"] == "champion"
    assert info["threshold_policy"] == "capacity"
    assert info["test_quarters"]
    assert 0.5 < info["test_metrics"]["test_roc_auc"] <= 1


def test_metrics_count_requests_scores_and_mqls(client: TestClient) -> None:
    client.post("/v1/leads/score", json=scoring_request(), headers=AUTH)
    client.post("/v1/leads/score", json=scoring_request(website_visits=-5), headers=AUTH)

    text = client.get("/metrics").text

    assert 'leadq_requests_total{method="POST",route="/v1/leads/score",status="200"} 1.0' in text
    assert 'leadq_requests_total{method="POST",route="/v1/leads/score",status="422"} 1.0' in text
    assert 'leadq_scores_total{model_version="1"} 1.0' in text
    assert "leadq_request_seconds_bucket" in text
    assert "leadq_mqls_total" in text


def test_the_openapi_document_shows_the_export_fields_by_role(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    properties = schemas["LeadIn"]["properties"]
    assert list(properties) == ["lead_id", "created_at", *EXPORT_FIELDS, "activities"]
    assert "(count)" in properties["website_visits"]["description"]
    assert "(consent)" in properties["consent_tracking"]["description"]
    assert "PII" in properties["email"]["description"]
    assert "never stored" in properties["email"]["description"]
    assert {"type": "number", "minimum": 0} in properties["website_visits"]["anyOf"]
    assert schemas["LeadIn"]["required"] == ["lead_id"]
    assert schemas["BatchIn"]["properties"]["leads"]["items"] == {"$ref": "#/components/schemas/LeadIn"}


def test_scoring_log_keeps_every_score_without_pii(
    registry: Settings, log_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    email = "very.private.person@secret-domain.example"
    app = served_app(registry, scoring_log_url=log_url)
    with caplog.at_level(logging.DEBUG), TestClient(app) as client:  # leaving shuts down: the log drains
        created = "2026-10-05T09:30:00+02:00"
        one = scoring_request(lead_id="P1", email=email, created_at=created)
        client.post("/v1/leads/score", json=one, headers=AUTH)
        leads = [scoring_request(lead_id=f"P{i}", email=email) for i in range(2, 32)]
        client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH)
        client.post(
            "/v1/leads/score", json=scoring_request(lead_id="P99", email=email, website_visits=-1), headers=AUTH
        )

    engine = sa.create_engine(log_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM scores ORDER BY id")).mappings().all()
    assert [row["lead_id"] for row in rows] == [f"P{i}" for i in range(1, 32)]
    assert rows[0]["model_version"] == "1"
    assert str(rows[0]["lead_created_at"]).startswith("2026-10-05 07:30:00")  # kept in UTC
    assert rows[1]["lead_created_at"] is None
    assert all(row["respond_within_hours"] is None or row["respond_within_hours"] > 0 for row in rows)
    features = json.loads(rows[0]["features"])
    assert features["email_is_freemail"] == 0.0  # the address became flags
    assert "email" not in features
    assert json.loads(rows[0]["reasons"])["for"]
    # the company's domain is the lead's account (models.accounts), kept in its own column; the address never
    assert {row["account"] for row in rows} == {"secret-domain.example"}
    dump = json.dumps([{**row, "account": None} for row in rows], default=str)
    assert "very.private" not in dump
    assert "secret-domain" not in dump
    assert "very.private" not in caplog.text
    assert "secret-domain" not in caplog.text


def test_the_app_refuses_a_model_that_reads_other_fields_than_its_schema(registry: Settings) -> None:
    holder = make_holder(registry)
    app = create_app(holder, ServiceConfig(api_keys=KEYS, input_roles={"No. of Employees": "count"}))

    with pytest.raises(ModelInputsChangedError, match=r"added: email.*removed: No\. of Employees"), TestClient(app):
        pass


def test_service_refuses_to_start_without_keys(registry: Settings) -> None:
    with pytest.raises(ValueError, match="no API key configured"):
        served_app(registry, api_keys={})


def test_insecure_dev_mode_serves_without_keys(registry: Settings) -> None:
    with TestClient(served_app(registry, api_keys={}, allow_no_auth=True)) as client:
        assert client.post("/v1/leads/score", json=scoring_request()).status_code == 200


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/v2/nothing", headers=AUTH)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.get("/v1/leads/score", headers=AUTH)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_creation_time_is_a_known_field_not_a_warning(client: TestClient) -> None:
    response = client.post("/v1/leads/score", json=scoring_request(created_at="2026-10-05T09:30:00Z"), headers=AUTH)

    assert response.status_code == 200
    assert not any("created_at" in warning for warning in response.json()["warnings"])


def test_export_rows_with_missing_values_are_scored(client: TestClient, synthetic_crm: object) -> None:
    leads: pd.DataFrame = synthetic_crm.leads  # type: ignore[attr-defined]
    gappy = leads[leads["website_visits"].isna() & leads["budget_stated"].isna()].head(3)

    response = client.post("/v1/leads/score-batch", json={"leads": requests_of(gappy)}, headers=AUTH)

    assert response.status_code == 200
    assert all("website_visits" in " ".join(r["warnings"]) for r in response.json()["results"])


@pytest.mark.parametrize("word", ["yes", "Ja", "x", "checked", "1", 1])
def test_a_yes_no_field_takes_the_exports_yes_words_by_design(client: TestClient, word: object) -> None:
    as_true = client.post("/v1/leads/score", json=scoring_request(demo_requested=True), headers=AUTH)
    as_word = client.post("/v1/leads/score", json=scoring_request(demo_requested=word), headers=AUTH)

    assert as_word.status_code == 200
    assert as_word.json()["probability"] == pytest.approx(as_true.json()["probability"], abs=1e-12)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"lead_id": "x", "notes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "the JSON is nested too deeply"),
        (b'{"lead_id": "caf\xe9"}', "the body is not valid UTF-8"),
    ],
)
def test_unreadable_bodies_are_422_naming_the_body(client: TestClient, content: bytes, reason: str) -> None:
    response = client.post("/v1/leads/score", content=content, headers={**AUTH, "content-type": "application/json"})

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": f"invalid request: {reason}",
        "details": [{"field": "body", "message": reason}],
    }


def test_unknown_fields_are_bounded_and_warned_by_count(client: TestClient) -> None:
    many = {f"custom_field_{i:03d}": i for i in range(200)}
    too_many = {**many, "one_more": 1}

    accepted = client.post("/v1/leads/score", json=scoring_request(**many), headers=AUTH)
    refused = client.post("/v1/leads/score", json=scoring_request(**too_many), headers=AUTH)
    too_long = client.post("/v1/leads/score", json=scoring_request(notes="x" * 10_001), headers=AUTH)

    assert accepted.status_code == 200
    warning = accepted.json()["warnings"][-1]
    assert warning.startswith("ignored 200 unknown field(s): custom_field_000, custom_field_001,")
    assert warning.endswith("custom_field_009 and 190 more")
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {"field": "", "message": "expected at most 200 unknown fields per lead, got 201"}
    ]
    assert too_long.status_code == 422
    assert "unknown field 'notes': expected at most 10000 characters" in too_long.text
    assert "xxxx" not in too_long.text


def test_unknown_field_names_holding_an_address_are_not_echoed(client: TestClient) -> None:
    response = client.post("/v1/leads/score", json=scoring_request(**{"jane.doe@example.org": 1}), headers=AUTH)

    assert response.status_code == 200
    assert "ignored 1 unknown field(s): (a name holding personal data)" in response.json()["warnings"]
    assert "jane.doe" not in response.text


def test_the_openapi_document_declares_the_key_and_the_real_limits(client: TestClient) -> None:
    document = client.get("/openapi.json").json()

    assert document["components"]["securitySchemes"]["ApiKey"]["type"] == "apiKey"
    assert document["components"]["securitySchemes"]["ApiKey"]["in"] == "header"
    assert document["components"]["securitySchemes"]["ApiKey"]["name"] == "X-API-Key"
    protected = [("/v1/leads/score", "post"), ("/v1/leads/score-batch", "post"), ("/v1/model", "get")]
    for path, method in [*protected, ("/v1/admin/reload", "post")]:
        assert document["paths"][path][method]["security"] == [{"ApiKey": []}], path
    for path in ("/healthz", "/readyz", "/metrics"):
        assert "security" not in document["paths"][path]["get"], path
    schemas = document["components"]["schemas"]
    assert schemas["BatchIn"]["properties"]["leads"]["maxItems"] == 50  # the client fixture's max_batch
    assert schemas["LeadIn"]["properties"]["lead_id"]["maxLength"] == 100
    assert {"type": "string", "maxLength": 500} in schemas["LeadIn"]["properties"]["industry"]["anyOf"]
    assert schemas["LeadIn"]["maxProperties"] == 3 + len(EXPORT_FIELDS) + 200  # lead_id, created_at, activities
    assert "8,388,608 bytes" in document["info"]["description"]
    assert "at most 200 unknown fields per lead" in document["info"]["description"]


@pytest.mark.slow
def test_a_reload_to_a_version_without_artifacts_is_502_and_the_served_model_stays(
    registry: Settings, trained: TrainingOutcome, log_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    point_alias(registry, "fragile", "1")
    broken = log_outcome(trained, registry, "<html></html>").version
    client = mlflow.MlflowClient(registry.mlflow.tracking_uri, registry.mlflow.tracking_uri)
    location = client.get_model_version_download_uri(registry.mlflow.registered_model, broken)
    shutil.rmtree(urlparse(location).path)  # the registry names a version whose files are gone

    with TestClient(served_app(registry, alias="fragile", scoring_log_url=log_url)) as service:
        point_alias(registry, "fragile", broken)
        reloaded = service.post("/v1/admin/reload", headers=ADMIN)
        scored = service.post("/v1/leads/score", json=scoring_request(), headers=AUTH)

    assert reloaded.status_code == 502
    assert reloaded.json()["error"]["code"] == "model_load_failed"
    assert reloaded.json()["error"]["message"].startswith(f"version {broken} of ")
    assert reloaded.json()["error"]["message"].endswith("still serving version 1")
    assert scored.status_code == 200
    assert scored.json()["model"]["version"] == "1"

    caplog.clear()  # the reload above said its failure once; now the poller
    point_alias(registry, "fragile", "1")
    polling = served_app(registry, alias="fragile", scoring_log_url=log_url, reload_interval_s=0.05)
    with caplog.at_level(logging.ERROR, logger="leadq.serving"), TestClient(polling) as service:
        point_alias(registry, "fragile", broken)
        time.sleep(1.0)  # about 20 polls
        assert service.get("/readyz").json()["model_version"] == "1"

    failures = [r for r in caplog.records if r.getMessage().startswith("model reload failed")]
    assert len(failures) == 1  # one line for the failure, not one per poll
    assert failures[0].exc_info is None  # and no traceback


# --- reasons: false -----------------------------------------------------------------------------------------------

OMITTED = ["grade", "priority", "respond_within_hours", "reasons_for", "reasons_against"]


def test_without_reasons_the_same_probability_score_and_mql_without_treeshap(
    registry: Settings, log_url: str, synthetic_crm: object, request: pytest.FixtureRequest
) -> None:
    leads = requests_of(synthetic_crm.leads.tail(40).drop(columns=["created_at"]))  # type: ignore[attr-defined]
    leads[3]["campaign"] = "jane.doe@example-mail.de"  # personal data in a category: scrubbed, warned
    leads[5]["industry"] = "quantum farming"  # a category the model never saw: warned
    app = served_app(registry, scoring_log_url=log_url)
    with TestClient(app, raise_server_exceptions=False) as client:  # a 500 instead of the exception
        full = client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH).json()["results"]
        request.getfixturevalue("no_treeshap")  # from here on TreeSHAP raises in this process
        guarded = client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH)
        batch = client.post("/v1/leads/score-batch", json={"leads": leads, "reasons": False}, headers=AUTH)
        single = client.post("/v1/leads/score", json={**leads[3], "reasons": False}, headers=AUTH)

    assert guarded.status_code == 500  # the guard bites: with reasons, scoring needs TreeSHAP
    assert batch.status_code == 200, batch.text
    assert single.status_code == 200, single.text
    results = batch.json()["results"]
    assert [r["lead_id"] for r in results] == [r["lead_id"] for r in full]
    np.testing.assert_allclose([r["probability"] for r in results], [r["probability"] for r in full], rtol=1e-12)
    assert [(r["score"], r["is_mql"], r["threshold"]) for r in results] == [
        (r["score"], r["is_mql"], r["threshold"]) for r in full
    ]
    assert [r["warnings"] for r in results] == [r["warnings"] for r in full]  # unseen, personal, missing
    assert any("personal data" in warning for warning in results[3]["warnings"])
    assert any(warning.startswith("industry: value not seen") for warning in results[5]["warnings"])
    for answer in [*results, single.json()]:
        assert answer["reasons"] is False
        assert answer["omitted"] == OMITTED
        assert not set(OMITTED) & set(answer)  # left out, not null
    assert single.json()["probability"] == pytest.approx(full[3]["probability"], rel=1e-12)
    assert single.json()["warnings"] == full[3]["warnings"]
    assert all(r["reasons"] is True for r in full)

    rows = logged_rows(log_url)  # leaving the client drained the log: with reasons, then without (batch, single)
    explained, decided = rows[: len(leads)], rows[len(leads) :]
    assert [row["lead_id"] for row in decided] == [r["lead_id"] for r in [*results, single.json()]]
    assert [bool(row["explained"]) for row in rows] == [True] * len(leads) + [False] * (len(leads) + 1)
    for with_reasons, without in zip(explained, decided, strict=False):
        assert without["probability"] == pytest.approx(with_reasons["probability"], rel=1e-12)
        assert (without["score"], bool(without["is_mql"])) == (with_reasons["score"], bool(with_reasons["is_mql"]))
        assert json.loads(without["features"]) == json.loads(with_reasons["features"])  # the audit's inputs
        assert (without["grade"], without["priority"], without["respond_within_hours"]) == ("", "", None)
        assert json.loads(without["reasons"]) is None
    assert "jane.doe" not in json.dumps(decided, default=str)


@pytest.mark.parametrize("value", ["no", "false", 0, None, [False]])
@pytest.mark.parametrize("route", ["/v1/leads/score", "/v1/leads/score-batch"])
def test_reasons_must_be_true_or_false(client: TestClient, route: str, value: object) -> None:
    lead = scoring_request()
    body = {**lead, "reasons": value} if route.endswith("/score") else {"leads": [lead], "reasons": value}

    response = client.post(route, json=body, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "reasons"


def test_reasons_true_is_the_default_answer(client: TestClient) -> None:
    default = client.post("/v1/leads/score", json=scoring_request(), headers=AUTH).json()
    asked = client.post("/v1/leads/score", json={**scoring_request(), "reasons": True}, headers=AUTH).json()

    assert default["reasons"] is True
    assert default["grade"]
    assert default["reasons_for"]
    assert asked == default
    assert not any("reasons" in warning for warning in default["warnings"])  # the switch is not an unknown field


def test_the_openapi_document_declares_the_reasons_switch_and_both_answers(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]

    for body in ("ScoreIn", "BatchIn"):
        switch = schemas[body]["properties"]["reasons"]
        assert (switch["type"], switch["default"]) == ("boolean", True)
        assert "without TreeSHAP" in switch["description"]
    assert set(schemas["ScoreIn"]["properties"]) == {*schemas["LeadIn"]["properties"], "reasons"}
    answer = document["paths"]["/v1/leads/score"]["post"]["responses"]["200"]["content"]["application/json"]
    assert {"$ref": "#/components/schemas/DecisionOut"} in answer["schema"]["anyOf"]
    assert schemas["DecisionOut"]["properties"]["omitted"]["default"] == OMITTED
    assert not set(OMITTED) & set(schemas["DecisionOut"]["properties"])


def _lightgbm_max_threads() -> int:
    import ctypes

    import lightgbm.basic

    found = ctypes.c_int(0)
    lightgbm.basic._safe_call(lightgbm.basic._LIB.LGBM_GetMaxThreads(ctypes.byref(found)))
    return found.value


@pytest.mark.parametrize("threads", [1, None])
def test_lightgbm_threads_are_capped_while_the_app_runs_and_restored_after(
    registry: Settings, threads: int | None
) -> None:
    before = _lightgbm_max_threads()  # -1: no cap (LightGBM's default)
    with TestClient(served_app(registry, model_threads=threads)) as client:
        assert client.post("/v1/leads/score", json=scoring_request(), headers=AUTH).status_code == 200
        assert _lightgbm_max_threads() == (before if threads is None else threads)

    assert _lightgbm_max_threads() == before


def test_a_batch_rolls_its_leads_up_by_account(client: TestClient) -> None:
    leads = [
        scoring_request(lead_id="A-1", email="anna@acme-industries.de", demo_requested=True),
        scoring_request(lead_id="A-2", email="Ben@ACME-Industries.de", demo_requested=False, website_visits=0),
        scoring_request(lead_id="F-1", email="fritz@gmail.com"),  # freemail: no account
        scoring_request(lead_id="B-1", email="bea@beta-logistics.eu"),
    ]

    body = client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH).json()
    without = client.post("/v1/leads/score-batch", json={"leads": leads, "reasons": False}, headers=AUTH).json()

    accounts = {account["account"]: account for account in body["accounts"]}
    assert set(accounts) == {"acme-industries.de", "beta-logistics.eu"}
    acme = accounts["acme-industries.de"]
    p = {result["lead_id"]: result["probability"] for result in body["results"]}
    assert acme["leads"] == 2
    assert acme["probability_any_converts"] == pytest.approx(1 - (1 - p["A-1"]) * (1 - p["A-2"]))
    assert acme["best_lead"] == max(("A-1", "A-2"), key=p.__getitem__)
    grades = {result["lead_id"]: result["grade"] for result in body["results"]}
    assert acme["engaged_leads"] == sum(grades[lead][1] in "12" for lead in ("A-1", "A-2"))
    assert {a["account"]: a["engaged_leads"] for a in without["accounts"]} == dict.fromkeys(accounts)  # no grades
    assert "fritz" not in str(body["accounts"])
