from __future__ import annotations

import pandas as pd
from sklearn.metrics import roc_auc_score

from models.baselines import build_logistic_baseline
from models.contract import OUTCOME_COLUMNS, PII_COLUMNS, SCORING_COLUMNS


def test_logistic_baseline_learns_from_lead_features_only(synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    leads = synthetic_crm.leads.merge(synthetic_crm.true_conversion, on="lead_id")
    rng_order = leads.sample(frac=1.0, random_state=5)
    y = (rng_order["true_conversion_probability"] > rng_order["true_conversion_probability"].median()).astype(int)
    X = rng_order[list(SCORING_COLUMNS)]
    train, test = slice(0, 12_000), slice(12_000, None)

    model = build_logistic_baseline().fit(X.iloc[train], y.iloc[train])

    auc = roc_auc_score(y.iloc[test], model.predict_proba(X.iloc[test])[:, 1])
    assert auc > 0.75
    features = set(model.named_steps["features"].get_feature_names_out())
    assert not features & {*OUTCOME_COLUMNS, *PII_COLUMNS}


def test_logistic_baseline_scores_unseen_categories_and_missing_values(synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    leads = synthetic_crm.leads.head(2_000)
    y = leads["demo_requested"].astype(int)
    model = build_logistic_baseline().fit(leads[list(SCORING_COLUMNS)], y)
    odd = pd.DataFrame({"industry": ["space mining"], "company_size": [None], "demo_requested": [True]})

    probability = model.predict_proba(odd.reindex(columns=list(SCORING_COLUMNS)))[:, 1]

    assert 0 <= probability[0] <= 1
