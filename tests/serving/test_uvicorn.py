"""The service behind a real uvicorn on 127.0.0.1, built as `leadq serve` builds it, and `leadq serve`'s start-up
checks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from pipelines.cli import app as cli
from pipelines.demo.quarter_demo import serving_in_background
from pipelines.serve import build_service
from pipelines.settings import Settings
from tests.builders import AUTH, KEYS, scoring_request


@pytest.mark.slow
def test_real_uvicorn_serves_scores(registry: Settings) -> None:
    with serving_in_background(build_service(registry, KEYS)) as base:
        ready = httpx.get(f"{base}/readyz", timeout=10)
        scored = httpx.post(f"{base}/v1/leads/score", json=scoring_request(), headers=AUTH, timeout=10)
        batch = httpx.post(
            f"{base}/v1/leads/score-batch", json={"leads": [scoring_request()]}, headers=AUTH, timeout=10
        )
        refused = httpx.post(f"{base}/v1/leads/score", json=scoring_request(), timeout=10)
        invalid = httpx.post(
            f"{base}/v1/leads/score", json=scoring_request(website_visits=-1), headers=AUTH, timeout=10
        )

    assert ready.json() == {"status": "ok", "model_version": "1"}
    assert scored.status_code == 200
    assert scored.json()["lead_id"] == "CRM-1"
    assert batch.json()["results"][0]["probability"] == scored.json()["probability"]
    assert refused.status_code == 401
    assert invalid.status_code == 422


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


def test_serve_has_the_service_freeze_what_start_up_made(registry: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # `leadq serve` is the service's own process: its app freezes what start-up made (tests/serving/test_reload.py)
    built: list[dict[str, object]] = []

    def build(*args: object, **kwargs: object) -> FastAPI:
        built.append(kwargs)
        return FastAPI()

    monkeypatch.setattr("pipelines.cli._settings", lambda config: registry)
    monkeypatch.setattr("pipelines.serve.build_service", build)
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: None)

    result = CliRunner().invoke(cli, ["serve", "--insecure-no-auth"])

    assert result.exit_code == 0, result.output
    assert built == [{"allow_no_auth": True, "freeze_objects": True}]
