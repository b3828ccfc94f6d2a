"""``leadq explain``: the marketing report for a registered model version, on a CRM export's leads.

The model comes from the MLflow registry (the champion by default), the leads from the export it was trained on
(its run's ``data.export``, ``data.mapping``, while both files are there) or the one given, read through its
mapping, prepared as training prepared it: by default the model's
own test quarter(s), or any quarters asked for. An export without creation dates (one table, no dates) cannot be
cut by quarter: the report then covers the model's held-out test leads, and says so. Leads whose outcome is final
get actual conversion rates in the report; the report is written to a file and logged to the version's run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd

from models.contract import DataContractError
from models.feature_text import Language
from models.pipeline import input_fields
from models.rule_score import PointsRule
from models.scorer import LeadScorer
from pipelines.crm_export.prepare import PreparedExport, prepare_export, read_export_files
from pipelines.report import ReportContext, build_report, write_report
from pipelines.settings import Settings
from pipelines.tracking import configure_mlflow, not_found_hint
from serving.model_holder import load_served_model

REPORT_FOLDER = "reports"


@dataclass(frozen=True)
class ExplainResult:
    path: Path
    model_name: str
    version: str
    run_id: str
    quarters: tuple[str, ...]  # the quarters explained; empty: the model's held-out test leads
    n_leads: int
    period: str  # what the leads are, in words (as the report's header says)
    export: Path  # the export the leads were read from


@dataclass(frozen=True)
class ExplainedLeads:
    """The leads a report explains: the model's input columns (indexed by lead id), their outcome, and which."""

    leads: pd.DataFrame
    outcome: pd.Series  # 1 won, 0 lost, NaN while open
    quarters: tuple[str, ...]  # empty: the model's held-out test leads
    period: str
    points_rule: PointsRule | None  # the mapping's points rule, shown next to the model


def load_registered_scorer(settings: Settings, version: str | None = None) -> tuple[LeadScorer, str, str]:
    """The scorer of a registered version (default: the champion), with its version and run id.

    Raises:
        LookupError: no such version; ModelIntegrityError: its files do not match their registered digest.
    """
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
        hint = not_found_hint(settings.mlflow.tracking_uri, name, None if version else settings.mlflow.champion_alias)
        raise LookupError(
            f"no registered model {name!r} with {wanted} in {settings.mlflow.tracking_uri}; {hint}"
        ) from error
    # checked against its registered digest before any of it runs, as the scoring service loads it
    served = load_served_model(settings.mlflow.tracking_uri, name, str(found.version))
    return served.scorer, served.version, str(found.run_id)


def prepare_for(settings: Settings, scorer: LeadScorer) -> tuple[PreparedExport, PointsRule | None]:
    """The configured export prepared through its mapping as the model's training prepared it (same labels and
    split), and the mapping's points rule."""
    loaded = read_export_files(settings.data.export, settings.data.mapping)
    horizon = int(scorer.metadata.get("horizon_days", settings.labels.horizon_days))  # type: ignore[call-overload]
    prepared = prepare_export(
        loaded,
        horizon_days=horizon,
        as_of=pd.Timestamp(settings.labels.as_of) if settings.labels.as_of else None,
        **settings.split.options(),
    )
    return prepared, loaded.mapping.points_rule


def _model_inputs(prepared: PreparedExport, scorer: LeadScorer) -> list[str]:
    columns = list(input_fields(scorer.pipeline))
    missing = [column for column in columns if column not in prepared.rows.columns]
    if missing:
        raise DataContractError(
            [f"the model reads column(s) {missing} that data.mapping does not map: configure the model's own mapping"]
        )
    return columns


# The shipped model is refit on every labelled lead, the test leads too: on them its figures are in-sample.
IN_SAMPLE = (
    "the model learnt from these leads (it was refit on every labelled lead), so conversion by grade and score here "
    "is higher than on new leads: the training run's test metrics are the out-of-sample figures"
)


def leads_of_quarters(settings: Settings, scorer: LeadScorer, quarters: tuple[str, ...] = ()) -> ExplainedLeads:
    """The model's input columns of the export's leads created in ``quarters`` (default: the model's test
    quarters), and their outcome (NaN while open).

    Without creation dates, or for a model whose split was not by quarters, no quarter can be chosen: the leads
    are the held-out test leads of the split, as the model's training made it, and ``period`` says so.

    Raises:
        DataContractError: no lead of the export was created in ``quarters``.
    """
    prepared, points_rule = prepare_for(settings, scorer)
    quarters = quarters or tuple(str(q) for q in scorer.metadata.get("test_quarters", []))  # type: ignore[attr-defined]
    columns = _model_inputs(prepared, scorer)
    if prepared.created_at is None or not quarters:
        test = prepared.split.test
        why = "the export has no creation dates" if prepared.created_at is None else "the split was not by quarter"
        period = f"held-out test leads of the model's split ({why}, so no quarter can be chosen)"
        period += f"; {IN_SAMPLE}"  # the shipped model is refit on every labelled lead: these too
        return ExplainedLeads(prepared.rows.loc[test, columns], prepared.y.loc[test], (), period, points_rule)
    in_quarters = prepared.created_at.dt.to_period("Q").astype(str).isin(quarters)
    if not in_quarters.any():
        raise DataContractError([f"created_at: no leads created in quarter(s) {list(quarters)}"])
    selected = prepared.rows.loc[in_quarters.to_numpy(), columns]
    period = f"quarter(s) {', '.join(quarters)}"
    if set(quarters) & scorer.fitted_quarters():
        period += f"; {IN_SAMPLE}"
    return ExplainedLeads(selected, prepared.y.reindex(selected.index), quarters, period, points_rule)


def trained_on(settings: Settings, run_id: str) -> Settings:
    """The settings with the export and mapping the run was trained on (its ``data.export``, ``data.mapping``), or
    as they are where the run names none or its files have gone (moved, or another machine's)."""
    params = mlflow.MlflowClient().get_run(run_id).data.params
    export, mapping = params.get("data.export"), params.get("data.mapping")
    if not export or not mapping or not Path(export).is_file() or not Path(mapping).is_file():
        return settings
    data = settings.data.model_copy(update={"export": Path(export), "mapping": Path(mapping)})
    return settings.model_copy(update={"data": data})


def run_explain(
    settings: Settings,
    version: str | None = None,
    quarters: tuple[str, ...] = (),
    out: Path | None = None,
    language: Language | None = None,
    own_export: bool = False,
) -> ExplainResult:
    """Write the report for a registered model version and log it to that version's run.

    ``own_export``: explain it on the export it was trained on (:func:`trained_on`), not ``settings.data``'s.
    """
    scorer, found_version, run_id = load_registered_scorer(settings, version)
    if own_export:
        settings = trained_on(settings, run_id)
    if language:
        scorer = dataclasses.replace(scorer, language=language)
    explained = leads_of_quarters(settings, scorer, quarters)
    final = explained.outcome.notna()
    context = ReportContext(
        model_name=settings.mlflow.registered_model,
        model_label=f"version {found_version}",
        period=explained.period + ("" if final.all() else f", {final.mean():.0%} with a final outcome"),
    )
    html = build_report(
        scorer,
        explained.leads,
        explained.outcome.to_numpy(dtype=float),
        context,
        explained.points_rule,
        sample_size=settings.explanations.report_sample,
        max_leads=settings.explanations.report_leads,
    )
    name = settings.mlflow.registered_model
    # not the training's own report (<name>-v<version>.html, out of sample), which stays beside it
    default = f"{name}-v{found_version}-explain-{'-'.join(explained.quarters) or 'test'}.html"
    path = write_report(html, out or settings.explanations.reports_dir / default)
    mlflow.MlflowClient().log_artifact(run_id, str(path), REPORT_FOLDER)
    leads, period = len(explained.leads), context.period
    return ExplainResult(path, name, found_version, run_id, explained.quarters, leads, period, settings.data.export)
