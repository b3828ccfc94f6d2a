"""The training pipeline, one road for every CRM export (the synthetic demo included), as thin wiring of steps:

read -> mapping -> clean -> label -> split -> leakage guard (``pipelines.crm_export.prepare``) -> features ->
fit -> calibrate -> choose threshold -> grade cut points -> evaluate (against the logistic-regression and,
where the mapping has one, the points-rule baseline) -> explanation report -> log to MLflow and register.

``train_scorer`` does the work on a read export (no MLflow); ``run_training`` adds the files and MLflow.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from models.audit import reference_profile
from models.baselines import build_logistic_baseline
from models.calibration import ProbabilityCalibrator, fit_calibrator
from models.cleaning import date_order_evidence, mark_missing
from models.evaluation import (
    bootstrap_decision,
    bootstrap_ranking,
    evaluate_decision,
    evaluate_probabilities,
    evaluate_ranking,
)
from models.explanations import contributions, fit_grade_cuts
from models.features import InputColumn, LeadFeatures
from models.labels import Fold, TimeSplit
from models.pipeline import (
    LARGE_EXPORT_ROWS,
    BoosterParams,
    assemble_pipeline,
    fit_model,
    refit_cross_fitted,
    refit_trees,
)
from models.rule_score import PointsRule, rule_score
from models.scorer import LeadScorer
from models.threshold import ThresholdChoice, choose_threshold
from pipelines.crm_export.mapping import (
    FEATURE_ROLES,
    ExportMapping,
    MappingError,
    dump_mapping,
    option_key,
    option_label,
    parse_mapping,
)
from pipelines.crm_export.prepare import LoadedExport, PreparedExport, prepare_export, read_export_files, source_report
from pipelines.report import ReportContext, build_report, write_report
from pipelines.settings import ConfigError, Settings
from pipelines.tracking import RegisteredModel, log_training_run
from serving.pii import MARKER, personal_kind

StepReporter = Callable[[str], AbstractContextManager[object]]
MONTHS_PER_QUARTER = 3
DAYS_PER_MONTH = 365.25 / 12
PREPARATION_ARTIFACT = "data/preparation.json"
MAPPING_ARTIFACT = "data/mapping.json"
REFIT_FOLDS = 3  # out-of-fold scores for the refit's calibration: 3 fits on 2/3 of the leads each
# Fewer won (or not-won) held-out leads than this: calibrate on every lead's out-of-fold score instead (a small
# export's most recent leads held 1 won of 14; every out-of-fold score is as unbiased, only less recent)
MIN_CALIBRATION_OUTCOMES = 5
EVALUATION_GRADE_SAMPLE = 1000  # leads whose SHAP values cut the grades of the evaluated (never shipped) model
FEWER_LEAVES = (2, 3, 7)  # tried beside the scaled num_leaves (see fit_early_stopped)


def silent_steps(step: str) -> AbstractContextManager[object]:
    return nullcontext()


def read_after_contact(champion: ExportMapping, trained: ExportMapping) -> list[str]:
    """The columns the champion's model reads as features that a newly trained mapping marks ``after_contact``, and
    the options of a multi-select column it takes out of ``options`` (a leaking option's remedy, "Tags: Customer"):
    the champion's scores then use what sales filled in after contact, and it stays served until moved."""
    read = []
    for column, spec in champion.columns.items():
        now = trained.columns.get(column)
        if spec.role not in FEATURE_ROLES or now is None:
            continue
        if now.role == "after_contact":
            read.append(column)
        elif spec.role == now.role == "multi_select":
            kept = {option_key(option) for option in now.options or ()}
            read += [option_label(column, o) for o in spec.options or () if option_key(o) not in kept]
    return read


def stale_champion_warning(tracking_uri: str, name: str, champion: str, new_version: str, trained_yaml: str) -> str:
    """What to say when the champion that stays served reads columns the newly trained mapping marks
    ``after_contact`` (a mapping corrected after a leak); empty when it reads none, or logged no mapping."""
    try:
        leaked = read_after_contact(registered_mapping(tracking_uri, name, champion), parse_mapping(trained_yaml))
    except MappingError:  # a champion trained before leadq logged its mapping: nothing to compare
        return ""
    if not leaked:
        return ""
    return (
        f"the champion, version {champion}, reads {', '.join(leaked)} as features, which this mapping marks "
        "after_contact or no longer reads: its scores may use what sales filled in after contact. Train again with "
        "--force to make a model "
        f"of this mapping the champion, or move the alias to version {new_version} in the MLflow UI."
    )


def registered_mapping(tracking_uri: str, name: str, version: str) -> ExportMapping:
    """The mapping a registered version was trained with (its run's ``MAPPING_ARTIFACT``).

    Raises:
        MappingError: the run has no usable mapping (trained before leadq logged it, or unreadable).
    """
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    run_id = str(client.get_model_version(name, version).run_id)
    try:
        with tempfile.TemporaryDirectory(prefix="leadq-mapping-") as scratch:
            local = Path(client.download_artifacts(run_id, MAPPING_ARTIFACT, scratch))
            text = json.loads(local.read_text(encoding="utf-8"))["yaml"]
    except (mlflow.exceptions.MlflowException, OSError, ValueError, KeyError, TypeError) as error:
        raise MappingError(
            f"version {version} of {name!r}: its run {run_id} has no usable {MAPPING_ARTIFACT} (trained before "
            "leadq logged the mapping?); pass --mapping with the export's mapping file"
        ) from error
    return parse_mapping(str(text), f"{MAPPING_ARTIFACT} of version {version}")


@dataclass(frozen=True)
class TrainingOutcome:
    """Everything a training run produced, before it is logged."""

    scorer: LeadScorer
    split: TimeSplit
    as_of: pd.Timestamp
    metrics: dict[str, float]
    label_summary: dict[str, int]
    fingerprint: dict[str, object]
    test_scores: pd.DataFrame  # lead_id, converted, model, logistic_regression (, points_rule)
    test_leads: pd.DataFrame  # the test leads' input columns, indexed by lead id (for the report)
    input_example: pd.DataFrame
    preparation: dict[str, Any]  # how the export was prepared (every cleaning choice, the split, the leak guard)
    mapping_yaml: str
    points_rule: PointsRule | None = None
    # the model the test metrics are of (fitted on the training leads); ``scorer`` is its refit on every labelled
    # lead, what is shipped. None: no refit (scorer is the evaluated model)
    evaluated: LeadScorer | None = None


@dataclass(frozen=True)
class Sets:
    X_train: pd.DataFrame
    y_train: pd.Series
    X_calibration: pd.DataFrame
    y_calibration: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series

    def fitted(self) -> tuple[pd.DataFrame, pd.Series]:
        """The leads the evaluated model and the baselines learn from: the training and calibration leads."""
        return pd.concat([self.X_train, self.X_calibration]), pd.concat([self.y_train, self.y_calibration]).astype(int)


def _prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{name}": value for name, value in metrics.items()}


def _sets(inputs: pd.DataFrame, y: pd.Series, split: TimeSplit | Fold) -> Sets:
    def pick(ids: pd.Index) -> tuple[pd.DataFrame, pd.Series]:
        return inputs.loc[ids], y.loc[ids].astype(int)

    return Sets(*pick(split.train), *pick(split.calibration), *pick(split.test))


def _sample(frame: pd.DataFrame, size: int, seed: int = 0) -> pd.DataFrame:
    return frame if len(frame) <= size else frame.sample(size, random_state=seed)


def set_months(split: TimeSplit, created_at: pd.Series | None, ids: pd.Index) -> float | None:
    """Months of leads a set stands for (MQLs per month); None without creation dates.

    Whole quarters count three months each; a set cut by date spans its own dates; a random set stands for
    its share of the export's span.
    """
    quarters = split.test_quarters if ids is split.test else split.calibration_quarters
    if split.by_quarters:
        return len(quarters) * MONTHS_PER_QUARTER
    if created_at is None or created_at.notna().sum() < 2:
        return None
    if split.kind == "random_stratified":
        dates = created_at.dropna()
        share = len(ids) / (len(split.train) + len(split.held_out))
    else:
        dates, share = created_at.loc[ids].dropna(), 1.0
    return max((dates.max() - dates.min()).days / DAYS_PER_MONTH * share, 1 / DAYS_PER_MONTH)


def redact_pii(rows: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Copy of lead records safe to store (input examples): e-mail local parts replaced, domains kept."""
    redacted = rows.copy()
    for column in columns:
        domains = redacted[column].astype("str").str.rpartition("@")[2]
        redacted[column] = ("redacted@" + domains).where(redacted[column].notna())
    return redacted


def _input_example(X_test: pd.DataFrame, builder: LeadFeatures) -> pd.DataFrame:
    """Five test leads as text (the model's signature), stored in MLflow: e-mail addresses redacted, free text
    replaced by as many x (the model reads its length only: notes hold names and numbers), and category values
    that look like personal data replaced as the service replaces them (multi-select cells item by item)."""
    example = X_test.head(5).reset_index(drop=True).map(lambda value: None if pd.isna(value) else str(value))
    roles = builder.input_roles
    redacted = redact_pii(example, [column for column, role in roles.items() if role == "email"])
    for column in (column for column, role in roles.items() if role == "text" and column in redacted):
        redacted[column] = redacted[column].map(lambda text: "x" * len(text) if isinstance(text, str) else None)
    for mapped in (mapped for mapped in builder.columns if mapped.column in redacted):
        if mapped.role == "categorical":
            redacted[mapped.column] = redacted[mapped.column].map(_personal_removed)
        elif mapped.role == "multi_select":
            redacted[mapped.column] = redacted[mapped.column].map(
                lambda cell, mapped=mapped: _options_personal_removed(cell, mapped)
            )
    return redacted.astype(object).where(redacted.notna(), None)


def _personal_removed(value: object) -> object:
    return MARKER if isinstance(value, str) and personal_kind(value) else value


def _options_personal_removed(cell: object, mapped: InputColumn) -> object:
    """A multi-select cell judged by its options: "Payroll, Time Tracking" is two options the mapping lists, not a
    surname and a first name; an item no option matches is judged alone."""
    if not isinstance(cell, str):
        return cell
    declared = {option_key(option) for option, _ in mapped.options}
    unknown = [item for item in cell.split(mapped.separator) if option_key(item) not in declared]
    return MARKER if any(personal_kind(item) for item in unknown) else cell


def _fingerprint(loaded: LoadedExport, inputs: pd.DataFrame, prepared: PreparedExport) -> dict[str, object]:
    digest = hashlib.sha256(loaded.path.read_bytes() if loaded.path else b"")
    digest.update(pd.util.hash_pandas_object(inputs, index=True).to_numpy().tobytes())
    for table in loaded.tables.values():
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    created = prepared.created_at.dropna() if prepared.created_at is not None else pd.Series(dtype="datetime64[ns]")
    return {
        "leads_rows": len(inputs),
        "dispositions_rows": len(prepared.dispositions),
        "deals_rows": len(prepared.deals),
        "leads_from": str(created.min().date()) if len(created) else "",
        "leads_to": str(created.max().date()) if len(created) else "",
        "sha256": digest.hexdigest(),
        # where it was read: `leadq explain` without --data explains the version on the export it learnt from
        "export": str(loaded.path.resolve()) if loaded.path else "",
        "mapping": str(loaded.mapping_path.resolve()) if loaded.mapping_path else "",
    }


def _calibration_months(months: float | None, settings: Settings) -> float:
    """Months of leads the calibration leads stand for; NaN without creation dates (MQLs per month unknown).

    ``threshold.policy: auto`` then reads the threshold against the base rate; an explicit ``capacity`` cannot
    be met and is a settings error, named as such (the export itself is valid).
    """
    if months is not None:
        return months
    if settings.threshold.policy == "capacity":
        raise ConfigError(
            "threshold.policy: capacity needs MQLs per month, and this export has no creation dates to count them "
            "(no created_at column in the mapping); set threshold.policy: auto (the default) or precision, or map "
            "a creation-date column"
        )
    return float("nan")


def created_at_day_first(rows: pd.DataFrame, mapping: ExportMapping) -> bool | None:
    """Whether the export's day/month creation dates were read day-first, where values with a day > 12 decided
    it (None: no such values, ISO dates, or no created_at)."""
    column = mapping.created_at_column
    if column is None or column not in rows:
        return None
    marked, _ = mark_missing(rows[column].reset_index(drop=True), mapping.placeholders)
    return date_order_evidence(marked).decided_by_values


def train_scorer(loaded: LoadedExport, settings: Settings, report: StepReporter = silent_steps) -> TrainingOutcome:
    """Prepare the export through its mapping, then fit, calibrate, grade and evaluate; no files, no MLflow."""
    mapping = loaded.mapping
    with report("prepare the export through its mapping (clean, label, split, leakage guard)"):
        prepared = prepare_export(
            loaded,
            horizon_days=settings.labels.horizon_days,
            as_of=pd.Timestamp(settings.labels.as_of) if settings.labels.as_of else None,
            **settings.split.options(),
        )
    features = settings.features
    builder = LeadFeatures(
        prepared.columns, tuple(mapping.placeholders), features.extra_freemail_domains, features.competitor_domains
    )
    inputs = prepared.rows.reindex(columns=list(builder.input_columns))
    split = prepared.split
    metadata = {
        "as_of": str(prepared.as_of.date()),
        "horizon_days": settings.labels.horizon_days,
        "train_quarters": split.train_quarters,
        "calibration_quarters": split.calibration_quarters,
        "test_quarters": split.test_quarters,
        "split": split.kind,
        "split_reason": split.reason,
        "evaluation_folds": len(split.folds),
        "input_columns": list(builder.input_columns),
        # how the export's day/month creation dates read ("01/11" the 1st of November or January 11th), where its
        # values told it: leadq score --since reads a later export of the same CRM so when its values cannot tell
        "created_at_day_first": created_at_day_first(prepared.rows, mapping),
    }
    calibration_months = _calibration_months(set_months(split, prepared.created_at, split.calibration), settings)
    evaluations = []
    for number, fold in enumerate(split.folds, start=1):
        sets = _sets(inputs, prepared.y, fold)
        of_folds = f" (fold {number} of {len(split.folds)})" if len(split.folds) > 1 else ""
        evaluations.append(
            _evaluate_fold(builder, mapping, sets, settings, calibration_months, metadata, report, of_folds)
        )
    # the first fold's model is the one the refit repeats (its trees and hyper-parameters) and retrain compares
    scorer, sets, losses = evaluations[0].scorer, evaluations[0].sets, evaluations[0].losses
    metadata["booster_params"] = scorer.metadata["booster_params"]
    with report("evaluate on the test leads against the baselines"):
        test_scores = pd.concat([evaluation.test_scores for evaluation in evaluations], ignore_index=True)
        test_months = set_months(split, prepared.created_at, split.test)
        months = np.nan if test_months is None else test_months * len(evaluations)
        metrics = held_out_metrics(test_scores, settings, months) | _set_counts(evaluations)
        if len(evaluations) > 1:
            metrics |= _fold_spread([evaluation.test_scores for evaluation in evaluations])
    metrics.update(_prefixed("calibration_cv_log_loss", losses))
    metrics["best_iteration"] = float(scorer.metadata["early_stopped_trees"])  # type: ignore[arg-type]
    metrics["evaluated_trees"] = float(scorer.metadata["evaluated_trees"])  # type: ignore[arg-type]
    # The test metrics above are the evaluated model's; the shipped one also learns from the latest leads.
    evaluated = scorer
    scorer = refit_scorer(evaluated, sets, settings, calibration_months, report)
    metrics |= {"refit_leads": float(len(sets.X_train) + len(sets.X_calibration) + len(sets.X_test))}
    # every labelled lead once (cross-validated: the test sets of all folds are these leads again): the gate's counts
    conversions = sets.y_train.sum() + sets.y_calibration.sum() + sets.y_test.sum()
    metrics |= {"labelled_leads": metrics["refit_leads"], "labelled_conversions": float(conversions)}
    metrics |= {"refit_trees": float(scorer.pipeline[-1].n_estimators)}
    # the threshold served is the shipped model's (same policy, its own scores); test_mql_* used the evaluated one
    metrics |= {"evaluated_threshold": metrics["threshold"], "threshold": scorer.threshold.threshold}
    labels: dict[str, Any] = prepared.report.get("labels", {})
    return TrainingOutcome(
        scorer=scorer,
        split=split,
        as_of=prepared.as_of.normalize(),
        metrics={k: float(v) for k, v in metrics.items() if v is not None and np.isfinite(v)},
        label_summary={k: int(v) for k, v in labels.items() if isinstance(v, int | np.integer)},
        fingerprint=_fingerprint(loaded, inputs, prepared),
        test_scores=test_scores,
        test_leads=inputs.loc[test_scores["lead_id"]],
        input_example=_input_example(sets.X_test, builder),
        preparation={"source": source_report(loaded), **prepared.report},
        mapping_yaml=dump_mapping(mapping),
        points_rule=mapping.points_rule,
        evaluated=evaluated,
    )


def _finish_scorer(
    model: Pipeline,
    calibrator: ProbabilityCalibrator,
    threshold: ThresholdChoice,
    X_fitted: pd.DataFrame,
    settings: Settings,
    metadata: dict[str, object],
    report: StepReporter,
    profile: bool = True,
    of_folds: str = "",
) -> LeadScorer:
    """The scorer around a fitted model: grade cut points and the drift audit's profile from the leads it learnt."""
    which = "the evaluated" if not profile else "the shipped"
    with report(f"fit the grade cut points on {which} model's leads{of_folds}"):
        grade_cuts = fit_grade_cuts(
            contributions(model, _sample(X_fitted, settings.grades.sample_size)), settings.grades
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
    if not profile:
        return scorer
    with report("profile the training leads (the drift audit's reference)"):
        return dataclasses.replace(scorer, reference=training_profile(scorer, X_fitted, settings.grades.sample_size))


def _refit_calibrated(
    early_stopped: Pipeline,
    fitted_on: int,
    X_fit: pd.DataFrame,
    y_fit: pd.Series,
    held_out_from: int,
    settings: Settings,
    calibration_months: float,
    folds: int = REFIT_FOLDS,
) -> tuple[Pipeline, ProbabilityCalibrator, ThresholdChoice, dict[str, float], int, int]:
    """The early-stopped model's settings refit on ``X_fit``, calibrated and thresholded without leaking.

    The refit grows the early-stopped number of trees (chosen on ``fitted_on`` leads) in proportion to the leads
    (:func:`models.pipeline.refit_trees`). ``folds`` copies each fitted on the other folds give every lead an
    out-of-fold score (:func:`models.pipeline.refit_cross_fitted`); the calibrator and the MQL threshold are
    fitted on those of the leads from position ``held_out_from`` on (the most recent ones of an out-of-time
    split), with ``calibration_months`` of leads per month for a capacity policy; on all of them where those hold
    fewer than ``MIN_CALIBRATION_OUTCOMES`` won or not-won leads (``calibration_months`` scaled by the leads' count,
    as if they came at the held-out leads' rate).

    Returns the refit pipeline, its calibrator, threshold, the calibrators' cross-validated losses, its trees and
    the position of the first lead it was calibrated on (``held_out_from``, or 0).
    """
    classifier = early_stopped[-1]
    trees = refit_trees(
        classifier.best_iteration_ or classifier.n_estimators, fitted_on, len(X_fit), settings.model.max_trees
    )
    refit, out_of_fold = refit_cross_fitted(early_stopped, X_fit, y_fit.astype(int), trees, folds)
    held_out_outcomes = np.bincount(y_fit.to_numpy()[held_out_from:].astype(int), minlength=2)
    if held_out_outcomes.min() < MIN_CALIBRATION_OUTCOMES:
        calibration_months *= len(X_fit) / max(len(X_fit) - held_out_from, 1)
        held_out_from = 0
    raw_held_out, y_held_out = out_of_fold[held_out_from:], y_fit.to_numpy()[held_out_from:].astype(int)
    calibrator, losses = fit_calibrator(raw_held_out, y_held_out)
    threshold = choose_threshold(calibrator.transform(raw_held_out), y_held_out, calibration_months, settings.threshold)
    return refit, calibrator, threshold, losses, trees, held_out_from


def refit_scorer(
    evaluated: LeadScorer,
    sets: Sets,
    settings: Settings,
    calibration_months: float,
    report: StepReporter = silent_steps,
    folds: int = REFIT_FOLDS,
) -> LeadScorer:
    """The shipped scorer: the evaluated model's settings refit on every labelled lead (training, calibration and
    test), so that it also learns from the most recent leads.

    The evaluated model is itself a refit on the training and calibration leads (:func:`evaluate_fold`); the
    shipped one repeats it with the test leads added: trees in proportion to the leads, calibrator and MQL
    threshold on the out-of-fold scores of the held-out leads (calibration and test: for an out-of-time split
    the most recent ones), with the calibration period's leads per month for a capacity policy. Grade cut
    points and the drift profile come from the refit model on all labelled leads. The test metrics stay the
    evaluated model's: no lead the shipped refit learnt from can test it.
    """
    X_all = pd.concat([sets.X_train, sets.X_calibration, sets.X_test])
    y_all = pd.concat([sets.y_train, sets.y_calibration, sets.y_test]).astype(int)
    evaluated_leads = len(sets.X_train) + len(sets.X_calibration)
    held_out = len(sets.X_train)  # X_all is training, then calibration and test leads
    months = calibration_months * (len(X_all) - held_out) / max(len(sets.X_calibration), 1)
    with report(f"refit on all {len(X_all):,} labelled leads, calibrated out of fold"):
        refit, calibrator, threshold, _, trees, calibrated_from = _refit_calibrated(
            evaluated.pipeline, evaluated_leads, X_all, y_all, held_out, settings, months, folds
        )
    calibrated_on = (
        f"out-of-fold scores of the {len(X_all) - held_out:,} held-out leads (calibration and test)"
        if calibrated_from
        else f"out-of-fold scores of all {len(X_all):,} labelled leads (the held-out leads held fewer than "
        f"{MIN_CALIBRATION_OUTCOMES} won or not-won leads)"
    )
    metadata = {
        **evaluated.metadata,
        "refit_leads": len(X_all),
        "refit_trees": trees,
        "refit_folds": folds,
        "refit_quarters": sorted(
            {*evaluated.metadata.get("train_quarters", []), *evaluated.metadata.get("calibration_quarters", [])}  # type: ignore[misc]
            | set(evaluated.metadata.get("test_quarters", []))  # type: ignore[call-overload]
        ),
        "calibrated_on": calibrated_on,
    }
    return _finish_scorer(refit, calibrator, threshold, X_all, settings, metadata, report)


def training_profile(scorer: LeadScorer, X_train: pd.DataFrame, sample_size: int) -> dict[str, object]:
    """The model features and calibrated scores of (a sample of) the training leads, as the audit's PSI baseline."""
    sample = _sample(X_train, sample_size, seed=1)
    return reference_profile(scorer.pipeline.named_steps["features"].transform(sample), scorer.predict_proba(sample))


@dataclass(frozen=True)
class FoldEvaluation:
    """One fold's evaluated model, the sets it was fitted, calibrated and tested on, and its test leads' scores."""

    scorer: LeadScorer
    sets: Sets
    losses: dict[str, float]
    test_scores: pd.DataFrame


def _evaluate_fold(
    builder: LeadFeatures,
    mapping: ExportMapping,
    sets: Sets,
    settings: Settings,
    calibration_months: float,
    metadata: dict[str, object],
    report: StepReporter,
    of_folds: str = "",
) -> FoldEvaluation:
    """The model the fold's test leads judge, made the way the shipped one is; and its test leads' scores.

    LightGBM is fitted on the training leads, its trees early-stopped on the (later) calibration leads; then,
    like the shipped model, refit on the training and calibration leads together, calibrated and thresholded
    on out-of-fold scores of the calibration leads (:func:`_refit_calibrated`). So the test measures the
    procedure that ships, and the model it judges learnt from the leads just before the test leads, as the
    baselines do. Grade cut points come from a small sample and there is no drift profile: this scorer is only
    evaluated (SHAP on the training leads is most of a small export's training time).
    """
    # rare categories grouped at the mapping's share, as check-export reported them; unset hyper-parameters
    # scale with the training leads (BoosterParams.scaled_to)
    params = settings.model.model_copy(update={"min_category_share": mapping.rare_category_share}).scaled_to(
        len(sets.X_train), int(sets.y_train.sum())
    )
    choose_leaves = settings.model.num_leaves is None and len(sets.X_train) < LARGE_EXPORT_ROWS
    with report(f"fit LightGBM on {len(sets.X_train):,} leads, trees early-stopped on the calibration leads{of_folds}"):
        model, params, leaf_losses = fit_early_stopped(builder, mapping, sets, params, choose_leaves)
    X_fit, y_fit = sets.fitted()
    with report(f"refit on the {len(X_fit):,} training and calibration leads, calibrated out of fold{of_folds}"):
        refit, calibrator, threshold, losses, trees, _ = _refit_calibrated(
            model, len(sets.X_train), X_fit, y_fit, len(sets.X_train), settings, calibration_months
        )
    grades = settings.grades.model_copy(update={"sample_size": EVALUATION_GRADE_SAMPLE})
    classifier = model[-1]
    metadata = {
        **metadata,
        "booster_params": params.model_dump(),
        "num_leaves_calibration_logloss": {str(leaves): loss for leaves, loss in leaf_losses.items()},
        "early_stopped_trees": int(classifier.best_iteration_ or classifier.n_estimators),
        "evaluated_leads": len(X_fit),
        "evaluated_trees": trees,
    }
    scorer = _finish_scorer(
        refit,
        calibrator,
        threshold,
        X_fit,
        settings.model_copy(update={"grades": grades}),
        metadata,
        report,
        False,
        of_folds,
    )
    return FoldEvaluation(scorer, sets, losses, score_held_out(scorer, sets, settings, mapping.points_rule))


def fit_early_stopped(
    builder: LeadFeatures, mapping: ExportMapping, sets: Sets, params: BoosterParams, choose_leaves: bool
) -> tuple[Pipeline, BoosterParams, dict[int, float]]:
    """LightGBM fitted on the training leads, its trees early-stopped on the calibration leads; with
    ``choose_leaves``, also with fewer leaves (``FEWER_LEAVES``), and the lowest calibration log-loss wins.

    The scaled ``num_leaves`` (:meth:`BoosterParams.scaled_to`) is a guess from the number of conversions. Where
    the signal adds up over many columns (a lead source here, an industry there), small trees taking many small
    steps fit it better (2 leaves: an additive model, as a logistic regression is): on the vendor-shaped audit
    exports 2 or 3 leaves gave +0.003 to +0.018 test AUC, on X Education the same (0.877 at 2 to 15). The
    calibration leads already choose the number of trees; they choose the tree size too (among at most four).
    Returns the model, its parameters and each candidate's log-loss. ``params`` must be scaled
    (:meth:`BoosterParams.scaled_to`).
    """
    scaled = params.num_leaves
    if scaled is None:
        raise ValueError("fit_early_stopped needs scaled BoosterParams (BoosterParams.scaled_to)")
    candidates = sorted({scaled, *(n for n in FEWER_LEAVES if n < scaled)}) if choose_leaves else [scaled]
    fitted: dict[int, tuple[Pipeline, BoosterParams, float]] = {}
    for leaves in candidates:
        tried = params.model_copy(update={"num_leaves": leaves})
        model = assemble_pipeline(clone(builder), tried, mapping.monotone_constraints)
        rounds = tried.early_stopping_rounds or 100
        fit_model(model, sets.X_train, sets.y_train, sets.X_calibration, sets.y_calibration, rounds)
        fitted[leaves] = (model, tried, float(model[-1].best_score_["valid_0"]["binary_logloss"]))
    model, chosen, _ = min(fitted.values(), key=lambda candidate: candidate[2])
    return model, chosen, {leaves: loss for leaves, (_, _, loss) in fitted.items()}


def score_held_out(
    scorer: LeadScorer, sets: Sets, settings: Settings, points_rule: PointsRule | None = None
) -> pd.DataFrame:
    """The test leads scored by the model (and its MQL decision), the logistic-regression baseline fitted on the
    same training leads and features, and the points rule if the mapping has one."""
    model_p = scorer.predict_proba(sets.X_test)
    features_step = scorer.pipeline.named_steps["features"]
    # the baseline learns from the same leads as the model: the training and calibration leads
    logistic = build_logistic_baseline(features_step, settings.model.min_category_share).fit(*sets.fitted())
    test_scores = pd.DataFrame(
        {
            "lead_id": sets.X_test.index,
            "converted": sets.y_test.to_numpy(),
            "model": model_p,
            "logistic_regression": logistic.predict_proba(sets.X_test)[:, 1],
            "is_mql": model_p >= scorer.threshold.threshold,
        }
    )
    if points_rule is not None:
        points = rule_score(features_step.transform(sets.X_test), points_rule)
        test_scores["points_rule"] = points
        test_scores["points_rule_is_mql"] = points >= points_rule.mql_points
    return test_scores


def held_out_metrics(test_scores: pd.DataFrame, settings: Settings, test_months: float) -> dict[str, float]:
    """The model against the logistic-regression baseline and the points rule (if scored) on the test leads: AUC,
    PR AUC, calibration, and the MQL decision's precision and recall, with bootstrap intervals (``*_ci_low`` /
    ``*_ci_high``, ``gate.confidence``)."""
    y_test = test_scores["converted"].to_numpy()
    model_mql = test_scores["is_mql"].to_numpy()
    metrics = {
        **_prefixed("test", evaluate_probabilities(y_test, test_scores["model"].to_numpy())),
        **_prefixed("test_mql", evaluate_decision(y_test, model_mql, test_months)),
        **_prefixed("logreg_test", evaluate_probabilities(y_test, test_scores["logistic_regression"].to_numpy())),
        "test_conversions": float(y_test.sum()),
    }
    ranked = {"test": test_scores["model"].to_numpy(), "logreg_test": test_scores["logistic_regression"].to_numpy()}
    decided = {"test_mql": model_mql}
    if "points_rule" in test_scores:
        points, mqls = test_scores["points_rule"].to_numpy(), test_scores["points_rule_is_mql"].to_numpy()
        metrics |= _prefixed("rules_test", evaluate_ranking(y_test, points))
        metrics |= _prefixed("rules_test_mql", evaluate_decision(y_test, mqls, test_months))
        ranked["rules_test"], decided["rules_test_mql"] = points, mqls
    return metrics | _intervals(y_test, ranked, decided, settings)


def _set_counts(evaluations: Sequence[FoldEvaluation]) -> dict[str, float]:
    """Leads and conversions per set: the test leads of every fold, the first fold's training and calibration."""
    first = evaluations[0].sets
    return {
        "threshold": evaluations[0].scorer.threshold.threshold,
        "n_train": float(len(first.X_train)),
        "n_calibration": float(len(first.X_calibration)),
        "n_test": float(sum(len(evaluation.sets.X_test) for evaluation in evaluations)),
        "train_conversions": float(first.y_train.sum()),
        "calibration_conversions": float(first.y_calibration.sum()),
    }


def _fold_spread(fold_scores: Sequence[pd.DataFrame]) -> dict[str, float]:
    """The lowest and highest test AUC of single folds: how much one random test set alone could have said."""
    aucs = [roc_auc_score(scores["converted"], scores["model"]) for scores in fold_scores]
    return {"test_roc_auc_fold_min": float(min(aucs)), "test_roc_auc_fold_max": float(max(aucs))}


def _intervals(
    y_test: np.ndarray, ranked: dict[str, np.ndarray], decided: dict[str, np.ndarray], settings: Settings
) -> dict[str, float]:
    """Bootstrap intervals of each score's AUC and PR AUC and each MQL decision's precision and recall."""
    resamples, confidence = settings.gate.resamples, settings.gate.confidence
    intervals: dict[str, float] = {}
    for prefix, interval in bootstrap_ranking(y_test, ranked, resamples, confidence).items():
        intervals |= _prefixed(prefix, interval)
    for prefix, is_mql in decided.items():
        intervals |= _prefixed(prefix, bootstrap_decision(y_test, is_mql, resamples, confidence))
    return intervals


@dataclass(frozen=True)
class TrainingResult:
    outcome: TrainingOutcome
    registered: RegisteredModel
    report_path: Path


def export_paths(settings: Settings) -> tuple[Path, Path]:
    """The configured export and its mapping (``data.export``, ``data.mapping``)."""
    return settings.data.export, settings.data.mapping


def run_training(
    settings: Settings,
    export_path: Path | None = None,
    mapping_path: Path | None = None,
    report: StepReporter = silent_steps,
    force: bool = False,
) -> TrainingResult:
    """Read the export (default: the configured one) through its mapping, train, log to MLflow and register
    (champion if it passes the publish gate; ``force``: champion anyway, tagged ``promoted_by_force``)."""
    default_export, default_mapping = export_paths(settings)
    with report("read the export, its mapping and the tables it names"):
        loaded = read_export_files(export_path or default_export, mapping_path or default_mapping)
    outcome = train_scorer(loaded, settings, report)
    with report("write the explanation report"):
        html = explanation_report(outcome, settings)
    with report("log the run to MLflow and register the model"):
        registered = log_outcome(outcome, settings, html, force=force)
    path = write_report(html, settings.explanations.reports_dir / f"{registered.name}-v{registered.version}.html")
    return TrainingResult(outcome=outcome, registered=registered, report_path=path)


def log_outcome(outcome: TrainingOutcome, settings: Settings, html: str, force: bool = False) -> RegisteredModel:
    """Log the run (with how the export was prepared and its mapping) and register the model through the publish
    gate (``force``: promote it even if it fails)."""
    return log_training_run(
        outcome,
        settings,
        html,
        extra_dicts={PREPARATION_ARTIFACT: outcome.preparation, MAPPING_ARTIFACT: {"yaml": outcome.mapping_yaml}},
        input_columns=tuple(outcome.scorer.pipeline.named_steps["features"].input_columns),
        force=force,
    )


def explanation_report(outcome: TrainingOutcome, settings: Settings) -> str:
    """The marketing report on the test leads of a training run, by the model as evaluated: its rates and grades
    are read on leads it did not learn from (the shipped refit learnt from every labelled lead; with
    cross-validation, the first fold's test leads and model)."""
    split = outcome.split
    quarters = split.test_quarters
    converted = outcome.test_scores.set_index("lead_id")["converted"]
    kept_out = "fitted without them; the shipped model is its refit on all labelled leads"
    context = ReportContext(
        model_name=settings.mlflow.registered_model,
        model_label=f"trained on data up to {outcome.as_of.date()}, as evaluated ({kept_out})",
        period=f"test leads ({', '.join(quarters)})" if quarters else f"held-out test leads ({len(split.test):,})",
        served_threshold=outcome.scorer.threshold.threshold if outcome.evaluated is not None else None,
    )
    return build_report(
        outcome.evaluated or outcome.scorer,
        outcome.test_leads.loc[split.test],
        converted.loc[split.test].to_numpy(),
        context,
        outcome.points_rule,
        sample_size=settings.explanations.report_sample,
        max_leads=settings.explanations.report_leads,
    )
