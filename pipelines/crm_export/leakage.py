"""Leakage checks run before training: does a candidate feature already know the outcome?

Lead-scoring models most often look great offline and fail in production because a column was filled in by
sales after contact ("Lead Status", "Last Call Outcome", "Tags") or because its mere presence encodes the outcome
(an "Opportunity Amount" that exists only for won deals). The guard looks for evidence in the data, not for our
own column names; each kind of evidence is a pure function with its numbers:

- :func:`single_feature_auc`: how well the feature alone predicts the outcome on the held-out rows;
- :func:`missingness_auc`: how well "is this column empty?" alone predicts the outcome on the held-out rows;
- :func:`one_outcome_values`: values (or the mere presence) that (almost) only one outcome has, with support
  that rules out chance (a binomial test against the base rate, Bonferroni-corrected over every value tested),
  counted by the share of the leads they cover: "Closed by Horizzon" converts 99% of 358 and the column's
  like values cover half the leads, where an honest channel's one pure value covers 1-2%;
- :func:`lift_beyond_others`: a column that alone reaches what all other columns reach together, or without
  which a quick model loses much, held out;
- :func:`sales_words_in_name` and :func:`sales_words_in_values`: names and values that speak of sales work
  (status, owner, call results, "Ringing", "Rückruf"...), in English and German. They count only with data
  evidence (one of the above, or a strong single AUC): an honest column named "Lead Source" must pass;
- :func:`share_after_outcome`: for a date column, how often its date falls after the outcome date;
- :func:`share_days_to_outcome`: for a number, how often it is the days from creation to the outcome (an
  opportunity's "Age", a "Days to Close": counted from the close).

:func:`check_leakage` runs them over every candidate feature and returns a :class:`LeakageReport`, whose
:meth:`~LeakageReport.raise_if_leaks` stops training unless the mapping vouches for the column
(``leakage.allowed``). Every finding says its evidence and the remedy in plain words.

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

import itertools
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import binom, mannwhitneyu
from sklearn.metrics import roc_auc_score

from models.cleaning import FALSE_WORDS, OTHER_CATEGORY, TRUE_WORDS
from pipelines.crm_export.mapping import guess_group, to_snake_case
from serving.pii import personal_kind

LeakCheck = Literal[
    "single_feature_auc",
    "missingness_auc",
    "after_outcome",
    "age_at_the_export",
    "one_outcome_values",
    "lift",
    "sales_words",
    "filled_after_contact",
    "grown_after_contact",
    "objected_after_contact",
]
ColumnStatus = Literal["ok", "leak", "allowed", "skipped"]

REMEDY = (
    "map it as `after_contact` (never a feature) or, if you are sure it is known before sales touches the lead, "
    "list it under leakage.allowed in the mapping"
)
OPTION_REMEDY = (
    "remove the option from its multi-select column's options (the other options stay features) or, if you are "
    "sure it is known before sales touches the lead, list the option as named here under leakage.allowed"
)
TABLE_COLUMNS = (
    "single_feature_auc",
    "missingness_auc",
    "one_outcome_share",
    "others_auc",
    "share_after_outcome",
    "status",
)

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
    max_share_days_to_outcome: float = 0.8  # of the leads with a number and a dated outcome (an honest number: ~0%)
    min_rows: int = 50
    allowed: frozenset[str] = frozenset()
    # One-outcome values: purity, how much of the other outcome a value may keep (relative to the base rate),
    # the family-wise significance (Bonferroni over every value tested) and the share of one outcome's leads
    # such values must cover before the column is a leak (a small honest channel that always converts is not).
    min_purity: float = 0.95
    max_impurity_ratio: float = 0.08
    significance: float = 0.001
    min_one_outcome_share: float = 0.05  # of the labelled leads: a small honest channel covers 1-2%
    min_one_outcome_class_share: float = 0.25  # or of one outcome's leads ("Closed Won" at a 3% base rate)
    min_presence_share: float = 0.02  # of one outcome's leads, by "filled in" or "empty": honest columns never are
    # Lift: a column strong alone (min_lift_auc, held out) that reaches all the others together (plus the
    # margin, wider on few evaluation rows), or one of some strength alone (min_drop_auc) whose removal costs the
    # model max_auc_drop, is known too well to be known before contact. An honest engagement column can cost
    # 0.07 (X Education's time on site: weak alone, strong with the others); an honest column alone rarely
    # beats all the others together. Post-contact fields of middling strength alone (a first response time,
    # an opportunity's push count: 0.67-0.77) cost 0.10-0.12 when removed.
    lift_margin: float = 0.02
    min_lift_auc: float = 0.7
    min_drop_auc: float = 0.6
    max_auc_drop: float = 0.1
    # A name or values that speak of sales work count as a leak only with data evidence: this single AUC.
    sales_words_min_auc: float = 0.7
    # Filled after contact: filled for at least this share of the leads sales has worked, and for at most a tenth
    # of that among the leads it has not touched yet (a form field is filled as often for both).
    min_worked_filled_share: float = 0.1
    max_untouched_filled_ratio: float = 0.1

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
    remedy: str = REMEDY


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


NEARLY_ALL_WORKED = 0.95  # of the worked leads filled: sales completes what the form left empty ...
MAX_UNTOUCHED_WHEN_NEARLY_ALL = 0.5  # ... where at most this share of the untouched leads has it


def filled_after_contact(
    column: str,
    filled: np.ndarray,
    untouched: np.ndarray,
    worked: np.ndarray,
    untouched_by: str,
    policy: LeakagePolicy,
    at_rest: float | str | None = None,
) -> Finding | None:
    """A column (almost) always empty for the leads sales has not touched yet (their stage is still ``mql``: "Open -
    Not Contacted") and filled for many it has worked: sales fills it in at the contact (Salesforce's custom fields a
    rep fills on the call), or it is no longer collected; either way a new lead is scored without it, so the model
    must not learn from it. Also a column filled for nearly every worked lead (``NEARLY_ALL_WORKED``) and at most
    half the untouched ones (``MAX_UNTOUCHED_WHEN_NEARLY_ALL``): a form asks it of some, sales of everyone else on
    the first call (Zoho's "Nº de usuários previstos": 20% of new deals, 100% of the worked ones), so most of the
    model's values are sales' and most new leads have none; not for a column named for who the lead is (the
    company's size, industry, country: a demo form may ask them where a download form does not, and the demo's leads
    are worked first). Judged on at least ``policy.min_rows`` leads of each kind, beyond chance (a one-sided
    binomial test of the untouched leads' filled count against the worked leads' share).

    Args:
        filled: per lead, whether the column holds a value; ``untouched``, ``worked``: the two kinds of lead (the
            worked ones of the untouched leads' time where dates tell it: ``worked_alongside``).
        untouched_by: the column that tells untouched leads, for the evidence.
        at_rest: the one value every untouched lead holds, where ``filled`` means another one (a count of sales'
            touches is 0 until the first, an owner "Lead Queue" until a rep takes the lead: :func:`filled_beyond_rest`).
    """
    n_untouched, n_worked = int(untouched.sum()), int(worked.sum())
    if min(n_untouched, n_worked) < policy.min_rows:
        return None
    filled_untouched, worked_share = int(filled[untouched].sum()), float(filled[worked].mean())
    untouched_share = filled_untouched / n_untouched
    limit = worked_share * policy.max_untouched_filled_ratio
    if worked_share >= NEARLY_ALL_WORKED and not says_who_the_lead_is(column):
        limit = max(limit, MAX_UNTOUCHED_WHEN_NEARLY_ALL)
    if worked_share < policy.min_worked_filled_share or untouched_share > limit:
        return None
    if float(binom.cdf(filled_untouched, n_untouched, worked_share)) > policy.significance:
        return None
    held = "filled" if at_rest is None else f"other than {_shown_rest(at_rest)}"
    if at_rest == OTHER_CATEGORY:  # every untouched lead's value is its own ("Nieuwe deal Verhoeven"), rare: grouped
        held = f"a value shared by other leads (not one of the rare ones grouped as '{OTHER_CATEGORY}')"
    evidence = (
        f"'{column}' is {held} for {worked_share:.0%} of the {n_worked:,} leads sales has worked but for "
        f"{untouched_share:.1%} of the {n_untouched:,} it has not touched yet ('{untouched_by}'): sales fills it in "
        "after contact (or it is no longer collected), so a new lead is scored without it"
    )
    return Finding(column, "filled_after_contact", untouched_share, limit, evidence)


# an objection: English and German, and unsubscribed in French, Spanish, Italian, Dutch, Polish
OBJECTION_NAME = re.compile(
    r"(^|_)(do_not|dont|opt_?out|opted_out|unsubscri[a-z]*|abgemeldet|abmeldung|widerspruch|widerruf[a-z]*|"
    r"desinscri[a-z]*|desabonne[a-z]*|dado_de_baja|baja|disiscritt[oa]|afgemeld|uitgeschreven|wypisan[ya]|"
    r"wypis)(_|$)"
)
MIN_OBJECTION_GROWTH = 2.0  # worked leads say yes at least this many times as often as untouched ones ...
MIN_WORKED_OBJECTIONS = 0.05  # ... and at least this share of them


def is_objection(column: str) -> bool:
    """A column named like the opposite of a consent: yes = the lead objected ("Do Not Email", "Opt-out")."""
    return bool(OBJECTION_NAME.search(to_snake_case(column)))


def objected_after_contact(
    column: str,
    said_yes: np.ndarray,
    untouched: np.ndarray,
    worked: np.ndarray,
    untouched_by: str,
    policy: LeakagePolicy,
) -> Finding | None:
    """An objection ("Email Opt Out", "Unsubscribed", "Do Not Email") that says yes for the leads sales has worked
    ``MIN_OBJECTION_GROWTH`` times as often as for those it has not touched yet, beyond chance (one-sided binomial
    test): leads object to sales' e-mails, so the model would learn "yes" from objections no new lead has made yet
    (fuzz30: a Salesforce opt-out, 15% of worked leads against 3% of new ones, "no" a reason on 7,259 new leads).
    ``said_yes``: per lead, whether the column says yes (the caller reads only the columns :func:`is_objection`)."""
    n_untouched, n_worked = int(untouched.sum()), int(worked.sum())
    if min(n_untouched, n_worked) < policy.min_rows:
        return None
    untouched_yes = int(said_yes[untouched].sum())
    untouched_share, worked_share = untouched_yes / n_untouched, float(said_yes[worked].mean())
    if worked_share < MIN_WORKED_OBJECTIONS or worked_share < MIN_OBJECTION_GROWTH * untouched_share:
        return None
    if float(binom.cdf(untouched_yes, n_untouched, worked_share)) > policy.significance:
        return None
    evidence = (
        f"'{column}' says yes for {worked_share:.0%} of the {n_worked:,} leads sales has worked but for "
        f"{untouched_share:.1%} of the {n_untouched:,} it has not touched yet ('{untouched_by}'): leads object to "
        "sales' e-mails and calls, so the model would learn from objections no new lead has made yet"
    )
    return Finding(column, "objected_after_contact", untouched_share, worked_share / MIN_OBJECTION_GROWTH, evidence)


WORKED_QUANTILE = 0.1  # the worked leads' value nine in ten of them hold or exceed ...
MIN_UNTOUCHED_BELOW = 0.5  # ... and most untouched leads with a value hold less than


def grown_after_contact(
    column: str,
    values: pd.Series,
    untouched: np.ndarray,
    worked: np.ndarray,
    untouched_by: str,
    policy: LeakagePolicy,
    named: str | None = None,
    group: str | None = None,
) -> Finding | None:
    """A number most leads sales has not touched yet hold less of than nine in ten worked leads of their time do
    (``WORKED_QUANTILE``, ``MIN_UNTOUCHED_BELOW``): a count that keeps counting once sales works the lead (the
    visits, page views and forms a demo, a pricing call and onboarding bring about; e-mails sent), so the model
    learns it from values a new lead does not have yet, and scores every new lead low. Only an engagement column
    (its mapping's ``group``, else ``guess_group``: what the lead did or was sent) is judged: sales may well work
    the bigger companies first, and a company's size is no count. A yes/no is no such count either
    (``filled_after_contact`` judges it). Judged on at least ``policy.min_rows`` leads of each kind with a value,
    beyond chance (a one-sided Mann-Whitney test at ``policy.significance``).

    Args:
        values: the column's numbers per lead; ``untouched``, ``worked``: the two kinds of lead (the worked ones of
            the untouched leads' time where dates tell it: ``worked_alongside``).
        untouched_by: the column that tells untouched leads, for the evidence.
        named: the export column whose name speaks for the column, where it is not the column's own.
        group: the column's group as mapped (fit or engagement); None: guessed from the name.
    """
    if (group or guess_group(named or column)) != "engagement" or not pd.api.types.is_numeric_dtype(values):
        return None
    if pd.api.types.is_bool_dtype(values) or _zero_or_one(values):
        return None
    numbers = values.to_numpy(dtype=float)
    known = ~np.isnan(numbers)
    resting, counted = numbers[untouched & known], numbers[worked & known]
    if min(len(resting), len(counted)) < policy.min_rows:
        return None
    bound = float(np.quantile(counted, WORKED_QUANTILE, method="lower"))  # a value a worked lead holds
    below = float(np.mean(resting < bound))
    if below < MIN_UNTOUCHED_BELOW or mannwhitneyu(resting, counted, alternative="less").pvalue > policy.significance:
        return None
    evidence = (
        f"'{column}' is below {bound:,.4g} for {below:.0%} of the {len(resting):,} leads sales has not touched yet "
        f"('{untouched_by}'), where nine in ten of the {len(counted):,} it has worked hold {bound:,.4g} or more "
        f"(median {float(np.median(resting)):,.4g} against {float(np.median(counted)):,.4g}): it keeps counting once "
        "sales works the lead, so the model learns it from values a new lead does not have yet (unless sales works "
        "only the leads that have more of it)"
    )
    return Finding(column, "grown_after_contact", below, MIN_UNTOUCHED_BELOW, evidence)


def _shown_rest(at_rest: object) -> str:
    return f"{at_rest:g}" if isinstance(at_rest, float) else f"'{at_rest}'"


MIN_AT_REST_SHARE = 0.95  # of the untouched leads with a value: the one they hold at rest (a few touched early)


def filled_beyond_rest(
    values: pd.Series, untouched: np.ndarray, min_rows: int, sales_named: bool = False
) -> tuple[np.ndarray, float | str | None]:
    """Per lead, whether a column holds a value, and where nearly every one (``MIN_AT_REST_SHARE``) of at least
    ``min_rows`` untouched leads holds the same value, whether it holds another: that value is the column at rest,
    as an empty cell is (the value, else None; a few untouched leads touched early, or a few who opted out as they
    signed up, no longer hide it). A number (a count of sales' touches or e-mails, 0 until the first) or a text (an
    owner that reads "Lead Queue" until a rep takes the lead, a status "New"). A yes/no (a boolean, its words, or a
    model feature's 0/1) the lead answers or does itself stays as filled: a demo requested brings sales at once
    (within hours, by the SLA), so leads not touched yet may well all say no; unless the name speaks of sales work
    as well (``sales_named``). Other yes/no columns are judged at rest ("Is Starred", "Meeting Booked": a rep's
    marks)."""
    filled = values.notna().to_numpy()
    yes_no = pd.api.types.is_bool_dtype(values) or _yes_no_text(values) or _zero_or_one(values)
    if yes_no and not sales_named and _LEADS_OWN_ANSWER.search(to_snake_case(str(values.name))):
        return filled, None
    resting = values[untouched].dropna()
    if len(resting) < min_rows:
        return filled, None
    counts = resting.value_counts()
    if counts.iloc[0] < MIN_AT_REST_SHARE * len(resting):
        return filled, None
    first = counts.index[0]
    at_rest = float(first) if pd.api.types.is_numeric_dtype(values) else str(first)
    return filled & (values != first).to_numpy(), at_rest


# A yes/no the lead answers or does itself (a demo or trial requested, a download, a sign-up, a webinar attended,
# a newsletter or consent), which a prompt sales team may leave no untouched lead holding
_LEADS_OWN_ANSWER = re.compile(
    r"(^|_)(requested|requests?|anfrage|angefragt|downloads?|downloaded|signed_up|sign_?up|registered|registriert|"
    r"subscribed|attended|webinar|newsletter|opt_?in|trial|demo|consent|einwilligung)(_|$)|anfrage"
)


def _zero_or_one(values: pd.Series) -> bool:
    """Numbers that are all 0 or 1: a yes/no as the model's features hold it."""
    present = values.dropna()
    return bool(pd.api.types.is_numeric_dtype(values) and len(present) and present.isin([0, 1]).all())


def _yes_no_text(values: pd.Series) -> bool:
    """A text column of yes/no words only (a yes/no field read as text): judged as filled, as a boolean is."""
    if pd.api.types.is_numeric_dtype(values):
        return False
    distinct = values.dropna().map(lambda value: str(value).strip().casefold()).unique()
    return 0 < len(distinct) <= 2 and all(word in TRUE_WORDS or word in FALSE_WORDS for word in distinct)


@dataclass(frozen=True)
class Untouched:
    """The leads sales has not touched yet (``leads``, per row), the column that says so, the leads' creation
    dates where known (``worked_alongside``), and the leads whose outcome is known in any quarter (``closed``; None:
    the labelled leads judged): sales worked them, also in the latest quarters the split leaves out while many of
    their leads are open, which is where the untouched leads are."""

    by: str
    leads: np.ndarray
    created_at: pd.Series | None = None
    closed: np.ndarray | None = None


def worked_alongside(
    untouched: np.ndarray, worked: np.ndarray, created_at: pd.Series | None, min_rows: int = 0
) -> np.ndarray:
    """The worked leads created since the first quarter of the untouched leads came in (all worked leads where
    creation dates do not tell it): the untouched leads are the newest, and a column enriched days after a lead
    comes in, or a form field dropped last month, is empty for new leads whoever touched them. Where fewer than
    ``min_rows`` were, the ``min_rows`` newest worked leads, from up to a quarter before (``NEAREST_WORKED_SPAN``):
    the nearest in time there are (a Marketo export's 44 had left every column unjudged); none older."""
    if created_at is None:
        return worked
    times = pd.to_datetime(created_at, errors="coerce").to_numpy(dtype="datetime64[ns]")
    known = ~np.isnat(times)
    if not (untouched & known).any() or (untouched & known).sum() < untouched.sum() / 2:
        return worked
    since = np.quantile(times[untouched & known].astype(np.int64), 0.25)
    alongside = worked & known & (times.astype(np.int64) >= since)
    # ... made up from the quarter before at most: older leads would bring back what the window keeps out
    near = worked & known & (times.astype(np.int64) >= since - NEAREST_WORKED_SPAN.value)
    dated = np.flatnonzero(near)
    if alongside.sum() >= min_rows or len(dated) < min_rows:
        return alongside
    nearest = np.zeros_like(alongside)
    nearest[dated[np.argsort(times[dated], kind="stable")[-min_rows:]]] = True
    return nearest


NEAREST_WORKED_SPAN = pd.Timedelta(days=91)  # how far before the untouched leads' window worked leads may stand in


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


MAX_DAYS_OFF = 1.0  # a duration counted in whole days, rounded either way


def share_days_to_outcome(values: pd.Series, created_at: pd.Series, outcome_at: pd.Series) -> tuple[float, int]:
    """Among rows with a number and an outcome more than ``MAX_DAYS_OFF`` days after creation: the share whose
    number is those days (within ``MAX_DAYS_OFF``), and how many rows that is (NaN, 0 for none or a non-number).

    An opportunity's "Age" or a "Days to Close" is counted up to the close: it knows when the deal ended. Outcomes
    on the day of creation are left out: any 0/1 number would match them. Matched by position; dates parsed with
    ``pd.to_datetime``.
    """
    numbers = _as_numbers(values)
    if numbers is None or pd.api.types.is_datetime64_any_dtype(values):
        return math.nan, 0
    days = (_as_datetimes(outcome_at) - _as_datetimes(created_at)).dt.total_seconds().to_numpy() / 86_400
    both = ~np.isnan(numbers) & (np.nan_to_num(days, nan=0.0) > MAX_DAYS_OFF)
    if not both.any():
        return math.nan, 0
    return float(np.mean(np.abs(numbers[both] - days[both]) <= MAX_DAYS_OFF)), int(both.sum())


MIN_AGE_SHARE = 0.5  # of the open leads with a number and a creation date: counted to one day, the export's
MIN_AGES = 10  # distinct ages among them: a number 0 for every lead of the last days (visits, a flag) is none


def days_to_the_export(
    values: pd.Series, created_at: pd.Series, open_leads: np.ndarray, min_rows: int
) -> tuple[pd.Timestamp, float, int] | None:
    """Where a number is the open leads' days from creation to one day on or after the latest creation (the day
    the export was made): that day, the share of the open leads with a number and a date it holds for, and how
    many they are; None where it is no such count (fewer than ``min_rows`` match, under ``MIN_AGE_SHARE``, or
    fewer than ``MIN_AGES`` distinct ages).

    A Salesforce opportunity's "Age" is counted to the close, and to the day of the report while open: every new
    lead's is 0 ("Alter: 0" was a reason against on 5,357 of 7,500 new deals of a German report). Leads created
    within a day or two of the latest are left out, as ``share_days_to_outcome`` leaves out same-day outcomes: any
    number 0 for new leads (visits, opens, a yes/no) would match them. Matched by position."""
    numbers = _as_numbers(values)
    if numbers is None or pd.api.types.is_datetime64_any_dtype(values):
        return None
    created = _as_datetimes(created_at)
    if isinstance(created.dtype, pd.DatetimeTZDtype):
        created = created.dt.tz_convert(None)
    days = (created - pd.Timestamp(0)).dt.total_seconds().to_numpy() / 86_400
    if np.isnan(days).all():
        return None
    latest = float(np.nanmax(days))
    aged = np.nan_to_num(days, nan=latest) < latest - MAX_DAYS_OFF - 1
    both = np.asarray(open_leads, dtype=bool) & ~np.isnan(numbers) & aged
    if both.sum() < min_rows:
        return None
    sums = np.rint(numbers[both] + days[both])
    counted, held = np.unique(sums, return_counts=True)
    day = counted[held.argmax()]
    matched = np.abs(numbers[both] + days[both] - day) <= MAX_DAYS_OFF
    ages = len(np.unique(np.rint(numbers[both][matched])))
    if matched.sum() < min_rows or matched.mean() < MIN_AGE_SHARE or ages < MIN_AGES:
        return None
    if day < latest - MAX_DAYS_OFF:
        return None  # a day before the latest lead came in: no export's
    return pd.Timestamp(0) + pd.Timedelta(days=float(day)), float(matched.mean()), int(both.sum())


# ---------------------------------------------------------------------------------------------------------
# Evidence beyond one AUC: values of one outcome, lift beyond all other columns, words of sales work

FILLED_IN, EMPTY = "(filled in)", "(empty)"
MIN_SUPPORT = 10  # labelled rows a value needs to be tested at all: fewer can never rule out chance
MAX_VALUES_TESTED = 200  # per column, the most frequent values (a long tail of rare values cannot be significant)
MAX_NUMBERS_TESTED = 20  # distinct values of a number column tested one by one (a rating, a probability in steps)
MIN_SPIKE_SHARE = 0.05  # of a continuous number's present values, the share a value needs to be tested alone
LIFT_MAX_ROWS = 10_000  # rows the lift models are fitted on (and judged on): a sample keeps the check in seconds
LIFT_MIN_OTHER_COLUMNS = 2  # fewer other columns say nothing about what "all the others together" reach
# Number columns this correlated (|Spearman|) move together: each is judged against the others without its twins,
# or two counters that both grew after the win (a snapshot's sessions and pageviews) each hide the other
TWIN_CORRELATION = 0.8
# A yes/no column follows another when one of its values comes (almost) only with one value of the other: among its
# rows the other's other value is at most this share of what chance would put there (an e-mail opened or bounced
# only where one was sent; a bounced one never opened). Such columns move together as twins do, though a yes/no
# pair's |Spearman| stays low (0.15-0.31 for Apollo's Email Sent, Open, Bounced), and are judged apart alike.
FOLLOWS_RATIO = 0.05
# All the other columns together below this say next to nothing: what removing a column costs the model is then its
# own signal, not evidence that it combines with the others as a post-contact field does (the lift's drop rule)
OTHERS_SAY_SOMETHING_AUC = 0.55

# Bare calendar parts: a column named only so says when something happened, not what (in a contact export, the
# last contact's "month" and "day_of_week"); a lead's own moment is named ("Created Month").
CALENDAR_PARTS = (
    "month",
    "mon",
    "monat",
    "day",
    "day_of_week",
    "weekday",
    "wochentag",
    "dow",
    "week",
    "hour",
    "stunde",
)
# A score or grade another system keeps (marketing automation's lead score may count sales' touches too).
SCORE_WORDS = ("score", "scoring", "grade", "grading", "index")
# Names (snake_case) of outreach done *to* the lead by sales, yes/no or counted: e-mails a sequence sent or that
# bounced, a lead contacted or called, a demo or meeting held ("Demoed"), and the lead's reply to it ("Replied"). Sales
# work, never an outcome: the leads sales never reached would all read lost (an Apollo export's "Replied" taken as
# the outcome, with "Email Sent" beside it, scored every new prospect 0.001). Not the lead's own request ("Demo
# requested"), nor a marketing tool's e-mails and their opens or clicks (its sends are marketing's, _NOT_SALES_NAME).
OUTREACH_WORDS = (
    r"(e_?)?mails?_(sent|bounced)|(messages?|sequences?|inmails?|outreach)_(sent|bounced)|bounced|"
    r"contacted|called|demoed|demo_(completed|held|given|done|delivered)|meetings?_(held|completed|done)|"
    r"replied|replies|"
    # a sales engagement tool's work (Outreach, Salesloft, Apollo): its outreach, sequences or cadences and their
    # steps, touches and dials, a discovery call; not marketing's "touchpoints" nor a campaign's "Responded"
    r"outreach_(stage|status|step|sequences?|sent|bounced|replied|owner)|(responded|replied)_to_outreach|"
    r"(sales|email|outreach|sdr|bdr)_(sequences?|cadences?)|(sequence|cadence)_(step|name|status|stage)|"
    r"sales_touch(es|_count)|dials|dialed|dial_attempts|discovery_(calls?|meetings?|done|held|completed|date|notes|outcome)"
)
OUTREACH_NAME = re.compile(rf"(^|_)({OUTREACH_WORDS})(_|$)")
# Names (snake_case) that speak of work sales does after contact, in English and German. A name alone never
# stops training (an honest "Lead Source" must pass): it counts with data evidence, or as inspect's proposal.
SALES_NAME = re.compile(
    r"(^|_)(status|stage|phase|tags?|quality|qualitaet|owner|besitzer|inhaber|rep|sales_?rep|agent|assigned|"
    # the rep by other names: Odoo's Salesperson, Bitrix24's Responsible person, French and Spanish owners
    r"salesperson|responsible|responsable|proprietaire|propietario|vendedor|vendeur|"
    # Spanish "Comercial" (Odoo's Salesperson), "Equipo de ventas" (its sales team)
    r"comercial|equipo_de_ventas|"
    r"assignee|zugewiesen|zugeordnet|betreuer|bearbeiter|verantwortlich[a-z]*|disposition|rating|bewertung|"
    rf"einstufung|{'|'.join(SCORE_WORDS)}|temperature|priority|prioritaet|probability|"
    # a deal's probability in French, Italian, Spanish, Portuguese, Dutch, Polish (Probabilité, Probabilità,
    # Probabilidad, Probabilidade, Waarschijnlijkheid, Prawdopodobieństwo); a deal in French and Spanish (Pipedrive's
    # "Titre de l'affaire", "Título del trato"; not a company's "chiffre d'affaires": _NOT_SALES_NAME)
    r"probabilit[ae]|probabilidade?|waarschijnlijkheid|prawdopodobienstwo|affaires?|trato|"
    # a deal's name in Portuguese and Spanish ("Nome do negócio", "Nombre del negocio"; not a "Tipo de negocio")
    r"(nome|titulo|nombre)_d[oe]l?_negocio|"
    # an Italian lead's or deal's status (Zoho's "Stato lead"; a bare "Stato" is a country or a state)
    r"stato_(del_)?(lead|contatto|trattativa|opportunita)|"
    # ... a Spanish, Portuguese or French one (HubSpot's "Estado del lead", "Statut du lead"; bare "Estado": a state)
    r"estado_(del?_|do_|da_)?(lead|contacto|contato|prospecto|negocio|oportunidad|oportunidade|trato)|"
    r"statut_(du_|de_la_|de_l_)?(lead|prospect|contact|affaire|opportunite)|"
    # why sales disqualified or lost it, in Spanish, Portuguese, Italian, French, Dutch, Polish ("Motivo de
    # descalificación", "Motivo da perda"; not a lead's own "Motivo de compra")
    r"motivo_(de_|da_|do_|del_|della_|di_)?(descalificacion|desqualificacao|perdida|perda|rechazo|rejeicao|perdita|"
    r"squalifica|rifiuto|cierre|fechamento)|raison_(de_la_|du_|de_)?(perte|disqualification|rejet)|"
    r"reden_(van_)?(verlies|afwijzing|diskwalificatie)|powod_(odrzucenia|utraty|dyskwalifikacji)|"
    r"wahrscheinlichkeit|forecast|prognose|profile|profil|calls?|call_[a-z]+|anruf[a-z]*|telefonat[a-z]*|"
    # "Last Activity" bare is sales' (Salesforce's last task, HubSpot's last logged call or meeting); one named for
    # a kind ("Last Notable Activity", "Last Web Activity") is the lead's own, as marketing automation records it.
    r"last_activit[a-z]*|letzte_?aktivitaet|last_(contact|touch|call|action|modified)[a-z_]*|"
    # the activities sales logged or planned on a deal (Pipedrive's Done activities, Activities to do, Next
    # activity date, Email messages count)
    r"(done|completed|planned|open)_activit[a-z]*|activities_to_do|next_activit[a-z]*|email_messages_count|"
    # the CRM user who keyed in or last edited the record (Zoho's and Salesforce's "Created By", "Modified By"): a
    # rep who keyed a lead in had already spoken to it
    r"(created|modified|updated|changed|edited)_by|(erstellt|angelegt|geaendert|bearbeitet)_von|"
    r"letzter_?kontakt|closed?|closing|close_[a-z]+|won|lost|gewonnen|verloren|abschluss[a-z]*|amount|betrag|"
    # a deal's value or amount in German, Dutch, French, Spanish, Portuguese, Italian (Wert, Dealwert, Waarde,
    # Dealwaarde, Bedrag, Montant, Valor, Importe, Valore): the sum sales quoted, as "Deal - Value" or "Amount"
    r"wert|dealwert|waarde|dealwaarde|bedrag|montant|valor|valeur|importe|valore|"
    r"deal_?(value|size|amount)|est_(value|close[a-z_]*|revenue)|estimated_(value|revenue|amount|close[a-z_]*)|"
    # a rep's expected revenue (Odoo's "Expected Revenue", Spanish "Ingreso esperado", French "Revenu attendu")
    r"expected_(revenue|value|amount)|(ingreso|valor|revenu|ricavo|receita|montant)_"
    r"(esperad[oa]|previst[oa]|attendu|atteso|prevu)|"
    r"opportunit[a-z]*|reason|grund|disqualif[a-z]*|qualifi[a-z]*|next_step|"
    r"follow_?up|nachfass[a-z]*|wiedervorlage|lead_level|converted_[a-z]+|sales_[a-z]+|deals?|manager|notes|"
    rf"{OUTREACH_WORDS}|"
    # what a rep types into a record: notes, remarks, comments (German Notiz, Bemerkung, Anmerkung, Kommentar)
    r"notiz(en)?|bemerkung(en)?|anmerkung(en)?|kommentare?|(internal|sales|rep|agent|call|interne?)_(comments?|remarks?)|"
    r"contact_(attempts?|result|outcome|count)|number_of_contacts|times_contacted|call_duration|talk_time|"
    # an opportunity's fields that sales keep (Salesforce's Push Count, Has Line Item, Main Competitor(s),
    # Fiscal Period of the close date; HubSpot's and Dynamics' like them)
    r"competitors?|wettbewerber|konkurrenten?|push_count|pushed|line_items?|fiscal_(period|quarter)|"
    # a rep's mark on a record (Pardot's Is Starred, Is Reviewed)
    r"starred|is_reviewed|reviewed_by|"
    # the qualification fields of Dynamics 365's lead (Purchase Timeframe, Purchase Process; German Kaufzeitrahmen,
    # Kaufprozess) and a BANT field. Not a bare budget, need, timeline or decision maker: forms ask for those too
    # (the demo export's budget_stated), and the lift test sees one that sales typed
    r"purchase_time_?frame|purchase_process|kaufzeitrahmen|kaufprozess|bant|"
    # what sales confirmed or granted: a BANT item confirmed, a trial extended (a demo or meeting held: outreach)
    r"(budget|authority|need|timeline|timing|decision_maker)_(confirmed|identified|verified|validated)|"
    r"trial_extended|extended_trial|"
    # the lead passed to sales (the MQL decision the score is to make, and what sales did with it)
    r"(handed|passed|sent|routed|transferred)_(over_)?to_sales|hand_?off|handover|"
    # an offer or quote sales sent and its sum ("Angebotssumme", "Quote Amount"); not a lead's "Request a Quote" or
    # "Angebotsanfrage", nor a newsletter's offers
    r"(quote|quotation|proposal|contract)_(amount|value|total|sent|signed|date|status)|agreement_(amount|value)|angebots?(summe|betrag|wert|datum|nummer|status)|"
    r"angebot_(versendet|gesendet|erstellt)|"
    # Dutch, Portuguese, Polish, Italian: the rep (Eigenaar, Accountmanager, Dono do lead, Responsável, Opiekun,
    # Handlowiec, Proprietario), calls (Aantal gesprekken, Ligações, Chamadas, Połączenia, Chiamate) and notes
    # (Notities, Opmerkingen, Observações, Anotações, Notatki, Uwagi)
    r"eigenaar|accountmanager|verantwoordelijke|verkoper|dono|responsavel|opiekun|handlowiec|wlasciciel|"
    r"proprietario|venditore|gesprek(ken)?|ligacoes|chamadas|polaczenia|rozmowy|chiamate|notitie(s)?|opmerking(en)?|"
    r"observac(ao|oes)|anotac(ao|oes)|notatk[ia]|uwagi|"
    # Swedish, Danish, Norwegian, Finnish, Czech, Turkish: the rep (Ansvarig säljare, Ejer, Eier, Myyjä, Obchodník,
    # Satış temsilcisi, Sorumlu), calls (Antal samtal, Opkald, Puhelut, Hovory, Aramalar), notes (Anteckningar, Noter,
    # Notater, Muistiinpanot, Poznámky, Notlar), a deal's probability (Sannolikhet, Sandsynlighed, Todennäköisyys,
    # Pravděpodobnost, Olasılık)
    r"ansvarig|saeljare|ejer|eier|myyjae|vastuuhenkilo|obchodnik|sorumlu|temsilci[a-z]*|samtal|opkald|puhelut|hovory|"
    r"aramalar|arama_sayisi|puhelu[a-z]*|hovor[a-z]*|anteckningar|noter|notater|muistiinpanot|poznamky|notlar|sannolikhet|sandsynlighed|sannsynlighet|"
    r"todennaekoeisyys|pravdepodobnost|olasilik|"
    # Russian: the rep (Ответственный, Менеджер), calls (Звонки, Количество звонков), notes (Комментарий,
    # Примечание, Заметки), a deal's probability (Вероятность)
    r"otvetstvennyy|menedzher|zvonk[a-z]*|zvonok|kommentari[a-z]*|primechani[a-z]*|zametki|veroyatnost)(_|$)"
    # ... and as the whole name, where the word alone is ambiguous ("Fase de compra", "Avaliação do produto",
    # "Product Note", "Creator Tier"): the stage (Fase, Etapa, Étape, Etap), a rating (Beoordeling, Avaliação, Ocena,
    # Valutazione), a bare note, the Pipedrive deal's Creator
    r"|^(fase|etapa|etape|etap|beoordeling|avaliacao|ocena|valutazione|note|(deal_|lead_|person_)?creator|"
    # ... a rating or stage in Swedish, Danish, Norwegian, Finnish, Czech, Turkish: Betyg, Vurdering, Arvio,
    # Hodnocení, Değerlendirme, Etapp, Vaihe, Fáze, Aşama
    r"betyg|vurdering|arvio|hodnoceni|degerlendirme|derecelendirme|etapp|vaihe|faze|asama|"
    # ... in Russian: Стадия, Оценка, Рейтинг
    r"stadiya|otsenka|reyting)$"
    # A span of the deal's own way through the pipeline, or its count of moves (IBM's sales win-loss sample:
    # "Elapsed Days In Sales Stage", "Total Days Identified Through Closing", "Ratio Days Validated To Total Days",
    # "Sales Stage Change Count"): it grows as sales works the deal
    r"|(?:^|_)((?:elapsed|days?|weeks?|hours?|time|duration|ratio)_(?:[a-z]+_)*"
    r"(?:stages?|identified|validated|(?<!marketing_)qualified|closing|pipeline|phase|funnel))(?:_|$)"
    r"|(?:^|_)(stages?_(?:[a-z]+_)*(?:days?|duration|age|changes?|count|moves?))(?:_|$)"
    # Bare, a duration or a contact is the call's ("Duration", "dur"); "Administrative_Duration" is a web session's.
    r"|^(duration|dur|contact)$"
    # Bare, a call's result or a count of sales' attempts ("Reached", "Connected", "Attempts", "Meetings")
    r"|^(reached|connected|attempts|(number_of_)?meetings|meetings?_count)$"
    rf"|^({'|'.join(CALENDAR_PARTS)})$"
    # German compounds carry the word inside ("Leadbesitzer", "Anrufergebnis", "Vertriebsphase").
    r"|(besitzer|inhaber|betreuer|bearbeiter|bewertung|einstufung|anruf|telefonat|gespraech|vertrieb|verkaeufer|verkaufs|notiz|"
    r"wiedervorlage|abschluss|kontaktversuch)|[a-z](status|phase)$"
)
# Names that read as a sales word yet are the lead's own answer or attribute: objections and consents ("Do Not
# Call"), a person's status ("Employment Status"), a browser's user agent.
_NOT_SALES_NAME = re.compile(
    r"(^|_)(do_not|dont|opt_?in|opt_?out|consent|einwilligung|user_agent|"
    # the channel a lead or policy is sold through (direct, broker, partner): known when the lead comes in
    r"sales_channels?|vertriebskanal|vertriebsweg|verkaufskanal|"
    r"(marital|employment|job|work|family|civil|student|familien|beschaeftigungs?)_status|"
    # a subscription's state is the lead's own choice (Pipedrive's "Marketing status", HubSpot's e-mail status)
    r"(marketing|subscription|newsletter|e_?mail|mailing|abo|abonnement)_status|"
    # a marketing tool's e-mails (HubSpot's "Marketing emails bounced"; Pardot's "Is Email Hard Bounced", a welcome
    # e-mail sent at sign-up): marketing's sends and their delivery, not sales'
    r"marketing_(e_?)?mails?|(hard|soft)_bounced?|welcome_(e_?)?mails?|"
    # the company's funding (Apollo's "Latest Funding Amount", Crunchbase's "Total Funding Amount", "Amount Raised"):
    # a firmographic fact of the enrichment, not a deal's amount
    r"funding|fundraising|finanzierung|amount_raised|raised_amount|"
    # the company's turnover, whatever word for value or amount stands beside it ("Valor de facturación anual",
    # "Jahresumsatz Wert", "Montant CA annuel"): firmographic
    r"(jahres)?umsatz|(jaar)?omzet|facturacion|fatturato|faturamento|chiffre_d_affaires|ca_annuel|"
    # the company's trade or line of business, not its salesperson ("Actividad comercial", "Nombre comercial")
    r"(actividad|nombre|sector|registro|razon)_comercial)(_|$)"
    # the territory a lead is routed to by where it is, when it comes in (Marketo's, Salesforce's Sales Region);
    # not its owner ("Sales Region Owner")
    r"|(^|_)(sales_(regions?|territor(y|ies)|areas?|districts?)|vertriebs(gebiet|region)|verkaufsgebiet)$"
)
# Names that say who the lead or its company is: known when the lead comes in, and often the strongest honest
# signal (a revenue is left out: a deal's is sales work).
WHO_THE_LEAD_IS_NAME = re.compile(
    r"(^|_)(employees?|employee_count|headcount|size|mitarbeiter(zahl|anzahl)?|unternehmensgroesse|"
    r"firmengroesse|groesse|industry|industries|sector|branche|country|land|city|stadt|ort|state_province|"
    r"state_or_province|province|region|bundesland|postal_code|zip|plz|title|position|job|jobtitel|department|"
    r"abteilung|seniority|occupation|beruf|founded|year_founded|gruendungsjahr|legal_form|rechtsform|"
    r"company_type|ownership)(_|$)"
)
# Values that speak of a sales contact: call outcomes, the lead's answer to a rep, the deal's end.
SALES_VALUE = re.compile(
    r"\b(?:ringing|switched off|not reachable|unreachable|nicht erreich[a-z]*|no answer|keine antwort|voicemail|"
    r"mailbox|call ?back|r[uü]ckruf|rueckruf|busy|besetzt|wrong number|falsche nummer|will revert|"
    r"closed by|closed won|closed lost|lost to|won|lost|gewonnen|verloren|not interested|kein interesse|"
    r"interested in other|phone conversation|telefonat|contacted|kontaktiert|attempted|qualified|"
    r"unqualified|disqualified|qualifiziert|nurtur[a-z]*|follow ?up|meeting (?:booked|scheduled)|"
    r"termin vereinbart|proposal sent|angebot versendet|negotiation|verhandlung|already a student|"
    r"not eligible|junk lead|"
    # a rep's note of a call or meeting, in English and German ("Spoke with Mr. Lee", "Nicht erreicht, erneut
    # versuchen", "Mit Hr. Schulz gesprochen", "Angebot verschickt")
    r"left (?:a )?(?:message|voicemail)|spoke (?:with|to)|called (?:back|twice|again)|quote sent|sent (?:a )?quote|"
    r"demo (?:done|held|given|completed)|angerufen|anruf (?:am|bei)|gesprochen|erneut versuchen|"
    r"angebot (?:verschickt|gesendet|geschickt|erstellt)|demo (?:durchgef[uü]hrt|gezeigt)|"
    # a call's result in French, Italian, Spanish, Portuguese and Dutch (no answer, voicemail, call back, busy,
    # wrong number, not interested)
    r"injoignable|ne r[ée]pond pas|messagerie vocale|r[ée]pondeur|[àa] rappeler|rappel pr[ée]vu|pas int[ée]ress[ée]e?|"
    r"(?:faux|mauvais) num[ée]ro|non risponde|richiamare|segreteria telefonica|irraggiungibile|non interessat[oa]|"
    r"numero (?:errato|sbagliato)|no contesta|volver a llamar|buz[oó]n de voz|ilocalizable|no interesad[oa]|"
    r"n[uú]mero (?:equivocado|err[oó]neo|errado)|n[ãa]o atende|caixa postal|sem interesse|retornar liga[çc][ãa]o|"
    r"niet bereikbaar|terugbellen|geen interesse|verkeerd nummer|"
    # a lead sales recycled to nurture, or put in a sales sequence ("Nurture Track - Recycled", "Sales Sequence Q1")
    r"recycled|recycle|recycl[ée]e?|recycelt|zur[uü]ckgestellt|zurueckgestellt|"
    r"sales (?:sequences?|cadences?|outreach)|"
    # ... in French, Spanish, German: "Séquence SDR - relance J+3", "A recontacter T3", "Volver a contactar"
    r"s[ée]quence (?:sdr|commerciale|de prospection)|secuencia (?:sdr|comercial)|[àa] recontacter|recontacter|"
    r"relance (?:j ?\+ ?\d+|commerciale|t[ée]l[ée]phonique)|volver a contactar|erneut kontaktieren|nachfassen)\b"
    # a rep's temperature of the lead, as the whole value (Hot, Warm, Cold; Heiß, Kalt; Chaud, Froid ...)
    r"|^\s*(?:hot|warm|cold|hei(?:ß|ss)|kalt|chaud|ti[èe]de|froid|caldo|tiepido|freddo|caliente|tibio|fr[ií]o|heet|"
    r"koud|quente|morno)\s*$",
    re.IGNORECASE,
)
MIN_SALES_VALUES = 2  # distinct values that speak of sales contact: one "Lost" might be a lead's own answer
# Of a column's filled-in rows, the share those values need: two rare call results among a lead's web and e-mail
# activities do not make the column sales work (its name or the data's other evidence may).
MIN_SALES_VALUE_SHARE = 0.05


@dataclass(frozen=True)
class OneOutcomeValue:
    """A value (or "(filled in)" / "(empty)") whose leads (almost) all had one outcome, beyond chance."""

    value: str
    rows: int  # labelled leads with the value
    won: int
    outcome: Literal["won", "lost"]
    p_value: float  # one-sided binomial test against the base rate, before the Bonferroni correction

    @property
    def rate(self) -> float:
        return self.won / self.rows


@dataclass(frozen=True)
class OneOutcomeEvidence:
    """The one-outcome values of a column and the shares of the won and lost leads they cover."""

    values: tuple[OneOutcomeValue, ...]
    won_share: float  # of the won leads, those with a won-only value
    lost_share: float  # of the lost leads, those with a lost-only value
    base_rate: float
    presence_share: float = 0.0  # of its outcome's leads, covered by a one-outcome "(filled in)" or "(empty)"

    @property
    def share(self) -> float:
        """Of all labelled leads, those with a value (almost) only one outcome has."""
        if math.isnan(self.base_rate):
            return 0.0
        return self.won_share * self.base_rate + self.lost_share * (1.0 - self.base_rate)

    def flags(self, policy: LeakagePolicy) -> bool:
        """Whether such values cover a material share: by presence alone, of the won leads, or of all leads with
        values for both outcomes.

        Values that (almost) only lost leads have are no evidence on their own: honest negative signals (students,
        purchased lists) are that strong where few leads convert. A column that says won for some leads and lost
        for others (a status, tags, a sales rating), or that holds the won ones, is.
        """
        both = self.won_share > 0 and self.lost_share > 0
        return (
            self.presence_share >= policy.min_presence_share
            or self.won_share >= policy.min_one_outcome_class_share
            or (both and self.share >= policy.min_one_outcome_share)
        )


def value_groups(values: pd.Series) -> dict[str, np.ndarray]:
    """The groups of rows (masks by position) the one-outcome test looks at.

    Every column: "(filled in)" and "(empty)" (a column filled only for won leads is caught by its presence,
    however its values vary); and each value with at least ``MIN_SUPPORT`` rows (numbers too: a probability
    set to 100 on won deals and 0 on lost ones). Groups that hold every row say nothing and are left out.
    """
    missing = values.isna().to_numpy()
    numbers = _as_numbers(values)
    keys = numbers if numbers is not None else _as_categories(values).to_numpy()
    counts = pd.Series(keys[~missing]).value_counts()
    # A continuous number's extremes are no values anyone set: only numbers with few values are tested each,
    # and a continuous number's spikes (an amount of 0 on every lost deal).
    few = numbers is None or len(counts) <= MAX_NUMBERS_TESTED
    tested = counts if few else counts[counts >= MIN_SPIKE_SHARE * counts.sum()]
    frequent = tested[tested >= MIN_SUPPORT].head(MAX_VALUES_TESTED)
    groups = {FILLED_IN: ~missing, EMPTY: missing}
    groups |= {_value_label(value): keys == value for value in frequent.index}
    return {name: mask for name, mask in groups.items() if MIN_SUPPORT <= mask.sum() < len(mask)}


def one_outcome_values(
    groups: Mapping[str, np.ndarray], y: np.ndarray, alpha: float, policy: LeakagePolicy
) -> OneOutcomeEvidence:
    """The groups whose labelled leads (almost) all had one outcome, with support that rules out chance.

    A group is one-outcome when at least ``policy.min_purity`` of it had one outcome *and* it keeps at most
    ``policy.max_impurity_ratio`` of the other outcome's base share (at a 3% base rate, 97% lost is no news),
    and a one-sided binomial test against the base rate gives a p-value at most ``alpha`` (the caller divides
    the significance by the number of values tested). Unlabelled rows (NaN) are ignored.
    """
    labels = np.asarray(y, dtype=float)
    won, lost = labels == 1.0, labels == 0.0
    n_won, n_lost = int(won.sum()), int(lost.sum())
    covered = {"won": np.zeros(len(labels), dtype=bool), "lost": np.zeros(len(labels), dtype=bool)}
    if not n_won or not n_lost:
        return OneOutcomeEvidence((), 0.0, 0.0, math.nan)
    base = n_won / (n_won + n_lost)
    found: list[OneOutcomeValue] = []
    for name, mask in groups.items():
        rows, won_rows = int((mask & (won | lost)).sum()), int((mask & won).sum())
        outcome = _pure_outcome(won_rows, rows, base, policy) if rows >= MIN_SUPPORT else None
        if outcome is None:
            continue
        p_value = float(binom.sf(won_rows - 1, rows, base) if outcome == "won" else binom.cdf(won_rows, rows, base))
        if p_value <= alpha:
            found.append(OneOutcomeValue(name, rows, won_rows, outcome, p_value))
            covered[outcome] |= mask & (won if outcome == "won" else lost)
    ordered = tuple(sorted(found, key=lambda value: -value.rows))
    # A column filled in (almost) only for one outcome is; one empty only for won leads too. One empty (almost)
    # only for lost leads is not: honest fields go unanswered by the junk leads that never buy.
    presence = [
        value.won / n_won if value.outcome == "won" else (value.rows - value.won) / n_lost
        for value in found
        if value.value == FILLED_IN or (value.value == EMPTY and value.outcome == "won")
    ]
    won_share, lost_share = covered["won"].sum() / n_won, covered["lost"].sum() / n_lost
    return OneOutcomeEvidence(ordered, float(won_share), float(lost_share), base, max(presence, default=0.0))


def _pure_outcome(won: int, rows: int, base: float, policy: LeakagePolicy) -> Literal["won", "lost"] | None:
    rate = won / rows
    if rate >= policy.min_purity and 1.0 - rate <= policy.max_impurity_ratio * (1.0 - base):
        return "won"
    if 1.0 - rate >= policy.min_purity and rate <= policy.max_impurity_ratio * base:
        return "lost"
    return None


def lift_beyond_others(
    features: pd.DataFrame,
    y: np.ndarray,
    train_mask: np.ndarray,
    columns: list[str] | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """Per column (``columns``, default all): the held-out AUC of a quick model on all the *other* columns, and of
    the model on every column.

    A small LightGBM (40 trees) is fitted on the labelled training rows and judged on the labelled evaluation
    rows (each sampled to ``LIFT_MAX_ROWS``): one model on every column, then one per column without it. A
    column whose single AUC reaches what all the others reach together, or without which the model loses much,
    is known too well. Index: the column names as text; columns ``others_auc``, ``full_auc`` (NaN when it
    cannot be measured: too few other columns, or one class only among the rows).
    """
    labels, train, evaluation = _labelled_split(y, train_mask, len(features))
    names = [str(column) for column in features.columns]
    chosen = names if columns is None else [name for name in names if name in set(columns)]
    result = pd.DataFrame(
        {"others_auc": math.nan, "full_auc": math.nan, "without": ""}, index=pd.Index(chosen, dtype=object)
    )
    if len(names) <= LIFT_MIN_OTHER_COLUMNS or _one_class(labels[train]) or _one_class(labels[evaluation]):
        return result
    rng = np.random.default_rng(random_state)
    fit_rows, judge_rows = (_sample(np.flatnonzero(mask), LIFT_MAX_ROWS, rng) for mask in (train, evaluation))
    frame = _model_frame(features)
    X_fit, X_judge = frame.iloc[fit_rows], frame.iloc[judge_rows]
    y_fit, y_judge = labels[fit_rows], labels[judge_rows]
    if _one_class(y_fit) or _one_class(y_judge):
        return result
    result["full_auc"] = _quick_auc(X_fit, y_fit, X_judge, y_judge, random_state)
    twins = _number_twins(X_fit)
    for position, found in _yes_no_twins(X_fit, [names.index(name) for name in chosen]).items():
        twins[position] = sorted({*twins.get(position, ()), *found})
    for name in chosen:
        position = names.index(name)
        kept = [i for i in range(len(names)) if i != position and i not in twins.get(position, ())]
        if len(kept) < LIFT_MIN_OTHER_COLUMNS:  # twins of nearly every column: judged against all the others
            kept = [i for i in range(len(names)) if i != position]
        result.loc[name, "without"] = ", ".join(repr(names[i]) for i in twins.get(position, ()) if i not in kept)
        result.loc[name, "others_auc"] = _quick_auc(
            X_fit.iloc[:, kept], y_fit, X_judge.iloc[:, kept], y_judge, random_state
        )
    return result


def _number_twins(frame: pd.DataFrame) -> dict[int, list[int]]:
    """Per position of a number column of ``frame`` (``_model_frame``'s: numbers as floats), the positions of the
    number columns that move with it (|Spearman| at least ``TWIN_CORRELATION``)."""
    positions = [i for i in range(frame.shape[1]) if pd.api.types.is_float_dtype(frame.iloc[:, i])]
    if len(positions) < 2:
        return {}
    correlation = frame.iloc[:, positions].corr(method="spearman").abs().to_numpy()
    twins: dict[int, list[int]] = {}
    for row, position in enumerate(positions):
        found = [positions[other] for other in np.flatnonzero(correlation[row] >= TWIN_CORRELATION) if other != row]
        if found:
            twins[position] = found
    return twins


def _yes_no_twins(frame: pd.DataFrame, judged: list[int]) -> dict[int, list[int]]:
    """Per position in ``judged`` of a yes/no column of ``frame`` (two distinct values), the positions of the
    yes/no columns it follows or that follow it (``FOLLOWS_RATIO``): Email Open and Email Bounced follow Email
    Sent. Only the judged columns' pairs: a wide export's hundreds of yes/no columns are not paired each with each."""
    codes = {}
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        present = values.dropna().unique()
        if len(present) == 2:
            codes[position] = values.map({present[0]: 0.0, present[1]: 1.0}).astype(float).to_numpy()
    twins: dict[int, list[int]] = {}
    for a in (position for position in judged if position in codes):
        for b in codes:
            if b != a and (_follows(codes[a], codes[b]) or _follows(codes[b], codes[a])):
                twins.setdefault(a, []).append(b)
    return twins


def _follows(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a value of yes/no ``a`` (0.0/1.0, NaN unknown) comes (almost) only with one value of ``b``: among
    its rows (``MIN_SUPPORT`` or more) ``b``'s other value is at most ``FOLLOWS_RATIO`` of its share in all rows,
    where chance would put ``MIN_SUPPORT`` rows or more."""
    both = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[both], b[both]
    for value, other in itertools.product((0.0, 1.0), repeat=2):
        rows = a == value
        expected = float(np.mean(b == other)) * int(rows.sum())
        supported = rows.sum() >= MIN_SUPPORT and expected >= MIN_SUPPORT
        if supported and float(np.sum(b[rows] == other)) <= FOLLOWS_RATIO * expected:
            return True
    return False


def _sample(rows: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(rows, limit, replace=False)) if rows.size > limit else rows


def _model_frame(features: pd.DataFrame) -> pd.DataFrame:
    """Numbers as floats, everything else as pandas categories (LightGBM splits on them natively); the columns
    named by position, so that any column names (duplicates, symbols) suit LightGBM."""
    columns = {}
    for position in range(features.shape[1]):
        values = features.iloc[:, position].reset_index(drop=True)
        numbers = _as_numbers(values)
        columns[f"c{position}"] = numbers if numbers is not None else values.astype(object).astype("category")
    return pd.DataFrame(columns)


def _quick_auc(X_fit: pd.DataFrame, y_fit: np.ndarray, X_judge: pd.DataFrame, y_judge: np.ndarray, seed: int) -> float:
    import lightgbm as lgb  # a heavy import, only when the lift check runs

    # Few, small trees on one thread: a quick read of what the columns can do together, not a model to ship
    # (threads cost more than they save on a few thousand rows, and the machine may be busy).
    model = lgb.LGBMClassifier(
        n_estimators=40,
        learning_rate=0.1,
        num_leaves=15,
        min_child_samples=20,
        max_bin=63,
        random_state=seed,
        verbose=-1,
        n_jobs=1,
    )
    model.fit(X_fit, y_fit)
    scores = np.asarray(model.predict_proba(X_judge))[:, 1]
    return _auc(y_judge, scores)


# The record a column belongs to, as an export of several joined records prefixes it: Pipedrive's "Deal - Source",
# "Person - Email", "Organization - Number of employees"
RECORD_PREFIX = re.compile(r"^\s*(deal|lead|person|organi[sz]ation|org|contact|company|account)\s+-\s+", re.IGNORECASE)
# ... of a record other than the deal or lead itself
RELATED_RECORD_PREFIX = re.compile(r"^\s*(person|organi[sz]ation|org|contact|company|account)\s+-\s+", re.IGNORECASE)


def sales_words_in_name(column: str) -> str | None:
    """The word of the column's name that speaks of sales work ("status", "owner", "anruf"...), or None. A record's
    prefix ("Deal - Source") is no such word; "Deal - Value" still is (a deal's value)."""
    name = to_snake_case(column)
    if _NOT_SALES_NAME.search(name):
        return None  # "Do Not Call" is the lead's wish, not a call sales made
    match = SALES_NAME.search(name)
    word = next((word for word in match.groups()[1:] if word), None) if match else None
    prefix = RECORD_PREFIX.match(column)
    if word in ("deal", "deals") and prefix:
        return sales_words_in_name(column[prefix.end() :])
    return word


def is_outreach(column: str) -> bool:
    """Whether the column's name records outreach done to the lead by sales (``OUTREACH_NAME``: "Email Sent",
    "Email Bounced", "Contacted", "Demoed", "Replied"): sales work, and never an outcome."""
    name = to_snake_case(RECORD_PREFIX.sub("", column))
    return bool(OUTREACH_NAME.search(name)) and not _NOT_SALES_NAME.search(name)


def says_who_the_lead_is(column: str) -> bool:
    """Whether the column's name says who the lead or its company is (size, industry, country, title...) and
    nothing of sales work."""
    name = to_snake_case(column)
    return bool(WHO_THE_LEAD_IS_NAME.search(name)) and sales_words_in_name(column) is None


def sales_words_in_values(values: pd.Series) -> list[str]:
    """The column's distinct values that speak of a sales contact ("Ringing", "Closed by ...", "Rückruf"), where
    they are at least ``MIN_SALES_VALUE_SHARE`` of its filled-in rows (else none)."""
    if _as_numbers(values) is not None:
        return []
    filled = values.dropna().astype(str)
    counts = filled.value_counts()
    said = counts[counts.index.str.contains(SALES_VALUE)]
    if said.sum() < MIN_SALES_VALUE_SHARE * len(filled):
        return []
    return sorted(said.index.tolist(), key=str.casefold)


def shown_sales_values(values: pd.Series, said: list[str]) -> list[str]:
    """The values of ``said`` (:func:`sales_words_in_values`) as evidence may show them: whole where a value
    repeats, is a word or two or the sales phrase alone and holds no personal data (a picklist's "Ringing", "Busy":
    no one's note), else only its words of sales contact ("... gesprochen ..." for "Mit Hr. Schulz gesprochen",
    "... closed by ..." for "Closed by Horizzon")."""
    counts = values.dropna().astype(str).value_counts()
    shown = []
    for value in said:
        found = SALES_VALUE.search(value)
        # whole: a picklist's word or two ("Ringing", "switched off") or its phrase alone ("already a student"); a
        # longer value may name someone ("left a message for anna meier"), which no name test finds in lower case
        short = len(value.split()) <= 2 or (found is not None and found.group().strip() == value.strip())
        whole = counts.get(value, 0) >= PICKLIST_REPEATS and short and personal_kind(value) is None
        shown.append(value if whole or found is None else f"... {found.group()} ...")
    return list(dict.fromkeys(shown))


PICKLIST_REPEATS = 5  # a value this many leads hold is a choice from a list, not one lead's note


def _value_label(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return f"'{value}'"


# ---------------------------------------------------------------------------------------------------------
# The whole check


def check_leakage(
    features: pd.DataFrame,
    y: np.ndarray,
    train_mask: np.ndarray,
    policy: LeakagePolicy,
    date_columns: Mapping[str, pd.Series] | None = None,
    outcome_at: pd.Series | None = None,
    lift: bool = True,
    created_at: pd.Series | None = None,
    untouched: Untouched | None = None,
    kept_out: Collection[str] = (),
    named: Mapping[str, str] | None = None,
    arrived_at: pd.Series | None = None,
    open_leads: np.ndarray | None = None,
    feature_groups: Mapping[str, str] | None = None,
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
        lift: run the lift check (a quick model per column); off where a few seconds matter more.
        created_at: when each lead came in; with ``outcome_at``, a number that is the days between them (an
            "Age" counted to the close) is a leak.
        untouched: the leads sales has not touched yet: a column filled for the labelled leads it worked but not
            for these is a leak (:func:`filled_after_contact`).
        kept_out: columns measured but kept out of the model already (``inspect``'s proposals by name): never
            among "all the others" a column's lift is compared with.
        arrived_at: when each lead came in, to find a number that is an open lead's age at the export
            (:func:`days_to_the_export`); ``open_leads``: the leads still open in any quarter (default: ``y``'s
            unlabelled ones).
        named: the export column whose name speaks for a candidate, where it is not the candidate's own (the options
            of a multi-select column, "Tags: Webinar" -> "Tags"): the checks of a name read that column's.
        feature_groups: each candidate's group as the mapping gives it (fit or engagement); absent: guessed by name.

    The evidence, per column: its single-feature and missingness AUCs above their limits; values of (almost)
    one outcome covering a material share of the won or lost leads (:func:`one_outcome_values`); a single AUC
    at the level of all the other columns together, or a large loss without it (:func:`lift_beyond_others`);
    and a name or values that speak of sales work (:func:`sales_words_in_name`), which count only together
    with data evidence (one of the above, or a strong single AUC).

    Fewer than ``policy.min_rows`` labelled rows (or rows with both dates, for the date check) skip the check
    with a note instead of judging on noise.
    """
    labels, train, evaluation = _labelled_split(y, train_mask, len(features))
    speaks_for = dict(named or {})
    auc_note = _auc_skip_note(labels, train, evaluation, policy.min_rows)
    measured: dict[str, dict[str, float]] = {}
    candidates: list[Finding] = []
    judged = auc_note is None
    aucs = {str(c): _measure_aucs(features[c], labels, train_mask) if judged else _nan_aucs() for c in features.columns}
    groups = {str(column): value_groups(features[column]) for column in features.columns} if judged else {}
    alpha = policy.significance / max(1, sum(len(found) for found in groups.values()))  # Bonferroni
    pures = {name: one_outcome_values(groups[name], labels, alpha, policy) for name in groups}
    for column in features.columns:
        name = str(column)
        candidates += _auc_findings(name, features[column], labels, train, evaluation, aucs[name], policy)
        measured[name] = _empty_measures() | aucs[name]
    # The lift compares a column with the columns no other evidence flags: a second leak among "all the others"
    # would reach what the column reaches and hide it. Only a column of some strength alone can be a finding.
    unmeasured = (math.nan, math.nan, math.nan)
    flagged = {finding.column for finding in candidates} | {
        finding.column
        for column in (features.columns if judged else ())
        for finding in _evidence_findings(
            str(column),
            features[column],
            pures[str(column)],
            aucs[str(column)]["single_feature_auc"],
            unmeasured,
            math.nan,
            policy,
            named=speaks_for.get(str(column)),
        )
    }
    unflagged = [column for column in features.columns if str(column) not in flagged | set(kept_out)]
    floor = min(policy.min_lift_auc, policy.min_drop_auc)
    strong = [str(c) for c in unflagged if aucs[str(c)]["single_feature_auc"] >= floor]
    lifts = lift_beyond_others(features[unflagged], labels, train_mask, strong) if judged and lift and strong else None
    margin = max(policy.lift_margin, _auc_noise(labels[evaluation])) if judged else math.nan
    for column in features.columns if judged else ():
        name, values = str(column), features[column]
        lift_auc = _lift_measures(name, values, labels, train_mask, lifts)
        measured[name] |= {"one_outcome_share": pures[name].share, "others_auc": lift_auc[1]}
        single = aucs[name]["single_feature_auc"]
        without = _twins_left_out(name, lifts)
        candidates += _evidence_findings(
            name, values, pures[name], single, lift_auc, margin, policy, without, speaks_for.get(name)
        )

    untouched_note = ""
    if untouched is None or int(untouched.leads.sum()) < policy.min_rows:
        counted = (created_at is not None and outcome_at is not None) or arrived_at is not None
        untouched_note = _no_control_group_note(policy.min_rows, days_counted=counted)
    if untouched is not None:
        fresh = untouched.leads
        closed = ~np.isnan(labels) if untouched.closed is None else untouched.closed
        worked = worked_alongside(fresh, closed & ~fresh, untouched.created_at, policy.min_rows)
        if fresh.sum() >= policy.min_rows > worked.sum():
            untouched_note = (
                f"columns filled only after contact not judged against '{untouched.by}': {int(worked.sum())} leads "
                f"sales worked were created as recently as the untouched ones (at least {policy.min_rows} needed)"
            )
        for column in features.columns:
            says_sales = sales_words_in_name(speaks_for.get(str(column), str(column))) is not None
            filled, at_rest = filled_beyond_rest(features[column], fresh, policy.min_rows, says_sales)
            finding = filled_after_contact(str(column), filled, fresh, worked, untouched.by, policy, at_rest)
            speaking = speaks_for.get(str(column))
            group = (feature_groups or {}).get(str(column))
            grown = grown_after_contact(
                str(column), features[column], fresh, worked, untouched.by, policy, speaking, group
            )
            objected = None
            if is_objection(speaking or str(column)):
                said_yes = pd.to_numeric(features[column], errors="coerce").fillna(0).to_numpy() > 0
                objected = objected_after_contact(str(column), said_yes, fresh, worked, untouched.by, policy)
            candidates += [found] if (found := finding or grown or objected) else []
    if created_at is not None and outcome_at is not None:
        for column in features.columns:
            finding = _days_to_outcome_finding(str(column), features[column], created_at, outcome_at, policy)
            candidates += [finding] if finding else []
    if arrived_at is not None:
        still_open = np.isnan(labels) if open_leads is None else open_leads
        for column in features.columns:
            finding = days_to_the_export_finding(str(column), features[column], arrived_at, still_open, policy)
            candidates += [finding] if finding else []
    dates = dict(date_columns or {})
    date_notes: list[str] = []
    for column, values in dates.items():
        share, note = _measure_after_outcome(column, values, outcome_at, policy.min_rows)
        measured.setdefault(column, _empty_measures())["share_after_outcome"] = share
        date_notes += [note] if note else []
        finding = _after_outcome_finding(column, share, policy.max_share_after_outcome)
        candidates += [finding] if finding else []

    findings = tuple(finding for finding in candidates if finding.column not in policy.allowed)
    allowed = tuple(finding for finding in candidates if finding.column in policy.allowed)
    notes = [note for note in (auc_note, untouched_note) if note]
    notes += _dedupe(date_notes) + _unknown_allowed_notes(policy.allowed, measured)
    return LeakageReport(findings, allowed, _build_table(measured, findings, allowed), tuple(notes))


def _no_control_group_note(min_rows: int, days_counted: bool) -> str:
    """What the checks could not see where no leads are known to be untouched by sales (and, without creation and
    outcome dates, where no number was compared with the days they span)."""
    days = "" if days_counted else "; nor, without creation and outcome dates, a count of days against their span"
    return (
        f"no leads marked as not yet touched by sales (at least {min_rows} under an outcome's or stage's "
        f"untouched value): no column was compared between the leads sales worked and those it has not{days}. A "
        "number or category known only once sales works a lead (days in a stage, a ratio of such days, a rep's "
        "rating) passes unless its name or its strength gives it away: review every feature for whether a new "
        "lead has it, or export the new leads too and name the value they hold under untouched"
    )


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


def _empty_measures() -> dict[str, float]:
    return {key: math.nan for key in TABLE_COLUMNS if key != "status"}


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


def _auc_noise(labels: np.ndarray) -> float:
    """About two standard errors of an AUC on these rows (Hanley and McNeil's bound, at its worst): 0.02 on
    2,000 leads of each outcome, 0.1 on 100."""
    smaller = min(int((labels == 1.0).sum()), int((labels == 0.0).sum()))
    return 1.0 / math.sqrt(smaller) if smaller else math.inf


def _lift_measures(
    name: str, values: pd.Series, labels: np.ndarray, train_mask: np.ndarray, lifts: pd.DataFrame | None
) -> tuple[float, float, float]:
    """(the column's held-out single AUC, the others' AUC, the full model's AUC); NaN where not measured."""
    if lifts is None or name not in lifts.index:
        return math.nan, math.nan, math.nan
    others, full = lifts.loc[name, ["others_auc", "full_auc"]].to_numpy(dtype=float)
    return single_feature_auc(values, labels, train_mask), float(others), float(full)


def _twins_left_out(name: str, lifts: pd.DataFrame | None) -> str:
    """The columns that move with ``name``, left out of its others (quoted, joined; empty: none)."""
    return "" if lifts is None or name not in lifts.index else str(lifts.loc[name, "without"])


def _evidence_findings(
    column: str,
    values: pd.Series,
    pure: OneOutcomeEvidence,
    single: float,
    lift_auc: tuple[float, float, float],
    margin: float,
    policy: LeakagePolicy,
    without: str = "",
    named: str | None = None,
) -> list[Finding]:
    """The findings of the evidence beyond one AUC: one-outcome values, lift, and words of sales work.

    ``single`` is the column's single-feature AUC as the table shows it; ``lift_auc`` its held-out single AUC,
    the others' and the full model's (the lift compares held-out AUCs only); ``margin`` the lift's margin;
    ``without``: the columns that move with it, left out of the others; ``named``: the export column whose name
    speaks for it, where that differs (an option "Tags: Lead Scoring" of "Tags": the option names no sales work).
    """
    name = named or column
    found: list[Finding] = []
    if pure.flags(policy):
        found.append(
            Finding(
                column,
                "one_outcome_values",
                pure.share,
                policy.min_one_outcome_share,
                describe_one_outcome(column, pure),
            )
        )
    held_out, others, full = lift_auc
    # NaN compares False (max keeps a NaN first argument): unmeasured is no evidence. The others below chance
    # on few evaluation rows are noise, not a weaker model: measured from chance, and a drop beyond the noise.
    others_or_chance = max(others, 0.5)
    lifted = held_out >= policy.min_lift_auc and held_out >= others_or_chance + margin
    drop_limit = max(policy.max_auc_drop, margin)
    # Where the others together are no better than chance, what the model loses without the column is the
    # column's own signal, which ``lifted`` judges: a weak honest engagement count in an export of little else
    # (0.64 alone, the rest at 0.50) costs the model 0.14 and is no more a leak for that.
    others_say_something = others_or_chance > OTHERS_SAY_SOMETHING_AUC
    dropped = held_out >= policy.min_drop_auc and others_say_something and full - others_or_chance >= drop_limit
    # Lift alone does not make a leak of a column whose name says who the lead or its company is (size,
    # industry, country, title): such a column may be the strongest honest signal an export has.
    if (lifted or dropped) and not says_who_the_lead_is(name):
        found.append(
            Finding(
                column,
                "lift",
                held_out if lifted else full - others_or_chance,
                others_or_chance + margin if lifted else drop_limit,
                describe_lift(
                    column, held_out, others, full, others_or_chance + margin if lifted else None, drop_limit, without
                ),
            )
        )
    word = sales_words_in_name(name)
    said = sales_words_in_values(values)
    if (word or len(said) >= MIN_SALES_VALUES) and (found or single >= policy.sales_words_min_auc):
        found.append(
            Finding(
                column,
                "sales_words",
                single,
                policy.sales_words_min_auc,
                describe_sales_words(column, word, shown_sales_values(values, said), single),
            )
        )
    return found


def describe_one_outcome(column: str, pure: OneOutcomeEvidence, shown: int = 4) -> str:
    """In plain words: which values (almost) only one outcome has, how often, and how much they cover."""
    values = [f"{value.value} converts {value.rate:.0%} of {value.rows:,}" for value in pure.values[:shown]]
    more = f" and {len(pure.values) - shown} more" if len(pure.values) > shown else ""
    return (
        f"'{column}': {', '.join(values)}{more} (base rate {pure.base_rate:.0%}); such values cover "
        f"{pure.won_share:.0%} of the won and {pure.lost_share:.0%} of the lost leads ({pure.share:.0%} of all), "
        "far beyond chance"
    )


def describe_lift(
    column: str,
    single: float,
    others: float,
    full: float,
    reach_limit: float | None,
    drop_limit: float,
    without: str = "",
) -> str:
    """In plain words: the column alone against all the others together (``without`` the columns that move with
    it), what removing it costs, and the limit it broke (``reach_limit``: what alone was too much; None: the drop
    was)."""
    limit = (
        f"a column known before contact rarely reaches alone {reach_limit:.2f}, what the others reach plus the "
        "noise of the evaluation rows"
        if reach_limit is not None
        else f"a column known before contact rarely costs the model {drop_limit:.2f} or more"
    )
    twins = f" (leaving out {without} as well: columns that move with it)" if without else ""
    return (
        f"'{column}' alone reaches AUC {single:.2f}, all other columns together {others:.2f}{twins}; the model on "
        f"all columns {full:.2f} drops to {others:.2f} without {'them' if without else 'it'} ({limit})"
    )


def describe_sales_words(column: str, word: str | None, values: list[str], single: float) -> str:
    """In plain words: what in the name or the values speaks of sales work, with the column's single AUC."""
    said = [f"the name says '{word}'"] if word else []
    said += (
        [f"values such as {', '.join(repr(value) for value in values[:3])} speak of sales contact"] if values else []
    )
    auc = f"; alone it predicts the outcome with AUC {single:.2f}" if not math.isnan(single) else ""
    return f"'{column}': {' and '.join(said)}{auc}"


def _days_to_outcome_finding(
    column: str, values: pd.Series, created_at: pd.Series, outcome_at: pd.Series, policy: LeakagePolicy
) -> Finding | None:
    share, rows = share_days_to_outcome(values, created_at, outcome_at)
    limit = policy.max_share_days_to_outcome
    if rows < policy.min_rows or not share > limit:
        return None
    evidence = (
        f"'{column}' is the number of days from created_at to the outcome date for {share:.0%} of the {rows:,} "
        f"leads with both (limit {limit:.0%}): it is counted up to the close"
    )
    return Finding(column, "after_outcome", share, limit, evidence)


def days_to_the_export_finding(
    column: str, values: pd.Series, created_at: pd.Series, open_leads: np.ndarray, policy: LeakagePolicy
) -> Finding | None:
    counted = days_to_the_export(values, created_at, open_leads, policy.min_rows)
    if counted is None:
        return None
    day, share, rows = counted
    evidence = (
        f"'{column}' is the number of days from created_at to {day:%Y-%m-%d} (the export's day) for {share:.0%} of "
        f"the {rows:,} open leads with both: it counts the lead's age, which is 0 for every new lead"
    )
    return Finding(column, "age_at_the_export", share, MIN_AGE_SHARE, evidence)


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
    remedies = {finding.remedy: [f.column for f in findings if f.remedy == finding.remedy] for finding in findings}
    if len(remedies) == 1:
        return "\n".join([*lines, f"For each: {findings[0].remedy}."])
    lines += [f"For {', '.join(dict.fromkeys(named))}: {remedy}." for remedy, named in remedies.items()]
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
