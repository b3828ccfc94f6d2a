from __future__ import annotations

import pandas as pd
from sklearn.metrics import roc_auc_score

from models.baselines import build_logistic_baseline
from models.features import LeadFeatures
from tests.builders import demo_mapping


def _features_step() -> LeadFeatures:
    return LeadFeatures(demo_mapping().input_columns(), competitor_domains=("rivalsoft.de",))


def test_logistic_baseline_learns_from_the_models_features_only(synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    leads = synthetic_crm.leads.merge(synthetic_crm.true_conversion, on="lead_id").sample(frac=1.0, random_state=5)
    y = (leads["true_conversion_probability"] > leads["true_conversion_probability"].median()).astype(int)
    step = _features_step()
    train, test = slice(0, 12_000), slice(12_000, None)

    model = build_logistic_baseline(step).fit(leads.iloc[train], y.iloc[train])

    auc = roc_auc_score(y.iloc[test], model.predict_proba(leads.iloc[test])[:, 1])
    assert auc > 0.75
    assert model.named_steps["features"] is not step  # a fresh copy: the model's own step stays unfitted
    assert not hasattr(step, "decimal_conventions_")
    assert list(model.named_steps["features"].get_feature_names_out()) == list(step.feature_spec.names)


def test_logistic_baseline_scores_unseen_categories_and_missing_values(synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    leads = synthetic_crm.leads.head(2_000)
    y = leads["demo_requested"].astype(int)
    model = build_logistic_baseline(_features_step(), min_category_share=0.01).fit(leads, y)
    odd = pd.DataFrame({"industry": ["space mining"], "company_size": [None], "demo_requested": ["ja"]})

    probability = model.predict_proba(odd)[:, 1]

    assert 0 <= probability[0] <= 1
