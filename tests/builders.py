"""Shared test builders: exports as leadq reads them, scoring requests and the service, built in code (never
imported from a test file)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import mlflow
import numpy as np
import pandas as pd
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.pool import NullPool

from models.contract import CRMTables
from models.labels import build_labels, resolve_as_of
from pipelines.crm_export.mapping import ExportMapping, load_mapping
from pipelines.crm_export.prepare import LoadedExport
from pipelines.crm_export.read import RawExport
from pipelines.crm_export.tables import validate_table
from pipelines.settings import DEMO_MAPPING, Settings
from serving.access import ApiKey
from serving.app import ServiceConfig, create_app
from serving.model_holder import ModelHolder


def demo_mapping() -> ExportMapping:
    """The shipped mapping of the synthetic CRM."""
    return load_mapping(DEMO_MAPPING)


def loaded_export(
    leads: pd.DataFrame,
    mapping: ExportMapping,
    dispositions: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
) -> LoadedExport:
    """An export as ``read_export_files`` would return it, from frames."""
    named = (("dispositions", dispositions), ("deals", deals), ("activities", activities))
    tables = {name: frame for name, frame in named if frame is not None}
    return LoadedExport(mapping, RawExport(leads, None, None), tables)


def synthetic_export(crm, mapping: ExportMapping | None = None) -> LoadedExport:  # type: ignore[no-untyped-def]
    """A generated synthetic CRM (``pipelines.demo.synthetic.SyntheticCRM``) read through its shipped mapping."""
    return loaded_export(crm.leads, mapping or demo_mapping(), crm.dispositions, crm.deals)


def crm_tables(leads: pd.DataFrame, dispositions: pd.DataFrame, deals: pd.DataFrame) -> CRMTables:
    """Leads (``lead_id``, ``created_at``) with dispositions and deals in leadq's words, as the label rule reads
    them: dates parsed, the two tables checked by their schemas."""
    dated = leads.assign(created_at=pd.to_datetime(leads["created_at"]).astype("datetime64[ns]"))
    return CRMTables(dated, validate_table(dispositions, "dispositions"), validate_table(deals, "deals"))


def settings_with_store(settings: Settings, folder: Path, **data: Path) -> Settings:
    """``settings`` with the MLflow store (and, given, ``data.export`` / ``data.mapping``) in ``folder``."""
    mlflow = settings.mlflow.model_copy(
        update={"tracking_uri": f"sqlite:///{folder / 'mlflow.db'}", "artifact_location": folder / "artifacts"}
    )
    explanations = settings.explanations.model_copy(update={"reports_dir": folder / "reports"})
    return settings.model_copy(
        update={"mlflow": mlflow, "data": settings.data.model_copy(update=data), "explanations": explanations}
    )


# --- a single-table export as a CRM writes it --------------------------------------------------------------------

# The leads file's columns as a CRM writes them, with their roles (the single-table and the three-file exports).
LEAD_COLUMN_ROLES = """\
  Lead ID: id
  Created Date: created_at
  Email: email
  Job Title: job_title
  No. of Employees: count
  Industry: categorical
  Lead Source: categorical
  Website Visits: count
  Demo Requested: boolean
"""
MESSY_MAPPING = (
    "columns:\n"
    + LEAD_COLUMN_ROLES
    + """\
  Description: text
  Interests: {role: multi_select, options: [ERP, CRM, BI]}
  Lead Status: after_contact
  Converted: {role: outcome, won: ['1'], lost: ['0']}
"""
)


def messy_export(crm) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The leads of a synthetic CRM whose outcome is final, as one messy table: renamed columns, German dates,
    numbers and yes/no words, placeholders, mixed-case categories, a 0/1 outcome and a status sales set after
    contact. Leads younger than the 180-day horizon are left out, as a CRM report of closed leads would: their
    early outcomes (mostly quick rejections) would make the latest quarter unlike the others."""
    tables = crm_tables(crm.leads[["lead_id", "created_at"]], crm.dispositions, crm.deals)
    as_of = resolve_as_of(tables)
    labels = build_labels(tables, 180, as_of).set_index("lead_id")["label"].dropna()
    mature = tables.leads.set_index("lead_id")["created_at"] + pd.Timedelta(days=180) <= as_of
    labels = labels[mature.reindex(labels.index).to_numpy()]
    leads = crm.leads.set_index("lead_id").loc[labels.index].reset_index()
    y = labels.astype(int).to_numpy()
    rng = np.random.default_rng(3)
    # a multi-select picklist as a CRM writes it: any order, case and spacing, "Sonstiges" not among the options
    picked = np.random.default_rng(5).random((len(leads), 4)) < np.array([0.3, 0.3, 0.2, 0.1])
    picked[:, 1] |= leads["demo_requested"].to_numpy(dtype=bool) & (picked[:, 0])
    spellings = ("ERP", "crm", " BI", "Sonstiges")
    interests = [" ;".join(word for word, chosen in zip(spellings, row, strict=True) if chosen) for row in picked]
    return pd.DataFrame(
        {
            "Lead ID": leads["lead_id"],
            "Created Date": leads["created_at"].dt.strftime("%d.%m.%Y"),
            "Email": leads["email"],
            "Job Title": leads["job_title"],
            "No. of Employees": [
                f"{v:,.0f}".replace(",", ".") if pd.notna(v) else "Select" for v in leads["company_size"]
            ],
            "Industry": leads["industry"].where(rng.random(len(leads)) > 0.5, leads["industry"].str.upper()),
            "Lead Source": leads["lead_source"],
            "Website Visits": leads["website_visits"],
            "Demo Requested": np.where(leads["demo_requested"], "ja", "nein"),
            "Description": np.where(rng.random(len(leads)) < 0.3, "Bitte Rückruf wegen Preisen", "N/A"),
            "Interests": interests,
            "Lead Status": np.where(y == 1, "Qualified", "Disqualified"),
            "Converted": y,
        }
    )


def write_messy_export(folder: Path, crm) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """:func:`messy_export` as a German CSV (``;``) and its mapping, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    export, mapping = folder / "export.csv", folder / "mapping.yml"
    messy_export(crm).to_csv(export, sep=";", index=False)
    mapping.write_text(MESSY_MAPPING, encoding="utf-8")
    return export, mapping


# --- a multi-file export in a CRM's own shape ---------------------------------------------------------------------

CRM_STAGE_WORDS = {
    "mql": "New",
    "sal": "Working",
    "sql": "Qualified",
    "rejected": "Disqualified",
    "recycled": "Nurture",
}
CRM_REASON_WORDS = {
    "wrong_size": "Too small",
    "wrong_geography": "Outside our regions",
    "wrong_title": "Wrong contact",
    "no_budget": "No budget",
    "competitor": "Went with a competitor",
    "student_intern": "Student",
    "bad_data": "Bad data",
    "wrong_timing": "Not now",
}
CRM_DEAL_WORDS = {"won": "Closed Won", "lost": "Closed Lost", "open": "Negotiation"}


def _crm_words(words: dict[str, str]) -> str:
    return "{" + ", ".join(f'"{theirs}": {ours}' for ours, theirs in words.items()) + "}"


CRM_MAPPING = f"""\
tables:
  deals:
    file: opportunities.csv
    key: Lead
    deal_id: Opportunity ID
    created_at: null
    closed_at: Close Date
    amount: Amount
    outcome: {{column: Stage, won: [Closed Won], lost: [Closed Lost]}}
  dispositions:
    file: lead_history.xlsx
    key: Lead
    timestamp: Changed On
    stage: {{column: Status, values: {_crm_words(CRM_STAGE_WORDS)}}}
    reason: {{column: Reason, values: {_crm_words(CRM_REASON_WORDS)}}}
    sales_team: Team
monotone_constraints: {{demo_requested: 1, email_is_freemail: -1}}
columns:
{LEAD_COLUMN_ROLES}"""


def _crm_id(lead_ids: pd.Series) -> pd.Series:
    return "00Q" + lead_ids.str.removeprefix("L")


def crm_shaped_tables(crm) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """A synthetic CRM as its CRM would export it: leads, opportunities and the lead history, each with the
    CRM's own column names, words, date and number formats (Salesforce-like ids, German dates and numbers)."""
    leads = crm.leads
    size = leads["company_size"]
    crm_leads = pd.DataFrame(
        {
            "Lead ID": _crm_id(leads["lead_id"]),
            "Created Date": leads["created_at"].dt.strftime("%d.%m.%Y"),
            "Email": leads["email"],
            "Job Title": leads["job_title"],
            "No. of Employees": [f"{v:,.0f}".replace(",", ".") if pd.notna(v) else "" for v in size],
            "Industry": leads["industry"],
            "Lead Source": leads["lead_source"],
            "Website Visits": leads["website_visits"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}"),
            "Demo Requested": np.where(leads["demo_requested"], "Yes", "No"),
            "Lead Owner": "Max Mustermann",  # not mapped: reported and ignored
        }
    )
    deals = crm.deals
    opportunities = pd.DataFrame(
        {
            "Opportunity ID": "006" + deals["deal_id"].str.removeprefix("D"),
            "Lead": _crm_id(deals["lead_id"]),
            "Stage": deals["outcome"].map(CRM_DEAL_WORDS),
            "Close Date": deals["closed_at"].dt.strftime("%d.%m.%Y").fillna(""),
            "Amount": deals["amount_eur"].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}".translate(_GERMAN)),
        }
    )
    dispositions = crm.dispositions
    history = pd.DataFrame(
        {
            "Lead": _crm_id(dispositions["lead_id"]),
            "Changed On": dispositions["timestamp"].dt.strftime("%d.%m.%Y %H:%M"),
            "Status": dispositions["stage"].map(CRM_STAGE_WORDS),
            "Reason": dispositions["reason"].map(CRM_REASON_WORDS).fillna(""),
            "Team": dispositions["sales_team"],
        }
    )
    return crm_leads, opportunities, history


_GERMAN = str.maketrans({",": ".", ".": ","})


def write_crm_shaped_export(
    folder: Path,
    leads: pd.DataFrame,
    opportunities: pd.DataFrame,
    history: pd.DataFrame,
    mapping: str = CRM_MAPPING,
) -> tuple[Path, Path]:
    """The files as the CRM writes them: leads.csv (comma), opportunities.csv (``;``, UTF-8 with a BOM, as Excel
    saves it), lead_history.xlsx, and the mapping; returns the leads file and the mapping."""
    folder.mkdir(parents=True, exist_ok=True)
    leads.to_csv(folder / "leads.csv", index=False)
    opportunities.to_csv(folder / "opportunities.csv", sep=";", index=False, encoding="utf-8-sig")
    history.to_excel(folder / "lead_history.xlsx", index=False)
    (folder / "mapping.yml").write_text(mapping, encoding="utf-8")
    return folder / "leads.csv", folder / "mapping.yml"


# --- the scoring service: API keys, requests in the synthetic export's fields, the app on a registry ---

CRM_KEY = "crm-secret-key-0001"
ANALYST_KEY = "analyst-secret-key-02"
ADMIN_KEY = "ops-admin-key-0003"
# crm and analyst: scoring keys; ops: an admin key (may reload the model)
KEYS: dict[str, str | ApiKey] = {"crm": CRM_KEY, "analyst": ANALYST_KEY, "ops": ApiKey(ADMIN_KEY, "admin")}
AUTH = {"X-API-Key": CRM_KEY}
ADMIN = {"X-API-Key": ADMIN_KEY}


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


def model_files(settings: Settings, version: str) -> Path:
    """Where a registered version's model files are stored (the local artifact store), e.g. to tamper with them."""
    client = mlflow.MlflowClient(settings.mlflow.tracking_uri, settings.mlflow.tracking_uri)
    source = client.get_model_version(settings.mlflow.registered_model, version).source  # models:/m-<id>
    location = client.get_logged_model(source.removeprefix("models:/")).artifact_location
    return Path(unquote(urlparse(location).path))


# --- the scoring log: what its database holds, waiting for its writer thread ----------------------------------------


def logged_rows(url: str) -> list[dict[str, Any]]:
    """The scoring log's rows, oldest first; none while its table does not exist yet."""
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table("scores"):
            return []
        with engine.connect() as connection:
            query = sa.text("SELECT * FROM scores ORDER BY id")
            return [dict(row) for row in connection.execute(query).mappings()]
    finally:
        engine.dispose()


@contextlib.contextmanager
def exclusive_lock(database: Path) -> Iterator[None]:
    """Another connection holds a SQLite file's exclusive lock (a backup, a long migration, a stuck client)."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextlib.contextmanager
def table_lock(url: str, table: str = "scores") -> Iterator[None]:
    """Another session holds a PostgreSQL table's ACCESS EXCLUSIVE lock (a migration, a VACUUM FULL, a stuck
    client): reads and writes of the table wait for it. (A SQLite log is in WAL mode: a writer's lock blocks no
    reader, see ``prepare_log_table``.)"""
    engine = sa.create_engine(url, poolclass=NullPool)
    connection = engine.connect()
    try:
        connection.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        yield
    finally:
        connection.rollback()
        connection.close()
        engine.dispose()


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(0.05)


# --- the marketing notebook -------------------------------------------------------------------------------------

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "marketing_explanations.ipynb"


def run_marketing_notebook(config: Path, monkeypatch: Any) -> tuple[list[Any], str]:
    """Execute the marketing notebook on the settings in ``config``: its outputs and the text they printed.

    Asserts that no cell failed; ``monkeypatch`` is pytest's, to point LEADQ_CONFIG at ``config``.
    """
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("LEADQ_CONFIG", str(config))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": NOTEBOOK.parent}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    return outputs, "\n".join(output.get("text", "") for output in outputs if output.output_type == "stream")


# A scorer's result for one lead (LeadScorer.explain_records), as the scoring log turns it into a row.
SCORED_RESULT = {
    "probability": 0.31,
    "score": 31,
    "is_mql": True,
    "grade": "A1",
    "priority": "hot",
    "response_hours": 4.0,
    "reasons_for": [{"feature": "demo_requested", "label": "Demo requested", "value": 1.0, "impact": 1.2}],
    "reasons_against": [],
    "features": {"demo_requested": 1.0, "industry": "Software", "company_size": 800.0},
}
