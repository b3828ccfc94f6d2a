"""``leadq explain``: the marketing report for a registered model version, on a CRM export's leads.

The model comes from the MLflow registry (the champion by default), the leads from the configured export:
by default the model's own test quarter(s), or any quarters asked for. Leads whose outcome is final get
actual conversion rates in the report; the report is written to a file and logged to the version's run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd

from models.contract import SCORING_COLUMNS, DataContractError, validate_crm
from models.feature_text import Language
from models.labels import build_labels, resolve_as_of
from models.scorer import LeadScorer
from pipelines.io import read_crm
from pipelines.report import ReportContext, build_report, write_report
from pipelines.settings import Settings
from pipelines.tracking import configure_mlflow

REPORT_FOLDER = "reports"


@dataclass(frozen=True)
class ExplainResult:
    path: Path
    model_name: str
    version: str
    run_id: str
    quarters: tuple[str, ...]
    n_leads: int


def load_registered_scorer(settings: Settings, version: str | None = None) -> tuple[LeadScorer, str, str]:
    """The scorer of a registered version (default: the champion), with its version and run id."""
    configure_mlflow(settings.mlflow)
    client = mlflow.MlflowClient()
    name = settings.mlflow.registered_model
    try:
        if version is None:
            found = client.get_model_version_by_alias(name, settings.mlflow.champion_alias)
        else:
            found = client.get_model_version(name, version)
    except mlflow.exceptions.MlflowException as error:
        wanted = f"version {version}" if version else f"alias '{settings.mlflow.champion_alias}'"
        raise LookupError(
            f"no registered model {name!r} with {wanted} in {settings.mlflow.tracking_uri}; run `leadq train` first"
        ) from error
    model = mlflow.pyfunc.load_model(f"models:/{name}/{found.version}")
    return model.unwrap_python_model().scorer, str(found.version), str(found.run_id)


def leads_of_quarters(
    settings: Settings, scorer: LeadScorer, quarters: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.Series]:
    """Scoring columns of the export's leads created in ``quarters``, and their outcome (NaN while open)."""
    tables = validate_crm(read_crm(settings.data.leads, settings.data.dispositions, settings.data.deals))
    horizon = int(scorer.metadata.get("horizon_days", settings.labels.horizon_days))  # type: ignore[call-overload]
    labels = build_labels(tables, horizon, resolve_as_of(tables)).set_index("lead_id")
    leads = tables.leads.set_index("lead_id")
    in_quarters = leads["created_at"].dt.to_period("Q").astype(str).isin(quarters)
    if not in_quarters.any():
        raise DataContractError([f"leads.created_at: no leads created in quarter(s) {list(quarters)}"])
    selected = leads.loc[in_quarters, list(SCORING_COLUMNS)]
    return selected, labels["label"].reindex(selected.index)


def run_explain(
    settings: Settings,
    version: str | None = None,
    quarters: tuple[str, ...] = (),
    out: Path | None = None,
    language: Language | None = None,
) -> ExplainResult:
    """Write the report for a registered model version and log it to that version's run."""
    scorer, found_version, run_id = load_registered_scorer(settings, version)
    if language:
        scorer = dataclasses.replace(scorer, language=language)
    quarters = quarters or tuple(str(q) for q in scorer.metadata.get("test_quarters", []))  # type: ignore[attr-defined]
    leads, outcome = leads_of_quarters(settings, scorer, quarters)
    final = outcome.notna()
    context = ReportContext(
        model_name=settings.mlflow.registered_model,
        model_label=f"version {found_version}",
        period=f"quarter(s) {', '.join(quarters)}"
        + ("" if final.all() else f", {final.mean():.0%} with a final outcome"),
    )
    html = build_report(
        scorer,
        leads,
        outcome.to_numpy(dtype=float),
        context,
        settings.rule_score,
        sample_size=settings.explanations.report_sample,
        max_leads=settings.explanations.report_leads,
    )
    name = settings.mlflow.registered_model
    path = write_report(html, out or settings.explanations.reports_dir / f"{name}-v{found_version}.html")
    mlflow.MlflowClient().log_artifact(run_id, str(path), REPORT_FOLDER)
    return ExplainResult(path, name, found_version, run_id, tuple(quarters), len(leads))
