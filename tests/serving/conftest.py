"""A real registry with a trained model, and the service on top of it (FastAPI's test client)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipelines.demo.synthetic import generate_crm, write_crm
from pipelines.settings import Settings, load_settings
from pipelines.training import run_training
from serving.app import ServiceConfig, create_app
from serving.model_holder import ModelHolder

CRM_KEY = "crm-secret-key-0001"
ANALYST_KEY = "analyst-secret-key-02"
KEYS = {"crm": CRM_KEY, "analyst": ANALYST_KEY}
AUTH = {"X-API-Key": CRM_KEY}


FAST_BOOSTER = "max_trees: 200, early_stopping_rounds: 20, learning_rate: 0.1"


def registry_settings(folder: Path, model: str = FAST_BOOSTER) -> Settings:
    """Settings with the MLflow store, data and logs in ``folder`` and a fast booster (``model``: YAML flow map)."""
    config = folder / "mlflow.yml"
    config.write_text(
        "mlflow:\n  tracking_uri: sqlite:///mlflow.db\n  artifact_location: artifacts\n"
        "data:\n  leads: data/leads.parquet\n  dispositions: data/dispositions.parquet\n  deals: data/deals.parquet\n"
        f"model: {{{model}}}\n"
        "threshold:\n  mqls_per_month: 60\n"
        "explanations:\n  report_leads: 1000\n  report_sample: 200\n"
        "serving:\n  scoring_log_url: sqlite:///scoring_log.db\n"
    )
    return load_settings(config)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose MLflow registry holds version 1 of the model, aliased champion."""
    settings = registry_settings(tmp_path_factory.mktemp("registry"))
    write_crm(generate_crm(20_000, seed=13), settings.data.leads.parent, "parquet")
    run_training(settings)
    return settings


def make_holder(settings: Settings) -> ModelHolder:
    return ModelHolder(settings.mlflow.tracking_uri, settings.mlflow.registered_model, "champion")


@pytest.fixture
def log_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scoring_log.db'}"


@pytest.fixture
def client(registry: Settings, log_url: str) -> Iterator[TestClient]:
    app = create_app(make_holder(registry), ServiceConfig(api_keys=KEYS, max_batch=50, scoring_log_url=log_url))
    with TestClient(app) as test_client:
        yield test_client


def lead(**fields: object) -> dict[str, object]:
    """A valid scoring request body; keyword arguments override fields."""
    body: dict[str, object] = {
        "lead_id": "CRM-1",
        "email": "jane.doe@example-industries.de",
        "job_title": "Head of IT",
        "company_size": 800,
        "industry": "Manufacturing",
        "country": "DE",
        "lead_source": "organic_search",
        "campaign": None,
        "budget_stated": "50k-250k",
        "consent_marketing": True,
        "consent_tracking": True,
        "form_fields_answered": 6,
        "website_visits": 5,
        "pages_per_visit": 3.2,
        "time_on_site_s": 420,
        "content_downloads": 1,
        "webinar_attended": False,
        "pricing_page_visits": 1,
        "demo_requested": True,
        "email_opens": 4,
        "email_clicks": 1,
        "newsletter_unsubscribed": False,
    }
    body.update(fields)
    return body
