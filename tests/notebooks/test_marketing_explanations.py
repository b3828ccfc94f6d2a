"""The marketing notebook runs top to bottom against a real registry, so it cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.demo.synthetic import generate_crm, write_crm
from pipelines.settings import load_settings
from pipelines.training import run_training
from tests.builders import run_marketing_notebook



@pytest.mark.slow
def test_notebook_runs_on_the_champion(tracking_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(tracking_config)
    crm = generate_crm(20_000, seed=11, competitor_domains=settings.features.competitor_domains)
    write_crm(crm, settings.data.export.parent, "parquet")  # with the mapping next to the tables
    run_training(settings)
    outputs, text = run_marketing_notebook(tracking_config, monkeypatch)

    assert "Model leadq-lead-conversion version 1" in text
    assert "quarter(s) 20" in text  # the model's test quarter, chosen through the export's creation dates
    assert "Channels found in the export: {'lead_source': 'lead_source', 'campaign': 'campaign'}" in text
    assert "grade" in text
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 4
