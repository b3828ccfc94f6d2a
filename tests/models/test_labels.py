"""The label rule, case by case, and the out-of-time split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.contract import CRMTables, DataContractError, validate_crm
from models.labels import build_labels, quarter_bounds, resolve_as_of, split_by_time
from tests.conftest import make_lead

AS_OF = pd.Timestamp("2025-12-31")
HORIZON = 180


def _crm(leads: list[dict], dispositions: list[tuple], deals: list[tuple]) -> CRMTables:
    return validate_crm(
        CRMTables(
            leads=pd.DataFrame(leads),
            dispositions=pd.DataFrame(dispositions, columns=["lead_id", "timestamp", "stage", "reason", "sales_team"]),
            deals=pd.DataFrame(
                deals, columns=["deal_id", "lead_id", "created_at", "closed_at", "amount_eur", "outcome"]
            ),
        )
    )


@pytest.fixture
def labelled() -> pd.DataFrame:
    leads = [
        make_lead("won_in_time", "2025-01-10"),
        make_lead("won_late", "2025-01-10"),
        make_lead("lost", "2025-11-01"),
        make_lead("rejected", "2025-11-01"),
        make_lead("recycled", "2025-01-10"),
        make_lead("rejected_timing", "2025-01-10"),
        make_lead("silent_old", "2025-01-10"),
        make_lead("silent_new", "2025-11-01"),
        make_lead("open_deal_old", "2025-01-10"),
        make_lead("won_recent", "2025-11-01"),
        make_lead("won_after_as_of", "2025-11-01"),
        make_lead("created_after_as_of", "2026-01-05"),
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
        ("won_late", "negative", "no_win_within_horizon"),
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
    assert resolve_as_of(validate_crm(small_crm)) == pd.Timestamp("2025-04-01")
    assert resolve_as_of(validate_crm(small_crm), pd.Timestamp("2025-03-01")) == pd.Timestamp("2025-03-01")


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


def test_split_refuses_too_little_history() -> None:
    labels = _quarterly_labels(["2025Q1", "2025Q2"])

    with pytest.raises(DataContractError, match="need at least 3 quarters"):
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
