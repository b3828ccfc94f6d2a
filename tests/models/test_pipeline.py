"""Model-behaviour tests on a model trained on the small synthetic CRM.

What the domain is certain of must hold for every lead: a demo request, pricing-page visits and content
downloads never lower the score; a freemail address and an unsubscribe never raise it; identifiers, dates
and outcome columns change nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.contract import OUTCOME_COLUMNS, PII_COLUMNS, SCORING_COLUMNS
from models.features import CATEGORICAL_FEATURES, MODEL_FEATURES, NUMERIC_FEATURES
from models.pipeline import monotone_vector


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


def test_freemail_never_raises_the_score(trained, leads) -> None:  # type: ignore[no-untyped-def]
    company = _probabilities(trained, leads.assign(email="jane.doe@mittelstand-gmbh.de"))
    freemail = _probabilities(trained, leads.assign(email="jane.doe@gmail.com"))

    assert np.all(freemail <= company + 1e-12)


def test_unsubscribe_never_raises_the_score(trained, leads) -> None:  # type: ignore[no-untyped-def]
    subscribed = _probabilities(trained, leads.assign(newsletter_unsubscribed=False))
    unsubscribed = _probabilities(trained, leads.assign(newsletter_unsubscribed=True))

    assert np.all(unsubscribed <= subscribed + 1e-12)


def test_identifiers_dates_and_outcomes_change_nothing(trained, leads) -> None:  # type: ignore[no-untyped-def]
    baseline = _probabilities(trained, leads)
    changed = leads.assign(
        lead_id="X",
        created_at=pd.Timestamp("2020-01-01"),
        email=leads["email"].str.replace(r"^[^@]*", "someone.else", regex=True),
        stage="sql",
        outcome="won",
        amount_eur=1e6,
    )

    np.testing.assert_array_equal(_probabilities(trained, changed), baseline)


def test_model_sees_only_lead_features(trained) -> None:  # type: ignore[no-untyped-def]
    pipeline = trained.scorer.pipeline
    seen_by_booster = list(pipeline[-1].feature_name_)

    assert seen_by_booster == list(NUMERIC_FEATURES + CATEGORICAL_FEATURES)
    assert set(seen_by_booster) <= set(MODEL_FEATURES)
    assert not set(seen_by_booster) & (OUTCOME_COLUMNS | set(PII_COLUMNS) | {"job_title", "lead_id", "created_at"})
    assert set(pipeline.feature_names_in_) <= set(SCORING_COLUMNS)


def test_monotone_vector_follows_encoder_order() -> None:
    vector = monotone_vector({"demo_requested": 1, "is_freemail": -1})

    assert len(vector) == len(MODEL_FEATURES)
    assert vector[NUMERIC_FEATURES.index("demo_requested")] == 1
    assert vector[NUMERIC_FEATURES.index("is_freemail")] == -1
    assert sum(map(abs, vector)) == 2


def test_monotone_constraint_on_a_category_is_refused() -> None:
    with pytest.raises(ValueError, match="numeric features"):
        monotone_vector({"industry": 1})


def test_category_codes_group_rare_and_blank_out_unknown_categories() -> None:
    from models.features import build_features
    from models.pipeline import CategoryCodes
    from tests.conftest import make_lead

    leads = pd.DataFrame(
        [make_lead(f"L{i}", industry="Software" if i < 90 else "Retail" if i < 99 else "Mining") for i in range(100)]
    )
    features = build_features(leads)
    codes = CategoryCodes(min_category_share=0.05).fit(features)
    values = ("software", "Mining", "Space", None)
    probe = build_features(pd.DataFrame([make_lead("N1", industry=value) for value in values]))

    industry = codes.transform(probe)["industry"].tolist()

    assert industry[0] == codes.codes_["industry"]["software"]
    assert industry[1] == len([c for c, n in {"software": 90, "retail": 9}.items() if n >= 5])  # infrequent code
    assert np.isnan(industry[2])
    assert np.isnan(industry[3])
