"""Feature building: PII out, consent respected, titles and e-mail domains parsed, no outcome columns in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.contract import OUTCOME_COLUMNS, PII_COLUMNS
from models.features import (
    EMAIL_ENGAGEMENT_COLUMNS,
    FREEMAIL_DOMAINS,
    MODEL_FEATURES,
    TRACKING_COLUMNS,
    LeadFeatureBuilder,
    build_features,
    factorize_values,
    parse_email_domains,
    parse_job_titles,
)
from tests.conftest import make_lead


@pytest.mark.parametrize(
    ("title", "seniority", "function"),
    [
        ("CTO", "c_level", "it"),
        ("Geschäftsführer", "c_level", "executive"),
        ("VP Sales", "vp", "sales"),
        ("Head of IT", "director", "it"),
        ("Leiter Einkauf", "director", "procurement"),
        ("  senior marketing MANAGER ", "manager", "marketing"),
        ("Werkstudent Marketing", "student_intern", "marketing"),
        ("Praktikant", "student_intern", "other"),
        ("Assistenz der Geschäftsführung", "individual", "executive"),
        ("Software Engineer", "individual", "it"),
        ("Controller", "other", "finance"),
        ("Astronaut", "other", "other"),
    ],
)
def test_job_titles_map_to_seniority_and_function(title: str, seniority: str, function: str) -> None:
    parsed = parse_job_titles(pd.Series([title]))

    assert parsed.iloc[0].tolist() == [seniority, function]


def test_missing_or_blank_titles_stay_missing() -> None:
    parsed = parse_job_titles(pd.Series([None, "   "]))

    assert parsed.isna().all().all()


def test_email_domains_give_flags_only() -> None:
    emails = pd.Series(["Jane.Doe@GMAIL.com ", "j.doe@acme.de", "x@eu.rivalsoft.de", "not-an-email", None])

    flags = parse_email_domains(emails, FREEMAIL_DOMAINS, frozenset({"rivalsoft.de"}))

    assert flags["is_freemail"].tolist() == [1, 0, 0, 0, 0]
    assert flags["is_competitor"].tolist() == [0, 0, 1, 0, 0]
    assert flags["has_valid_email"].tolist() == [1, 1, 1, 0, 0]


def test_features_hold_no_pii_and_no_outcome_columns() -> None:
    leads = pd.DataFrame([make_lead("L1", email="jane.doe@gmail.com", job_title="CFO")])
    leads["stage"] = "sql"  # an outcome column sneaked into the export
    leads["outcome"] = "won"

    features = build_features(leads)

    assert list(features.columns) == list(MODEL_FEATURES)
    assert not set(features.columns) & (set(PII_COLUMNS) | {"job_title"} | OUTCOME_COLUMNS)
    values = features.astype(str).to_numpy().ravel().tolist()
    assert not any("jane" in value or "@" in value or value in {"won", "sql"} for value in values)


def test_outcome_columns_do_not_change_features() -> None:
    leads = pd.DataFrame([make_lead("L1"), make_lead("L2", demo_requested=True)])
    leaked = leads.assign(stage=["rejected", "sql"], outcome=["lost", "won"], amount_eur=[0.0, 9e5])

    pd.testing.assert_frame_equal(build_features(leads), build_features(leaked))


def test_tracking_metrics_are_unknown_without_tracking_consent() -> None:
    leads = pd.DataFrame([make_lead("L1", consent_tracking=False, website_visits=30.0, pricing_page_visits=4.0)])

    features = build_features(leads)

    assert features[list(TRACKING_COLUMNS)].isna().all(axis=None)
    assert features["content_downloads"].notna().all()


def test_email_metrics_are_unknown_without_marketing_consent() -> None:
    leads = pd.DataFrame([make_lead("L1", consent_marketing=False, email_opens=12.0, email_clicks=3.0)])

    features = build_features(leads)

    assert features[[*EMAIL_ENGAGEMENT_COLUMNS, "email_click_rate"]].isna().all(axis=None)


def test_categories_are_normalised() -> None:
    leads = pd.DataFrame(
        [make_lead("L1", industry="  Financial   Services "), make_lead("L2", industry="", country=None)]
    )

    features = build_features(leads)

    assert features["industry"].iloc[0] == "financial services"
    assert pd.isna(features["industry"].iloc[1])
    assert pd.isna(features["country"].iloc[1])


def test_missing_optional_columns_are_unknown_not_errors() -> None:
    leads = pd.DataFrame([{"company_size": 120, "demo_requested": True}])

    features = build_features(leads)

    assert features.loc[0, "demo_requested"] == 1.0
    assert np.isnan(features.loc[0, "website_visits"])  # no consent flag given: treated as no consent


def test_builder_uses_extra_freemail_and_competitor_domains() -> None:
    leads = pd.DataFrame([make_lead("L1", email="a@mymail.example"), make_lead("L2", email="b@rival.example")])

    features = LeadFeatureBuilder(("mymail.example",), ("rival.example",)).fit(leads).transform(leads)

    assert features["is_freemail"].tolist() == [1.0, 0.0]
    assert features["is_competitor"].tolist() == [0.0, 1.0]


def test_input_is_not_modified() -> None:
    leads = pd.DataFrame([make_lead("L1")])
    before = leads.copy()

    build_features(leads)

    pd.testing.assert_frame_equal(leads, before)


def test_one_lead_at_a_time_gives_the_same_features_as_a_batch(synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    leads = synthetic_crm.leads.head(600)

    batch = build_features(leads)
    one_by_one = pd.concat([build_features(leads.iloc[[i]]) for i in range(0, 600, 7)])

    pd.testing.assert_frame_equal(one_by_one, batch.iloc[::7], check_dtype=False)


@pytest.mark.parametrize("size", [1, 5, 200])
def test_factorize_values_matches_pandas_for_small_and_large_inputs(size: int) -> None:
    pool = np.array(["Software", None, "Retail", np.nan, "software", pd.NA, "Retail"], dtype=object)
    values = np.resize(pool, size)
    codes, uniques = factorize_values(values)
    expected_codes, expected_uniques = pd.factorize(values, use_na_sentinel=True)
    assert list(uniques) == list(expected_uniques)
    np.testing.assert_array_equal(codes, expected_codes)
