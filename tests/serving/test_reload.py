"""Hot swap: when the champion alias moves, the service swaps models without failing a request."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import mlflow
import pytest
from fastapi.testclient import TestClient

from pipelines.demo.synthetic import generate_crm, write_crm
from pipelines.settings import Settings
from pipelines.training import run_training
from serving.app import ServiceConfig, create_app
from tests.serving.conftest import AUTH, KEYS, lead, make_holder, registry_settings


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A registry with versions 1 (champion) and 2 (not yet promoted)."""
    settings = registry_settings(
        tmp_path_factory.mktemp("two-versions"), "max_trees: 100, early_stopping_rounds: 10, learning_rate: 0.15"
    )
    write_crm(generate_crm(15_000, seed=21), settings.data.leads.parent, "parquet")
    run_training(settings)
    run_training(settings.model_copy(update={"model": settings.model.model_copy(update={"num_leaves": 7})}))
    return settings


def _move_champion(settings: Settings, version: str) -> None:
    client = mlflow.MlflowClient(settings.mlflow.tracking_uri, settings.mlflow.tracking_uri)
    client.set_registered_model_alias(settings.mlflow.registered_model, "champion", version)


@pytest.mark.slow
def test_reload_during_a_stream_of_requests_fails_none(two_versions: Settings) -> None:
    _move_champion(two_versions, "1")
    app = create_app(make_holder(two_versions), ServiceConfig(api_keys=KEYS))
    statuses: list[int] = []
    versions: list[str] = []
    stop = threading.Event()

    with TestClient(app) as client:

        def stream() -> None:
            while not stop.is_set():
                response = client.post("/v1/leads/score", json=lead(), headers=AUTH)
                statuses.append(response.status_code)
                versions.append(response.json()["model"]["version"])

        workers = [threading.Thread(target=stream) for _ in range(3)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        _move_champion(two_versions, "2")
        reloaded = client.post("/v1/admin/reload", headers=AUTH)
        time.sleep(0.5)
        stop.set()
        for worker in workers:
            worker.join()
        info = client.get("/v1/model", headers=AUTH).json()

    assert reloaded.status_code == 200
    assert reloaded.json()["version"] == "2"
    assert set(statuses) == {200}
    assert versions[0] == "1"
    assert versions[-1] == "2"
    assert info["version"] == "2"


@pytest.mark.slow
def test_polling_picks_up_a_moved_alias(two_versions: Settings) -> None:
    _move_champion(two_versions, "1")
    app = create_app(make_holder(two_versions), ServiceConfig(api_keys=KEYS, reload_interval_s=0.2))

    with TestClient(app) as client:
        assert client.get("/readyz").json()["model_version"] == "1"
        _move_champion(two_versions, "2")
        deadline = time.monotonic() + 20
        while client.get("/readyz").json()["model_version"] != "2" and time.monotonic() < deadline:
            time.sleep(0.1)

        assert client.get("/readyz").json()["model_version"] == "2"


def test_missing_model_fails_readiness_and_startup(tmp_path: Path) -> None:
    from serving.model_holder import ModelHolder, ModelNotReadyError

    holder = ModelHolder(f"sqlite:///{tmp_path / 'empty.db'}", "no-such-model", "champion")

    assert not holder.ready
    with pytest.raises(ModelNotReadyError, match="'no-such-model' \\(champion\\) not found in the registry"):
        holder.reload()
