"""``leadq train --data export.csv --mapping mapping.yml``: the training pipeline on your own CRM export.

read the export -> prepare it through the mapping (clean, label, split, leakage guard; ``prepare_export``) ->
the model pipeline around the mapped features step -> ``fit_scorer`` (fit, calibrate, threshold, grades,
drift profile; the same as the synthetic path) -> evaluate on the held-out leads -> log to MLflow (params,
metrics, plots, the preparation report, the mapping) and register.

The model reads the export's own columns, as text or numbers, and parses them as training did, so the same
fields can be sent to it for scoring.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from models.contract import DataContractError
from models.evaluation import evaluate_decision, evaluate_probabilities
from models.labels import TimeSplit
from models.mapped_features import MappedFeatureBuilder
from models.pipeline import assemble_pipeline
from pipelines.mapping import ExportMapping, dump_mapping
from pipelines.prepare_export import (
    PreparedExport,
    prepare_export,
    read_mapped_files,
)
from pipelines.report import ReportContext, build_report, write_report
from pipelines.settings import Settings
from pipelines.tracking import RegisteredModel, log_training_run
from pipelines.training import (
    DAYS_PER_MONTH,
    Sets,
    StepReporter,
    TrainingOutcome,
    TrainingResult,
    fit_scorer,
    redact_pii,
    silent_steps,
)

PREPARATION_ARTIFACT = "data/preparation.json"
MAPPING_ARTIFACT = "data/mapping.json"


@dataclass(frozen=True)
class MappedSplit:
    """The held-out leads cut into calibration and test, and how many months of leads each set covers."""

    split: TimeSplit
    calibration_months: float | None  # None: no creation dates, so no leads-per-month figure
    test_months: float | None


def _quarters(created_at: pd.Series | None, ids: pd.Index) -> list[str]:
    if created_at is None:
        return []
    return sorted({str(period) for period in created_at.loc[ids].dropna().dt.to_period("Q")})


def _months(created_at: pd.Series | None, ids: pd.Index, share_of_all: float | None = None) -> float | None:
    """Months of leads a set stands for: its own date span (out of time) or its share of the export's span."""
    if created_at is None or created_at.notna().sum() < 2:
        return None
    dates = created_at.loc[ids].dropna() if share_of_all is None else created_at.dropna()
    span = (dates.max() - dates.min()).days / DAYS_PER_MONTH
    return max(span * (1.0 if share_of_all is None else share_of_all), 1 / DAYS_PER_MONTH)


def split_held_out(prepared: PreparedExport, random_state: int = 42) -> MappedSplit:
    """Training leads as prepared; the held-out leads halved into calibration (earlier) and test (later).

    Out of time, the halves are cut by creation date so the test leads are the most recent; with a random
    split they are stratified halves.
    """
    labelled = prepared.y.notna().to_numpy()
    index = prepared.features.index
    train = index[prepared.train_mask & labelled]
    held_out = index[~prepared.train_mask & labelled]
    y_held_out = prepared.y.loc[held_out]
    if prepared.split == "out_of_time" and prepared.created_at is not None:
        ordered = prepared.created_at.loc[held_out].sort_values(kind="stable").index
        calibration, test = ordered[: len(ordered) // 2], ordered[len(ordered) // 2 :]
        months = (_months(prepared.created_at, calibration), _months(prepared.created_at, test))
    else:
        calibration_ids, test_ids = train_test_split(
            held_out.to_numpy(), test_size=0.5, stratify=y_held_out.to_numpy(), random_state=random_state
        )
        calibration, test = pd.Index(calibration_ids), pd.Index(test_ids)
        n_labelled = int(labelled.sum())
        months = (
            _months(prepared.created_at, calibration, len(calibration) / n_labelled),
            _months(prepared.created_at, test, len(test) / n_labelled),
        )
    for name, ids in (("calibration", calibration), ("test", test)):
        if prepared.y.loc[ids].nunique() < 2:
            raise DataContractError(
                [f"labels: the {name} leads hold only one class; the export needs more won and lost leads"]
            )
    split = TimeSplit(
        train=train,
        calibration=calibration,
        test=test,
        train_quarters=_quarters(prepared.created_at, train),
        calibration_quarters=_quarters(prepared.created_at, calibration),
        test_quarters=_quarters(prepared.created_at, test),
        immature_labelled=0,
    )
    return MappedSplit(split, *months)


def _sets(inputs: pd.DataFrame, y: pd.Series, split: TimeSplit) -> Sets:
    def pick(ids: pd.Index) -> tuple[pd.DataFrame, pd.Series]:
        return inputs.loc[ids], y.loc[ids].astype(int)

    return Sets(*pick(split.train), *pick(split.calibration), *pick(split.test))


def _calibration_months(mapped: MappedSplit, settings: Settings) -> float:
    if mapped.calibration_months is not None:
        return mapped.calibration_months
    if settings.threshold.policy == "capacity":
        raise DataContractError(
            [
                "threshold.policy capacity needs the leads' creation dates (map a created_at column) to count MQLs "
                "per month; without dates use threshold.policy precision or expected_value"
            ]
        )
    return float("nan")  # the threshold does not depend on it; MQLs per month are then unknown


def _fingerprint(export: Path | None, inputs: pd.DataFrame, prepared: PreparedExport) -> dict[str, object]:
    digest = hashlib.sha256(export.read_bytes() if export else b"")
    digest.update(pd.util.hash_pandas_object(inputs, index=True).to_numpy().tobytes())
    created = prepared.created_at.dropna() if prepared.created_at is not None else pd.Series(dtype="datetime64[ns]")
    return {
        "leads_rows": len(inputs),
        "dispositions_rows": 0,
        "deals_rows": 0,
        "leads_from": str(created.min().date()) if len(created) else "",
        "leads_to": str(created.max().date()) if len(created) else "",
        "sha256": digest.hexdigest(),
    }


def _redacted_example(inputs: pd.DataFrame, mapping: ExportMapping) -> pd.DataFrame:
    example = inputs.head(5).reset_index(drop=True).map(lambda value: None if pd.isna(value) else str(value))
    redacted = redact_pii(example, [column for column in mapping.columns_with("pii") if column in example])
    return redacted.astype(object).where(redacted.notna(), None)


def train_mapped_scorer(
    leads: pd.DataFrame,
    mapping: ExportMapping,
    settings: Settings,
    report: StepReporter = silent_steps,
    *,
    dispositions: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
    export_path: Path | None = None,
) -> tuple[TrainingOutcome, PreparedExport]:
    """Prepare the export through its mapping, then fit, calibrate, grade and evaluate; no files, no MLflow."""
    with report("prepare the export through the mapping (clean, label, split, leakage guard)"):
        prepared = prepare_export(
            leads,
            mapping,
            dispositions=dispositions,
            deals=deals,
            horizon_days=settings.labels.horizon_days,
            as_of=pd.Timestamp(settings.labels.as_of) if settings.labels.as_of else None,
        )
        mapped = split_held_out(prepared)
    features = settings.features
    builder = MappedFeatureBuilder(
        prepared.columns, tuple(mapping.placeholders), features.extra_freemail_domains, features.competitor_domains
    )
    inputs = prepared.rows.reindex(columns=list(builder.input_columns))
    sets = _sets(inputs, prepared.y, mapped.split)
    split = mapped.split
    metadata = {
        "horizon_days": settings.labels.horizon_days,
        "train_quarters": split.train_quarters,
        "calibration_quarters": split.calibration_quarters,
        "test_quarters": split.test_quarters,
        "split": prepared.split,
        "split_reason": prepared.split_reason,
        "input_columns": list(builder.input_columns),
    }
    # rare categories grouped at the mapping's share, as check-export reported them
    params = settings.model.model_copy(update={"min_category_share": mapping.rare_category_share})
    model = assemble_pipeline(builder, params, {})
    scorer, losses = fit_scorer(model, sets, settings, _calibration_months(mapped, settings), metadata, report)
    with report("evaluate on the held-out test leads"):
        y_test = sets.y_test.to_numpy()
        probabilities = scorer.predict_proba(sets.X_test)
        decided = probabilities >= scorer.threshold.threshold
        test_months = mapped.test_months if mapped.test_months is not None else float("nan")
        metrics = {
            **{f"test_{k}": v for k, v in evaluate_probabilities(y_test, probabilities).items()},
            **{f"test_mql_{k}": v for k, v in evaluate_decision(y_test, decided, test_months).items()},
            **{f"calibration_cv_log_loss_{k}": v for k, v in losses.items()},
            "threshold": scorer.threshold.threshold,
            "n_train": float(len(sets.X_train)),
            "n_calibration": float(len(sets.X_calibration)),
            "n_test": float(len(sets.X_test)),
            "best_iteration": float(model[-1].best_iteration_ or model[-1].n_estimators),
        }
    created = prepared.created_at
    as_of = pd.Timestamp(created.max()) if created is not None and created.notna().any() else pd.Timestamp.now()
    labels: dict[str, Any] = prepared.report.get("labels", {})
    outcome = TrainingOutcome(
        scorer=scorer,
        split=split,
        as_of=as_of.normalize(),
        metrics={k: float(v) for k, v in metrics.items() if v is not None and np.isfinite(v)},
        label_summary={k: int(v) for k, v in labels.items() if isinstance(v, int | np.integer)},
        fingerprint=_fingerprint(export_path, inputs, prepared),
        test_scores=pd.DataFrame({"lead_id": sets.X_test.index, "converted": y_test, "model": probabilities}),
        test_leads=sets.X_test,
        input_example=_redacted_example(sets.X_test, mapping),
    )
    return outcome, prepared


def mapped_explanation_report(outcome: TrainingOutcome, settings: Settings) -> str:
    """The marketing report on the held-out test leads of a mapped export (no points-rule section)."""
    quarters = outcome.split.test_quarters
    context = ReportContext(
        model_name=settings.mlflow.registered_model,
        model_label=f"trained on your CRM export up to {outcome.as_of.date()}",
        period=f"held-out test leads ({', '.join(quarters)})" if quarters else "held-out test leads",
    )
    return build_report(
        outcome.scorer,
        outcome.test_leads,
        outcome.test_scores["converted"].to_numpy(),
        context,
        None,
        sample_size=settings.explanations.report_sample,
        max_leads=settings.explanations.report_leads,
    )


def log_mapped_training(
    outcome: TrainingOutcome, prepared: PreparedExport, mapping: ExportMapping, settings: Settings, html: str
) -> RegisteredModel:
    """Log the run like the synthetic path, plus how the export was prepared and its mapping; register the model."""
    return log_training_run(
        outcome,
        settings,
        html,
        extra_dicts={PREPARATION_ARTIFACT: prepared.report, MAPPING_ARTIFACT: {"yaml": dump_mapping(mapping)}},
        mapped_columns=tuple(outcome.scorer.pipeline.named_steps["features"].input_columns),
    )


def train_on_export(
    settings: Settings, export_path: Path, mapping_path: Path, report: StepReporter = silent_steps
) -> tuple[TrainingOutcome, PreparedExport, ExportMapping]:
    """Read the export, its mapping and the tables it names, then train (no MLflow yet)."""
    with report("read the export, its mapping and the tables it names"):
        mapping, export, tables = read_mapped_files(export_path, mapping_path)
    outcome, prepared = train_mapped_scorer(export.frame, mapping, settings, report, export_path=export_path, **tables)
    return outcome, prepared, mapping


def run_mapped_training(
    settings: Settings, export_path: Path, mapping_path: Path, report: StepReporter = silent_steps
) -> tuple[TrainingResult, PreparedExport]:
    """Read the export and its mapping, train, log the run (with the preparation report) and register the model."""
    outcome, prepared, mapping = train_on_export(settings, export_path, mapping_path, report)
    with report("write the explanation report"):
        html = mapped_explanation_report(outcome, settings)
    with report("log the run to MLflow and register the model"):
        registered = log_mapped_training(outcome, prepared, mapping, settings, html)
    path = write_report(html, settings.explanations.reports_dir / f"{registered.name}-v{registered.version}.html")
    return TrainingResult(outcome=outcome, registered=registered, report_path=path), prepared
