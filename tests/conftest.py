"""Shared fixtures: small CRM frames built in code, settings pointing at a temporary MLflow store, and databases
for the scoring log (a SQLite file, and a PostgreSQL database on the server ``make test`` starts)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from models.contract import CRMTables

# Set by .ci/with-postgres (make test, CI): a SQLAlchemy URL of a PostgreSQL server the tests may create databases on.
POSTGRES_URL_VARIABLE = "LEADQ_TEST_POSTGRES_URL"
# "1": the PostgreSQL tests must run (CI); without a server they fail instead of being skipped.
REQUIRE_POSTGRES_VARIABLE = "LEADQ_REQUIRE_POSTGRES"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the PostgreSQL test server; skips the test when there is none, unless one is required."""
    url = os.environ.get(POSTGRES_URL_VARIABLE, "")
    if url:
        return url
    if os.environ.get(REQUIRE_POSTGRES_VARIABLE) == "1":
        pytest.fail(
            f"{REQUIRE_POSTGRES_VARIABLE}=1 but {POSTGRES_URL_VARIABLE} is not set: run the tests through "
            "`make test` or `.ci/with-postgres`, which start a PostgreSQL server"
        )
    pytest.skip(f"no PostgreSQL server: {POSTGRES_URL_VARIABLE} is not set (`make test` starts one)")


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (dropped after it), as a SQLAlchemy URL."""
    name = f"leadq_test_{uuid.uuid4().hex[:16]}"
    server = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        server.dispose()
        pytest.fail(f"the PostgreSQL server in {POSTGRES_URL_VARIABLE} cannot be reached: {error.orig}")
    try:
        yield sa.make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:  # FORCE: a connection a failed test left open does not keep it
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def scoring_log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The scoring log's database, once as a SQLite file and once as a PostgreSQL database (skipped locally without a
    server, required in CI). A log on PostgreSQL needs a spool path: ``tmp_path / "spool"`` is free for it."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'scoring_log.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


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


@pytest.fixture
def no_treeshap(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SHAP value is computed in this process from now on: LightGBM's TreeSHAP (``Booster.predict(pred_contrib=
    True)``) and the predictions of one feature's trees that stand in for it (``FeatureTrees.contributions``) raise."""
    import lightgbm

    from models.single_feature_trees import FeatureTrees

    predict = lightgbm.Booster.predict

    def predict_without_contributions(self: lightgbm.Booster, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("pred_contrib"):
            raise AssertionError("TreeSHAP called")
        return predict(self, *args, **kwargs)

    def no_contributions(self: FeatureTrees, matrix: object) -> Any:
        raise AssertionError("SHAP values computed from the trees of one feature at a time")

    monkeypatch.setattr(lightgbm.Booster, "predict", predict_without_contributions)
    monkeypatch.setattr(FeatureTrees, "contributions", no_contributions)
