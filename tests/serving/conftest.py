"""A real MLflow registry holding the model trained on the synthetic export (the one road), and the service on it.

The model is trained once per session (the ``trained`` fixture of ``tests/conftest.py``) and registered as
version 1, aliased champion. Further versions (the same inputs again, or a model of another export) are
registered only by the tests that need them, under their own aliases, so the champion stays version 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipelines.crm_export.prepare import read_export_files
from pipelines.settings import Settings
from pipelines.training import TrainingOutcome, log_outcome, train_scorer
from tests.builders import point_alias, served_app, settings_with_store, write_messy_export

# The explanation report is tested with training; here it would only cost seconds per registered version.
REPORT_HTML = "<html><body>serving tests: no explanation report</body></html>"


def _register(outcome: TrainingOutcome, settings: Settings) -> str:
    return log_outcome(outcome, settings, REPORT_HTML).version


@pytest.fixture(scope="session")
def registry(trained: TrainingOutcome, fast_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose MLflow registry holds the synthetic export's model as version 1, aliased champion."""
    folder = tmp_path_factory.mktemp("serving-registry")
    settings = settings_with_store(fast_settings, folder)
    serving = settings.serving.model_copy(update={"scoring_log_url": f"sqlite:///{folder / 'scoring_log.db'}"})
    settings = settings.model_copy(update={"serving": serving})
    assert _register(trained, settings) == "1"
    return settings


@pytest.fixture(scope="session")
def same_inputs_version(registry: Settings, trained: TrainingOutcome) -> str:
    """Another registered version reading the same input fields (the same model, registered again)."""
    return _register(trained, registry)


@pytest.fixture(scope="session")
def messy_version(
    registry: Settings, synthetic_crm: object, fast_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A version trained on a messy single-table export of the same CRM: other input fields, other names."""
    export, mapping = write_messy_export(tmp_path_factory.mktemp("messy-export"), synthetic_crm)
    return _register(train_scorer(read_export_files(export, mapping), fast_settings), registry)


@pytest.fixture
def log_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scoring_log.db'}"


@pytest.fixture
def client(registry: Settings, log_url: str) -> Iterator[TestClient]:
    with TestClient(served_app(registry, max_batch=50, scoring_log_url=log_url)) as test_client:
        yield test_client


# The CRM's own words for the synthetic CRM's activity kinds (the activities table is written in them).
CRM_ACTIVITY_WORDS = {
    "visit": "Page Visited",
    "download": "Whitepaper Download",
    "webinar": "Webinar Attended",
    "demo_request": "Demo Request",
    "email_open": "Email Opened",
    "email_click": "Email Link Clicked",
    "unsubscribe": "Unsubscribed",
}


@pytest.fixture(scope="session")
def activities_registry(fast_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """A registry whose champion was trained with the synthetic CRM's activities table, written in the CRM's own
    activity words (``CRM_ACTIVITY_WORDS``) and translated by the mapping; and the export's folder."""
    import pandas as pd

    from pipelines.crm_export.mapping import ExportMapping, dump_mapping, load_mapping
    from pipelines.demo.synthetic import activities_mapping, generate_crm, write_crm
    from pipelines.settings import DEMO_MAPPING

    folder = tmp_path_factory.mktemp("activities-export")
    write_crm(generate_crm(3_000, seed=9, activities=True), folder)
    activities = pd.read_parquet(folder / "activities.parquet")
    activities.assign(kind=activities["kind"].map(CRM_ACTIVITY_WORDS)).to_parquet(folder / "activities.parquet")
    data = activities_mapping(load_mapping(DEMO_MAPPING)).model_dump(mode="json", exclude_none=True)
    data["tables"]["activities"]["kind"]["values"] = {word: kind for kind, word in CRM_ACTIVITY_WORDS.items()}
    mapping = ExportMapping.model_validate(data)
    (folder / "mapping.yml").write_text(dump_mapping(mapping), encoding="utf-8")
    settings = settings_with_store(fast_settings, tmp_path_factory.mktemp("activities-registry"))
    outcome = train_scorer(read_export_files(folder / "leads.parquet", folder / "mapping.yml"), settings)
    assert _register(outcome, settings) == "1"
    point_alias(settings, "champion", "1")  # 3,000 leads may be too few for the publish gate: served all the same
    return settings, folder
