"""The model's features step: a CRM export's columns in, model features out, the same at training and scoring.

The mapping file says what each export column is; :class:`LeadFeatures` turns those columns into features by
the same rules at training and at scoring time, and travels inside the model (features -> CategoryCodes ->
LightGBM):

- numeric and count: numbers stored as text ("1.200", "50k", "€ 10.000") are read with the decimal convention
  that the training rows decided, so "1,5" and "1.200" mean at scoring time what they meant in training; a
  count is never negative (training refuses one, scoring reads it as unknown);
- categorical: trimmed, inner whitespace collapsed, casefolded; placeholders ("Select", "N/A") are missing.
  Rare and unseen categories are left to the next step (CategoryCodes), which fits them on the training rows;
- multi_select: a multi-select picklist as the CRM exports it ("ERP; CRM; BI"): one yes/no feature per option the
  mapping lists (``<name>_<option>``), in any order and spelling of case and spaces; an empty cell chose none, and
  values the mapping does not list are left out;
- boolean: yes/no-like values (true/false, ja/nein, 1/0, x, checked...) become 1.0/0.0, NaN when unknown;
- text: ``<name>_length`` (characters, 0 when missing) and ``<name>_answered`` (0/1);
- email: ``<name>_is_freemail``, ``<name>_has_valid_email`` and
  ``<name>_is_competitor`` (0 unless ``features.competitor_domains`` names some). The address itself never
  leaves the step (:mod:`models.email_domains`);
- job_title: ``<name>_seniority``, ``<name>_function`` (categories) and ``<name>_is_student_or_intern``
  (:mod:`models.job_titles`, English and German); the title itself never leaves the step;
- consent: not a feature. The features of the columns it gates are unknown (NaN) for every lead whose consent
  is not a clear yes, whatever the export holds, so a lead is never scored on data it did not agree to share
  and never scored down for using its privacy rights.

Training is strict and scoring lenient: ``fit`` refuses a column whose training values cannot be read
(:class:`~models.cleaning.CleaningError` naming it), while ``transform`` turns a value it cannot read into
NaN, because a scoring request must get an answer. Each rule is a function of one value, applied once per
distinct value, so one lead costs microseconds and a million leads a few thousand distinct spellings.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator, TransformerMixin

from models.cleaning import (
    DEFAULT_PLACEHOLDERS,
    FALSE_WORDS,
    TRUE_WORDS,
    CleaningError,
    NumberReading,
    decimal_vote,
    is_missing,
    mark_missing,
    number_from_reading,
    parse_booleans,
    parse_numbers,
    plain_numbers,
    read_number,
    yes_no_as_text,
)
from models.email_domains import FREEMAIL_DOMAINS, email_flags
from models.feature_text import INTEGRAL_DECIMAL, FeatureText, column_text, free_text_texts, option_text
from models.job_titles import STUDENT_OR_INTERN, classify_title

InputRole = Literal[
    "numeric", "count", "categorical", "multi_select", "boolean", "text", "email", "job_title", "consent"
]
FeatureGroup = Literal["fit", "engagement"]
FeatureKind = Literal[
    "numeric",
    "categorical",
    "boolean",
    "option_flag",
    "text_length",
    "text_answered",
    "email_flag",
    "title_category",
    "title_flag",
]
INPUT_ROLES: tuple[str, ...] = get_args(InputRole)
FEATURE_GROUPS: tuple[str, ...] = get_args(FeatureGroup)
_CATEGORICAL_KINDS = frozenset(["categorical", "title_category"])
_SMALL_BATCH = 64


# A job title's features: its seniority class and, apart, whether it is a student or an intern (that class too)
SENIORITY_SUFFIX = "_seniority"
STUDENT_SUFFIX = "_is_student_or_intern"


def same_fact_features(names: Sequence[str]) -> list[tuple[int, ...]]:
    """Positions in ``names`` of features that say one fact, so a lead's reasons name it once: a job title's
    seniority and its student-or-intern flag ("Seniority: Student / intern" beside "Student or intern")."""
    position = {name: index for index, name in enumerate(names)}
    return [
        (index, position[name.removesuffix(SENIORITY_SUFFIX) + STUDENT_SUFFIX])
        for name, index in position.items()
        if name.endswith(SENIORITY_SUFFIX) and name.removesuffix(SENIORITY_SUFFIX) + STUDENT_SUFFIX in position
    ]


@dataclass(frozen=True)
class FeatureSpec:
    """A model's features: which are numbers, which categories, and which describe fit (the rest engagement).

    The booster's columns are ``names``: numeric first, then categorical.
    """

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    fit: tuple[str, ...]
    # the texts of features that are export columns as they are: their names as the export spells them, yes/no
    # answers in words (``models.feature_text.column_text``); leadq's own texts win for the features it knows
    texts: Mapping[str, FeatureText] = field(default_factory=dict, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        return self.numeric + self.categorical

    @property
    def engagement(self) -> tuple[str, ...]:
        return tuple(feature for feature in self.names if feature not in self.fit)


@dataclass(frozen=True)
class InputColumn:
    """One export column the model reads, and the feature name its features are named after."""

    column: str  # the export column (the request field at scoring time)
    role: InputRole
    name: str  # feature name; derived features get suffixes (``<name>_length``, ``<name>_is_freemail``...)
    group: FeatureGroup = "fit"  # fit (who the lead is) or engagement (what it did), for grades
    gates: tuple[str, ...] = ()  # consent: the export columns whose features need this consent
    # boolean: an empty cell means no (a checkbox column only ever ticked, "x" or blank), not unknown
    blank_is_no: bool = False
    # multi_select: (the option as the export spells it, its feature name) for each option the model reads, and
    # the separator between the options of one cell
    options: tuple[tuple[str, str], ...] = ()
    separator: str = ";"

    def __post_init__(self) -> None:
        if self.role not in INPUT_ROLES:
            raise ValueError(f"{self.column!r}: role {self.role!r}; expected one of {', '.join(INPUT_ROLES)}")
        if self.group not in FEATURE_GROUPS:
            raise ValueError(f"{self.column!r}: group {self.group!r}; expected one of {', '.join(FEATURE_GROUPS)}")
        if self.gates and self.role != "consent":
            raise ValueError(f"{self.column!r}: only a consent column gates other columns, not a {self.role} column")
        if self.blank_is_no and self.role != "boolean":
            raise ValueError(f"{self.column!r}: only a yes/no column reads a blank as no, not a {self.role} column")
        if bool(self.options) != (self.role == "multi_select"):
            raise ValueError(f"{self.column!r}: a multi_select column needs options, and only it has them")

    def derived_features(self) -> tuple[tuple[str, FeatureKind], ...]:
        """The features this column gives and their kind, in the order the feature frame lists them."""
        name = self.name
        if self.role == "text":
            return ((f"{name}_length", "text_length"), (f"{name}_answered", "text_answered"))
        if self.role == "email":
            # is_competitor is 0 for everyone until features.competitor_domains names some: the same features
            # whatever the settings, so a mapping's monotone constraints and points rule always find them.
            return tuple(
                (f"{name}_{flag}", "email_flag") for flag in ("is_freemail", "has_valid_email", "is_competitor")
            )
        if self.role == "job_title":
            return (
                (f"{name}{SENIORITY_SUFFIX}", "title_category"),
                (f"{name}_function", "title_category"),
                (f"{name}{STUDENT_SUFFIX}", "title_flag"),
            )
        if self.role == "multi_select":
            return tuple((feature, "option_flag") for _, feature in self.options)
        if self.role == "consent":
            return ()
        kind: FeatureKind = "numeric" if self.role == "count" else self.role
        return ((name, kind),)


@runtime_checkable
class FeaturesStep(Protocol):
    """What training, explanations, grades, the audit and serving need of a model's features step.

    A features step is a scikit-learn transformer (``fit`` / ``transform``, cloneable) that also says which
    export columns it reads and which features it makes.
    """

    def fit(self, X: pd.DataFrame, y: object = None) -> FeaturesStep: ...

    def transform(self, X: pd.DataFrame) -> pd.DataFrame: ...

    def arrays_from_columns(
        self, columns: Mapping[str, np.ndarray | None], n: int, factorized: dict[str, Factorized] | None = None
    ) -> dict[str, np.ndarray]: ...

    @property
    def feature_spec(self) -> FeatureSpec: ...

    @property
    def input_columns(self) -> tuple[str, ...]: ...

    @property
    def verbatim_columns(self) -> dict[str, str]: ...


# --- distinct values -----------------------------------------------------------------------------------------


def factorize_values(values: np.ndarray) -> tuple[np.ndarray, list[object]]:
    """Codes of each value into its list of distinct values (-1: missing), as ``pd.factorize``.

    A scoring request holds one or a few leads, where ``pd.factorize``'s set-up costs more than the work: a
    dict does those directly. Large frames go through pandas' hash table.
    """
    if len(values) > _SMALL_BATCH:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return codes, list(uniques)
    positions: dict[object, int] = {}
    codes = np.empty(len(values), dtype=np.intp)
    for row, value in enumerate(values):
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # NaN != NaN
            codes[row] = -1
        else:
            codes[row] = positions.setdefault(value, len(positions))
    return codes, list(positions)


def per_distinct(values: np.ndarray, derive: Callable[[Any], object], missing: object = np.nan) -> np.ndarray:
    """Apply ``derive`` once per distinct value (CRM columns repeat a lot) and spread the results back.

    Plain Python on the distinct values keeps one lead fast (no vectorisation set-up) and a million leads
    fast too (a few thousand distinct titles or industries). Missing values get ``missing``.
    """
    codes, uniques = factorize_values(values)
    derived = np.empty(len(uniques) + 1, dtype=object)
    for position, value in enumerate(uniques):
        derived[position] = derive(value)
    derived[-1] = missing  # code -1: missing
    return derived[codes]


Factorized = tuple[np.ndarray, list[object]]  # codes (-1: missing) into distinct values, as factorize_values gives


def _factorized(codes: np.ndarray, derived: np.ndarray) -> Factorized:
    """The factorization of ``derived[codes]`` (``derived``: one value per code, its last entry the missing one's):
    the same codes, -1 where the value derived is missing. Its distinct values may repeat (two spellings, one
    category), which is all a lookup per distinct value needs."""
    missing = np.array([value is None or value != value for value in derived.tolist()], dtype=bool)  # NaN != NaN
    return np.where(missing[codes], -1, codes), derived[:-1].tolist()


_FRAME_AT_ONCE = 256


def columns_of_frame(leads: pd.DataFrame, names: Sequence[str]) -> dict[str, np.ndarray | None]:
    """The input columns ``names`` as arrays (None: column absent).

    A few leads (online scoring) are converted in one go, which costs a fraction of many column look-ups;
    large batches column by column, which keeps numeric columns numeric without an object copy.
    """
    if len(leads) <= _FRAME_AT_ONCE:
        arrays = dict(zip(leads.columns, leads.to_numpy(dtype=object).T, strict=True))
    else:
        arrays = {name: leads[name].to_numpy() for name in names if name in leads}
    return {name: arrays.get(name) for name in names}


def columns_from_records(records: Sequence[Mapping[str, object]], names: Sequence[str]) -> dict[str, np.ndarray]:
    """The input columns ``names`` of lead records (dicts, e.g. from a JSON request), without a DataFrame."""
    return {name: np.array([record.get(name) for record in records], dtype=object) for name in names}


# --- one value at a time (applied once per distinct value) ---------------------------------------------------


def placeholder_keys(placeholders: Sequence[str]) -> frozenset[str]:
    """The placeholders as values are compared with them: trimmed, case-insensitive; blank is one too."""
    return frozenset(placeholder.strip().casefold() for placeholder in placeholders) | {""}


def _is_absent(value: object, placeholder_keys: frozenset[str]) -> bool:
    """Missing, blank or a placeholder, compared as :func:`models.cleaning.mark_missing` does."""
    return is_missing(value) or (isinstance(value, str) and value.strip().casefold() in placeholder_keys)


def number_as_read(value: object, convention: str, placeholder_keys: frozenset[str]) -> float:
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
    # A CSV read without dtype=str turns the code 12 into 12.0 when some cells are blank; a request sends 12. An
    # export written from such a float column holds the text "12.0" (Region_Code 28.0): the same code.
    text = str(int(value)) if isinstance(value, float | np.floating) and float(value).is_integer() else str(value)
    text = " ".join(text.split()).casefold()
    if INTEGRAL_DECIMAL.fullmatch(text):
        text = text[: text.index(".")]
    return text or np.nan


def _boolean(value: object, placeholder_keys: frozenset[str]) -> float:
    if _is_absent(value, placeholder_keys):
        return math.nan
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating) and float(value) in (0.0, 1.0):
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
    codes, uniques = factorize_values(yes_no_as_text(values))
    numbers = np.full(len(uniques) + 1, np.nan)  # the last: code -1, missing
    read, is_plain = numbers, [False] * len(uniques)
    if len(uniques) > _SMALL_BATCH:  # many distinct values: the plain ones at once (a request's few: value by value)
        plain = plain_numbers(uniques)
        read, is_plain = plain.read(convention), plain.plain.tolist()
    for position, value in enumerate(uniques):
        plain_value = is_plain[position] and value not in keys
        numbers[position] = read[position] if plain_value else number_as_read(value, convention, keys)
    return numbers[codes]


def _counts(values: np.ndarray | None, n: int, convention: str, keys: frozenset[str]) -> np.ndarray:
    numbers = _numbers(values, n, convention, keys)
    return np.where(numbers < 0, np.nan, numbers)


def _categories(values: np.ndarray | None, n: int, keys: frozenset[str]) -> tuple[np.ndarray, Factorized | None]:
    """Each value's category (NaN when missing), and their factorization (None without values)."""
    if values is None:
        return np.full(n, np.nan, dtype=object), None
    codes, uniques = factorize_values(values)
    derived = np.empty(len(uniques) + 1, dtype=object)
    derived[:-1] = [_category(value, keys) for value in uniques]
    derived[-1] = np.nan  # code -1: missing
    return derived[codes], _factorized(codes, derived)


def _booleans(values: np.ndarray | None, n: int, keys: frozenset[str]) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    if values.dtype.kind == "b":
        return values.astype(float)
    if values.dtype.kind == "f" and np.isin(values, (0.0, 1.0)).sum() + np.isnan(values).sum() == len(values):
        return values.astype(float)  # checked yes/no (leadq score): 1.0, 0.0 and NaN are read as themselves
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
    """Columns is_freemail, is_competitor, has_valid_email (all 0 when missing)."""
    if values is None:
        return np.zeros((n, 3))
    none = (0.0, 0.0, 0.0)

    def flags(value: object) -> tuple[float, float, float]:
        return none if _is_absent(value, keys) else email_flags(str(value), freemail, competitors)

    if n <= _SMALL_BATCH:  # a request's few leads: pyarrow's set-up costs more than the values
        return np.array(per_distinct(values, flags, none).tolist(), dtype=float).reshape(n, 3)
    matrix = np.zeros((n, 3))
    listed = values.tolist()
    text = np.array([type(value) is str for value in listed], dtype=bool)
    strings = pa.array(values[text], type=pa.string())
    ascii_ = pc.string_is_ascii(strings).to_numpy(zero_copy_only=False)
    at_text = np.flatnonzero(text)
    matrix[at_text[ascii_]] = _ascii_email_flags(strings.filter(pa.array(ascii_)), keys, freemail, competitors)
    # Non-ASCII text and values of other types: one Python call per distinct value (Unicode whitespace and case).
    other = np.ones(n, dtype=bool)
    other[at_text[ascii_]] = False
    if other.any():
        matrix[other] = np.array(per_distinct(values[other], flags, none).tolist(), dtype=float).reshape(-1, 3)
    return matrix


# email_flags' reading of ASCII text, for pyarrow (RE2): what str.strip() removes from ASCII text (str.isspace),
# the address split at its last "@" (rpartition), and email_domains' patterns anchored, with Python's \s of ASCII
# text spelled out (RE2's \s lacks \v and the separators \x1c-\x1f).
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_ASCII_DOMAIN = r"\A[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\z"
_ASCII_LOCAL_PART = r"\A[^@ \t\n\r\x0b\x0c\x1c-\x1f]+\z"


def _ascii_email_flags(
    strings: pa.Array, keys: frozenset[str], freemail: frozenset[str], competitors: frozenset[str]
) -> np.ndarray:
    """``email_flags`` of ASCII e-mail texts (0, 0, 0 where absent), column by column: the same flags bit for bit
    (for ASCII text ``casefold`` is ``lower``, and each step below is the Python one's ASCII case)."""
    lowered = pc.ascii_lower(pc.ascii_trim(strings, characters=_ASCII_SPACE))
    present = pc.invert(pc.is_in(lowered, value_set=pa.array(sorted(keys), type=pa.string())))
    parts = pc.split_pattern(lowered, "@", max_splits=1, reverse=True)  # rpartition: [text] or [local, domain]
    offsets, pieces = parts.offsets.to_numpy(), parts.values  # offsets into values, the slices' pieces
    has_at = pa.array(np.diff(offsets) == 2)
    local, domain = pieces.take(pa.array(offsets[:-1])), pieces.take(pa.array(offsets[1:] - 1))
    is_freemail = pc.is_in(domain, value_set=pa.array(sorted(freemail), type=pa.string()))
    is_competitor = pa.repeat(False, len(strings))
    for competitor in sorted(competitors):
        this = pc.or_(pc.equal(domain, competitor), pc.ends_with(domain, "." + competitor))
        is_competitor = pc.or_(is_competitor, this)
    valid = pc.and_(
        pc.and_(has_at, pc.match_substring_regex(domain, _ASCII_DOMAIN)),
        pc.match_substring_regex(local, _ASCII_LOCAL_PART),
    )
    columns = [pc.and_(present, flag) for flag in (is_freemail, is_competitor, valid)]
    return np.column_stack([column.to_numpy(zero_copy_only=False).astype(float) for column in columns])


def option_flags(
    values: np.ndarray | None, n: int, keys: frozenset[str], options: Sequence[str], separator: str
) -> np.ndarray:
    """One column per option: 1.0 where the cell lists it, else 0.0 (an empty cell chose none). Options are
    compared as categories are (trimmed, case and inner spaces ignored); values no option matches are left out."""
    if values is None:
        return np.zeros((n, len(options)))
    categories = [_category(option, keys) for option in options]  # an option that is a placeholder: never chosen
    position = {category: index for index, category in enumerate(categories) if isinstance(category, str)}
    none = (0.0,) * len(options)

    def chosen(value: object) -> tuple[float, ...]:
        if _is_absent(value, keys):
            return none
        flags = [0.0] * len(options)
        for item in str(value).split(separator):
            category = _category(item, keys)
            index = position.get(category) if isinstance(category, str) else None
            if index is not None:
                flags[index] = 1.0
        return tuple(flags)

    return np.array(per_distinct(values, chosen, none).tolist(), dtype=float).reshape(n, len(options))


def _title_features(
    values: np.ndarray | None, n: int, keys: frozenset[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Factorized | None, Factorized | None]:
    """Seniority and function (NaN when missing) and is_student_or_intern (0/1) of each job title, and the
    factorizations of seniority and function (None without titles)."""
    if values is None:
        return np.full(n, np.nan, dtype=object), np.full(n, np.nan, dtype=object), np.zeros(n), None, None
    codes, uniques = factorize_values(values)
    seniority, function = (
        np.full(len(uniques) + 1, np.nan, dtype=object),
        np.full(len(uniques) + 1, np.nan, dtype=object),
    )
    for position, value in enumerate(uniques):  # code -1 (missing) stays NaN, NaN
        if not _is_absent(value, keys):
            seniority[position], function[position] = classify_title(str(value))  # remembered across batches
    coded = _factorized(codes, seniority), _factorized(codes, function)
    seniority, function = seniority[codes], function[codes]
    return seniority, function, (seniority == STUDENT_OR_INTERN).astype(float), *coded


def _withheld(values: np.ndarray | None, n: int, keys: frozenset[str]) -> np.ndarray:
    """True where the consent is not a clear yes (missing, no, unreadable)."""
    return _booleans(values, n, keys) != 1.0


def _blank_out(values: np.ndarray, withheld: np.ndarray) -> np.ndarray:
    if not withheld.any():
        return values
    blanked = values.astype(object if values.dtype == object else float, copy=True)
    blanked[withheld] = np.nan
    return blanked


# --- the sklearn step ------------------------------------------------------------------------------------------


_SPEC_CACHE = "_feature_spec_of_columns"  # LeadFeatures' built FeatureSpec, with the columns it was built from


class LeadFeatures(TransformerMixin, BaseEstimator):
    """sklearn step from the export columns of a mapping to model features (see the module docstring).

    Args:
        columns: the export columns the model reads (``pipelines.crm_export.prepare.input_columns`` builds them).
        placeholders: values that mean missing, compared trimmed and case-insensitively (blank always does).
        extra_freemail_domains: added to :data:`~models.email_domains.FREEMAIL_DOMAINS`.
        competitor_domains: e-mail domains of competitors (``<name>_is_competitor``).
    """

    def __init__(
        self,
        columns: tuple[InputColumn, ...] = (),
        placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS,
        extra_freemail_domains: tuple[str, ...] = (),
        competitor_domains: tuple[str, ...] = (),
    ):
        self.columns = columns
        self.placeholders = placeholders
        self.extra_freemail_domains = extra_freemail_domains
        self.competitor_domains = competitor_domains

    def __getstate__(self) -> dict[str, Any]:
        # the built spec is not saved with a model: a model loads with the texts of the leadq that serves it
        state: dict[str, Any] = super().__getstate__()
        state.pop(_SPEC_CACHE, None)
        return state

    def fit(self, X: pd.DataFrame, y: object = None) -> LeadFeatures:
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
        self.placeholder_keys_ = placeholder_keys(tuple(self.placeholders))
        self.freemail_domains_ = FREEMAIL_DOMAINS | {domain.strip().lower() for domain in self.extra_freemail_domains}
        self.competitor_domains_ = frozenset(domain.strip().lower() for domain in self.competitor_domains)
        self.decimal_conventions_: dict[str, str] = {}
        for mapped in self.columns:
            if mapped.role in ("numeric", "count", "boolean", "consent"):
                values = X[mapped.column]
                if values.dtype.kind in "iufb":
                    self.decimal_conventions_[mapped.column] = "none"
                    self._refuse_negative_counts(mapped, values.to_numpy(dtype=float))
                    continue
                values, _ = mark_missing(values, self.placeholders)
                if mapped.role in ("boolean", "consent"):
                    parse_booleans(values, mapped.column)  # refuses values that are not yes/no-like
                    continue
                numbers, report = parse_numbers(values, mapped.column)
                self.decimal_conventions_[mapped.column] = report.decimal_convention
                self._refuse_negative_counts(mapped, numbers.to_numpy(dtype=float))
        return self

    @staticmethod
    def _refuse_negative_counts(mapped: InputColumn, numbers: np.ndarray) -> None:
        if mapped.role == "count" and (numbers < 0).any():
            examples = sorted(set(numbers[numbers < 0].tolist()))[:3]
            raise CleaningError(f"{mapped.column}: a count cannot be negative, got {examples}; map it as numeric")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Features (columns ``feature_spec.names``, index ``X.index``); unreadable values and absent columns: NaN."""
        arrays = self.arrays_from_columns(columns_of_frame(X, self.input_columns), len(X))
        return pd.DataFrame({name: arrays[name] for name in self.feature_spec.names}, index=X.index)

    def arrays_from_columns(
        self, columns: Mapping[str, np.ndarray | None], n: int, factorized: dict[str, Factorized] | None = None
    ) -> dict[str, np.ndarray]:
        """The features of ``transform``, one array per feature, from one array per export column (None: absent).

        Object arrays of a JSON request (str, int, float, bool, None) are read as the export's text would be.
        ``factorized``: if given, filled with the category features' factorizations (as ``factorize_values``
        gives them), which the categories were derived through: ``CategoryCodes.encode_arrays`` takes them instead
        of hashing every value again.
        """
        keys = self.placeholder_keys_
        features: dict[str, np.ndarray] = {}
        coded: dict[str, Factorized | None] = {}
        for mapped in self.columns:
            values, name = columns.get(mapped.column), mapped.name
            if mapped.role in ("numeric", "count"):
                read = _counts if mapped.role == "count" else _numbers
                features[name] = read(values, n, self.decimal_conventions_.get(mapped.column, "none"), keys)
            elif mapped.role == "categorical":
                features[name], coded[name] = _categories(values, n, keys)
            elif mapped.role == "multi_select":
                options = [option for option, _ in mapped.options]
                flags = option_flags(values, n, keys, options, mapped.separator)
                features.update((feature, flags[:, index]) for index, (_, feature) in enumerate(mapped.options))
            elif mapped.role == "boolean":
                answers = _booleans(values, n, keys)
                features[name] = np.where(np.isnan(answers), 0.0, answers) if mapped.blank_is_no else answers
            elif mapped.role == "text":
                features[f"{name}_length"], features[f"{name}_answered"] = _text_features(values, n, keys)
            elif mapped.role == "email":
                flags = _email_matrix(values, n, keys, self.freemail_domains_, self.competitor_domains_)
                features[f"{name}_is_freemail"], features[f"{name}_has_valid_email"] = flags[:, 0], flags[:, 2]
                features[f"{name}_is_competitor"] = flags[:, 1]
            elif mapped.role == "job_title":
                seniority, function, student, *titles = _title_features(values, n, keys)
                features[f"{name}{SENIORITY_SUFFIX}"], features[f"{name}_function"] = seniority, function
                features[f"{name}{STUDENT_SUFFIX}"] = student
                coded[f"{name}{SENIORITY_SUFFIX}"], coded[f"{name}_function"] = titles
        blanked = self._apply_consent(features, columns, n)
        if factorized is not None:
            factorized.update((feature, found) for feature, found in coded.items() if found and feature not in blanked)
        return features

    def _apply_consent(
        self, features: dict[str, np.ndarray], columns: Mapping[str, np.ndarray | None], n: int
    ) -> set[str]:
        """Blank out the features that need a consent the lead did not give; return the features blanked."""
        by_column = {mapped.column: mapped for mapped in self.columns}
        blanked = set()
        for consent in self.columns:
            if consent.role != "consent":
                continue
            withheld = _withheld(columns.get(consent.column), n, self.placeholder_keys_)
            for gated in consent.gates:
                for feature, _ in by_column[gated].derived_features():
                    features[feature] = _blank_out(features[feature], withheld)
                    blanked.add(feature)
        return blanked

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.feature_spec.names, dtype=object)

    def _derived(self) -> list[tuple[str, FeatureKind, InputColumn]]:
        """Every feature with its kind and column, in column order; refuses a feature name given twice."""
        derived: list[tuple[str, FeatureKind, InputColumn]] = []
        origin: dict[str, str] = {}
        for mapped in self.columns:
            for feature, kind in mapped.derived_features():
                if feature in origin:
                    raise ValueError(
                        f"columns {origin[feature]!r} and {mapped.column!r} both give the feature {feature!r}; "
                        "expected unique feature names"
                    )
                origin[feature] = mapped.column
                derived.append((feature, kind, mapped))
        return derived

    @property
    def feature_spec(self) -> FeatureSpec:
        """Numeric (numbers, booleans, text, e-mail and title flags, as floats), then categorical; fit by group.

        Built once per ``columns`` (a scoring request reads it several times; its texts take tens of microseconds).
        """
        cached = self.__dict__.get(_SPEC_CACHE)
        if cached is not None and cached[0] is self.columns:
            return cached[1]
        spec = self._feature_spec()
        self.__dict__[_SPEC_CACHE] = (self.columns, spec)
        return spec

    def _feature_spec(self) -> FeatureSpec:
        derived = self._derived()
        return FeatureSpec(
            numeric=tuple(feature for feature, kind, _ in derived if kind not in _CATEGORICAL_KINDS),
            categorical=tuple(feature for feature, kind, _ in derived if kind in _CATEGORICAL_KINDS),
            fit=tuple(feature for feature, _, mapped in derived if mapped.group == "fit"),
            texts={
                **{
                    feature: column_text(mapped.column, yes_no=kind == "boolean")
                    for feature, kind, mapped in derived
                    if feature == mapped.name and (mapped.column != feature or kind == "boolean")
                },
                **{
                    feature: option_text(mapped.column, option)
                    for mapped in self.columns
                    for option, feature in mapped.options
                },
                **{
                    feature: free_text_texts(mapped.column)[kind]
                    for feature, kind, mapped in derived
                    if mapped.role == "text"
                },
            },
        )

    @property
    def feature_columns(self) -> dict[str, str]:
        """Feature -> the export column it is derived from (for reports and the leakage guard)."""
        return {feature: mapped.column for feature, _, mapped in self._derived()}

    @property
    def input_columns(self) -> tuple[str, ...]:
        """The export columns this step reads (email and job titles too, only to derive features)."""
        return tuple(dict.fromkeys(mapped.column for mapped in self.columns))

    @property
    def input_roles(self) -> dict[str, str]:
        """Export column -> its role, so a scoring request can be validated by role."""
        return {mapped.column: mapped.role for mapped in self.columns}

    @property
    def verbatim_columns(self) -> dict[str, str]:
        """Categorical feature -> its export column, so reasons show the CRM's spelling."""
        return {mapped.name: mapped.column for mapped in self.columns if mapped.role == "categorical"}


def feature_spec_of(model: Any) -> FeatureSpec:
    """The features of a model pipeline, as its features step declares them."""
    spec: FeatureSpec = model.named_steps["features"].feature_spec
    return spec
