"""Why a lead scored as it did: SHAP contributions per feature, top reasons, and grades A1..D4.

Contributions come from LightGBM's native TreeSHAP (``pred_contrib``) on the fitted booster, or, for trees that
read one feature alone, from those trees' predictions (``models.single_feature_trees``: the same values,
cheaper). The encoder maps each model feature to exactly one column, so a column's contribution is its
feature's contribution. They are on the **log-odds scale of the uncalibrated model**: they add up, with the base
value, to the model's raw score (logit) before calibration. The calibrated probability is a monotone function of
that logit, so a positive impact always raises the probability, but the impacts do not add up to the probability
itself.

Grades split the logit into who the lead is and what it did: the fit letter (A best .. D) from the summed
contributions of the firmographic features, the engagement digit (1 best .. 4) from those of the behavioural
features, each cut at quantiles of the training leads and stored with the model.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sklearn.pipeline import Pipeline

from models.feature_text import Language, describe, feature_name
from models.features import FeatureSpec, columns_from_records, columns_of_frame, factorize_values, same_fact_features
from models.single_feature_trees import feature_trees_of, tree_shap_values

FIT_LETTERS = ("A", "B", "C", "D")
ENGAGEMENT_DIGITS = ("1", "2", "3", "4")
GRADES = tuple(letter + digit for letter in FIT_LETTERS for digit in ENGAGEMENT_DIGITS)


class GradeSettings(BaseModel):
    """Quantiles of the training leads at which fit and engagement are cut into 4 levels each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fit_quantiles: tuple[float, float, float] = (0.25, 0.5, 0.75)
    engagement_quantiles: tuple[float, float, float] = (0.25, 0.5, 0.75)
    # TreeSHAP costs ~0.3-1 ms per lead; 3,000 leads put the quartiles within about one percentile (a grade's
    # share moves by a point, its meaning does not) for a second of training instead of several.
    sample_size: int = Field(3_000, ge=1_000, description="training leads used to fit the cut points")

    @field_validator("fit_quantiles", "engagement_quantiles")
    @classmethod
    def _increasing(cls, quantiles: tuple[float, float, float]) -> tuple[float, float, float]:
        if not all(0 < q < 1 for q in quantiles) or list(quantiles) != sorted(set(quantiles)):
            raise ValueError("expected three increasing quantiles strictly between 0 and 1")
        return quantiles


@dataclass(frozen=True)
class Contributions:
    """SHAP contributions of a batch of leads, with what is needed to explain them in words."""

    values: np.ndarray  # (n_leads, n_features), log-odds of the uncalibrated model
    base_value: float  # the model's expected raw score (log-odds)
    arrays: dict[str, np.ndarray]  # the model features of each lead, one array per feature
    index: pd.Index
    spec: FeatureSpec  # the model's features: the columns of ``values`` are ``spec.names``
    verbatim: dict[str, np.ndarray] = field(default_factory=dict)  # categories as the CRM spells them
    encoded: np.ndarray | None = None  # the booster's input (NaN codes: unknown categories)

    def column(self, feature: str) -> np.ndarray:
        """One feature's contributions."""
        return self.values[:, self.spec.names.index(feature)]

    @functools.cached_property
    def features(self) -> pd.DataFrame:
        """The model features as a frame (built on first use: single-lead scoring never needs it)."""
        return pd.DataFrame(self.arrays, index=self.index)

    def shown(self, feature: str) -> pd.Series:
        """A feature's values as shown to people: categories in the CRM's spelling, others as the model saw them."""
        values = self.verbatim.get(feature, self.arrays[feature])
        return pd.Series(values, index=self.index, dtype=object if feature in self.verbatim else None)

    @property
    def raw_score(self) -> np.ndarray:
        """The model's uncalibrated log-odds: base value plus the sum of contributions."""
        return self.base_value + self.values.sum(axis=1)

    def take(self, positions: np.ndarray) -> Contributions:
        """The contributions of the leads at ``positions`` (e.g. a sample for plots)."""
        return Contributions(
            values=self.values[positions],
            base_value=self.base_value,
            arrays={feature: values[positions] for feature, values in self.arrays.items()},
            index=self.index[positions],
            verbatim={feature: values[positions] for feature, values in self.verbatim.items()},
            encoded=None if self.encoded is None else self.encoded[positions],
            spec=self.spec,
        )

    def group_sum(self, group: tuple[str, ...]) -> np.ndarray:
        columns = [self.spec.names.index(feature) for feature in group]
        return self.values[:, columns].sum(axis=1)


def encode_for_booster(pipeline: Pipeline, leads: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model features of ``leads`` and their encoding as the booster sees it (columns = ``spec.names``)."""
    features = pipeline.named_steps["features"].transform(leads)
    encoded = pipeline.named_steps["encode"].transform(features)
    return features, encoded[list(pipeline.named_steps["features"].feature_spec.names)]


def _verbatim_categories(
    features: dict[str, np.ndarray], columns: Mapping[str, np.ndarray | None], verbatim_columns: Mapping[str, str]
) -> dict[str, np.ndarray]:
    verbatim: dict[str, np.ndarray] = {}
    for feature, column in verbatim_columns.items():
        original = columns.get(column)
        if original is not None:
            shown = original.astype(object)  # a copy
            shown[pd.isna(features[feature])] = None  # blank in the CRM: unknown, as the model saw it
            verbatim[feature] = shown
    return verbatim


def contributions(pipeline: Pipeline, leads: pd.DataFrame) -> Contributions:
    """TreeSHAP contributions of each model feature for each lead, via LightGBM's ``pred_contrib``.

    The same steps as ``pipeline.predict_proba``, on arrays instead of frames (a single lead is scored in
    about a millisecond less); tests pin that both give the same raw score.
    """
    names = pipeline.named_steps["features"].input_columns
    return contributions_of_columns(pipeline, columns_of_frame(leads, names), leads.index)


def contributions_of_records(pipeline: Pipeline, records: Sequence[Mapping[str, object]]) -> Contributions:
    """As :func:`contributions`, for lead records (dicts) such as a scoring request: no DataFrame at all."""
    names = pipeline.named_steps["features"].input_columns
    return contributions_of_columns(pipeline, columns_from_records(records, names), pd.RangeIndex(len(records)))


def contributions_of_columns(
    pipeline: Pipeline, columns: Mapping[str, np.ndarray | None], index: pd.Index
) -> Contributions:
    """:func:`contributions` of leads given as one array per input field: the three steps below, one after another."""
    features, encoded = features_for_contributions(pipeline, columns, len(index))
    return contributions_from(pipeline, columns, index, features, encoded, tree_contributions(pipeline, encoded))


def features_for_contributions(
    pipeline: Pipeline, columns: Mapping[str, np.ndarray | None], n: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The model features of ``n`` leads and the booster's matrix of them (its features checked against the model's)."""
    step = pipeline.named_steps["features"]
    features = step.arrays_from_columns(columns, n)
    encoded = pipeline.named_steps["encode"].encode_arrays(features)
    classifier = pipeline.named_steps["classifier"]
    if list(classifier.feature_name_) != list(step.feature_spec.names):
        raise ValueError(f"booster features {classifier.feature_name_} do not match the model features")
    return features, encoded


def tree_contributions(pipeline: Pipeline, encoded: np.ndarray) -> np.ndarray:
    """The SHAP values of the booster's matrix, as LightGBM's ``pred_contrib`` gives them: one row per lead, its
    features' SHAP values and the bias (trees that read one feature alone without TreeSHAP: ``tree_shap_values``)."""
    classifier = pipeline.named_steps["classifier"]
    return tree_shap_values(classifier.booster_, encoded, classifier.best_iteration_ or None)


def prepare_tree_contributions(pipeline: Pipeline) -> None:
    """Group the booster's trees for ``tree_contributions`` now (about 0.2 s for 1,500 trees), so that a served
    model's first batch does not wait for it."""
    classifier = pipeline.named_steps["classifier"]
    feature_trees_of(classifier.booster_, classifier.best_iteration_ or None)


def contributions_from(
    pipeline: Pipeline,
    columns: Mapping[str, np.ndarray | None],
    index: pd.Index,
    features: dict[str, np.ndarray],
    encoded: np.ndarray,
    raw: np.ndarray,
) -> Contributions:
    """The ``Contributions`` of leads from their features, matrix and ``pred_contrib`` (``tree_contributions``)."""
    step = pipeline.named_steps["features"]
    spec: FeatureSpec = step.feature_spec
    values, bias = raw[:, :-1], raw[:, -1]
    return Contributions(
        values=values,
        base_value=float(bias[0]) if len(bias) else 0.0,
        arrays=features,
        index=index,
        verbatim=_verbatim_categories(features, columns, step.verbatim_columns),
        encoded=encoded,
        spec=spec,
    )


@dataclass(frozen=True)
class Reason:
    """One reason for a lead's score."""

    feature: str
    label: str  # "Company size: 250 employees", "Demo requested"
    value: object  # the lead's feature value (None when unknown)
    impact: float  # log-odds of the uncalibrated model; > 0 raises the score


def plain_value(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class ReasonArrays:
    """One side (for or against) of a batch's top reasons as ``(leads, k)`` arrays, strongest first.

    A lead's reasons fill its first slots; an empty slot has feature -1, label and value None, impact NaN.
    """

    feature: np.ndarray  # int: the column of ``spec.names``
    label: np.ndarray  # object: str, or None in an empty slot
    value: np.ndarray  # object: the value shown (plain Python; None when unknown)
    impact: np.ndarray  # float: log-odds of the uncalibrated model

    def as_dicts(self, names: Sequence[str]) -> list[list[dict[str, object]]]:
        """Per lead, its reasons as {feature, label, value, impact} dicts (the service's JSON)."""
        shown = self.feature >= 0
        features, labels = self.feature.tolist(), self.label.tolist()
        values, impacts = self.value.tolist(), self.impact.tolist()
        return [
            [
                {
                    "feature": names[features[row][slot]],
                    "label": labels[row][slot],
                    "value": values[row][slot],
                    "impact": impacts[row][slot],
                }
                for slot in range(count)
            ]
            for row, count in enumerate(shown.sum(axis=1).tolist())
        ]


def reason_arrays(
    explained: Contributions, top_k: int = 3, language: Language = "en", min_impact: float = 1e-6
) -> tuple[ReasonArrays, ReasonArrays]:
    """Each lead's ``top_k`` strongest positive and ``top_k`` strongest negative reasons, as arrays.

    Ordered by impact (ties: the earlier feature first among positive reasons, the later among negative ones);
    an impact within ``min_impact`` of zero is no reason. The labels are written once per distinct (feature,
    shown value) of the batch, not once per lead.
    """
    values = explained.values
    k = min(top_k, values.shape[1])
    for_side, against_side = _one_per_fact(values, explained.spec.names)
    order_for = np.argsort(-for_side, axis=1, kind="stable")[:, :k]
    order_against = np.argsort(-against_side, axis=1, kind="stable")[:, ::-1][:, :k]
    columns = np.concatenate([order_for, order_against], axis=1)  # positive slots, then negative
    impact = np.take_along_axis(values, columns, axis=1)
    ranked = np.concatenate(
        [np.take_along_axis(for_side, order_for, axis=1), np.take_along_axis(against_side, order_against, axis=1)],
        axis=1,
    )
    kept = np.concatenate([ranked[:, :k] > min_impact, ranked[:, k:] < -min_impact], axis=1)
    labels, shown = np.full(columns.shape, None, dtype=object), np.full(columns.shape, None, dtype=object)
    rows, slots = np.nonzero(kept)
    features = columns[rows, slots]
    for column in np.unique(features).tolist():
        feature = explained.spec.names[column]
        at = np.flatnonzero(features == column)
        codes, distinct = distinct_plain_values(explained.verbatim.get(feature, explained.arrays[feature])[rows[at]])
        if explained.encoded is not None:  # a value the model read as unknown (unseen, scrubbed) is said so
            codes = np.where(np.isnan(explained.encoded[rows[at], column]), -1, codes)
        texts, plain = np.empty(len(distinct) + 1, dtype=object), np.empty(len(distinct) + 1, dtype=object)
        texts[:] = [  # the last: code -1, unknown
            describe(feature, value, language, explained.spec.texts) for value in [*distinct, None]
        ]
        plain[:-1], plain[-1] = distinct, None
        labels[rows[at], slots[at]], shown[rows[at], slots[at]] = texts[codes], plain[codes]
    columns, impact = np.where(kept, columns, -1), np.where(kept, impact, np.nan)
    positive, negative = (
        ReasonArrays(feature=columns[:, side], label=labels[:, side], value=shown[:, side], impact=impact[:, side])
        for side in (slice(0, k), slice(k, 2 * k))
    )
    return positive, negative


def _one_per_fact(values: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The contributions as each side ranks them, where features that say one fact (``same_fact_features``) keep
    only their strongest on that side (the first at a tie): the others are ranked last, never shown."""
    groups = same_fact_features(names)
    if not groups:
        return values, values
    for_side, against_side = values.copy(), values.copy()
    for group in groups:
        members = np.asarray(group)
        strongest_for = members[np.argmax(values[:, members], axis=1)]
        strongest_against = members[np.argmin(values[:, members], axis=1)]
        for member in group:
            for_side[strongest_for != member, member] = -np.inf
            against_side[strongest_against != member, member] = np.inf
    return for_side, against_side


def distinct_plain_values(values: np.ndarray) -> tuple[np.ndarray, list[object]]:
    """Codes (-1: missing) and the distinct values as plain Python values, as :func:`plain_value` gives them.

    Values that are equal but not the same are kept apart: -0.0 and 0.0 (floats by their bits), 1, 1.0 and True.
    """
    if values.dtype.kind == "f":
        bits = np.ascontiguousarray(values).view(f"i{values.itemsize}")
        codes, uniques = factorize_values(bits)
        return codes, [plain_value(v) for v in np.asarray(uniques, dtype=bits.dtype).view(values.dtype)]
    codes, uniques = factorize_values(values)
    if values.dtype != object or all(isinstance(value, str) for value in uniques):
        return codes, [plain_value(value) for value in uniques]
    positions: dict[tuple[type, object], int] = {}
    distinct: list[object] = []
    codes = np.empty(len(values), dtype=np.intp)
    for row, value in enumerate(values.tolist()):
        if value is None or (isinstance(value, float) and value != value):  # NaN != NaN
            codes[row] = -1
            continue
        key = (type(value), value)
        if key not in positions:
            positions[key] = len(distinct)
            distinct.append(plain_value(value))
        codes[row] = positions[key]
    return codes, distinct


def top_reasons(
    explained: Contributions, top_k: int = 3, language: Language = "en", min_impact: float = 1e-6
) -> list[tuple[list[Reason], list[Reason]]]:
    """For each lead, its ``top_k`` strongest positive and ``top_k`` strongest negative reasons (by |impact|)."""
    names = explained.spec.names
    sides = [side.as_dicts(names) for side in reason_arrays(explained, top_k, language, min_impact)]
    return [
        ([Reason(**reason) for reason in positive], [Reason(**reason) for reason in negative])
        for positive, negative in zip(*sides, strict=True)
    ]


def at_decision_precision(values: np.ndarray | tuple[float, ...] | float) -> np.ndarray:
    """Scores, sums and cut points as grades and the MQL threshold compare them: at 1e-9. TreeSHAP, the trees of
    one feature at a time and ``Booster.predict`` add the same trees in another order (1e-14 apart), and the leads
    that sit on a cut point (all leads alike in their fit, say) must get the same decision either way."""
    return np.round(np.asarray(values, dtype=float), 9)


@dataclass(frozen=True)
class GradeCuts:
    """Cut points of the fit and engagement sums (log-odds), fitted on training leads."""

    fit: tuple[float, float, float]
    engagement: tuple[float, float, float]

    def grade(self, explained: Contributions) -> np.ndarray:
        """A1 (best fit, most engaged) .. D4 for each lead."""
        spec = explained.spec
        fit_level = np.searchsorted(
            at_decision_precision(self.fit), at_decision_precision(explained.group_sum(spec.fit)), side="right"
        )
        engaged_level = np.searchsorted(
            at_decision_precision(self.engagement),
            at_decision_precision(explained.group_sum(spec.engagement)),
            side="right",
        )
        letters = np.asarray(FIT_LETTERS[::-1])[fit_level]
        digits = np.asarray(ENGAGEMENT_DIGITS[::-1])[engaged_level]
        return np.char.add(letters.astype(str), digits.astype(str)).astype(object)


def fit_grade_cuts(explained: Contributions, settings: GradeSettings) -> GradeCuts:
    """Cut points at the configured quantiles of the training leads' fit and engagement sums."""
    fit = np.quantile(explained.group_sum(explained.spec.fit), settings.fit_quantiles)
    engagement = np.quantile(explained.group_sum(explained.spec.engagement), settings.engagement_quantiles)
    as_tuple = lambda cuts: tuple(float(c) for c in cuts)  # noqa: E731
    return GradeCuts(fit=as_tuple(fit), engagement=as_tuple(engagement))  # type: ignore[arg-type]


def grade_axis_warning(spec: FeatureSpec) -> str:
    """What to say when one of the grade's two axes has no feature: every lead sits at its top ("A" without fit
    features, "1" without engagement features), so the grades order leads by the other axis alone."""
    if spec.fit and spec.engagement:
        return ""
    empty, top, other = ("engagement", "digit is 1", "fit") if spec.fit else ("fit", "letter is A", "engagement")
    examples = "visits, downloads, e-mail clicks" if empty == "engagement" else "company size, industry, job title"
    return (
        f"the model has no {empty} features (every feature column is group: {other}): every lead's grade {top}, so the "
        f"grades, and the SLA rules on them, order leads by {other} alone. Set group: {empty} in the mapping on the "
        f"columns that describe it ({examples})"
    )


def unseen_categories(explained: Contributions) -> list[list[str]]:
    """Per lead, the categorical features whose value the model never saw in training (scored as unknown)."""
    if explained.encoded is None:
        return [[] for _ in range(len(explained.index))]
    return unseen_category_lists(explained.arrays, explained.encoded, explained.spec)


def unseen_category_lists(arrays: Mapping[str, np.ndarray], encoded: np.ndarray, spec: FeatureSpec) -> list[list[str]]:
    """``unseen_categories`` of leads given by their model features (``arrays``) and the booster's matrix."""
    n = len(encoded)
    unseen = np.zeros((n, len(spec.categorical)), dtype=bool)
    for position, feature in enumerate(spec.categorical):
        given = pd.notna(arrays[feature])
        unseen[:, position] = given & np.isnan(encoded[:, spec.names.index(feature)])
    listed: list[list[str]] = [[] for _ in range(n)]
    for row in np.flatnonzero(unseen.any(axis=1)).tolist():  # most leads have none
        listed[row] = [spec.categorical[i] for i in np.flatnonzero(unseen[row])]
    return listed


def global_importance(explained: Contributions, language: Language = "en") -> pd.DataFrame:
    """Mean |impact| and mean impact of each feature over the leads, most important first."""
    spec = explained.spec
    table = pd.DataFrame(
        {
            "feature": list(spec.names),
            "label": [feature_name(feature, language, spec.texts) for feature in spec.names],
            "group": ["fit" if feature in spec.fit else "engagement" for feature in spec.names],
            "mean_abs_impact": np.abs(explained.values).mean(axis=0),
            "mean_impact": explained.values.mean(axis=0),
        }
    )
    return table.sort_values("mean_abs_impact", ascending=False, kind="stable").reset_index(drop=True)
