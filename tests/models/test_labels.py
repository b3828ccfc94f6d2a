"""The label rule, case by case, and the out-of-time split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.contract import CRMTables, DataContractError
from models.labels import build_labels, quarter_bounds, resolve_as_of, split_by_time, split_leads, unsettled_quarters
from tests.builders import crm_tables

AS_OF = pd.Timestamp("2025-12-31")
HORIZON = 180


def _crm(leads: list[tuple[str, str]], dispositions: list[tuple], deals: list[tuple]) -> CRMTables:
    return crm_tables(
        pd.DataFrame(leads, columns=["lead_id", "created_at"]),
        pd.DataFrame(dispositions, columns=["lead_id", "timestamp", "stage", "reason", "sales_team"]),
        pd.DataFrame(deals, columns=["deal_id", "lead_id", "created_at", "closed_at", "amount_eur", "outcome"]),
    )


@pytest.fixture
def labelled() -> pd.DataFrame:
    leads = [
        ("won_in_time", "2025-01-10"),
        ("won_late", "2025-01-10"),
        ("lost", "2025-11-01"),
        ("rejected", "2025-11-01"),
        ("recycled", "2025-01-10"),
        ("rejected_timing", "2025-01-10"),
        ("silent_old", "2025-01-10"),
        ("silent_new", "2025-11-01"),
        ("open_deal_old", "2025-01-10"),
        ("won_recent", "2025-11-01"),
        ("won_after_as_of", "2025-11-01"),
        ("created_after_as_of", "2026-01-05"),
    ]
    dispositions = [
        ("rejected", "2025-11-03", "rejected", "wrong_size", "DACH North"),
        ("recycled", "2025-01-12", "mql", None, "DACH North"),
        ("recycled", "2025-01-20", "recycled", "wrong_timing", "DACH North"),
        ("rejected_timing", "2025-01-20", "rejected", "wrong_timing", "DACH North"),
        ("won_late", "2025-01-12", "sql", None, "DACH South"),
    ]
    deals = [
        ("D1", "won_in_time", "2025-02-01", "2025-05-01", 1000.0, "won"),
        ("D2", "won_late", "2025-02-01", "2025-09-01", 1000.0, "won"),
        ("D3", "lost", "2025-11-10", "2025-12-01", 1000.0, "lost"),
        ("D4", "open_deal_old", "2025-02-01", None, 1000.0, "open"),
        ("D5", "won_recent", "2025-11-05", "2025-12-20", 1000.0, "won"),
        ("D6", "won_after_as_of", "2025-11-05", "2026-01-20", 1000.0, "won"),
    ]
    labels = build_labels(_crm(leads, dispositions, deals), HORIZON, AS_OF)
    return labels.set_index("lead_id")


@pytest.mark.parametrize(
    ("lead_id", "status", "reason"),
    [
        ("won_in_time", "positive", "won_within_horizon"),
        ("won_recent", "positive", "won_within_horizon"),
        ("won_late", "negative", "won_after_horizon"),
        ("lost", "negative", "deal_lost"),
        ("rejected", "negative", "rejected_wrong_size"),
        ("recycled", "censored", "recycled_wrong_timing"),
        ("rejected_timing", "censored", "recycled_wrong_timing"),
        ("silent_old", "negative", "no_win_within_horizon"),
        ("open_deal_old", "negative", "no_win_within_horizon"),
        ("silent_new", "censored", "open"),
        ("won_after_as_of", "censored", "open"),
    ],
)
def test_label_rule(labelled: pd.DataFrame, lead_id: str, status: str, reason: str) -> None:
    row = labelled.loc[lead_id]

    assert (row["label_status"], row["label_reason"]) == (status, reason)
    expected_label = {"positive": 1.0, "negative": 0.0}.get(status)
    assert row["label"] == expected_label if expected_label is not None else np.isnan(row["label"])


def test_leads_created_after_as_of_are_not_labelled(labelled: pd.DataFrame) -> None:
    assert "created_after_as_of" not in labelled.index


def test_as_of_defaults_to_the_latest_event(small_crm: CRMTables) -> None:
    tables = crm_tables(small_crm.leads, small_crm.dispositions, small_crm.deals)

    assert resolve_as_of(tables) == pd.Timestamp("2025-04-01")
    assert resolve_as_of(tables, pd.Timestamp("2025-03-01")) == pd.Timestamp("2025-03-01")


def _quarterly_labels(quarters: list[str], per_quarter: int = 40) -> pd.DataFrame:
    rows = []
    for q in quarters:
        start = pd.Period(q, freq="Q").start_time
        for i in range(per_quarter):
            rows.append(
                {"lead_id": f"{q}-{i}", "created_at": start + pd.Timedelta(days=i % 80), "label": float(i % 4 == 0)}
            )
    return pd.DataFrame(rows)


def test_split_uses_only_mature_quarters_in_time_order() -> None:
    labels = _quarterly_labels(["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3"])

    split = split_by_time(labels, pd.Timestamp("2025-09-30"), horizon_days=90, test_quarters=1, calibration_quarters=1)

    assert split.test_quarters == ["2025Q2"]
    assert split.calibration_quarters == ["2025Q1"]
    assert split.train_quarters == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert split.immature_labelled == 40
    assert len(split.train) == 160
    assert len(split.calibration) == 40
    assert len(split.test) == 40
    assert not set(split.train) & set(split.test)


def test_labels_as_exported_leave_out_the_latest_quarters_while_their_deals_are_still_open() -> None:
    labels = _quarterly_labels(["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"])
    created = labels["created_at"]
    stale = labels.index[::25]  # 4% open in every quarter: leads nobody closed, the usual
    labels.loc[stale, "label"] = np.nan
    labels.loc[(created >= "2025-01-01") & (labels.index % 5 == 1), "label"] = np.nan  # +20%: deals still open
    labels.loc[(created >= "2025-04-01") & (labels.index % 5 == 2), "label"] = np.nan  # +40%

    split = split_by_time(labels, pd.Timestamp("2025-06-30"), horizon_days=0, test_quarters=1, calibration_quarters=1)

    assert split.test_quarters == ["2024Q4"]  # the latest quarter whose open share is the usual
    assert split.calibration_quarters == ["2024Q3"]
    assert list(split.unsettled) == ["2025Q1", "2025Q2"]
    assert split.unsettled["2025Q2"] == pytest.approx(0.4 + 0.04, abs=0.03)
    assert split.immature_labelled == int(labels.loc[created >= "2025-01-01", "label"].notna().sum())
    indexed = labels.set_index("lead_id")
    as_split = split_leads(indexed["label"], indexed["created_at"], pd.Timestamp("2025-06-30"), horizon_days=0)
    assert as_split.test_quarters == ["2024Q4"]
    assert "later quarters left out while many of their leads are still open (2025Q1 2" in as_split.reason


def test_a_yes_no_outcome_leaves_out_the_latest_quarters_while_they_convert_below_the_usual() -> None:
    labels = _quarterly_labels(["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"], per_quarter=400)
    created = labels["created_at"]
    # 25% convert; leads of the last two quarters have had less time: a "0" there is often a lead still converting
    labels.loc[(created >= "2025-01-01") & (labels.index % 8 == 0), "label"] = 0.0  # 12.5% converted so far
    labels.loc[created >= "2025-04-01", "label"] = (labels.index[created >= "2025-04-01"] % 20 == 0).astype(float)

    split = split_by_time(labels, pd.Timestamp("2025-06-30"), horizon_days=0, test_quarters=1, calibration_quarters=1)

    assert split.test_quarters == ["2024Q4"]
    assert split.still_converting == {"2025Q1": pytest.approx(0.125), "2025Q2": pytest.approx(0.05)}
    indexed = labels.set_index("lead_id")
    as_split = split_leads(indexed["label"], indexed["created_at"], pd.Timestamp("2025-06-30"), horizon_days=0)
    assert as_split.reason.endswith(
        "later quarters left out while their leads may still convert (2025Q1 12.5%, 2025Q2 5.0% against 25.0% before)"
    )


def test_a_quarter_still_open_is_left_out_for_that_reason_alone() -> None:
    labels = _quarterly_labels(["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"], per_quarter=400)
    latest = labels["created_at"] >= "2025-04-01"
    labels.loc[latest & (labels.index % 2 == 0), "label"] = np.nan  # half still open, and the quick ones lost
    answered = latest & (labels.index % 2 == 1)
    labels.loc[answered, "label"] = (labels.index[answered] % 16 == 1).astype(float)  # 12.5% of them won (25% before)

    split = split_by_time(labels, pd.Timestamp("2025-07-01"), horizon_days=0, test_quarters=1, calibration_quarters=1)

    assert list(split.unsettled) == ["2025Q2"]
    assert split.still_converting == {}  # its low rate is no second reason
    assert split.test_quarters == ["2025Q1"]


def test_quarters_converting_at_the_usual_rate_within_chance_are_all_kept() -> None:
    labels = _quarterly_labels(["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"], per_quarter=400)
    latest = labels.index[labels["created_at"] >= "2025-04-01"]
    labels.loc[latest[:20], "label"] = 0.0  # 5 of its 100 conversions: 23.75% against 25%, noise at 400 leads

    split = split_by_time(labels, pd.Timestamp("2025-07-01"), horizon_days=0, test_quarters=1, calibration_quarters=1)

    assert split.test_quarters == ["2025Q2"]
    assert split.still_converting == {}
    # with a horizon, time decides maturity alone
    dated = split_by_time(labels, pd.Timestamp("2025-12-31"), horizon_days=90, test_quarters=1, calibration_quarters=1)
    assert dated.still_converting == {}


def test_a_few_open_leads_where_every_older_lead_is_settled_leave_the_quarter_in() -> None:
    labels = _quarterly_labels(["2024Q1", "2024Q2", "2024Q3", "2024Q4"], per_quarter=100)
    latest = labels["created_at"] >= "2024-10-01"
    labels.loc[latest & (labels.index % 100 < 6), "label"] = np.nan  # 6% open, the older quarters 0%

    assert unsettled_quarters(labels) == {}

    labels.loc[latest & (labels.index % 100 < 11), "label"] = np.nan  # 11%: beyond the floor
    assert unsettled_quarters(labels) == {"2024Q4": pytest.approx(0.11)}


def test_labels_whose_older_half_holds_no_win_are_refused() -> None:
    # SAP's "Konvertiert" missing from won: every older lead aged into lost, the only wins a recent open value
    # read as won (fuzz28 HIGH-1); a random split would teach the model the lead's age
    labels = _quarterly_labels(["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"], per_quarter=100)
    labels["label"] = np.where(labels["created_at"] >= "2025-02-15", labels["label"], 0.0)
    indexed = labels.set_index("lead_id")

    with pytest.raises(DataContractError, match=r"all 4\d\d labelled leads created before the first win"):
        split_leads(indexed["label"], indexed["created_at"], pd.Timestamp("2025-06-30"), horizon_days=0)


def test_leads_created_on_one_day_sorted_lost_before_won_are_not_refused() -> None:
    # a CRM migration imported every lead on one day: nothing came later, whatever the rows' order (review M3)
    labels = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(600)],
            "created_at": pd.Timestamp("2024-03-01"),
            "label": [0.0] * 450 + [1.0] * 150,
        }
    ).set_index("lead_id")

    split = split_leads(labels["label"], labels["created_at"], pd.Timestamp("2024-06-30"), horizon_days=0)

    assert len(split.test) > 0


def test_a_cut_by_date_also_leaves_out_the_quarters_still_open() -> None:
    labels = _quarterly_labels(["2024Q3", "2024Q4", "2025Q1"])
    created = labels["created_at"]
    labels.loc[(created >= "2025-01-01") & (labels.index % 2 == 0), "label"] = np.nan  # half of 2025Q1 still open
    indexed = labels.set_index("lead_id")

    split = split_leads(indexed["label"], indexed["created_at"], pd.Timestamp("2025-03-31"), horizon_days=0)

    assert not split.by_quarters  # two settled quarters: too few for quarters, cut by date
    assert split.unsettled == {"2025Q1": 0.5}
    assert not split.test.str.startswith("2025Q1").any()
    assert split.reason.endswith("later quarters left out while many of their leads are still open (2025Q1 50%)")


def test_a_horizon_decides_maturity_alone() -> None:
    labels = _quarterly_labels(["2024Q1", "2024Q2", "2024Q3", "2024Q4"])
    labels.loc[labels["created_at"] >= "2024-10-01", "label"] = np.nan  # open, as the label rule leaves them

    split = split_by_time(labels, pd.Timestamp("2025-06-30"), horizon_days=90, test_quarters=1, calibration_quarters=1)

    assert split.test_quarters == ["2024Q3"]  # 2024Q4 has no labelled lead; nothing is called unsettled
    assert split.unsettled == {}


def test_split_refuses_too_little_history() -> None:
    labels = _quarterly_labels(["2025Q1", "2025Q2"])

    with pytest.raises(DataContractError, match="a split by quarters needs at least 3 quarters"):
        split_by_time(labels, pd.Timestamp("2025-12-31"), horizon_days=90, test_quarters=1, calibration_quarters=1)


def test_split_refuses_a_test_quarter_without_conversions() -> None:
    labels = _quarterly_labels(["2024Q1", "2024Q2", "2024Q3"])
    labels.loc[labels["created_at"] >= "2024-07-01", "label"] = 0.0

    with pytest.raises(DataContractError, match=r"test set \(2024Q3\): all 40 labelled leads are negative"):
        split_by_time(labels, pd.Timestamp("2025-06-30"), horizon_days=90, test_quarters=1, calibration_quarters=1)


@pytest.mark.parametrize(
    ("quarter", "start", "end"),
    [
        ("2026Q4", "2026-10-01", "2027-01-01"),
        ("2027Q1", "2027-01-01", "2027-04-01"),
        (" 2026Q2", "2026-04-01", "2026-07-01"),
    ],
)
def test_quarter_bounds(quarter: str, start: str, end: str) -> None:
    assert quarter_bounds(quarter) == (pd.Timestamp(start), pd.Timestamp(end))


@pytest.mark.parametrize("quarter", ["2026Q5", "2026-Q4", "Q4 2026", "26Q1", "", "2026q4x"])
def test_quarter_bounds_refuses_other_text(quarter: str) -> None:
    with pytest.raises(ValueError, match="2026Q4"):
        quarter_bounds(quarter)


def _y_and_dates(quarters: list[str], per_quarter: int = 40) -> tuple[pd.Series, pd.Series]:
    labels = _quarterly_labels(quarters, per_quarter).set_index("lead_id")
    return labels["label"], labels["created_at"]


def test_split_leads_takes_whole_mature_quarters_when_there_are_enough() -> None:
    y, created_at = _y_and_dates(["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3"])

    split = split_leads(y, created_at, pd.Timestamp("2025-09-30"), horizon_days=90)

    assert (split.kind, split.by_quarters) == ("out_of_time", True)
    assert (split.calibration_quarters, split.test_quarters) == (["2025Q1"], ["2025Q2"])
    assert "test quarter(s) 2025Q2, calibration 2025Q1, training 2024Q1..2024Q4" in split.reason
    assert "90-day horizon" in split.reason


def test_labelled_leads_without_a_creation_date_are_left_out_of_the_quarters_and_counted() -> None:
    y, created_at = _y_and_dates(["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3"])
    undated = created_at.index[::70]  # 4 of 280: a blank "created" cell, as real exports have
    created_at = created_at.copy()
    created_at.loc[undated] = pd.NaT

    split = split_leads(y, created_at, pd.Timestamp("2025-09-30"), horizon_days=0)

    assert split.kind == "out_of_time"
    assert (split.calibration_quarters, split.test_quarters) == (["2025Q1"], ["2025Q2"])
    assert not set(undated) & {*split.train, *split.calibration, *split.test}
    assert f"{len(undated)} labelled lead(s) without a creation date left out" in split.reason


def test_a_cut_by_date_counts_the_labelled_leads_without_a_creation_date() -> None:
    y, created_at = _y_and_dates(["2025Q1", "2025Q2"])
    created_at = created_at.copy()
    created_at.iloc[:3] = pd.NaT

    split = split_leads(y, created_at, pd.Timestamp("2025-09-30"), horizon_days=90)

    assert not split.by_quarters
    assert "3 labelled lead(s) without a creation date left out" in split.reason


def test_split_leads_cuts_by_date_when_quarters_are_too_few() -> None:
    y, created_at = _y_and_dates(["2025Q1", "2025Q2"])

    split = split_leads(y, created_at, pd.Timestamp("2025-06-30"), horizon_days=0, test_share=0.25)

    assert (split.kind, split.by_quarters) == ("out_of_time", False)
    assert len(split.held_out) == 20
    assert created_at.loc[split.train].max() <= created_at.loc[split.calibration].min()
    assert created_at.loc[split.calibration].max() <= created_at.loc[split.test].min()
    assert "the latest 25% of labelled leads by creation date" in split.reason
    assert "needs at least 3 quarters" not in split.reason  # the reason says what was done


def test_split_leads_without_dates_is_random_stratified_and_says_why() -> None:
    y, _ = _y_and_dates(["2025Q1", "2025Q2"], per_quarter=100)

    split = split_leads(y, None, pd.Timestamp("2025-06-30"), horizon_days=0)

    assert (split.kind, split.by_quarters) == ("random_stratified", False)
    assert "because the mapping has no created_at column" in split.reason
    assert split.train_quarters == split.test_quarters == []
    assert y.loc[split.test].mean() == pytest.approx(y.loc[split.train].mean(), abs=0.03)
    assert len(split.train) + len(split.held_out) == len(y)


def test_split_leads_without_dates_cross_validates_a_small_export_so_every_lead_is_tested_once() -> None:
    y, _ = _y_and_dates(["2025Q1", "2025Q2"], per_quarter=200)

    split = split_leads(y, None, pd.Timestamp("2025-06-30"), horizon_days=0, folds=4)

    assert len(split.folds) == 4
    assert "cross-validated over 4 random stratified folds" in split.reason
    tested = pd.Index([]).append([fold.test for fold in split.folds])
    assert tested.is_unique
    assert set(tested) == set(y.index)
    for fold in split.folds:
        parts = (fold.train, fold.calibration, fold.test)
        assert sum(map(len, parts)) == len(y)
        assert len(set(fold.train) | set(fold.calibration) | set(fold.test)) == len(y)
        assert len(fold.calibration) == pytest.approx(0.125 * len(y), abs=2)  # as in the single random split
        assert all(y.loc[part].mean() == pytest.approx(y.mean(), abs=0.05) for part in parts)
    first = split.folds[0]
    assert (list(split.train), list(split.test)) == (list(first.train), list(first.test))


def test_split_leads_cross_validates_only_up_to_the_size_where_one_test_set_is_enough() -> None:
    y, _ = _y_and_dates(["2025Q1", "2025Q2"], per_quarter=200)

    large = split_leads(y, None, pd.Timestamp("2025-06-30"), 0, folds=4, cross_validate_up_to=100)
    six_wins = pd.Series((np.arange(len(y)) < 6).astype(float), index=y.index)
    few_wins = split_leads(six_wins, None, pd.Timestamp("2025-06-30"), horizon_days=0, folds=8)

    assert large.folds == (large.folds[0],)
    assert large.cross_validation == ()
    assert "random stratified halves of 25% held out" in large.reason
    assert len(few_wins.folds) == 6  # at most one fold per lead of the rarer class: each tests a win
    assert all(six_wins.loc[fold.test].sum() == 1 for fold in few_wins.folds)


def test_split_leads_with_mostly_missing_dates_is_random_and_says_how_many() -> None:
    y, created_at = _y_and_dates(["2024Q1", "2024Q2", "2024Q3", "2024Q4"], per_quarter=50)
    created_at = created_at.where(np.arange(len(created_at)) % 5 >= 2)

    split = split_leads(y, created_at, pd.Timestamp("2025-12-31"), horizon_days=90)

    assert split.kind == "random_stratified"
    assert "created_at is missing for 40% of labelled leads" in split.reason


def test_split_leads_ignores_unlabelled_leads() -> None:
    y, created_at = _y_and_dates(["2025Q1", "2025Q2"])
    y = pd.concat([y, pd.Series([np.nan], index=["open-lead"])])

    split = split_leads(y, created_at.reindex(y.index), pd.Timestamp("2025-06-30"), horizon_days=0)

    assert "open-lead" not in split.train.append(split.held_out)


def test_split_leads_refuses_one_class_and_no_labels() -> None:
    y, created_at = _y_and_dates(["2025Q1", "2025Q2"])

    with pytest.raises(DataContractError, match=r"labelled leads: all 80 labelled leads are negative"):
        split_leads(y * 0, created_at, pd.Timestamp("2025-06-30"), horizon_days=0)
    with pytest.raises(DataContractError, match="no lead has a won or lost outcome"):
        split_leads(y * np.nan, created_at, pd.Timestamp("2025-06-30"), horizon_days=0)


def _in_order(n: int = 2_000, seed: int = 4) -> pd.Series:
    """Labels of an undated export listed as the leads came: later leads convert far more (a campaign that worked)."""
    rng = np.random.default_rng(seed)
    rate = np.where(np.arange(n) < n * 0.7, 0.05, 0.4)
    return pd.Series((rng.random(n) < rate).astype(float), index=[f"L{i}" for i in range(n)])


def test_a_random_split_of_an_undated_export_in_a_telling_row_order_says_what_it_overstates() -> None:
    y = _in_order()

    ordered = split_leads(y, None, AS_OF, 0, folds=4)
    shuffled = split_leads(y.sample(frac=1, random_state=1), None, AS_OF, 0, folds=4)

    assert ordered.kind == "random_stratified"
    assert "the export's row order predicts the outcome (row position alone: AUC 0." in ordered.order_warning
    assert "split.undated: row_order" in ordered.order_warning
    assert shuffled.order_warning == ""


def test_split_undated_row_order_holds_out_the_last_rows() -> None:
    y = _in_order()

    split = split_leads(y, None, AS_OF, 0, test_share=0.25, folds=4, undated="row_order")

    assert (split.kind, split.cross_validation, split.order_warning) == ("row_order", (), "")
    assert list(split.train) == list(y.index[:1500])
    assert list(split.calibration) == list(y.index[1500:1750])
    assert list(split.test) == list(y.index[1750:])
    assert "the last 25% of labelled leads in the export's row order" in split.reason
