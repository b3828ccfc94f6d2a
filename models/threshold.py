"""The MQL threshold: a business decision made measurable.

Three policies (``threshold.policy`` in mlflow.yml):

- ``capacity``: sales can work ``mqls_per_month`` leads; the threshold passes that many of the recent volume.
- ``precision``: MQLs must convert at ``target_precision`` or better; the lowest threshold that does.
- ``expected_value``: contact a lead when ``p * deal_value_eur > contact_cost_eur``, i.e. the threshold is
  cost / value. This needs calibrated probabilities, which is why calibration comes first.

Thresholds are chosen on the calibration leads (never the test leads) and stored with the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

PolicyName = Literal["capacity", "precision", "expected_value"]
_MIN_MQLS_FOR_PRECISION = 50  # precision over fewer leads is too noisy to set a threshold on


class ThresholdPolicy(BaseModel):
    """The agreed MQL rule and its business inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: PolicyName = "capacity"
    mqls_per_month: int = Field(600, gt=0)
    target_precision: float = Field(0.15, gt=0, lt=1)
    deal_value_eur: float = Field(25_000, gt=0)
    contact_cost_eur: float = Field(300, gt=0)


@dataclass(frozen=True)
class ThresholdChoice:
    """The threshold served with the model, how it was chosen, and what it meant on the calibration leads."""

    policy: PolicyName
    threshold: float
    rationale: str
    expected_mqls_per_month: float
    expected_precision: float
    warning: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


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
            f"target precision {target:.0%} is not reached by any threshold on the calibration leads; "
            f"using the best observed ({precision[best]:.1%})"
        )
    return float(ranked[eligible[-1]]), None


def choose_threshold(
    probabilities: np.ndarray, y_true: np.ndarray, months: float, policy: ThresholdPolicy
) -> ThresholdChoice:
    """Pick the MQL threshold on calibrated probabilities of the calibration leads (MQL means p >= threshold)."""
    order = np.argsort(-probabilities, kind="stable")
    ranked, ranked_y = probabilities[order], np.asarray(y_true, dtype=float)[order]
    warning = None
    if policy.policy == "capacity":
        threshold, warning = _capacity_threshold(ranked, months, policy.mqls_per_month)
        rationale = f"sales capacity of {policy.mqls_per_month} MQLs per month"
    elif policy.policy == "precision":
        threshold, warning = _precision_threshold(ranked, ranked_y, policy.target_precision)
        rationale = f"MQLs must convert at {policy.target_precision:.0%} or better"
    else:
        threshold = policy.contact_cost_eur / policy.deal_value_eur
        rationale = (
            f"contact when expected value p x {policy.deal_value_eur:,.0f} EUR exceeds the "
            f"{policy.contact_cost_eur:,.0f} EUR cost of a sales contact"
        )
    passed = probabilities >= threshold
    return ThresholdChoice(
        policy=policy.policy,
        threshold=float(threshold),
        rationale=rationale,
        expected_mqls_per_month=float(passed.sum() / months),
        expected_precision=float(np.asarray(y_true)[passed].mean()) if passed.any() else 0.0,
        warning=warning,
    )
