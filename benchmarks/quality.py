"""Model quality on a synthetic CRM: the model against the oracle, the observable ceiling and both baselines.

The synthetic CRM is trained on the one road every export takes: its tables read through the shipped mapping
(``pipelines/demo/synthetic_crm.yml``) into a :class:`~pipelines.crm_export.prepare.LoadedExport`, then
:func:`pipelines.training.train_scorer` (no files, no MLflow: only the model is measured here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from pipelines.crm_export.mapping import load_mapping
from pipelines.crm_export.prepare import LoadedExport
from pipelines.crm_export.read import RawExport
from pipelines.demo.synthetic import SyntheticCRM, generate_for
from pipelines.settings import DEMO_MAPPING, Settings

if TYPE_CHECKING:
    from pipelines.training import TrainingOutcome


def synthetic_export(crm: SyntheticCRM) -> LoadedExport:
    """The generated tables as ``read_export_files`` would return them from disk, with the shipped mapping."""
    tables = {"dispositions": crm.dispositions, "deals": crm.deals}
    return LoadedExport(load_mapping(DEMO_MAPPING), RawExport(crm.leads, None, None), tables)


def observable_ceiling(outcome: TrainingOutcome, crm: SyntheticCRM) -> float:
    """Test AUC of a booster fitted to the *true* logit from the observed lead fields of the training quarters.

    The generator draws outcomes from latent fit and intent that the export shows only through noisy, partly
    missing fields, so no model of the export can reach the oracle. Regressing the noise-free true logit on
    the model's own features (its ``features`` and ``encode`` steps, fitted on the same training leads) estimates
    how much of the oracle the export reveals; the gap between this ceiling and the model is what better
    modelling could still win.
    """
    import lightgbm as lgb

    pipeline = outcome.scorer.pipeline
    features, encode = pipeline.named_steps["features"], pipeline.named_steps["encode"]
    leads = crm.leads.set_index("lead_id")[list(features.input_columns)]
    truth = crm.true_conversion.set_index("lead_id")["true_conversion_probability"].clip(1e-6, 1 - 1e-6)
    train_ids, test_ids = outcome.split.train, pd.Index(outcome.test_scores["lead_id"])

    def encoded(ids: pd.Index) -> pd.DataFrame:
        return encode.transform(features.transform(leads.loc[ids]))

    regressor = lgb.LGBMRegressor(
        n_estimators=2000, learning_rate=0.03, num_leaves=63, min_child_samples=50, random_state=0, verbose=-1
    )
    true_p = truth.loc[train_ids]
    regressor.fit(encoded(train_ids), np.log(true_p / (1 - true_p)))
    predicted = regressor.predict(encoded(test_ids))
    return float(roc_auc_score(outcome.test_scores["converted"], predicted))


def benchmark_quality(settings: Settings, n_leads: int) -> tuple[dict[str, float], TrainingOutcome]:
    """Train on a synthetic CRM and compare with the oracle, the ceiling and both baselines on the test quarter."""
    from pipelines.training import train_scorer

    crm = generate_for(settings, n_leads)
    outcome = train_scorer(synthetic_export(crm), settings)
    scores = outcome.test_scores.merge(crm.true_conversion, on="lead_id")
    metrics = outcome.metrics
    quality = {
        "auc_model": metrics["test_roc_auc"],
        "auc_oracle": float(roc_auc_score(scores["converted"], scores["true_conversion_probability"])),
        "auc_observable_ceiling": observable_ceiling(outcome, crm),
        "auc_logreg": metrics["logreg_test_roc_auc"],
        "auc_rules": metrics["rules_test_roc_auc"],
        "ece_model": metrics["test_ece"],
        "ece_logreg": metrics["logreg_test_ece"],
        "brier_model": metrics["test_brier"],
        "precision_at_threshold": metrics["test_mql_precision"],
        "recall_at_threshold": metrics["test_mql_recall"],
        "rules_precision_at_threshold": metrics["rules_test_mql_precision"],
        "rules_recall_at_threshold": metrics["rules_test_mql_recall"],
        "n_train": metrics["n_train"],
        "n_test": metrics["n_test"],
    }
    return quality, outcome
