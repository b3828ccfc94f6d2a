"""Engagement as it happened: point-in-time features from a lead's dated activities.

A lead's engagement counts in an export are as of the export date, so they include what the lead did after
sales called: a model trained on them learns from the future. Here each lead's engagement is computed from its
activities strictly before its **scoring moment** (:func:`scoring_moments`: the creation date plus some days, the
first disposition, or the MQL decision; never after the export's cut-off), and at scoring time as of now. Per
activity kind (``models.contract.ACTIVITY_KINDS``) the features are:

- ``<kind>_<w>d``: activities in the ``w`` days before the moment (one column per window);
- ``days_since_<kind>``: days from the last one to the moment (missing: never);
- ``<kind>_decayed``: each activity weighted by one half per ``half_life_days`` of age (HubSpot-style decay).

An activity at the moment itself, or after it, changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

import numpy as np
import pandas as pd

from models.features import InputColumn

ScoringMoment = Literal["created", "first_disposition", "mql"]
SCORING_MOMENTS: tuple[str, ...] = get_args(ScoringMoment)
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class EngagementWindows:
    """Which activity kinds become features, over which windows, and how fast engagement cools off."""

    kinds: tuple[str, ...]
    windows_days: tuple[int, ...] = (7, 30, 90)
    half_life_days: float = 30.0

    def __post_init__(self) -> None:
        if not self.kinds:
            raise ValueError("expected at least one activity kind")
        if not self.windows_days or any(w <= 0 for w in self.windows_days):
            raise ValueError(f"windows_days: expected positive whole days, got {list(self.windows_days)}")
        if self.half_life_days <= 0:
            raise ValueError(f"half_life_days: expected a positive number of days, got {self.half_life_days}")

    def window_name(self, kind: str, days: int) -> str:
        return f"{kind}_{days}d"

    def recency_name(self, kind: str) -> str:
        return f"days_since_{kind}"

    def decayed_name(self, kind: str) -> str:
        return f"{kind}_decayed"

    def features_of(self, kind: str) -> list[str]:
        """One kind's features: the windows, the recency, the decayed sum."""
        return [
            *(self.window_name(kind, days) for days in self.windows_days),
            self.recency_name(kind),
            self.decayed_name(kind),
        ]

    def feature_names(self) -> list[str]:
        """Every engagement feature, kind by kind."""
        return [name for kind in self.kinds for name in self.features_of(kind)]

    def input_columns(self) -> tuple[InputColumn, ...]:
        """The features as the model's input columns (engagement; counts for windows, numbers otherwise)."""
        columns = []
        for kind in self.kinds:
            for days in self.windows_days:
                name = self.window_name(kind, days)
                columns.append(InputColumn(column=name, role="count", name=name, group="engagement"))
            for name in (self.recency_name(kind), self.decayed_name(kind)):
                columns.append(InputColumn(column=name, role="numeric", name=name, group="engagement"))
        return tuple(columns)


def engagement_features(activities: pd.DataFrame, moments: pd.Series, windows: EngagementWindows) -> pd.DataFrame:
    """Each lead's engagement features from its activities strictly before its moment.

    Args:
        activities: ``lead_id``, ``timestamp`` and ``kind`` (leadq's words), one row per activity.
        moments: each lead's scoring moment, indexed by lead id (NaT: no moment, so no activity counts).
        windows: the kinds, windows and half-life.

    Returns:
        One row per lead of ``moments`` (same index), the columns of ``windows.feature_names()``: window counts
        and decayed sums 0 and recency missing for a lead without activity before its moment.
    """
    index = moments.index
    lead_ids = pd.Index(index.astype(str))
    moment_of = pd.Series(pd.to_datetime(moments.to_numpy()).astype("datetime64[ns]"), index=lead_ids)
    moment_of = moment_of[~moment_of.index.duplicated()]
    wanted = activities["kind"].isin(windows.kinds).to_numpy()
    ids = activities["lead_id"].astype(str).to_numpy()[wanted]
    position = lead_ids.get_indexer(ids)
    known = position >= 0
    at = pd.to_datetime(activities["timestamp"].to_numpy()[wanted][known]).astype("datetime64[ns]")
    position = position[known]
    kinds = activities["kind"].to_numpy()[wanted][known]
    moment = moment_of.reindex(lead_ids).to_numpy()[position]
    before = np.asarray(at < moment)  # strictly before; NaT compares False both ways
    age = (moment[before] - np.asarray(at)[before]) / _DAY
    position, kinds = position[before], kinds[before]
    n = len(index)
    features: dict[str, np.ndarray] = {}
    decay = np.power(0.5, age / windows.half_life_days)
    for kind in windows.kinds:
        mine = kinds == kind
        rows, ages = position[mine], age[mine]
        for days in windows.windows_days:
            inside = ages <= days
            features[windows.window_name(kind, days)] = np.bincount(rows[inside], minlength=n).astype(np.int64)
        latest = np.full(n, np.inf)
        np.minimum.at(latest, rows, ages)
        latest[np.isinf(latest)] = np.nan
        features[windows.recency_name(kind)] = latest
        features[windows.decayed_name(kind)] = np.bincount(rows, weights=decay[mine], minlength=n)
    return pd.DataFrame(features, index=index, columns=windows.feature_names())


def scoring_moments(
    created_at: pd.Series | None,
    dispositions: pd.DataFrame,
    moment: ScoringMoment,
    days_after_created: float,
    as_of: pd.Timestamp,
    index: pd.Index,
) -> pd.Series:
    """Each lead's scoring moment for training, never after ``as_of`` (what the export knows).

    ``created``: the creation date plus ``days_after_created``. ``first_disposition`` / ``mql``: the first
    disposition (of stage ``mql`` for the latter) of the lead; a lead without one falls back to its creation date
    plus ``days_after_created`` (it was never touched, so nothing of sales is in its activities then either).

    Raises:
        ValueError: no creation dates and no disposition to place a lead's moment by.
    """
    created = (
        pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
        if created_at is None
        else pd.to_datetime(created_at.reindex(index)).astype("datetime64[ns]")
    )
    moments = created + pd.Timedelta(days=days_after_created)
    if moment != "created" and len(dispositions):
        touched = dispositions if moment == "first_disposition" else dispositions[dispositions["stage"] == "mql"]
        first = touched.groupby(touched["lead_id"].astype(str))["timestamp"].min()
        first = first.reindex(index.astype(str)).set_axis(index)
        moments = first.where(first.notna(), moments)
    if created_at is None and moments.isna().all():
        raise ValueError(
            "the scoring moment needs the leads' creation dates (map a column as created_at) or, with moment "
            "first_disposition or mql, a dispositions table"
        )
    return moments.mask(moments > as_of, as_of).rename("scoring_moment")  # a lead without a moment stays NaT


class ActivityIndex:
    """A table of activities indexed by lead, to compute the engagement of any set of leads quickly (scoring a
    whole CRM chunk by chunk: each chunk looks up only its own leads' activities)."""

    def __init__(self, activities: pd.DataFrame, windows: EngagementWindows):
        wanted = activities[activities["kind"].isin(windows.kinds)]
        ids = wanted["lead_id"].astype(str).to_numpy()
        order = np.argsort(ids, kind="stable")
        self._ids = ids[order]
        self._table = wanted.iloc[order].reset_index(drop=True)
        self.windows = windows

    def __len__(self) -> int:
        return len(self._table)

    def of(self, lead_ids: pd.Index) -> pd.DataFrame:
        """The activities of ``lead_ids`` (every row of each, in the table's order)."""
        keys = np.asarray(lead_ids.astype(str))
        starts = np.searchsorted(self._ids, keys, side="left")
        ends = np.searchsorted(self._ids, keys, side="right")
        rows = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)] or [np.array([], int)])
        return self._table.iloc[rows]

    def features_at(self, lead_ids: pd.Index, moment: pd.Timestamp) -> pd.DataFrame:
        """The engagement features of ``lead_ids`` from their activities strictly before ``moment`` (scoring: now)."""
        moments = pd.Series(moment, index=lead_ids, dtype="datetime64[ns]")
        return engagement_features(self.of(lead_ids), moments, self.windows)


@dataclass(frozen=True)
class ActivityVocabulary:
    """What a model trained with an activities table reads of a lead's activities: the CRM's activity words and
    how the mapping translates each to leadq's kind (``kind_of``: the mapping's own translation, so a word sent to
    the service reads as training read it), and the engagement features they give (``windows``)."""

    windows: EngagementWindows
    words: tuple[str, ...]  # the CRM's words the mapping translates, as it spells them (for messages)
    kind_of: Callable[[str], str | None]  # a CRM word -> leadq's kind; None: the mapping does not translate it

    def features_of_lists(self, activities: Sequence[Sequence[tuple[datetime, str]]], now: datetime) -> pd.DataFrame:
        """Each list's engagement features as of ``now``, by :func:`engagement_features` (the one computation of
        training and ``leadq score``): one row per list, in order.

        Args:
            activities: per lead, its activities as (time, leadq kind); times naive UTC, as the CRM's are read.
            now: the moment (naive UTC); an activity at or after it changes nothing.
        """
        leads = [str(position) for position in range(len(activities))]
        frame = pd.DataFrame(
            {
                "lead_id": np.array([leads[p] for p, listed in enumerate(activities) for _ in listed], dtype=object),
                "timestamp": np.array([at for listed in activities for at, _ in listed], dtype="datetime64[ns]"),
                "kind": np.array([kind for listed in activities for _, kind in listed], dtype=object),
            }
        )
        moments = pd.Series(np.datetime64(now, "ns"), index=pd.Index(leads, dtype=object), dtype="datetime64[ns]")
        return engagement_features(frame, moments, self.windows)
