"""Threshold policies: capacity, target precision and expected value."""

from __future__ import annotations

import numpy as np
import pytest

from models.threshold import ThresholdPolicy, choose_threshold


@pytest.fixture
def scored() -> tuple[np.ndarray, np.ndarray]:
    probabilities = np.linspace(0.99, 0.0, 1000)  # ranked best first
    converted = (np.arange(1000) < 100).astype(int)  # the best 100 convert
    converted[[10, 20]] = 0
    converted[[500, 600]] = 1
    return probabilities, converted


def test_capacity_passes_the_agreed_volume(scored: tuple[np.ndarray, np.ndarray]) -> None:
    probabilities, converted = scored

    choice = choose_threshold(
        probabilities, converted, months=3, policy=ThresholdPolicy(policy="capacity", mqls_per_month=50)
    )

    assert (probabilities >= choice.threshold).sum() == 150
    assert choice.expected_mqls_per_month == pytest.approx(50)
    assert choice.expected_precision == pytest.approx(98 / 150)
    assert choice.warning is None


def test_capacity_above_volume_passes_everyone_with_a_warning(scored: tuple[np.ndarray, np.ndarray]) -> None:
    probabilities, converted = scored

    choice = choose_threshold(probabilities, converted, months=1, policy=ThresholdPolicy(mqls_per_month=5000))

    assert (probabilities >= choice.threshold).all()
    assert "exceeds the lead volume" in (choice.warning or "")


def test_precision_policy_takes_the_lowest_threshold_meeting_the_target(scored: tuple[np.ndarray, np.ndarray]) -> None:
    probabilities, converted = scored

    choice = choose_threshold(
        probabilities, converted, months=1, policy=ThresholdPolicy(policy="precision", target_precision=0.5)
    )

    passed = probabilities >= choice.threshold
    assert converted[passed].mean() >= 0.5
    assert passed.sum() == 196  # 98 conversions in the top 196; one more lead would drop below 50%


def test_unreachable_precision_falls_back_with_a_warning(scored: tuple[np.ndarray, np.ndarray]) -> None:
    probabilities, converted = scored

    choice = choose_threshold(
        probabilities, converted, months=1, policy=ThresholdPolicy(policy="precision", target_precision=0.99)
    )

    assert "not reached" in (choice.warning or "")
    assert choice.expected_precision >= 0.96


def test_expected_value_threshold_is_cost_over_value(scored: tuple[np.ndarray, np.ndarray]) -> None:
    probabilities, converted = scored
    policy = ThresholdPolicy(policy="expected_value", deal_value_eur=20_000, contact_cost_eur=500)

    choice = choose_threshold(probabilities, converted, months=1, policy=policy)

    assert choice.threshold == pytest.approx(0.025)
    assert "20,000 EUR" in choice.rationale


def test_invalid_policy_values_are_refused() -> None:
    with pytest.raises(ValueError, match="target_precision"):
        ThresholdPolicy(target_precision=1.5)
    with pytest.raises(ValueError, match="policy"):
        ThresholdPolicy(policy="gut-feeling")  # type: ignore[arg-type]
