"""Trust in the model artifact: the service loads a version only if its files match the digest recorded at
registration; a tampered version is refused before any of its code runs, and a reload to it keeps the served one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import mlflow
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from models.mlflow_model import artifact_digest
from models.single_feature_trees import _PLANS
from pipelines.cli import app
from pipelines.settings import Settings
from pipelines.tracking import record_artifact_digest
from pipelines.training import TrainingOutcome, log_outcome
from serving.model_holder import (
    ModelHolder,
    ModelInputsChangedError,
    ModelIntegrityError,
    ModelLoadError,
    ModelNotReadyError,
)
from serving.schemas import ExportNames
from tests.builders import (
    ADMIN,
    AUTH,
    CRM_KEY,
    make_holder,
    model_files,
    point_alias,
    scoring_request,
    served_app,
    settings_with_store,
)

# Models-from-code: MLflow executes the entry file when it loads the model, so a line added to it runs in the
# service. The tampered version below touches this marker file (or $TAMPERED_MARKER) if any of its code runs.
MARKER = "tampered-code-ran"


def _entry_file(model_dir: Path) -> Path:
    [entry] = list(model_dir.glob("*.py"))  # the models-from-code file MLflow runs on load
    return entry


@pytest.fixture(scope="module")
def registry_with_tampering(
    trained: TrainingOutcome, fast_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, Path]:
    """A registry of its own: version 1 as registered (champion), version 2 whose entry file was changed after
    registration to write a marker file, version 3 the files of version 1 registered without a digest (as an older
    leadq registered them)."""
    folder = tmp_path_factory.mktemp("tampered-registry")
    settings = settings_with_store(fast_settings, folder)
    versions = [log_outcome(trained, settings, "<html></html>").version for _ in range(2)]
    client = mlflow.MlflowClient(settings.mlflow.tracking_uri, settings.mlflow.tracking_uri)
    name = settings.mlflow.registered_model
    versions.append(str(client.create_model_version(name, client.get_model_version(name, "1").source).version))
    assert versions == ["1", "2", "3"]
    marker = folder / MARKER
    entry = _entry_file(model_files(settings, "2"))
    payload = f"pathlib.Path(os.environ.get('TAMPERED_MARKER', {str(marker)!r})).touch()"
    entry.write_text(f"{entry.read_text()}\nimport os, pathlib\n{payload}\n")
    return settings, marker


@pytest.mark.slow  # loads a real model
def test_a_version_whose_files_match_is_served(registry_with_tampering: tuple[Settings, Path]) -> None:
    settings, _ = registry_with_tampering
    holder = make_holder(settings)

    assert holder.reload() == (None, "1")


@pytest.mark.slow  # loads a real model
def test_the_service_s_holder_groups_a_version_s_trees_before_it_serves(
    registry_with_tampering: tuple[Settings, Path],
) -> None:
    settings, _ = registry_with_tampering
    holder = ModelHolder(
        settings.mlflow.tracking_uri, settings.mlflow.registered_model, "champion", prepare_contributions=True
    )

    holder.reload()

    classifier = holder.current.scorer.pipeline.named_steps["classifier"]
    assert (classifier.best_iteration_ or None) in _PLANS[classifier.booster_]  # its first batch does not wait


@pytest.mark.slow  # loads a real model
def test_the_tampered_version_runs_its_code_when_loaded_unchecked(
    registry_with_tampering: tuple[Settings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The threat is real: what the refusals below prevent."""
    settings, _ = registry_with_tampering
    monkeypatch.setenv("TAMPERED_MARKER", str(tmp_path / "ran"))
    mlflow.set_tracking_uri(settings.mlflow.tracking_uri)
    mlflow.set_registry_uri(settings.mlflow.tracking_uri)

    mlflow.pyfunc.load_model(f"models:/{settings.mlflow.registered_model}/2")

    assert (tmp_path / "ran").exists()


@pytest.mark.slow  # loads a real model
def test_a_version_is_served_from_a_read_only_store(registry_with_tampering: tuple[Settings, Path]) -> None:
    """The service never writes to the store (it checks and loads a private copy): it can serve from a read-only
    one, as the README advises."""
    settings, marker = registry_with_tampering
    store = marker.parent  # the registry's folder: tracking database and artifacts
    bound = subprocess.run(["mount", "--bind", str(store), str(store)], capture_output=True, check=False)
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here (needs root and CAP_SYS_ADMIN): {bound.stderr.decode()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(store)], check=True, capture_output=True)
        with pytest.raises(OSError, match="Read-only file system"):
            (store / "probe").touch()

        assert make_holder(settings).reload() == (None, "1")
    finally:
        subprocess.run(["umount", "-l", str(store)], check=False)


def test_a_tampered_version_is_refused_at_startup_before_any_of_its_code_runs(
    registry_with_tampering: tuple[Settings, Path],
) -> None:
    settings, marker = registry_with_tampering
    point_alias(settings, "tampered", "2")

    with pytest.raises(ModelIntegrityError, match=r"version 2 of .*do not match the artifact_sha256 recorded"):
        served_app(settings, alias="tampered")  # loads the model before the app is built

    assert not marker.exists()


@pytest.mark.slow  # loads a real model, then refuses another
def test_a_reload_to_a_tampered_version_keeps_the_served_one(registry_with_tampering: tuple[Settings, Path]) -> None:
    settings, marker = registry_with_tampering
    point_alias(settings, "moving", "1")
    holder = make_holder(settings, "moving")
    holder.reload()
    point_alias(settings, "moving", "2")

    with pytest.raises(ModelNotReadyError, match="they were changed after registration; not loaded"):
        holder.reload()

    assert holder.current.version == "1"
    assert not marker.exists()


@pytest.mark.slow  # loads a real model, then refuses another
def test_a_reload_over_http_to_a_tampered_version_is_502_and_the_served_one_stays(
    registry_with_tampering: tuple[Settings, Path],
) -> None:
    settings, marker = registry_with_tampering
    point_alias(settings, "http", "1")

    with TestClient(served_app(settings, alias="http")) as client:
        point_alias(settings, "http", "2")
        reloaded = client.post("/v1/admin/reload", headers=ADMIN)
        still = client.post("/v1/leads/score", json=scoring_request(), headers=AUTH)

    assert reloaded.status_code == 502
    error = reloaded.json()["error"]
    assert error["code"] == "model_load_failed"
    assert "version 2 of 'leadq-lead-conversion': its model files do not match" in error["message"]
    assert "still serving version 1" in error["message"]
    assert still.status_code == 200
    assert still.json()["model"]["version"] == "1"
    assert not marker.exists()


def test_leadq_serve_refuses_a_tampered_version_naming_it(
    registry_with_tampering: tuple[Settings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, marker = registry_with_tampering
    point_alias(settings, "served-by-cli", "2")
    config = tmp_path / "mlflow.yml"
    config.write_text(
        f"mlflow:\n  tracking_uri: {settings.mlflow.tracking_uri}\n"
        f"  artifact_location: {settings.mlflow.artifact_location}\n"
        "serving:\n  model_alias: served-by-cli\n"
    )
    monkeypatch.setenv("LEADQ_API_KEYS", f"crm:{CRM_KEY}")

    result = CliRunner().invoke(app, ["serve", "--config", str(config)])

    assert result.exit_code == 1
    assert "Refused:" in result.output
    assert "version 2 of 'leadq-lead-conversion': its model files do not match" in " ".join(result.output.split())
    assert not marker.exists()


def test_the_data_teams_commands_load_through_the_same_check(
    registry_with_tampering: tuple[Settings, Path], tmp_path: Path
) -> None:
    """leadq explain, audit and retrain load registered versions too (load_registered_scorer)."""
    settings, marker = registry_with_tampering
    config = tmp_path / "mlflow.yml"
    config.write_text(
        f"mlflow:\n  tracking_uri: {settings.mlflow.tracking_uri}\n"
        f"  artifact_location: {settings.mlflow.artifact_location}\n"
    )

    result = CliRunner().invoke(app, ["explain", "--version", "2", "--config", str(config)])

    assert result.exit_code == 1
    assert "Refused:" in result.output
    assert "they were changed after registration" in " ".join(result.output.split())
    assert not marker.exists()


def test_a_version_registered_without_a_digest_is_refused(registry_with_tampering: tuple[Settings, Path]) -> None:
    settings, _ = registry_with_tampering
    holder = ModelHolder(settings.mlflow.tracking_uri, settings.mlflow.registered_model, alias=None, version="3")

    with pytest.raises(ModelIntegrityError, match=r"version 3 of .* has no artifact_sha256 tag"):
        holder.reload()

    assert not holder.ready


def test_recording_a_digest_refuses_files_changed_since_registration(
    registry_with_tampering: tuple[Settings, Path],
) -> None:
    settings, _ = registry_with_tampering

    with pytest.raises(ValueError, match=r"version 2 .* were changed after registration; not overwritten"):
        record_artifact_digest(settings.mlflow, "2")


def test_the_digest_covers_every_file_and_its_name(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "artifacts").mkdir(parents=True)
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "artifacts" / "scorer.joblib").write_bytes(b"\x00pickle")
    before = artifact_digest(model)

    (model / "registered_model_meta").write_text("model_name: x\nmodel_version: '1'\n")  # MLflow writes it
    assert artifact_digest(model) == before
    (model / "artifacts" / "scorer.joblib").rename(model / "artifacts" / "other.joblib")
    assert artifact_digest(model) != before
    (model / "artifacts" / "other.joblib").rename(model / "artifacts" / "scorer.joblib")
    assert artifact_digest(model) == before
    (model / "extra.py").write_text("")
    assert artifact_digest(model) != before


def test_each_loaded_version_gets_its_activity_words_from_the_hook(
    registry: Settings, same_inputs_version: str
) -> None:
    from models.engagement import ActivityVocabulary, EngagementWindows

    words = ActivityVocabulary(EngagementWindows(("visit",)), ("Page Visited",), {"page visited": "visit"}.get)
    asked: list[tuple[str, str]] = []

    def activities_of(name: str, version: str) -> ActivityVocabulary | None:
        asked.append((name, version))
        return words if version == same_inputs_version else None

    name = registry.mlflow.registered_model
    holder = ModelHolder(registry.mlflow.tracking_uri, name, alias=None, version="1", activities_of=activities_of)
    holder.reload()
    first = holder.current
    holder.version = same_inputs_version
    holder.reload()

    assert first.activities is None
    assert holder.current.activities is words  # the reload brought the new version's words
    assert asked == [(name, "1"), (name, same_inputs_version)]


def test_a_failing_activity_hook_keeps_the_served_version(registry: Settings, same_inputs_version: str) -> None:
    def activities_of(name: str, version: str) -> None:
        if version != "1":
            raise OSError("the artifact store is gone")

    holder = ModelHolder(
        registry.mlflow.tracking_uri, registry.mlflow.registered_model, None, "1", activities_of=activities_of
    )
    holder.reload()
    holder.version = same_inputs_version

    with pytest.raises(ModelLoadError, match="the artifact store is gone"):
        holder.reload()
    assert holder.current.version == "1"


def test_a_version_whose_export_names_its_id_otherwise_is_refused_until_a_restart(
    registry: Settings, same_inputs_version: str
) -> None:
    # the request schema reads a lead sent as its export row by the export's own id column: another name is
    # another schema, as another input field is
    names = {"1": ExportNames("Prospect ID"), same_inputs_version: ExportNames("Lead Number")}
    holder = ModelHolder(
        registry.mlflow.tracking_uri,
        registry.mlflow.registered_model,
        None,
        "1",
        export_names_of=lambda name, version: names[version],
    )
    holder.reload()
    assert holder.current.export_names == ExportNames("Prospect ID")
    holder.version = same_inputs_version

    with pytest.raises(ModelInputsChangedError, match=r"lead_id \('Prospect ID' -> 'Lead Number'\)"):
        holder.reload()
    assert holder.current.version == "1"

    names[same_inputs_version] = names["1"]
    holder.reload()
    assert holder.current.version == same_inputs_version
