"""Training labels from sales outcomes and dispositions, and the out-of-time split.

The label rule (README, "Label rule"), applied as of a cut-off date ``as_of`` (events after it are ignored):

1. positive: a deal of the lead was won within ``horizon_days`` of the lead's creation;
2. negative: a deal of the lead was lost;
3. censored: the lead's latest disposition is "recycled" or a rejection for "wrong_timing" (need, but not
   now: such leads are nurtured and may still buy, so they are not plain negatives);
4. negative: the lead's latest disposition is a rejection for any other reason;
5. negative: the horizon has elapsed without a won deal (nothing happened, the deal is still open, or it
   was won only after the horizon);
6. censored: otherwise, the horizon has not elapsed yet and the lead is still open.

Censored leads are left out of training and evaluation; their count is reported with every run.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import binom, mannwhitneyu
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from models.contract import CRMTables, DataContractError, require_both_classes

POSITIVE, NEGATIVE, CENSORED = "positive", "negative", "censored"
_QUARTER_PATTERN = re.compile(r"(\d{4})Q([1-4])")


def resolve_as_of(tables: CRMTables, as_of: pd.Timestamp | None = None) -> pd.Timestamp:
    """The cut-off of the labels: ``as_of`` if given, else the latest event in the export."""
    if as_of is not None:
        return pd.Timestamp(as_of)
    candidates = [
        tables.leads["created_at"].max(),
        tables.dispositions["timestamp"].max(),
        tables.deals["created_at"].max(),
        tables.deals["closed_at"].max(),
    ]
    return max(pd.Timestamp(c) for c in candidates if pd.notna(c))


def _latest_dispositions(dispositions: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    known = dispositions[dispositions["timestamp"] <= as_of]
    latest = known.sort_values(["lead_id", "timestamp"], kind="stable").drop_duplicates("lead_id", keep="last")
    return latest.set_index("lead_id")[["stage", "reason"]]


def build_labels(tables: CRMTables, horizon_days: int, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per lead created up to ``as_of``: lead_id, created_at, label (1/0/NaN), label_status, label_reason."""
    leads = tables.leads.loc[tables.leads["created_at"] <= as_of, ["lead_id", "created_at"]]
    horizon = pd.Timedelta(days=horizon_days)
    deals = tables.deals.merge(leads, on="lead_id", suffixes=("", "_lead"))
    closed = deals[deals["closed_at"].notna() & (deals["closed_at"] <= as_of)]
    won = closed[closed["outcome"] == "won"]
    won_in_time = won.loc[won["closed_at"] <= won["created_at_lead"] + horizon, "lead_id"]
    won_late = won.loc[won["closed_at"] > won["created_at_lead"] + horizon, "lead_id"]
    lost = closed.loc[closed["outcome"] == "lost", "lead_id"]
    latest = _latest_dispositions(tables.dispositions, as_of).reindex(leads["lead_id"])
    stage, reason = latest["stage"].to_numpy(), latest["reason"].to_numpy()
    lead_ids = leads["lead_id"].to_numpy()
    recycled = (stage == "recycled") | ((stage == "rejected") & (reason == "wrong_timing"))
    rejected = (stage == "rejected") & ~recycled
    elapsed = (leads["created_at"] + horizon <= as_of).to_numpy()
    rules = [
        # Series.isin hashes; np.isin on object arrays compares all pairs (minutes at 200k leads).
        (leads["lead_id"].isin(won_in_time).to_numpy(), POSITIVE, "won_within_horizon"),
        (leads["lead_id"].isin(lost).to_numpy(), NEGATIVE, "deal_lost"),
        (recycled, CENSORED, "recycled_wrong_timing"),
        (rejected, NEGATIVE, "rejected"),
        # negative as any lead without a win in time, counted apart: a horizon shorter than the sales cycle shows here
        (leads["lead_id"].isin(won_late).to_numpy() & elapsed, NEGATIVE, "won_after_horizon"),
        (elapsed, NEGATIVE, "no_win_within_horizon"),
    ]
    status = np.select([r[0] for r in rules], [r[1] for r in rules], default=CENSORED)
    why = np.select([r[0] for r in rules], [r[2] for r in rules], default="open")
    why = np.where(why == "rejected", "rejected_" + pd.Series(reason, dtype=object).fillna("unknown").astype(str), why)
    label = np.select([status == POSITIVE, status == NEGATIVE], [1.0, 0.0], default=np.nan)
    return pd.DataFrame(
        {
            "lead_id": lead_ids,
            "created_at": leads["created_at"].to_numpy(),
            "label": label,
            "label_status": status,
            "label_reason": why,
        }
    )


@dataclass(frozen=True)
class Fold:
    """One evaluation of the model: fitted on ``train``, early-stopped and calibrated on ``calibration``, tested on
    ``test``."""

    train: pd.Index
    calibration: pd.Index
    test: pd.Index


@dataclass(frozen=True)
class TimeSplit:
    """Lead ids by role in the out-of-time split, plus the quarters each role covers."""

    train: pd.Index
    calibration: pd.Index
    test: pd.Index
    train_quarters: list[str]
    calibration_quarters: list[str]
    test_quarters: list[str]
    immature_labelled: int  # labelled leads after the last mature quarter, left out of this split
    kind: str = "out_of_time"  # out_of_time | random_stratified | row_order (UNDATED_SPLITS: no dates)
    reason: str = ""  # how the split was made, in words
    by_quarters: bool = True  # calibration and test are whole quarters (else cut by date, or at random)
    # a random split repeated so that every labelled lead is tested once (the first fold is train/calibration/test);
    # empty: one evaluation on ``test``
    cross_validation: tuple[Fold, ...] = ()
    # labels as exported: the latest quarters left out while many of their leads were still open, with that share
    unsettled: dict[str, float] = field(default_factory=dict)
    # labels as exported: the latest quarters left out while they converted below the usual rate, with their rate
    still_converting: dict[str, float] = field(default_factory=dict)
    # an undated export split at random whose row order predicts the outcome: what that means, in words
    order_warning: str = ""

    @property
    def held_out(self) -> pd.Index:
        return self.calibration.append(self.test)

    @property
    def folds(self) -> tuple[Fold, ...]:
        """The evaluations the test metrics pool: every fold of a cross-validation, else the one split."""
        return self.cross_validation or (Fold(self.train, self.calibration, self.test),)


def split_by_time(
    labels: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int, test_quarters: int, calibration_quarters: int
) -> TimeSplit:
    """Train on older quarters, calibrate on the next, test on the most recent *mature* quarter(s).

    A quarter is mature when its last lead's horizon has elapsed by ``as_of``: only then are its labels
    final, so early outcomes (quick rejections) cannot bias the evaluation. Later leads are left out.
    Labels as exported (``horizon_days`` 0, an outcome column) are final once given, but the latest quarters
    still hold open deals, and the ones closed early are no fair sample of their quarter (quick wins or quick
    losses): the trailing quarters whose leads are still open beyond the usual are not mature either
    (:func:`unsettled_quarters`; ``labels`` then holds the unlabelled leads too, label NaN).
    """
    labelled = labels[labels["label"].notna() & labels["created_at"].notna()]  # a lead without a date: in no quarter
    quarters = labelled["created_at"].dt.to_period("Q")
    mature_end = pd.Timestamp(as_of) - pd.Timedelta(days=horizon_days)
    unsettled = unsettled_quarters(labels) if horizon_days == 0 else {}
    converting = _still_converting_but_settled(labels, unsettled) if horizon_days == 0 else {}
    left_out = unsettled.keys() | converting.keys()
    mature = sorted(q for q in quarters.unique() if q.end_time <= mature_end and str(q) not in left_out)
    needed = test_quarters + calibration_quarters + 1
    if len(mature) < needed:
        raise DataContractError(
            [
                f"leads.created_at: a split by quarters needs at least {needed} quarters of labelled leads (to "
                f"train, calibrate and test) "
                + (f"whose {horizon_days}-day label horizon has passed" if horizon_days else "that have ended")
                + f" by {pd.Timestamp(as_of).date()}; found {len(mature)}"
                + (f": {', '.join(str(q) for q in mature)}" if mature else "")
            ]
        )
    test_q = mature[-test_quarters:]
    calibration_q = mature[-needed + 1 : -test_quarters]
    train_q = [q for q in mature if q < calibration_q[0]]
    ids = labelled["lead_id"]
    split = TimeSplit(
        train=pd.Index(ids[quarters.isin(train_q)]),
        calibration=pd.Index(ids[quarters.isin(calibration_q)]),
        test=pd.Index(ids[quarters.isin(test_q)]),
        train_quarters=[str(q) for q in train_q],
        calibration_quarters=[str(q) for q in calibration_q],
        test_quarters=[str(q) for q in test_q],
        immature_labelled=int((quarters > mature[-1]).sum()),
        unsettled=unsettled,
        still_converting=converting,
    )
    by_id = labelled.set_index("lead_id")["label"]
    for role in ("train", "calibration", "test"):
        require_both_classes(
            by_id.loc[getattr(split, role)], f"{role} set ({', '.join(getattr(split, role + '_quarters'))})"
        )
    return split


MAX_OPEN_EXCESS = 0.05  # a quarter may hold this much more of open leads than the older quarters usually do
# and up to this share open in any case: where every older lead is settled (usual 0%), a quarter with 5.1% open is no
# worse a sample than one with 4.9% (a Swedish board's latest quarter, 5% open, had moved the test quarter back)
MIN_UNSETTLED_SHARE = 0.10


def unsettled_quarters(labels: pd.DataFrame) -> dict[str, float]:
    """The latest quarters in a row whose share of open (unlabelled) leads exceeds the usual by
    ``MAX_OPEN_EXCESS`` and is above ``MIN_UNSETTLED_SHARE``, with that share; the usual is the median share of the
    older half of the quarters (some exports keep stale leads open for good). Columns ``created_at`` and ``label``
    (NaN: open)."""
    open_share = labels["label"].isna().groupby(labels["created_at"].dt.to_period("Q")).mean().sort_index()
    usual = float(open_share.iloc[: max(1, len(open_share) // 2)].median()) if len(open_share) else 0.0
    unsettled: dict[str, float] = {}
    for quarter, share in reversed(list(open_share.items())):
        if share <= max(usual + MAX_OPEN_EXCESS, MIN_UNSETTLED_SHARE):
            break
        unsettled[str(quarter)] = float(share)
    return dict(reversed(list(unsettled.items())))


MAX_RATE_DROP_P = 0.05  # a trailing quarter converting below the usual rate with this p-value is still converting
MIN_QUARTERS_FOR_RATES = 4  # fewer quarters give no usual rate to compare the latest ones with


def still_converting_quarters(labels: pd.DataFrame) -> dict[str, float]:
    """The latest quarters in a row whose labelled leads convert below the usual rate beyond chance (one-sided
    binomial test, p at most ``MAX_RATE_DROP_P``), with their rate; the usual is the rate of the older half of the
    quarters. Columns ``created_at`` and ``label`` (NaN: open).

    An export's yes/no outcome does not say which leads are still open: its recent leads have had less time to
    convert (a lead created last month and not converted yet is a "0"), and a test quarter of them makes a model
    that predicts the usual rate look miscalibrated.
    """
    labelled = labels[labels["label"].notna()]
    by_quarter = labelled.groupby(labelled["created_at"].dt.to_period("Q"))["label"].agg(["sum", "size"]).sort_index()
    if len(by_quarter) < MIN_QUARTERS_FOR_RATES:
        return {}
    usual = usual_conversion_rate(labels)
    converting: dict[str, float] = {}
    for quarter, (won, leads) in reversed(list(by_quarter.iterrows())):
        if binom.cdf(won, leads, usual) > MAX_RATE_DROP_P:
            break
        converting[str(quarter)] = float(won / leads)
    return dict(reversed(list(converting.items())))


def _still_converting_but_settled(labels: pd.DataFrame, unsettled: dict[str, float]) -> dict[str, float]:
    """The still-converting quarters that are not left out already as still open (each quarter has one reason)."""
    return {quarter: rate for quarter, rate in still_converting_quarters(labels).items() if quarter not in unsettled}


def usual_conversion_rate(labels: pd.DataFrame) -> float:
    """The conversion rate of the older half of the quarters (as :func:`still_converting_quarters` reads it)."""
    labelled = labels[labels["label"].notna()]
    quarters = labelled["created_at"].dt.to_period("Q")
    older = sorted(quarters.unique())[: max(1, quarters.nunique() // 2)]
    return float(labelled.loc[quarters.isin(older).to_numpy(), "label"].mean())


MIN_DATED_SHARE = 0.95  # splitting by time needs created_at for at least this share of labelled leads
SplitKind = str


def _quarters(created_at: pd.Series, ids: pd.Index) -> list[str]:
    return sorted({str(period) for period in created_at.loc[ids].dropna().dt.to_period("Q")})


def _both_classes(y: pd.Series, *parts: pd.Index) -> bool:
    return all(y.loc[ids].nunique() == 2 for ids in parts)


def _by_quarters(
    y: pd.Series, created_at: pd.Series, as_of: pd.Timestamp, horizon_days: int, test_quarters: int, cal_quarters: int
) -> TimeSplit | str:
    labels = pd.DataFrame({"lead_id": y.index, "created_at": created_at.reindex(y.index).to_numpy(), "label": y})
    try:
        split = split_by_time(labels, as_of, horizon_days, test_quarters, cal_quarters)
    except DataContractError as error:
        return "; ".join(error.problems)
    labels_are = (
        f"whose labels are final ({horizon_days}-day horizon)"
        if horizon_days
        else "with their labels as exported (an outcome column)"
    )
    reason = (
        f"test quarter(s) {', '.join(split.test_quarters)}, calibration {', '.join(split.calibration_quarters)}, "
        f"training {split.train_quarters[0]}..{split.train_quarters[-1]}: the most recent quarters {labels_are}"
    )
    converting = _still_converting(split.still_converting, labels)
    undated = int((labels["label"].notna() & labels["created_at"].isna()).sum())
    without_dates = f"; {undated:,} labelled lead(s) without a creation date left out" if undated else ""
    return dataclasses.replace(split, reason=reason + _left_open(split.unsettled) + converting + without_dates)


def _still_converting(converting: dict[str, float], labels: pd.DataFrame) -> str:
    if not converting:
        return ""
    rates = ", ".join(f"{quarter} {rate:.1%}" for quarter, rate in converting.items())
    usual = usual_conversion_rate(labels)
    return f"; later quarters left out while their leads may still convert ({rates} against {usual:.1%} before)"


def _left_open(unsettled: dict[str, float]) -> str:
    if not unsettled:
        return ""
    still_open = ", ".join(f"{quarter} {share:.0%}" for quarter, share in unsettled.items())
    return f"; later quarters left out while many of their leads are still open ({still_open})"


def _by_date_share(y: pd.Series, created_at: pd.Series, test_share: float) -> TimeSplit | str:
    dates = created_at.reindex(y.index).dropna().sort_values(kind="stable")
    quarters = sorted({str(q) for q in dates.dt.to_period("Q")})
    if len(quarters) < 2:
        return f"labelled leads span {len(quarters)} quarter(s); out of time needs 2"
    cut_sets = _tail_held_out(dates.index, y, test_share)
    if cut_sets is None:
        return "a time-ordered cut would leave a set with one class only"
    train, calibration, test = cut_sets
    held_out = calibration.append(test)
    cut = dates.loc[held_out[0]]
    undated = len(y) - len(dates)
    without_dates = f"; {undated:,} labelled lead(s) without a creation date left out" if undated else ""
    return TimeSplit(
        train=train,
        calibration=calibration,
        test=test,
        train_quarters=_quarters(created_at, train),
        calibration_quarters=_quarters(created_at, calibration),
        test_quarters=_quarters(created_at, test),
        immature_labelled=0,
        by_quarters=False,
        reason=f"the latest {test_share:.0%} of labelled leads by creation date ({len(held_out):,} leads created from "
        f"{cut:%Y-%m-%d}) are held out, the earlier half calibrates and the later half tests; labelled leads span "
        f"{quarters[0]} to {quarters[-1]}{without_dates}",
    )


def _tail_held_out(ordered: pd.Index, y: pd.Series, test_share: float) -> tuple[pd.Index, pd.Index, pd.Index] | None:
    """Training, calibration and test leads of ``ordered`` leads: the last ``test_share`` held out, the earlier half
    of them calibrating and the later half testing; None where a set would hold one class only."""
    n_held_out = max(2, round(test_share * len(ordered)))
    train, held_out = ordered[:-n_held_out], ordered[-n_held_out:]
    calibration, test = held_out[: len(held_out) // 2], held_out[len(held_out) // 2 :]
    return (train, calibration, test) if _both_classes(y, train, calibration, test) else None


def _by_row_order(y: pd.Series, created_at: pd.Series | None, test_share: float, why: str) -> TimeSplit:
    """The labelled leads in the export's row order, the last ``test_share`` held out (``split.undated: row_order``:
    rows in the order the leads came)."""
    cut_sets = _tail_held_out(y.index, y, test_share)
    if cut_sets is None:
        raise DataContractError(
            ["split.undated: row_order would leave training, calibration or test leads of one class only"]
        )
    train, calibration, test = cut_sets
    held_out = calibration.append(test)

    def quarters(ids: pd.Index) -> list[str]:
        return [] if created_at is None else _quarters(created_at, ids)

    return TimeSplit(
        train=train,
        calibration=calibration,
        test=test,
        train_quarters=quarters(train),
        calibration_quarters=quarters(calibration),
        test_quarters=quarters(test),
        immature_labelled=0,
        kind="row_order",
        by_quarters=False,
        reason=f"{why}: the last {test_share:.0%} of labelled leads in the export's row order ({len(held_out):,} "
        "leads) are held out, the earlier half calibrates and the later half tests (split.undated: row_order: "
        "the rows are taken to be in the order the leads came)",
    )


def row_order_auc(y: pd.Series) -> tuple[float, float]:
    """How well a labelled lead's position in the export predicts its outcome: a symmetric AUC (0.5: not at all),
    and the two-sided Mann-Whitney p-value of it (the AUC is that test's statistic, scaled)."""
    labels = y.to_numpy()
    positions = np.arange(len(y), dtype=float)
    auc = float(roc_auc_score(labels, positions))
    p_value = float(mannwhitneyu(positions[labels == 1], positions[labels == 0]).pvalue)
    return max(auc, 1 - auc), p_value


def row_order_warning(y: pd.Series) -> str:
    """What a random split of an undated export whose row order predicts the outcome overstates, and what to do
    ("" where the order says little: a row-position AUC below ``ROW_ORDER_AUC``, or within chance)."""
    if y.nunique() < 2:
        return ""
    auc, p_value = row_order_auc(y)
    if auc < ROW_ORDER_AUC or p_value > ROW_ORDER_SIGNIFICANCE:
        return ""
    tenths = np.array_split(y.to_numpy(), min(ROW_ORDER_TENTHS, len(y)))
    return (
        f"the export's row order predicts the outcome (row position alone: AUC {auc:.2f}; {tenths[0].mean():.1%} "
        f"converted in the first tenth of the labelled rows, {tenths[-1].mean():.1%} in the last). If the rows are "
        "in the order the leads came, a random split tests the model on the same periods it learnt from and "
        "overstates what it does on new leads: map (or fill) a created_at column, or set split.undated: row_order to "
        "hold out the last rows. If the export is sorted by a column (a status, an owner), this says nothing"
    )


def _stratified_folds(y: pd.Series, folds: int, calibration_share: float, random_state: int) -> tuple[Fold, ...]:
    """``folds`` stratified test folds; the rest of each is cut into training and calibration leads, calibration
    being ``calibration_share`` of all leads (as in the single random split)."""
    ids, classes = y.index.to_numpy(), y.to_numpy()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    of_rest = calibration_share / (1 - 1 / folds)
    made = []
    for rest, test in splitter.split(ids, classes):
        train, calibration = train_test_split(
            ids[rest], test_size=of_rest, stratify=classes[rest], random_state=random_state
        )
        made.append(Fold(pd.Index(train), pd.Index(calibration), pd.Index(ids[test])))
    return tuple(made)


def _at_random(
    y: pd.Series,
    created_at: pd.Series | None,
    test_share: float,
    random_state: int,
    why: str,
    folds: int = 1,
) -> TimeSplit:
    """Random stratified: ``test_share`` held out, half to calibrate and half to test; with ``folds`` > 1, that split
    repeated ``folds`` times over disjoint test folds, so every labelled lead is tested once."""
    folds = min(folds, int(y.value_counts().min()))
    try:
        if folds > 1:
            made = _stratified_folds(y, folds, test_share / 2, random_state)
        else:
            train, held_out = train_test_split(
                y.index.to_numpy(), test_size=test_share, stratify=y.to_numpy(), random_state=random_state
            )
            calibration, test = train_test_split(
                held_out, test_size=0.5, stratify=y.loc[held_out].to_numpy(), random_state=random_state
            )
            made = (Fold(pd.Index(train), pd.Index(calibration), pd.Index(test)),)
    except ValueError as error:  # sklearn: a class too small to stratify
        won, not_won = int((y == 1).sum()), int((y != 1).sum())
        scarce = "won" if won <= not_won else "not-won"
        raise DataContractError(
            [
                f"labels: too few {scarce} leads to train and test a model: {won:,} won and {not_won:,} not-won "
                f"leads, too few to hold out {test_share:.0%} of them with both outcomes among the leads that "
                "calibrate and the leads that test; export a longer history or more leads"
            ]
        ) from error
    first = made[0]

    def quarters(ids: pd.Index) -> list[str]:
        return [] if created_at is None else _quarters(created_at, ids)

    how = (
        f"cross-validated over {folds} random stratified folds (every labelled lead tested once by a model that "
        f"did not learn from it, {test_share / 2:.1%} of the leads calibrating each)"
        if folds > 1
        else f"random stratified halves of {test_share:.0%} held out"
    )
    return TimeSplit(
        train=first.train,
        calibration=first.calibration,
        test=first.test,
        train_quarters=quarters(first.train),
        calibration_quarters=quarters(first.calibration),
        test_quarters=quarters(first.test),
        immature_labelled=0,
        kind="random_stratified",
        by_quarters=False,
        reason=f"{how}, because {why}",
        cross_validation=made if folds > 1 else (),
    )


UndatedSplit = Literal["random", "row_order"]
# The splits of leads without creation dates: nothing tells which leads a model fitted on them has seen
UNDATED_SPLITS = ("random_stratified", "row_order")
ROW_ORDER_AUC = 0.6  # a row position that predicts the outcome this well is no accident of an unordered export
ROW_ORDER_TENTHS = 10
ROW_ORDER_SIGNIFICANCE = 0.001  # a few dozen shuffled leads reach AUC 0.6 by chance a third of the time


def split_leads(
    y: pd.Series,
    created_at: pd.Series | None,
    as_of: pd.Timestamp,
    horizon_days: int,
    test_quarters: int = 1,
    calibration_quarters: int = 1,
    test_share: float = 0.25,
    random_state: int = 42,
    folds: int = 1,
    cross_validate_up_to: int = 50_000,
    undated: UndatedSplit = "random",
) -> TimeSplit:
    """Split labelled leads (``y``: 1/0, NaN unlabelled, indexed by lead id) into train, calibration and test.

    Out of time whenever the creation dates allow it, as the quarterly retrain works: by quarters (the most
    recent mature quarters test and calibrate, :func:`split_by_time`), else by date (the latest ``test_share``
    held out); random stratified only without dates, and the split says why (``TimeSplit.reason``).
    ``horizon_days`` is 0 for labels that are final as exported (an outcome column). A random split of at most
    ``cross_validate_up_to`` labelled leads is repeated over ``folds`` folds: a test set of one eighth of a small
    export is too few leads to tell AUC or calibration from noise, all of it is not.

    Without dates, ``undated`` "row_order" takes the export's rows to be in the order the leads came and holds out
    the last ``test_share`` (:func:`_by_row_order`); "random" (the default) says so when the row order predicts the
    outcome (:func:`row_order_warning`).

    Raises:
        DataContractError: no labelled leads, one class only, or too few of a class to hold some out.
    """
    labelled = y.dropna()
    if labelled.empty:
        raise DataContractError(["labels: no lead has a won or lost outcome; expected both won and lost leads"])
    require_both_classes(labelled, "labelled leads")
    random_folds = folds if len(labelled) <= cross_validate_up_to else 1
    dated_share = float(created_at.reindex(labelled.index).notna().mean()) if created_at is not None else 0.0
    if created_at is None or dated_share < MIN_DATED_SHARE:
        why = (
            "the mapping has no created_at column"
            if created_at is None
            else f"created_at is missing for {1 - dated_share:.0%} of labelled leads (out of time needs it for 95%)"
        )
        if undated == "row_order":
            return _by_row_order(labelled, created_at, test_share, why)
        split = _at_random(labelled, created_at, test_share, random_state, why, random_folds)
        return dataclasses.replace(split, order_warning=row_order_warning(labelled))
    by_quarters = _by_quarters(y, created_at, as_of, horizon_days, test_quarters, calibration_quarters)
    if isinstance(by_quarters, TimeSplit):
        return by_quarters
    # labels as exported: the quarters still open beyond the usual are left out of a cut by date too
    dated = pd.DataFrame({"created_at": created_at.reindex(y.index), "label": y})
    unsettled = unsettled_quarters(dated) if horizon_days == 0 else {}
    converting = _still_converting_but_settled(dated, unsettled) if horizon_days == 0 else {}
    settled = labelled
    if unsettled or converting:
        quarter = created_at.reindex(labelled.index).dt.to_period("Q").astype(str)
        settled = labelled[~quarter.isin([*unsettled, *converting]).to_numpy()]
    by_date = _by_date_share(settled, created_at, test_share)
    if isinstance(by_date, TimeSplit):
        said = _left_open(unsettled) + _still_converting(converting, dated)
        return dataclasses.replace(
            by_date, reason=by_date.reason + said, unsettled=unsettled, still_converting=converting
        )
    refuse_wins_only_late(labelled, created_at)
    return _at_random(labelled, created_at, test_share, random_state, f"{by_quarters}; and {by_date}", random_folds)


MIN_LEADS_BEFORE_THE_FIRST_WIN = 200  # this many older labelled leads, every one lost, is no chance


def refuse_wins_only_late(labelled: pd.Series, created_at: pd.Series) -> None:
    """Refuse labels whose older half (by creation date) holds no win while the later leads do: a random split
    would mix the two and the model learn the lead's age. Most often a value that says won ("Konvertiert") is
    missing from the outcome's won values, and its leads aged into lost.

    Raises:
        DataContractError: at least ``MIN_LEADS_BEFORE_THE_FIRST_WIN`` labelled leads in the older half, none won.
    """
    dates = created_at.reindex(labelled.index).dropna().sort_values(kind="stable")
    older = labelled.loc[dates.index[: len(dates) // 2]]
    if len(older) < MIN_LEADS_BEFORE_THE_FIRST_WIN or older.any() or not labelled.loc[dates.index].any():
        return
    first_win = dates.loc[labelled.loc[dates.index].astype(bool).to_numpy()].iloc[0]
    before = int((dates < first_win).sum())
    if before < max(MIN_LEADS_BEFORE_THE_FIRST_WIN, len(dates) // 2):
        return  # leads created on one day (an import), sorted lost before won: nothing came later
    raise DataContractError(
        [
            f"labels: all {before:,} labelled leads created before the first win ({first_win:%Y-%m-%d}) are lost, "
            f"and every one of the {int(labelled.sum()):,} wins came later: no model learns from that when leads "
            "convert. Most often a value that says won is missing from the outcome's won values, and its leads "
            "aged into lost: add the final ones among the values that are neither won nor lost to won or lost"
        ]
    )


def quarter_bounds(quarter: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first moment of a quarter such as "2026Q4" and the first moment after it."""
    match = _QUARTER_PATTERN.fullmatch(quarter.strip())
    if match is None:
        raise ValueError(f"expected a quarter like '2026Q4', got {quarter!r}")
    period = pd.Period(year=int(match[1]), quarter=int(match[2]), freq="Q")
    return period.start_time, (period + 1).start_time
