"""``leadq audit``: the scoring log read by quarter, the export read through its mapping, then the whole audit.

Two end-to-end fixtures: the synthetic CRM (three tables) with a champion trained before 2026Q4 (real LightGBM,
real MLflow registry), 2026Q4 scored through the service (FastAPI test client, real scoring log) and resolved
with the dispositions and deals of the following months; and a single-table export (one outcome column) served
and audited the same way, with its creation dates and without them (``leadq audit`` on the command line).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from models.contract import DataContractError
from models.features import FeatureSpec
from models.labels import quarter_bounds
from pipelines.audit import (
    ServedModel,
    audit_export,
    channel_columns,
    feature_frame,
    learnt_from_caveats,
    read_scoring_log,
    run_audit,
    unsupported_parts,
    with_channels,
)
from pipelines.cli import app
from pipelines.crm_export.mapping import ExportMapping, parse_mapping
from pipelines.crm_export.prepare import read_export_files
from pipelines.demo.quarter_demo import scoring_requests
from pipelines.demo.synthetic import QuarterDrift, cut_export, generate_crm, write_crm
from pipelines.serve import build_service
from pipelines.settings import Settings, load_settings
from pipelines.training import run_training
from serving.scoring_log import ScoringLog, score_row
from tests.builders import MESSY_MAPPING, loaded_export, messy_export, settings_with_store, synthetic_export

QUARTER = "2026Q4"
QUARTER_START = date(2026, 10, 1)
API_KEY = "crm-secret-key-0001"
KEYS, AUTH = {"crm": API_KEY}, {"X-API-Key": API_KEY}


def _result(probability: float = 0.2) -> dict[str, Any]:
    return {
        "probability": probability,
        "score": round(probability * 100),
        "is_mql": probability >= 0.1,
        "grade": "B2",
        "priority": "standard",
        "response_hours": 24.0,
        "reasons_for": [],
        "reasons_against": [],
        "features": {"company_size": 800.0, "industry": "software", "demo_requested": 1.0},
    }


def _scored_at(row: dict[str, Any], when: datetime) -> dict[str, Any]:
    return {**row, "scored_at": when}


def test_scoring_log_is_read_by_creation_quarter_in_utc(scoring_log_url: str, tmp_path: Path) -> None:
    url = scoring_log_url  # a SQLite file, and a PostgreSQL database (its server's time zone is not UTC in CI)
    log = ScoringLog(url, flush_interval_s=0.05, spool_path=tmp_path / "spool")
    berlin_new_year = datetime.fromisoformat("2027-01-01T00:30:00+01:00")  # 2026-12-31 23:30 UTC: still Q4
    log.append(
        [
            score_row("IN-Q4", _result(), "m", "3", 0.1, datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),
            score_row("NEW-YEAR", _result(), "m", "3", 0.1, berlin_new_year.astimezone(UTC)),
            score_row("IN-Q3", _result(), "m", "3", 0.1, datetime(2026, 9, 30, 23, 0, tzinfo=UTC)),
            # without a creation time, the scoring time counts
            _scored_at(score_row("SCORED-Q4", _result(0.05), "m", "4", 0.1), datetime(2026, 12, 1, 8, tzinfo=UTC)),
            _scored_at(score_row("SCORED-Q1", _result(0.05), "m", "4", 0.1), datetime(2027, 1, 4, 8, tzinfo=UTC)),
        ]
    )
    log.close()

    scores = read_scoring_log(url, pd.Timestamp("2026-10-01"), pd.Timestamp("2027-01-01"))

    assert scores["lead_id"].tolist() == ["IN-Q4", "NEW-YEAR", "SCORED-Q4"]
    assert scores["clock_start"].tolist() == [
        pd.Timestamp("2026-11-02 09:00"),
        pd.Timestamp("2026-12-31 23:30"),
        pd.Timestamp("2026-12-01 08:00"),
    ]
    assert scores["model_version"].tolist() == ["3", "3", "4"]
    assert scores["features"].iloc[0]["industry"] == "software"
    assert scores["respond_within_hours"].tolist() == [24.0, 24.0, 24.0]


def test_a_missing_scoring_log_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'log.db'}"

    with pytest.raises(FileNotFoundError, match=r"scoring log not found: .*nowhere/log\.db"):
        read_scoring_log(url, pd.Timestamp("2026-10-01"), pd.Timestamp("2027-01-01"))

    assert not (tmp_path / "nowhere").exists()  # reading never creates an empty log


def test_logged_features_get_the_served_models_dtypes() -> None:
    spec = FeatureSpec(numeric=("company_size", "demo_requested"), categorical=("industry",), fit=("company_size",))

    frame = feature_frame(pd.Series([{"company_size": 800, "industry": "software"}, {"company_size": None}]), spec)

    assert list(frame.columns) == ["company_size", "demo_requested", "industry"]
    assert frame["company_size"].dtype == float
    assert frame["demo_requested"].isna().all()  # a feature the log lacks is missing, not an error
    assert frame["industry"].tolist()[0] == "software"
    assert pd.isna(frame["industry"].iloc[1])


def test_channels_come_from_the_export_and_say_when_they_are_blank_or_unknown() -> None:
    scores = pd.DataFrame({"lead_id": ["L1", "L2", "GONE"], "probability": [0.1, 0.2, 0.3]})
    leads = pd.DataFrame({"lead_id": ["L1", "L2"], "lead_source": ["webinar", "direct"], "campaign": ["Q4-ai", None]})

    channels = with_channels(scores, leads)

    assert channels["lead_source"].tolist() == ["webinar", "direct", "(not in the export)"]
    assert channels["campaign"].tolist() == ["Q4-ai", "(none)", "(not in the export)"]
    assert "lead_source" not in scores  # the input is not changed


def test_a_channel_spelled_two_ways_is_one_channel_spelled_as_most_leads_have_it() -> None:
    # X Education's Lead Source: "Google" on 2,868 leads, "google" on 5 (the model reads them as one category)
    scores = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"], "probability": [0.1, 0.2, 0.3, 0.4]})
    sources = ["Google", "google ", "Google", "Olark Chat"]
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"], "lead_source": sources, "campaign": [None] * 4})

    channels = with_channels(scores, leads)

    assert channels["lead_source"].tolist() == ["Google", "Google", "Google", "Olark Chat"]
    assert channels["campaign"].tolist() == ["(none)"] * 4


def test_channels_are_the_categorical_columns_whose_feature_is_named_like_them() -> None:
    mapping = ExportMapping.model_validate(
        {
            "columns": {
                "Lead ID": "id",
                "Converted": {"role": "outcome", "won": ["1"], "lost": ["0"]},
                "Source Notes": "text",  # its features are text features, not a channel
                "Lead Source": "categorical",
                "Kampagne": "categorical",
            }
        }
    )

    assert channel_columns(mapping) == {"lead_source": "Lead Source", "campaign": "Kampagne"}


def _single_table(columns: dict[str, list[str]], mapping: str, clock: pd.Series | None = None) -> Any:
    return audit_export(loaded_export(pd.DataFrame(columns), parse_mapping(mapping)), clock)


def test_a_single_table_outcome_becomes_one_closed_deal_per_resolved_lead() -> None:
    export = _single_table(
        {
            "Lead ID": ["A", "B", "C"],
            "Created": ["01.03.2026", "02.03.2026", "03.03.2026"],
            "Closed": ["15.04.2026", "N/A", "20.03.2026"],
            "Converted": ["1", "open", "0"],
            "Lead Source": ["Web", "Partner", "Select"],
        },
        "columns:\n  Lead ID: id\n  Created: created_at\n  Closed: outcome_at\n  Lead Source: categorical\n"
        "  Converted: {role: outcome, won: ['1'], lost: ['0']}\n",
    )
    tables = export.tables

    assert not export.has_contact_times
    assert not export.deals_are_opportunities  # made from the outcome column
    assert tables.leads["lead_source"].tolist()[:2] == ["Web", "Partner"]
    assert pd.isna(tables.leads["lead_source"].iloc[2])  # a placeholder is blank
    assert tables.leads["campaign"].isna().all()  # no campaign column: none
    assert tables.deals[["lead_id", "outcome"]].values.tolist() == [["A", "won"], ["C", "lost"]]
    assert tables.deals["closed_at"].tolist() == [pd.Timestamp("2026-04-15"), pd.Timestamp("2026-03-20")]
    assert tables.dispositions.empty  # the "open" lead has no deal: it stays open


@pytest.mark.parametrize(
    ("outcome", "line"),
    [
        ({"Won Date": ["10.03.2026", "", ""]}, "  Won Date: won_at\n"),
        (
            {"Lifecycle": ["Customer", "Lead", "Opportunity"]},
            "  Lifecycle: {role: outcome, won: [Customer], lost: []}\n",
        ),
    ],
)
def test_an_export_that_says_only_who_won_gives_the_audit_its_won_deals(
    outcome: dict[str, list[str]], line: str
) -> None:
    export = _single_table(
        {"Lead ID": ["A", "B", "C"], "Created": ["01.03.2026", "02.03.2026", "03.03.2026"], **outcome},
        "columns:\n  Lead ID: id\n  Created: created_at\n" + line,
    )

    # the rest are lost once the label horizon has passed, as in training: the audit's label rule decides
    assert export.tables.deals[["lead_id", "outcome"]].values.tolist() == [["A", "won"]]
    assert export.tables.dispositions.empty


def test_a_stage_column_becomes_one_undated_disposition_per_lead() -> None:
    export = _single_table(
        {
            "Lead ID": ["A", "B", "C", "D"],
            "Created": ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"],
            "Status": ["Qualified", "Disqualified", "Working", "Brand new"],
            "Why": ["", "Too small", "", ""],
            "Converted": ["1", "0", "0", "open"],
        },
        "columns:\n  Lead ID: id\n  Created: created_at\n  Converted: {role: outcome, won: ['1'], lost: ['0']}\n"
        "  Status: {role: stage, values: {Qualified: sql, Disqualified: rejected, Working: sal}}\n"
        "  Why: {role: reason, values: {Too small: wrong_size}}\n",
    )
    dispositions = export.tables.dispositions

    assert not export.has_contact_times  # stages, but no time of the sales contact
    rows = dispositions[["lead_id", "stage", "reason"]].astype(object).where(dispositions.notna(), None)
    assert rows.values.tolist() == [["A", "sql", None], ["B", "rejected", "wrong_size"], ["C", "sal", None]]
    assert dispositions["timestamp"].tolist() == [pd.Timestamp(f"2026-03-0{day}") for day in (1, 2, 3)]


def test_an_export_without_creation_dates_is_placed_by_the_scoring_log_clock() -> None:
    columns = {"Lead ID": ["A", "B", "C", "D"], "Converted": ["1", "0", "open", "0"]}
    mapping = "columns:\n  Lead ID: id\n  Converted: {role: outcome, won: ['1'], lost: ['0']}\n"
    # the clock start of each scored lead in the scoring log; B was never scored
    clock = pd.Series(
        pd.to_datetime(["2026-11-02 09:00", "2026-12-01 00:00", "2026-10-05 00:00"]), index=["A", "C", "D"]
    )

    export = _single_table(columns, mapping, clock)

    assert not export.has_dates
    assert not export.has_contact_times
    assert export.tables.leads["created_at"].tolist()[0] == pd.Timestamp("2026-11-02 09:00")
    assert pd.isna(export.tables.leads["created_at"].iloc[1])  # not scored: no date
    deals = export.tables.deals
    assert deals[["lead_id", "outcome"]].values.tolist() == [["A", "won"], ["D", "lost"]]  # C open, B unscored
    assert deals["closed_at"].tolist() == [pd.Timestamp("2026-11-02 09:00"), pd.Timestamp("2026-10-05")]
    not_supported = unsupported_parts(export, has_stages=False, horizon_days=180)
    assert [part["part"] for part in not_supported] == ["horizon", "maturity", "stages", "sla"]
    assert "180-day label horizon" in not_supported[0]["why"]
    with pytest.raises(ValueError, match="no created_at column: place its leads by the scoring log's clock"):
        _single_table(columns, mapping)


def test_an_outcome_ticked_only_for_wins_makes_its_empty_cells_lost_as_training_does() -> None:
    columns = {"Lead ID": ["A", "B", "C"], "Converted": ["Yes", "", "N/A"]}
    mapping = "columns:\n  Lead ID: id\n  Converted: {role: outcome, won: ['Yes'], blank: lost}\n"
    clock = pd.Series(pd.to_datetime(["2026-11-02", "2026-11-03", "2026-11-04"]), index=["A", "B", "C"])

    export = _single_table(columns, mapping, clock)

    assert export.tables.deals[["lead_id", "outcome"]].values.tolist() == [["A", "won"], ["B", "lost"], ["C", "lost"]]


def test_further_tables_give_dated_dispositions_and_real_deals(synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    export = audit_export(synthetic_export(synthetic_crm))
    tables = export.tables

    assert export.has_contact_times
    assert export.deals_are_opportunities
    assert tables.leads["lead_id"].tolist() == synthetic_crm.leads["lead_id"].tolist()
    assert tables.leads["campaign"].tolist() == synthetic_crm.leads["campaign"].tolist()
    assert len(tables.dispositions) == len(synthetic_crm.dispositions)
    assert set(tables.deals["outcome"]) <= {"won", "lost", "open"}
    assert unsupported_parts(export, has_stages=True, horizon_days=180) == []


def _audit_settings(fast_settings: Settings, folder: Path, export: Path) -> Settings:
    """Settings with every store in ``folder``, reading ``export`` and the mapping next to it."""
    settings = settings_with_store(fast_settings, folder, export=export, mapping=export.parent / "mapping.yml")
    return settings.model_copy(
        update={
            "serving": settings.serving.model_copy(update={"scoring_log_url": f"sqlite:///{folder / 'log.db'}"}),
            "explanations": settings.explanations.model_copy(update={"report_leads": 1000, "report_sample": 200}),
            # a small world: channels need 15 MQLs (not 30) to be judged
            "audit": settings.audit.model_copy(update={"min_mqls": 15}),
        }
    )


def _score(settings: Settings, requests: list[dict[str, Any]]) -> None:
    with TestClient(build_service(settings, KEYS)) as client:
        for first in range(0, len(requests), 1000):
            response = client.post(
                "/v1/leads/score-batch", json={"leads": requests[first : first + 1000]}, headers=AUTH
            )
            assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def audited_quarter(tmp_path_factory: pytest.TempPathFactory, fast_settings: Settings) -> tuple[Settings, Any, Any]:
    """A champion trained before 2026Q4, 2026Q4 scored through the service, the CRM exported in July 2027."""
    folder = tmp_path_factory.mktemp("audit")
    settings = _audit_settings(fast_settings, folder, folder / "data" / "leads.parquet")
    # The export is taken in July 2027, when every 2026Q4 lead is past its 180-day label horizon.
    world = generate_crm(
        30_000,
        seed=5,
        end=date(2027, 7, 15),
        months=36,
        drift=QuarterDrift.demo(QUARTER_START),
        competitor_domains=fast_settings.features.competitor_domains,
    )
    write_crm(cut_export(world, pd.Timestamp(QUARTER_START)), settings.data.export.parent, "parquet")
    run_training(settings)
    start, end = quarter_bounds(QUARTER)
    created = world.leads["created_at"]
    quarter_leads = world.leads[(created >= start) & (created < end)]
    _score(settings, scoring_requests(world.leads, start, end))
    write_crm(world, settings.data.export.parent, "parquet")
    return settings, run_audit(settings, QUARTER), quarter_leads


@pytest.mark.slow
def test_audit_covers_every_scored_lead_and_keeps_open_leads_open(audited_quarter) -> None:  # type: ignore[no-untyped-def]
    _, result, quarter_leads = audited_quarter
    leads = result.figures["leads"]

    assert leads["scored"] == len(quarter_leads)
    assert leads["won"] + leads["lost"] + leads["open"] == leads["scored"]
    assert leads["open"] > 0  # recycled to nurture: open, not lost
    assert leads["open"] < 0.5 * leads["scored"]
    assert result.figures["discrimination"]["resolved_leads"] == leads["won"] + leads["lost"]
    assert result.figures["model"]["version"] == result.model_version == "1"
    assert result.figures["has_stages"]
    assert result.figures["has_contact_times"]
    assert not any("learnt from" in reason for reason in result.figures["verdict"]["reasons"])  # a later quarter


@pytest.mark.parametrize(
    ("fitted", "undated", "said"),
    [
        ({"2025Q3", "2025Q4", "2026Q1"}, False, "learnt from leads of 2025Q4"),
        ({"2025Q1", "2025Q2"}, False, None),  # a quarter after its training: a fair judgement
        (set(), True, "trained on an export without dates"),
        ({"2025Q1", "2025Q2"}, True, None),  # split at random for too few dates, yet its quarters say what it saw
        (set(), False, None),
    ],
)
def test_the_verdict_says_when_the_audited_quarter_is_one_the_model_learnt_from(
    fitted: set[str], undated: bool, said: str | None
) -> None:
    served = ServedModel("m", "1", 0.3, None, 0.8, 180, FeatureSpec((), (), ()), frozenset(fitted), undated)

    caveats = learnt_from_caveats(served, "2025Q4")

    if said is None:
        assert caveats == []
    else:
        assert len(caveats) == 1
        assert said in caveats[0]
    if fitted and said:
        assert "judge it on leads created after 2026Q1" in caveats[0]


@pytest.mark.slow
def test_audit_finds_the_injected_drift_and_the_channel_that_got_worse(audited_quarter) -> None:  # type: ignore[no-untyped-def]
    _, result, _ = audited_quarter
    drift = QuarterDrift.demo(QUARTER_START)

    assert result.figures["drift"][0]["feature"] == "email_opens"
    assert result.figures["drift"][0]["flag"] == "drift"
    judged = [row for row in result.figures["funnel_by_source"] if row["sql_flag"] != "too few"]
    assert min(judged, key=lambda row: row["mql_to_sql"])["segment"] == drift.worse_source
    industry = next(row for row in result.figures["drift"] if row["feature"] == "industry")
    assert industry["psi"] > 0.1  # the new industry shows
    assert [row["feature"] for row in result.figures["time_bound_features"]] == ["campaign"]
    assert result.verdict.action == "retrain"
    assert "E-mails opened" in result.verdict.reasons[0]  # plain names, not column names


@pytest.mark.slow
def test_audit_report_opens_offline_and_the_json_holds_its_figures(audited_quarter) -> None:  # type: ignore[no-untyped-def]
    _, result, _ = audited_quarter
    html = result.html_path.read_text(encoding="utf-8")

    assert html.startswith("<!DOCTYPE html>")
    assert "Verdict: Retrain" in html
    assert "http://" not in html
    assert "https://" not in html  # every image is embedded
    assert html.count("data:image/png;base64,") == 3
    assert json.loads(result.json_path.read_text(encoding="utf-8")) == result.figures
    assert result.html_path.name == f"audit-{QUARTER}.html"


@pytest.mark.slow
def test_audit_run_is_logged_and_linked_to_the_served_version(audited_quarter) -> None:  # type: ignore[no-untyped-def]
    settings, result, _ = audited_quarter
    client = mlflow.MlflowClient(settings.mlflow.tracking_uri)
    run = client.get_run(result.run_id)

    assert run.data.tags["leadq.run_kind"] == "audit"
    assert run.data.tags["model_version"] == "1"
    assert run.data.tags["audit.verdict"] == result.verdict.action
    assert run.data.metrics["audit_roc_auc"] == pytest.approx(result.figures["discrimination"]["roc_auc"])
    assert {a.path for a in client.list_artifacts(result.run_id, "audit")} == {
        f"audit/audit-{QUARTER}.html",
        f"audit/audit-{QUARTER}.json",
    }
    version = client.get_model_version(settings.mlflow.registered_model, "1")
    assert version.tags[f"audit_{QUARTER}_verdict"] == result.verdict.action
    assert version.tags[f"audit_{QUARTER}_run_id"] == result.run_id


@pytest.mark.slow
def test_a_quarter_without_scores_or_before_the_export_is_refused(audited_quarter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = audited_quarter

    with pytest.raises(LookupError, match="no scored leads of 2025Q1 in the scoring log"):
        run_audit(settings, "2025Q1", out_dir=tmp_path)
    with pytest.raises(ValueError, match="expected a quarter like '2026Q4'"):
        run_audit(settings, "Q4/2026", out_dir=tmp_path)
    early = settings.model_copy(update={"labels": settings.labels.model_copy(update={"as_of": date(2026, 9, 1)})})
    with pytest.raises(DataContractError, match="before 2026Q4 starts"):
        run_audit(early, QUARTER, out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.slow
def test_a_quarter_served_by_a_model_of_a_single_table_export_is_audited(
    tmp_path: Path,
    fast_settings: Settings,
) -> None:
    export = messy_export(generate_crm(12_000, seed=8, competitor_domains=fast_settings.features.competitor_domains))
    created = pd.to_datetime(export["Created Date"], format="%d.%m.%Y")
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "mapping.yml").write_text(MESSY_MAPPING, encoding="utf-8")
    (tmp_path / "mapping.yml").write_text(MESSY_MAPPING, encoding="utf-8")
    export[created < "2025-10-01"].to_csv(tmp_path / "history" / "export.csv", sep=";", index=False)
    export.to_csv(tmp_path / "export.csv", sep=";", index=False)
    run_training(_audit_settings(fast_settings, tmp_path, tmp_path / "history" / "export.csv"))
    settings = _audit_settings(fast_settings, tmp_path, tmp_path / "export.csv")
    quarter = export[(created >= "2025-10-01") & (created < "2026-01-01")]
    requests = json.loads(quarter.drop(columns=["Converted", "Lead Status"]).to_json(orient="records"))
    for request, day in zip(requests, created[quarter.index], strict=True):
        request["lead_id"] = request.pop("Lead ID")
        request["created_at"] = day.isoformat()
    _score(settings, requests)

    young = run_audit(settings, "2025Q4").figures  # the export ends with the quarter: its "0"s are not final yet
    # once the label horizon (180 days) has passed since the quarter's end, every lead is resolved
    labels = settings.labels.model_copy(update={"as_of": "2026-07-01"})
    result = run_audit(settings.model_copy(update={"labels": labels}), "2025Q4")

    assert young["leads"]["open"] > len(quarter) / 2  # a "0" without its date within the horizon: open, not lost
    assert any("still open" in reason for reason in young["verdict"]["reasons"])
    figures = result.figures
    assert figures["leads"]["scored"] == len(quarter)
    assert figures["leads"]["open"] == 0  # the outcome column resolves every lead
    assert figures["discrimination"]["roc_auc"] > 0.6
    assert {row["feature"] for row in figures["drift"]} >= {"no_of_employees", "industry", "score"}
    assert {row["segment"] for row in figures["funnel_by_source"]} == set(quarter["Lead Source"].unique())
    assert figures["funnel_overall"][0]["sal_rate"] is None  # no dispositions in a single-table export
    assert not figures["has_stages"]
    assert not figures["has_contact_times"]
    assert figures["sla_overall"] == []  # no contact times: no SLA judged
    assert [part["part"] for part in figures["not_supported"]] == ["stages", "sla"]  # dated: horizon supported
    assert figures["has_dates"]
    assert result.html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    loaded = read_export_files(settings.data.export, settings.data.mapping)
    assert audit_export(loaded).deals_are_opportunities is False


UNDATED_MAPPING = MESSY_MAPPING.replace("  Created Date: created_at\n", "")


def _undated_config(folder: Path, export: str) -> Path:
    """A settings file as a user writes it for ``leadq audit``: every store in ``folder``."""
    config = folder / "mlflow.yml"
    config.write_text(
        "mlflow: {tracking_uri: 'sqlite:///mlflow.db', artifact_location: artifacts}\n"
        f"data: {{export: {export}, mapping: mapping.yml}}\n"
        "model: {max_trees: 300, early_stopping_rounds: 30, learning_rate: 0.1}\n"
        "threshold: {policy: precision}  # no creation dates: MQLs per month cannot be counted\n"
        "explanations: {reports_dir: reports, report_leads: 1000, report_sample: 200}\n"
        "serving: {scoring_log_url: 'sqlite:///log.db'}\n"
        "audit: {min_mqls: 15}\n",
        encoding="utf-8",
    )
    return config


def _requests(rows: pd.DataFrame, created_at: list[str]) -> list[dict[str, Any]]:
    """Score requests in the export's own fields, with the creation time the CRM sends (never the outcome)."""
    requests = json.loads(rows.drop(columns=["Converted", "Lead Status"]).to_json(orient="records"))
    for request, when in zip(requests, created_at, strict=True):
        request["lead_id"] = str(request.pop("Lead ID"))
        request["created_at"] = when
    return requests


@pytest.mark.slow
def test_a_single_table_without_dates_is_audited_by_the_scoring_log_clock(tmp_path: Path) -> None:
    export = messy_export(generate_crm(6_000, seed=9)).drop(columns=["Created Date"])  # no dates at all
    history, quarter = export.iloc[: len(export) * 2 // 3], export.iloc[len(export) * 2 // 3 :]
    (tmp_path / "mapping.yml").write_text(UNDATED_MAPPING, encoding="utf-8")
    history.to_csv(tmp_path / "history.csv", sep=";", index=False)
    export.to_csv(tmp_path / "export.csv", sep=";", index=False)
    trained = run_training(load_settings(_undated_config(tmp_path, "history.csv")))
    assert trained.outcome.split.kind == "random_stratified"
    config = _undated_config(tmp_path, "export.csv")  # the CRM exported again after the quarter
    settings = load_settings(config)
    in_q4 = [f"2025-{10 + i % 3}-{1 + i % 28:02d}T09:00:00+00:00" for i in range(len(quarter))]
    unknown = quarter.iloc[:3].assign(**{"Lead ID": ["NEW-1", "NEW-2", "NEW-3"]})  # scored, not in the export
    _score(settings, _requests(quarter, in_q4) + _requests(unknown, ["2025-11-03T10:00:00+00:00"] * 3))
    _score(settings, _requests(unknown, ["2025-08-01T10:00:00+00:00"] * 3))  # 2025Q3: only unknown leads

    runner = CliRunner()
    audited = runner.invoke(app, ["audit", "--quarter", "2025Q4", "--config", str(config)])
    refused = runner.invoke(app, ["audit", "--quarter", "2025Q3", "--config", str(config)])

    assert audited.exit_code == 0, audited.output
    figures = json.loads((tmp_path / "reports" / "audit-2025Q4.json").read_text(encoding="utf-8"))
    won = int(quarter["Converted"].sum())
    assert figures["leads"] == {
        "scored": len(quarter) + 3,
        "scores_logged": len(quarter) + 3,
        "won": won,  # as exported: no horizon to check
        "lost": len(quarter) - won,
        "open": 3,  # the leads the export does not hold stay open, never lost
        "not_in_export": 3,
    }
    assert f"2025Q4: {len(quarter) + 3:,} scored leads ({won:,} won" in " ".join(audited.output.split())
    assert not figures["has_dates"]
    assert figures["mature_after"] is None
    assert [part["part"] for part in figures["not_supported"]] == ["horizon", "maturity", "stages", "sla"]
    assert "180-day label horizon" in figures["not_supported"][0]["why"]
    assert figures["verdict"]["reasons"][-1].startswith("The export has no dates")  # whatever the verdict
    assert any("trained on an export without dates and refit" in reason for reason in figures["verdict"]["reasons"])
    assert figures["discrimination"]["resolved_leads"] == len(quarter)
    assert figures["discrimination"]["roc_auc"] > 0.6  # new leads, unseen in training
    assert figures["funnel_overall"][0]["mql_to_won"] is not None
    assert figures["sla_overall"] == []
    assert {row["feature"] for row in figures["drift"]} >= {"no_of_employees", "industry", "score"}
    html = (tmp_path / "reports" / "audit-2025Q4.html").read_text(encoding="utf-8")
    assert "Not supported by this export" in html
    assert "by the scoring log's clock" in html
    assert "resolved after" not in html
    assert refused.exit_code == 1
    assert "none of the 3 leads scored in 2025Q3 is in the export" in " ".join(refused.output.split())
    assert not (tmp_path / "reports" / "audit-2025Q3.html").exists()
