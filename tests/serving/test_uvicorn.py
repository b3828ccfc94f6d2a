"""The service behind a real uvicorn on 127.0.0.1, and `leadq serve`'s start-up checks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pipelines.cli import app as cli
from pipelines.demo.quarter_demo import serving_in_background
from pipelines.settings import Settings
from serving.app import ServiceConfig, create_app
from tests.serving.conftest import AUTH, KEYS, lead, make_holder


@pytest.mark.slow
def test_real_uvicorn_serves_scores(registry: Settings) -> None:
    app = create_app(make_holder(registry), ServiceConfig(api_keys=KEYS))
    with serving_in_background(app) as base:
        ready = httpx.get(f"{base}/readyz", timeout=10)
        scored = httpx.post(f"{base}/v1/leads/score", json=lead(), headers=AUTH, timeout=10)
        refused = httpx.post(f"{base}/v1/leads/score", json=lead(), timeout=10)

    assert ready.json() == {"status": "ok", "model_version": "1"}
    assert scored.status_code == 200
    assert scored.json()["lead_id"] == "CRM-1"
    assert refused.status_code == 401


def test_serve_refuses_to_start_without_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADQ_API_KEYS", raising=False)
    config = tmp_path / "mlflow.yml"
    config.write_text("mlflow:\n  tracking_uri: sqlite:///mlflow.db\n")

    result = CliRunner().invoke(cli, ["serve", "--config", str(config)])

    assert result.exit_code == 2
    assert "no API key: set LEADQ_API_KEYS" in result.output


def test_serve_names_a_malformed_key_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADQ_API_KEYS", "crm:long-enough-key,broken")
    config = tmp_path / "mlflow.yml"
    config.write_text("mlflow:\n  tracking_uri: sqlite:///mlflow.db\n")

    result = CliRunner().invoke(cli, ["serve", "--config", str(config)])

    assert result.exit_code == 2
    assert "LEADQ_API_KEYS entry 2" in result.output
