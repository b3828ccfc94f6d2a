"""The quarterly demo: its plan and workspace by hand, serving a quarter over real HTTP, and the whole loop."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from models.pipeline import BoosterParams
from pipelines.cli import app, print_quarter_demo
from pipelines.demo.quarter_demo import (
    WORKSPACE_MARKER,
    WorkspaceError,
    demo_capacity,
    generate_world,
    plan_quarter,
    prepare_workspace,
    run_quarter_demo,
    score_quarter,
    scoring_requests,
    workspace_settings,
)
from pipelines.demo.synthetic import DEFAULT_COMPETITOR_DOMAINS, QuarterDrift, cut_export, write_crm
from pipelines.settings import FeatureSettings, Settings
from pipelines.training import run_training
from serving.scoring_log import SCORES
from tests.builders import settings_with_store

FAST_BOOSTER = BoosterParams(max_trees=200, early_stopping_rounds=20, learning_rate=0.1)
WORSE_SOURCE = QuarterDrift.demo(date(2026, 10, 1)).worse_source


@pytest.fixture
def settings(fast_settings: Settings, tmp_path: Path) -> Settings:
    """Fast settings with the stores in ``tmp_path`` and 600 MQLs a month (scaled down to each demo's world)."""
    return _settings(fast_settings, tmp_path)


def _settings(fast_settings: Settings, folder: Path, mqls_per_month: int = 600) -> Settings:
    settings = settings_with_store(fast_settings, folder).model_copy(update={"model": FAST_BOOSTER})
    return settings.model_copy(
        update={
            "threshold": settings.threshold.model_copy(update={"mqls_per_month": mqls_per_month}),
            "explanations": settings.explanations.model_copy(update={"report_leads": 1000, "report_sample": 200}),
        }
    )


def _logged_scores(settings: Settings) -> pd.DataFrame:
    engine = sa.create_engine(str(settings.serving.scoring_log_url))
    try:
        with engine.connect() as connection:
            return pd.read_sql(sa.select(SCORES), connection)
    finally:
        engine.dispose()


def test_the_quarter_after_the_synthetic_export_is_audited_once_its_leads_are_resolved(settings: Settings) -> None:
    plan = plan_quarter(settings)

    assert plan.quarter == "2026Q4"
    assert (plan.start, plan.end) == (pd.Timestamp("2026-10-01"), pd.Timestamp("2027-01-01"))
    assert plan.resolved_at == pd.Timestamp("2027-01-01") + pd.Timedelta(days=180 + 14)  # horizon + margin
    assert plan.months == 30 + 3 + 7  # the history is as long as the configured synthetic CRM


def test_the_capacity_shrinks_with_the_world(settings: Settings) -> None:
    # 600 MQLs a month for 200,000 leads over 30 months

    assert demo_capacity(settings, 200_000, 30) == 600
    assert demo_capacity(settings, 60_000, 36) == 150
    assert demo_capacity(settings, 100, 36) == 1


def test_a_workspace_holds_every_store_of_the_demo(settings: Settings, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"

    demo = workspace_settings(settings.model_copy(update={"features": FeatureSettings()}), workspace, 42)

    stores = [
        demo.mlflow.tracking_uri.removeprefix("sqlite:///"),
        demo.mlflow.artifact_location,
        str(demo.serving.scoring_log_url).removeprefix("sqlite:///"),
        demo.explanations.reports_dir,
        demo.data.export,
        demo.data.mapping,  # the one write_crm writes next to the tables
    ]
    assert all(Path(store).is_relative_to(workspace) for store in stores)
    assert demo.data.mapping.parent == demo.data.export.parent
    assert demo.threshold.mqls_per_month == 42
    assert (demo.serving.model_alias, demo.serving.model_version) == ("champion", None)
    # the world's competitors, which the shipped mapping's points rule scores
    assert demo.features.competitor_domains == DEFAULT_COMPETITOR_DOMAINS


def test_a_rerun_wipes_its_own_workspace_but_never_a_foreign_folder(tmp_path: Path) -> None:
    ours = prepare_workspace(tmp_path / "demo")
    (ours / "mlflow.db").write_text("old run")
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("precious")

    again = prepare_workspace(tmp_path / "demo")

    assert sorted(p.name for p in again.iterdir()) == [WORKSPACE_MARKER]
    with pytest.raises(WorkspaceError, match="not created by `leadq demo-quarter`"):
        prepare_workspace(foreign)
    assert (foreign / "chapter1.tex").read_text() == "precious"


def test_the_cli_refuses_a_foreign_workspace(tmp_path: Path) -> None:
    settings_file = tmp_path / "mlflow.yml"
    settings_file.write_text("mlflow:\n  tracking_uri: sqlite:///mlflow.db\n")
    (tmp_path / "notes.txt").write_text("keep me")

    result = CliRunner().invoke(app, ["demo-quarter", "--config", str(settings_file), "--workspace", str(tmp_path)])

    assert result.exit_code == 2
    assert "Refused" in result.output
    assert (tmp_path / "notes.txt").is_file()


@pytest.mark.slow
def test_the_quarter_is_scored_over_http_and_logged_with_creation_times_and_no_pii(
    settings: Settings, tmp_path: Path
) -> None:
    plan = plan_quarter(settings)
    workspace = prepare_workspace(tmp_path / "ws")
    settings = workspace_settings(settings, workspace, 60)
    world = generate_world(settings, plan, 12_000, seed=3)
    write_crm(cut_export(world, plan.start), settings.data.export.parent)
    run_training(settings, force=True)  # a 12k world need not pass the publish gate: the test is about serving
    requests = scoring_requests(world.leads, plan.start, plan.end)
    max_batch = 250  # several calls, the last one partial
    settings = settings.model_copy(update={"serving": settings.serving.model_copy(update={"max_batch": max_batch})})

    scored = score_quarter(settings, requests)

    quarter = world.leads[(world.leads["created_at"] >= plan.start) & (world.leads["created_at"] < plan.end)]
    assert len(requests) == len(quarter) > 2 * max_batch
    assert set(requests[0]) == set(world.leads.columns)  # the export's columns, as the CRM has them
    assert scored.leads_scored == len(quarter)
    logged = _logged_scores(settings)
    assert sorted(logged["lead_id"]) == sorted(quarter["lead_id"])  # every lead once: the log drained on shutdown
    created = quarter.set_index("lead_id")["created_at"]
    assert (pd.to_datetime(logged.set_index("lead_id")["lead_created_at"]) == created.reindex(logged["lead_id"])).all()
    assert scored.mqls == logged["is_mql"].sum()
    # an address cannot be stored without its @; the features keep only what the e-mail implies
    assert not logged["features"].str.contains("@").any()
    assert not logged["reasons"].str.contains("@").any()


@pytest.mark.slow
def test_the_quarterly_loop_finds_the_drift_and_records_the_retrain_decision(
    fast_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A generous sales team (scaled: 150 MQLs a month in this world) so most sources have enough MQLs to judge.
    settings = _settings(fast_settings, tmp_path, mqls_per_month=1_200)

    result = run_quarter_demo(settings, tmp_path / "ws", n_leads=30_000, seed=42)

    quarter = result.settings
    start, end = pd.Timestamp("2026-10-01"), pd.Timestamp("2027-01-01")
    leads = pd.read_parquet(quarter.data.export)
    in_quarter = leads[(leads["created_at"] >= start) & (leads["created_at"] < end)]
    assert result.quarter == "2026Q4"
    assert result.leads_scored == len(in_quarter) == len(_logged_scores(quarter))
    assert 0.05 < result.mql_rate < 0.3

    audit = result.audit
    assert audit.figures["drift"][0]["feature"] == "email_opens"  # opens tripled; conversion did not change
    judged = [row for row in audit.figures["funnel_by_source"] if row["sql_flag"] != "too few"]
    assert WORSE_SOURCE in {row["segment"] for row in judged}
    assert min(judged, key=lambda row: row["mql_to_sql"])["segment"] == WORSE_SOURCE
    assert audit.verdict.action == "retrain"
    assert audit.html_path.is_file()
    assert audit.html_path.is_relative_to(result.workspace)

    retrain = result.retrain
    client = mlflow.MlflowClient(quarter.mlflow.tracking_uri)
    aliases = {a: str(v) for a, v in client.get_registered_model(quarter.mlflow.registered_model).aliases.items()}
    assert (retrain.champion_version, retrain.challenger_version) == ("1", "2")
    assert aliases["champion"] == retrain.served_version
    if retrain.decision.promote:
        assert aliases == {"champion": "2", "previous": "1"}
    else:
        assert aliases == {"champion": "1", "challenger": "2"}
    tags = client.get_model_version(quarter.mlflow.registered_model, "2").tags
    assert tags["retrain_challenger_decision"] == ("promoted" if retrain.decision.promote else "kept champion")
    assert not (tmp_path / ".leadq").exists()  # nothing outside the workspace
    assert not (tmp_path / "mlflow.db").exists()

    print_quarter_demo(result)  # what `leadq demo-quarter` prints after its steps
    printed = capsys.readouterr().out
    assert f"Audit verdict: {audit.verdict.action}" in printed
    assert "Most drifted features: email_opens (PSI" in printed
    assert f"Lowest MQL->SQL: {WORSE_SOURCE}" in printed
    assert f"'champion' is version {retrain.served_version}" in printed
    assert f"Audit report: {audit.html_path}" in printed
    assert f"mlflow ui --backend-store-uri sqlite:///{result.workspace / 'mlflow.db'}" in printed
