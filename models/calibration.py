"""Calibration of the model's raw probabilities on later, out-of-time leads.

Two calibrators compete, chosen by cross-validated log loss on the calibration leads: isotonic regression
(flexible, needs data) and Platt scaling (a logistic curve on the log-odds: two parameters, robust on small
or very imbalanced sets).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

from models.contract import DataContractError

CalibrationMethod = Literal["isotonic", "platt"]
CALIBRATION_METHODS: tuple[CalibrationMethod, ...] = ("isotonic", "platt")
_EPSILON = 1e-6


def _log_odds(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities, _EPSILON, 1 - _EPSILON)
    return np.log(clipped / (1 - clipped)).reshape(-1, 1)


class ProbabilityCalibrator:
    """Maps raw model probabilities to calibrated ones; fitted with :meth:`fit`."""

    def __init__(self, method: CalibrationMethod):
        if method not in CALIBRATION_METHODS:
            raise ValueError(f"unknown calibration method {method!r}; expected one of {CALIBRATION_METHODS}")
        self.method = method

    def fit(self, raw: np.ndarray, y: np.ndarray) -> ProbabilityCalibrator:
        if self.method == "isotonic":
            self.isotonic_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
        else:
            self.platt_ = LogisticRegression(C=1e6).fit(_log_odds(raw), y)
        return self

    def transform(self, raw: np.ndarray) -> np.ndarray:
        # The fitted curves evaluated directly: sklearn's predict validates its input on every call, which
        # costs more than the arithmetic when a single lead is scored. Tests pin the equality.
        raw = np.asarray(raw, dtype=float)
        if self.method == "isotonic":
            isotonic = self.isotonic_
            calibrated = np.interp(raw, isotonic.X_thresholds_, isotonic.y_thresholds_)
        else:
            calibrated = expit(_log_odds(raw)[:, 0] * self.platt_.coef_[0, 0] + self.platt_.intercept_[0])
        return np.clip(calibrated, _EPSILON, 1 - _EPSILON)


def compare_calibrators(raw: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> dict[str, float]:
    """Cross-validated log loss of each calibration method on the calibration leads."""
    not_won, won = np.bincount(y.astype(int), minlength=2)[:2]
    n_folds = int(min(folds, won, not_won))
    if n_folds < 2:
        raise DataContractError(
            [
                f"labels: too few won leads to calibrate the probabilities: the leads they are calibrated on hold "
                f"{won} won and {not_won} not-won leads, and calibration needs at least 2 of each; export a longer "
                "history or more leads"
            ]
        )
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    losses: dict[str, float] = {}
    for method in CALIBRATION_METHODS:
        predicted = np.empty(len(y))
        for fit_idx, held_out in splitter.split(raw, y):
            predicted[held_out] = ProbabilityCalibrator(method).fit(raw[fit_idx], y[fit_idx]).transform(raw[held_out])
        losses[method] = float(log_loss(y, predicted, labels=[0, 1]))
    return losses


def fit_calibrator(raw: np.ndarray, y: np.ndarray) -> tuple[ProbabilityCalibrator, dict[str, float]]:
    """The calibrator with the lowest cross-validated log loss, refitted on all calibration leads."""
    losses = compare_calibrators(raw, y)
    best = min(losses, key=losses.__getitem__)
    return ProbabilityCalibrator(best).fit(raw, y), losses  # type: ignore[arg-type]
