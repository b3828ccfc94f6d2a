"""Data-contract tests: every way a CRM export can be refused, with a message naming table, column and rows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from models.contract import CRMTables, DataContractError, as_scoring_frame, require_both_classes, validate_crm


def _with(crm: CRMTables, **tables: pd.DataFrame) -> CRMTables:
    return dataclasses.replace(crm, **tables)


def _refusal(crm: CRMTables) -> str:
    with pytest.raises(DataContractError) as error:
        validate_crm(crm)
    return str(error.value)


def test_valid_export_is_parsed_to_contract_types(small_crm: CRMTables) -> None:
    valid = validate_crm(small_crm)

    assert valid.leads["created_at"].dtype == "datetime64[ns]"
    assert valid.leads["demo_requested"].dtype == bool
    assert valid.leads["company_size"].dtype == float
    assert valid.deals["closed_at"].notna().all()


def test_input_frames_are_not_modified(small_crm: CRMTables) -> None:
    before = small_crm.leads.copy()

    validate_crm(small_crm)

    pd.testing.assert_frame_equal(small_crm.leads, before)


def test_missing_column_is_named(small_crm: CRMTables) -> None:
    message = _refusal(_with(small_crm, leads=small_crm.leads.drop(columns=["company_size"])))

    assert "leads: missing required column(s) ['company_size']" in message


def test_wrong_type_names_column_value_and_row(small_crm: CRMTables) -> None:
    leads = small_crm.leads.astype({"company_size": object})
    leads.loc[1, "company_size"] = "lots"

    message = _refusal(_with(small_crm, leads=leads))

    assert "leads.company_size" in message
    assert "'lots'" in message
    assert "row(s) [1]" in message


def test_negative_count_is_refused(small_crm: CRMTables) -> None:
    leads = small_crm.leads.copy()
    leads.loc[2, "website_visits"] = -3.0

    message = _refusal(_with(small_crm, leads=leads))

    assert "leads.website_visits" in message
    assert "greater_than_or_equal_to(0)" in message
    assert "row(s) [2]" in message


def test_duplicate_lead_id_names_both_rows(small_crm: CRMTables) -> None:
    leads = small_crm.leads.copy()
    leads.loc[2, "lead_id"] = "L1"

    message = _refusal(_with(small_crm, leads=leads))

    assert "leads.lead_id" in message
    assert "row(s) [0, 2]" in message


@pytest.mark.parametrize("table", ["leads", "dispositions", "deals"])
def test_empty_table_is_refused(small_crm: CRMTables, table: str) -> None:
    empty = getattr(small_crm, table).iloc[0:0]

    message = _refusal(_with(small_crm, **{table: empty}))

    assert f"{table}: the table is empty" in message


def test_unknown_outcome_value_is_named(small_crm: CRMTables) -> None:
    deals = small_crm.deals.assign(outcome=["closed-won-ish"])

    message = _refusal(_with(small_crm, deals=deals))

    assert "deals.outcome" in message
    assert "closed-won-ish" in message


def test_outcome_and_stage_codes_are_case_insensitive(small_crm: CRMTables) -> None:
    deals = small_crm.deals.assign(outcome=[" Won "])
    dispositions = small_crm.dispositions.assign(stage=small_crm.dispositions["stage"].str.upper())

    valid = validate_crm(_with(small_crm, deals=deals, dispositions=dispositions))

    assert valid.deals["outcome"].tolist() == ["won"]
    assert set(valid.dispositions["stage"]) == {"mql", "sal", "sql", "rejected"}


def test_unknown_stage_and_reason_are_named(small_crm: CRMTables) -> None:
    dispositions = small_crm.dispositions.copy()
    dispositions.loc[0, "stage"] = "hot"
    dispositions.loc[4, "reason"] = "too expensive"

    message = _refusal(_with(small_crm, dispositions=dispositions))

    assert "dispositions.stage" in message
    assert "hot" in message
    assert "dispositions.reason" in message
    assert "too expensive" in message


def test_deals_pointing_at_unknown_leads_are_refused(small_crm: CRMTables) -> None:
    deals = small_crm.deals.assign(lead_id=["L404"])

    message = _refusal(_with(small_crm, deals=deals))

    assert "deals.lead_id: points at unknown lead(s) ['L404'] in row(s) [0]" in message


def test_dispositions_pointing_at_unknown_leads_are_refused(small_crm: CRMTables) -> None:
    dispositions = small_crm.dispositions.copy()
    dispositions.loc[3, "lead_id"] = "GHOST"

    assert "dispositions.lead_id: points at unknown lead(s) ['GHOST']" in _refusal(
        _with(small_crm, dispositions=dispositions)
    )


def test_unparsable_date_is_named(small_crm: CRMTables) -> None:
    leads = small_crm.leads.copy()
    leads.loc[0, "created_at"] = "yesterday-ish"

    message = _refusal(_with(small_crm, leads=leads))

    assert "leads.created_at: expected a date/time, got ['yesterday-ish'] in row(s) [0]" in message


def test_booleans_accept_common_spellings_and_refuse_others(small_crm: CRMTables) -> None:
    leads = small_crm.leads.assign(demo_requested=["yes", "0", "TRUE"])
    assert validate_crm(_with(small_crm, leads=leads)).leads["demo_requested"].tolist() == [True, False, True]

    leads = small_crm.leads.assign(demo_requested=["yes", "maybe", "no"])
    assert "leads.demo_requested: expected true/false" in _refusal(_with(small_crm, leads=leads))


def test_closed_deal_without_close_date_is_refused(small_crm: CRMTables) -> None:
    deals = small_crm.deals.assign(closed_at=[None])

    assert "deals.closed_at: expected a close date for won/lost deals" in _refusal(_with(small_crm, deals=deals))


def test_all_problems_are_reported_at_once(small_crm: CRMTables) -> None:
    deals = small_crm.deals.assign(outcome=["maybe"], lead_id=["L404"])
    leads = small_crm.leads.drop(columns=["industry"])

    with pytest.raises(DataContractError) as error:
        validate_crm(_with(small_crm, leads=leads, deals=deals))

    assert len(error.value.problems) == 3


def test_one_class_training_set_is_refused() -> None:
    with pytest.raises(DataContractError, match=r"train set.*all 40 labelled leads are negative"):
        require_both_classes(pd.Series([0] * 40), "train set (2025Q1)")


def test_as_scoring_frame_uses_the_signature_types() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["a", "b"],
            "company_size": pd.array([250, None], dtype="Int64"),
            "website_visits": ["3", None],
            "demo_requested": [True, None],
            "webinar_attended": [False, True],
        }
    )

    frame = as_scoring_frame(leads)

    assert list(frame.columns) == ["webinar_attended", "demo_requested", "company_size", "website_visits"]
    assert frame["company_size"].dtype == "float64"
    assert np.isnan(frame["company_size"].iloc[1])
    assert frame["website_visits"].iloc[0] == 3.0
    assert np.isnan(frame["website_visits"].iloc[1])
    assert frame["demo_requested"].tolist() == [True, None]
    assert frame["webinar_attended"].dtype == bool


def test_as_scoring_frame_names_a_count_that_is_not_a_number() -> None:
    leads = pd.DataFrame({"website_visits": [1, "many"]})

    with pytest.raises(DataContractError, match=r"leads.website_visits: expected a number in row\(s\) \[1\]"):
        as_scoring_frame(leads)
