"""Where a lead's score is heading, from its scores over time: trends, and leads heating up.

Every score the service answers, and every ``leadq score`` run with a scoring log, is a point in a lead's score
history (the scoring log: lead id, when, score, MQL decision, reasons, model features). From it:

- :func:`score_trends`: each lead's trend over a window (improving, steady or declining by at least
  ``min_change_points`` of the 0-100 score from its first score in the window to its last; ``new`` with one score);
- :func:`heating_up`: the leads that were not MQLs at their last score before a moment (in nurture: recycled, or
  never handed over) and are MQLs at their latest score since, with the reasons that are new and the features that
  changed: the list sales works first after a nurture campaign.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd

from models.feature_text import UNKNOWN, Language, feature_name

Trend = Literal["improving", "steady", "declining", "new"]
TRENDS: tuple[str, ...] = get_args(Trend)
_MOST_CHANGES_SHOWN = 6
HOT_COLUMNS = (
    "lead_id",
    "score_before",
    "scored_before_at",
    "score",
    "scored_at",
    "model_version",
    "grade",
    "new_reasons",
    "changed_features",
)


def score_trends(
    history: pd.DataFrame, as_of: pd.Timestamp, window_days: float, min_change_points: int
) -> pd.DataFrame:
    """Each lead's trend over the ``window_days`` before ``as_of`` (its scores at or before ``as_of``).

    Args:
        history: ``lead_id``, ``scored_at``, ``score`` (0-100), one row per score, in any order.

    Returns:
        Indexed by lead id (leads scored in the window only): ``trend``, ``change`` (last minus first score in the
        window), ``first_score``, ``last_score``, ``scores`` (how many in the window).
    """
    window = history[
        (history["scored_at"] > as_of - pd.Timedelta(days=window_days)) & (history["scored_at"] <= as_of)
    ].sort_values(["lead_id", "scored_at"], kind="stable")
    scores = window.groupby("lead_id", sort=True)["score"]
    first, last, count = scores.first(), scores.last(), scores.size()
    change = (last - first).astype(int)
    trend = trend_of(change.to_numpy(), count.to_numpy(), min_change_points)
    return pd.DataFrame(
        {"trend": trend, "change": change, "first_score": first, "last_score": last, "scores": count},
        index=first.index.astype(str),
    )


def trend_of(change: np.ndarray, scores: np.ndarray, min_change_points: int) -> np.ndarray:
    """The trend of leads whose score changed by ``change`` points over ``scores`` scores in the window."""
    return np.select(
        [scores < 2, change >= min_change_points, change <= -min_change_points],
        ["new", "improving", "declining"],
        "steady",
    ).astype(object)


def _labels(reasons: object) -> list[str]:
    if not isinstance(reasons, dict):
        return []  # scored without reasons
    return [str(reason["label"]) for reason in reasons.get("for", [])]


def _changed(before: object, now: object, language: Language, most: int = _MOST_CHANGES_SHOWN) -> str:
    """The model features whose shown value changed, as "name: old -> new" in words (derived model features only:
    no PII), at most ``most`` of them and how many more."""
    if not isinstance(before, dict) or not isinstance(now, dict):
        return ""
    changed = []
    for feature, value in now.items():
        old, new = _shown(before.get(feature), language), _shown(value, language)
        if old != new:
            changed.append(f"{feature_name(feature, language)}: {old} -> {new}")
    more = f"; and {len(changed) - most} more" if len(changed) > most else ""
    return "; ".join(changed[:most]) + more


def _shown(value: object, language: Language) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return UNKNOWN[language]
    if isinstance(value, float):
        return f"{value:g}" if value == round(value) else f"{value:.1f}"
    return str(value)


def heating_up(history: pd.DataFrame, since: pd.Timestamp, language: Language = "en") -> pd.DataFrame:
    """The leads that crossed the MQL threshold since ``since``: not an MQL at their last score before it, an MQL at
    their latest score since. Highest score first.

    Args:
        history: ``lead_id``, ``scored_at``, ``score``, ``is_mql``, ``model_version``, ``grade``, ``reasons``
            ({"for": [{"label": ...}], ...} or None) and ``features`` (dict) per score.

    Returns:
        ``HOT_COLUMNS``: the scores before and now, the latest model version and grade, the reasons new since the
        earlier score (labels, "; "-joined) and the changed features.
    """
    ordered = history.sort_values(["lead_id", "scored_at"], kind="stable")
    before = ordered[ordered["scored_at"] < since].groupby("lead_id").last()
    now = ordered[ordered["scored_at"] >= since].groupby("lead_id").last()
    joined = now.join(before, rsuffix="_before", how="inner")
    hot = joined[joined["is_mql"].astype(bool) & ~joined["is_mql_before"].astype(bool)]
    new_reasons = [
        "; ".join(label for label in _labels(now_reasons) if label not in _labels(old_reasons))
        for now_reasons, old_reasons in zip(hot["reasons"], hot["reasons_before"], strict=True)
    ]
    changed = [_changed(old, new, language) for old, new in zip(hot["features_before"], hot["features"], strict=True)]
    frame = pd.DataFrame(
        {
            "lead_id": hot.index.astype(str),
            "score_before": hot["score_before"].astype(int).to_numpy(),
            "scored_before_at": hot["scored_at_before"].to_numpy(),
            "score": hot["score"].astype(int).to_numpy(),
            "scored_at": hot["scored_at"].to_numpy(),
            "model_version": hot["model_version"].astype(str).to_numpy(),
            "grade": hot["grade"].astype(str).to_numpy(),
            "new_reasons": new_reasons,
            "changed_features": changed,
        },
        columns=list(HOT_COLUMNS),
    )
    return frame.sort_values(["score", "lead_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
