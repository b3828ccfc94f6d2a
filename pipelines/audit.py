"""``leadq audit --quarter 2026Q4``: how the served scores did against what sales and deals made of the leads.

load the quarter's scores from the scoring log -> read the CRM export (dispositions and deals since) -> outcome
per scored lead (open leads stay open, never lost) -> the figures of ``models.audit`` -> verdict -> a
self-contained HTML report and a JSON of its figures -> an MLflow audit run linked to the served model version.

A lead belongs to the quarter in which the CRM created it (``created_at`` sent with the score), or in which it
was scored when the CRM did not say; that time is also the clock start of the SLA.

The export is read through its mapping, as training reads it (``data.export``, ``data.mapping``), but only as far
as the audit needs: ids, creation dates, the channels, and what sales and deals made of the leads. Further tables
the mapping names give dispositions and deals in leadq's words; a single table's outcome column gives one closed
deal per resolved lead, and its stage (and reason) column one disposition per lead. Such dispositions carry no
contact time, so the SLA cannot be judged from them, and such deals are outcomes, not opportunities.

An export without creation dates (no created_at column, e.g. one table with a 0/1 outcome) is placed by the
scoring log's clock instead: its scored leads belong to the quarter the log says, their outcome and stage count
as known at that time, and outcomes are taken as exported (won or lost whenever that happened; without an
outcome, open). What such an export cannot support (the label horizon, when the quarter is resolved, the SLA,
the sales stages) is listed in the figures and the report as not supported, with why, instead of left out.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Literal

import mlflow
import numpy as np
import pandas as pd
import sqlalchemy as sa

from models import audit
from models.cleaning import clean_column, mark_missing, normalise_categories
from models.contract import DEAL_COLUMNS, CRMTables, DataContractError
from models.feature_text import feature_name
from models.features import FeatureSpec, LeadFeatures, feature_spec_of
from models.insights import CHANNEL_NAMES, channel_features
from models.labels import UNDATED_SPLITS, quarter_bounds, resolve_as_of
from pipelines.audit_report import build_audit_report
from pipelines.crm_export.mapping import ExportMapping
from pipelines.crm_export.prepare import (
    LoadedExport,
    drop_duplicate_leads,
    index_by_id,
    label_tables,
    labels_from_outcome,
    read_export_files,
    select_mapped_columns,
    unread_columns,
)
from pipelines.crm_export.tables import empty_table, validate_table, won_date_deals
from pipelines.explain import load_registered_scorer
from pipelines.report import write_report
from pipelines.settings import AuditSettings, Settings
from pipelines.tracking import configure_mlflow
from pipelines.training import DAYS_PER_MONTH, StepReporter, silent_steps
from serving.scoring_log import SCORES, select_score_history

AUDIT_FOLDER = "audit"


@dataclass(frozen=True)
class AuditResult:
    quarter: str
    verdict: audit.Verdict
    figures: dict[str, Any]
    html_path: Path
    json_path: Path
    run_id: str
    model_version: str


@dataclass(frozen=True)
class ServedModel:
    """What the audit needs of the model that served most of the quarter's scores."""

    name: str
    version: str
    threshold: float
    reference: dict[str, Any] | None  # the training leads' profile (None: trained before leadq stored it)
    reference_auc: float | None  # the AUC on its test quarter at training
    horizon_days: int
    spec: FeatureSpec  # the model's features, as the scoring log holds them
    fitted_quarters: frozenset[str] = frozenset()  # the quarters of the leads it learnt from (LeadScorer)
    trained_without_dates: bool = False  # split at random (no or too few creation dates), refit on every labelled lead


def learnt_from_caveats(served: ServedModel, quarter: str) -> list[str]:
    """What the verdict says when the audited leads include leads the served model learnt from: its figures then
    favour the model (an in-sample AUC), as a retrain's comparison says of a champion fitted on its quarter."""
    if quarter in served.fitted_quarters:
        last = max(served.fitted_quarters)
        return [
            f"the served model learnt from leads of {quarter} (its training, calibration or refit on every labelled "
            f"lead): these figures favour it; judge it on leads created after {last}"
        ]
    if served.trained_without_dates and not served.fitted_quarters:  # a partly dated export's split names quarters
        return [
            "the served model was trained on an export without dates and refit on every labelled lead in it: any "
            "of those leads judged here was learnt from and favours it; judge it on leads created after its training"
        ]
    return []


def policy_of(settings: AuditSettings) -> audit.AuditPolicy:
    fields = audit.AuditPolicy.__dataclass_fields__
    return audit.AuditPolicy(**{k: v for k, v in settings.model_dump().items() if k in fields})


def _naive_utc(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values)
    return stamps.dt.tz_convert(UTC).dt.tz_localize(None) if stamps.dt.tz is not None else stamps


def read_scoring_log(
    url: str, start: pd.Timestamp, end: pd.Timestamp, by: Literal["lead", "scored"] = "lead"
) -> pd.DataFrame:
    """The logged scores in [start, end), oldest first: of leads created then (or, without a creation time, scored
    then) for ``by="lead"``, the audit's quarter; scored then for ``by="scored"``, a score history.

    Columns: lead_id, clock_start (naive UTC), scored_at, model_version, probability, score, is_mql, threshold,
    grade, respond_within_hours (NaN: nurture), reasons ({"for": [...], "against": [...]}; None: scored without
    reasons), features (dict per row).
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise FileNotFoundError(f"scoring log not found: {parsed.database} (serving.scoring_log_url = {url})")
    engine = sa.create_engine(url)
    try:
        clock = sa.func.coalesce(SCORES.c.lead_created_at, SCORES.c.scored_at) if by == "lead" else SCORES.c.scored_at
        bounds = [bound.tz_localize(UTC).to_pydatetime() for bound in (start, end)]
        # row_id is the log's own (replays write nothing twice); a log no service has opened since it came lacks it,
        # as it lacks explained and account (the audit reads neither)
        columns = [column for column in SCORES.columns if column.name not in ("row_id", "explained", "account")]
        query = sa.select(*columns).where(clock >= bounds[0], clock < bounds[1]).order_by(SCORES.c.id)
        with engine.connect() as connection:
            rows = pd.DataFrame(connection.execute(query).mappings().all(), columns=[c.name for c in columns])
    finally:
        engine.dispose()
    created = _naive_utc(rows["lead_created_at"])
    return pd.DataFrame(
        {
            "lead_id": rows["lead_id"].astype(str),
            "clock_start": created.fillna(_naive_utc(rows["scored_at"])),
            "scored_at": _naive_utc(rows["scored_at"]),
            "model_version": rows["model_version"].astype(str),
            "probability": rows["probability"].astype(float),
            "score": rows["score"].astype(int),
            "is_mql": rows["is_mql"].astype(bool),
            "threshold": rows["threshold"].astype(float),
            "grade": rows["grade"].astype(str),
            "respond_within_hours": pd.to_numeric(rows["respond_within_hours"]).astype(float),
            "reasons": rows["reasons"].map(json.loads),
            "features": rows["features"].map(json.loads),
        }
    )


def read_score_history(url: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Each lead's scores in [start, end) by scoring time, oldest first: lead_id, scored_at (naive UTC), score,
    is_mql (only these columns: cheap for trends over many leads). Empty where the log does not exist yet."""
    parsed = sa.make_url(url)
    empty = pd.DataFrame({"lead_id": [], "scored_at": pd.Series([], dtype="datetime64[ns]"), "score": [], "is_mql": []})
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return empty
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table(SCORES.name):
            return empty
        first, last = (bound.tz_localize(UTC).to_pydatetime() for bound in (start, end))
        query = select_score_history(first, last)
        with engine.connect() as connection:
            rows = pd.DataFrame(connection.execute(query).all(), columns=["lead_id", "scored_at", "score", "is_mql"])
    finally:
        engine.dispose()
    return rows.assign(
        lead_id=rows["lead_id"].astype(str),
        scored_at=_naive_utc(rows["scored_at"]),
        score=rows["score"].astype(int),
        is_mql=rows["is_mql"].astype(bool),
    )


def feature_frame(features: pd.Series, spec: FeatureSpec) -> pd.DataFrame:
    """The logged model features as a frame with the training dtypes (numbers as float, categories as text)."""
    frame = pd.DataFrame(list(features), index=features.index).reindex(columns=list(spec.names))
    for column in frame.columns:
        if column in spec.categorical:
            frame[column] = frame[column].astype("str").where(frame[column].notna())
        else:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


NO_CHANNEL = "(none)"
NOT_IN_EXPORT = "(not in the export)"


def with_channels(scores: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    """Add the lead source and campaign as the CRM export spells them most often ("(none)" if blank there):
    spellings the model reads as one category ("Google", "google ") are one channel."""
    indexed = leads.set_index("lead_id")
    known = scores["lead_id"].isin(indexed.index).to_numpy()
    channels = indexed[list(CHANNEL_NAMES)].reindex(scores["lead_id"]).astype(object)
    channels = channels.apply(_most_frequent_spelling).fillna(NO_CHANNEL)
    channels[~known] = NOT_IN_EXPORT
    return scores.assign(**{channel: channels[channel].to_numpy() for channel in CHANNEL_NAMES})


def _most_frequent_spelling(values: pd.Series) -> pd.Series:
    """Each value as the most frequent of the spellings the features step reads as one category."""
    keys = normalise_categories(values)
    spelled = values.where(keys.notna())
    if spelled.dropna().empty:
        return spelled
    most = spelled.groupby(keys).agg(lambda spellings: spellings.value_counts().index[0])
    return keys.map(most).where(keys.notna(), values)


def _labelled(drift: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The drift table with each feature's name in words (the export's own column names), for the report."""
    return drift.assign(label=_readable(drift, spec)["feature"])


def _readable(drift: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The drift table with the features' plain names, for the verdict's sentences."""
    return drift.assign(
        feature=drift["feature"].map(lambda f: f if f == "score" else feature_name(f, "en", spec.texts))
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso"))  # NaN -> null, times as ISO text


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(pd.Series(values, dtype=object).to_json(date_format="iso"))


# Funnel figures that need sales dispositions: an export without any (a single table with an outcome column)
# has no stages, so these are left empty rather than inferred from the outcome.
STAGE_FIGURES = ("reviewed", "accepted", "sal_rate", "sqls", "mql_to_sql", "recycled", "recycled_rate")
NO_STAGES = "n/a"


def without_stages(funnel: pd.DataFrame) -> pd.DataFrame:
    """The funnel table with the stage figures emptied and their flags "n/a"."""
    emptied = funnel.astype({column: object for column in STAGE_FIGURES if column in funnel})
    for column in STAGE_FIGURES:
        if column in emptied:
            emptied[column] = None
    return emptied.assign(sal_flag=NO_STAGES, sql_flag=NO_STAGES)


def _drift(
    outcomes: pd.DataFrame, served: ServedModel, settings: AuditSettings, policy: audit.AuditPolicy
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PSI of each feature and the score against training; time-bound features apart (new values expected)."""
    if served.reference is None:
        empty = pd.DataFrame(columns=["feature", "kind", "psi", "flag"])
        return empty, empty
    features = feature_frame(outcomes["features"], served.spec)
    stability = audit.population_stability(served.reference, features, outcomes["probability"].to_numpy(), policy)
    time_bound = stability["feature"].isin(settings.time_bound_features)
    return stability[~time_bound].reset_index(drop=True), stability[time_bound].reset_index(drop=True)


# Said with every verdict on an export without dates (its outcomes are as exported, whenever that was).
UNDATED_CAVEAT = (
    "The export has no dates, so its outcomes are taken as they stand in the file: a lead marked lost may still "
    "convert while the quarter is young. Before acting on the conversion figures, audit again from a later export."
)


@dataclass(frozen=True)
class AuditExport:
    """The export the audit resolves the quarter's leads with, and what its tables can tell."""

    tables: CRMTables
    has_contact_times: bool = True  # dispositions dated by the sales contact (for the SLA)
    deals_are_opportunities: bool = True  # False: deals derived from an outcome column, not sales' deals
    has_dates: bool = True  # False: no creation dates; leads placed by the scoring log's clock, outcomes as exported


# What an export may not support: part -> (the figures concerned, why), in the report's words.
NOT_SUPPORTED = {
    "horizon": (
        "the label horizon and the time to an outcome",
        "the export has no dates: a lead counts as won or lost as the export says, whenever that happened, so "
        "whether a win came within the {horizon_days}-day label horizon, and how long leads take to convert, "
        "cannot be told",
    ),
    "maturity": (
        "when the quarter's outcomes are final",
        "without dates the export's own date is unknown and no lead is ever lost for want of a win: leads the "
        "export leaves open (or does not hold) stay open, the outcomes are read as they stand in the file, and no "
        "date can be named after which all of the quarter's leads are resolved",
    ),
    "stages": (
        "the sales stages (SAL rate, MQL to SQL, recycled to nurture, rejection reasons, SQLs needed)",
        "the export has no sales dispositions: map a stage column, or name a dispositions table in the mapping",
    ),
    "sla": (
        "response times against the SLA",
        "the export has no dated sales dispositions (a dispositions table with the time of each stage change): "
        "there is no first contact to time",
    ),
}


def unsupported_parts(export: AuditExport, has_stages: bool, horizon_days: int) -> list[dict[str, str]]:
    """The parts of the audit this export cannot support (:data:`NOT_SUPPORTED`; none for a CRM with dated tables).

    Each is {"part": key, "what": the figures concerned, "why": in words}.
    """
    lacking = {
        "horizon": not export.has_dates,
        "maturity": not export.has_dates,
        "stages": not has_stages,
        "sla": not export.has_contact_times,
    }
    return [
        {"part": part, "what": what, "why": why.format(horizon_days=horizon_days)}
        for part, (what, why) in NOT_SUPPORTED.items()
        if lacking[part]
    ]


def audit_figures(
    scores: pd.DataFrame,
    export: AuditExport,
    as_of: pd.Timestamp,
    quarter: str,
    served: ServedModel,
    settings: AuditSettings,
) -> dict[str, Any]:
    """Every figure of the audit as JSON-ready data, the verdict first; no files, no MLflow."""
    policy = policy_of(settings)
    start, end = quarter_bounds(quarter)
    tables, has_contact_times = export.tables, export.has_contact_times
    outcomes = audit.lead_outcomes(
        with_channels(scores, tables.leads),
        tables.dispositions,
        tables.deals,
        as_of,
        served.horizon_days if export.has_dates else None,  # no dates: outcomes as exported, no horizon
        deals_imply_stages=export.deals_are_opportunities,
    )
    months = max((min(end, as_of) - start).days, 1) / DAYS_PER_MONTH
    discrimination = audit.discrimination(outcomes)
    has_stages = not tables.dispositions.empty

    def funnel(by: str | None) -> pd.DataFrame:
        table = audit.funnel_kpis(outcomes, by, settings.min_mqls, policy)
        return table if has_stages else without_stages(table)

    funnel_overall = funnel(None)
    drift, time_bound = _drift(outcomes, served, settings, policy)
    mature_after = end + pd.Timedelta(days=served.horizon_days) if export.has_dates else None
    verdict = audit.verdict(
        discrimination, _readable(drift, served.spec), funnel_overall, served.reference_auc, policy, mature_after
    )
    if served.reference is None:
        verdict = audit.Verdict(
            verdict.action, [*verdict.reasons, "no drift check: the model was trained before leadq stored profiles"]
        )
    learnt_from = learnt_from_caveats(served, quarter)
    if learnt_from:
        verdict = audit.Verdict(verdict.action, [*verdict.reasons, *learnt_from])
    if not export.has_dates:
        verdict = audit.Verdict(verdict.action, [*verdict.reasons, UNDATED_CAVEAT])
    return {
        "quarter": quarter,
        "as_of": as_of.isoformat(),
        "mature_after": mature_after.isoformat() if mature_after is not None else None,
        "months": months,
        "has_dates": export.has_dates,
        "not_supported": unsupported_parts(export, has_stages, served.horizon_days),
        "verdict": {"action": verdict.action, "reasons": verdict.reasons},
        "policy": dataclasses.asdict(policy),
        "model": {
            "name": served.name,
            "version": served.version,
            "versions_in_log": {str(k): int(v) for k, v in scores["model_version"].value_counts().items()},
            "threshold": served.threshold,
            "reference_auc": served.reference_auc,
            "horizon_days": served.horizon_days,
        },
        "leads": {
            "scored": len(outcomes),
            "scores_logged": len(scores),
            **{status: int((outcomes["status"] == status).sum()) for status in ("won", "lost", "open")},
            "not_in_export": int((~outcomes["lead_id"].isin(tables.leads["lead_id"])).sum()),
        },
        "discrimination": _plain(discrimination),
        "calibration_by_decile": _records(audit.calibration_by_decile(outcomes)),
        "funnel_overall": _records(funnel_overall),
        "funnel_by_source": _records(funnel("lead_source")),
        "funnel_by_campaign": _records(funnel("campaign")),
        "has_stages": has_stages,
        "has_contact_times": has_contact_times,
        "rejections_by_source": _records(audit.rejection_reasons(outcomes, "lead_source")),
        "rejections_by_campaign": _records(audit.rejection_reasons(outcomes, "campaign")),
        # no dated dispositions, no first contact: every promise would count as broken
        **{
            f"sla_{key}": _records(audit.sla_compliance(outcomes, as_of, by)) if has_contact_times else []
            for key, by in (("by_grade", "grade"), ("by_team", "sales_team"), ("overall", None))
        },
        "drift": _records(_labelled(drift, served.spec)),
        "time_bound_features": _records(_labelled(time_bound, served.spec)),
        "mql_rate_over_time": _records(audit.mql_rate_over_time(outcomes, "W")),
        "funnel_math": _plain(_funnel_math(outcomes, settings.target_customers_per_month, months, has_stages)),
    }


def _funnel_math(outcomes: pd.DataFrame, target: float, months: float, has_stages: bool) -> dict[str, Any]:
    plan = audit.funnel_math(outcomes, target, months)
    if not has_stages:  # MQLs needed still follow from MQL -> won; the SQL step is unknown without stages
        plan.update(mql_to_sql=None, sql_to_won=None, sqls_needed_per_month=None)
    return plan


def served_model(settings: Settings, version: str) -> ServedModel:
    """The registered version's threshold, reference profile, test AUC and label horizon."""
    scorer, _, _ = load_registered_scorer(settings, version)
    tags = mlflow.MlflowClient().get_model_version(settings.mlflow.registered_model, version).tags
    auc = tags.get("test_roc_auc")
    return ServedModel(
        name=settings.mlflow.registered_model,
        version=version,
        threshold=scorer.threshold.threshold,
        reference=scorer.reference,
        reference_auc=float(auc) if auc else None,
        horizon_days=int(scorer.metadata.get("horizon_days", settings.labels.horizon_days)),  # type: ignore[call-overload]
        spec=feature_spec_of(scorer.pipeline),
        fitted_quarters=frozenset(scorer.fitted_quarters()),
        trained_without_dates=scorer.metadata.get("split") in UNDATED_SPLITS,
    )


def _log_audit_run(settings: Settings, figures: dict[str, Any], html: Path, figures_json: Path) -> str:
    experiment_id = configure_mlflow(settings.mlflow)
    quarter, model = figures["quarter"], figures["model"]
    metrics = {
        f"audit_{key}": float(value)
        for key, value in figures["discrimination"].items()
        if value is not None and np.isfinite(value)
    }
    overall = figures["funnel_overall"][0]
    for key in ("mqls", "mql_rate", "sal_rate", "mql_to_sql", "mql_to_won", "recycled_rate"):
        if overall.get(key) is not None:
            metrics[f"audit_{key}"] = float(overall[key])
    if figures["drift"]:
        metrics["audit_max_feature_psi"] = max(row["psi"] for row in figures["drift"] if row["feature"] != "score")
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"audit-{quarter}") as run:
        mlflow.set_tags(
            {
                "leadq.run_kind": "audit",
                "audit.quarter": quarter,
                "audit.verdict": figures["verdict"]["action"],
                "audit.verdict_reasons": " | ".join(figures["verdict"]["reasons"])[:5000],
                "model_name": model["name"],
                "model_version": model["version"],
            }
        )
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(html), AUDIT_FOLDER)
        mlflow.log_artifact(str(figures_json), AUDIT_FOLDER)
    client = mlflow.MlflowClient()
    client.set_model_version_tag(
        model["name"], model["version"], f"audit_{quarter}_verdict", figures["verdict"]["action"]
    )
    client.set_model_version_tag(model["name"], model["version"], f"audit_{quarter}_run_id", run.info.run_id)
    return str(run.info.run_id)


def channel_columns(mapping: ExportMapping) -> dict[str, str]:
    """Channel (lead_source, campaign) -> the export column that holds it: the categorical feature named like it."""
    features_step = LeadFeatures(mapping.input_columns(), tuple(mapping.placeholders))
    columns = features_step.feature_columns
    return {channel: columns[feature] for channel, feature in channel_features(features_step.feature_spec).items()}


def _audit_leads(rows: pd.DataFrame, created_at: pd.Series, mapping: ExportMapping) -> pd.DataFrame:
    """lead_id, created_at and the channels as the export spells them (placeholders blank)."""
    leads = pd.DataFrame({"lead_id": rows.index.astype(str), "created_at": created_at.to_numpy()})
    channels = channel_columns(mapping)
    for channel in CHANNEL_NAMES:
        column = channels.get(channel)
        leads[channel] = mark_missing(rows[column], mapping.placeholders)[0].to_numpy() if column else None
    return leads


def outcome_deals(
    rows: pd.DataFrame, mapping: ExportMapping, created_at: pd.Series, dated: bool = True
) -> pd.DataFrame:
    """One closed deal per dated lead the outcome column resolves, closed at ``outcome_at``; without an
    ``outcome_at`` column only the won leads, closed at creation; with a ``won_at`` column, one won deal per lead
    with a win date. Where only wins are deals (no ``outcome_at``, or ``lost: []``), the label rule's horizon makes
    the rest lost, and younger leads open, as in training.

    ``created_at``: the export's creation dates, or for an export without them (``dated`` False: outcomes as
    exported, lost ones too) each scored lead's clock start.
    """
    column = mapping.outcome_column
    if mapping.won_at_column is not None:
        won_column = mapping.won_at_column
        won_at = clean_column(rows[won_column], "date", won_column, mapping.placeholders)[0]
        return won_date_deals(won_at, created_at)
    if column is None:
        return empty_table("deals")
    outcome, _ = mark_missing(rows[column], mapping.placeholders)  # a CSV's empty cell is blank, as in training
    y, _ = labels_from_outcome(outcome, mapping.columns[column], column)
    closed_column = mapping.outcome_at_column
    closed_at = (
        clean_column(rows[closed_column], "date", closed_column, mapping.placeholders)[0].fillna(created_at)
        if closed_column
        else created_at
    )
    kept = (y.notna() & created_at.notna()).to_numpy().copy()
    if not closed_column and dated:
        # a lost value without its date may be a "not yet" (X Education's Converted 0 for a lead a week old):
        # only the wins are dated deals, and the rest lost once the horizon has passed, open before, as training
        # leaves the quarters that are not mature out
        kept &= (y == 1).to_numpy()
    lead_ids = rows.index.astype(str)[kept]
    deals = pd.DataFrame(
        {
            "deal_id": [f"outcome-{lead_id}" for lead_id in lead_ids],
            "lead_id": lead_ids,
            "created_at": created_at.to_numpy()[kept],
            "closed_at": closed_at.to_numpy()[kept],
            "amount_eur": float("nan"),
            "outcome": np.where(y.to_numpy()[kept] == 1, "won", "lost"),
        },
        columns=list(DEAL_COLUMNS),
    )
    return validate_table(deals, "deals")


def stage_dispositions(rows: pd.DataFrame, mapping: ExportMapping, created_at: pd.Series) -> pd.DataFrame:
    """One disposition per dated lead from the mapped stage (and reason) column, dated at the lead's creation."""
    stage_column = next(iter(mapping.columns_with("stage")), None)
    if stage_column is None:
        return empty_table("dispositions")
    stages = rows[stage_column].map(mapping.columns[stage_column].mapped_value)
    reason_column = next(iter(mapping.columns_with("reason")), None)
    reasons = (
        rows[reason_column].map(mapping.columns[reason_column].mapped_value).where(stages == "rejected")
        if reason_column
        else pd.Series(None, index=rows.index, dtype=object)
    )
    kept = (stages.notna() & created_at.notna()).to_numpy()
    dispositions = pd.DataFrame(
        {
            "lead_id": rows.index.astype(str)[kept],
            "timestamp": created_at.to_numpy()[kept],
            "stage": stages.to_numpy()[kept],
            "reason": reasons.to_numpy()[kept],
            "sales_team": None,
        }
    )
    return validate_table(dispositions, "dispositions")


def scoring_clock(scores: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Each scored lead's clock start (lead id -> time) as the audit judges it: that of its latest score."""
    return audit.latest_scores(scores, as_of).set_index("lead_id")["clock_start"]


def _placed_by(clock: pd.Series, rows: pd.DataFrame) -> pd.Series:
    """The export's rows dated by the scoring log's clock (NaT: a lead the log does not hold)."""
    return pd.Series(clock.reindex(rows.index.astype(str)).to_numpy(), index=rows.index, dtype="datetime64[ns]")


def audit_export(loaded: LoadedExport, clock: pd.Series | None = None) -> AuditExport:
    """The audit's three tables from an export read through its mapping (no labels, no split, no leak guard).

    An export without creation dates (no created_at column) is placed by ``clock`` (:func:`scoring_clock`):
    leads the scoring log does not hold get no date, and the outcome and stage columns of the others count as
    known at their clock start (``has_dates`` False).

    Raises:
        ValueError: the export has no created_at column and no ``clock`` was given; MappingError: a mapped
            column is missing from the export.
    """
    mapping = loaded.mapping
    created_column = mapping.created_at_column
    selected, _ = select_mapped_columns(loaded.leads.frame, mapping)
    with_ids, _ = index_by_id(selected, mapping.id_column, mapping.placeholders)
    rows, _ = drop_duplicate_leads(
        with_ids, mapping.id_column, unread_columns(mapping), mapping.repeated_ids == "first"
    )
    if created_column is not None:
        created_at, _ = clean_column(rows[created_column], "created_at", created_column, mapping.placeholders)
    elif clock is not None:
        created_at = _placed_by(clock, rows)
    else:
        raise ValueError("the export has no created_at column: place its leads by the scoring log's clock")
    has_dispositions, has_deals = mapping.tables.dispositions is not None, mapping.tables.deals is not None
    if has_dispositions or has_deals:
        dispositions, deals, _ = label_tables(loaded, rows, {created_column or "created_at": created_at})
    if not has_dispositions:
        dispositions = stage_dispositions(rows, mapping, created_at)
    if not has_deals:
        deals = outcome_deals(rows, mapping, created_at, dated=created_column is not None)
    return AuditExport(
        CRMTables(leads=_audit_leads(rows, created_at, mapping), dispositions=dispositions, deals=deals),
        has_contact_times=has_dispositions,
        deals_are_opportunities=has_deals,
        has_dates=created_column is not None,
    )


def audit_as_of(settings: Settings, export: AuditExport | None) -> pd.Timestamp:
    """The audit's cut-off: ``labels.as_of`` if set, else the export's latest event; an export without dates
    (``export`` None) is read as it stands now (UTC)."""
    if settings.labels.as_of:
        return pd.Timestamp(settings.labels.as_of)
    if export is None:
        return pd.Timestamp.now(tz=UTC).tz_localize(None)
    return resolve_as_of(export.tables)


def _require_scored_leads_in_export(export: AuditExport, scores: pd.DataFrame, quarter: str, path: Path) -> None:
    """Without dates an export taken before the quarter cannot be told by its date: by its leads, it can."""
    if not scores["lead_id"].isin(export.tables.leads["lead_id"]).any():
        raise DataContractError(
            [
                f"none of the {scores['lead_id'].nunique():,} leads scored in {quarter} is in the export {path} "
                "(matched by its id column): export the CRM again, after the quarter"
            ]
        )


def run_audit(
    settings: Settings,
    quarter: str,
    *,
    out_dir: Path | None = None,
    report: StepReporter = silent_steps,
) -> AuditResult:
    """Audit one quarter: read the export and the log, compute the figures, write the report, log the run.

    The export comes first: whether it can resolve the quarter at all (exported after the quarter started) does
    not depend on what was scored. An export without creation dates is placed by the scoring log's clock once
    the log is read, and must hold some of the quarter's scored leads.
    """
    start, end = quarter_bounds(quarter)
    with report("read the CRM export (dispositions and deals since)"):
        loaded = read_export_files(settings.data.export, settings.data.mapping)
        export = audit_export(loaded) if loaded.mapping.created_at_column else None  # None: no dates, see below
        as_of = audit_as_of(settings, export)
        if as_of < start:
            raise DataContractError([f"the export ends {as_of} before {quarter} starts: export the CRM again"])
    with report(f"read the scoring log of {quarter}"):
        log_url = settings.serving.scoring_log_url
        if log_url is None:
            raise LookupError("the scoring log is switched off (serving.scoring_log_url is null): nothing to audit")
        scores = read_scoring_log(log_url, start, end)
        if scores.empty:
            raise LookupError(f"no scored leads of {quarter} in the scoring log {log_url}")
    if export is None:
        with report("place the export's leads by the scoring log's clock (the export has no dates)"):
            export = audit_export(loaded, scoring_clock(scores, as_of))
            _require_scored_leads_in_export(export, scores, quarter, settings.data.export)
    version = str(scores["model_version"].mode().iloc[0])
    with report(f"load the served model (version {version})"):
        served = served_model(settings, version)
    with report("compute the audit figures"):
        figures = audit_figures(scores, export, as_of, quarter, served, settings.audit)
    with report("write the report and log the audit run"):
        folder = out_dir or settings.explanations.reports_dir
        stem = f"audit-{quarter}"
        html = write_report(build_audit_report(figures), folder / f"{stem}.html")
        figures_json = write_report(json.dumps(figures, indent=2, allow_nan=False) + "\n", folder / f"{stem}.json")
        run_id = _log_audit_run(settings, figures, html, figures_json)
    verdict = audit.Verdict(figures["verdict"]["action"], figures["verdict"]["reasons"])
    return AuditResult(quarter, verdict, figures, html, figures_json, run_id, version)
