"""What is shipped: the fitted pipeline, its calibrator, the MQL threshold, grade cut points and the SLA.

``LeadScorer`` is the one object serving needs. It is logged to MLflow as a pyfunc model (see
``models/mlflow_model.py``). ``score`` returns, per lead, the calibrated probability, a 0-100 score, the MQL
decision, the grade A1..D4 and the SLA priority and response time; ``explain`` adds the top reasons.
"""

from __future__ import annotations

import math
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
    ReasonArrays,
    at_decision_precision,
    contributions,
    contributions_of_columns,
    distinct_plain_values,
    reason_arrays,
    unseen_categories,
    unseen_category_lists,
)
from models.feature_text import Language
from models.features import Factorized, columns_from_records, columns_of_frame
from models.pipeline import predict_raw
from models.sla import SlaTable, demo_request_feature
from models.threshold import ThresholdChoice

OUTPUT_COLUMNS = ("probability", "score", "is_mql", "grade", "priority", "response_hours", "sla_rule")
REASON_COLUMNS = ("reasons_for", "reasons_against")


ALWAYS_GIVEN_MISSING_SHARE = 0.005  # of the training leads: a feature missing this rarely is always given


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

    def fitted_quarters(self) -> set[str]:
        """The quarters of the leads the model learnt from: its training and calibration quarters, and every
        labelled quarter where it was refit on all of them (empty: trained without dates)."""
        metadata = self.metadata
        named = ("train_quarters", "calibration_quarters", "refit_quarters")
        return {str(quarter) for key in named for quarter in metadata.get(key, []) or []}  # type: ignore[attr-defined]

    def always_given(self, max_missing_share: float = ALWAYS_GIVEN_MISSING_SHARE) -> frozenset[str]:
        """The input fields whose feature was (almost) never missing in training (the reference profile): a lead
        without one is scored where the model saw no lead, and its score may be far off (an empty lead of the
        UCI bank export scored 0.65 against a base rate of 0.11). Empty for models trained before the profile."""
        profiled = (self.reference or {}).get("features", {})
        step = self.pipeline.named_steps["features"]
        return frozenset(
            mapped.column
            for mapped in getattr(step, "columns", ())
            if mapped.name in profiled and profiled[mapped.name].get("missing", 1.0) <= max_missing_share
        )

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
            "is_mql": at_decision_precision(probability) >= at_decision_precision(self.threshold.threshold),
        }

    def predict_mql(self, leads: pd.DataFrame) -> pd.DataFrame:
        """probability, score (0-100) and is_mql without SHAP (``predict_proba``'s probability): no grade, SLA or
        reasons. Through ``predict_mql_columns``, the array path."""
        names = self.pipeline.named_steps["features"].input_columns
        return pd.DataFrame(self.predict_mql_columns(columns_of_frame(leads, names), len(leads)), index=leads.index)

    def predict_mql_columns(self, columns: Mapping[str, np.ndarray | None], n: int) -> dict[str, np.ndarray]:
        """``predict_mql`` of ``n`` leads given as one array per input field (absent or None: unknown), e.g. a chunk
        of an export: the steps of ``predict_proba`` on arrays, as ``explain_columns`` takes them.

        The same features (``arrays_from_columns``, which the features step's ``transform`` runs), the same matrix
        (``encode_arrays``, which the encoder's ``transform`` runs) and the same ``Booster.predict`` scikit-learn's
        ``predict_proba`` ends in, hence the same probabilities; without a DataFrame per step, scikit-learn's
        output wrappers and LightGBM's pandas conversion (a third of a 20,000-lead chunk's time besides the trees).
        """
        return self._decided_columns(columns, n)[0]

    def _decided_columns(
        self, columns: Mapping[str, np.ndarray | None], n: int
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
        """``predict_mql_columns`` with the model features and the booster's matrix it computed on the way."""
        features, encoded = self.encoded_columns(columns, n)
        return self.decide_raw(self.raw_predictions(encoded)), features, encoded

    def encoded_columns(
        self, columns: Mapping[str, np.ndarray | None], n: int
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The model features of ``n`` leads given as one array per input field, and the booster's matrix of them."""
        step = self.pipeline.named_steps["features"]
        factorized: dict[str, Factorized] = {}  # the categories' codes, not hashed twice
        features = step.arrays_from_columns(columns, n, factorized)
        return features, self.pipeline.named_steps["encode"].encode_arrays(features, factorized)

    def raw_predictions(self, matrix: np.ndarray) -> np.ndarray:
        """``Booster.predict`` of the booster's ``matrix`` (``encoded_columns``): the uncalibrated probabilities that
        ``predict_proba`` ends in."""
        classifier = self.pipeline.named_steps["classifier"]
        return classifier.booster_.predict(matrix, num_iteration=classifier.best_iteration_ or None)

    def decide_raw(self, raw: np.ndarray) -> dict[str, np.ndarray]:
        """``decide_mql`` of the booster's uncalibrated probabilities (``raw_predictions``), calibrated."""
        return self.decide_mql(self.calibrator.transform(raw))

    def decide_records(self, records: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
        """``predict_mql`` for lead records (dicts, e.g. a JSON request): ``explain_records`` without TreeSHAP.

        Each result holds probability, score and is_mql, and as ``explain_records``'s do, ``unseen_categories`` and
        ``features`` (the model features, computed once for the decision and for these).
        """
        step = self.pipeline.named_steps["features"]
        columns = columns_from_records(records, step.input_columns)
        decided, features, encoded = self._decided_columns(columns, len(records))
        fields = {
            "probability": decided["probability"].tolist(),
            "score": decided["score"].tolist(),
            "is_mql": decided["is_mql"].tolist(),
            "unseen_categories": unseen_category_lists(features, encoded, step.feature_spec),
        }
        return _lead_dicts(fields, features)

    def _decide(self, explained: Contributions) -> dict[str, np.ndarray]:
        decided = self.decide_mql(self.probability_from(explained))
        is_mql = decided["is_mql"]
        grade = self.grade_cuts.grade(explained)
        demo_feature = demo_request_feature(explained.spec)  # a mapped export may have no demo request field
        demo = explained.arrays.get(demo_feature) if demo_feature else None
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

    def explain_arrays(
        self, explained: Contributions, top_k: int | None = None, language: Language | None = None
    ) -> ExplainedBatch:
        """The decision and top reasons of explained leads as arrays: the one path of ``explain``,
        ``explain_records`` and ``leadq score`` (one TreeSHAP call per batch, labels once per distinct value)."""
        reasons_for, reasons_against = reason_arrays(explained, top_k or self.top_k, language or self.language)
        return ExplainedBatch(self._decide(explained), reasons_for, reasons_against, explained)

    def explain_columns(
        self, columns: Mapping[str, np.ndarray], n: int, top_k: int | None = None, language: Language | None = None
    ) -> ExplainedBatch:
        """``explain_arrays`` of ``n`` leads given as one array per input field (absent: unknown), e.g. a chunk of
        an export: no record, DataFrame or dict per lead."""
        explained = contributions_of_columns(self.pipeline, columns, pd.RangeIndex(n))
        return self.explain_arrays(explained, top_k, language)

    def explain(self, leads: pd.DataFrame, top_k: int | None = None, language: Language | None = None) -> pd.DataFrame:
        """``score`` plus ``reasons_for`` and ``reasons_against``: lists of {feature, label, value, impact}.

        ``impact`` is on the log-odds scale of the uncalibrated model (see ``models.explanations``).
        """
        batch = self.explain_arrays(self.contributions(leads), top_k, language)
        names = batch.contributions.spec.names
        reasons_for, reasons_against = np.empty(len(leads), dtype=object), np.empty(len(leads), dtype=object)
        reasons_for[:], reasons_against[:] = batch.reasons_for.as_dicts(names), batch.reasons_against.as_dicts(names)
        return pd.DataFrame(
            {**batch.decided, "reasons_for": reasons_for, "reasons_against": reasons_against}, index=leads.index
        )

    def explain_records(
        self, records: Sequence[Mapping[str, object]], top_k: int | None = None, language: Language | None = None
    ) -> list[dict[str, object]]:
        """``explain`` for lead records (dicts, e.g. a JSON request) without pandas: the online hot path.

        Each result also lists ``unseen_categories``: features whose value the model never saw (scored as
        unknown), and ``features``: the lead's model features (plain values, None when unknown).
        """
        columns = columns_from_records(records, self.pipeline.named_steps["features"].input_columns)
        return self.explain_columns(columns, len(records), top_k, language).records()


@dataclass(frozen=True)
class ExplainedBatch:
    """Leads scored with reasons, as arrays (one entry or row per lead)."""

    decided: dict[str, np.ndarray]  # OUTPUT_COLUMNS: probability, score, is_mql, grade, priority, ...
    reasons_for: ReasonArrays
    reasons_against: ReasonArrays
    contributions: Contributions

    def __len__(self) -> int:
        return len(self.decided["probability"])

    def records(self) -> list[dict[str, object]]:
        """One dict per lead, as ``explain_records`` answers: the decision in plain Python values, the reasons
        as {feature, label, value, impact} dicts, ``unseen_categories`` and ``features``."""
        decided, names, features = self.decided, self.contributions.spec.names, self.contributions.arrays
        fields = {
            "probability": decided["probability"].tolist(),
            "score": decided["score"].tolist(),
            "is_mql": decided["is_mql"].tolist(),
            "grade": [str(grade) for grade in decided["grade"].tolist()],
            "priority": [str(priority) for priority in decided["priority"].tolist()],
            "response_hours": [None if math.isnan(hours) else hours for hours in decided["response_hours"].tolist()],
            "sla_rule": [str(rule) for rule in decided["sla_rule"].tolist()],
            "reasons_for": self.reasons_for.as_dicts(names),
            "reasons_against": self.reasons_against.as_dicts(names),
            "unseen_categories": unseen_categories(self.contributions),
        }
        return _lead_dicts(fields, features)


def _lead_dicts(fields: dict[str, list[Any]], features: dict[str, np.ndarray]) -> list[dict[str, object]]:
    """One dict per lead: its entry of each of ``fields`` and, under ``features``, its model features."""
    leads_features = zip(*(_plain_list(values) for values in features.values()), strict=True)
    return [
        {**dict(zip(fields, lead, strict=True)), "features": dict(zip(features, lead_features, strict=True))}
        for *lead, lead_features in zip(*fields.values(), leads_features, strict=True)
    ]


def _plain_list(values: np.ndarray) -> list[object]:
    """``values`` as plain Python values (:func:`models.explanations.plain_value`): None for missing."""
    if values.dtype.kind == "f":
        listed: list[object] = values.tolist()
        return [None if value != value else value for value in listed]  # NaN != NaN
    if values.dtype != object:
        return values.tolist()
    codes, distinct = distinct_plain_values(values)  # categories: a few distinct values
    plain = np.empty(len(distinct) + 1, dtype=object)
    plain[:-1], plain[-1] = distinct, None
    return plain[codes].tolist()
