"""``leadq hot``: nurture leads heating up since the last run, read from a real scoring log (SQLite, PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.hot import last_run, run_hot
from pipelines.settings import Settings, load_settings
from serving.scoring_log import ScoringLog, score_row

runner = CliRunner()
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _result(probability: float, reasons: list[str], **features: float) -> dict[str, Any]:
    return {
        "probability": probability,
        "score": round(probability * 100),
        "is_mql": probability >= 0.3,
        "grade": "A1" if probability >= 0.3 else "C3",
        "priority": "P2" if probability >= 0.3 else "nurture",
        "response_hours": 24.0 if probability >= 0.3 else None,
        "reasons_for": [{"feature": "f", "label": label, "value": 1, "impact": 0.5} for label in reasons],
        "reasons_against": [],
        "features": features,
    }


def _row(lead: str, days_ago: float, result: dict[str, Any]) -> dict[str, Any]:
    return {**score_row(lead, result, "m", "4", 0.3), "scored_at": NOW - timedelta(days=days_ago)}


@pytest.fixture
def settings(scoring_log_url: str, tmp_path: Path) -> Settings:
    """Settings whose scoring log holds: a recycled lead that heats up, one still cold, one always an MQL."""
    log = ScoringLog(scoring_log_url, flush_interval_s=0.05, spool_path=tmp_path / "spool")
    log.append(
        [
            _row("RECYCLED-1", 40, _result(0.12, ["Industry: software"], visit_30d=1.0)),
            _row("RECYCLED-1", 1, _result(0.55, ["Website visits in the last 30 days: 7"], visit_30d=7.0)),
            _row("COLD-2", 40, _result(0.05, [], visit_30d=0.0)),
            _row("COLD-2", 1, _result(0.08, [], visit_30d=1.0)),
            _row("MQL-3", 40, _result(0.70, ["x"])),
            _row("MQL-3", 1, _result(0.72, ["x"])),
        ]
    )
    log.close()
    config = tmp_path / "mlflow.yml"
    config.write_text(
        f"serving:\n  scoring_log_url: {scoring_log_url}\n  scoring_log_spool: {tmp_path / 'spool'}\n"
        f"trends:\n  hot_state: {tmp_path / 'hot.json'}\n",
        encoding="utf-8",
    )
    return load_settings(config)


def test_hot_lists_the_recycled_lead_that_crossed_the_threshold_and_remembers_the_run(settings: Settings) -> None:
    now = pd.Timestamp(NOW).tz_localize(None)

    result = run_hot(settings, now=now)

    assert result.leads["lead_id"].tolist() == ["RECYCLED-1"]
    lead = result.leads.iloc[0]
    assert (lead["score_before"], lead["score"], lead["trend"]) == (12, 55, "new")  # one score in the 30 days
    assert lead["new_reasons"] == "Website visits in the last 30 days: 7"
    assert lead["changed_features"] == "Website visits in the last 30 days: 1 -> 7"
    assert result.since == now - pd.Timedelta(days=7)
    assert last_run(settings.trends.hot_state) == now
    # the next run starts at this one: nothing crossed since
    assert run_hot(settings, now=now + pd.Timedelta(hours=1)).leads.empty


def test_the_cli_prints_the_list_and_writes_it_for_the_crm(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "hot.csv"
    config = tmp_path / "mlflow.yml"
    since = (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")

    result = runner.invoke(app, ["hot", "--config", str(config), "--since", since, "--out", str(out), "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "1 lead heating up since" in result.output
    assert "RECYCLED-1" in result.output
    written = pd.read_csv(out)
    assert written["lead_id"].tolist() == ["RECYCLED-1"]
    assert not settings.trends.hot_state.exists()  # --dry-run records nothing


def test_an_unreadable_state_file_is_refused_naming_it(settings: Settings) -> None:
    settings.trends.hot_state.write_text("not json", encoding="utf-8")

    with pytest.raises(ValueError, match="not a leadq hot state file"):
        run_hot(settings)


def test_the_command_prints_no_library_warnings(settings: Settings, tmp_path: Path) -> None:
    """pandera imports pyspark.pandas when the spark extra is installed, which warns about pandas 3."""
    leadq = Path(sys.executable).parent / "leadq"

    done = subprocess.run(
        [str(leadq), "hot", "--config", str(tmp_path / "mlflow.yml"), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
