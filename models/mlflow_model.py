"""The MLflow pyfunc wrapper of :class:`models.scorer.LeadScorer`.

Why a pyfunc and not the sklearn flavour: the shipped model is more than an estimator (pipeline,
calibrator, MQL threshold and policy must travel together), and MLflow 3's sklearn flavour serialises with
skops, which refuses LightGBM's types unless each is explicitly trusted. The scorer is stored as a joblib
artifact of our own code; loading it needs the leadq package installed (serving has it).

Loading runs code: joblib unpickles the scorer and MLflow executes the models-from-code entry file. So the model's
files are fingerprinted when the version is registered (:func:`artifact_digest`, the version tag
``artifact_sha256``) and the scoring service loads only files that match it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import joblib
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext

from models.scorer import LeadScorer

SCORER_ARTIFACT = "scorer"
# Models-from-code: MLflow executes this file to build the pyfunc when it loads the model.
PYFUNC_ENTRY = Path(__file__).with_name("pyfunc_entry.py")
DIGEST_TAG = "artifact_sha256"  # the registered version's tag: SHA-256 of its model files (artifact_digest)
# Files MLflow itself writes into a model folder when it is downloaded (the registered name and version), not part
# of the model as logged.
_NOT_DIGESTED = frozenset({"registered_model_meta"})
_CHUNK = 1 << 20


def artifact_digest(model_dir: Path) -> str:
    """SHA-256 over every file of a model folder (as logged or downloaded), in sorted path order: each file's path
    relative to the folder, its size and its bytes. A changed, added, removed or renamed file changes it.
    """
    digest = hashlib.sha256()
    files = sorted(
        (path.relative_to(model_dir).as_posix(), path)
        for path in model_dir.rglob("*")
        if path.is_file() and path.relative_to(model_dir).as_posix() not in _NOT_DIGESTED
    )
    for relative, path in files:
        digest.update(f"{relative}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as content:
            while chunk := content.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


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
