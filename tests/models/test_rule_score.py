"""The points-rule baseline, on hand-built leads."""

from __future__ import annotations

import pandas as pd
import pytest

from models.features import build_features
from models.rule_score import (
    RULE_COMPONENTS,
    RuleScoreConfig,
    engagement_points,
    fit_points,
    negative_points,
    rule_components,
    rule_score,
)
from tests.conftest import make_lead

CONFIG = RuleScoreConfig()


def _features(**fields: object) -> pd.DataFrame:
    return build_features(pd.DataFrame([make_lead("L1", **fields)]))


def test_ideal_customer_profile_earns_all_fit_points() -> None:
    features = _features(company_size=800, industry="software", country="DE", job_title="CFO", budget_stated=">250k")

    assert fit_points(features, CONFIG)[0] == 20 + 15 + 10 + 20 + 10


def test_poor_fit_earns_no_fit_points() -> None:
    features = _features(company_size=3, industry="Retail", country="US", job_title="Analyst", budget_stated=None)

    assert fit_points(features, CONFIG)[0] == 0


def test_engagement_points_are_capped() -> None:
    features = _features(
        website_visits=500.0,
        pricing_page_visits=2.0,
        content_downloads=40,
        webinar_attended=True,
        demo_requested=True,
        email_clicks=99.0,
        email_opens=120.0,
    )

    assert engagement_points(features, CONFIG)[0] == 10 + 10 + 15 + 10 + 30 + 10


def test_negative_signals_take_points_away() -> None:
    features = _features(email="x@gmail.com", job_title="Praktikant", newsletter_unsubscribed=True)

    assert negative_points(features, CONFIG)[0] == -15 - 30 - 10


def test_total_is_the_sum_and_demo_request_can_make_an_mql() -> None:
    plain = _features(demo_requested=False)
    demo = _features(demo_requested=True)

    assert rule_score(demo, CONFIG)[0] - rule_score(plain, CONFIG)[0] == 30
    assert rule_score(demo, CONFIG)[0] >= CONFIG.mql_points


def test_invalid_size_range_is_refused() -> None:
    with pytest.raises(ValueError, match="min_employees"):
        RuleScoreConfig(min_employees=1000, max_employees=10)


def test_components_name_real_features_and_add_up_to_the_score() -> None:
    features = _features(company_size=800, industry="software", demo_requested=True, email="x@gmail.com")

    components = rule_components(features, CONFIG)

    assert list(components.columns) == [component.name for component in RULE_COMPONENTS]
    assert {component.feature for component in RULE_COMPONENTS} <= set(features.columns)
    lead = components.iloc[0]
    assert (lead["Company size in the ideal range"], lead["Demo requested"], lead["Freemail address"]) == (20, 30, -15)
    assert lead.sum() == rule_score(features, CONFIG)[0]
