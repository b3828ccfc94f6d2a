from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from models.mlflow_model import DIGEST_TAG, artifact_digest
from models.scorer import OUTPUT_COLUMNS, REASON_COLUMNS
from pipelines.settings import MlflowSettings, Settings
from pipelines.tracking import _version_tags, configure_mlflow, model_signature, record_artifact_digest
from pipelines.training import TrainingOutcome, log_outcome
from serving.model_holder import ModelHolder
from tests.builders import model_files, settings_with_store


def test_signature_takes_the_exports_columns_as_optional_text() -> None:
    signature = model_signature(("Lead Source", "No. of Employees", "Email"))

    assert signature.inputs.input_names() == ["Lead Source", "No. of Employees", "Email"]
    assert not any(spec.required for spec in signature.inputs.inputs)
    assert {spec.type.name for spec in signature.inputs.inputs} == {"string"}
    assert signature.outputs.input_names() == [*OUTPUT_COLUMNS, *REASON_COLUMNS]
    assert {param.name for param in signature.params.params} == {"top_k", "language"}


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


def test_version_tags_say_the_policy_used_the_one_asked_for_and_the_auc_interval(trained) -> None:  # type: ignore[no-untyped-def]
    tags = _version_tags(trained)

    assert tags["threshold_policy_requested"] == "auto"  # the shipped default
    assert tags["threshold_policy"] == trained.scorer.threshold.policy
    low, high = (float(bound) for bound in tags["test_roc_auc_ci"].split("-"))
    assert low < float(tags["test_roc_auc"]) < high


@pytest.mark.slow  # registers and loads a real model
def test_registration_records_the_digest_of_the_stored_files_and_it_can_be_recorded_again(
    trained: TrainingOutcome, fast_settings: Settings, tmp_path: Path
) -> None:
    settings = settings_with_store(fast_settings, tmp_path)
    registered = log_outcome(trained, settings, "<html></html>")
    client = mlflow.MlflowClient(settings.mlflow.tracking_uri, settings.mlflow.tracking_uri)
    name = settings.mlflow.registered_model
    recorded = client.get_model_version(name, registered.version).tags[DIGEST_TAG]

    assert recorded == artifact_digest(model_files(settings, registered.version))

    # a version registered before leadq recorded digests: refused by the service until its digest is recorded
    client.delete_model_version_tag(name, registered.version, DIGEST_TAG)
    assert record_artifact_digest(settings.mlflow, registered.version) == recorded
    assert client.get_model_version(name, registered.version).tags[DIGEST_TAG] == recorded
    assert ModelHolder(settings.mlflow.tracking_uri, name).reload() == (None, registered.version)
