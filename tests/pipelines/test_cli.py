"""The leadq command line, through typer's runner (real settings files, real data, real MLflow store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["generate"],
        ["train"],
        ["demo"],
        ["explain"],
        ["retrain"],
        ["rollback"],
        ["audit"],
        ["demo-quarter"],
        ["inspect"],
        ["check-export"],
    ],
)
def test_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])

    assert result.exit_code == 0
    assert "Usage" in result.output


def test_generate_writes_the_tables(tracking_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"

    result = runner.invoke(
        app, ["generate", "--config", str(tracking_config), "--leads", "500", "--out", str(out), "--format", "csv"]
    )

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "deals.csv",
        "dispositions.csv",
        "leads.csv",
        "true_conversion.csv",
    ]


def test_invalid_settings_stop_the_command_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "mlflow.yml"
    config.write_text("labels:\n  horizon_days: soon\n")

    result = runner.invoke(app, ["train", "--config", str(config)])

    assert result.exit_code == 2
    assert "labels.horizon_days" in result.output


def test_train_without_data_names_the_missing_file(tracking_config: Path) -> None:
    result = runner.invoke(app, ["train", "--config", str(tracking_config)])

    assert result.exit_code == 1
    assert "file not found" in result.output
    assert "leads.parquet" in result.output


def test_audit_refuses_a_malformed_quarter_and_names_a_missing_scoring_log(tracking_config: Path) -> None:
    malformed = runner.invoke(app, ["audit", "--config", str(tracking_config), "--quarter", "Q3-2026"])
    missing = runner.invoke(app, ["audit", "--config", str(tracking_config), "--quarter", "2026Q3"])

    assert malformed.exit_code == 1
    assert "expected a quarter like '2026Q4', got 'Q3-2026'" in malformed.output
    assert missing.exit_code == 1
    assert "scoring log not found" in missing.output
    assert "scoring_log.db" in missing.output


@pytest.mark.slow
def test_demo_generates_trains_registers_and_explains(tracking_config: Path) -> None:
    result = runner.invoke(app, ["demo", "--config", str(tracking_config)])

    assert result.exit_code == 0, result.output
    assert "ROC AUC" in result.output
    assert "alias 'champion'" in result.output
    assert "mlflow ui --backend-store-uri sqlite:///" in result.output
    assert (tracking_config.parent / "data" / "leads.parquet").is_file()
    assert (tracking_config.parent / "mlflow.db").is_file()
    first_report = tracking_config.parent / ".leadq" / "reports" / "leadq-lead-conversion-v1.html"
    assert f"Explanation report for marketing: {first_report}" in result.output

    german = tracking_config.parent / "bericht.html"
    explained = runner.invoke(
        app, ["explain", "--config", str(tracking_config), "--language", "de", "--out", str(german)]
    )
    assert explained.exit_code == 0, explained.output
    assert "version 1" in explained.output
    assert "Unternehmensgröße" in german.read_text(encoding="utf-8")

    unknown_version = runner.invoke(app, ["explain", "--config", str(tracking_config), "--version", "99"])
    assert unknown_version.exit_code == 1
    assert "no registered model 'leadq-lead-conversion' with version 99" in unknown_version.output

    no_leads = runner.invoke(app, ["explain", "--config", str(tracking_config), "--quarter", "1999Q1"])
    assert no_leads.exit_code == 1
    assert "no leads created in quarter(s) ['1999Q1']" in no_leads.output

    retrained = runner.invoke(app, ["retrain", "--config", str(tracking_config)])
    assert retrained.exit_code == 0, retrained.output
    assert "Champion vs challenger" in retrained.output
    assert "Challenger version 2: not promoted; 'champion' is version 1." in retrained.output
    assert "the champion stays" in retrained.output

    rollback = runner.invoke(app, ["rollback", "--config", str(tracking_config)])
    assert rollback.exit_code == 1
    assert "needs both a 'champion' and a 'previous' version" in rollback.output
