"""The shipped model is refit on every labelled lead after the evaluation, and calibrated out of fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models.features import InputColumn, LeadFeatures
from models.pipeline import BoosterParams, assemble_pipeline, fit_model, predict_raw, refit_cross_fitted, refit_trees


def test_a_refit_grows_the_early_stopped_trees_with_the_leads() -> None:
    assert refit_trees(100, n_fitted=6_000, n_refit=9_000, max_trees=2_000) == 150
    assert refit_trees(1_900, n_fitted=6_000, n_refit=9_000, max_trees=2_000) == 2_000
    assert refit_trees(0, n_fitted=6_000, n_refit=9_000, max_trees=2_000) == 1


def _noise_export(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Leads whose outcome nothing predicts: any skill a score shows on them is leakage."""
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame(
        {
            "Visits": rng.poisson(4, n),
            "Minutes": rng.exponential(10, n).round(1),
            "Page": [f"/lp/{i}" for i in rng.integers(0, 300, n)],
        }
    )
    return rows, pd.Series((rng.random(n) < 0.3).astype(int))


def _fitted(rows: pd.DataFrame, y: pd.Series) -> object:
    step = LeadFeatures(
        (
            InputColumn("Visits", "count", "visits"),
            InputColumn("Minutes", "numeric", "minutes"),
            InputColumn("Page", "categorical", "page"),
        )
    )
    params = BoosterParams(num_leaves=31, min_child_samples=5, learning_rate=0.1).scaled_to(len(rows), int(y.sum()))
    model = assemble_pipeline(step, params, {})
    half = len(rows) // 2
    return fit_model(model, rows[:half], y[:half], rows[half:], y[half:], early_stopping_rounds=10)


def test_out_of_fold_scores_carry_no_lead_s_own_outcome() -> None:
    rows, y = _noise_export(3_000)
    evaluated = _fitted(rows, y)

    refit, out_of_fold = refit_cross_fitted(evaluated, rows, y, n_trees=200, folds=3)

    # the refit memorises noise (in-sample AUC well above 0.5) ...
    assert roc_auc_score(y, predict_raw(refit, rows)) > 0.6
    # ... its out-of-fold scores do not: they are what calibrates it and chooses its threshold
    assert roc_auc_score(y, out_of_fold) == pytest.approx(0.5, abs=0.04)
    assert refit is not evaluated
    assert refit.named_steps["features"] is evaluated.named_steps["features"]  # how columns are read: reused
    assert refit[-1].n_estimators == 200


def test_the_shipped_model_is_refit_on_every_labelled_lead(trained) -> None:  # type: ignore[no-untyped-def]
    split, scorer, metrics = trained.split, trained.scorer, trained.metrics
    labelled = len(split.train) + len(split.calibration) + len(split.test)

    assert scorer.metadata["refit_leads"] == metrics["refit_leads"] == labelled
    assert scorer.metadata["refit_trees"] == metrics["refit_trees"]
    assert metrics["refit_trees"] >= metrics["best_iteration"]  # more leads, proportionally more trees
    assert scorer.pipeline[-1].n_estimators == metrics["refit_trees"]
    assert scorer.reference is not None  # the drift profile is the shipped model's


def test_the_shipped_threshold_is_chosen_on_out_of_fold_scores_of_the_held_out_leads(trained) -> None:  # type: ignore[no-untyped-def]
    split, threshold = trained.split, trained.scorer.threshold
    held_out = len(split.calibration) + len(split.test)

    assert threshold.inputs is not None
    assert threshold.inputs["leads"] == held_out
    assert trained.metrics["threshold"] == threshold.threshold
    assert "evaluated_threshold" in trained.metrics  # the one the test MQL figures used
    assert f"{held_out:,} held-out leads" in trained.scorer.metadata["calibrated_on"]


def test_the_shipped_model_is_calibrated_on_the_held_out_leads(trained, synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    split, metrics = trained.split, trained.metrics
    held_out = split.calibration.append(split.test)
    won = metrics["calibration_conversions"] + metrics["test_conversions"]

    mean_predicted = trained.scorer.predict_proba(synthetic_crm.leads.set_index("lead_id").loc[held_out]).mean()

    # the calibration follows the held-out leads' conversion rate (the refit saw them, so a loose check)
    assert mean_predicted == pytest.approx(won / len(held_out), abs=0.01)


def test_the_evaluated_model_is_refit_on_the_training_and_calibration_leads(trained) -> None:  # type: ignore[no-untyped-def]
    """The test leads judge the procedure that ships: early-stopped trees, refit on every lead before the test."""
    split, metrics, evaluated = trained.split, trained.metrics, trained.evaluated

    assert evaluated.metadata["evaluated_leads"] == len(split.train) + len(split.calibration)
    assert evaluated.pipeline[-1].n_estimators == metrics["evaluated_trees"] >= metrics["best_iteration"]
    assert evaluated.threshold.inputs is not None
    assert evaluated.threshold.inputs["leads"] == len(split.calibration)  # out-of-fold scores of the later leads
    assert metrics["evaluated_trees"] <= metrics["refit_trees"]  # the shipped refit has the test leads too
