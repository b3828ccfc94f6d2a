"""``python -m benchmarks --real``: leadq against LightGBM's defaults and logistic regression on real CRM exports.

Each export is read through a reviewed mapping (the columns sales fills in after the first contact are
``after_contact``; the rest as ``leadq inspect`` proposes them) and prepared once, so the three models see the
same split, rows and columns:

- leadq: ``train_scorer`` as ``leadq train`` runs it (the evaluated model is fitted on the training leads, early
  stopped and calibrated on the calibration leads; the shipped one is then refit on every labelled lead);
- LightGBM defaults: ``LGBMClassifier()`` on the output of the same features step, categories as pandas
  ``category``, fitted on the training and calibration leads (every labelled lead leadq's evaluated model saw);
- logistic regression: one-hot, scaled, on the same features and rows (``models.baselines``).

All are judged on the same test leads: ROC AUC with a bootstrap 95% interval, the mean predicted probability
against the actual rate, the calibration error, and the seconds each took to train. The leakage guard's findings
come from the preparation report. An export that is absent is skipped with a message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from rich.table import Table
from sklearn.metrics import roc_auc_score

from models.baselines import build_logistic_baseline
from models.evaluation import expected_calibration_error
from models.features import LeadFeatures
from pipelines.crm_export.inspect import profile_export, propose_mapping
from pipelines.crm_export.mapping import ColumnSpec, ExportMapping
from pipelines.crm_export.prepare import LoadedExport, prepare_export
from pipelines.crm_export.read import read_export
from pipelines.settings import Settings
from pipelines.training import train_scorer

SHARED_DATA = Path(__file__).parents[1] / ".." / "shared" / "data"
BOOTSTRAP_ROUNDS = 1000


@dataclass(frozen=True)
class RealExportCase:
    """A public CRM export and the review of ``leadq inspect``'s proposal: the roles a person decided."""

    name: str
    path: Path
    reviewed: dict[str, ColumnSpec]
    allowed: tuple[str, ...] = ()  # flagged by the guard, vouched for by the reviewer (``leakage.allowed``)


X_EDUCATION = RealExportCase(
    name="X Education",
    path=SHARED_DATA / "x_education_leads" / "Leads.csv",
    reviewed={
        "Prospect ID": ColumnSpec(role="id"),
        "Converted": ColumnSpec(role="outcome", won=["1"], lost=["0"]),
        "Lead Number": ColumnSpec(role="ignore"),
        # set by the sales team for the lead (the data dictionary: the lead's "current status", "the intuition of
        # the employee who has been assigned to the lead", a level, index and score "assigned"): never features
        **{
            column: ColumnSpec(role="after_contact")
            for column in (
                "Tags",
                "Lead Quality",
                "Lead Profile",
                "Asymmetrique Activity Index",
                "Asymmetrique Profile Index",
                "Asymmetrique Activity Score",
                "Asymmetrique Profile Score",
            )
        },
        # "Last activity performed by the customer" (the data dictionary), flagged for its name: kept as a feature
        "Last Activity": ColumnSpec(role="categorical", group="engagement"),
    },
    allowed=("Last Activity",),
)
CASES = (X_EDUCATION,)


def reviewed_mapping(frame: pd.DataFrame, case: RealExportCase) -> ExportMapping:
    """``leadq inspect``'s proposal for the export with the reviewed roles and vouched-for columns put in."""
    proposal = propose_mapping(frame, profile_export(frame))
    columns = {column: case.reviewed.get(column, spec) for column, spec in proposal.columns.items()}
    leakage = proposal.leakage.model_copy(update={"allowed": list(case.allowed)})
    return proposal.model_copy(update={"columns": columns, "leakage": leakage})


def bootstrap_auc(
    y: np.ndarray, scores: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0
) -> tuple[float, float, float]:
    """ROC AUC and its bootstrap 95% interval (test leads resampled with replacement)."""
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(rounds):
        picked = rng.integers(0, len(y), len(y))
        if 0 < y[picked].sum() < len(picked):
            draws.append(roc_auc_score(y[picked], scores[picked]))
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(roc_auc_score(y, scores)), float(low), float(high)


def _judged(name: str, y: np.ndarray, probabilities: np.ndarray, seconds: float) -> dict[str, Any]:
    auc, low, high = bootstrap_auc(y, probabilities)
    return {
        "model": name,
        "auc": auc,
        "auc_low": low,
        "auc_high": high,
        "mean_predicted": float(probabilities.mean()),
        "actual_rate": float(y.mean()),
        "ece": expected_calibration_error(y, probabilities),
        "train_s": seconds,
    }


def as_pandas_categories(features: pd.DataFrame, categorical: tuple[str, ...]) -> pd.DataFrame:
    """Features with the categorical ones as pandas ``category`` (LightGBM's own categorical handling)."""
    converted = features.copy()
    for name in categorical:
        converted[name] = converted[name].astype("category")
    return converted


def lightgbm_defaults(
    builder: LeadFeatures, X_fit: pd.DataFrame, y_fit: pd.Series, X_test: pd.DataFrame
) -> tuple[np.ndarray, float]:
    """``LGBMClassifier()`` on the features step's output; test probabilities and fit seconds."""
    started = time.perf_counter()
    step = builder.fit(X_fit)
    categorical = step.feature_spec.categorical
    fit_features = as_pandas_categories(step.transform(X_fit), categorical)
    test_features = as_pandas_categories(step.transform(X_test), categorical)
    # the test leads' categories in the training leads' order (unseen ones: missing), as pandas needs
    for name in categorical:
        test_features[name] = pd.Categorical(test_features[name], categories=fit_features[name].cat.categories)
    model = lgb.LGBMClassifier(verbose=-1).fit(fit_features, y_fit)
    seconds = time.perf_counter() - started
    return np.asarray(model.predict_proba(test_features))[:, 1], seconds


def benchmark_case(case: RealExportCase, settings: Settings) -> dict[str, Any]:
    """leadq, LightGBM defaults and logistic regression on one export, same split, rows and columns."""
    raw = read_export(case.path)
    mapping = reviewed_mapping(raw.frame, case)
    loaded = LoadedExport(mapping, raw, {}, case.path)
    started = time.perf_counter()
    outcome = train_scorer(loaded, settings)
    leadq_seconds = time.perf_counter() - started
    split = outcome.split
    builder = outcome.scorer.pipeline.named_steps["features"]
    scores = outcome.test_scores.set_index("lead_id")
    # the labelled rows leadq's evaluated models saw (fit + early stopping + calibration), for the baselines
    prepared_rows, prepared_y = _labelled_rows(outcome, loaded, settings)
    lgb_p, logistic_p = pd.Series(np.nan, index=scores.index), pd.Series(np.nan, index=scores.index)
    lgb_seconds = logistic_seconds = 0.0
    for fold in split.folds:  # the baselines on leadq's folds: every test lead scored by a model that did not see it
        fit_ids = fold.train.append(fold.calibration)
        X_fit, y_fit = prepared_rows.loc[fit_ids], prepared_y.loc[fit_ids].astype(int)
        X_test = prepared_rows.loc[fold.test]
        lgb_p.loc[fold.test], seconds = lightgbm_defaults(LeadFeatures(**builder.get_params()), X_fit, y_fit, X_test)
        lgb_seconds += seconds
        started = time.perf_counter()
        logistic = build_logistic_baseline(builder, mapping.rare_category_share).fit(X_fit, y_fit)
        logistic_seconds += time.perf_counter() - started
        logistic_p.loc[fold.test] = logistic.predict_proba(X_test)[:, 1]
    y_test = scores["converted"].to_numpy()
    leakage = outcome.preparation.get("leakage", {})
    return {
        "export": case.name,
        "leads": int(outcome.metrics["refit_leads"]),
        "split": split.kind,
        "split_reason": split.reason,
        "n_test": len(y_test),
        "folds": len(split.folds),
        "refit_leads": outcome.scorer.metadata.get("refit_leads"),
        "models": [
            _judged("leadq", y_test, scores["model"].to_numpy(), leadq_seconds),
            _judged("LightGBM defaults", y_test, lgb_p.to_numpy(), lgb_seconds),
            _judged("logistic regression", y_test, logistic_p.to_numpy(), logistic_seconds),
        ],
        "leakage": leakage,
        "after_contact": sorted(c for c, spec in mapping.columns.items() if spec.role == "after_contact"),
    }


def _labelled_rows(outcome: Any, loaded: LoadedExport, settings: Settings) -> tuple[pd.DataFrame, pd.Series]:
    prepared = prepare_export(
        loaded,
        horizon_days=settings.labels.horizon_days,
        **settings.split.options(),
    )
    builder = outcome.scorer.pipeline.named_steps["features"]
    return prepared.rows.reindex(columns=list(builder.input_columns)), prepared.y


def benchmark_real(settings: Settings, cases: tuple[RealExportCase, ...] = CASES) -> list[dict[str, Any]]:
    """Every case whose export is present; absent ones are reported as skipped."""
    results: list[dict[str, Any]] = []
    for case in cases:
        if not case.path.is_file():
            results.append({"export": case.name, "skipped": f"not found at {case.path.resolve()}"})
            continue
        results.append(benchmark_case(case, settings))
    return results


def real_table(results: list[dict[str, Any]]) -> Table:
    """One row per model and export: AUC with its interval, mean predicted vs actual, ECE, training seconds."""
    table = Table(title="leadq on real exports (same split, rows and columns)", title_justify="left")
    for column in ("export", "model", "test AUC (95% CI)", "mean predicted / actual", "ECE", "train s"):
        table.add_column(column, justify="left" if column in ("export", "model") else "right")
    for result in results:
        if "skipped" in result:
            table.add_row(result["export"], f"skipped: {result['skipped']}", "", "", "", "")
            continue
        for row in result["models"]:
            table.add_row(
                result["export"],
                row["model"],
                f"{row['auc']:.3f} ({row['auc_low']:.3f}-{row['auc_high']:.3f})",
                f"{row['mean_predicted']:.3f} / {row['actual_rate']:.3f}",
                f"{row['ece']:.3f}",
                f"{row['train_s']:.1f}",
            )
    return table


def real_notes(results: list[dict[str, Any]]) -> list[str]:
    """What the table cannot show: the split, the refit and what the leakage guard flagged, per export."""
    notes = []
    for result in results:
        if "skipped" in result:
            notes.append(f"{result['export']}: skipped, the export is {result['skipped']}")
            continue
        leakage = result["leakage"]
        table = leakage.get("table", [])
        flagged = [f"{row['column']} ({row['status']})" for row in table if row.get("status") not in ("ok", None)]
        notes += [
            f"{result['export']}: {result['leads']:,} labelled leads, {result['n_test']:,} test leads; split "
            f"{result['split']} ({result['split_reason']}); the shipped model was refit on all "
            f"{result['refit_leads']:,} labelled leads (the test AUC is the evaluated model's)",
            f"  after_contact in the reviewed mapping: {', '.join(result['after_contact'])}",
            f"  leakage guard flagged: {', '.join(flagged) if flagged else 'nothing'}",
            *(f"  leakage guard: {note}" for note in leakage.get("notes", [])),
        ]
    return notes
