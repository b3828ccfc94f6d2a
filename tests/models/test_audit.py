"""The quarterly audit's figures on a small hand-made quarter: every expected number is worked out by hand.

The quarter (as of 2025-06-30, horizon 90 days), latest score per lead:

lead  clock start    p     MQL grade SLA  source   what happened                               status
L1    01-10 09:00   .80   yes  A1   24h  webinar  sal 01-11 08:00 (North, 23h), sql, deal won   won
L2    01-10 09:00   .60   yes  A1   24h  webinar  sal 01-12 09:00 (South, 48h), deal lost       lost
L3    05-01 09:00   .40   yes  B1   24h  ads      nothing; horizon not over                    open
L4    06-29 12:00   .30   yes  A2   48h  ads      nothing; SLA deadline 07-01 still ahead      open
L5    02-01 09:00   .20   yes  B2   48h  ads      rejected no_budget 02-02 09:00 (North, 24h)  lost
L6    02-01 09:00   .10   no   D4   -    webinar  rejected wrong_timing 02-10 (North)          open (recycled)
L7    03-01 09:00   .50   no   C1   -    ads      re-scored; old rejection before clock start  lost (horizon over)
L8    05-15 09:00   .70   yes  A1   24h  webinar  sal 05-15 20:00 (South, 11h); sql + won after as_of  open
L9    01-20 09:00   .05   no   D3   -    webinar  rejected bad_data 01-21 09:00 (South)        lost
L10   07-02 (after as_of): not audited
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from models.audit import (
    PSI_EPSILON,
    AuditPolicy,
    OutOfRange,
    RangeTally,
    calibration_by_decile,
    discrimination,
    funnel_kpis,
    funnel_math,
    lead_outcomes,
    mql_rate_over_time,
    population_stability,
    psi,
    reference_profile,
    rejection_reasons,
    sla_compliance,
    verdict,
)

AS_OF = pd.Timestamp("2025-06-30")
HORIZON = 90
LEADS = ["L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9"]


def _scores() -> pd.DataFrame:
    rows = [
        ("L1", "2025-01-10 09:00", 0.80, True, "A1", 24.0, "webinar"),
        ("L2", "2025-01-10 09:00", 0.60, True, "A1", 24.0, "webinar"),
        ("L3", "2025-05-01 09:00", 0.40, True, "B1", 24.0, "ads"),
        ("L7", "2025-01-05 09:00", 0.90, True, "A1", 24.0, "ads"),  # L7's first score, superseded below
        ("L4", "2025-06-29 12:00", 0.30, True, "A2", 48.0, "ads"),
        ("L5", "2025-02-01 09:00", 0.20, True, "B2", 48.0, "ads"),
        ("L6", "2025-02-01 09:00", 0.10, False, "D4", np.nan, "webinar"),
        ("L7", "2025-03-01 09:00", 0.50, False, "C1", np.nan, "ads"),
        ("L8", "2025-05-15 09:00", 0.70, True, "A1", 24.0, "webinar"),
        ("L9", "2025-01-20 09:00", 0.05, False, "D3", np.nan, "webinar"),
        ("L10", "2025-07-02 09:00", 0.95, True, "A1", 24.0, "ads"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["lead_id", "clock_start", "probability", "is_mql", "grade", "respond_within_hours", "lead_source"],
    )
    return frame.assign(
        clock_start=pd.to_datetime(frame["clock_start"]),
        score=(frame["probability"] * 100).round().astype(int),
        campaign="2025Q1",
        model_version="3",
    )


def _dispositions() -> pd.DataFrame:
    rows = [
        ("L1", "2025-01-10 10:00", "mql", None, "North"),  # the MQL hand-over itself is no contact
        ("L1", "2025-01-11 08:00", "sal", None, "North"),
        ("L1", "2025-01-15 09:00", "sql", None, "North"),
        ("L2", "2025-01-12 09:00", "sal", None, "South"),
        ("L5", "2025-02-02 09:00", "rejected", "no_budget", "North"),
        ("L6", "2025-02-10 09:00", "rejected", "wrong_timing", "North"),
        ("L7", "2025-01-06 09:00", "rejected", "wrong_size", "North"),  # before L7's latest clock start
        ("L8", "2025-05-15 20:00", "sal", None, "South"),
        ("L8", "2025-07-01 09:00", "sql", None, "South"),  # after as_of
        ("L9", "2025-01-21 09:00", "rejected", "bad_data", "South"),
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "timestamp", "stage", "reason", "sales_team"])
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"]))


def _deals() -> pd.DataFrame:
    rows = [
        ("D1", "L1", "2025-01-20", "2025-03-01", 20000.0, "won"),
        ("D2", "L2", "2025-01-20", "2025-02-15", 15000.0, "lost"),
        ("D8", "L8", "2025-07-01", "2025-07-05", 30000.0, "won"),  # after as_of
    ]
    frame = pd.DataFrame(rows, columns=["deal_id", "lead_id", "created_at", "closed_at", "amount_eur", "outcome"])
    return frame.assign(created_at=pd.to_datetime(frame["created_at"]), closed_at=pd.to_datetime(frame["closed_at"]))


@pytest.fixture(scope="module")
def outcomes() -> pd.DataFrame:
    return lead_outcomes(_scores(), _dispositions(), _deals(), AS_OF, HORIZON)


def _by_lead(outcomes: pd.DataFrame, column: str) -> list[object]:
    return outcomes.set_index("lead_id").loc[LEADS, column].tolist()


# ------------------------------------------------------------------------------------------------ lead_outcomes


def test_each_lead_gets_its_status_and_label(outcomes: pd.DataFrame) -> None:
    assert sorted(outcomes["lead_id"]) == sorted(LEADS)  # L10 came in after as_of
    assert _by_lead(outcomes, "status") == ["won", "lost", "open", "open", "lost", "open", "lost", "open", "lost"]
    labels = _by_lead(outcomes, "label")
    assert labels[:2] == [1.0, 0.0]
    assert [math.isnan(v) for v in labels] == [False, False, True, True, False, True, False, True, False]
    assert _by_lead(outcomes, "won") == [True] + [False] * 8
    assert _by_lead(outcomes, "lost") == [False, True, False, False, True, False, True, False, True]


def test_open_and_recycled_leads_are_never_lost(outcomes: pd.DataFrame) -> None:
    by_lead = outcomes.set_index("lead_id")
    # L6: rejected for wrong timing, horizon over: recycled, so open (as in the training labels)
    assert by_lead.loc["L6", ["recycled", "rejected", "rejection_reason", "status"]].tolist() == [
        True,
        True,
        "wrong_timing",
        "open",
    ]
    assert not by_lead.loc[["L3", "L4", "L6", "L8"], "lost"].any()


def test_latest_score_is_used_and_earlier_life_ignored(outcomes: pd.DataFrame) -> None:
    l7 = outcomes.set_index("lead_id").loc["L7"]
    assert (l7["probability"], l7["is_mql"], l7["grade"]) == (0.50, False, "C1")
    # the wrong_size rejection belongs to L7's first life (before its latest clock start)
    assert not l7["rejected"]
    assert not l7["reviewed"]
    assert l7["status_reason"] == "no_win_within_horizon"


def test_events_after_as_of_are_ignored(outcomes: pd.DataFrame) -> None:
    l8 = outcomes.set_index("lead_id").loc["L8"]
    # the sql disposition and the won deal of July are not known on 30 June
    assert l8[["accepted", "reached_sql", "won", "status"]].tolist() == [True, False, False, "open"]


def test_sales_stages_and_first_contact(outcomes: pd.DataFrame) -> None:
    assert _by_lead(outcomes, "reviewed") == [True, True, False, False, True, True, False, True, True]
    assert _by_lead(outcomes, "accepted") == [True, True, False, False, False, False, False, True, False]
    # L2 has no sql disposition but a deal: it was qualified
    assert _by_lead(outcomes, "reached_sql") == [True, True] + [False] * 7
    assert _by_lead(outcomes, "sales_team")[:2] == ["North", "South"]
    by_lead = outcomes.set_index("lead_id")
    assert by_lead.loc["L1", "first_contact_at"] == pd.Timestamp("2025-01-11 08:00")  # not the mql hand-over
    assert pd.isna(by_lead.loc["L3", "first_contact_at"])
    assert pd.isna(by_lead.loc["L3", "sales_team"])


def test_deals_from_an_outcome_column_imply_no_stages() -> None:
    outcomes = lead_outcomes(_scores(), _dispositions(), _deals(), AS_OF, HORIZON, deals_imply_stages=False)

    # L2's lost deal is only an outcome: its sal disposition counts, an SQL it never had does not
    assert _by_lead(outcomes, "reached_sql") == [True] + [False] * 8
    assert _by_lead(outcomes, "accepted")[:2] == [True, True]
    assert _by_lead(outcomes, "status")[:2] == ["won", "lost"]  # the outcome itself still counts


def test_inputs_are_not_mutated() -> None:
    scores, dispositions, deals = _scores(), _dispositions(), _deals()
    lead_outcomes(scores, dispositions, deals, AS_OF, HORIZON)
    pd.testing.assert_frame_equal(scores, _scores())
    pd.testing.assert_frame_equal(dispositions, _dispositions())
    pd.testing.assert_frame_equal(deals, _deals())


def test_without_a_horizon_outcomes_count_as_exported_and_no_lead_is_lost_for_age() -> None:
    # an export without dates: L7 won, as the export says, 111 days after its clock start (beyond 90 days)
    late_win = pd.DataFrame(
        [("D7", "L7", pd.Timestamp("2025-06-20"), pd.Timestamp("2025-06-20"), np.nan, "won")], columns=_deals().columns
    )
    deals = pd.concat([_deals(), late_win], ignore_index=True)

    dated = lead_outcomes(_scores(), _dispositions(), deals, AS_OF, HORIZON)
    undated = lead_outcomes(_scores(), _dispositions(), deals, AS_OF, None)
    nothing = lead_outcomes(_scores(), _dispositions().iloc[:0], _deals().iloc[:0], AS_OF, None)

    assert dated.set_index("lead_id").loc["L7", "status"] == "lost"  # no win within the 90-day horizon
    assert _by_lead(undated, "status") == ["won", "lost", "open", "open", "lost", "open", "won", "open", "lost"]
    assert _by_lead(undated, "status_reason")[0] == "won_as_exported"
    assert _by_lead(undated, "status_reason")[6] == "won_as_exported"
    assert _by_lead(undated, "status")[5] == "open"  # recycled stays open, as with a horizon
    assert (nothing["status"] == "open").all()  # old leads without an outcome are never lost for age


def test_no_dispositions_or_deals_yet() -> None:
    outcomes = lead_outcomes(_scores(), _dispositions().iloc[:0], _deals().iloc[:0], AS_OF, HORIZON)
    # horizon over (clock start up to 2025-04-01) -> lost; L3, L4, L8 still open
    assert _by_lead(outcomes, "status") == ["lost", "lost", "open", "open", "lost", "lost", "lost", "open", "lost"]
    assert not outcomes["reviewed"].any()


# ------------------------------------------------------------------------------------- ranking and calibration


def test_discrimination_on_resolved_leads(outcomes: pd.DataFrame) -> None:
    metrics = discrimination(outcomes)
    # resolved: L1 (won, .80), L2 (.60), L5 (.20), L7 (.50), L9 (.05); open: L3, L4, L6, L8
    assert metrics["resolved_leads"] == 5
    assert metrics["open_leads"] == 4
    assert metrics["won_leads"] == 1
    assert metrics["both_classes"] == 1.0
    assert metrics["base_rate"] == pytest.approx(0.2)
    assert metrics["mean_predicted"] == pytest.approx(2.15 / 5)
    assert metrics["roc_auc"] == pytest.approx(1.0)  # the one winner outranks all four losers
    assert metrics["brier"] == pytest.approx((0.2**2 + 0.6**2 + 0.2**2 + 0.5**2 + 0.05**2) / 5)
    assert metrics["ece"] == pytest.approx((0.2 + 0.6 + 0.2 + 0.5 + 0.05) / 5)  # 5 leads: one per bin


def test_discrimination_with_one_class_says_so(outcomes: pd.DataFrame) -> None:
    metrics = discrimination(outcomes[outcomes["lead_id"] != "L1"])
    assert metrics["both_classes"] == 0.0
    assert metrics["resolved_leads"] == 4
    assert math.isnan(metrics["roc_auc"])
    assert math.isnan(metrics["ece"])
    assert metrics["base_rate"] == 0.0


def test_calibration_table_on_a_tiny_set(outcomes: pd.DataFrame) -> None:
    table = calibration_by_decile(outcomes, bins=2)
    # resolved by probability: .05 .20 .50 | .60 .80(won)
    assert table["decile"].tolist() == [1, 2]
    assert table["leads"].tolist() == [3, 2]
    assert table["won"].tolist() == [0, 1]
    assert table["mean_predicted"].tolist() == pytest.approx([0.25, 0.70])
    assert table["conversion_rate"].tolist() == pytest.approx([0.0, 0.5])
    assert table["min_probability"].tolist() == pytest.approx([0.05, 0.60])
    assert table["max_probability"].tolist() == pytest.approx([0.50, 0.80])


def test_calibration_table_with_ties_and_few_leads() -> None:
    tied = pd.DataFrame({"probability": [0.3, 0.3, 0.3, 0.3], "label": [1.0, 0.0, 0.0, np.nan]})
    table = calibration_by_decile(tied)  # 3 resolved < 10 bins: one lead per bin, ties split in row order
    assert table["leads"].tolist() == [1, 1, 1]
    assert table["conversion_rate"].tolist() == [1.0, 0.0, 0.0]
    assert table["mean_predicted"].tolist() == pytest.approx([0.3] * 3)
    assert calibration_by_decile(tied.assign(label=np.nan)).empty


# ------------------------------------------------------------------------------------------------------- funnel


def test_funnel_overall(outcomes: pd.DataFrame) -> None:
    row = funnel_kpis(outcomes, min_mqls=1).iloc[0]
    # MQLs L1 L2 L3 L4 L5 L8; reviewed L1 L2 L5 L8; accepted L1 L2 L8; SQL L1 L2; resolved L1 L2 L5, won L1
    assert row["segment"] == "all"
    assert row[["leads", "mqls", "reviewed", "accepted", "sqls", "resolved", "won", "recycled"]].tolist() == [
        9,
        6,
        4,
        3,
        2,
        3,
        1,
        0,
    ]
    assert row["mql_rate"] == pytest.approx(6 / 9)
    assert row["sal_rate"] == pytest.approx(3 / 4)
    assert row["mql_to_sql"] == pytest.approx(2 / 6)
    assert row["mql_to_won"] == pytest.approx(1 / 3)
    assert (row["sal_flag"], row["sql_flag"]) == ("ok", "ok")


def test_funnel_flags_by_source(outcomes: pd.DataFrame) -> None:
    table = funnel_kpis(outcomes, by="lead_source", min_mqls=3).set_index("segment")
    # webinar: MQLs L1 L2 L8, all reviewed and accepted, 2 SQL; ads: MQLs L3 L4 L5, only L5 reviewed (rejected)
    assert table.loc["webinar", ["mqls", "sal_rate", "mql_to_sql"]].tolist() == pytest.approx([3, 1.0, 2 / 3])
    assert table.loc["webinar", ["sal_flag", "sql_flag"]].tolist() == ["ok", "good"]
    assert table.loc["ads", ["mqls", "sal_rate", "mql_to_sql"]].tolist() == pytest.approx([3, 0.0, 0.0])
    assert table.loc["ads", ["sal_flag", "sql_flag"]].tolist() == ["low", "low"]
    too_few = funnel_kpis(outcomes, by="lead_source", min_mqls=4)
    assert set(too_few["sal_flag"]) == set(too_few["sql_flag"]) == {"too few"}
    assert too_few["leads"].tolist() == [5, 4]  # still listed


def test_rejection_reasons(outcomes: pd.DataFrame) -> None:
    table = rejection_reasons(outcomes, by="lead_source")
    assert table.to_dict("list") == {
        "segment": ["ads", "webinar", "webinar"],
        "reason": ["no_budget", "bad_data", "wrong_timing"],
        "rejections": [1, 1, 1],
        "share": [1.0, 0.5, 0.5],
    }
    overall = rejection_reasons(outcomes)
    assert overall["rejections"].sum() == 3
    assert overall["share"].tolist() == pytest.approx([1 / 3] * 3)


# ---------------------------------------------------------------------------------------------------------- SLA


def test_sla_by_grade(outcomes: pd.DataFrame) -> None:
    table = sla_compliance(outcomes, AS_OF, by="grade").set_index("segment")
    # A1: L1 23h within, L2 48h breach, L8 11h within (L7's old A1 score does not count)
    assert table.loc["A1", ["leads", "within", "breached", "pending"]].tolist() == [3, 2, 1, 0]
    assert table.loc["A1", "share_within_sla"] == pytest.approx(2 / 3)
    assert table.loc["A1", "median_hours_to_contact"] == pytest.approx(23.0)
    # A2: L4 not contacted, deadline 07-01 12:00 still ahead: pending, not judged
    assert table.loc["A2", ["leads", "within", "breached", "pending"]].tolist() == [1, 0, 0, 1]
    assert math.isnan(table.loc["A2", "share_within_sla"])
    # B1: L3 never contacted, deadline long passed: breach
    assert table.loc["B1", ["breached", "share_within_sla"]].tolist() == [1, 0.0]
    assert table.loc["B2", ["within", "share_within_sla", "median_hours_to_contact"]].tolist() == [1, 1.0, 24.0]
    assert set(table.index) == {"A1", "A2", "B1", "B2"}  # nurture grades have no response time


def test_sla_by_sales_team(outcomes: pd.DataFrame) -> None:
    table = sla_compliance(outcomes, AS_OF, by="sales_team").set_index("segment")
    assert table.loc["North", ["within", "breached", "share_within_sla"]].tolist() == [2, 0, 1.0]
    assert table.loc["North", "median_hours_to_contact"] == pytest.approx(23.5)
    assert table.loc["South", ["within", "breached", "share_within_sla"]].tolist() == [1, 1, 0.5]
    assert table.loc["South", "median_hours_to_contact"] == pytest.approx(29.5)
    assert table.loc["(unknown)", ["leads", "breached", "pending"]].tolist() == [2, 1, 1]


# ---------------------------------------------------------------------------------------------------- stability


def test_psi_on_two_bins_by_hand() -> None:
    # expected .5/.5, actual .25/.75: (-.25)·ln(.5) + (.25)·ln(1.5)
    assert psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert psi(np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.5, 0.0])) == 0.0


def test_profile_and_psi_of_a_numeric_feature() -> None:
    reference = pd.DataFrame({"visits": [0.0, 0.0, 1.0, 1.0]})
    profile = reference_profile(reference, np.array([0.1, 0.2, 0.3, 0.4]), bins=2)
    assert profile["features"]["visits"] == {"kind": "numeric", "edges": [0.5], "shares": [0.5, 0.5], "missing": 0.0}
    json.dumps(profile, allow_nan=False)

    table = population_stability(
        profile, pd.DataFrame({"visits": [0.0, 1.0, 1.0, 1.0]}), np.array([0.1, 0.2, 0.3, 0.4])
    )
    visits = table.set_index("feature").loc["visits"]
    assert visits["psi"] == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))  # 0.2747
    assert visits["flag"] == "drift"
    assert table.set_index("feature").loc["score", ["psi", "flag"]].tolist() == [0.0, "stable"]
    assert table["feature"].tolist() == ["visits", "score"]  # most shifted first


def test_heavy_ties_missing_values_and_booleans_in_the_profile() -> None:
    reference = pd.DataFrame(
        {
            "downloads": [0.0] * 8 + [5.0, 10.0],
            "size": [1.0, 2.0, np.nan, np.nan, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            "demo": [True] * 7 + [False] * 3,
        }
    )
    profile = reference_profile(reference, np.linspace(0, 1, 10), bins=4)
    downloads = profile["features"]["downloads"]
    assert downloads["edges"] == [0.0]  # the three quartiles are all 0: one edge, two bins
    assert downloads["shares"] == pytest.approx([0.8, 0.2])
    assert profile["features"]["size"]["missing"] == pytest.approx(0.2)
    assert sum(profile["features"]["size"]["shares"]) == pytest.approx(0.8)
    assert profile["features"]["demo"] == {"kind": "categorical", "shares": {"True": 0.7, "False": 0.3}, "missing": 0.0}
    json.dumps(profile, allow_nan=False)


def test_new_categories_count_in_psi() -> None:
    profile = reference_profile(pd.DataFrame({"source": ["a", "a", "b", "b"]}), np.zeros(4))
    table = population_stability(profile, pd.DataFrame({"source": ["a", "a", "b", "c"]}), np.zeros(4))
    # a: .5 -> .5 (0); b: .5 -> .25; new "c": 0 (-> epsilon) -> .25
    by_hand = 0.25 * math.log(2) + (0.25 - PSI_EPSILON) * math.log(0.25 / PSI_EPSILON)
    assert table.set_index("feature").loc["source", "psi"] == pytest.approx(by_hand)  # 2.13


def test_psi_refuses_a_feature_missing_from_the_audited_leads() -> None:
    profile = reference_profile(pd.DataFrame({"source": ["a"], "visits": [1.0]}), np.zeros(1))
    with pytest.raises(ValueError, match="visits"):
        population_stability(profile, pd.DataFrame({"source": ["a"]}), np.zeros(1))


# ------------------------------------------------------------------------------------------------ over time


def test_mql_rate_by_month_lists_empty_months(outcomes: pd.DataFrame) -> None:
    table = mql_rate_over_time(outcomes, freq="M")
    assert table["period_start"].tolist() == list(pd.date_range("2025-01-01", periods=6, freq="MS"))
    assert table["leads"].tolist() == [3, 2, 1, 0, 2, 1]  # April: no lead at all
    assert table["mqls"].tolist() == [2, 1, 0, 0, 2, 1]
    assert table["mql_rate"].iloc[0] == pytest.approx(2 / 3)
    assert math.isnan(table["mql_rate"].iloc[3])
    assert table["mean_score"].iloc[0] == pytest.approx((80 + 60 + 5) / 3)
    assert table["mean_probability"].iloc[4] == pytest.approx((0.40 + 0.70) / 2)


# ---------------------------------------------------------------------------------------------------- funnel math


def test_funnel_math_by_hand(outcomes: pd.DataFrame) -> None:
    plan = funnel_math(outcomes, target_customers_per_month=0.5, months=3)
    # resolved MQLs L1 (won, SQL), L2 (SQL), L5: MQL->SQL 2/3, SQL->won 1/2
    assert plan["mql_to_sql"] == pytest.approx(2 / 3)
    assert plan["sql_to_won"] == pytest.approx(0.5)
    assert plan["mql_to_won"] == pytest.approx(1 / 3)
    assert plan["sqls_needed_per_month"] == pytest.approx(1.0)
    assert plan["mqls_needed_per_month"] == pytest.approx(1.5)
    assert plan["leads_per_month"] == pytest.approx(3.0)
    assert plan["mqls_per_month"] == pytest.approx(2.0)
    # 4.5 MQLs in the quarter -> the top 5 leads: .80 .70 .60 .50 .40
    assert plan["threshold_probability"] == pytest.approx(0.40)
    assert (plan["capped"], plan["note"]) == (False, "")


def test_funnel_math_caps_at_all_leads(outcomes: pd.DataFrame) -> None:
    exactly_all = funnel_math(outcomes, target_customers_per_month=1, months=3)  # 3 MQLs/month = all 9 leads
    assert (exactly_all["threshold_probability"], exactly_all["capped"]) == (pytest.approx(0.05), False)
    too_many = funnel_math(outcomes, target_customers_per_month=2, months=3)  # 6/month = 18 > 9 leads
    assert too_many["mqls_needed_per_month"] == pytest.approx(6.0)
    assert too_many["capped"] is True
    assert too_many["threshold_probability"] == pytest.approx(0.05)
    assert "more leads are needed" in too_many["note"]


def test_funnel_math_without_wins_says_so(outcomes: pd.DataFrame) -> None:
    plan = funnel_math(outcomes[outcomes["lead_id"] != "L1"], target_customers_per_month=1, months=3)
    assert math.isnan(plan["mqls_needed_per_month"])
    assert math.isnan(plan["threshold_probability"])
    assert "no won MQL" in plan["note"]
    with pytest.raises(ValueError, match="positive"):
        funnel_math(outcomes, target_customers_per_month=0, months=3)


# -------------------------------------------------------------------------------------------------------- verdict

_GOOD = {
    "resolved_leads": 800.0,
    "open_leads": 200.0,
    "won_leads": 40.0,
    "both_classes": 1.0,
    "roc_auc": 0.80,
    "ece": 0.01,
    "base_rate": 0.05,
    "mean_predicted": 0.052,
}
_STABLE = pd.DataFrame({"feature": ["lead_source", "score"], "psi": [0.05, 0.02]})


def test_verdict_keep() -> None:
    decision = verdict(_GOOD, _STABLE, reference_auc=0.81)
    assert decision.action == "keep"
    assert "AUC 0.80, 0.81 at training" in decision.reasons[0]


def test_verdict_too_few_resolved_leads() -> None:
    decision = verdict({**_GOOD, "resolved_leads": 60.0, "won_leads": 3.0}, _STABLE, reference_auc=0.81)
    assert decision.action == "keep"
    assert decision.reasons[0].startswith("Too few resolved leads to judge")


def test_verdict_does_not_judge_outcomes_while_most_leads_are_open() -> None:
    early = {**_GOOD, "roc_auc": 0.60, "open_leads": 1200.0}  # 1200 of 2000 open: 60% > 50%
    drifted = pd.DataFrame({"feature": ["email_opens", "score"], "psi": [1.2, 0.1]})

    waiting = verdict(early, _STABLE, reference_auc=0.81, mature_after=pd.Timestamp("2027-06-29"))
    moved = verdict(early, drifted, reference_auc=0.81)

    assert waiting.action == "keep"
    assert waiting.reasons[0].startswith("60% of the leads are still open")
    assert "Audit this quarter again after 2027-06-29" in waiting.reasons[0]
    assert moved.action == "retrain"  # drift needs no outcomes
    assert "email_opens" in moved.reasons[0]


def test_verdict_retrain_when_ranking_dropped() -> None:
    decision = verdict({**_GOOD, "roc_auc": 0.77}, _STABLE, reference_auc=0.81)  # drop .04 > .03
    assert decision.action == "retrain"
    assert "AUC 0.77, was 0.81" in decision.reasons[0]
    assert verdict({**_GOOD, "roc_auc": 0.79}, _STABLE, reference_auc=0.81).action == "keep"  # drop .02


def test_a_ranking_drop_within_the_quarters_noise_is_no_reason_to_retrain() -> None:
    # the Salesforce-shaped audit: 88 won leads, AUC 0.67 against 0.71 at training
    noisy = {**_GOOD, "roc_auc": 0.67, "roc_auc_ci_low": 0.61, "roc_auc_ci_high": 0.73}
    clear = {**_GOOD, "roc_auc": 0.62, "roc_auc_ci_low": 0.57, "roc_auc_ci_high": 0.66}

    kept = verdict(noisy, _STABLE, reference_auc=0.71)
    retrained = verdict(clear, _STABLE, reference_auc=0.71)

    assert kept.action == "keep"
    assert any("AUC 0.67 (0.61-0.73) is below training's 0.71, but within" in reason for reason in kept.reasons)
    assert retrained.action == "retrain"
    assert "AUC 0.62 (0.57-0.66), was 0.71" in retrained.reasons[0]


def test_verdict_retrain_when_a_feature_drifted_names_it() -> None:
    drifted = pd.DataFrame({"feature": ["campaign", "lead_source", "score"], "psi": [0.35, 0.15, 0.5]})
    decision = verdict(_GOOD, drifted, reference_auc=0.81)
    assert decision.action == "retrain"
    assert "campaign" in decision.reasons[0]
    assert any("lead_source" in reason for reason in decision.reasons[1:])  # watch level: mentioned only


def test_verdict_recalibrate_when_probabilities_are_off() -> None:
    high_ece = verdict({**_GOOD, "ece": 0.05}, _STABLE, reference_auc=0.81)
    assert high_ece.action == "recalibrate"
    assert "Re-fit the calibration" in high_ece.reasons[0]
    level_off = verdict({**_GOOD, "mean_predicted": 0.08}, _STABLE)  # promised 8%, 5% converted: 60% too high
    assert level_off.action == "recalibrate"


def test_verdict_adds_funnel_findings(outcomes: pd.DataFrame) -> None:
    funnel = funnel_kpis(outcomes, min_mqls=1).assign(sal_flag="low", sal_rate=0.45)
    decision = verdict(_GOOD, _STABLE, funnel_overall=funnel, policy=AuditPolicy(sal_low=0.6))
    assert decision.action == "keep"
    assert any("accepted only 45%" in reason for reason in decision.reasons)


# --- the scored leads against the training leads' range (leadq score) ------------------------------------------------


def _training_profile(rng: np.random.Generator, n: int = 2_000) -> dict[str, object]:
    features = pd.DataFrame(
        {
            "visits": rng.poisson(12, n).astype(float) + 3,  # counted up to the export's day: 3 and more
            "employees": np.exp(rng.normal(4, 1, n)),
            "unsubscribed": rng.integers(0, 2, n).astype(float),  # a yes/no: no range to be beyond
        }
    )
    return reference_profile(features, rng.random(n))


def _in_chunks(tally: RangeTally, features: pd.DataFrame, size: int) -> RangeTally:
    for start in range(0, len(features), size):
        tally.add({name: features[name].to_numpy()[start : start + size] for name in features.columns})
    return tally


def test_most_scored_leads_below_nearly_every_training_leads_value_are_named_with_the_shares() -> None:
    rng = np.random.default_rng(5)
    profile = _training_profile(rng)
    n = 600
    new_leads = pd.DataFrame(
        {
            "visits": rng.integers(1, 4, n).astype(float),  # new leads: 1-3 visits so far
            "employees": np.exp(rng.normal(4, 1, n)),
            "unsubscribed": np.zeros(n),
        }
    )
    new_leads.loc[:49, "visits"] = np.nan  # missing values are not counted as beyond

    found = _in_chunks(RangeTally(profile), new_leads, 128).beyond_training()

    first_edge = profile["features"]["visits"]["edges"][0]
    training_below = profile["features"]["visits"]["shares"][0]
    assert found == [OutOfRange("visits", "below", first_edge, 1.0, pytest.approx(training_below), n - 50)]


def test_a_number_far_above_the_training_range_is_named_and_leads_like_the_training_ones_are_not() -> None:
    rng = np.random.default_rng(6)
    profile = _training_profile(rng)
    like_training = pd.DataFrame(
        {"visits": rng.poisson(12, 800) + 3.0, "employees": np.exp(rng.normal(4, 1, 800)), "unsubscribed": np.ones(800)}
    )
    bigger = like_training.assign(employees=like_training["employees"] * 100)

    assert _in_chunks(RangeTally(profile), like_training, 100).beyond_training() == []
    (found,) = _in_chunks(RangeTally(profile), bigger, 100).beyond_training()
    assert (found.feature, found.side, found.bound) == (
        "employees",
        "above",
        profile["features"]["employees"]["edges"][-1],
    )
    assert found.share > 0.95
    assert found.training_share == pytest.approx(0.1, abs=0.01)


def test_too_few_scored_leads_with_a_value_say_nothing_of_the_range() -> None:
    rng = np.random.default_rng(7)
    tally = RangeTally(_training_profile(rng))
    tally.add({"visits": np.full(49, 0.0), "employees": np.full(49, np.nan)})

    assert tally.beyond_training() == []
