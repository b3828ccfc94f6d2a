"""Serving test builders: API keys, scoring requests in the synthetic export's fields, the app on a registry."""

from __future__ import annotations

import json
from typing import Any

import mlflow
import pandas as pd
from fastapi import FastAPI

from pipelines.settings import Settings
from serving.app import ServiceConfig, create_app
from serving.model_holder import ModelHolder

CRM_KEY = "crm-secret-key-0001"
ANALYST_KEY = "analyst-secret-key-02"
KEYS = {"crm": CRM_KEY, "analyst": ANALYST_KEY}
AUTH = {"X-API-Key": CRM_KEY}


def scoring_request(**fields: object) -> dict[str, object]:
    """A valid request body in the synthetic export's fields (its column names, in the mapping's order); keyword
    arguments override."""
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
        "pricing_page_visits": 1,
        "content_downloads": 1,
        "webinar_attended": False,
        "demo_requested": True,
        "email_opens": 4,
        "email_clicks": 1,
        "newsletter_unsubscribed": False,
    }
    body.update(fields)
    return body


def requests_of(leads: pd.DataFrame) -> list[dict[str, Any]]:
    """Export rows as a CRM sends them: JSON records (null for missing, ISO times), every column included."""
    records: list[dict[str, Any]] = json.loads(leads.to_json(orient="records", date_format="iso", date_unit="s"))
    return records


def make_holder(settings: Settings, alias: str = "champion") -> ModelHolder:
    return ModelHolder(settings.mlflow.tracking_uri, settings.mlflow.registered_model, alias)


def served_app(settings: Settings, alias: str = "champion", **config: Any) -> FastAPI:
    """The app on the registry's model behind ``alias`` (loaded now: the request schema is its input fields)."""
    holder = make_holder(settings, alias)
    holder.reload()
    options: dict[str, Any] = {"api_keys": KEYS, "input_roles": holder.input_roles, "placeholders": holder.placeholders}
    return create_app(holder, ServiceConfig(**{**options, **config}))


def point_alias(settings: Settings, alias: str, version: str) -> None:
    """Move a registry alias, as ``leadq retrain`` does when it promotes a version."""
    client = mlflow.MlflowClient(settings.mlflow.tracking_uri, settings.mlflow.tracking_uri)
    client.set_registered_model_alias(settings.mlflow.registered_model, alias, version)
