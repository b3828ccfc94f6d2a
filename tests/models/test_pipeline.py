"""The model pipeline, and model-behaviour tests on a model trained on the small synthetic CRM through its mapping.

What the domain is certain of must hold for every lead: a demo request, pricing-page visits and content
downloads never lower the score; a freemail address and an unsubscribe never raise it; identifiers, dates,
outcome columns and fields the model does not know change nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models.features import FeatureSpec, InputColumn, LeadFeatures, feature_spec_of
from models.pipeline import (
    BoosterParams,
    CategoryCodes,
    assemble_pipeline,
    fit_model,
    input_fields,
    monotone_vector,
    predict_raw,
)
from tests.builders import demo_mapping

DEMO_FEATURES = (
    "company_size",
    "industry",
    "country",
    "lead_source",
    "campaign",
    "budget_stated",
    "email_is_freemail",
    "email_has_valid_email",
    "email_is_competitor",
    "job_title_seniority",
    "job_title_function",
    "job_title_is_student_or_intern",
    "form_fields_answered",
    "website_visits",
    "pages_per_visit",
    "time_on_site_s",
    "pricing_page_visits",
    "content_downloads",
    "webinar_attended",
    "demo_requested",
    "email_opens",
    "email_clicks",
    "newsletter_unsubscribed",
)


@pytest.fixture(scope="module")
def leads(synthetic_crm) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Consenting leads (so that tracking data is used) from the generated export."""
    sample = synthetic_crm.leads.sample(2000, random_state=1)
    return sample[sample["consent_tracking"] & sample["consent_marketing"]].reset_index(drop=True)


def _probabilities(trained, leads: pd.DataFrame) -> np.ndarray:  # type: ignore[no-untyped-def]
    return trained.scorer.predict_proba(leads)


@pytest.mark.parametrize(
    ("column", "low", "high"),
    [("demo_requested", False, True), ("pricing_page_visits", 0.0, 6.0), ("content_downloads", 0, 4)],
)
def test_engagement_signal_never_lowers_the_score(trained, leads, column, low, high) -> None:  # type: ignore[no-untyped-def]
    without = _probabilities(trained, leads.assign(**{column: low}))
    with_signal = _probabilities(trained, leads.assign(**{column: high}))

    assert np.all(with_signal >= without - 1e-12)
    assert np.mean(with_signal > without) > 0.5  # and it does matter


def test_a_demo_request_never_lowers_the_score_as_the_crm_spells_it(trained, leads) -> None:  # type: ignore[no-untyped-def]
    said_no = _probabilities(trained, leads.assign(demo_requested="nein"))
    said_yes = _probabilities(trained, leads.assign(demo_requested="Ja"))

    assert np.all(said_yes >= said_no - 1e-12)


def test_freemail_never_raises_the_score(trained, leads) -> None:  # type: ignore[no-untyped-def]
    company = _probabilities(trained, leads.assign(email="jane.doe@mittelstand-gmbh.de"))
    freemail = _probabilities(trained, leads.assign(email="jane.doe@gmail.com"))

    assert np.all(freemail <= company + 1e-12)


def test_unsubscribe_never_raises_the_score(trained, leads) -> None:  # type: ignore[no-untyped-def]
    subscribed = _probabilities(trained, leads.assign(newsletter_unsubscribed=False))
    unsubscribed = _probabilities(trained, leads.assign(newsletter_unsubscribed=True))

    assert np.all(unsubscribed <= subscribed + 1e-12)


def test_identifiers_dates_outcomes_and_unknown_fields_change_nothing(trained, leads) -> None:  # type: ignore[no-untyped-def]
    baseline = _probabilities(trained, leads)
    changed = leads.assign(
        lead_id="X",
        created_at=pd.Timestamp("2020-01-01"),
        email=leads["email"].str.replace(r"^[^@]*", "someone.else", regex=True),
        stage="sql",
        outcome="won",
        amount_eur=1e6,
        favourite_colour="green",  # a field the model has never heard of
    )

    np.testing.assert_array_equal(_probabilities(trained, changed), baseline)


def test_withheld_consent_scores_as_if_the_gated_data_were_unknown(trained, leads) -> None:  # type: ignore[no-untyped-def]
    tracking = ["website_visits", "pages_per_visit", "time_on_site_s", "pricing_page_visits"]
    withheld = leads.assign(consent_tracking=False)
    unknown = leads.assign(**dict.fromkeys(tracking, np.nan))

    np.testing.assert_array_equal(_probabilities(trained, withheld), _probabilities(trained, unknown))


def test_model_sees_only_the_mappings_features(trained) -> None:  # type: ignore[no-untyped-def]
    pipeline = trained.scorer.pipeline
    spec = feature_spec_of(pipeline)

    assert set(spec.names) == set(DEMO_FEATURES)
    assert list(pipeline[-1].feature_name_) == list(spec.numeric + spec.categorical)
    assert input_fields(pipeline) == tuple(column.column for column in demo_mapping().input_columns())
    assert list(trained.test_leads.columns) == list(input_fields(pipeline))
    assert not {"lead_id", "created_at", "email", "job_title", "consent_tracking"} & set(spec.names)


def test_monotone_constraints_of_the_mapping_reach_lightgbm(trained) -> None:  # type: ignore[no-untyped-def]
    spec = feature_spec_of(trained.scorer.pipeline)
    constraints = trained.scorer.pipeline[-1].get_params()["monotone_constraints"]

    by_feature = dict(zip(spec.names, constraints, strict=True))
    assert {feature: sign for feature, sign in by_feature.items() if sign} == demo_mapping().monotone_constraints


SPEC = FeatureSpec(numeric=("demo_requested", "email_is_freemail", "visits"), categorical=("industry",), fit=())


def test_monotone_vector_follows_encoder_order() -> None:
    assert monotone_vector({"visits": 1, "email_is_freemail": -1}, SPEC) == [0, -1, 1, 0]


def test_monotone_constraints_on_a_category_or_an_unknown_feature_are_refused() -> None:
    with pytest.raises(ValueError, match="numeric features"):
        monotone_vector({"industry": 1}, SPEC)
    with pytest.raises(ValueError, match=r"\['demo_request'\] are not features of this model"):
        monotone_vector({"demo_request": 1}, SPEC)


def test_assemble_pipeline_builds_features_encode_classifier_around_the_step() -> None:
    step = LeadFeatures((InputColumn("Visits", "count", "visits"), InputColumn("Sector", "categorical", "sector")))

    model = assemble_pipeline(step, BoosterParams(max_trees=10), {"visits": 1})

    assert list(model.named_steps) == ["features", "encode", "classifier"]
    assert model.named_steps["features"] is step
    assert model[-1].get_params()["monotone_constraints"] == [1, 0]
    assert input_fields(model) == ("Visits", "Sector")


def test_category_codes_group_rare_and_blank_out_unknown_categories() -> None:
    step = LeadFeatures((InputColumn("Industry", "categorical", "industry"),))
    rows = pd.DataFrame({"Industry": ["Software" if i < 90 else "Retail" if i < 99 else "Mining" for i in range(100)]})
    features = step.fit(rows).transform(rows)
    codes = CategoryCodes(min_category_share=0.05, spec=step.feature_spec).fit(features)
    probe = step.transform(pd.DataFrame({"Industry": ["software", "Mining", "Space", None]}))

    industry = codes.transform(probe)["industry"].tolist()

    assert industry[0] == codes.codes_["industry"]["software"]
    assert industry[1] == 2.0  # "mining" is rarer than 5%: the infrequent code, after software and retail
    assert np.isnan(industry[2])
    assert np.isnan(industry[3])


# --- hyper-parameters scale with the data -------------------------------------------------------------------


def test_unset_hyper_parameters_scale_with_the_training_leads() -> None:
    small = BoosterParams().scaled_to(3_000, 90)
    medium = BoosterParams().scaled_to(30_000, 600)
    large = BoosterParams().scaled_to(200_000, 6_000)

    assert (small.learning_rate, small.early_stopping_rounds) == (0.1, 30)
    assert (small.num_leaves, small.min_child_samples, small.n_jobs) == (3, 20, 1)
    assert 0.03 < medium.learning_rate < 0.1
    assert (medium.num_leaves, medium.min_child_samples) == (15, 30)
    # from 100,000 leads on: the values the 200,000-lead synthetic export was tuned with
    assert (large.learning_rate, large.early_stopping_rounds, large.num_leaves, large.min_child_samples) == (
        0.03,
        100,
        15,
        100,
    )
    assert large.n_jobs is None  # all cores
    assert BoosterParams().scaled_to() == BoosterParams().scaled_to(LARGE, None)


LARGE = 100_000


def test_hyper_parameters_set_in_the_settings_win_over_the_scaling() -> None:
    params = BoosterParams(learning_rate=0.2, num_leaves=31, min_child_samples=5, early_stopping_rounds=7)

    scaled = params.scaled_to(3_000, 90)

    assert (scaled.learning_rate, scaled.num_leaves, scaled.min_child_samples, scaled.early_stopping_rounds) == (
        0.2,
        31,
        5,
        7,
    )


def test_few_conversions_mean_fewer_leaves() -> None:
    leaves = [BoosterParams().scaled_to(10_000, won).num_leaves for won in (20, 100, 200, 400, 5_000)]

    assert leaves == [3, 3, 7, 15, 15]


# --- high-cardinality categories keep their signal ----------------------------------------------------------


PAGE_RATES = np.random.default_rng(0).beta(1, 5, 500)


def _many_pages(n: int, pages: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Leads from ``pages`` landing pages (~20 leads each); each page's own conversion rate is the signal."""
    rng = np.random.default_rng(seed)
    page_rate = PAGE_RATES[:pages]  # the same pages in every sample
    page = rng.integers(0, pages, n)
    visits = rng.poisson(3, n)
    p = np.clip(page_rate[page] + 0.02 * visits, 0, 1)
    rows = pd.DataFrame({"Landing Page": [f"/lp/{i}" for i in page], "Visits": visits})
    return rows, pd.Series((rng.random(n) < p).astype(int))


def _pages_model(max_category_codes: int) -> object:
    step = LeadFeatures((InputColumn("Landing Page", "categorical", "page"), InputColumn("Visits", "count", "visits")))
    params = BoosterParams(max_category_codes=max_category_codes, min_category_share=0.005)
    return assemble_pipeline(step, params.scaled_to(8_000, 1_500), {})


def test_hundreds_of_landing_pages_keep_their_signal() -> None:
    train, y_train = _many_pages(8_000, 500, seed=1)
    valid, y_valid = _many_pages(2_000, 500, seed=2)
    test, y_test = _many_pages(4_000, 500, seed=3)
    aucs = {}
    for name, max_codes in (("target encoded", 32), ("grouped", 10_000)):
        model = fit_model(_pages_model(max_codes), train, y_train, valid, y_valid, early_stopping_rounds=30)
        aucs[name] = roc_auc_score(y_test, predict_raw(model, test))
        encoded = model.named_steps["encode"]
        assert (encoded.target_encoded_ == ("page",)) is (name == "target encoded")

    page = test["Landing Page"].str.removeprefix("/lp/").astype(int).to_numpy()
    oracle = roc_auc_score(y_test, PAGE_RATES[page] + 0.02 * test["Visits"])  # the true probabilities: 0.70
    # ~16 leads a page: every page is rarer than 0.5% and grouping keeps only the visits (0.56); LightGBM's own
    # categorical splits over all 500 pages reach 0.65
    assert aucs["target encoded"] > aucs["grouped"] + 0.08
    assert aucs["target encoded"] > oracle - 0.05


def test_target_encoded_training_leads_never_see_their_own_outcome() -> None:
    # every lead its own page: the page says nothing about any other lead
    step = LeadFeatures((InputColumn("Landing Page", "categorical", "page"),))
    rows = pd.DataFrame({"Landing Page": [f"/lp/{i}" for i in range(400)]})
    y = pd.Series(np.arange(400) % 2)
    features = step.fit(rows).transform(rows)
    codes = CategoryCodes(spec=step.feature_spec, max_category_codes=32)

    encoded = codes.fit_transform(features, y)["page"]

    assert codes.target_encoded_ == ("page",)
    assert encoded.isna().all()  # out of fold, every page is unseen: no lead's outcome in its own input
    scored = codes.transform(features)["page"]  # a lead scored later gets its page's smoothed rate
    assert scored.notna().all()
    assert scored[y == 1].min() > scored[y == 0].max()
    assert codes.booster_categorical_ == ()


def test_without_the_outcome_a_high_cardinality_column_is_coded_as_categories() -> None:
    step = LeadFeatures((InputColumn("Landing Page", "categorical", "page"),))
    rows = pd.DataFrame({"Landing Page": [f"/lp/{i % 50}" for i in range(500)]})
    features = step.fit(rows).transform(rows)

    codes = CategoryCodes(spec=step.feature_spec, max_category_codes=32).fit(features)

    assert codes.target_encoded_ == ()
    assert codes.booster_categorical_ == ("page",)
