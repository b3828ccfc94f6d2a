"""Calibration: both methods fix a miscalibrated score; the chooser picks by held-out log loss."""

from __future__ import annotations

import numpy as np
import pytest

from models.calibration import ProbabilityCalibrator, compare_calibrators, fit_calibrator
from models.contract import DataContractError
from models.evaluation import expected_calibration_error


@pytest.fixture
def overconfident() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    true_p = rng.beta(0.5, 12, 20_000)
    y = (rng.random(20_000) < true_p).astype(int)
    raw = 1 / (1 + np.exp(-(np.log(true_p / (1 - true_p)) * 2.0 + 1.0)))  # too extreme and too high
    return raw, y


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_reduces_calibration_error(overconfident: tuple[np.ndarray, np.ndarray], method: str) -> None:
    raw, y = overconfident

    calibrated = ProbabilityCalibrator(method).fit(raw, y).transform(raw)  # type: ignore[arg-type]

    assert expected_calibration_error(y, calibrated) < expected_calibration_error(y, raw) / 3
    assert np.all((calibrated > 0) & (calibrated < 1))


def test_calibration_keeps_the_ranking(overconfident: tuple[np.ndarray, np.ndarray]) -> None:
    raw, y = overconfident
    calibrated = ProbabilityCalibrator("platt").fit(raw, y).transform(raw)

    assert np.all(np.diff(calibrated[np.argsort(raw)]) >= -1e-12)


def test_chooser_picks_the_method_with_lower_held_out_log_loss() -> None:
    rng = np.random.default_rng(3)
    raw = rng.random(300)
    y = (rng.random(300) < raw * 0.2).astype(int)

    calibrator, losses = fit_calibrator(raw, y)

    assert set(losses) == {"isotonic", "platt"}
    assert calibrator.method == min(losses, key=losses.__getitem__)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown calibration method"):
        ProbabilityCalibrator("magic")  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_transform_equals_sklearns_predict(overconfident: tuple[np.ndarray, np.ndarray], method: str) -> None:
    raw, y = overconfident
    calibrator = ProbabilityCalibrator(method).fit(raw, y)  # type: ignore[arg-type]
    probe = np.concatenate([raw[:500], [0.0, 1e-9, 0.5, 1.0]])

    if method == "isotonic":
        expected = calibrator.isotonic_.predict(probe)
    else:
        expected = calibrator.platt_.predict_proba(
            np.log(np.clip(probe, 1e-6, 1 - 1e-6) / (1 - np.clip(probe, 1e-6, 1 - 1e-6))).reshape(-1, 1)
        )[:, 1]

    np.testing.assert_allclose(calibrator.transform(probe), np.clip(expected, 1e-6, 1 - 1e-6), atol=1e-12)


@pytest.mark.parametrize("won", [0, 1])
def test_too_few_won_leads_to_calibrate_is_a_refusal_naming_the_counts(won: int) -> None:
    raw = np.linspace(0.01, 0.5, 300)
    y = np.zeros(300, dtype=int)
    y[:won] = 1

    with pytest.raises(DataContractError, match=rf"hold {won} won and {300 - won} not-won leads.*at least 2 of each"):
        compare_calibrators(raw, y)
