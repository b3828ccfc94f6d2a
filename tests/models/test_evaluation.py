"""Metrics against small hand-computed examples."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from models.evaluation import (
    bootstrap_decision,
    bootstrap_ranking,
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


# --- bootstrap intervals ------------------------------------------------------------------------------------------


def _scored(n: int, seed: int = 0, rate: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(int)
    return y, rng.normal(0, 1, n) + 0.8 * y  # a score that ranks: AUC ~0.71


@pytest.mark.parametrize("decimals", [None, 1])  # continuous (binned above 256 levels) and few distinct scores
def test_ranking_intervals_cover_the_estimate_and_shrink_with_more_data(decimals: int | None) -> None:
    widths = []
    for n in (800, 20_000):
        y, score = _scored(n)
        score = score if decimals is None else np.round(score, decimals)

        interval = bootstrap_ranking(y, {"model": score})["model"]

        auc, ap = roc_auc_score(y, score), average_precision_score(y, score)
        assert interval["roc_auc_ci_low"] < auc < interval["roc_auc_ci_high"]
        assert interval["pr_auc_ci_low"] < ap < interval["pr_auc_ci_high"]
        widths.append(interval["roc_auc_ci_high"] - interval["roc_auc_ci_low"])
    assert widths[1] < widths[0] / 3  # 25x the leads: about 5x narrower


def _plain_auc_and_ap(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """AUC and average precision of scores without ties, the textbook way (sort, count)."""
    order = np.argsort(-score)
    hits = y[order]
    ap = float((np.cumsum(hits) / np.arange(1, len(hits) + 1))[hits == 1].mean())
    negatives_after = (1 - hits)[::-1].cumsum()[::-1]  # negatives ranked below each lead
    return float(negatives_after[hits == 1].sum() / (hits.sum() * (1 - hits).sum())), ap


def test_ranking_intervals_agree_with_a_plain_stratified_bootstrap() -> None:
    y, score = _scored(1_500, seed=3)
    assert _plain_auc_and_ap(y, score) == pytest.approx((roc_auc_score(y, score), average_precision_score(y, score)))
    rng = np.random.default_rng(1)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    plain = []
    for _ in range(1_000):  # the slow way: resample each class, sort and count again
        rows = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        plain.append(_plain_auc_and_ap(y[rows], score[rows] + rng.normal(0, 1e-9, len(rows))))  # no ties
    low, high = np.quantile(np.array(plain), [0.025, 0.975], axis=0)

    fast = bootstrap_ranking(y, {"model": score})["model"]

    assert fast["roc_auc_ci_low"] == pytest.approx(low[0], abs=0.01)
    assert fast["roc_auc_ci_high"] == pytest.approx(high[0], abs=0.01)
    assert fast["pr_auc_ci_low"] == pytest.approx(low[1], abs=0.01)
    assert fast["pr_auc_ci_high"] == pytest.approx(high[1], abs=0.01)


def test_ranking_intervals_of_50k_test_leads_take_well_under_a_second_per_score() -> None:
    y, score = _scored(50_000, rate=0.05)
    scores = {"model": score, "logistic": score + np.random.default_rng(1).normal(0, 1, 50_000)}

    started = time.perf_counter()
    intervals = bootstrap_ranking(y, scores, resamples=1_000)
    elapsed = time.perf_counter() - started

    assert elapsed < 2.0  # ~0.3 s per score on the CI machine; generous for a loaded one
    assert intervals["model"]["roc_auc_ci_low"] > intervals["logistic"]["roc_auc_ci_high"]


def test_decision_intervals_cover_precision_and_recall_and_shrink() -> None:
    widths = []
    for n in (500, 20_000):
        y, score = _scored(n, seed=5)
        is_mql = score > 1.0
        decided = evaluate_decision(y, is_mql, months=1)

        interval = bootstrap_decision(y, is_mql)

        for name in ("precision", "recall"):
            assert interval[f"{name}_ci_low"] < decided[name] < interval[f"{name}_ci_high"]
        widths.append(interval["precision_ci_high"] - interval["precision_ci_low"])
    assert widths[1] < widths[0] / 3


def test_one_outcome_only_has_no_interval() -> None:
    y = np.zeros(50, dtype=int)
    scores = np.linspace(0, 1, 50)

    assert bootstrap_ranking(y, {"model": scores}) == {"model": {}}
    assert bootstrap_decision(y, scores > 0.5) == {}
