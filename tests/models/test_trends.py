"""Score trends over a window, and the leads heating up: nurture leads whose score crossed the MQL threshold."""

from __future__ import annotations

import pandas as pd

from models.trends import HOT_COLUMNS, heating_up, score_trends

NOW = pd.Timestamp("2026-06-30 12:00")
DAY = pd.Timedelta(days=1)


def _history(*rows: tuple[str, float, int]) -> pd.DataFrame:
    """(lead, days before NOW, score) per row."""
    return pd.DataFrame(
        [{"lead_id": lead, "scored_at": NOW - days * DAY, "score": score} for lead, days, score in rows]
    )


def test_trends_compare_the_first_and_last_score_in_the_window() -> None:
    history = _history(
        ("up", 20, 30),
        ("up", 2, 41),
        ("down", 25, 60),
        ("down", 10, 50),
        ("down", 1, 49),
        ("flat", 9, 40),
        ("flat", 1, 44),  # +4: below the 5 points that count as a change
        ("once", 3, 70),
        ("old", 45, 10),  # only before the window
        ("old", 40, 90),
    )

    trends = score_trends(history, NOW, window_days=30, min_change_points=5)

    assert trends["trend"].to_dict() == {"down": "declining", "flat": "steady", "once": "new", "up": "improving"}
    assert trends.loc["up", "change"] == 11
    assert trends.loc["down", "scores"] == 3
    assert trends.loc["down", "first_score"] == 60


def test_a_score_after_as_of_is_not_part_of_the_trend() -> None:
    history = _history(("lead", 10, 20), ("lead", 5, 22), ("lead", -1, 90))

    assert score_trends(history, NOW, 30, 5).loc["lead", "trend"] == "steady"


def _scored(lead: str, days: float, score: int, is_mql: bool, reasons: list[str], **features: float) -> dict:
    return {
        "lead_id": lead,
        "scored_at": NOW - days * DAY,
        "score": score,
        "is_mql": is_mql,
        "model_version": "3",
        "grade": "A1" if is_mql else "C3",
        "reasons": {"for": [{"label": label} for label in reasons], "against": []},
        "features": features,
    }


def test_heating_up_lists_nurture_leads_that_became_mqls_since_the_last_run_with_what_changed() -> None:
    since = NOW - 7 * DAY
    history = pd.DataFrame(
        [
            _scored("warm", 30, 20, False, ["Industry: software"], visit_30d=1.0, demo_request_7d=0.0),
            _scored(
                "warm",
                2,
                71,
                True,
                ["Industry: software", "Demo requests in the last 7 days: 1"],
                visit_30d=6.0,
                demo_request_7d=1.0,
            ),
            _scored("warmer", 20, 10, False, [], visit_30d=0.0),
            _scored("warmer", 5, 40, False, [], visit_30d=3.0),  # not an MQL yet
            _scored("warmer", 1, 80, True, ["Website visits in the last 30 days: 9"], visit_30d=9.0),
            _scored("always", 30, 90, True, ["x"]),  # an MQL before: not heating up, already handed over
            _scored("always", 1, 92, True, ["x"]),
            _scored("brand_new", 1, 95, True, ["x"]),  # no score before: a new lead, not a returning one
            _scored("cooled", 30, 10, False, []),
            _scored("cooled", 1, 12, False, []),
        ]
    )

    hot = heating_up(history, since)

    assert list(hot.columns) == list(HOT_COLUMNS)
    assert hot["lead_id"].tolist() == ["warmer", "warm"]  # highest score first
    warm = hot.set_index("lead_id").loc["warm"]
    assert (warm["score_before"], warm["score"]) == (20, 71)
    assert warm["new_reasons"] == "Demo requests in the last 7 days: 1"
    assert warm["changed_features"] == (  # in words; only model features, never what the lead typed
        "Website visits in the last 30 days: 1 -> 6; Demo requests in the last 7 days: 0 -> 1"
    )
    assert hot.set_index("lead_id").loc["warmer", "score_before"] == 10  # its last score before the run


def test_heating_up_reads_scores_without_reasons() -> None:
    history = pd.DataFrame(
        [
            _scored("lead", 30, 20, False, []) | {"reasons": None},
            _scored("lead", 1, 70, True, []) | {"reasons": None},
        ]
    )

    hot = heating_up(history, NOW - 7 * DAY)

    assert hot["new_reasons"].tolist() == [""]


def test_only_features_whose_shown_value_changed_are_listed_at_most_six() -> None:
    features_before = {f"visit_{days}d": 0.0 for days in range(1, 9)} | {"days_since_visit": 258.871}
    features_now = {f"visit_{days}d": 1.0 for days in range(1, 9)} | {"days_since_visit": 258.874}
    history = pd.DataFrame(
        [
            _scored("lead", 30, 20, False, [], **features_before),
            _scored("lead", 1, 70, True, [], **features_now),
        ]
    )

    changed = heating_up(history, NOW - 7 * DAY, language="de").loc[0, "changed_features"]

    assert changed.startswith("Website-Besuche der letzten 1 Tage: 0 -> 1; ")
    assert changed.endswith("; and 2 more")  # 8 changed; the recency's 258.9 did not change as shown
    assert "Tage seit" not in changed
