"""The MQL threshold: a business decision made measurable.

Four policies (``threshold.policy`` in mlflow.yml):

- ``capacity``: sales can work ``mqls_per_month`` leads; the threshold passes that many of the recent volume.
  Needs the leads' creation dates (to count leads per month) and the team's capacity.
- ``precision``: MQLs must convert at ``target_precision`` or better; the lowest threshold that does. Without a
  ``target_precision`` the target is ``target_lift`` times the export's own base rate.
- ``expected_value``: contact a lead when ``p * deal_value_eur > contact_cost_eur``, i.e. the threshold is
  cost / value. This needs calibrated probabilities, which is why calibration comes first.
- ``auto`` (the default): ``capacity`` when MQLs per month can be counted (creation dates),
  ``mqls_per_month`` is set and below the export's lead volume (a capacity above it passes every lead), else
  ``precision`` at ``target_lift`` x the export's base rate. Why that fallback:
  it needs nothing an export can lack (every labelled export has a base rate), it means the same on an export
  where 2% convert and on one where 40% do ("an MQL converts twice as often as the average lead"), and it
  cannot collapse to "every lead is an MQL" as a fixed precision target does when the base rate is above it.
  ``expected_value`` is never chosen by itself: its euros are the team's to give.

Thresholds are chosen on the calibration leads (never the test leads) and stored with the model. Every choice
says the policy actually used, its inputs and why; a target at or below the base rate, or a threshold that makes
(almost) every calibration lead an MQL or (almost) none, comes with a warning that gives the numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

PolicyName = Literal["auto", "capacity", "precision", "expected_value"]
ChosenPolicy = Literal["capacity", "precision", "expected_value"]
_MIN_MQLS_FOR_PRECISION = 50  # precision over fewer leads is too noisy to set a threshold on
# An MQL share outside these bounds on the calibration leads means the threshold does not select: a warning.
MAX_MQL_SHARE = 0.95
MIN_MQL_SHARE = 0.005


class ThresholdPolicy(BaseModel):
    """The agreed MQL rule and its business inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: PolicyName = "auto"
    mqls_per_month: int | None = Field(None, gt=0, description="capacity: leads sales can work per month")
    target_precision: float | None = Field(
        None, gt=0, lt=1, description="precision: the MQL -> won rate to reach; null: target_lift x base rate"
    )
    target_lift: float = Field(2.0, gt=1, le=100, description="precision without a target: MQLs convert this x")
    deal_value_eur: float = Field(25_000, gt=0)
    contact_cost_eur: float = Field(300, gt=0)

    @model_validator(mode="after")
    def _capacity_needs_its_input(self) -> ThresholdPolicy:
        if self.policy == "capacity" and self.mqls_per_month is None:
            raise ValueError(
                "threshold.policy capacity needs threshold.mqls_per_month (the leads sales can work per month); "
                "set it, or use threshold.policy auto"
            )
        return self


@dataclass(frozen=True)
class ThresholdChoice:
    """The threshold served with the model, how it was chosen, and what it meant on the calibration leads.

    ``policy`` is the policy actually used; ``requested`` the configured one (``auto`` resolves to another);
    ``inputs`` the numbers the choice read (base rate, target, capacity, months, the leads it was chosen on).
    """

    policy: ChosenPolicy
    threshold: float
    rationale: str
    expected_mqls_per_month: float
    expected_precision: float
    warning: str | None = None
    requested: PolicyName | None = None
    inputs: dict[str, float] | None = None
    expected_mql_share: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _known(months: float | None) -> bool:
    return months is not None and math.isfinite(months) and months > 0


def precision_target(policy: ThresholdPolicy, base_rate: float) -> float:
    """The precision an MQL must reach: the configured one, else ``target_lift`` x the base rate, capped halfway
    between the base rate and certainty (twice a 40% base rate, 80%, asks near certainty of an MQL: few leads reach
    it however well the model ranks)."""
    if policy.target_precision is not None:
        return policy.target_precision
    return min(policy.target_lift * base_rate, (1 + base_rate) / 2)


def resolve_policy(policy: ThresholdPolicy, months: float | None, leads: int) -> tuple[ChosenPolicy, str]:
    """The policy to use and why: ``auto`` becomes capacity or precision by what the export and settings give.

    ``leads`` came in over ``months``: a capacity that passes (almost) all of them selects nothing, so ``auto``
    takes capacity only where it binds.
    """
    if policy.policy != "auto":
        return policy.policy, f"threshold.policy {policy.policy}"
    if policy.mqls_per_month is None:
        missing = "threshold.mqls_per_month is not set"
    elif months is None or not _known(months):
        missing = "MQLs per month cannot be counted (no creation dates)"
    elif policy.mqls_per_month * months >= MAX_MQL_SHARE * leads:
        volume = leads / months if months > 0 else math.inf
        missing = (
            f"the capacity of {policy.mqls_per_month} MQLs per month is {MAX_MQL_SHARE:.0%} or more of the export's "
            f"{volume:,.0f} leads per month, so it would pass (almost) every lead"
        )
    else:
        return "capacity", "auto: MQLs per month can be counted (creation dates) and threshold.mqls_per_month is set"
    return "precision", f"auto: {missing}, so MQLs are read against the export's base rate"


def _capacity_threshold(ranked: np.ndarray, months: float, mqls_per_month: int) -> tuple[float, str | None]:
    wanted = round(mqls_per_month * months)
    if wanted >= len(ranked):
        return float(ranked[-1]), (
            f"capacity of {mqls_per_month} MQLs/month exceeds the lead volume "
            f"({len(ranked) / months:.0f}/month): every lead passes"
        )
    return float(ranked[max(wanted, 1) - 1]), None


def _precision_threshold(ranked: np.ndarray, ranked_y: np.ndarray, target: float) -> tuple[float, str | None]:
    precision = np.cumsum(ranked_y) / np.arange(1, len(ranked_y) + 1)
    start = min(_MIN_MQLS_FOR_PRECISION, len(ranked)) - 1
    eligible = np.flatnonzero(precision[start:] >= target) + start
    if len(eligible) == 0:
        best = int(np.argmax(precision[start:])) + start
        return float(ranked[best]), (
            f"target precision {target:.0%} is not reached by any threshold on the leads it was chosen on; "
            f"using the best observed ({precision[best]:.1%})"
        )
    return float(ranked[eligible[-1]]), None


def share_warning(share: float, n_leads: int, base_rate: float, leads: str = "leads it was chosen on") -> str | None:
    """A warning with the numbers where the threshold makes (almost) every one of ``n_leads`` an MQL or (almost)
    none; ``leads`` says which leads (those it was chosen on, or the test leads)."""
    if share > MAX_MQL_SHARE:
        return (
            f"the threshold makes {share:.1%} of the {n_leads:,} {leads} MQLs "
            f"(base rate {base_rate:.1%}): it does not select; raise the target or lower the capacity"
        )
    if share < MIN_MQL_SHARE:
        return (
            f"the threshold makes {share:.2%} of the {n_leads:,} {leads} MQLs: almost none; "
            "lower the target or raise the capacity"
        )
    return None


def choose_threshold(
    probabilities: np.ndarray, y_true: np.ndarray, months: float | None, policy: ThresholdPolicy
) -> ThresholdChoice:
    """Pick the MQL threshold on calibrated probabilities of the calibration leads (MQL means p >= threshold).

    ``months``: the months of leads the calibration leads stand for; None (or NaN) without creation dates, when
    ``capacity`` cannot be used (``auto`` then takes ``precision``; an explicit ``capacity`` raises ValueError).
    """
    y = np.asarray(y_true, dtype=float)
    order = np.argsort(-probabilities, kind="stable")
    ranked, ranked_y = probabilities[order], y[order]
    base_rate = float(y.mean())
    span = months if months is not None and _known(months) else None
    chosen, why = resolve_policy(policy, span, len(y))
    inputs: dict[str, float] = {"base_rate": base_rate, "leads": float(len(y))}
    if span is not None:
        inputs["months"] = span
    warnings: list[str] = []
    if chosen == "capacity":
        if span is None or policy.mqls_per_month is None:
            raise ValueError("threshold.policy capacity needs MQLs per month: creation dates and mqls_per_month")
        threshold, warning = _capacity_threshold(ranked, span, policy.mqls_per_month)
        inputs["mqls_per_month"] = float(policy.mqls_per_month)
        rationale = f"sales capacity of {policy.mqls_per_month} MQLs per month"
    elif chosen == "precision":
        target = precision_target(policy, base_rate)
        threshold, warning = _precision_threshold(ranked, ranked_y, target)
        inputs["target_precision"] = target
        if policy.target_precision is None:
            inputs["target_lift"] = policy.target_lift
            lifted = policy.target_lift * base_rate
            how = (
                f"{policy.target_lift:g}x the calibration leads' base rate {base_rate:.1%}"
                if target >= lifted
                else f"{policy.target_lift:g}x the base rate {base_rate:.1%} would ask for more than certainty, so "
                "halfway from it to 100%"
                if lifted >= 1
                else f"{policy.target_lift:g}x the base rate {base_rate:.1%} ({lifted:.1%}) is capped halfway from it "
                "to 100% where the base rate is this high"
            )
            rationale = f"MQLs must convert at {target:.1%} or better: {how}"
        else:
            rationale = f"MQLs must convert at {target:.0%} or better (base rate {base_rate:.1%})"
        if target <= base_rate:
            warnings.append(
                f"target precision {target:.0%} is at or below the calibration leads' base rate {base_rate:.1%}: "
                "every lead would be an MQL; set threshold.target_precision above it or leave it empty "
                "(target_lift x base rate)"
            )
    else:
        threshold, warning = policy.contact_cost_eur / policy.deal_value_eur, None
        inputs |= {"deal_value_eur": policy.deal_value_eur, "contact_cost_eur": policy.contact_cost_eur}
        rationale = (
            f"contact when expected value p x {policy.deal_value_eur:,.0f} EUR exceeds the "
            f"{policy.contact_cost_eur:,.0f} EUR cost of a sales contact"
        )
    passed = probabilities >= threshold
    share = float(passed.mean()) if len(passed) else 0.0
    warnings += [text for text in (warning, share_warning(share, len(y), base_rate)) if text]
    return ThresholdChoice(
        policy=chosen,
        threshold=float(threshold),
        rationale=f"{rationale} ({why})",
        expected_mqls_per_month=float(passed.sum() / span) if span is not None else float("nan"),
        expected_precision=float(y[passed].mean()) if passed.any() else 0.0,
        warning="; ".join(dict.fromkeys(warnings)) or None,
        requested=policy.policy,
        inputs=inputs,
        expected_mql_share=share,
    )
