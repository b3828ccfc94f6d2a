"""Explanation speed: reasons per second on batches (fast path vs shap.TreeExplainer) and single-lead latency."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import shap

from models.explanations import Contributions, encode_for_booster, top_reasons
from models.scorer import LeadScorer

BATCH = 10_000
SINGLE_CALLS = 1_000
REPEATS = 3


def _best_rate(run: object, rows: int) -> float:
    """Rows per second of the fastest of ``REPEATS`` runs (the least disturbed by the machine)."""
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return rows / min(timings)


def _shap_reasons(scorer: LeadScorer, explainer: shap.TreeExplainer, leads: pd.DataFrame) -> None:
    features, encoded = encode_for_booster(scorer.pipeline, leads)
    explanation = explainer(encoded)
    # no CRM spellings of categories (the fast path copies them): if anything, this favours SHAP
    explained = Contributions(
        values=explanation.values,
        base_value=float(np.ravel(explanation.base_values)[0]),
        arrays={str(name): features[name].to_numpy() for name in features},
        index=leads.index,
        spec=scorer.pipeline.named_steps["features"].feature_spec,
    )
    top_reasons(explained, scorer.top_k, scorer.language)


def benchmark_explain(scorer: LeadScorer, leads: pd.DataFrame) -> dict[str, float]:
    """Reasons via the fast path (LightGBM pred_contrib) vs shap.TreeExplainer, and the full ``explain``.

    Both reason paths build the same features and the same top-k reasons; only the SHAP step differs.
    ``explain_rows_per_s`` is what a batch-scoring job gets: probability, grade, SLA and reasons.
    """
    batch = leads.head(BATCH)
    explainer = shap.TreeExplainer(scorer.pipeline.named_steps["classifier"].booster_)
    fast = _best_rate(lambda: top_reasons(scorer.contributions(batch), scorer.top_k, scorer.language), len(batch))
    reference = _best_rate(lambda: _shap_reasons(scorer, explainer, batch), len(batch))
    full = _best_rate(lambda: scorer.explain(batch), len(batch))
    singles = [leads.iloc[[i % len(leads)]] for i in range(SINGLE_CALLS)]
    for lead in singles[:20]:  # warm-up
        scorer.explain(lead)
    latencies = []
    for lead in singles:
        started = time.perf_counter()
        scorer.explain(lead)
        latencies.append(time.perf_counter() - started)
    milliseconds = np.asarray(latencies) * 1000
    return {
        "batch_size": float(len(batch)),
        "fast_rows_per_s": fast,
        "shap_rows_per_s": reference,
        "fast_vs_shap": fast / reference,
        "explain_rows_per_s": full,
        "single_p50_ms": float(np.percentile(milliseconds, 50)),
        "single_p99_ms": float(np.percentile(milliseconds, 99)),
    }
