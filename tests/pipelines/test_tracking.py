from __future__ import annotations

from pathlib import Path

import mlflow

from models.contract import SCORING_COLUMNS
from models.scorer import OUTPUT_COLUMNS, REASON_COLUMNS
from pipelines.settings import MlflowSettings
from pipelines.tracking import configure_mlflow, model_signature


def test_signature_accepts_every_scoring_column_and_requires_none() -> None:
    inputs = model_signature().inputs

    assert set(inputs.input_names()) == set(SCORING_COLUMNS)
    assert not any(spec.required for spec in inputs.inputs)
    assert model_signature().outputs.input_names() == [*OUTPUT_COLUMNS, *REASON_COLUMNS]
    assert {param.name for param in model_signature().params.params} == {"top_k", "language"}


def test_configure_creates_the_local_store_once(tmp_path: Path) -> None:
    settings = MlflowSettings(
        tracking_uri=f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}",
        artifact_location=tmp_path / "artifacts",
        experiment="leadq-test",
    )

    first = configure_mlflow(settings)
    again = configure_mlflow(settings)

    assert first == again
    assert (tmp_path / "store" / "mlflow.db").is_file()
    experiment = mlflow.MlflowClient().get_experiment(first)
    assert experiment.artifact_location == (tmp_path / "artifacts" / "leadq-test").resolve().as_uri()
