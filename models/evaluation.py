"""How good a score is: discrimination, calibration, lift, and the MQL decision at a threshold.

All metric functions return ``dict[str, float]`` so they can go straight to ``mlflow.log_metrics``.
Plots use matplotlib's object API (no pyplot, no global backend state).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
    roc_curve,
)

TOP_SHARES = (0.1, 0.2)


def expected_calibration_error(y_true: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean predicted| over equal-count bins of the score, weighted by bin size.

    Equal-count bins because conversion is rare: equal-width bins would put almost every lead in the first one.
    """
    order = np.argsort(probabilities, kind="stable")
    gaps = [
        len(part) * abs(y_true[part].mean() - probabilities[part].mean())
        for part in np.array_split(order, min(bins, len(order)))
        if len(part)
    ]
    return float(np.sum(gaps) / len(order))


def lift_and_capture(y_true: np.ndarray, probabilities: np.ndarray, top_share: float) -> tuple[float, float]:
    """Conversion lift and share of all conversions captured by the top ``top_share`` of leads by score."""
    n_top = max(1, round(top_share * len(y_true)))
    top = np.argsort(-probabilities, kind="stable")[:n_top]
    base_rate = y_true.mean()
    positives = y_true.sum()
    lift = float(y_true[top].mean() / base_rate) if base_rate > 0 else float("nan")
    capture = float(y_true[top].sum() / positives) if positives > 0 else float("nan")
    return lift, capture


def evaluate_ranking(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """How well a score ranks converting leads first; works for points as well as probabilities."""
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    metrics = {"roc_auc": float(roc_auc_score(y, s)), "pr_auc": float(average_precision_score(y, s))}
    for share in TOP_SHARES:
        lift, capture = lift_and_capture(y, s, share)
        metrics[f"lift_top{round(share * 100)}"] = lift
        metrics[f"capture_top{round(share * 100)}"] = capture
    return metrics


def evaluate_probabilities(y_true: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Ranking plus calibration (log loss, Brier, expected calibration error) of predicted probabilities."""
    y = np.asarray(y_true, dtype=int)
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-12, 1 - 1e-12)
    return {
        **evaluate_ranking(y, p),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "conversion_rate": float(y.mean()),
        "mean_probability": float(p.mean()),
    }


def evaluate_decision(y_true: np.ndarray, is_mql: np.ndarray, months: float) -> dict[str, float]:
    """The MQL decision: volume, conversion among MQLs (precision) and share of conversions reached (recall)."""
    y = np.asarray(y_true, dtype=int)
    mql = np.asarray(is_mql, dtype=bool)
    n_mql = int(mql.sum())
    return {
        "mql_count": float(n_mql),
        "mql_per_month": n_mql / months if months > 0 else float("nan"),
        "mql_share": n_mql / len(y) if len(y) else float("nan"),
        "precision": float(y[mql].mean()) if n_mql else 0.0,
        "recall": float(y[mql].sum() / y.sum()) if y.sum() else float("nan"),
    }


def roc_figure(y_true: np.ndarray, scores: Mapping[str, np.ndarray]) -> Figure:
    """ROC curves of several scores on the same leads."""
    figure = Figure(figsize=(5.5, 5))
    axes = figure.subplots()
    for name, score in scores.items():
        fpr, tpr, _ = roc_curve(y_true, score)
        axes.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y_true, score):.3f})")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    axes.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC on the test quarter(s)")
    axes.legend(loc="lower right")
    return figure


def calibration_figure(y_true: np.ndarray, probabilities: Mapping[str, np.ndarray], bins: int = 10) -> Figure:
    """Predicted vs observed conversion per equal-count score bin."""
    figure = Figure(figsize=(5.5, 5))
    axes = figure.subplots()
    upper = 0.0
    for name, p in probabilities.items():
        order = np.argsort(p, kind="stable")
        parts = [part for part in np.array_split(order, bins) if len(part)]
        predicted = [p[part].mean() for part in parts]
        observed = [y_true[part].mean() for part in parts]
        axes.plot(predicted, observed, marker="o", label=name)
        upper = max(upper, *predicted, *observed)
    axes.plot([0, upper], [0, upper], linestyle=":", color="grey", label="perfect calibration")
    axes.set(
        xlabel="Predicted conversion probability",
        ylabel="Observed conversion rate",
        title="Calibration on the test quarter(s)",
    )
    axes.legend(loc="upper left")
    return figure


def gains_figure(y_true: np.ndarray, scores: Mapping[str, np.ndarray]) -> Figure:
    """Cumulative share of conversions captured when working leads from the best score down."""
    figure = Figure(figsize=(5.5, 5))
    axes = figure.subplots()
    share_of_leads = np.arange(1, len(y_true) + 1) / len(y_true)
    for name, score in scores.items():
        captured = np.cumsum(y_true[np.argsort(-score, kind="stable")]) / max(y_true.sum(), 1)
        axes.plot(share_of_leads, captured, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    axes.set(xlabel="Share of leads worked (best first)", ylabel="Share of conversions captured", title="Gains chart")
    axes.legend(loc="lower right")
    return figure
