"""The classic points-based lead score that teams use before ML: the baseline leadq must beat.

The rule is configuration, not code: a list of :class:`PointsLine`, each naming one model feature and one
condition, so the same rule engine scores any CRM export whose mapping names the features. Positive lines are
buying signals (fit: who the lead is; engagement: what it did), negative lines warning signs (freemail,
student, competitor). A lead's score is the sum of the points of its lines; it is an MQL when the score reaches
``mql_points``. The point values are written down by a team, deliberately not fitted to data.

Conditions (exactly one per line):

- ``equals``: a number (``1`` for a yes/no feature) or a category;
- ``one_of``: categories. Compared after trimming, collapsing inner whitespace and casefolding, as the
  features step does with categories, so ``"Financial  Services"`` matches ``financial services``;
- ``between: [low, high]``: a number within the bounds, both included;
- ``at_least``: a number at or above the bound;
- ``per_unit: true`` with ``max_points``: ``points`` for each unit of a count (visits, downloads), never more
  than ``max_points`` in absolute value: the line awards ``points * clip(value, 0, max_points / |points|)``.
  Values below zero earn nothing, since a count below zero is a data error, not a signal.

A lead whose feature is missing earns nothing from that line: the rule does not guess.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RULE_GROUPS = ("fit", "engagement", "negative")
_FEATURE_GROUPS = ("fit", "engagement")
_CONDITIONS = ("equals", "one_of", "between", "at_least", "per_unit")


def _category_key(text: str) -> str:
    """How categories are compared: the features step trims, collapses whitespace and casefolds them."""
    return " ".join(text.split()).casefold()


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _signed_text(value: float) -> str:
    return ("+" if value > 0 else "-") + _number_text(abs(value))


class PointsLine(BaseModel):
    """One line of the points rule: a model feature, a condition on it, and the points it earns."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    feature: str = Field(min_length=1, description="the model feature the line looks at")
    points: float = Field(description="points earned (per unit for per_unit); negative for a warning sign")
    name: str | None = Field(None, min_length=1, description="shown in reports; default: feature and condition")
    equals: float | str | None = None
    one_of: tuple[str, ...] | None = Field(None, min_length=1)
    between: tuple[float, float] | None = None
    at_least: float | None = None
    per_unit: bool = False
    max_points: float | None = Field(None, gt=0, description="per_unit: the most the line awards, absolute")

    @field_validator("points")
    @classmethod
    def _nonzero(cls, points: float) -> float:
        if points == 0:
            raise ValueError("expected a nonzero number: positive for a buying signal, negative for a warning sign")
        return points

    @field_validator("equals", mode="before")
    @classmethod
    def _number_if_numeric(cls, value: object) -> object:
        # A mapping file keeps its scalars as text ("1"): a number there means the number.
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return value
        return value

    @field_validator("equals", "one_of")
    @classmethod
    def _no_blank_category(cls, value: float | str | tuple[str, ...] | None) -> float | str | tuple[str, ...] | None:
        categories = value if isinstance(value, tuple) else (value,)
        if any(isinstance(category, str) and not _category_key(category) for category in categories):
            raise ValueError("expected category names, got a blank one")
        return value

    @field_validator("between")
    @classmethod
    def _ordered(cls, bounds: tuple[float, float] | None) -> tuple[float, float] | None:
        if bounds is not None and bounds[0] > bounds[1]:
            raise ValueError(f"expected [low, high] with low <= high, got [{bounds[0]:g}, {bounds[1]:g}]")
        return bounds

    @model_validator(mode="after")
    def _one_condition(self) -> PointsLine:
        given = self.conditions_given
        expected = "exactly one condition: equals, one_of, between, at_least or per_unit (with max_points)"
        if len(given) != 1:
            raise ValueError(
                f"line for feature {self.feature!r}: got {' and '.join(given) or 'none'}; expected {expected}"
            )
        if self.per_unit and self.max_points is None:
            raise ValueError(
                f"line for feature {self.feature!r}: per_unit needs max_points, the most the line may award"
            )
        if not self.per_unit and self.max_points is not None:
            raise ValueError(
                f"line for feature {self.feature!r}: max_points caps a per_unit line; expected per_unit: true"
            )
        return self

    @property
    def conditions_given(self) -> tuple[str, ...]:
        """The conditions set on this line (valid lines have exactly one)."""
        return tuple(
            condition
            for condition in _CONDITIONS
            if (self.per_unit if condition == "per_unit" else getattr(self, condition) is not None)
        )

    @property
    def label(self) -> str:
        """The line's name: as configured, else the feature and its condition (``Job title seniority: vp``)."""
        return self.name or f"{self.feature.replace('_', ' ').capitalize()}: {self._condition_text()}"

    @property
    def points_text(self) -> str:
        """How the line awards its points, in words (``+5 per unit, at most +15``)."""
        if self.per_unit and self.max_points is not None:
            cap = self.max_points if self.points > 0 else -self.max_points
            return f"{_signed_text(self.points)} per unit, at most {_signed_text(cap)}"
        return _signed_text(self.points)

    @property
    def best_points(self) -> float:
        """The most a single lead can earn from this line (0 for a warning sign)."""
        if self.points < 0:
            return 0.0
        return self.max_points if self.per_unit and self.max_points is not None else self.points

    def _condition_text(self) -> str:
        if self.one_of is not None:
            return ", ".join(self.one_of)
        if self.between is not None:
            return f"{_number_text(self.between[0])} to {_number_text(self.between[1])}"
        if self.at_least is not None:
            return f"at least {_number_text(self.at_least)}"
        if isinstance(self.equals, float):
            return _number_text(self.equals)
        if isinstance(self.equals, str):
            return self.equals
        return "per unit"


class PointsRule(BaseModel):
    """The points rule: its lines and the MQL bar. Check it against a model with :func:`check_features`."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    mql_points: float = Field(gt=0, description="a lead with at least this many points is an MQL")
    lines: tuple[PointsLine, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_and_reachable(self) -> PointsRule:
        labels = [line.label for line in self.lines]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"lines: names {repeated} are used twice; expected a distinct name per line (set name:)")
        best = sum(line.best_points for line in self.lines)
        if best < self.mql_points:
            raise ValueError(
                f"mql_points: {self.mql_points:g} cannot be reached, the positive lines add up to at most {best:g}; "
                "expected a bar a lead can reach"
            )
        return self


def check_features(rule: PointsRule, feature_names: Iterable[str]) -> None:
    """Refuse a rule whose lines name features the model does not have, naming each with close matches.

    Raises:
        ValueError: one line per unknown feature, with suggestions (difflib), then the model's features.
    """
    known = list(dict.fromkeys(feature_names))
    problems = []
    for line in rule.lines:
        if line.feature in known:
            continue
        close = difflib.get_close_matches(line.feature, known, n=3)
        hint = f"did you mean {' or '.join(map(repr, close))}?" if close else "no model feature is named like it"
        problems.append(f"line {line.label!r}: feature {line.feature!r} is not a model feature; {hint}")
    if problems:
        raise ValueError("\n".join([*problems, f"the model's features: {', '.join(known)}"]))


def _numbers(column: pd.Series, line: PointsLine) -> np.ndarray:
    """The feature as floats; a column of categories is refused rather than read as all missing."""
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=float, na_value=np.nan)
    numbers = pd.to_numeric(column, errors="coerce")
    not_numbers = column[numbers.isna() & column.notna()]
    if len(not_numbers):
        raise ValueError(
            f"line {line.label!r}: {line.conditions_given[0]} compares numbers, but feature {line.feature!r} "
            f"holds categories such as {not_numbers.iloc[0]!r}; expected one_of or equals with a category"
        )
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def _is_category(column: pd.Series, line: PointsLine, categories: tuple[str, ...]) -> np.ndarray:
    """Whether each lead's category is one of ``categories``, compared as the features step spells them."""
    present = column.dropna().unique()
    if pd.api.types.is_numeric_dtype(column) and len(present):
        raise ValueError(
            f"line {line.label!r}: {line.conditions_given[0]} compares categories, but feature {line.feature!r} "
            "holds numbers; expected equals with a number, between, at_least or per_unit"
        )
    wanted = {_category_key(category) for category in categories}
    # Normalise the distinct values only: a million leads have a few thousand spellings.
    matching = [value for value in present if _category_key(str(value)) in wanted]
    return column.isin(matching).to_numpy(dtype=bool)


def _line_points(column: pd.Series, line: PointsLine) -> np.ndarray:
    """Points each lead earns from one line; missing values earn nothing."""
    if line.per_unit and line.max_points is not None:
        units = np.clip(_numbers(column, line), 0.0, line.max_points / abs(line.points))
        return np.nan_to_num(line.points * units, nan=0.0)
    if line.one_of is not None or isinstance(line.equals, str):
        matched = _is_category(column, line, line.one_of or (str(line.equals),))
    else:
        numbers = _numbers(column, line)
        if line.between is not None:
            matched = (numbers >= line.between[0]) & (numbers <= line.between[1])
        elif line.at_least is not None:
            matched = numbers >= line.at_least
        else:
            matched = numbers == line.equals
    return line.points * matched.astype(float)


def rule_components(features: pd.DataFrame, rule: PointsRule) -> pd.DataFrame:
    """Points of each lead per line of the rule (columns: the lines' labels, in the rule's order).

    Raises:
        ValueError: a line names a feature the frame lacks, or a condition of the wrong kind for its feature.
    """
    check_features(rule, features.columns)
    points = {line.label: _line_points(features[line.feature], line) for line in rule.lines}
    return pd.DataFrame(points, index=features.index, dtype=float)


def rule_score(features: pd.DataFrame, rule: PointsRule) -> np.ndarray:
    """Total points of each lead: the sum of its lines."""
    return rule_components(features, rule).sum(axis=1).to_numpy()


@dataclass(frozen=True)
class RuleComponent:
    """One line of the points rule as reports show it, and which model feature speaks to the same signal."""

    name: str
    group: str  # fit | engagement | negative
    feature: str
    points: str  # how the rule awards them, in words


def _group_of(line: PointsLine, groups: Mapping[str, str]) -> str:
    if line.points < 0:
        return "negative"  # a warning sign, whichever group its feature belongs to
    group = groups[line.feature]
    if group not in _FEATURE_GROUPS:
        raise ValueError(f"feature {line.feature!r}: group {group!r}; expected one of {', '.join(_FEATURE_GROUPS)}")
    return group


def components_of(rule: PointsRule, groups: Mapping[str, str]) -> tuple[RuleComponent, ...]:
    """The rule's lines with their group: ``negative`` for negative points, else their feature's group.

    Args:
        groups: each model feature's group, ``fit`` (who the lead is) or ``engagement`` (what it did).
    """
    check_features(rule, groups)
    return tuple(
        RuleComponent(line.label, _group_of(line, groups), line.feature, line.points_text) for line in rule.lines
    )


def _group_points(features: pd.DataFrame, rule: PointsRule, groups: Mapping[str, str], group: str) -> np.ndarray:
    names = [component.name for component in components_of(rule, groups) if component.group == group]
    return rule_components(features, rule)[names].sum(axis=1).to_numpy()


def fit_points(features: pd.DataFrame, rule: PointsRule, groups: Mapping[str, str]) -> np.ndarray:
    """Points for matching the ideal customer profile: the positive lines on fit features."""
    return _group_points(features, rule, groups, "fit")


def engagement_points(features: pd.DataFrame, rule: PointsRule, groups: Mapping[str, str]) -> np.ndarray:
    """Points for showing buying intent: the positive lines on engagement features."""
    return _group_points(features, rule, groups, "engagement")


def negative_points(features: pd.DataFrame, rule: PointsRule, groups: Mapping[str, str]) -> np.ndarray:
    """Points taken away for signals that a lead will not buy: the negative lines."""
    return _group_points(features, rule, groups, "negative")
