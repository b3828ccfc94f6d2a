"""Features of a model trained on a mapped CRM export: the export's columns in, model features out.

The mapping file says what each export column is; this step turns those columns into features by the same
rules at training and at scoring time, and travels inside the model (features -> CategoryCodes -> LightGBM)
as :class:`~models.features.LeadFeatureBuilder` does for the data contract's fields:

- numeric: numbers stored as text ("1.200", "50k", "€ 10.000") are read with the decimal convention that
  the training rows decided, so "1,5" and "1.200" mean at scoring time what they meant in training;
- categorical: trimmed, inner whitespace collapsed, casefolded; placeholders ("Select", "N/A") are missing.
  Rare and unseen categories are left to the next step (CategoryCodes), which fits them on the training rows;
- boolean: yes/no-like values (true/false, ja/nein, 1/0, x, checked...) become 1.0/0.0, NaN when unknown;
- text: ``<name>_length`` (characters, 0 when missing) and ``<name>_answered`` (0/1);
- pii, an e-mail address: ``<name>_is_freemail``, ``<name>_has_valid_email`` and, given competitor domains,
  ``<name>_is_competitor``. The address itself never leaves the step.

Training is strict and scoring lenient: ``fit`` refuses a column whose training values cannot be read
(:class:`~models.cleaning.CleaningError` naming it), while ``transform`` turns a value it cannot read into
NaN, because a scoring request must get an answer. Each rule is a function of one value, applied once per
distinct value, so one lead costs microseconds and a million leads a few thousand distinct spellings.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from models.cleaning import (
    DEFAULT_PLACEHOLDERS,
    FALSE_WORDS,
    TRUE_WORDS,
    NumberReading,
    decimal_vote,
    is_missing,
    mark_missing,
    number_from_reading,
    parse_booleans,
    parse_numbers,
    read_number,
)
from models.features import FREEMAIL_DOMAINS, FeatureSpec, columns_of_frame, email_flags, per_distinct

MappedRole = Literal["numeric", "categorical", "boolean", "text", "pii"]
FeatureGroup = Literal["fit", "engagement"]
FeatureKind = Literal["numeric", "categorical", "boolean", "text_length", "text_answered", "email_flag"]
MAPPED_ROLES: tuple[str, ...] = get_args(MappedRole)
FEATURE_GROUPS: tuple[str, ...] = get_args(FeatureGroup)
_NUMERIC_KINDS = frozenset(["numeric", "boolean", "text_length", "text_answered", "email_flag"])


@dataclass(frozen=True)
class MappedColumn:
    """One export column that feeds the model, and the feature name its features are named after."""

    column: str  # the export column (the request field at scoring time)
    role: MappedRole
    name: str  # feature name; derived features get suffixes (``<name>_length``, ``<name>_is_freemail``...)
    group: FeatureGroup  # fit (who the lead is) or engagement (what it did), for grades

    def __post_init__(self) -> None:
        if self.role not in MAPPED_ROLES:
            raise ValueError(f"{self.column!r}: role {self.role!r}; expected one of {', '.join(MAPPED_ROLES)}")
        if self.group not in FEATURE_GROUPS:
            raise ValueError(f"{self.column!r}: group {self.group!r}; expected one of {', '.join(FEATURE_GROUPS)}")

    def derived_features(self, with_competitor: bool = False) -> tuple[tuple[str, FeatureKind], ...]:
        """The features this column gives and their kind, in the order the feature frame lists them."""
        if self.role == "text":
            return ((f"{self.name}_length", "text_length"), (f"{self.name}_answered", "text_answered"))
        if self.role == "pii":
            flags = ("is_freemail", "has_valid_email", *(("is_competitor",) if with_competitor else ()))
            return tuple((f"{self.name}_{flag}", "email_flag") for flag in flags)
        kind: FeatureKind = self.role  # numeric, categorical or boolean: the feature is the column
        return ((self.name, kind),)


# --- one value at a time (applied once per distinct value) ---------------------------------------------------


def _placeholder_keys(placeholders: tuple[str, ...]) -> frozenset[str]:
    return frozenset(placeholder.strip().casefold() for placeholder in placeholders) | {""}


def _is_absent(value: object, placeholder_keys: frozenset[str]) -> bool:
    """Missing, blank or a placeholder, compared as :func:`models.cleaning.mark_missing` does."""
    return is_missing(value) or (isinstance(value, str) and value.strip().casefold() in placeholder_keys)


def _number(value: object, convention: str, placeholder_keys: frozenset[str]) -> float:
    """A float read as :func:`models.cleaning.parse_numbers` reads it under ``convention``; NaN if unreadable.

    Under "none" (the training values never needed a decimal separator) a value that does ("1,5", "2.75")
    is read by its own separator: there is nothing in training it could contradict.
    """
    if _is_absent(value, placeholder_keys):
        return math.nan
    reading = read_number(value)
    if isinstance(reading, NumberReading) and convention == "none":
        votes = {vote for part in reading.parts if (vote := decimal_vote(part.number)) in ("comma", "point")}
        convention = votes.pop() if len(votes) == 1 else "none"
    number = number_from_reading(reading, convention, Counter())
    return math.nan if number is None else number


def _category(value: object, placeholder_keys: frozenset[str]) -> object:
    if _is_absent(value, placeholder_keys):
        return np.nan
    # A CSV read without dtype=str turns the code 12 into 12.0 when some cells are blank; a request sends 12.
    text = str(int(value)) if isinstance(value, float | np.floating) and float(value).is_integer() else str(value)
    return " ".join(text.split()).casefold() or np.nan


def _boolean(value: object, placeholder_keys: frozenset[str]) -> float:
    if _is_absent(value, placeholder_keys):
        return math.nan
    if isinstance(value, bool | np.bool_):
        return float(value)
    key = str(value).strip().casefold()
    return 1.0 if key in TRUE_WORDS else 0.0 if key in FALSE_WORDS else math.nan


def _text_length(value: object, placeholder_keys: frozenset[str]) -> float:
    return math.nan if _is_absent(value, placeholder_keys) else float(len(str(value).strip()))


# --- one column at a time ------------------------------------------------------------------------------------


def _numbers(values: np.ndarray | None, n: int, convention: str, keys: frozenset[str]) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    if values.dtype.kind in "iuf":  # already numbers (Parquet, or a large frame's float column)
        return values.astype(float)
    return per_distinct(values, lambda value: _number(value, convention, keys), np.nan).astype(float)


def _categories(values: np.ndarray | None, n: int, keys: frozenset[str]) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan, dtype=object)
    return per_distinct(values, lambda value: _category(value, keys), np.nan)


def _booleans(values: np.ndarray | None, n: int, keys: frozenset[str]) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    if values.dtype.kind == "b":
        return values.astype(float)
    return per_distinct(values, lambda value: _boolean(value, keys), np.nan).astype(float)


def _text_features(values: np.ndarray | None, n: int, keys: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Length in characters (0 when missing) and answered (0/1) of each free-text value."""
    if values is None:
        return np.zeros(n), np.zeros(n)
    lengths = per_distinct(values, lambda value: _text_length(value, keys), np.nan).astype(float)
    answered = ~np.isnan(lengths)
    return np.where(answered, lengths, 0.0), answered.astype(float)


def _email_matrix(
    values: np.ndarray | None, n: int, keys: frozenset[str], freemail: frozenset[str], competitors: frozenset[str]
) -> np.ndarray:
    """Columns is_freemail, is_competitor, has_valid_email (all 0 when missing), as models.features derives them."""
    if values is None:
        return np.zeros((n, 3))
    none = (0.0, 0.0, 0.0)

    def flags(value: object) -> tuple[float, float, float]:
        return none if _is_absent(value, keys) else email_flags(str(value), freemail, competitors)

    return np.array(per_distinct(values, flags, none).tolist(), dtype=float).reshape(n, 3)


# --- the sklearn step ------------------------------------------------------------------------------------------


class MappedFeatureBuilder(TransformerMixin, BaseEstimator):
    """sklearn step from the export columns of a mapping to model features (see the module docstring).

    Args:
        columns: the export columns that feed the model (``pipelines.prepare_export.mapped_columns`` builds them).
        placeholders: values that mean missing, compared trimmed and case-insensitively (blank always does).
        extra_freemail_domains: added to :data:`~models.features.FREEMAIL_DOMAINS`.
        competitor_domains: if given, each pii column also yields ``<name>_is_competitor``.
    """

    def __init__(
        self,
        columns: tuple[MappedColumn, ...] = (),
        placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS,
        extra_freemail_domains: tuple[str, ...] = (),
        competitor_domains: tuple[str, ...] = (),
    ):
        self.columns = columns
        self.placeholders = placeholders
        self.extra_freemail_domains = extra_freemail_domains
        self.competitor_domains = competitor_domains

    def fit(self, X: pd.DataFrame, y: object = None) -> MappedFeatureBuilder:
        """Learn how to read the columns from the training rows (the decimal convention of each numeric column).

        Raises:
            CleaningError: a column's training values cannot be read as its role; the message names it.
            ValueError: a mapped column is absent from ``X``, or two columns give the same feature name.
        """
        self._derived()  # refuses duplicate feature names before any work
        absent = [column for column in self.input_columns if column not in X.columns]
        if absent:
            raise ValueError(f"columns {absent} are not in the training rows; expected the export's mapped columns")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.placeholder_keys_ = _placeholder_keys(tuple(self.placeholders))
        self.freemail_domains_ = FREEMAIL_DOMAINS | {domain.strip().lower() for domain in self.extra_freemail_domains}
        self.competitor_domains_ = frozenset(domain.strip().lower() for domain in self.competitor_domains)
        self.decimal_conventions_: dict[str, str] = {}
        for mapped in self.columns:
            if mapped.role in ("numeric", "boolean"):
                values, _ = mark_missing(X[mapped.column], self.placeholders)
                if mapped.role == "numeric":
                    self.decimal_conventions_[mapped.column] = parse_numbers(values, mapped.column)[
                        1
                    ].decimal_convention
                else:
                    parse_booleans(values, mapped.column)  # refuses values that are not yes/no-like
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Features (columns ``feature_spec.names``, index ``X.index``); unreadable values and absent columns: NaN."""
        arrays = self.arrays_from_columns(columns_of_frame(X, self.input_columns), len(X))
        return pd.DataFrame({name: arrays[name] for name in self.feature_spec.names}, index=X.index)

    def arrays_from_columns(self, columns: Mapping[str, np.ndarray | None], n: int) -> dict[str, np.ndarray]:
        """The features of ``transform``, one array per feature, from one array per export column (None: absent).

        Object arrays of a JSON request (str, int, float, bool, None) are read as the export's text would be.
        """
        keys = self.placeholder_keys_
        features: dict[str, np.ndarray] = {}
        for mapped in self.columns:
            values, name = columns.get(mapped.column), mapped.name
            if mapped.role == "numeric":
                features[name] = _numbers(values, n, self.decimal_conventions_[mapped.column], keys)
            elif mapped.role == "categorical":
                features[name] = _categories(values, n, keys)
            elif mapped.role == "boolean":
                features[name] = _booleans(values, n, keys)
            elif mapped.role == "text":
                features[f"{name}_length"], features[f"{name}_answered"] = _text_features(values, n, keys)
            else:
                flags = _email_matrix(values, n, keys, self.freemail_domains_, self.competitor_domains_)
                features[f"{name}_is_freemail"], features[f"{name}_has_valid_email"] = flags[:, 0], flags[:, 2]
                if self.competitor_domains:
                    features[f"{name}_is_competitor"] = flags[:, 1]
        return features

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.feature_spec.names, dtype=object)

    def _derived(self) -> list[tuple[str, FeatureKind, MappedColumn]]:
        """Every feature with its kind and column, in column order; refuses a feature name given twice."""
        derived: list[tuple[str, FeatureKind, MappedColumn]] = []
        origin: dict[str, str] = {}
        for mapped in self.columns:
            for feature, kind in mapped.derived_features(with_competitor=bool(self.competitor_domains)):
                if feature in origin:
                    raise ValueError(
                        f"columns {origin[feature]!r} and {mapped.column!r} both give the feature {feature!r}; "
                        "expected unique feature names"
                    )
                origin[feature] = mapped.column
                derived.append((feature, kind, mapped))
        return derived

    # What pipelines, explanations and serving need to know of any features step (as LeadFeatureBuilder).
    @property
    def feature_spec(self) -> FeatureSpec:
        """Numeric (numbers, booleans, text and e-mail flags, as floats), then categorical; fit by column group."""
        derived = self._derived()
        return FeatureSpec(
            numeric=tuple(feature for feature, kind, _ in derived if kind in _NUMERIC_KINDS),
            categorical=tuple(feature for feature, kind, _ in derived if kind == "categorical"),
            fit=tuple(feature for feature, _, mapped in derived if mapped.group == "fit"),
        )

    @property
    def input_columns(self) -> tuple[str, ...]:
        """The export columns this step reads (pii too, only to derive flags)."""
        return tuple(dict.fromkeys(mapped.column for mapped in self.columns))

    @property
    def verbatim_columns(self) -> dict[str, str]:
        """Categorical feature -> its export column, so reasons show the CRM's spelling."""
        return {mapped.name: mapped.column for mapped in self.columns if mapped.role == "categorical"}
