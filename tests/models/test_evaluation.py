"""Metrics against small hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from models.evaluation import (
    calibration_figure,
    evaluate_decision,
    evaluate_probabilities,
    evaluate_ranking,
    expected_calibration_error,
    gains_figure,
    lift_and_capture,
    roc_figure,
)


def test_ece_is_zero_when_each_bin_matches_and_exact_otherwise() -> None:
    y = np.array([0, 0, 1, 1])
    assert expected_calibration_error(y, np.array([0.0, 0.0, 1.0, 1.0]), bins=2) == 0.0
    # bins {0.1, 0.3} -> mean 0.2 vs rate 0; {0.6, 0.8} -> mean 0.7 vs rate 1: (2*0.2 + 2*0.3) / 4
    assert expected_calibration_error(y, np.array([0.1, 0.3, 0.6, 0.8]), bins=2) == pytest.approx(0.25)


def test_lift_and_capture_of_top_share() -> None:
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    scores = np.arange(10, 0, -1, dtype=float)  # lead 0 best

    lift, capture = lift_and_capture(y, scores, 0.2)

    assert lift == pytest.approx(0.5 / 0.2)  # top 2 convert at 50% vs 20% overall
    assert capture == pytest.approx(0.5)


def test_ranking_metrics_of_a_perfect_score() -> None:
    y = np.array([0, 0, 0, 1, 1])
    metrics = evaluate_ranking(y, np.array([0.1, 0.2, 0.3, 0.8, 0.9]))

    assert metrics["roc_auc"] == 1.0
    assert metrics["pr_auc"] == 1.0
    assert metrics["capture_top20"] == pytest.approx(0.5)


def test_probability_metrics_hand_computed() -> None:
    y = np.array([0, 1])
    metrics = evaluate_probabilities(y, np.array([0.2, 0.6]))

    assert metrics["brier"] == pytest.approx((0.2**2 + 0.4**2) / 2)
    assert metrics["log_loss"] == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    assert metrics["conversion_rate"] == 0.5
    assert metrics["mean_probability"] == pytest.approx(0.4)


def test_decision_metrics() -> None:
    y = np.array([1, 1, 0, 0, 0, 1])
    is_mql = np.array([True, False, True, False, False, True])

    metrics = evaluate_decision(y, is_mql, months=3)

    assert metrics == {
        "mql_count": 3.0,
        "mql_per_month": 1.0,
        "mql_share": 0.5,
        "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 3),
    }


def test_figures_are_drawn_for_each_score() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    scores = {"model": rng.random(200), "rules": rng.integers(0, 100, 200).astype(float)}

    for figure in (roc_figure(y, scores), gains_figure(y, scores), calibration_figure(y, {"model": scores["model"]})):
        axes = figure.axes[0]
        assert len(axes.lines) >= 2
        assert axes.get_xlabel()
        assert axes.get_ylabel()
