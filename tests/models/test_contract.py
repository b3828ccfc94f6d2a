"""leadq's own words for what happened to a lead: the dispositions and deals schemas and how refusals read."""

from __future__ import annotations

import pandas as pd
import pytest
from pandera.errors import SchemaErrors

from models.contract import (
    DEAL_COLUMNS,
    DEALS_SCHEMA,
    DISPOSITION_COLUMNS,
    DISPOSITIONS_SCHEMA,
    OUTCOMES,
    REJECTION_REASONS,
    STAGES,
    DataContractError,
    require_both_classes,
)


def _dispositions(**changes: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "lead_id": ["L1", "L1", "L2"],
            "timestamp": pd.to_datetime(["2025-01-20", "2025-01-22", "2025-01-25"]).astype("datetime64[ns]"),
            "stage": ["mql", "sal", "rejected"],
            "reason": [None, None, "no_budget"],
            "sales_team": ["DACH North"] * 3,
        }
    )
    return frame.assign(**changes)


def _deals(**changes: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "deal_id": ["D1", "D2"],
            "lead_id": ["L1", "L2"],
            "created_at": pd.to_datetime(["2025-02-01", "2025-02-03"]).astype("datetime64[ns]"),
            "closed_at": pd.to_datetime(["2025-04-01", None]).astype("datetime64[ns]"),
            "amount_eur": [30000.0, None],
            "outcome": ["won", "open"],
        }
    )
    return frame.assign(**changes)


def _failures(schema, frame: pd.DataFrame) -> set[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(SchemaErrors) as error:
        schema.validate(frame, lazy=True)
    return set(error.value.failure_cases["column"].dropna().astype(str))


def test_the_vocabulary_is_leadqs() -> None:
    assert STAGES == ("mql", "sal", "sql", "rejected", "recycled")
    assert "wrong_timing" in REJECTION_REASONS
    assert OUTCOMES == ("won", "lost", "open")
    assert list(DISPOSITION_COLUMNS) == list(_dispositions().columns)
    assert list(DEAL_COLUMNS) == list(_deals().columns)


def test_valid_tables_pass_their_schemas() -> None:
    DISPOSITIONS_SCHEMA.validate(_dispositions())
    DEALS_SCHEMA.validate(_deals())
    DISPOSITIONS_SCHEMA.validate(_dispositions().drop(columns="sales_team"))  # the team is optional


def test_dispositions_refuse_words_leadq_does_not_know() -> None:
    assert _failures(DISPOSITIONS_SCHEMA, _dispositions(stage=["mql", "hot", "rejected"])) == {"stage"}
    assert _failures(DISPOSITIONS_SCHEMA, _dispositions(reason=[None, None, "too expensive"])) == {"reason"}
    assert "lead_id" in _failures(DISPOSITIONS_SCHEMA, _dispositions(lead_id=["L1", None, "L2"]))


def test_deals_refuse_unknown_outcomes_repeated_ids_and_negative_amounts() -> None:
    assert _failures(DEALS_SCHEMA, _deals(outcome=["won", "maybe"])) == {"outcome"}
    assert _failures(DEALS_SCHEMA, _deals(deal_id=["D1", "D1"])) == {"deal_id"}
    assert _failures(DEALS_SCHEMA, _deals(amount_eur=[-5.0, None])) == {"amount_eur"}


def test_a_refusal_lists_every_problem_in_plain_words() -> None:
    error = DataContractError(["deals.outcome: expected won, lost or open", "deals.lead_id: missing"])

    assert error.problems == ["deals.outcome: expected won, lost or open", "deals.lead_id: missing"]
    assert str(error).startswith("the CRM export cannot be used as it is:")
    assert "\n  deals.lead_id: missing" in str(error)
    assert isinstance(error, ValueError)


def test_one_class_sets_are_refused() -> None:
    with pytest.raises(DataContractError, match=r"train set.*all 40 labelled leads are negative"):
        require_both_classes(pd.Series([0] * 40), "train set (2025Q1)")
    with pytest.raises(DataContractError, match=r"all 3 labelled leads are positive \(won\)"):
        require_both_classes(pd.Series([1, 1, 1]), "test set")
    require_both_classes(pd.Series([0, 1]), "both")
