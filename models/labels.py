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

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
class TimeSplit:
    """Lead ids by role in the out-of-time split, plus the quarters each role covers."""

    train: pd.Index
    calibration: pd.Index
    test: pd.Index
    train_quarters: list[str]
    calibration_quarters: list[str]
    test_quarters: list[str]
    immature_labelled: int  # labelled leads after the last mature quarter, left out of this split


def split_by_time(
    labels: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int, test_quarters: int, calibration_quarters: int
) -> TimeSplit:
    """Train on older quarters, calibrate on the next, test on the most recent *mature* quarter(s).

    A quarter is mature when its last lead's horizon has elapsed by ``as_of``: only then are its labels
    final, so early outcomes (quick rejections) cannot bias the evaluation. Later leads are left out.
    """
    labelled = labels[labels["label"].notna()]
    quarters = labelled["created_at"].dt.to_period("Q")
    mature_end = pd.Timestamp(as_of) - pd.Timedelta(days=horizon_days)
    mature = sorted(q for q in quarters.unique() if q.end_time <= mature_end)
    needed = test_quarters + calibration_quarters + 1
    if len(mature) < needed:
        raise DataContractError(
            [
                f"leads.created_at: need at least {needed} quarters of leads whose {horizon_days}-day label horizon "
                f"has elapsed by {pd.Timestamp(as_of).date()}, found {len(mature)} ({[str(q) for q in mature]})"
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
    )
    by_id = labelled.set_index("lead_id")["label"]
    for role in ("train", "calibration", "test"):
        require_both_classes(
            by_id.loc[getattr(split, role)], f"{role} set ({', '.join(getattr(split, role + '_quarters'))})"
        )
    return split


def quarter_bounds(quarter: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first moment of a quarter such as "2026Q4" and the first moment after it."""
    match = _QUARTER_PATTERN.fullmatch(quarter.strip())
    if match is None:
        raise ValueError(f"expected a quarter like '2026Q4', got {quarter!r}")
    period = pd.Period(year=int(match[1]), quarter=int(match[2]), freq="Q")
    return period.start_time, (period + 1).start_time
