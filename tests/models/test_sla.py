from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from models.features import FeatureSpec, InputColumn, LeadFeatures
from models.sla import SlaRule, SlaTable, demo_request_feature, demo_rule_warning


def test_first_matching_rule_wins_and_others_are_nurtured() -> None:
    table = SlaTable()
    grades = np.array(["D4", "A1", "B1", "A3", "C1", "A1"], dtype=object)
    demo = np.array([True, False, False, False, False, True])
    mql = np.array([False, True, True, True, False, True])

    assigned = table.assign(grades, demo, mql)

    assert assigned.priority.tolist() == ["P1", "P2", "P2", "P3", "nurture", "P1"]
    assert assigned.response_hours.tolist()[:4] == [4, 24, 24, 48]
    assert np.isnan(assigned.response_hours[4])
    assert assigned.rule[0] == "demo request"


def test_by_default_every_mql_gets_a_response_time_and_no_lead_below_the_threshold_does() -> None:
    grades = np.array([f"{letter}{digit}" for letter in "ABCD" for digit in "1234"] * 2, dtype=object)
    mql = np.repeat([True, False], 16)

    assigned = SlaTable().assign(grades, np.zeros(32, dtype=bool), mql)

    assert not np.isnan(assigned.response_hours[mql]).any()  # C and D MQLs too: the threshold hands them over
    assert set(assigned.priority[mql]) == {"P2", "P3", "P4"}
    assert set(assigned.priority[~mql]) == {"nurture"}  # an A1 below the threshold is not called for its grade
    assert np.isnan(assigned.response_hours[~mql]).all()


def test_all_conditions_of_a_rule_must_hold() -> None:
    table = SlaTable(
        rules=(SlaRule(name="hot MQL", priority="P1", response_hours=2, grades=("A1",), is_mql=True),),
    )

    assigned = table.assign(np.array(["A1", "A1"], dtype=object), np.array([False, False]), np.array([True, False]))

    assert assigned.priority.tolist() == ["P1", "nurture"]


def test_unknown_grade_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"unknown grade\(s\) \['E1'\]"):
        SlaRule(name="x", priority="P1", response_hours=4, grades=("A1", "E1"))


def test_response_time_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="response_hours"):
        SlaRule(name="x", priority="P1", response_hours=0)


def _spec(*columns: tuple[str, str]) -> FeatureSpec:
    """A spec of export columns (name, role) as the features step declares it."""
    named = ((column, role, "_".join(column.lower().split())) for column, role in columns)
    return LeadFeatures(tuple(InputColumn(column, role, name) for column, role, name in named)).feature_spec


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ((("demo_requested", "boolean"), ("Industry", "categorical")), "demo_requested"),
        ((("Requested Demo", "boolean"), ("Industry", "categorical")), "requested_demo"),  # Pardot's
        ((("Demo angefragt", "boolean"),), "demo_angefragt"),
        ((("Trial Requested", "boolean"),), "trial_requested"),
        ((("Demoanfrage", "boolean"),), "demoanfrage"),
        ((("Demo Requests", "count"),), None),  # a count is no yes/no hand-raise
        ((("Webinar Attended", "boolean"), ("Do Not Email", "boolean")), None),
        # a column that says no, or speaks of something else
        ((("No Demo Requested", "boolean"),), None),
        ((("Demo Request Declined", "boolean"),), None),
        ((("Kein Demo gewuenscht", "boolean"),), None),
        ((("Demographics Update Requested", "boolean"),), None),
        ((("Call Back Requested", "boolean"),), None),  # sales may have arranged it: the leak guard's word
    ],
)
def test_the_demo_request_is_leadqs_own_feature_or_a_yes_no_column_named_like_one(
    columns: tuple[tuple[str, str], ...], expected: str | None
) -> None:
    assert demo_request_feature(_spec(*columns)) == expected


def test_an_sla_with_a_demo_rule_says_when_the_export_maps_no_demo_request() -> None:
    without = _spec(("Industry", "categorical"), ("Page Views", "count"))

    warning = demo_rule_warning(SlaTable(), without)

    assert "the SLA rule(s) 'demo request' (P1) need a yes/no column" in warning
    assert demo_rule_warning(SlaTable(), _spec(("Requested Demo", "boolean"))) == ""
    no_demo_rule = SlaTable(rules=tuple(rule for rule in SlaTable().rules if not rule.demo_requested))
    assert demo_rule_warning(no_demo_rule, without) == ""
