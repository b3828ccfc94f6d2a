"""Leakage checks run before training: does a candidate feature already know the outcome?

Lead-scoring models most often look great offline and fail in production because a column was filled in by
sales after contact ("Lead Status", "Last Call Outcome") or because its mere presence encodes the outcome (an
"Opportunity Amount" that exists only for won deals). Three checks, each a pure function:

- :func:`single_feature_auc`: how well the feature alone predicts the outcome on the held-out rows;
- :func:`missingness_auc`: how well "is this column empty?" alone predicts the outcome on the held-out rows;
- :func:`share_after_outcome`: for a date column, how often its date falls after the outcome date.

:func:`check_leakage` runs them over every candidate feature and returns a :class:`LeakageReport`, whose
:meth:`~LeakageReport.raise_if_leaks` stops training unless the mapping vouches for the column
(``leakage.allowed``).

Choices made once, here:

- ``y`` is 1 (won), 0 (lost) or NaN (unlabelled, e.g. still open): unlabelled rows are ignored by every check.
- Arrays and series are matched to ``features`` by position, not by index.
- Missing means pandas-missing (NaN, None, NaT, pd.NA). CRM placeholders ("--None--", "N/A") are expected to
  have been turned into missing by the mapping's loader before these checks run.
- A value strictly above its limit is a leak.
- Rules are fitted on the training rows and judged on the evaluation rows (``~train_mask``), the same split
  as the model, so the AUCs say what a model could exploit *out of time*. :func:`check_leakage` also measures
  within the training rows (every other row fitted, the rest held out) and keeps the worse AUC: a column
  that separates won from lost only in the training period (a status sales filled in on older leads, "Open"
  on recent ones) cannot lift the later leads, yet the model would learn from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

LeakCheck = Literal["single_feature_auc", "missingness_auc", "after_outcome"]
ColumnStatus = Literal["ok", "leak", "allowed", "skipped"]

REMEDY = (
    "map it as `after_contact` (never a feature) or, if you are sure it is known before sales touches the lead, "
    "list it under leakage.allowed in the mapping"
)
TABLE_COLUMNS = ("single_feature_auc", "missingness_auc", "share_after_outcome", "status")

# Pseudo-rows at the base rate added to every category: a category seen three times, all won, must not
# score 100% and pass for a perfect predictor.
_SMOOTHING_ROWS = 10.0
_MISSING_CATEGORY = "(missing)"


class LeakageError(ValueError):
    """A candidate feature leaks the outcome; the message names each column, its evidence and the remedy."""


@dataclass(frozen=True)
class LeakagePolicy:
    """Limits above which a candidate feature counts as a leak (the mapping's ``leakage`` section)."""

    max_single_feature_auc: float = 0.95
    max_missingness_auc: float = 0.95
    max_share_after_outcome: float = 0.5
    min_rows: int = 50
    allowed: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("max_single_feature_auc", "max_missingness_auc"):
            limit = getattr(self, name)
            # A symmetric AUC is never below 0.5, so a limit at or below it would flag every column.
            if not 0.5 < limit <= 1.0:
                raise ValueError(f"leakage.{name} must be above 0.5 and at most 1, got {limit}")
        if not 0.0 <= self.max_share_after_outcome <= 1.0:
            raise ValueError(
                f"leakage.max_share_after_outcome must be between 0 and 1, got {self.max_share_after_outcome}"
            )
        if self.min_rows < 1:
            raise ValueError(f"leakage.min_rows must be at least 1, got {self.min_rows}")
        if isinstance(self.allowed, str):
            raise ValueError("leakage.allowed must be a collection of column names, not a single string")


@dataclass(frozen=True)
class Finding:
    """One check that a column failed, with the evidence in plain language."""

    column: str
    check: LeakCheck
    value: float
    limit: float
    evidence: str


@dataclass(frozen=True)
class LeakageReport:
    """What the leakage checks found: leaks, leaks the user allowed, and every column's measurements."""

    findings: tuple[Finding, ...]
    allowed: tuple[Finding, ...]
    table: pd.DataFrame  # index: column name; columns: TABLE_COLUMNS
    notes: tuple[str, ...] = ()

    def raise_if_leaks(self) -> None:
        """Stop training when any candidate feature leaks and the mapping does not allow it."""
        if self.findings:
            raise LeakageError(_leak_message(self.findings))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (NaN becomes None) for ``mlflow.log_dict``."""
        return {
            "passed": not self.findings,
            "findings": [_finding_as_dict(finding) for finding in self.findings],
            "allowed": [_finding_as_dict(finding) for finding in self.allowed],
            "table": [
                {"column": str(column), **{key: _json_value(row[key]) for key in TABLE_COLUMNS}}
                for column, row in self.table.iterrows()
            ],
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------------------
# The three measurements


def single_feature_auc(values: pd.Series, y: np.ndarray, train_mask: np.ndarray) -> float:
    """How well the feature alone predicts the outcome on the evaluation rows (``~train_mask``).

    - Numeric (and datetime): the ROC AUC of the raw values on the evaluation rows, made symmetric
      (``max(auc, 1 - auc)``) because a feature that predicts *losing* leaks just as much. Missing values are
      imputed with the median of the labelled training rows; if the training rows have no value at all,
      missing values rank together below every observed value.
    - Categorical and boolean: each category's conversion rate on the labelled training rows, smoothed toward
      the base rate with 10 pseudo-rows. Missing values are a category of their own ("(missing)"); categories
      not seen in training get the base rate. The AUC of those rates on the evaluation rows is *not* made
      symmetric: a model could only use the direction learned on the training rows.

    ``train_mask`` is the model's split: by time when leads have creation dates (the AUC is then out of time);
    without dates the caller passes a random stratified split and the AUC is simply held out.

    Returns NaN when it cannot be measured: no labelled training rows, or evaluation rows of one class only.
    """
    labels, train, evaluation = _labelled_split(y, train_mask, len(values))
    if not train.any() or _one_class(labels[evaluation]):
        return math.nan
    numbers = _as_numbers(values)
    if numbers is not None:
        scores = _impute_with_train_median(numbers, train)
        return _symmetric(_auc(labels[evaluation], scores[evaluation]))
    categories = _as_categories(values)
    rates, base_rate = _category_rates(categories[train], labels[train])
    scores = categories.map(rates["smoothed"]).astype(float).fillna(base_rate).to_numpy()
    return _auc(labels[evaluation], scores[evaluation])


def missingness_auc(values: pd.Series, y: np.ndarray, train_mask: np.ndarray) -> float:
    """The symmetric ROC AUC of "this value is missing" on the evaluation rows (``~train_mask``).

    Nothing needs fitting, so the training rows are not used. NaN when the column is never or always missing
    on the labelled evaluation rows (a constant says nothing) or when those rows hold one class only.
    """
    labels, _, evaluation = _labelled_split(y, train_mask, len(values))
    is_missing = values.isna().to_numpy()[evaluation]
    if is_missing.all() or not is_missing.any():
        return math.nan
    return _symmetric(_auc(labels[evaluation], is_missing.astype(float)))


def share_after_outcome(values: pd.Series, outcome_at: pd.Series) -> float:
    """Among rows with both dates, the share whose date is strictly after the outcome date.

    A date column filled in after the deal closed ("Last Activity Date") carries the outcome's timing. Both
    series are parsed with ``pd.to_datetime`` (unparseable values become NaT) and matched by position.
    NaN when no row has both dates.
    """
    if len(values) != len(outcome_at):
        raise ValueError(f"the date column has {len(values)} rows but the outcome dates have {len(outcome_at)}")
    feature_at, resolved_at = _as_datetimes(values), _as_datetimes(outcome_at)
    both = (feature_at.notna() & resolved_at.notna()).to_numpy()
    if not both.any():
        return math.nan
    return float(np.mean(feature_at[both].to_numpy() > resolved_at[both].to_numpy()))


# ---------------------------------------------------------------------------------------------------------
# The whole check


def check_leakage(
    features: pd.DataFrame,
    y: np.ndarray,
    train_mask: np.ndarray,
    policy: LeakagePolicy,
    date_columns: Mapping[str, pd.Series] | None = None,
    outcome_at: pd.Series | None = None,
) -> LeakageReport:
    """Run every leakage check on every candidate feature (and every date column against the outcome date).

    Args:
        features: the candidate features, one column each (numeric, categorical, boolean, derived text and
            pii flags), one row per lead.
        y: 1 won, 0 lost, NaN unlabelled; matched to ``features`` by position.
        train_mask: True for the rows the model is fitted on; the rest are the evaluation rows.
        policy: the limits and the columns the mapping allows.
        date_columns: date-valued columns to compare with ``outcome_at`` (need not be features).
        outcome_at: when each lead was won or lost, NaT if unknown.

    Fewer than ``policy.min_rows`` labelled rows (or rows with both dates, for the date check) skip the check
    with a note instead of judging on noise.
    """
    labels, train, evaluation = _labelled_split(y, train_mask, len(features))
    auc_note = _auc_skip_note(labels, train, evaluation, policy.min_rows)
    measured: dict[str, dict[str, float]] = {}
    candidates: list[Finding] = []
    for column in features.columns:
        values = features[column]
        aucs = _measure_aucs(values, labels, train_mask) if auc_note is None else _nan_aucs()
        measured[str(column)] = {**aucs, "share_after_outcome": math.nan}
        candidates += _auc_findings(str(column), values, labels, train, evaluation, aucs, policy)

    dates = dict(date_columns or {})
    date_notes: list[str] = []
    for column, values in dates.items():
        share, note = _measure_after_outcome(column, values, outcome_at, policy.min_rows)
        measured.setdefault(column, _nan_aucs())["share_after_outcome"] = share
        date_notes += [note] if note else []
        finding = _after_outcome_finding(column, share, policy.max_share_after_outcome)
        candidates += [finding] if finding else []

    findings = tuple(finding for finding in candidates if finding.column not in policy.allowed)
    allowed = tuple(finding for finding in candidates if finding.column in policy.allowed)
    notes = [auc_note] if auc_note else []
    notes += _dedupe(date_notes) + _unknown_allowed_notes(policy.allowed, measured)
    return LeakageReport(findings, allowed, _build_table(measured, findings, allowed), tuple(notes))


# ---------------------------------------------------------------------------------------------------------
# Helpers: inputs


def _labelled_split(y: np.ndarray, train_mask: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The labels as floats, and the labelled training rows and labelled evaluation rows as masks."""
    labels = np.asarray(y, dtype=float)
    train = np.asarray(train_mask, dtype=bool)
    if labels.shape != (n_rows,) or train.shape != (n_rows,):
        raise ValueError(f"y {labels.shape} and train_mask {train.shape} must both have one entry per row ({n_rows})")
    labelled = ~np.isnan(labels)
    if not np.isin(labels[labelled], (0.0, 1.0)).all():
        raise ValueError("y must be 1 (won), 0 (lost) or NaN (unlabelled)")
    return labels, labelled & train, labelled & ~train


def _as_numbers(values: pd.Series) -> np.ndarray | None:
    """Floats (NaN for missing) for numeric and datetime columns; None for columns to treat as categories."""
    if pd.api.types.is_bool_dtype(values):
        return None  # numeric to numpy, but two categories are what a boolean is
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(values):
        moments = pd.to_datetime(values)
        return np.where(moments.isna(), np.nan, moments.map(_timestamp_seconds).to_numpy(dtype=float))
    return None


def _timestamp_seconds(moment: Any) -> float:
    return math.nan if pd.isna(moment) else float(pd.Timestamp(moment).timestamp())


def _as_categories(values: pd.Series) -> pd.Series:
    """The values as plain objects by position, missing ones as a category of their own."""
    as_objects = values.astype(object).reset_index(drop=True)
    return as_objects.where(as_objects.notna(), _MISSING_CATEGORY)


def _as_datetimes(values: pd.Series) -> pd.Series:
    return pd.Series(pd.to_datetime(values, errors="coerce")).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
# Helpers: arithmetic


def _one_class(labels: np.ndarray) -> bool:
    return np.unique(labels).size < 2


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return math.nan if _one_class(labels) else float(roc_auc_score(labels, scores))


def _symmetric(auc: float) -> float:
    return auc if math.isnan(auc) else max(auc, 1.0 - auc)


def _impute_with_train_median(numbers: np.ndarray, train: np.ndarray) -> np.ndarray:
    observed_in_train = numbers[train & ~np.isnan(numbers)]
    if observed_in_train.size:
        fill = float(np.median(observed_in_train))
    else:
        # No rule can be fitted: a fixed one instead. It uses the evaluation values only to stay below them.
        observed = numbers[~np.isnan(numbers)]
        fill = float(observed.min()) - 1.0 if observed.size else 0.0
    return np.where(np.isnan(numbers), fill, numbers)


def _category_rates(categories: pd.Series, labels: np.ndarray) -> tuple[pd.DataFrame, float]:
    """Per category: rows, raw conversion rate and smoothed rate; plus the base rate they shrink toward."""
    base_rate = float(labels.mean())
    grouped = pd.DataFrame({"category": categories.to_numpy(), "won": labels}).groupby("category", sort=False)["won"]
    rows, won = grouped.size(), grouped.sum()
    rates = pd.DataFrame(
        {"rows": rows, "rate": won / rows, "smoothed": (won + _SMOOTHING_ROWS * base_rate) / (rows + _SMOOTHING_ROWS)}
    )
    return rates, base_rate


def _nan_aucs() -> dict[str, float]:
    return {"single_feature_auc": math.nan, "missingness_auc": math.nan}


def _within_training(
    measure: Callable[[pd.Series, np.ndarray, np.ndarray], float],
    values: pd.Series,
    labels: np.ndarray,
    train_mask: np.ndarray,
) -> float:
    """``measure`` inside the training rows alone (every other row fitted, the rest held out).

    A column filled in only for older leads (a status sales set on closed leads, "Open" on recent ones) does
    not lift the later rows, yet the model would learn from it: it must be caught where it is.
    """
    rows = np.flatnonzero(np.asarray(train_mask, dtype=bool))
    fitted_half = np.arange(rows.size) % 2 == 0
    return measure(values.iloc[rows], labels[rows], fitted_half)


def _worst(*aucs: float) -> float:
    measured = [auc for auc in aucs if not math.isnan(auc)]
    return max(measured) if measured else math.nan


def _measure_aucs(values: pd.Series, labels: np.ndarray, train_mask: np.ndarray) -> dict[str, float]:
    """Each AUC check on the held-out rows and within the training rows; the worse of the two counts."""
    return {
        check: _worst(measure(values, labels, train_mask), _within_training(measure, values, labels, train_mask))
        for check, measure in (("single_feature_auc", single_feature_auc), ("missingness_auc", missingness_auc))
    }


def _auc_skip_note(labels: np.ndarray, train: np.ndarray, evaluation: np.ndarray, min_rows: int) -> str | None:
    """Why the AUC checks cannot run at all, or None when they can."""
    n_labelled = int((train | evaluation).sum())
    if n_labelled < min_rows:
        return f"only {n_labelled} labelled leads (fewer than {min_rows}): the AUC leakage checks were skipped"
    if not evaluation.any():
        return "no labelled evaluation rows: the AUC leakage checks were skipped"
    if _one_class(labels[evaluation]):
        return "the evaluation rows are all won or all lost: the AUC leakage checks could not be measured"
    return None


def _measure_after_outcome(
    column: str, values: pd.Series, outcome_at: pd.Series | None, min_rows: int
) -> tuple[float, str | None]:
    """The share after the outcome date, or NaN and the reason it was not measured."""
    if outcome_at is None:
        return math.nan, "no outcome dates given: the after-outcome check of date columns was skipped"
    share = share_after_outcome(values, outcome_at)
    n_both = int((_as_datetimes(values).notna() & _as_datetimes(outcome_at).notna()).sum())
    if n_both < min_rows:
        return (
            math.nan,
            f"'{column}': only {n_both} leads with both dates (fewer than {min_rows}): after-outcome check skipped",
        )
    return share, None


# ---------------------------------------------------------------------------------------------------------
# Helpers: findings and their evidence


def _auc_findings(
    column: str,
    values: pd.Series,
    labels: np.ndarray,
    train: np.ndarray,
    evaluation: np.ndarray,
    aucs: Mapping[str, float],
    policy: LeakagePolicy,
) -> list[Finding]:
    found: list[Finding] = []
    single, limit = aucs["single_feature_auc"], policy.max_single_feature_auc
    if single > limit:  # NaN compares False: unmeasured is not a leak
        evidence = (
            f"'{column}' alone predicts the outcome with AUC {_format_auc(single, limit)} on held-out rows "
            f"(limit {limit:.2f}): {_describe_values(values, labels, train, evaluation)}"
        )
        found.append(Finding(column, "single_feature_auc", single, limit, evidence))
    missing, limit = aucs["missingness_auc"], policy.max_missingness_auc
    if missing > limit:
        lost_share, won_share = (
            float(values.isna().to_numpy()[evaluation & (labels == outcome)].mean()) for outcome in (0.0, 1.0)
        )
        evidence = (
            f"'{column}' is missing for {lost_share:.0%} of lost and {won_share:.0%} of won leads "
            f"(missingness AUC {_format_auc(missing, limit)}, limit {limit:.2f})"
        )
        found.append(Finding(column, "missingness_auc", missing, limit, evidence))
    return found


def _after_outcome_finding(column: str, share: float, limit: float) -> Finding | None:
    if not share > limit:
        return None
    evidence = f"'{column}' is after the outcome date for {share:.0%} of leads (limit {limit:.0%})"
    return Finding(column, "after_outcome", share, limit, evidence)


def _describe_values(values: pd.Series, labels: np.ndarray, train: np.ndarray, evaluation: np.ndarray) -> str:
    """What makes the feature predictive: medians by outcome, or the best and worst converting categories."""
    numbers = _as_numbers(values)
    if numbers is not None:
        won, lost = (numbers[evaluation & (labels == outcome)] for outcome in (1.0, 0.0))
        return f"median {_format_number(won)} for won vs {_format_number(lost)} for lost leads"
    rates, _ = _category_rates(_as_categories(values)[train], labels[train])
    ordered = rates.sort_values("smoothed", ascending=False)
    extremes = ordered.iloc[[0, -1]] if len(ordered) > 1 else ordered
    described = [f"'{category}' converts {row['rate']:.0%}" for category, row in extremes.iterrows()]
    return ", ".join(described) + " on the training rows"


def _format_auc(value: float, limit: float) -> str:
    """Two decimals, or three when two would print a leak as equal to its limit ("AUC 0.95 (limit 0.95)")."""
    shown = f"{value:.2f}"
    return f"{value:.3f}" if shown == f"{limit:.2f}" and value != limit else shown


def _format_number(numbers: np.ndarray) -> str:
    observed = numbers[~np.isnan(numbers)]
    if not observed.size:
        return "n/a"
    median = float(np.median(observed))
    return f"{median:,.0f}" if abs(median) >= 1000 else f"{median:.3g}"


def _leak_message(findings: tuple[Finding, ...]) -> str:
    columns = list(dict.fromkeys(finding.column for finding in findings))
    lines = [f"training stopped: {len(columns)} candidate feature(s) leak the outcome ({', '.join(columns)})."]
    lines += [f"- {finding.evidence}" for finding in findings]
    lines.append(f"For each: {REMEDY}.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Helpers: the report


def _build_table(
    measured: Mapping[str, Mapping[str, float]], findings: tuple[Finding, ...], allowed: tuple[Finding, ...]
) -> pd.DataFrame:
    leaking = {finding.column for finding in findings}
    vouched = {finding.column for finding in allowed}
    rows = {
        column: {**values, "status": _status(column, values, leaking, vouched)} for column, values in measured.items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(TABLE_COLUMNS))
    table.index.name = "column"
    return table


def _status(column: str, values: Mapping[str, float], leaking: set[str], vouched: set[str]) -> ColumnStatus:
    if column in leaking:
        return "leak"
    if column in vouched:
        return "allowed"
    if all(math.isnan(value) for value in values.values()):
        return "skipped"  # nothing could be measured: "ok" would claim a check that did not happen
    return "ok"


def _unknown_allowed_notes(allowed: frozenset[str], measured: Mapping[str, object]) -> list[str]:
    # A typo in leakage.allowed would otherwise silently allow nothing.
    return [
        f"'{column}' is listed under leakage.allowed but is not a checked column"
        for column in sorted(allowed - set(measured))
    ]


def _dedupe(notes: list[str]) -> list[str]:
    return list(dict.fromkeys(notes))


def _finding_as_dict(finding: Finding) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in asdict(finding).items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value
