"""Raw activities in a request: the service computes the engagement fields as ``leadq score`` does, as of the
request's time, with the mapping's own translation of the CRM's activity words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.engagement import ActivityIndex
from pipelines.crm_export.mapping import load_mapping
from pipelines.score import ScoreOptions, run_score
from pipelines.serve import activities_of, activity_vocabulary
from pipelines.settings import Settings
from serving.app import ServiceConfig, create_app
from serving.model_holder import ModelHolder
from tests.builders import AUTH, KEYS, logged_rows, requests_of
from tests.serving.conftest import CRM_ACTIVITY_WORDS

pytestmark = pytest.mark.slow  # the session's model with activities is trained for these tests (about 15 s)

NOW = datetime(2026, 10, 20, 9, 30, tzinfo=UTC)  # three weeks after the synthetic CRM's last activity


def activities_app(settings: Settings, now: datetime = NOW, **config: Any) -> FastAPI:
    """The app on the registry's champion with its activity words, its clock stopped at ``now``."""
    uri = settings.mlflow.tracking_uri
    holder = ModelHolder(uri, settings.mlflow.registered_model, "champion", activities_of=activities_of(uri))
    holder.reload()
    options: dict[str, Any] = {
        "api_keys": KEYS,
        "input_roles": holder.input_roles,
        "placeholders": holder.placeholders,
        "now": lambda: now,
    }
    return create_app(holder, ServiceConfig(**{**options, **config}))


@pytest.fixture
def client(activities_registry: tuple[Settings, Path], tmp_path: Path) -> Iterator[TestClient]:
    settings, _ = activities_registry
    app = activities_app(settings, scoring_log_url=f"sqlite:///{tmp_path / 'log.db'}", max_activities=50)
    with TestClient(app) as test_client:
        yield test_client


def _activities(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "activities.parquet")


def _hot_leads(folder: Path, count: int) -> pd.DataFrame:
    """The export rows of the ``count`` leads active most recently (several kinds in the windows), of those that
    consented to tracking and marketing (without, the consents gate their engagement fields: unknown)."""
    activities = _activities(folder)
    latest = activities.groupby("lead_id")["timestamp"].max().sort_values(ascending=False)
    leads = pd.read_parquet(folder / "leads.parquet").set_index("lead_id", drop=False)
    consented = leads.index[leads["consent_tracking"] & leads["consent_marketing"]]
    return leads.loc[latest.index[latest.index.isin(consented)][:count]].reset_index(drop=True)


def _listed(folder: Path, lead_id: str) -> list[dict[str, Any]]:
    """A lead's activities as the CRM sends them: naive ISO times (UTC) and the CRM's own words."""
    activities = _activities(folder)
    mine = activities[activities["lead_id"] == lead_id]
    return [
        {"timestamp": at.isoformat(), "type": word, "detail": "a page"}
        for at, word in zip(mine["timestamp"], mine["kind"], strict=True)
    ]


def _engagement_fields(folder: Path, lead_ids: list[str], now: datetime) -> pd.DataFrame:
    """The engagement fields ``leadq score`` computes (its ActivityIndex on the translated table) as of ``now``."""
    spec = load_mapping(folder / "mapping.yml").tables.activities
    assert spec is not None
    activities = _activities(folder)
    translated = activities.assign(kind=activities["kind"].map(spec.kind.word_of))
    index = ActivityIndex(translated, spec.windows())
    return index.features_at(pd.Index(lead_ids), pd.Timestamp(now).tz_convert(None))


def _without_engagement(body: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in names}


def _fields(features: pd.Series) -> dict[str, float | None]:
    return {name: None if pd.isna(value) else float(value) for name, value in features.items()}


def test_a_batch_with_activities_scores_as_leadq_score_scores_the_export(
    activities_registry: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, folder = activities_registry
    leads = _hot_leads(folder, 5)
    export = tmp_path / "leads.parquet"
    leads.to_parquet(export)
    out = tmp_path / "scores.parquet"
    run_score(settings, export, ScoreOptions(out, tmp_path / "rejects.csv", activities=folder / "activities.parquet"))
    scores = pd.read_parquet(out).set_index("lead_id")
    run_at = datetime.fromisoformat(str(scores["leadq_scored_at"].iloc[0]).replace("Z", "+00:00"))

    with TestClient(activities_app(settings, run_at)) as client:
        body = {"leads": [{**lead, "activities": _listed(folder, lead["lead_id"])} for lead in requests_of(leads)]}
        answer = client.post("/v1/leads/score-batch", json=body, headers=AUTH)

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["lead_id"] for r in results] == list(scores.index)
    for result in results:
        expected = scores.loc[result["lead_id"]]
        assert result["probability"] == pytest.approx(expected["leadq_probability"], abs=1e-12)
        assert result["grade"] == expected["leadq_grade"]
        assert result["reasons_for"][0]["label"] == expected["leadq_reason_1"]


def test_activities_give_the_answer_of_the_fields_leadq_score_computes_from_them(
    activities_registry: tuple[Settings, Path], client: TestClient
) -> None:
    _, folder = activities_registry
    lead = requests_of(_hot_leads(folder, 1))[0]
    computed = _engagement_fields(folder, [lead["lead_id"]], NOW).iloc[0]
    assert computed.filter(like="_90d").sum() > 0  # active in the windows: the fields carry something

    with_fields = client.post("/v1/leads/score", json={**lead, **_fields(computed)}, headers=AUTH).json()
    with_list = client.post(
        "/v1/leads/score",
        json={**_without_engagement(lead, list(computed.index)), "activities": _listed(folder, lead["lead_id"])},
        headers=AUTH,
    ).json()

    assert with_list["probability"] == with_fields["probability"]
    assert (with_list["grade"], with_list["reasons_for"]) == (with_fields["grade"], with_fields["reasons_for"])
    assert not any("missing optional field" in w and "_7d" in w for w in with_list["warnings"])


def test_an_activity_at_or_after_the_requests_time_changes_nothing_and_one_after_it_is_said(
    activities_registry: tuple[Settings, Path], client: TestClient
) -> None:
    _, folder = activities_registry
    lead = requests_of(_hot_leads(folder, 1))[0]
    listed = _listed(folder, lead["lead_id"])
    plain = client.post("/v1/leads/score", json={**lead, "activities": listed}, headers=AUTH).json()
    at_now = {"timestamp": NOW.isoformat(), "type": "Demo Request"}
    one_second_after = {"timestamp": (NOW + timedelta(seconds=1)).isoformat(), "type": "Demo Request"}
    just_before = {"timestamp": (NOW - timedelta(seconds=1)).isoformat(), "type": "Demo Request"}

    later = client.post(
        "/v1/leads/score", json={**lead, "activities": [*listed, at_now, one_second_after]}, headers=AUTH
    ).json()
    earlier = client.post("/v1/leads/score", json={**lead, "activities": [*listed, just_before]}, headers=AUTH).json()

    assert later["probability"] == plain["probability"]
    assert later["reasons_for"] == plain["reasons_for"]
    assert "activities: 1 dated after the request's time (clock or time zone?), not counted" in later["warnings"]
    assert not any(w.startswith("activities:") for w in plain["warnings"])
    assert earlier["probability"] != plain["probability"]  # a demo request a second before now counts


def test_activity_times_with_an_offset_are_read_in_utc(
    activities_registry: tuple[Settings, Path], client: TestClient
) -> None:
    lead = requests_of(_hot_leads(activities_registry[1], 1))[0]
    instant = NOW - timedelta(hours=1)
    written = [
        instant.isoformat(),  # +00:00
        instant.replace(tzinfo=None).isoformat(),  # no offset: UTC
        instant.astimezone(timezone(timedelta(hours=1))).isoformat(),  # Berlin's winter time, 10:30+01:00
    ]
    later = instant.replace(tzinfo=None).isoformat() + "-01:00"  # an hour later: 30 minutes before now

    probabilities = [
        client.post(
            "/v1/leads/score", json={**lead, "activities": [{"timestamp": at, "type": "Demo Request"}]}, headers=AUTH
        ).json()["probability"]
        for at in [*written, later]
    ]

    assert probabilities[0] == probabilities[1] == probabilities[2]
    assert probabilities[3] != probabilities[0]  # days_since_demo_request 0.02 instead of 0.04: read


def test_the_scoring_log_keeps_the_features_computed_from_the_activities(
    activities_registry: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, folder = activities_registry
    url = f"sqlite:///{tmp_path / 'log.db'}"
    lead = requests_of(_hot_leads(folder, 1))[0]
    computed = _engagement_fields(folder, [lead["lead_id"]], NOW).iloc[0]

    with TestClient(activities_app(settings, scoring_log_url=url)) as client:
        body = {**lead, "activities": _listed(folder, lead["lead_id"])}
        assert client.post("/v1/leads/score", json=body, headers=AUTH).status_code == 200
    # shutdown wrote everything spooled

    (row,) = logged_rows(url)
    features = json.loads(row["features"])
    logged = [name for name in computed.index if name in features]
    assert "demo_request_90d" in logged
    assert "visit_7d" in logged
    for name in logged:
        value = computed[name]
        assert features[name] == (None if pd.isna(value) else pytest.approx(float(value))), name
    assert "a page" not in row["features"]  # the detail is not stored


def test_a_batch_mixes_leads_with_activities_with_fields_and_with_neither(
    activities_registry: tuple[Settings, Path], client: TestClient
) -> None:
    _, folder = activities_registry
    first, second, third = requests_of(_hot_leads(folder, 3))
    names = list(_engagement_fields(folder, [first["lead_id"]], NOW).columns)
    computed = _engagement_fields(folder, [second["lead_id"]], NOW).iloc[0]
    leads = [
        {**_without_engagement(first, names), "activities": _listed(folder, first["lead_id"])},
        {**second, **_fields(computed)},
        _without_engagement(third, names),
    ]

    batch = client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH)
    singles = [client.post("/v1/leads/score", json=lead, headers=AUTH).json() for lead in leads]

    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [r["probability"] for r in results] == [s["probability"] for s in singles]
    assert not any("_7d" in w for w in results[0]["warnings"])  # computed, not missing
    assert any("missing optional field" in w and "visit_7d" in w for w in results[2]["warnings"])
    # the list differs from sending nothing: it is read
    assert (
        results[0]["probability"]
        != client.post("/v1/leads/score", json=_without_engagement(first, names), headers=AUTH).json()["probability"]
    )


def test_activities_with_values_of_the_fields_they_compute_are_refused_naming_the_fields(
    activities_registry: tuple[Settings, Path], client: TestClient
) -> None:
    _, folder = activities_registry
    lead = requests_of(_hot_leads(folder, 1))[0]
    body = {**lead, "visit_7d": 3, "days_since_demo_request": 1.5, "email_open_30d": None}
    body["activities"] = _listed(folder, lead["lead_id"])

    answer = client.post("/v1/leads/score", json=body, headers=AUTH)

    assert answer.status_code == 422
    (detail,) = answer.json()["error"]["details"]
    assert detail["field"] == "activities"
    assert "visit_7d" in detail["message"]
    assert "days_since_demo_request" in detail["message"]
    assert "email_open_30d" not in detail["message"]  # null is no value


def test_an_unknown_activity_type_is_refused_by_its_position_with_the_words_the_mapping_knows(
    activities_registry: tuple[Settings, Path], client: TestClient
) -> None:
    _, folder = activities_registry
    lead = requests_of(_hot_leads(folder, 1))[0]
    secret = "Called Jane Doe +49 170 1234567"
    activities = [
        {"timestamp": "2026-10-01T10:00:00Z", "type": "page visited"},  # the mapping's word, case aside
        {"timestamp": "2026-10-02T10:00:00Z", "type": "Demo Request"},
        {"timestamp": "2026-10-03T10:00:00Z", "type": secret},
    ]

    single = client.post("/v1/leads/score", json={**lead, "activities": activities}, headers=AUTH)
    batch = client.post(
        "/v1/leads/score-batch",
        json={"leads": [lead, {**lead, "lead_id": "second", "activities": activities}]},
        headers=AUTH,
    )

    for answer, field in ((single, "activities.2.type"), (batch, "leads.1.activities.2.type")):
        assert answer.status_code == 422
        (detail,) = answer.json()["error"]["details"]
        assert detail["field"] == field
        assert "'Page Visited'" in detail["message"]
        assert "'Demo Request'" in detail["message"]
        assert secret not in answer.text


def test_more_activities_than_the_limit_are_refused(
    activities_registry: tuple[Settings, Path], client: TestClient
) -> None:
    lead = requests_of(_hot_leads(activities_registry[1], 1))[0]
    activities = [{"timestamp": "2026-10-01T10:00:00Z", "type": "Page Visited"}] * 51  # the client's limit: 50

    answer = client.post("/v1/leads/score", json={**lead, "activities": activities}, headers=AUTH)

    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"] == "activities"
    assert "50" in answer.json()["error"]["details"][0]["message"]


@pytest.mark.parametrize(
    ("activity", "field"),
    [
        ({"timestamp": 1760000000, "type": "Page Visited"}, "activities.0.timestamp"),  # Unix seconds: not ISO
        ({"timestamp": "yesterday", "type": "Page Visited"}, "activities.0.timestamp"),
        ({"timestamp": "2026-10-01T10:00:00Z"}, "activities.0.type"),
        ({"timestamp": "2026-10-01T10:00:00Z", "type": "Page Visited", "page": "/pricing"}, "activities.0.page"),
    ],
)
def test_a_malformed_activity_is_refused_naming_its_field(
    activities_registry: tuple[Settings, Path], client: TestClient, activity: dict[str, Any], field: str
) -> None:
    lead = requests_of(_hot_leads(activities_registry[1], 1))[0]
    answer = client.post("/v1/leads/score", json={**lead, "activities": [activity]}, headers=AUTH)
    assert answer.status_code == 422
    assert field in [d["field"] for d in answer.json()["error"]["details"]]


def test_activities_for_a_model_without_an_activities_table_are_refused(registry: Settings) -> None:
    uri = registry.mlflow.tracking_uri
    holder = ModelHolder(uri, registry.mlflow.registered_model, "champion", activities_of=activities_of(uri))
    holder.reload()
    assert holder.current.activities is None
    app = create_app(holder, ServiceConfig(api_keys=KEYS, input_roles=holder.input_roles))
    activities = [{"timestamp": "2026-10-01T10:00:00Z", "type": "visit"}]
    with TestClient(app) as client:
        answer = client.post("/v1/leads/score", json={"lead_id": "L1", "activities": activities}, headers=AUTH)
        without = client.post("/v1/leads/score", json={"lead_id": "L1"}, headers=AUTH)

    assert answer.status_code == 422
    (detail,) = answer.json()["error"]["details"]
    assert detail["field"] == "activities"
    assert "reads no activities" in detail["message"]
    assert without.status_code == 200


def test_the_openapi_document_describes_the_activities(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    activities = schemas["LeadIn"]["properties"]["activities"]
    array = next(option for option in activities["anyOf"] if option.get("type") == "array")
    assert array["maxItems"] == 50
    assert array["items"]["$ref"].endswith("/ActivityIn")
    assert set(schemas["ActivityIn"]["properties"]) == {"timestamp", "type", "detail"}
    assert schemas["ActivityIn"]["required"] == ["timestamp", "type"]


def test_the_services_translation_of_activity_words_is_the_mappings(
    activities_registry: tuple[Settings, Path],
) -> None:
    spec = load_mapping(activities_registry[1] / "mapping.yml").tables.activities
    assert spec is not None
    vocabulary = activity_vocabulary(spec)
    words = [*CRM_ACTIVITY_WORDS.values(), "page visited", "  DEMO REQUEST ", "Demo-Request", "visit", ""]
    assert [vocabulary.kind_of(word) for word in words] == [spec.kind.word_of(word) for word in words]
    assert vocabulary.windows == spec.windows()
    assert set(vocabulary.words) == set(CRM_ACTIVITY_WORDS.values())


def test_leadq_serve_reads_the_activity_words_and_the_limit_from_its_settings(
    activities_registry: tuple[Settings, Path],
) -> None:
    from pipelines.serve import build_service

    settings, folder = activities_registry
    serving = settings.serving.model_copy(update={"scoring_log_url": None, "max_activities": 2})
    lead = requests_of(_hot_leads(folder, 1))[0]
    visit = {"timestamp": "2026-10-01T10:00:00Z", "type": "Page Visited"}
    with TestClient(build_service(settings.model_copy(update={"serving": serving}), KEYS)) as client:
        two = client.post("/v1/leads/score", json={**lead, "activities": [visit, visit]}, headers=AUTH)
        three = client.post("/v1/leads/score", json={**lead, "activities": [visit] * 3}, headers=AUTH)
        unknown = client.post("/v1/leads/score", json={**lead, "activities": [{**visit, "type": "x"}]}, headers=AUTH)

    assert two.status_code == 200, two.text
    assert three.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "activities.0.type"
