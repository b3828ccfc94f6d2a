"""Shared fixtures: small CRM frames built in code, and settings pointing at a temporary MLflow store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.contract import CRMTables


def make_lead(lead_id: str, created_at: str = "2025-01-15", **fields: object) -> dict[str, object]:
    """One valid lead record; keyword arguments override fields."""
    lead: dict[str, object] = {
        "lead_id": lead_id,
        "created_at": created_at,
        "email": f"{lead_id.lower()}@acme-industries.de",
        "job_title": "Head of IT",
        "company_size": 800,
        "industry": "Manufacturing",
        "country": "DE",
        "lead_source": "organic_search",
        "campaign": "2025Q1-seo",
        "consent_marketing": True,
        "consent_tracking": True,
        "budget_stated": "10k-50k",
        "form_fields_answered": 6,
        "website_visits": 5.0,
        "pages_per_visit": 3.2,
        "time_on_site_s": 420.0,
        "content_downloads": 1,
        "webinar_attended": False,
        "pricing_page_visits": 1.0,
        "demo_requested": False,
        "email_opens": 4.0,
        "email_clicks": 1.0,
        "newsletter_unsubscribed": False,
    }
    lead.update(fields)
    return lead


@pytest.fixture
def small_crm() -> CRMTables:
    """Three leads with a won deal, a rejection and no activity, valid under the contract."""
    leads = pd.DataFrame([make_lead("L1"), make_lead("L2"), make_lead("L3", email="someone@gmail.com")])
    dispositions = pd.DataFrame(
        {
            "lead_id": ["L1", "L1", "L1", "L2", "L2"],
            "timestamp": ["2025-01-20", "2025-01-22", "2025-02-01", "2025-01-20", "2025-01-25"],
            "stage": ["mql", "sal", "sql", "mql", "rejected"],
            "reason": [None, None, None, None, "no_budget"],
            "sales_team": ["DACH North"] * 5,
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["D1"],
            "lead_id": ["L1"],
            "created_at": ["2025-02-01"],
            "closed_at": ["2025-04-01"],
            "amount_eur": [30000.0],
            "outcome": ["won"],
        }
    )
    return CRMTables(leads=leads, dispositions=dispositions, deals=deals)


@pytest.fixture
def tracking_config(tmp_path: Path) -> Path:
    """A settings file whose MLflow store and data live in a temporary folder."""
    config = tmp_path / "mlflow.yml"
    config.write_text(
        "mlflow:\n"
        "  tracking_uri: sqlite:///mlflow.db\n"
        "  artifact_location: artifacts\n"
        "data:\n"
        "  export: data/leads.parquet\n"
        "synthetic:\n"
        "  leads: 20000\n"
        "model:\n"
        "  max_trees: 300\n"
        "  early_stopping_rounds: 30\n"
        "  learning_rate: 0.1\n"
        "threshold:\n"
        "  mqls_per_month: 60\n"
        "features:\n"
        "  competitor_domains: [rivalsoft.de, leadmatic.io, scorewise.com, pipeforge.eu]\n"
    )
    return config


SMALL_CRM_LEADS = 20_000


@pytest.fixture(scope="session")
def synthetic_crm():  # type: ignore[no-untyped-def]
    """A small synthetic CRM export (generated once per test session)."""
    from pipelines.demo.synthetic import generate_crm

    return generate_crm(SMALL_CRM_LEADS, seed=7, competitor_domains=("rivalsoft.de", "leadmatic.io"))


@pytest.fixture(scope="session")
def fast_settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Repository settings with a fast booster, a temporary MLflow store and small-volume capacity."""
    from pipelines.settings import load_settings

    folder = tmp_path_factory.mktemp("settings")
    config = folder / "mlflow.yml"
    config.write_text(
        "mlflow:\n  tracking_uri: sqlite:///mlflow.db\n  artifact_location: artifacts\n"
        "model:\n  max_trees: 300\n  early_stopping_rounds: 30\n  learning_rate: 0.1\n"
        "threshold:\n  mqls_per_month: 60\n"
        "features:\n  competitor_domains: [rivalsoft.de, leadmatic.io]\n"
    )
    return load_settings(config)


@pytest.fixture(scope="session")
def trained(synthetic_crm, fast_settings):  # type: ignore[no-untyped-def]
    """The training outcome on the small synthetic CRM through its shipped mapping (no MLflow)."""
    from pipelines.training import train_scorer
    from tests.builders import synthetic_export

    return train_scorer(synthetic_export(synthetic_crm), fast_settings)
