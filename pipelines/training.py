"""The training pipeline, as thin wiring of the steps in ``models/``:

load -> validate -> build labels -> split by time -> fit -> calibrate -> choose threshold -> grade cut points
-> evaluate (against the logistic-regression and points-rule baselines) -> explanation report -> log to MLflow
and register.

``train_scorer`` does the work on frames (no I/O); ``run_training`` adds reading the files and MLflow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline

from models.audit import reference_profile
from models.baselines import build_logistic_baseline
from models.calibration import fit_calibrator
from models.contract import PII_COLUMNS, SCORING_COLUMNS, CRMTables, as_scoring_frame, validate_crm
from models.evaluation import evaluate_decision, evaluate_probabilities, evaluate_ranking
from models.explanations import contributions, fit_grade_cuts
from models.features import FREEMAIL_DOMAINS, build_features
from models.labels import TimeSplit, build_labels, resolve_as_of, split_by_time
from models.pipeline import build_model_pipeline, fit_model, predict_raw
from models.rule_score import rule_score
from models.scorer import LeadScorer
from models.threshold import choose_threshold
from pipelines.io import fingerprint_crm, read_crm
from pipelines.report import ReportContext, build_report, write_report
from pipelines.settings import Settings
from pipelines.tracking import RegisteredModel, log_training_run

StepReporter = Callable[[str], AbstractContextManager[object]]
MONTHS_PER_QUARTER = 3
DAYS_PER_MONTH = 365.25 / 12


def silent_steps(step: str) -> AbstractContextManager[object]:
    return nullcontext()


@dataclass(frozen=True)
class TrainingOutcome:
    """Everything a training run produced, before it is logged."""

    scorer: LeadScorer
    split: TimeSplit
    as_of: pd.Timestamp
    metrics: dict[str, float]
    label_summary: dict[str, int]
    fingerprint: dict[str, object]
    test_scores: pd.DataFrame  # lead_id, converted, model, logistic_regression, points_rule
    test_leads: pd.DataFrame  # the test leads' scoring columns, indexed by lead_id (for the report)
    input_example: pd.DataFrame


@dataclass(frozen=True)
class Sets:
    X_train: pd.DataFrame
    y_train: pd.Series
    X_calibration: pd.DataFrame
    y_calibration: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series


def _prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{name}": value for name, value in metrics.items()}


def _label_summary(labels: pd.DataFrame, split: TimeSplit) -> dict[str, int]:
    summary = {f"status_{k}": int(v) for k, v in labels["label_status"].value_counts().items()}
    summary.update({f"reason_{k}": int(v) for k, v in labels["label_reason"].value_counts().items()})
    summary.update(
        n_train=len(split.train),
        n_calibration=len(split.calibration),
        n_test=len(split.test),
        n_labelled_not_mature=split.immature_labelled,
    )
    return summary


def _sets(leads: pd.DataFrame, labels: pd.DataFrame, split: TimeSplit) -> Sets:
    X = leads.set_index("lead_id")[list(SCORING_COLUMNS)]
    y = labels.set_index("lead_id")["label"].astype(int, errors="ignore")

    def pick(ids: pd.Index) -> tuple[pd.DataFrame, pd.Series]:
        return X.loc[ids], y.loc[ids].astype(int)

    return Sets(*pick(split.train), *pick(split.calibration), *pick(split.test))


def _sample(frame: pd.DataFrame, size: int, seed: int = 0) -> pd.DataFrame:
    return frame if len(frame) <= size else frame.sample(size, random_state=seed)


def redact_pii(leads: pd.DataFrame, columns: Sequence[str] = PII_COLUMNS) -> pd.DataFrame:
    """Copy of lead records safe to store (input examples): e-mail local parts replaced, domains kept."""
    redacted = leads.copy()
    for column in columns:
        domains = redacted[column].astype("str").str.rpartition("@")[2]
        redacted[column] = ("redacted@" + domains).where(redacted[column].notna())
    return redacted


def train_scorer(tables: CRMTables, settings: Settings, report: StepReporter = silent_steps) -> TrainingOutcome:
    """Validate, label, split, fit, calibrate, choose the threshold and evaluate; no files, no MLflow."""
    with report("validate the data contract"):
        tables = validate_crm(tables)
        fingerprint = fingerprint_crm(tables)
    with report("build labels and the out-of-time split"):
        as_of = resolve_as_of(tables, pd.Timestamp(settings.labels.as_of) if settings.labels.as_of else None)
        labels = build_labels(tables, settings.labels.horizon_days, as_of)
        split = split_by_time(
            labels,
            as_of,
            settings.labels.horizon_days,
            settings.split.test_quarters,
            settings.split.calibration_quarters,
        )
        sets = _sets(tables.leads, labels, split)
    features = settings.features
    model = build_model_pipeline(
        settings.model, features.monotone_constraints, features.extra_freemail_domains, features.competitor_domains
    )
    scorer, calibration_losses = fit_scorer(
        model,
        sets,
        settings,
        len(split.calibration_quarters) * MONTHS_PER_QUARTER,
        {
            "as_of": str(as_of.date()),
            "horizon_days": settings.labels.horizon_days,
            "train_quarters": split.train_quarters,
            "calibration_quarters": split.calibration_quarters,
            "test_quarters": split.test_quarters,
        },
        report,
    )
    with report("evaluate on the test quarter(s) against the baselines"):
        metrics, test_scores = _evaluate(scorer, sets, settings, split)
    metrics.update(_prefixed("calibration_cv_log_loss", calibration_losses))
    metrics["best_iteration"] = float(model[-1].best_iteration_ or model[-1].n_estimators)
    return TrainingOutcome(
        scorer=scorer,
        split=split,
        as_of=as_of,
        metrics=metrics,
        label_summary=_label_summary(labels, split),
        fingerprint=fingerprint,
        test_scores=test_scores,
        test_leads=sets.X_test,
        input_example=as_scoring_frame(redact_pii(sets.X_test.head(5).reset_index(drop=True))),
    )


def fit_scorer(
    model: Pipeline,
    sets: Sets,
    settings: Settings,
    calibration_months: float,
    metadata: dict[str, object],
    report: StepReporter = silent_steps,
) -> tuple[LeadScorer, dict[str, float]]:
    """Fit the pipeline, calibrate it, choose the MQL threshold, fit grade cut points and profile the training leads.

    Any model pipeline (the data contract's or a mapped export's features step) goes through the same steps.
    Returns the scorer and the calibration method's cross-validated log losses.
    """
    with report(f"fit LightGBM on {len(sets.X_train):,} leads"):
        fit_model(
            model,
            sets.X_train,
            sets.y_train,
            sets.X_calibration,
            sets.y_calibration,
            settings.model.early_stopping_rounds,
        )
    with report("calibrate and choose the MQL threshold"):
        y_calibration = sets.y_calibration.to_numpy()
        raw_calibration = predict_raw(model, sets.X_calibration)
        calibrator, calibration_losses = fit_calibrator(raw_calibration, y_calibration)
        threshold = choose_threshold(
            calibrator.transform(raw_calibration), y_calibration, calibration_months, settings.threshold
        )
    with report("fit the grade cut points on training leads"):
        grade_cuts = fit_grade_cuts(
            contributions(model, _sample(sets.X_train, settings.grades.sample_size)), settings.grades
        )
        scorer = LeadScorer(
            pipeline=model,
            calibrator=calibrator,
            threshold=threshold,
            grade_cuts=grade_cuts,
            sla=settings.sla,
            language=settings.explanations.language,
            top_k=settings.explanations.top_k,
            metadata={**metadata, "calibration_method": calibrator.method},
        )
    with report("profile the training leads (the drift audit's reference)"):
        scorer = dataclasses.replace(
            scorer, reference=training_profile(scorer, sets.X_train, settings.grades.sample_size)
        )
    return scorer, calibration_losses


def training_profile(scorer: LeadScorer, X_train: pd.DataFrame, sample_size: int) -> dict[str, object]:
    """The model features and calibrated scores of (a sample of) the training leads, as the audit's PSI baseline."""
    sample = _sample(X_train, sample_size, seed=1)
    return reference_profile(scorer.pipeline.named_steps["features"].transform(sample), scorer.predict_proba(sample))


def _evaluate(
    scorer: LeadScorer, sets: Sets, settings: Settings, split: TimeSplit
) -> tuple[dict[str, float], pd.DataFrame]:
    y_test = sets.y_test.to_numpy()
    months = len(split.test_quarters) * MONTHS_PER_QUARTER
    model_p = scorer.predict_proba(sets.X_test)
    features = settings.features
    logistic = build_logistic_baseline(
        settings.model.min_category_share, features.extra_freemail_domains, features.competitor_domains
    ).fit(sets.X_train, sets.y_train)
    logistic_p = logistic.predict_proba(sets.X_test)[:, 1]
    test_features = build_features(
        sets.X_test, FREEMAIL_DOMAINS | set(features.extra_freemail_domains), frozenset(features.competitor_domains)
    )
    points = rule_score(test_features, settings.rule_score)
    metrics = {
        **_prefixed("test", evaluate_probabilities(y_test, model_p)),
        **_prefixed("test_mql", evaluate_decision(y_test, model_p >= scorer.threshold.threshold, months)),
        **_prefixed("logreg_test", evaluate_probabilities(y_test, logistic_p)),
        **_prefixed("rules_test", evaluate_ranking(y_test, points)),
        **_prefixed("rules_test_mql", evaluate_decision(y_test, points >= settings.rule_score.mql_points, months)),
        "threshold": scorer.threshold.threshold,
        "n_train": float(len(sets.X_train)),
        "n_calibration": float(len(sets.X_calibration)),
        "n_test": float(len(sets.X_test)),
    }
    test_scores = pd.DataFrame(
        {
            "lead_id": sets.X_test.index,
            "converted": y_test,
            "model": model_p,
            "logistic_regression": logistic_p,
            "points_rule": points,
        }
    )
    return metrics, test_scores


@dataclass(frozen=True)
class TrainingResult:
    outcome: TrainingOutcome
    registered: RegisteredModel
    report_path: Path


def run_training(settings: Settings, report: StepReporter = silent_steps) -> TrainingResult:
    """Read the configured CRM export, train, log the run to MLflow and register the model."""
    with report("read the CRM export"):
        tables = read_crm(settings.data.leads, settings.data.dispositions, settings.data.deals)
    outcome = train_scorer(tables, settings, report)
    with report("write the explanation report"):
        html = explanation_report(outcome, settings)
    with report("log the run to MLflow and register the model"):
        registered = log_training_run(outcome, settings, html)
    report_path = write_report(
        html, settings.explanations.reports_dir / f"{registered.name}-v{registered.version}.html"
    )
    return TrainingResult(outcome=outcome, registered=registered, report_path=report_path)


def explanation_report(outcome: TrainingOutcome, settings: Settings) -> str:
    """The marketing report on the test quarter(s) of a training run."""
    context = ReportContext(
        model_name=settings.mlflow.registered_model,
        model_label=f"trained on data up to {outcome.as_of.date()}",
        period=f"test quarter(s) {', '.join(outcome.split.test_quarters)}",
    )
    return build_report(
        outcome.scorer,
        outcome.test_leads,
        outcome.test_scores["converted"].to_numpy(),
        context,
        settings.rule_score,
        sample_size=settings.explanations.report_sample,
        max_leads=settings.explanations.report_leads,
    )
