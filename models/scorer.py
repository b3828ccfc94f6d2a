"""What is shipped: the fitted pipeline, its calibrator, the MQL threshold, grade cut points and the SLA.

``LeadScorer`` is the one object serving needs. It is logged to MLflow as a pyfunc model (see
``models/mlflow_model.py``). ``score`` returns, per lead, the calibrated probability, a 0-100 score, the MQL
decision, the grade A1..D4 and the SLA priority and response time; ``explain`` adds the top reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.pipeline import Pipeline

from models.calibration import ProbabilityCalibrator
from models.explanations import (
    Contributions,
    GradeCuts,
    Reason,
    contributions,
    contributions_of_records,
    plain_value,
    top_reasons,
    unseen_categories,
)
from models.feature_text import Language
from models.pipeline import predict_raw
from models.sla import SlaTable
from models.threshold import ThresholdChoice

OUTPUT_COLUMNS = ("probability", "score", "is_mql", "grade", "priority", "response_hours", "sla_rule")
REASON_COLUMNS = ("reasons_for", "reasons_against")


@dataclass(frozen=True)
class LeadScorer:
    """A calibrated lead-conversion model with its agreed MQL threshold, grades and SLA."""

    pipeline: Pipeline
    calibrator: ProbabilityCalibrator
    threshold: ThresholdChoice
    grade_cuts: GradeCuts
    sla: SlaTable = field(default_factory=SlaTable)
    language: Language = "en"
    top_k: int = 3
    metadata: dict[str, object] = field(default_factory=dict)
    # The training leads' feature and score distributions (models.audit.reference_profile): the audit's drift
    # baseline. None for models trained before it existed.
    reference: dict[str, Any] | None = None

    def contributions(self, leads: pd.DataFrame) -> Contributions:
        """SHAP contributions (log-odds of the uncalibrated model) of each feature for each lead."""
        return contributions(self.pipeline, leads)

    def probability_from(self, explained: Contributions) -> np.ndarray:
        """Calibrated probability from the contributions (their sum is the model's logit)."""
        return self.calibrator.transform(expit(explained.raw_score))

    def predict_proba(self, leads: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each lead converts within the label horizon (no SHAP: the fast path)."""
        return self.calibrator.transform(predict_raw(self.pipeline, leads))

    def decide_mql(self, probability: np.ndarray) -> dict[str, np.ndarray]:
        """The calibrated ``probability``, its 0-100 ``score`` and the MQL decision (``is_mql``): the one rule
        for both paths, with reasons (``explain_records``, via TreeSHAP) and without (``predict_proba``)."""
        return {
            "probability": probability,
            "score": np.rint(probability * 100).astype(np.int64),
            "is_mql": probability >= self.threshold.threshold,
        }

    def predict_mql(self, leads: pd.DataFrame) -> pd.DataFrame:
        """probability, score (0-100) and is_mql without SHAP (``predict_proba``): no grade, SLA or reasons."""
        return pd.DataFrame(self.decide_mql(self.predict_proba(leads)), index=leads.index)

    def _decide(self, explained: Contributions) -> dict[str, np.ndarray]:
        decided = self.decide_mql(self.probability_from(explained))
        is_mql = decided["is_mql"]
        grade = self.grade_cuts.grade(explained)
        demo = explained.arrays.get("demo_requested")  # a mapped export may have no demo request field
        sla = self.sla.assign(grade, np.zeros(len(grade), bool) if demo is None else demo == 1.0, is_mql)
        return {
            **decided,
            "grade": grade,
            "priority": sla.priority,
            "response_hours": sla.response_hours,
            "sla_rule": sla.rule,
        }

    def score(self, leads: pd.DataFrame) -> pd.DataFrame:
        """probability, score (0-100), is_mql, grade, priority, response_hours (NaN: nurture) and sla_rule."""
        return pd.DataFrame(self._decide(self.contributions(leads)), index=leads.index)

    def explain(self, leads: pd.DataFrame, top_k: int | None = None, language: Language | None = None) -> pd.DataFrame:
        """``score`` plus ``reasons_for`` and ``reasons_against``: lists of {feature, label, value, impact}.

        ``impact`` is on the log-odds scale of the uncalibrated model (see ``models.explanations``).
        """
        explained = self.contributions(leads)
        decided = self._decide(explained)
        reasons = top_reasons(explained, top_k or self.top_k, language or self.language)
        reasons_for, reasons_against = np.empty(len(leads), dtype=object), np.empty(len(leads), dtype=object)
        for position, (positive, negative) in enumerate(reasons):
            reasons_for[position], reasons_against[position] = _as_dicts(positive), _as_dicts(negative)
        return pd.DataFrame(
            {**decided, "reasons_for": reasons_for, "reasons_against": reasons_against}, index=leads.index
        )

    def explain_records(
        self, records: Sequence[Mapping[str, object]], top_k: int | None = None, language: Language | None = None
    ) -> list[dict[str, object]]:
        """``explain`` for lead records (dicts, e.g. a JSON request) without pandas: the online hot path.

        Each result also lists ``unseen_categories``: features whose value the model never saw (scored as
        unknown).
        """
        explained = contributions_of_records(self.pipeline, records)
        decided = self._decide(explained)
        reasons = top_reasons(explained, top_k or self.top_k, language or self.language)
        unseen = unseen_categories(explained)
        return [
            {
                "probability": float(decided["probability"][row]),
                "score": int(decided["score"][row]),
                "is_mql": bool(decided["is_mql"][row]),
                "grade": str(decided["grade"][row]),
                "priority": str(decided["priority"][row]),
                "response_hours": None
                if np.isnan(decided["response_hours"][row])
                else float(decided["response_hours"][row]),
                "sla_rule": str(decided["sla_rule"][row]),
                "reasons_for": _as_dicts(reasons[row][0]),
                "reasons_against": _as_dicts(reasons[row][1]),
                "unseen_categories": unseen[row],
                "features": {feature: plain_value(values[row]) for feature, values in explained.arrays.items()},
            }
            for row in range(len(records))
        ]


def _as_dicts(reasons: list[Reason]) -> list[dict[str, object]]:
    return [{"feature": r.feature, "label": r.label, "value": r.value, "impact": r.impact} for r in reasons]
