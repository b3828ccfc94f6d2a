"""Hot swap: when the served alias moves, the service swaps models without failing a request, unless the new
version reads other input fields (409: the request schema would change under the CRM)."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipelines.settings import Settings
from serving.app import ServiceConfig, create_app
from serving.model_holder import ModelHolder, ModelNotReadyError, input_changes, missing_word_changes
from tests.builders import ADMIN, AUTH, KEYS, make_holder, point_alias, scoring_request, served_app


def test_a_reload_without_a_new_version_keeps_the_served_one(client: TestClient) -> None:
    response = client.post("/v1/admin/reload", headers=ADMIN)

    assert response.status_code == 200
    assert response.json()["version"] == "1"


def test_a_reload_needs_a_key(client: TestClient) -> None:
    assert client.post("/v1/admin/reload").status_code == 401


@pytest.mark.slow
def test_reload_during_a_stream_of_requests_fails_none(registry: Settings, same_inputs_version: str) -> None:
    point_alias(registry, "stream", "1")
    statuses: list[int] = []
    versions: list[str] = []
    stop = threading.Event()

    with TestClient(served_app(registry, alias="stream")) as client:

        def stream() -> None:
            while not stop.is_set():
                response = client.post("/v1/leads/score", json=scoring_request(), headers=AUTH)
                statuses.append(response.status_code)
                versions.append(response.json()["model"]["version"])

        workers = [threading.Thread(target=stream) for _ in range(3)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        point_alias(registry, "stream", same_inputs_version)
        reloaded = client.post("/v1/admin/reload", headers=ADMIN)
        time.sleep(0.5)
        stop.set()
        for worker in workers:
            worker.join()
        info = client.get("/v1/model", headers=AUTH).json()

    assert reloaded.status_code == 200
    assert reloaded.json()["version"] == same_inputs_version
    assert set(statuses) == {200}
    assert versions[0] == "1"
    assert versions[-1] == same_inputs_version
    assert info["version"] == same_inputs_version


@pytest.mark.slow
def test_polling_picks_up_a_moved_alias(registry: Settings, same_inputs_version: str) -> None:
    point_alias(registry, "polled", "1")

    with TestClient(served_app(registry, alias="polled", reload_interval_s=0.2)) as client:
        assert client.get("/readyz").json()["model_version"] == "1"
        point_alias(registry, "polled", same_inputs_version)
        deadline = time.monotonic() + 20
        while client.get("/readyz").json()["model_version"] != same_inputs_version and time.monotonic() < deadline:
            time.sleep(0.1)

        assert client.get("/readyz").json()["model_version"] == same_inputs_version


@pytest.mark.slow
def test_a_version_reading_other_input_fields_is_refused_and_the_served_one_stays(
    registry: Settings, messy_version: str
) -> None:
    point_alias(registry, "guarded", "1")

    with TestClient(served_app(registry, alias="guarded")) as client:
        point_alias(registry, "guarded", messy_version)
        reloaded = client.post("/v1/admin/reload", headers=ADMIN)
        still = client.post("/v1/leads/score", json=scoring_request(), headers=AUTH)

    assert reloaded.status_code == 409
    error = reloaded.json()["error"]
    assert error["code"] == "model_inputs_changed"
    assert (
        f"version {messy_version} reads other input fields, words for missing, decimal separators or export column "
        "names than the served version 1" in error["message"]
    )
    assert "added: Email, Job Title, No. of Employees" in error["message"]
    assert "removed: email, job_title, company_size" in error["message"]
    assert still.status_code == 200
    assert still.json()["model"]["version"] == "1"


def test_input_changes_name_added_removed_and_recast_fields() -> None:
    served = {"email": "email", "company_size": "count", "industry": "categorical"}
    new = {"email": "email", "company_size": "numeric", "Region": "categorical"}

    assert input_changes(served, served) == []
    assert input_changes(served, new) == [
        "added: Region",
        "removed: industry",
        "role changed: company_size (count -> numeric)",
    ]


def test_missing_word_changes_compare_the_words_as_the_request_schema_folds_them() -> None:
    served = ("N/A", "Select", "--None--")

    assert missing_word_changes(served, (" n/a ", "select", "--NONE--")) == []
    assert missing_word_changes(served, ("N/A", "k.A.", "keine Angabe")) == [
        "words for missing added: 'k.a.', 'keine angabe'",
        "words for missing removed: '--none--', 'select'",
    ]


@pytest.mark.slow  # creating an empty MLflow store takes seconds
def test_missing_model_fails_readiness_and_startup(tmp_path: Path) -> None:
    holder = ModelHolder(f"sqlite:///{tmp_path / 'empty.db'}", "no-such-model", "champion")

    assert not holder.ready
    with pytest.raises(ModelNotReadyError, match="'no-such-model' \\(champion\\) not found in the registry"):
        holder.reload()


def _frozen(thing: object) -> bool:
    """Whether the garbage collector's full collections skip ``thing`` (``gc.freeze`` moved it out of the generations
    ``gc.get_objects`` lists)."""
    return not any(tracked is thing for tracked in gc.get_objects())


def test_a_service_with_the_process_to_itself_freezes_its_model_at_start_and_after_a_reload(
    registry: Settings, same_inputs_version: str
) -> None:
    point_alias(registry, "freeze", "1")
    holder = make_holder(registry, "freeze")
    holder.reload()
    config = ServiceConfig(api_keys=KEYS, input_roles=holder.input_roles, freeze_objects=True)
    try:
        with TestClient(create_app(holder, config)) as client:
            first = holder.current.scorer
            frozen_at_start = _frozen(first)
            point_alias(registry, "freeze", same_inputs_version)
            assert client.post("/v1/admin/reload", headers=ADMIN).json()["version"] == same_inputs_version
            second = holder.current.scorer
            frozen_after_reload = _frozen(second)
    finally:
        gc.unfreeze()  # the test process's objects are collected as before

    assert second is not first
    assert frozen_at_start
    assert frozen_after_reload


def test_an_app_sharing_its_process_freezes_nothing(registry: Settings) -> None:
    gc.unfreeze()
    with TestClient(served_app(registry)):
        assert gc.get_freeze_count() == 0
