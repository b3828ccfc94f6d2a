"""The publish gate: a new version becomes the champion only when it is clearly useful (README, "The publish gate").

Three checks, all read from the training run's metrics (the honest, held-out evaluation):

1. **Enough history**: ``gate.min_leads`` labelled leads, and ``gate.min_conversions`` leads of each outcome.
2. **Clearly better than chance**: the lower bound of the test AUC's bootstrap interval lies above
   ``gate.min_auc`` (0.60: a model that might rank at 0.55 is one sales would not notice; 0.5 is a coin).
3. **Not too good to be true**: the test AUC is at most ``gate.max_auc`` (0.97). Who converts depends on what
   sales and the buyer do after the lead comes in: scores from what is known before contact rank at 0.70 to 0.92
   on real exports (X Education 0.90); above 0.97 a column filled after contact is almost always still in (two
   leaking columns hide each other from the leakage guard's lift test, each adding little beside the other).
4. **Not clearly worse than a baseline**: the model's AUC is not below the interval of the logistic regression's
   AUC, nor, where the mapping has one, of the points rule's (a simpler score on the same test leads clearly
   ranking better means the booster overfits or lacks data). "Clearly better than the baseline" is not asked:
   on one test set of a small export the two intervals overlap even where the model is better, and the model
   brings what a baseline lacks (calibrated probabilities, a threshold policy, per-lead reasons).

A version that fails is registered, not promoted; ``leadq train --force`` promotes it anyway and tags it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipelines.settings import GateSettings


@dataclass(frozen=True)
class GateDecision:
    """Whether a version may become the champion: the checks made, why it failed, and what data would help."""

    passed: bool
    checks: tuple[str, ...]  # every check with its numbers, passed or not
    reasons: tuple[str, ...]  # the failed checks
    advice: tuple[str, ...]  # what would help

    def tags(self) -> dict[str, str]:
        """Run and version tags (MLflow tag values are at most 5,000 characters)."""
        tags = {"gate": "passed" if self.passed else "failed", "gate_checks": " | ".join(self.checks)[:5000]}
        if self.reasons:
            tags["gate_reasons"] = " | ".join(self.reasons)[:5000]
        if self.advice:
            tags["gate_advice"] = " | ".join(self.advice)[:5000]
        return tags


def _data_checks(metrics: Mapping[str, float], gate: GateSettings) -> tuple[list[str], list[str], list[str]]:
    leads, converted = int(metrics["labelled_leads"]), int(metrics["labelled_conversions"])
    counts = (
        ("labelled leads", leads, gate.min_leads),
        ("conversions", converted, gate.min_conversions),
        ("leads that did not convert", leads - converted, gate.min_conversions),
    )
    checks = [f"{count:,} {what} (at least {least:,})" for what, count, least in counts]
    reasons = [f"only {count:,} {what}; the gate asks {least:,}" for what, count, least in counts if count < least]
    advice = [
        f"needs at least {least - count:,} more {what}: export a longer history"
        for what, count, least in counts
        if count < least
    ]
    return checks, reasons, advice


def history_shortfall(won: int, lost: int, gate: GateSettings) -> list[str]:
    """What an export's labelled leads lack against the gate's data minimum (empty: enough), as the gate says it."""
    return _data_checks({"labelled_leads": won + lost, "labelled_conversions": won}, gate)[1]


def _interval(metrics: Mapping[str, float], prefix: str) -> tuple[float, float] | None:
    low, high = metrics.get(f"{prefix}_roc_auc_ci_low"), metrics.get(f"{prefix}_roc_auc_ci_high")
    return None if low is None or high is None else (low, high)


WIDE_INTERVAL = 0.08  # an AUC interval this wide says the test leads are too few, not that the columns tell nothing


def _chance_check(metrics: Mapping[str, float], gate: GateSettings) -> tuple[str, str | None, str | None]:
    interval = _interval(metrics, "test")
    if interval is None:
        return (
            "test AUC: none (the test leads hold one outcome only)",
            "the test leads hold one outcome only",
            ("needs test leads of both outcomes: a longer history"),
        )
    low, high = interval
    check = f"test AUC {metrics['test_roc_auc']:.3f} ({low:.2f}-{high:.2f}), lower bound above {gate.min_auc:.2f}"
    if low > gate.min_auc:
        return check, None, None
    if high < 0.5:
        said = "lies below chance (0.5): the model ranks worse than a coin"
    else:
        said = "includes chance (0.5)" if low <= 0.5 else f"reaches below gate.min_auc {gate.min_auc:.2f}"
    helps = (
        "if the interval stays near 0.5, the mapped columns do not tell converting leads apart: map columns known "
        "before contact that might (e.g. source, company, behaviour)"
    )
    if high - low > WIDE_INTERVAL:  # too few test leads to tell: a quarter of 705 leads gave 0.60-0.70 (fuzz21)
        tested = (
            f" (the test leads: {metrics['n_test']:,.0f}, {metrics['test_conversions']:,.0f} conversions)"
            if "n_test" in metrics and "test_conversions" in metrics
            else ""
        )
        helps = (
            f"more labelled conversions narrow the interval{tested}, and where the split is by date a longer test "
            f"period (one more quarter in split.test_quarters); {helps}"
        )
    return check, f"the AUC interval {low:.2f}-{high:.2f} {said}", helps


_BASELINES = (("logreg_test", "the logistic regression"), ("rules_test", "the points rule"))


def _too_good_check(metrics: Mapping[str, float], gate: GateSettings) -> tuple[str | None, str | None, str | None]:
    auc = metrics.get("test_roc_auc")
    if auc is None or gate.max_auc >= 1:
        return None, None, None
    check = f"test AUC {auc:.3f} at most gate.max_auc {gate.max_auc:.2f}"
    if auc <= gate.max_auc:
        return check, None, None
    return (
        check,
        f"the test AUC {auc:.3f} is above gate.max_auc {gate.max_auc:.2f}: too good for a score of what is known "
        "before sales contact, so a column filled after contact is most likely still a feature",
        (
            "look at the top features of the explanation report (leadq explain) and map every column sales or the "
            "deal fill in as after_contact; if the score is honest, raise gate.max_auc or promote with --force"
        ),
    )


def _baseline_checks(metrics: Mapping[str, float]) -> tuple[list[str], list[str], list[str]]:
    auc = metrics.get("test_roc_auc")
    checks: list[str] = []
    reasons: list[str] = []
    advice: list[str] = []
    for prefix, baseline in _BASELINES:
        interval = _interval(metrics, prefix)
        if auc is None or interval is None:
            continue  # no points rule in the mapping (or one outcome only: the chance check says so)
        low, high = interval
        checks.append(f"model AUC {auc:.3f} not below {baseline}'s interval ({low:.3f}-{high:.3f})")
        if auc < low:
            reasons.append(
                f"the model's AUC {auc:.3f} is below {baseline}'s interval {low:.3f}-{high:.3f}: "
                f"{baseline} ranks clearly better"
            )
            advice.append(
                "more labelled leads for the booster, or fewer sparse columns; "
                f"until then {baseline} is the better score"
            )
    return checks, reasons, advice


def judge_version(metrics: Mapping[str, float], gate: GateSettings) -> GateDecision:
    """The gate's decision on a training run's metrics (``labelled_leads``, ``labelled_conversions``, AUCs and
    their intervals)."""
    checks, reasons, advice = _data_checks(metrics, gate)
    chance, failed, helps = _chance_check(metrics, gate)
    checks.append(chance)
    reasons += [failed] if failed else []
    advice += [helps] if helps else []
    too_good, failed, helps = _too_good_check(metrics, gate)
    checks += [too_good] if too_good else []
    reasons += [failed] if failed else []
    advice += [helps] if helps else []
    more_checks, more_reasons, more_advice = _baseline_checks(metrics)
    return GateDecision(
        passed=not reasons and not more_reasons,
        checks=(*checks, *more_checks),
        reasons=(*reasons, *more_reasons),
        advice=tuple(dict.fromkeys([*advice, *more_advice])),
    )
