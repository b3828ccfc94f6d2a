"""The points-rule baseline: each kind of line, its validation, and the demo's rule on hand-built leads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from models.rule_score import (
    PointsLine,
    PointsRule,
    RuleComponent,
    check_features,
    components_of,
    engagement_points,
    fit_points,
    negative_points,
    rule_components,
    rule_score,
)

# The demo mapping's rule: the classic rule leadq used to hard-code, on the demo export's feature names.
DEMO_RULE_YAML = """
mql_points: 60
lines:
  - {name: Company size near the ideal range, feature: company_size, between: [50, 20000], points: 10}
  - {name: Company size in the ideal range, feature: company_size, between: [200, 5000], points: 10}
  - name: Target industry
    feature: industry
    one_of: [software, manufacturing, financial services, logistics]
    points: 15
  - {name: Target country, feature: country, one_of: [de, at, ch], points: 10}
  - {name: "Seniority: C-level", feature: job_title_seniority, equals: c_level, points: 20}
  - {name: "Seniority: VP or director", feature: job_title_seniority, one_of: [vp, director], points: 15}
  - {name: "Seniority: manager", feature: job_title_seniority, equals: manager, points: 10}
  - {name: Budget stated, feature: budget_stated, one_of: [10k-50k, 50k-250k, ">250k"], points: 10}
  - {name: Website visits, feature: website_visits, per_unit: true, points: 1, max_points: 10}
  - {name: Pricing page visited, feature: pricing_page_visits, at_least: 1, points: 10}
  - {name: Content downloads, feature: content_downloads, per_unit: true, points: 5, max_points: 15}
  - {name: Webinar attended, feature: webinar_attended, equals: 1, points: 10}
  - {name: Demo requested, feature: demo_requested, equals: 1, points: 30}
  - {name: E-mail clicks, feature: email_clicks, per_unit: true, points: 2, max_points: 10}
  - {name: Freemail address, feature: email_is_freemail, equals: 1, points: -15}
  - {name: Student or intern, feature: job_title_is_student_or_intern, equals: 1, points: -30}
  - {name: Unsubscribed, feature: newsletter_unsubscribed, equals: 1, points: -10}
  - {name: Competitor, feature: email_is_competitor, equals: 1, points: -50}
"""
DEMO_GROUPS = {
    **dict.fromkeys(["company_size", "industry", "country", "job_title_seniority", "budget_stated"], "fit"),
    **dict.fromkeys(["email_is_freemail", "email_is_competitor", "job_title_is_student_or_intern"], "fit"),
    **dict.fromkeys(["website_visits", "pricing_page_visits", "content_downloads", "webinar_attended"], "engagement"),
    **dict.fromkeys(["demo_requested", "email_clicks", "newsletter_unsubscribed"], "engagement"),
}


def _rule(*lines: PointsLine, mql_points: float = 1) -> PointsRule:
    return PointsRule(mql_points=mql_points, lines=lines)


def _points(values: list[object], **line: object) -> list[float]:
    """Points of one line on one feature column ``x``, one lead per value."""
    features = pd.DataFrame({"x": values, "demo_requested": 1.0})
    # A rule must be able to make an MQL, which a lone negative line cannot: a demo request can.
    demo = PointsLine(feature="demo_requested", equals=1, points=30)
    rule = _rule(PointsLine.model_validate({"feature": "x", **line}), demo)
    return rule_components(features, rule).iloc[:, 0].tolist()


def _demo_leads() -> pd.DataFrame:
    """An ideal lead, a near-range lead with capped engagement and warning signs, a mostly unknown one."""
    return pd.DataFrame(
        {
            "company_size": [800.0, 20_000.0, np.nan],
            "industry": ["software", "retail", None],
            "country": ["de", "us", "ch"],
            "job_title_seniority": ["c_level", "vp", "manager"],
            "budget_stated": [">250k", "<10k", None],
            "website_visits": [25.0, 4.0, np.nan],
            "pricing_page_visits": [2.0, 0.0, np.nan],
            "content_downloads": [1.0, 5.0, 0.0],
            "webinar_attended": [1.0, 0.0, np.nan],
            "demo_requested": [1.0, 0.0, 0.0],
            "email_clicks": [3.0, 10.0, np.nan],
            "email_is_freemail": [0.0, 1.0, 0.0],
            "job_title_is_student_or_intern": [0.0, 0.0, 1.0],
            "newsletter_unsubscribed": [0.0, 1.0, 0.0],
            "email_is_competitor": [0.0, 0.0, 1.0],
        },
        index=pd.Index(["ideal", "near", "unknown"], name="lead_id"),
    )


def test_equals_compares_numbers_and_categories() -> None:
    assert _points([1.0, 0.0, np.nan], equals=1, points=30) == [30, 0, 0]
    assert _points([True, False], equals=True, points=30) == [30, 0]
    assert _points(["c_level", "vp", None], equals=" C_Level ", points=20) == [20, 0, 0]


def test_one_of_ignores_case_and_spacing() -> None:
    points = _points(["financial services", "retail", None], one_of=["Financial  Services", "Software"], points=15)

    assert points == [15, 0, 0]


def test_between_includes_both_bounds() -> None:
    assert _points([199.0, 200.0, 5000.0, 5001.0, np.nan], between=[200, 5000], points=20) == [0, 20, 20, 0, 0]


def test_at_least_includes_the_bound() -> None:
    assert _points([0.0, 1.0, 7.0, np.nan], at_least=1, points=10) == [0, 10, 10, 0]


def test_per_unit_is_capped_and_ignores_negative_counts() -> None:
    values = [0.0, 2.0, 3.0, 40.0, -4.0, np.nan]

    assert _points(values, per_unit=True, points=5, max_points=15) == [0, 10, 15, 15, 0, 0]
    assert _points(values, per_unit=True, points=-2, max_points=5) == [0, -4, -5, -5, 0, 0]


def test_negative_line_takes_points_away_and_total_is_the_sum() -> None:
    features = pd.DataFrame({"demo_requested": [1.0, 1.0, 0.0], "email_is_freemail": [0.0, 1.0, 1.0]})
    rule = _rule(
        PointsLine(feature="demo_requested", equals=1, points=30),
        PointsLine(feature="email_is_freemail", equals=1, points=-15),
    )

    assert rule_score(features, rule).tolist() == [30, 15, -15]


def test_generated_names_say_feature_and_condition() -> None:
    lines = [
        PointsLine(feature="job_title_seniority", one_of=["c_level", "vp"], points=20),
        PointsLine(feature="company_size", between=(200, 5000), points=20),
        PointsLine(feature="pricing_page_visits", at_least=1, points=10),
        PointsLine(feature="demo_requested", equals=1, points=30),
        PointsLine(feature="website_visits", per_unit=True, points=1, max_points=10),
        PointsLine(feature="industry", one_of=["software"], points=15, name="Target industry"),
    ]

    assert [line.label for line in lines] == [
        "Job title seniority: c_level, vp",
        "Company size: 200 to 5000",
        "Pricing page visits: at least 1",
        "Demo requested: 1",
        "Website visits: per unit",
        "Target industry",
    ]
    assert [line.points_text for line in lines[-2:]] == ["+1 per unit, at most +10", "+15"]


def test_components_columns_follow_the_rule_and_keep_the_index() -> None:
    leads = _demo_leads()
    rule = PointsRule.model_validate(yaml.safe_load(DEMO_RULE_YAML))

    components = rule_components(leads, rule)

    assert list(components.columns) == [line.label for line in rule.lines]
    assert components.index.equals(leads.index)
    assert components.sum(axis=1).tolist() == rule_score(leads, rule).tolist()


def test_demo_rule_reproduces_hand_computed_points() -> None:
    rule = PointsRule.model_validate(yaml.safe_load(DEMO_RULE_YAML))
    leads = _demo_leads()

    fit = fit_points(leads, rule, DEMO_GROUPS).tolist()
    engagement = engagement_points(leads, rule, DEMO_GROUPS).tolist()
    negative = negative_points(leads, rule, DEMO_GROUPS).tolist()

    # size 10+10, industry 15, country 10, C-level 20, budget 10 | visits capped 10, pricing 10, one download 5,
    # webinar 10, demo 30, 3 clicks 6
    assert (fit[0], engagement[0], negative[0]) == (75, 71, 0)
    # size at the wide bound 10, VP 15 | 4 visits 4, downloads capped 15, clicks capped 10 | freemail, unsubscribed
    assert (fit[1], engagement[1], negative[1]) == (25, 29, -25)
    # unknown size, industry and budget earn nothing; country 10, manager 10 | student, competitor
    assert (fit[2], engagement[2], negative[2]) == (20, 0, -80)
    assert rule_score(leads, rule).tolist() == [146, 29, -60]
    assert (rule_score(leads, rule) >= rule.mql_points).tolist() == [True, False, False]


def test_components_of_groups_lines_and_says_points_in_words() -> None:
    rule = PointsRule.model_validate(yaml.safe_load(DEMO_RULE_YAML))

    components = {component.name: component for component in components_of(rule, DEMO_GROUPS)}

    assert components["Target industry"] == RuleComponent("Target industry", "fit", "industry", "+15")
    assert components["Content downloads"].points == "+5 per unit, at most +15"
    assert components["Demo requested"].group == "engagement"
    assert components["Freemail address"] == RuleComponent("Freemail address", "negative", "email_is_freemail", "-15")


def test_components_of_refuses_an_unknown_group() -> None:
    rule = _rule(PointsLine(feature="demo_requested", equals=1, points=30))

    with pytest.raises(ValueError, match="'demo_requested': group 'intent'; expected one of fit, engagement"):
        components_of(rule, {"demo_requested": "intent"})


def test_unknown_feature_is_named_with_suggestions() -> None:
    rule = _rule(
        PointsLine(feature="seniority", equals="c_level", points=20),
        PointsLine(feature="is_freemail", equals=1, points=-15),
        PointsLine(feature="shoe_size", at_least=40, points=5),
    )
    model_features = ["job_title_seniority", "email_is_freemail", "demo_requested"]

    with pytest.raises(ValueError, match="feature 'seniority' is not a model feature") as refused:
        check_features(rule, model_features)

    message = str(refused.value)
    assert "did you mean 'job_title_seniority'?" in message
    assert "did you mean 'email_is_freemail'?" in message
    assert "'shoe_size' is not a model feature; no model feature is named like it" in message
    with pytest.raises(ValueError, match="'seniority' is not a model feature"):
        rule_components(pd.DataFrame({name: [0.0] for name in model_features}), rule)


def test_condition_of_the_wrong_kind_for_the_feature_is_refused() -> None:
    with pytest.raises(ValueError, match="between compares numbers, but feature 'x' holds categories such as 'a'"):
        _points(["a", "b"], between=[1, 2], points=5)
    with pytest.raises(ValueError, match="one_of compares categories, but feature 'x' holds numbers"):
        _points([1.0, 2.0], one_of=["1"], points=5)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ({"equals": 1, "between": [1, 2]}, "got equals and between; expected exactly one condition"),
        ({}, "got none; expected exactly one condition"),
        ({"per_unit": True}, "per_unit needs max_points"),
        ({"at_least": 1, "max_points": 10}, "max_points caps a per_unit line"),
        ({"between": [5000, 200]}, r"between\n.*expected \[low, high\] with low <= high, got \[5000, 200\]"),
        ({"one_of": ["vp", "  "]}, r"one_of\n.*expected category names, got a blank one"),
        ({"at_least": 1, "points": 0}, r"points\n.*expected a nonzero number"),
        ({"at_least": 1, "weight": 2}, r"weight\n.*Extra inputs are not permitted"),
    ],
)
def test_invalid_line_is_refused_with_field_and_expectation(line: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        PointsLine.model_validate({"feature": "x", "points": 5, **line})


def test_invalid_rule_is_refused() -> None:
    line = {"feature": "demo_requested", "equals": 1, "points": 30}

    with pytest.raises(ValidationError, match=r"names \['Demo requested: 1'\] are used twice"):
        PointsRule.model_validate({"mql_points": 10, "lines": [line, line]})
    with pytest.raises(ValidationError, match=r"mql_points: 60 cannot be reached.*at most 30"):
        PointsRule.model_validate({"mql_points": 60, "lines": [line]})
    with pytest.raises(ValidationError, match=r"lines\n.*at least 1 item"):
        PointsRule.model_validate({"mql_points": 60, "lines": []})
    with pytest.raises(ValidationError, match=r"mql_points\n.*greater than 0"):
        PointsRule.model_validate({"mql_points": 0, "lines": [line]})
