"""Threshold policies: capacity, target precision and expected value."""

from __future__ import annotations

import numpy as np
import pytest

from models.threshold import ThresholdPolicy, choose_threshold, precision_target, share_warning


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

    policy = ThresholdPolicy(policy="capacity", mqls_per_month=5000)  # asked for: auto would not take it
    choice = choose_threshold(probabilities, converted, months=1, policy=policy)

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


# --- auto, the default: what the export gives decides, and the choice says so --------------------------------------


def test_auto_takes_capacity_when_months_are_counted_and_a_capacity_is_set(
    scored: tuple[np.ndarray, np.ndarray],
) -> None:
    probabilities, converted = scored

    choice = choose_threshold(probabilities, converted, months=3, policy=ThresholdPolicy(mqls_per_month=50))

    assert (choice.requested, choice.policy) == ("auto", "capacity")
    assert "creation dates" in choice.rationale
    assert choice.inputs == {"base_rate": 0.1, "leads": 1000.0, "months": 3.0, "mqls_per_month": 50.0}


@pytest.mark.parametrize("months", [None, float("nan"), 3.0])
def test_auto_without_capacity_reads_precision_against_the_base_rate(
    scored: tuple[np.ndarray, np.ndarray], months: float | None
) -> None:
    probabilities, converted = scored  # base rate 10%

    choice = choose_threshold(probabilities, converted, months=months, policy=ThresholdPolicy())

    assert (choice.requested, choice.policy) == ("auto", "precision")
    assert choice.inputs is not None
    assert choice.inputs["target_precision"] == pytest.approx(0.2)
    assert "2x the calibration leads' base rate 10.0%" in choice.rationale
    assert "threshold.mqls_per_month is not set" in choice.rationale
    assert converted[probabilities >= choice.threshold].mean() >= 0.2
    # without months, MQLs per month are unknown, not invented
    assert np.isnan(choice.expected_mqls_per_month) == (months != 3.0)
    assert choice.warning is None


def test_auto_with_a_capacity_but_no_dates_says_it_cannot_count_months(scored: tuple[np.ndarray, np.ndarray]) -> None:
    probabilities, converted = scored

    choice = choose_threshold(probabilities, converted, months=None, policy=ThresholdPolicy(mqls_per_month=50))

    assert choice.policy == "precision"
    assert "MQLs per month cannot be counted (no creation dates)" in choice.rationale


@pytest.mark.parametrize("mqls_per_month", [320, 600])  # 1,000 leads over 3 months: 333 a month
def test_auto_with_a_capacity_at_the_lead_volume_reads_precision_saying_why(
    scored: tuple[np.ndarray, np.ndarray], mqls_per_month: int
) -> None:
    probabilities, converted = scored

    choice = choose_threshold(probabilities, converted, months=3, policy=ThresholdPolicy(mqls_per_month=mqls_per_month))

    assert choice.policy == "precision"
    assert (
        f"the capacity of {mqls_per_month} MQLs per month is 95% or more of the export's 333 leads per month, so "
        "it would pass (almost) every lead, so MQLs are read against the export's base rate"
    ) in choice.rationale
    assert choice.warning is None  # the precision target selects
    assert (probabilities >= choice.threshold).mean() < 0.5


def test_the_lift_target_is_capped_where_the_base_rate_is_high() -> None:
    # 40% convert: twice that (80%) would ask more than halfway from the base rate to certainty (70%)
    assert precision_target(ThresholdPolicy(), 0.4) == pytest.approx(0.7)
    assert precision_target(ThresholdPolicy(target_lift=3), 0.02) == pytest.approx(0.06)
    assert precision_target(ThresholdPolicy(target_precision=0.25), 0.02) == 0.25


def test_a_precision_target_below_the_base_rate_is_a_warning_with_the_numbers() -> None:
    rng = np.random.default_rng(0)
    converted = rng.permutation(np.arange(2000) < 760).astype(int)  # 38% convert, as on X Education's export
    probabilities = np.clip(0.38 + 0.1 * (converted - 0.38) + rng.normal(0, 0.05, 2000), 0.001, 0.999)

    choice = choose_threshold(
        probabilities, converted, months=None, policy=ThresholdPolicy(policy="precision", target_precision=0.15)
    )

    assert choice.warning is not None
    assert "target precision 15% is at or below the calibration leads' base rate 38.0%: every lead would be an MQL" in (
        choice.warning
    )
    assert "of the 2,000 leads it was chosen on MQLs" in choice.warning  # and the threshold passes (almost) everyone


@pytest.mark.parametrize(("value", "said"), [(1_000_000.0, "it does not select"), (301.0, "almost none")])
def test_a_threshold_passing_almost_every_lead_or_none_is_a_warning(value: float, said: str) -> None:
    probabilities = np.linspace(0.01, 0.9, 1000)
    converted = (probabilities > 0.5).astype(int)
    policy = ThresholdPolicy(policy="expected_value", deal_value_eur=value, contact_cost_eur=300)

    choice = choose_threshold(probabilities, converted, months=None, policy=policy)

    assert said in (choice.warning or "")
    share = (probabilities >= choice.threshold).mean()
    assert choice.expected_mql_share == pytest.approx(share)
    assert f"{share:.1%}" in (choice.warning or "") or f"{share:.2%}" in (choice.warning or "")


def test_the_test_leads_share_is_read_the_same_way() -> None:
    # a threshold chosen on a few calibration leads can pass none of the test leads: leadq train says so
    assert share_warning(0.0, 1_695, 0.59, "test leads") == (
        "the threshold makes 0.00% of the 1,695 test leads MQLs: almost none; lower the target or raise the capacity"
    )
    assert "97.0% of the 400 test leads MQLs (base rate 40.0%): it does not select" in (
        share_warning(0.97, 400, 0.4, "test leads") or ""
    )
    assert share_warning(0.2, 400, 0.4, "test leads") is None


def test_capacity_without_its_inputs_is_refused() -> None:
    with pytest.raises(ValueError, match=r"threshold\.policy capacity needs threshold\.mqls_per_month"):
        ThresholdPolicy(policy="capacity")
    probabilities, converted = np.linspace(1, 0, 100), np.arange(100) < 10
    with pytest.raises(ValueError, match="creation dates"):
        choose_threshold(probabilities, converted, None, ThresholdPolicy(policy="capacity", mqls_per_month=5))


def test_a_lift_target_beyond_certainty_says_it_was_capped() -> None:
    rng = np.random.default_rng(2)
    probabilities = rng.random(2000)
    converted = (rng.random(2000) < 0.7 + 0.25 * probabilities).astype(int)  # base rate about 82%

    choice = choose_threshold(probabilities, converted, months=None, policy=ThresholdPolicy(policy="precision"))

    base_rate = converted.mean()
    assert choice.inputs is not None
    assert choice.inputs["target_precision"] == pytest.approx((1 + base_rate) / 2)
    assert "2x the base rate" in choice.rationale
    assert "halfway from it to 100%" in choice.rationale
    assert "2x the calibration leads' base rate" not in choice.rationale


def test_a_lift_target_below_certainty_but_above_the_cap_says_it_was_capped_not_impossible() -> None:
    # X Education's 38.5%: twice it, 77%, is no more than certainty, only capped halfway (69%)
    rng = np.random.default_rng(2)
    probabilities = rng.random(2000)
    converted = (rng.random(2000) < 0.2 + 0.4 * probabilities).astype(int)  # base rate about 40%

    choice = choose_threshold(probabilities, converted, months=None, policy=ThresholdPolicy(policy="precision"))

    assert "is capped halfway from it to 100% where the base rate is this high" in choice.rationale
    assert "more than certainty" not in choice.rationale
