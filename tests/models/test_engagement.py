"""Point-in-time engagement: only activities strictly before a lead's moment count; windows, recency and decay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.engagement import (
    ActivityIndex,
    ActivityVocabulary,
    EngagementWindows,
    engagement_features,
    scoring_moments,
)

WINDOWS = EngagementWindows(kinds=("visit", "demo_request"), windows_days=(7, 30), half_life_days=10.0)
MOMENT = pd.Timestamp("2026-03-01 12:00:00")
SECOND = pd.Timedelta(seconds=1)
DAY = pd.Timedelta(days=1)


def _activities(*rows: tuple[str, pd.Timestamp, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["lead_id", "timestamp", "kind"])


def _moments(**moments: pd.Timestamp) -> pd.Series:
    return pd.Series(list(moments.values()), index=pd.Index(list(moments), name="lead_id"), dtype="datetime64[ns]")


def test_an_activity_at_or_after_the_moment_changes_nothing() -> None:
    before = _activities(("L1", MOMENT - 3 * DAY, "visit"), ("L1", MOMENT - 20 * DAY, "demo_request"))
    later = pd.concat(
        [
            before,
            _activities(
                ("L1", MOMENT, "visit"),  # at the moment itself
                ("L1", MOMENT + SECOND, "visit"),  # one second after
                ("L1", MOMENT + SECOND, "demo_request"),
                ("L1", MOMENT + 400 * DAY, "visit"),
            ),
        ]
    )

    expected = engagement_features(before, _moments(L1=MOMENT), WINDOWS)
    pd.testing.assert_frame_equal(engagement_features(later, _moments(L1=MOMENT), WINDOWS), expected)
    # and one second before the moment does count
    earlier = pd.concat([before, _activities(("L1", MOMENT - SECOND, "visit"))])
    assert engagement_features(earlier, _moments(L1=MOMENT), WINDOWS).loc["L1", "visit_7d"] == 2


def test_windows_count_the_days_before_the_moment_with_the_edges_inside() -> None:
    activities = _activities(
        ("L1", MOMENT - 7 * DAY, "visit"),  # on the 7-day edge: inside
        ("L1", MOMENT - 7 * DAY - SECOND, "visit"),  # just outside 7 days, inside 30
        ("L1", MOMENT - 30 * DAY, "visit"),
        ("L1", MOMENT - 31 * DAY, "visit"),  # only in the decayed sum
        ("L2", MOMENT - DAY, "demo_request"),
    )

    features = engagement_features(activities, _moments(L1=MOMENT, L2=MOMENT, L3=MOMENT), WINDOWS)

    assert features.columns.tolist() == WINDOWS.feature_names()
    assert features["visit_7d"].tolist() == [1, 0, 0]
    assert features["visit_30d"].tolist() == [3, 0, 0]
    assert features["demo_request_7d"].tolist() == [0, 1, 0]
    assert features["visit_7d"].dtype == np.int64


def test_recency_is_days_since_the_last_activity_and_missing_when_there_was_none() -> None:
    activities = _activities(("L1", MOMENT - 2.5 * DAY, "visit"), ("L1", MOMENT - 9 * DAY, "visit"))

    features = engagement_features(activities, _moments(L1=MOMENT, L2=MOMENT), WINDOWS)

    assert features.loc["L1", "days_since_visit"] == pytest.approx(2.5)
    assert np.isnan(features.loc["L2", "days_since_visit"])
    assert np.isnan(features.loc["L1", "days_since_demo_request"])


def test_decayed_sums_halve_per_half_life() -> None:
    activities = _activities(
        ("L1", MOMENT - 10 * DAY, "visit"),  # one half-life old: 0.5
        ("L1", MOMENT - 20 * DAY, "visit"),  # two: 0.25
        ("L1", MOMENT - 1e-9 * DAY, "visit"),  # just now: ~1
    )

    features = engagement_features(activities, _moments(L1=MOMENT), WINDOWS)

    assert features.loc["L1", "visit_decayed"] == pytest.approx(1.75, abs=1e-6)
    assert features.loc["L1", "demo_request_decayed"] == 0.0


def test_each_lead_is_cut_at_its_own_moment_and_unknown_kinds_and_leads_are_ignored() -> None:
    activities = _activities(
        ("L1", MOMENT - DAY, "visit"),
        ("L2", MOMENT - DAY, "visit"),  # after L2's moment
        ("L1", MOMENT - DAY, "webinar"),  # a kind these windows do not read
        ("GHOST", MOMENT - DAY, "visit"),  # a lead that is not scored
    )
    moments = _moments(L1=MOMENT, L2=MOMENT - 2 * DAY, L3=pd.NaT)

    features = engagement_features(activities, moments, WINDOWS)

    assert features["visit_30d"].tolist() == [1, 0, 0]
    assert features.index.tolist() == ["L1", "L2", "L3"]


def test_no_activities_at_all_gives_zero_counts() -> None:
    features = engagement_features(_activities(), _moments(L1=MOMENT), WINDOWS)
    assert features.loc["L1", "visit_30d"] == 0
    assert features.loc["L1", "visit_decayed"] == 0.0


def test_the_windows_describe_themselves_as_engagement_input_columns() -> None:
    columns = WINDOWS.input_columns()

    assert [c.name for c in columns] == WINDOWS.feature_names()
    assert {c.group for c in columns} == {"engagement"}
    assert {c.name: c.role for c in columns}["visit_7d"] == "count"
    assert {c.name: c.role for c in columns}["days_since_visit"] == "numeric"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kinds": ()}, "activity kind"),
        ({"kinds": ("visit",), "windows_days": (0,)}, "windows_days"),
        ({"kinds": ("visit",), "half_life_days": 0.0}, "half_life_days"),
    ],
)
def test_windows_refuse_settings_that_mean_nothing(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EngagementWindows(**kwargs)  # type: ignore[arg-type]


# --- the scoring moment ----------------------------------------------------------------------------------------

INDEX = pd.Index(["L1", "L2", "L3"], name="lead_id")
CREATED = pd.Series(pd.to_datetime(["2026-01-01", "2026-01-10", "2026-02-01"]), index=INDEX)
AS_OF = pd.Timestamp("2026-02-05")
DISPOSITIONS = pd.DataFrame(
    {
        "lead_id": ["L1", "L1", "L2"],
        "timestamp": pd.to_datetime(["2026-01-03", "2026-01-02", "2026-01-20"]),
        "stage": ["mql", "sal", "mql"],
    }
)


def test_the_created_moment_is_creation_plus_days_and_never_after_the_export() -> None:
    moments = scoring_moments(CREATED, DISPOSITIONS, "created", 7, AS_OF, INDEX)

    assert moments.tolist() == [pd.Timestamp("2026-01-08"), pd.Timestamp("2026-01-17"), AS_OF]


def test_the_first_disposition_moment_falls_back_to_creation_for_untouched_leads() -> None:
    first = scoring_moments(CREATED, DISPOSITIONS, "first_disposition", 0, AS_OF, INDEX)
    mql = scoring_moments(CREATED, DISPOSITIONS, "mql", 0, AS_OF, INDEX)

    assert first.tolist() == [pd.Timestamp("2026-01-02"), pd.Timestamp("2026-01-20"), pd.Timestamp("2026-02-01")]
    assert mql.tolist() == [pd.Timestamp("2026-01-03"), pd.Timestamp("2026-01-20"), pd.Timestamp("2026-02-01")]


def test_a_moment_needs_creation_dates_or_dispositions() -> None:
    empty = DISPOSITIONS.iloc[:0]
    with pytest.raises(ValueError, match="creation dates"):
        scoring_moments(None, empty, "first_disposition", 0, AS_OF, INDEX)

    moments = scoring_moments(None, DISPOSITIONS, "first_disposition", 0, AS_OF, INDEX)
    assert moments.iloc[:2].tolist() == [pd.Timestamp("2026-01-02"), pd.Timestamp("2026-01-20")]
    assert pd.isna(moments.iloc[2])  # nothing to place it by: no activity counts for it


def test_an_activity_index_gives_each_set_of_leads_what_the_whole_table_gives() -> None:
    rng = np.random.default_rng(0)
    leads = [f"L{i}" for i in range(50)]
    activities = pd.DataFrame(
        {
            "lead_id": rng.choice([*leads, "GHOST"], 2_000),
            "timestamp": MOMENT - pd.to_timedelta(rng.uniform(-20, 120, 2_000), unit="D"),
            "kind": rng.choice(["visit", "demo_request", "webinar"], 2_000),
        }
    )
    index = ActivityIndex(activities, WINDOWS)
    chunk = pd.Index(["L7", "L3", "NOBODY", "L49"])

    from_whole_table = engagement_features(activities, pd.Series(MOMENT, index=chunk, dtype="datetime64[ns]"), WINDOWS)

    pd.testing.assert_frame_equal(index.features_at(chunk, MOMENT), from_whole_table)
    assert from_whole_table.loc["L7", "visit_30d"] > 0
    assert len(index) == int(activities["kind"].isin(WINDOWS.kinds).sum())


def test_a_requests_activity_lists_give_what_the_activity_index_gives_as_of_now() -> None:
    rng = np.random.default_rng(1)
    leads = ["L0", "L1", "L2"]
    activities = pd.DataFrame(
        {
            "lead_id": rng.choice(leads, 300),
            # some after the moment; to the second, as a CRM dates them (a datetime holds no nanoseconds)
            "timestamp": (MOMENT - pd.to_timedelta(rng.uniform(-5, 60, 300), unit="D")).floor("s"),
            "kind": rng.choice(["visit", "demo_request"], 300),
        }
    )
    vocabulary = ActivityVocabulary(WINDOWS, ("Visit", "Demo"), {"visit": "visit", "demo": "demo_request"}.get)
    lists = [
        [(at.to_pydatetime(), kind) for at, kind in zip(mine["timestamp"], mine["kind"], strict=True)]
        for mine in (activities[activities["lead_id"] == lead] for lead in leads)
    ]
    lists.append([])  # a lead that sent an empty list: no activity

    features = vocabulary.features_of_lists(lists, MOMENT.to_pydatetime())

    expected = ActivityIndex(activities, WINDOWS).features_at(pd.Index([*leads, "NOBODY"]), MOMENT)
    np.testing.assert_array_equal(features.to_numpy(), expected.to_numpy())
    assert list(features.columns) == WINDOWS.feature_names()
    assert features.iloc[3].filter(like="_7d").sum() == 0
    assert vocabulary.features_of_lists([], MOMENT.to_pydatetime()).empty
