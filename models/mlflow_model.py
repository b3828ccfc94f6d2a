"""The MLflow pyfunc wrapper of :class:`models.scorer.LeadScorer`.

Why a pyfunc and not the sklearn flavour: the shipped model is more than an estimator (pipeline,
calibrator, MQL threshold and policy must travel together), and MLflow 3's sklearn flavour serialises with
skops, which refuses LightGBM's types unless each is explicitly trusted. The scorer is stored as a joblib
artifact of our own code; loading it needs the leadq package installed (serving has it).
"""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext

from models.scorer import LeadScorer

SCORER_ARTIFACT = "scorer"
# Models-from-code: MLflow executes this file to build the pyfunc when it loads the model.
PYFUNC_ENTRY = Path(__file__).with_name("pyfunc_entry.py")


def as_model_input(leads: pd.DataFrame) -> pd.DataFrame:
    """Lead records as the pyfunc's signature takes them: every value as text, missing values as null."""
    return leads.astype(str).astype(object).where(leads.notna(), None)


def save_scorer(scorer: LeadScorer, path: Path) -> Path:
    """Write the scorer to ``path`` (joblib) for logging as the pyfunc's artifact."""
    joblib.dump(scorer, path, compress=3)
    return path


class LeadScorerModel(PythonModel):
    """pyfunc: lead records in; probability, score, is_mql, grade, SLA and top reasons out."""

    def load_context(self, context: PythonModelContext) -> None:
        self.scorer: LeadScorer = joblib.load(context.artifacts[SCORER_ARTIFACT])

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        params = params or {}
        return self.scorer.explain(model_input, top_k=params.get("top_k"), language=params.get("language"))
