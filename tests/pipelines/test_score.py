"""``leadq score``: a whole export scored by the registered model as the service scores each lead.

A real MLflow registry holds the model trained on the synthetic CRM (the session's ``trained`` outcome, registered
once per module); exports are written as Parquet, CSV and .xlsx files from the synthetic leads, with rows broken
on purpose where a test needs them.
"""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

import pipelines.score as score_module
from models.accounts import business_domain
from models.cleaning import clean_column
from models.contract import DataContractError
from models.feature_text import feature_name
from models.scorer import ExplainedBatch, LeadScorer
from pipelines.cli import app
from pipelines.crm_export.mapping import MappingError
from pipelines.crm_export.read import footer_note, read_export, section_note, title_note, totals_note
from pipelines.demo.synthetic import demo_mapping_text
from pipelines.score import (
    LONG_ROW,
    SPARE_FIELDS,
    UNFIT_ID,
    WHOLE_ROW,
    FieldChecker,
    IdRegister,
    ScoreOptions,
    ScoreSummary,
    as_read,
    creation_date_order,
    engagement_columns,
    load_scoring_model,
    logged_accounts,
    open_export,
    output_columns,
    plain_values,
    read_ids,
    remove_stale_temporaries,
    report_leads,
    run_score,
)
from pipelines.settings import Settings
from pipelines.training import TrainingOutcome, log_outcome
from serving.pii import REMOVED_WARNING, CategoryFields, scrub_record
from serving.schemas import MISSING_ALWAYS_GIVEN_WARNING, UNREAD_NUMBER_WARNING, UNSEEN_WARNING, lead_in_model
from tests.builders import AUTH, point_alias, requests_of, served_app, settings_with_store

REPO = Path(__file__).parents[2]
REPORT_HTML = "<html><body>score tests: no explanation report</body></html>"
runner = CliRunner()


@pytest.fixture(scope="module")
def registry(trained: TrainingOutcome, fast_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose registry holds the synthetic export's model as version 1, aliased champion."""
    settings = settings_with_store(fast_settings, tmp_path_factory.mktemp("score-registry"))
    assert log_outcome(trained, settings, REPORT_HTML).version == "1"
    return settings


@pytest.fixture(scope="module")
def config(registry: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A settings file on the registry, for the command line."""
    path = tmp_path_factory.mktemp("score-config") / "mlflow.yml"
    path.write_text(
        f"mlflow: {{tracking_uri: '{registry.mlflow.tracking_uri}', artifact_location: "
        f"'{registry.mlflow.artifact_location}'}}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def leads(synthetic_crm: Any) -> pd.DataFrame:
    """600 leads of the synthetic CRM as its export holds them (Parquet types: Int64 counts, booleans, dates)."""
    return synthetic_crm.leads.iloc[1000:1600].reset_index(drop=True)


@pytest.fixture(scope="module")
def scorer(registry: Settings) -> LeadScorer:
    return load_scoring_model(registry).scorer


def _options(out: Path, **changes: Any) -> ScoreOptions:
    fmt = "csv" if out.suffix == ".csv" else "parquet"
    return ScoreOptions(out=out, rejects=out.with_name(f"{out.stem}.rejects.csv"), fmt=fmt, **changes)


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"lead_id": str, "leadq_model_version": str}, keep_default_na=False, na_values=[""])


def _without_time(scores: pd.DataFrame) -> pd.DataFrame:
    return scores.drop(columns="leadq_scored_at")


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".leadq-tmp"))


# --- chunks: the same scores as all at once, and as the scorer's own call --------------------------------------------


def test_chunks_score_as_all_at_once_and_as_the_scorers_own_call(
    registry: Settings, scorer: LeadScorer, leads: pd.DataFrame, tmp_path: Path
) -> None:
    export = tmp_path / "leads.parquet"
    leads.to_parquet(export, index=False)

    chunked = run_score(registry, export, _options(tmp_path / "chunked.parquet", chunk_size=128))
    at_once = run_score(registry, export, _options(tmp_path / "at_once.parquet", chunk_size=10_000))

    scores = _read(tmp_path / "chunked.parquet")
    assert chunked.scored == at_once.scored == len(leads) == len(scores)
    assert list(scores.columns) == output_columns("lead_id", 3)
    pd.testing.assert_frame_equal(_without_time(scores), _without_time(_read(tmp_path / "at_once.parquet")))
    assert scores["leadq_scored_at"].nunique() == 1  # one time for the run
    # the scorer's own call on the records a CRM would send (JSON: null for missing)
    records = [
        {field: record.get(field) for field in scorer.pipeline.named_steps["features"].input_columns}
        for record in requests_of(leads)
    ]
    expected = scorer.explain_records(records, top_k=3)
    assert scores["lead_id"].tolist() == leads["lead_id"].tolist()
    np.testing.assert_array_equal(scores["leadq_probability"], [r["probability"] for r in expected])
    assert scores["leadq_grade"].tolist() == [r["grade"] for r in expected]
    assert scores["leadq_priority"].tolist() == [r["priority"] for r in expected]
    assert scores["leadq_score"].tolist() == [r["score"] for r in expected]
    assert scores["leadq_is_mql"].tolist() == [r["is_mql"] for r in expected]
    hours = (
        scores["leadq_respond_within_hours"].astype(object).where(scores["leadq_respond_within_hours"].notna(), None)
    )
    assert hours.tolist() == [r["response_hours"] for r in expected]
    for n in range(3):  # every reason column: the labels of explain_records' reasons, empty where a lead has fewer
        for side, column in (
            ("reasons_for", f"leadq_reason_{n + 1}"),
            ("reasons_against", f"leadq_reason_against_{n + 1}"),
        ):
            labels = [r[side][n]["label"] if len(r[side]) > n else None for r in expected]  # type: ignore[index]
            written = scores[column].astype(object).where(scores[column].notna(), None)  # pandas 3 reads NaN
            assert written.tolist() == labels, column
    assert chunked.mqls == int(scores["leadq_is_mql"].sum())
    assert sum(chunked.grades.values()) == len(leads)
    assert (tmp_path / "chunked.rejects.csv").read_text(encoding="utf-8").splitlines() == ["row,lead_id,field,why"]


def test_without_reasons_gives_the_same_probability_score_and_mql_without_treeshap(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # the same road: rejected rows, a repeated id and an e-mail address in a category field
    sent = leads.astype(object).copy()
    sent.loc[2, "company_size"] = "lots"
    sent.loc[6, "lead_id"] = sent.loc[0, "lead_id"]
    sent.loc[9, "campaign"] = "jane.doe@example-mail.de"
    export = tmp_path / "leads.csv"
    sent.to_csv(export, index=False)
    with_reasons = run_score(registry, export, _options(tmp_path / "reasons.parquet", chunk_size=128))

    request.getfixturevalue("no_treeshap")
    with pytest.raises(AssertionError, match="TreeSHAP called"):  # the guard holds: the usual run needs TreeSHAP
        run_score(registry, export, _options(tmp_path / "guarded.parquet", chunk_size=128))
    without = run_score(registry, export, _options(tmp_path / "plain.parquet", chunk_size=128, reasons=False))

    expected, scores = _read(tmp_path / "reasons.parquet"), _read(tmp_path / "plain.parquet")
    assert list(scores.columns) == output_columns("lead_id", 3, reasons=False)
    assert list(scores.columns) == [
        "lead_id",
        "leadq_probability",
        "leadq_score",
        "leadq_is_mql",
        "leadq_model",
        "leadq_model_version",
        "leadq_scored_at",
    ]
    assert without.scored == with_reasons.scored == len(scores) == len(leads) - 2
    assert scores["lead_id"].tolist() == expected["lead_id"].tolist()
    # predict_proba's logit is LightGBM's own sum; TreeSHAP's adds the contributions in another order
    np.testing.assert_allclose(scores["leadq_probability"], expected["leadq_probability"], rtol=1e-12, atol=0)
    assert scores["leadq_score"].tolist() == expected["leadq_score"].tolist()
    assert scores["leadq_is_mql"].tolist() == expected["leadq_is_mql"].tolist()
    assert 0 < without.mqls == with_reasons.mqls < without.scored
    assert without.grades == {}
    assert without.rejected_rows == with_reasons.rejected_rows == 2
    rejects = (tmp_path / "plain.rejects.csv").read_text(encoding="utf-8")
    assert rejects == (tmp_path / "reasons.rejects.csv").read_text(encoding="utf-8")
    assert b"jane.doe" not in (tmp_path / "plain.parquet").read_bytes()
    assert not (tmp_path / "guarded.parquet").exists()


def test_without_reasons_the_probability_is_scikit_learns_predict_proba_bit_for_bit(
    registry: Settings, scorer: LeadScorer, leads: pd.DataFrame, tmp_path: Path
) -> None:
    # the array path (predict_mql_columns) against the Pipeline's own predict_proba on the records a CRM sends
    export = tmp_path / "leads.parquet"
    leads.to_parquet(export, index=False)
    run_score(registry, export, _options(tmp_path / "plain.parquet", chunk_size=128, reasons=False))

    scores = _read(tmp_path / "plain.parquet")
    inputs = list(scorer.pipeline.named_steps["features"].input_columns)
    records = pd.DataFrame(requests_of(leads), dtype=object)[inputs]
    expected = scorer.calibrator.transform(scorer.pipeline.predict_proba(records)[:, 1])
    np.testing.assert_array_equal(scores["leadq_probability"], expected)
    decided = scorer.predict_mql(records)
    np.testing.assert_array_equal(decided["probability"], expected)
    assert decided.index.equals(records.index)
    assert scores["leadq_score"].tolist() == decided["score"].tolist()
    assert scores["leadq_is_mql"].tolist() == decided["is_mql"].tolist()


def test_the_file_holds_what_the_service_answers_for_the_same_leads(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    # an e-mail address typed into a category field: the service scrubs it before scoring, and so does the file
    sent = leads.head(40).copy()
    sent.loc[3, "campaign"] = "jane.doe@example-mail.de"
    # a field every training lead had left empty, and a category no training lead had: warned by both alike
    always_given = sorted(load_scoring_model(registry).always_given)
    sent.loc[5, always_given[0]] = None
    sent.loc[6, "campaign"] = "a campaign no training lead came from"
    export = tmp_path / "leads.parquet"
    sent.to_parquet(export, index=False)

    run_score(registry, export, _options(tmp_path / "scores.parquet", chunk_size=16))
    with TestClient(served_app(registry)) as client:
        answer = client.post("/v1/leads/score-batch", json={"leads": requests_of(sent)}, headers=AUTH)

    assert answer.status_code == 200, answer.text
    served = answer.json()["results"]
    scores = _read(tmp_path / "scores.parquet")
    assert scores["lead_id"].tolist() == [lead["lead_id"] for lead in served]
    np.testing.assert_allclose(scores["leadq_probability"], [lead["probability"] for lead in served], rtol=1e-12)
    assert scores["leadq_score"].tolist() == [lead["score"] for lead in served]
    assert scores["leadq_is_mql"].tolist() == [lead["is_mql"] for lead in served]
    assert scores["leadq_grade"].tolist() == [lead["grade"] for lead in served]
    hours = [None if pd.isna(hours) else hours for hours in scores["leadq_respond_within_hours"]]
    assert hours == [lead["respond_within_hours"] for lead in served]
    for n in range(3):
        labels = [lead["reasons_for"][n]["label"] if len(lead["reasons_for"]) > n else None for lead in served]
        assert scores[f"leadq_reason_{n + 1}"].tolist() == labels
    assert b"jane.doe" not in (tmp_path / "scores.parquet").read_bytes()

    # the service's warnings that the file carries, in the same words (the service also names missing optional and
    # unknown fields); the synthetic export's category columns are named as their features
    def carried(warnings: list[str]) -> str:
        unseen = [warning.split(": ")[0] for warning in warnings if warning.endswith(UNSEEN_WARNING)]
        said = [f"{UNSEEN_WARNING}: {', '.join(unseen)}"] if unseen else []
        return "; ".join(said + [w for w in warnings if w.startswith((REMOVED_WARNING, MISSING_ALWAYS_GIVEN_WARNING))])

    assert scores["leadq_warnings"].tolist() == [carried(lead["warnings"]) for lead in served]
    assert scores.loc[3, "leadq_warnings"] == f"{REMOVED_WARNING}: campaign"
    assert scores.loc[5, "leadq_warnings"] == f"{MISSING_ALWAYS_GIVEN_WARNING}: {always_given[0]}"
    assert scores.loc[6, "leadq_warnings"] == f"{UNSEEN_WARNING}: campaign"


def test_a_csvs_empty_cells_and_unreadable_numbers_are_warned_as_the_service_warns(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    sent = leads.head(12).astype(object).copy()
    always_given = sorted(load_scoring_model(registry).always_given)
    sent.loc[2, always_given[0]] = ""  # an empty cell of a CSV
    sent.loc[4, "pages_per_visit"] = "about three"  # text a number field reads no number from: unknown
    sent.to_csv(tmp_path / "leads.csv", index=False)

    run_score(registry, tmp_path / "leads.csv", _options(tmp_path / "scores.csv"))

    warnings = _read(tmp_path / "scores.csv")["leadq_warnings"].fillna("").tolist()
    assert warnings[2] == f"{MISSING_ALWAYS_GIVEN_WARNING}: {always_given[0]}"
    assert warnings[4] == f"{UNREAD_NUMBER_WARNING}: pages_per_visit"
    assert "about three" not in (tmp_path / "scores.csv").read_text(encoding="utf-8")


def test_a_csv_reports_title_above_the_header_is_read_past_as_training_reads_it(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    leads.head(20).to_csv(tmp_path / "plain.csv", index=False)
    titled = tmp_path / "titled.csv"
    titled.write_text("Leads report - November 2026\n\n" + (tmp_path / "plain.csv").read_text(encoding="utf-8"))

    run_score(registry, tmp_path / "plain.csv", _options(tmp_path / "plain_scores.csv"))
    summary = run_score(registry, titled, _options(tmp_path / "titled_scores.csv"))

    plain, read = _read(tmp_path / "plain_scores.csv"), _read(tmp_path / "titled_scores.csv")
    pd.testing.assert_frame_equal(_without_time(read), _without_time(plain))
    assert summary.scored == 20


@pytest.mark.parametrize(
    ("title", "line_end"),
    [('Leads report, "November 2026\n\n', "\n"), ("", "\r"), ('Leads report, "November 2026\n\n', "\r")],
)
def test_a_title_with_an_open_quote_and_bare_carriage_returns_are_read_as_training_reads_them(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, title: str, line_end: str
) -> None:
    # pandas' skiprows counts rows: the title's quote spanned lines and a lead became the header
    leads.head(20).to_csv(tmp_path / "plain.csv", index=False)
    odd = tmp_path / "odd.csv"
    text = title + (tmp_path / "plain.csv").read_text(encoding="utf-8")
    odd.write_bytes(text.replace("\n", line_end).encode("utf-8"))

    run_score(registry, tmp_path / "plain.csv", _options(tmp_path / "plain_scores.csv"))
    summary = run_score(registry, odd, _options(tmp_path / "odd_scores.csv"))

    plain, read = _read(tmp_path / "plain_scores.csv"), _read(tmp_path / "odd_scores.csv")
    pd.testing.assert_frame_equal(_without_time(read), _without_time(plain))
    assert (summary.scored, open_export(odd).total) == (20, 20)  # the progress bar's count of leads


def test_csv_in_and_out_gives_the_parquet_scores(registry: Settings, leads: pd.DataFrame, tmp_path: Path) -> None:
    leads.to_parquet(tmp_path / "leads.parquet", index=False)
    leads.to_csv(tmp_path / "leads.csv", index=False)  # every cell as text, blanks for missing counts

    run_score(registry, tmp_path / "leads.parquet", _options(tmp_path / "from_parquet.parquet", chunk_size=200))
    summary = run_score(registry, tmp_path / "leads.csv", _options(tmp_path / "from_csv.csv", chunk_size=200))

    from_csv, from_parquet = _read(tmp_path / "from_csv.csv"), _read(tmp_path / "from_parquet.parquet")
    assert summary.scored == len(leads)
    assert summary.read_whole is None
    assert from_csv["lead_id"].tolist() == from_parquet["lead_id"].tolist()
    np.testing.assert_allclose(from_csv["leadq_probability"], from_parquet["leadq_probability"], rtol=1e-12)
    for column in ("leadq_score", "leadq_is_mql", "leadq_grade", "leadq_priority", "leadq_reason_1"):
        assert from_csv[column].tolist() == from_parquet[column].tolist(), column
    assert from_csv["leadq_model_version"].unique().tolist() == ["1"]


def test_an_xlsx_export_is_read_whole_and_says_so(registry: Settings, leads: pd.DataFrame, tmp_path: Path) -> None:
    leads.head(30).to_excel(tmp_path / "leads.xlsx", index=False)
    leads.head(30).to_parquet(tmp_path / "leads.parquet", index=False)

    summary = run_score(registry, tmp_path / "leads.xlsx", _options(tmp_path / "from_xlsx.parquet", chunk_size=7))
    run_score(registry, tmp_path / "leads.parquet", _options(tmp_path / "from_parquet.parquet"))

    assert summary.read_whole is not None
    assert "read whole" in summary.read_whole
    from_xlsx, from_parquet = _read(tmp_path / "from_xlsx.parquet"), _read(tmp_path / "from_parquet.parquet")
    np.testing.assert_allclose(from_xlsx["leadq_probability"], from_parquet["leadq_probability"], rtol=1e-12)
    assert from_xlsx["leadq_grade"].tolist() == from_parquet["leadq_grade"].tolist()


@pytest.mark.parametrize("chunk_size", [8, 11, 1000])
def test_a_reports_footer_and_totals_are_no_leads_in_any_chunk_as_in_training(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, chunk_size: int
) -> None:
    # Salesforce's report CSV: Excel's separator line, a blank line between leads, its totals and its closing lines
    head = leads.head(40)
    body = head.to_csv(index=False, lineterminator="\n").split("\n", 2)
    footer = '"Grand Totals (40 records)"\n""\n"Confidential Information - Do Not Distribute"\n'
    footer += '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
    path = tmp_path / "report.csv"
    path.write_text(f"sep=,\n{body[0]}\n{body[1]}\n\n{body[2]}{footer}", encoding="utf-8")
    head.to_parquet(tmp_path / "leads.parquet", index=False)

    progress: list[tuple[int, int | None]] = []
    options = _options(tmp_path / "from_report.csv", chunk_size=chunk_size, since=date(2000, 1, 1))  # read twice
    summary = run_score(registry, path, options, lambda done, total: progress.append((done, total)))
    run_score(registry, tmp_path / "leads.parquet", _options(tmp_path / "from_parquet.csv"))

    assert (summary.scored, summary.rejected_rows) == (40, 0)
    assert progress[0][1] == 45  # the lines after the header (a blank and 4 footer lines too): an upper bound
    assert progress[-1] == (40, 40)  # the bar ends at the leads read
    assert summary.notes == (footer_note("report.csv", 4),)
    assert len(read_export(path).frame) == 40  # the training reader reads the same leads
    scored, expected = _read(tmp_path / "from_report.csv"), _read(tmp_path / "from_parquet.csv")
    # probabilities 1e-14 apart at most: TreeSHAP below 32 leads a chunk, the trees of one feature at a time above
    pd.testing.assert_frame_equal(_without_time(scored), _without_time(expected), rtol=1e-12, atol=0)


@pytest.mark.parametrize("chunk_size", [7, 1000])
def test_a_groups_totals_inside_the_file_are_no_leads_in_any_chunk_as_in_training(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, chunk_size: int
) -> None:
    # a grouped report saved as CSV: a "Subtotal" and a "Record Count" after the first group (fuzz28: scored as leads)
    first, second = leads.head(20), leads.iloc[20:40]
    blanks = "," * (len(leads.columns) - 2)
    totals = f"Subtotal,{blanks}5000\nRecord Count,20{blanks}\n"
    path = tmp_path / "grouped.csv"
    path.write_text(
        first.to_csv(index=False, lineterminator="\n") + totals + second.to_csv(index=False, header=False),
        encoding="utf-8",
    )

    summary = run_score(registry, path, _options(tmp_path / "scores.csv", chunk_size=chunk_size))

    assert (summary.scored, summary.rejected_rows) == (40, 0)
    assert summary.notes == (totals_note("grouped.csv", 2),)
    assert len(read_export(path).frame) == 40  # the training reader reads the same leads


@pytest.mark.parametrize("chunk_size", [7, 1000])
def test_a_header_repeated_inside_the_file_is_no_lead_in_any_chunk_as_in_training(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, chunk_size: int
) -> None:
    # two exports pasted one below the other: the second's column names are no lead (nor a reject)
    first, second = leads.head(20), leads.iloc[20:40]
    path = tmp_path / "pasted.csv"
    path.write_text(
        first.to_csv(index=False, lineterminator="\n") + second.to_csv(index=False, lineterminator="\n"),
        encoding="utf-8",
    )

    summary = run_score(registry, path, _options(tmp_path / "scores.csv", chunk_size=chunk_size))

    assert (summary.scored, summary.rejected_rows) == (40, 0)
    assert summary.notes == (section_note("pasted.csv", 1, ()),)
    assert len(read_export(path).frame) == 40  # the training reader reads the same leads


def test_a_column_named_with_spaces_around_is_read_as_the_models_column(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    # Excel keeps "industry " as typed; the model was trained on an export that said "industry"
    head = leads.head(20)
    spaced = head.rename(columns={"industry": "industry ", "created_at": " created_at"})
    spaced.to_csv(tmp_path / "leads.csv", index=False)
    head.to_parquet(tmp_path / "leads.parquet", index=False)

    summary = run_score(registry, tmp_path / "leads.csv", _options(tmp_path / "spaced.csv", since=date(2000, 1, 1)))
    run_score(registry, tmp_path / "leads.parquet", _options(tmp_path / "plain.csv", since=date(2000, 1, 1)))

    assert (summary.scored, summary.rejected_rows) == (20, 0)
    assert _without_time(_read(tmp_path / "spaced.csv")).equals(_without_time(_read(tmp_path / "plain.csv")))


def test_an_xlsx_reports_totals_row_is_no_lead(registry: Settings, leads: pd.DataFrame, tmp_path: Path) -> None:
    head = leads.head(12)
    totals = dict.fromkeys(head.columns, "") | {head.columns[0]: "Total", "website_visits": "412"}
    pd.concat([head.astype(object), pd.DataFrame([totals])]).to_excel(tmp_path / "report.xlsx", index=False)

    summary = run_score(registry, tmp_path / "report.xlsx", _options(tmp_path / "scores.csv"))

    assert (summary.scored, summary.rejected_rows) == (12, 0)
    assert footer_note("report.xlsx", 1) in summary.notes
    assert "Total" not in _read(tmp_path / "scores.csv")["lead_id"].tolist()


def test_a_csv_that_is_not_utf8_is_read_whole_by_the_training_reader(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    german = leads.head(30).assign(industry=lambda frame: frame["industry"].where(frame.index != 4, "Großhandel"))
    german.to_csv(tmp_path / "leads.csv", index=False, encoding="cp1252")
    german.to_parquet(tmp_path / "leads.parquet", index=False)

    summary = run_score(registry, tmp_path / "leads.csv", _options(tmp_path / "from_csv.csv", chunk_size=8))
    run_score(registry, tmp_path / "leads.parquet", _options(tmp_path / "from_parquet.csv"))

    assert (
        summary.read_whole == "leads.csv: not valid UTF-8: the training reader guesses the encoding from the whole file"
    )
    assert (
        _read(tmp_path / "from_csv.csv")
        .drop(columns="leadq_scored_at")
        .equals(_read(tmp_path / "from_parquet.csv").drop(columns="leadq_scored_at"))
    )


# --- rows that cannot be read: the rejects file ----------------------------------------------------------------------


@pytest.mark.parametrize("reasons", [True, False])  # without reasons a chunk is written after the next is read
def test_unreadable_rows_go_to_the_rejects_file_with_row_id_field_and_why(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, reasons: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = leads.head(12).astype(object).copy()
    broken.loc[2, "company_size"] = "lots"  # a count that is no number
    broken.loc[4, "lead_id"] = ""  # no id
    broken.loc[6, "lead_id"] = broken.loc[0, "lead_id"]  # the id of row 1 again
    broken.loc[8, "website_visits"] = "-3"  # a negative count
    broken.loc[8, "demo_requested"] = "perhaps"  # and text where yes/no belongs: both named
    broken.loc[10, "email"] = "x" * 400 + "@example.de"  # longer than any e-mail address
    broken.to_csv(tmp_path / "leads.csv", index=False)

    progress: list[tuple[int, int | None, int]] = []
    writes: list[int] = []
    write = score_module.TableWriter.write

    def counted(writer: score_module.TableWriter, frame: pd.DataFrame) -> None:
        writes.extend([len(frame)] if "leadq_probability" in writer.columns else [])
        write(writer, frame)

    monkeypatch.setattr(score_module.TableWriter, "write", counted)
    options = _options(tmp_path / "scores.csv", chunk_size=5, reasons=reasons)

    summary = run_score(
        registry, tmp_path / "leads.csv", options, lambda done, total: progress.append((done, total, len(writes)))
    )

    assert progress == [(5, 12, 1), (10, 12, 2), (12, 12, 3), (12, 12, 3)]  # each chunk once written, then done
    rejects = pd.read_csv(tmp_path / "scores.rejects.csv", dtype={"lead_id": str})
    ids = broken["lead_id"]
    assert list(rejects.columns) == ["row", "lead_id", "field", "why"]
    assert rejects[["row", "field"]].values.tolist() == [
        [3, "company_size"],
        [5, "lead_id"],
        [7, "lead_id"],
        [9, "website_visits"],
        [9, "demo_requested"],
        [11, "email"],
    ]
    assert rejects["lead_id"].tolist()[0] == ids[2]
    assert pd.isna(rejects["lead_id"].tolist()[1])
    assert rejects["lead_id"].tolist()[2:] == [ids[6], ids[8], ids[8], ids[10]]
    why = rejects["why"].tolist()
    assert why[0] == "expected a number such as 1200, 1.200 or 50k"
    assert why[1] == "no lead id"
    assert why[2] == "the id is also in row 1: only the first row of an id is scored"
    assert why[3] == "a count cannot be negative"
    assert why[4].startswith("expected yes or no")
    assert why[5] == "expected at most 320 characters"
    text = (tmp_path / "scores.rejects.csv").read_text(encoding="utf-8")
    assert not any(value in text for value in ("@", "lots", "perhaps", "-3"))  # no value of a row, PII or not
    scores = _read(tmp_path / "scores.csv")
    assert summary.rejected_rows == 5
    assert summary.scored == 7 == len(scores)
    assert scores["lead_id"].tolist() == [ids[p] for p in (0, 1, 3, 5, 7, 9, 11)]


def test_an_export_whose_every_row_is_rejected_is_refused_and_the_previous_scores_stay(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    # a nightly job must fail where someone looks, not hand the CRM an empty file
    leads.head(20).to_csv(tmp_path / "good.csv", index=False)
    run_score(registry, tmp_path / "good.csv", _options(tmp_path / "scores.csv"))
    before = (tmp_path / "scores.csv").read_bytes()
    broken = leads.head(30).astype(object).copy()
    broken["demo_requested"] = "perhaps"
    broken.to_csv(tmp_path / "broken.csv", index=False)

    with pytest.raises(DataContractError) as refused:
        run_score(registry, tmp_path / "broken.csv", _options(tmp_path / "scores.csv", chunk_size=7))

    message = str(refused.value)
    assert "every one of its 30 rows was rejected, so no file was written" in message
    assert "most often demo_requested: expected yes or no" in message
    assert "(30 rows)" in message
    assert "perhaps" not in message
    assert (tmp_path / "scores.csv").read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_an_export_with_most_rows_rejected_is_refused_unless_allowed_and_the_previous_scores_stay(
    registry: Settings, config: Path, leads: pd.DataFrame, tmp_path: Path
) -> None:
    # walk87: 92% of a nightly file rejected had exited 0, and the CRM imported the 8% (a changed export)
    leads.head(20).to_csv(tmp_path / "good.csv", index=False)
    run_score(registry, tmp_path / "good.csv", _options(tmp_path / "scores.csv"))
    before = (tmp_path / "scores.csv").read_bytes()
    broken = leads.head(40).astype(object).copy()
    broken.loc[broken.index[:26], "demo_requested"] = "perhaps"  # 26 of 40 rows: 65%
    broken.to_csv(tmp_path / "broken.csv", index=False)

    with pytest.raises(DataContractError) as refused:
        run_score(registry, tmp_path / "broken.csv", _options(tmp_path / "scores.csv", chunk_size=7))
    allowed = run_score(registry, tmp_path / "broken.csv", _options(tmp_path / "allowed.csv", max_rejected=0.7))
    cli = runner.invoke(
        app, ["score", str(tmp_path / "broken.csv"), "--out", str(tmp_path / "cli.csv"), "--config", str(config)]
    )

    message = str(refused.value)
    assert "26 of its 40 rows (65%) were rejected, more than --max-rejected 50%, so no file was written" in message
    assert "most often demo_requested: expected yes or no" in message
    assert "pass --max-rejected 1" in message
    assert (tmp_path / "scores.csv").read_bytes() == before
    assert _leftovers(tmp_path) == []
    assert (allowed.scored, allowed.rejected_rows) == (14, 26)
    assert len(_read(tmp_path / "allowed.csv")) == 14
    assert cli.exit_code == 1
    assert "more than --max-rejected 50%" in " ".join(cli.output.split())
    assert not (tmp_path / "cli.csv").exists()


def test_an_ids_later_rows_count_as_rejected_but_not_against_max_rejected(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    # a deals export joined to its contacts repeats each deal: only its first row is scored, no row is unreadable
    pd.concat([leads.head(20)] * 3, ignore_index=True).to_csv(tmp_path / "joined.csv", index=False)
    broken = pd.concat([leads.head(20)] * 3, ignore_index=True).astype(object)
    broken.loc[broken.index % 20 < 14, "demo_requested"] = "perhaps"  # every row of 14 of the 20 leads
    broken.to_csv(tmp_path / "broken.csv", index=False)

    joined = run_score(registry, tmp_path / "joined.csv", _options(tmp_path / "joined_scores.csv"))
    with pytest.raises(DataContractError) as refused:
        run_score(registry, tmp_path / "broken.csv", _options(tmp_path / "broken_scores.csv"))

    assert (joined.scored, joined.rejected_rows) == (20, 40)
    message = str(refused.value)
    # 42 unreadable rows against 6 leads scored; the 6 leads' 12 later rows are no unreadable rows
    assert "42 of its 48 rows (88%) were rejected" in message
    assert "demo_requested: expected yes or no" in message
    assert "(42 rows)" in message
    assert "lead_id: the id is also in an earlier row: only the first row of an id is scored (12 rows)" in message


def test_max_rejected_is_refused_for_the_spark_job_which_does_not_refuse(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["score", "x.parquet", "--out", str(tmp_path / "s.parquet"), "--engine", "spark", "--max-rejected", "0.2"]
    )

    assert result.exit_code == 2
    assert "--max-rejected judges leadq score's own run" in " ".join(result.output.split())


def test_ids_the_service_would_refuse_are_rejected_without_being_written(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    rows = leads.head(6).astype(object).copy()
    rows.loc[1, "lead_id"] = "L" * 20_000  # one such cell made the id register hold every id at its length
    rows.loc[3, "lead_id"] = "L\x001"  # PostgreSQL's scoring log refuses NUL
    rows.to_parquet(tmp_path / "leads.parquet", index=False)

    summary = run_score(registry, tmp_path / "leads.parquet", _options(tmp_path / "scores.csv"))

    rejects = pd.read_csv(tmp_path / "scores.rejects.csv", dtype=str)
    assert rejects[["row", "field"]].values.tolist() == [["2", "lead_id"], ["4", "lead_id"]]
    assert rejects["lead_id"].isna().all()  # the row says which lead: the id is not copied out
    assert set(rejects["why"]) == {UNFIT_ID}
    assert summary.scored == 4
    assert _read(tmp_path / "scores.csv")["lead_id"].tolist() == [rows.loc[p, "lead_id"] for p in (0, 2, 4, 5)]


def test_an_id_whose_first_row_is_rejected_is_scored_from_its_next_readable_row(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    rows = leads.head(4).astype(object).copy()
    rows.loc[3] = rows.loc[1]  # the CRM exported lead 2 twice: first with a broken field, then readable
    rows.loc[1, "company_size"] = "lots"
    rows.to_csv(tmp_path / "leads.csv", index=False)

    summary = run_score(registry, tmp_path / "leads.csv", _options(tmp_path / "scores.csv", chunk_size=2))

    rejects = pd.read_csv(tmp_path / "scores.rejects.csv")
    assert rejects[["row", "field"]].values.tolist() == [[2, "company_size"]]  # not "also in row 2" for row 4
    assert _read(tmp_path / "scores.csv")["lead_id"].tolist() == [rows.loc[p, "lead_id"] for p in (0, 2, 3)]
    assert summary.scored == 3


# --- the atomic write -----------------------------------------------------------------------------------------------


def test_a_failure_mid_run_leaves_no_file_and_keeps_the_old_one(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "leads.parquet"
    leads.to_parquet(export, index=False)
    out, fresh = tmp_path / "scores.parquet", tmp_path / "fresh.parquet"
    run_score(registry, export, _options(out, chunk_size=100))
    before = out.read_bytes(), (tmp_path / "scores.rejects.csv").read_bytes()
    calls = []
    explain_arrays = LeadScorer.explain_arrays

    def failing_on_the_third_chunk(self: LeadScorer, *args: Any, **kwargs: Any) -> ExplainedBatch:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the scorer fails on the third chunk")
        return explain_arrays(self, *args, **kwargs)

    monkeypatch.setattr(LeadScorer, "explain_arrays", failing_on_the_third_chunk)
    with pytest.raises(RuntimeError, match="third chunk"):
        run_score(registry, export, _options(out, chunk_size=100))
    calls.clear()
    with pytest.raises(RuntimeError, match="third chunk"):
        run_score(registry, export, _options(fresh, chunk_size=100))

    assert (out.read_bytes(), (tmp_path / "scores.rejects.csv").read_bytes()) == before
    assert not fresh.exists()
    assert not (tmp_path / "fresh.rejects.csv").exists()
    assert _leftovers(tmp_path) == []


def _scored_once(registry: Settings, leads: pd.DataFrame, folder: Path, reasons: bool) -> tuple[Path, Path, bytes]:
    """The leads as a Parquet export in 100-lead chunks, scored once: the export, the output and its bytes."""
    export, out = folder / "leads.parquet", folder / "scores.parquet"
    leads.to_parquet(export, index=False)
    run_score(registry, export, _options(out, chunk_size=100, reasons=reasons))
    return export, out, out.read_bytes()


@pytest.mark.parametrize("reasons", [True, False])
def test_a_failure_of_the_trees_in_the_background_leaves_no_file_and_keeps_the_old_one(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reasons: bool
) -> None:
    # a chunk's trees (pred_contrib, or Booster.predict without reasons) run on a thread of their own while the
    # next chunk is read
    export, out, before = _scored_once(registry, leads, tmp_path, reasons)
    calls = []
    trees = score_module.tree_contributions if reasons else LeadScorer.raw_predictions

    def failing_on_the_third_chunk(*args: Any) -> np.ndarray:
        calls.append(threading.current_thread().name)
        if len(calls) == 3:
            raise RuntimeError("the trees fail on the third chunk")
        return trees(*args)

    if reasons:
        monkeypatch.setattr(score_module, "tree_contributions", failing_on_the_third_chunk)
    else:
        monkeypatch.setattr(LeadScorer, "raw_predictions", failing_on_the_third_chunk)
    with pytest.raises(RuntimeError, match="third chunk"):
        run_score(registry, export, _options(out, chunk_size=100, reasons=reasons))

    assert len(calls) >= 3  # the next chunk's trees may have started before the third one's failure is seen
    assert all(name.startswith("leadq-predict") for name in calls)  # not on the thread that reads
    assert out.read_bytes() == before
    assert _leftovers(tmp_path) == []
    assert not any(thread.name.startswith("leadq-predict") for thread in threading.enumerate())  # none left over


def test_a_failure_reading_a_chunk_while_the_trees_of_the_one_before_run_leaves_no_file_and_no_thread(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export, out, before = _scored_once(registry, leads, tmp_path, reasons=False)
    checks = []
    check_chunk = score_module.check_chunk

    def failing_on_the_third_chunk(*args: Any, **kwargs: Any) -> score_module.CheckedChunk:
        checks.append(1)
        if len(checks) == 3:  # the second chunk's trees are running or done, not yet written
            raise RuntimeError("the third chunk cannot be read")
        return check_chunk(*args, **kwargs)

    monkeypatch.setattr(score_module, "check_chunk", failing_on_the_third_chunk)
    with pytest.raises(RuntimeError, match="third chunk"):
        run_score(registry, export, _options(out, chunk_size=100, reasons=False))

    assert out.read_bytes() == before
    assert _leftovers(tmp_path) == []
    assert not any(thread.name.startswith("leadq-predict") for thread in threading.enumerate())


def _score_in_a_child(config: Path, export: Path, out: Path) -> subprocess.Popen[str]:
    command = [str(Path(sys.executable).parent / "leadq"), "score", str(export), "--out", str(out)]
    command += ["--config", str(config), "--chunk-size", "50"]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _when_writing(child: subprocess.Popen[str], folder: Path, timeout_s: float = 120.0) -> None:
    """Wait until the child writes its temporary output (a chunk or more scored, not done)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        written = [folder / name for name in _leftovers(folder)]
        if any(path.stat().st_size > 4096 for path in written if path.exists()):
            return
        assert child.poll() is None, child.communicate()[0]
        time.sleep(0.05)
    child.kill()
    pytest.fail("the child never wrote its temporary output")


@pytest.fixture
def old_scores(registry: Settings, synthetic_crm: Any, tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A 30,000-lead export (600 chunks of 50: tens of seconds, so a stop always lands half-way, even on a fast,
    idle machine) and yesterday's scores of it."""
    export = tmp_path / "leads.parquet"
    leads = synthetic_crm.leads.head(6000)
    copies = [leads.assign(lead_id=leads["lead_id"].astype(str) + f"-{copy}") for copy in range(5)]
    pd.concat(copies, ignore_index=True).to_parquet(export, index=False)
    out = tmp_path / "scores.parquet"
    out.write_bytes(b"yesterday's scores")
    return export, out, out.read_bytes()


@pytest.mark.slow
def test_a_stopped_run_removes_its_temporary_files_and_keeps_the_old_output(
    config: Path, old_scores: tuple[Path, Path, bytes], tmp_path: Path
) -> None:
    export, out, before = old_scores
    child = _score_in_a_child(config, export, out)
    _when_writing(child, tmp_path)

    child.send_signal(signal.SIGTERM)  # a scheduler stopping the job
    output = child.communicate(timeout=60)[0]

    assert child.returncode == 128 + signal.SIGTERM, output
    assert out.read_bytes() == before
    assert not (tmp_path / "scores.rejects.csv").exists()
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_killed_run_keeps_the_old_output_and_the_next_run_removes_its_leftovers(
    config: Path, old_scores: tuple[Path, Path, bytes], tmp_path: Path
) -> None:
    export, out, before = old_scores
    child = _score_in_a_child(config, export, out)
    _when_writing(child, tmp_path)

    child.kill()  # SIGKILL: no clean-up is possible
    child.communicate(timeout=60)

    assert out.read_bytes() == before
    left = _leftovers(tmp_path)
    assert left == sorted([f".scores.parquet.{child.pid}.leadq-tmp", f".scores.rejects.csv.{child.pid}.leadq-tmp"])
    removed = remove_stale_temporaries(out) + remove_stale_temporaries(tmp_path / "scores.rejects.csv")
    assert sorted(path.name for path in removed) == left
    assert _leftovers(tmp_path) == []


def test_only_temporaries_of_ended_processes_are_removed(tmp_path: Path) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    out = tmp_path / "scores.parquet"
    dead = tmp_path / f".scores.parquet.{int(ended.stdout)}.leadq-tmp"
    mine = tmp_path / f".scores.parquet.{os.getpid()}.leadq-tmp"
    other_file = tmp_path / f".other.parquet.{int(ended.stdout)}.leadq-tmp"
    for path in (dead, mine, other_file):
        path.write_bytes(b"half a file")

    assert remove_stale_temporaries(out) == [dead]
    assert mine.exists()
    assert other_file.exists()


# --- which leads, which model ---------------------------------------------------------------------------------------


def test_since_scores_only_leads_created_on_or_after_the_date(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    export = tmp_path / "leads.parquet"
    leads.to_parquet(export, index=False)
    since = leads["created_at"].sort_values().iloc[len(leads) // 2].date()

    summary = run_score(registry, export, _options(tmp_path / "scores.parquet", since=since, chunk_size=100))

    expected = leads.loc[leads["created_at"] >= pd.Timestamp(since), "lead_id"]
    assert _read(tmp_path / "scores.parquet")["lead_id"].tolist() == expected.tolist()
    assert summary.scored == len(expected)
    assert summary.before_since == len(leads) - len(expected) > 0
    assert summary.rejected_rows == 0


def test_since_reads_day_first_text_dates_the_same_way_in_every_chunk(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    text = leads.head(40).astype(object).copy()
    days = pd.date_range("2026-03-24", periods=40, freq="D")  # chunk 2 (1-8 April) holds no day > 12
    text["created_at"] = days.strftime("%d/%m/%Y")  # 02/04/2026 is 2 April, as rows 1-8 show
    text.to_csv(tmp_path / "leads.csv", index=False)
    since = date(2026, 4, 1)

    summary = run_score(registry, tmp_path / "leads.csv", _options(tmp_path / "scores.csv", since=since, chunk_size=8))

    expected = text.loc[days >= pd.Timestamp(since), "lead_id"].tolist()  # a chunk alone would read 02/04 as 4 Feb
    assert _read(tmp_path / "scores.csv")["lead_id"].tolist() == expected
    assert (summary.scored, summary.before_since) == (len(expected), 40 - len(expected))


def test_since_reads_a_nightly_files_dates_in_the_order_training_read_them_where_its_values_cannot_tell(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    # 1 to 12 November, day first: no day > 12, so alone "01/11/2026" would read as 11 January (slashed: month-first)
    text = leads.head(12).astype(object).copy()
    text["created_at"] = pd.date_range("2026-11-01", periods=12, freq="D").strftime("%d/%m/%Y")
    text.to_csv(tmp_path / "nightly.csv", index=False)
    model = load_scoring_model(registry)
    metadata = {**model.scorer.metadata, "created_at_day_first": True}
    trained_day_first = dataclasses.replace(model, scorer=dataclasses.replace(model.scorer, metadata=metadata))
    options = _options(tmp_path / "scores.csv", since=date(2026, 11, 1))

    learnt = creation_date_order(open_export(tmp_path / "nightly.csv"), trained_day_first, options)
    alone = creation_date_order(open_export(tmp_path / "nightly.csv"), model, options)

    assert learnt.decide() == (
        True,
        "day-first (DD.MM.YYYY / DD/MM/YYYY) as the training export was read: no value here had a day > 12",
    )
    assert alone.decide()[0] is False  # a model trained on ISO dates learnt no order: the default stands


def test_since_is_refused_for_a_mapping_without_creation_dates(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    leads.head(10).to_parquet(tmp_path / "leads.parquet", index=False)
    undated = tmp_path / "mapping.yml"
    without_dates = demo_mapping_text().replace("  lead_id: id\n  created_at: created_at\n", "  lead_id: id\n")
    undated.write_text(without_dates, encoding="utf-8")
    options = _options(tmp_path / "scores.parquet", since=date(2026, 1, 1), mapping=undated)

    with pytest.raises(MappingError, match=r"--since needs the leads' creation dates.*created_at"):
        run_score(registry, tmp_path / "leads.parquet", options)
    assert not (tmp_path / "scores.parquet").exists()


@pytest.mark.slow  # registers a second version
def test_a_version_or_an_alias_named_scores_with_that_version(
    registry: Settings, trained: TrainingOutcome, leads: pd.DataFrame, tmp_path: Path
) -> None:
    export = tmp_path / "leads.parquet"
    leads.head(20).to_parquet(export, index=False)
    second = log_outcome(trained, registry, REPORT_HTML).version
    point_alias(registry, registry.mlflow.champion_alias, "1")  # whatever the publish gate did with the second
    point_alias(registry, "nightly", second)

    by_version = run_score(registry, export, _options(tmp_path / "v.parquet", version=second))
    by_alias = run_score(registry, export, _options(tmp_path / "a.parquet", alias="nightly"))
    by_default = run_score(registry, export, _options(tmp_path / "c.parquet"))

    assert (by_version.version, by_alias.version, by_default.version) == (second, second, "1")
    assert _read(tmp_path / "v.parquet")["leadq_model_version"].unique().tolist() == [second]
    assert _read(tmp_path / "c.parquet")["leadq_model_version"].unique().tolist() == ["1"]


def test_a_missing_champion_or_an_unknown_version_is_named(
    registry: Settings, fast_settings: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    export = tmp_path / "leads.parquet"
    leads.head(5).to_parquet(export, index=False)
    empty = settings_with_store(fast_settings, tmp_path / "empty-store")

    with pytest.raises(LookupError, match=r"no MLflow store at .*run `leadq train` first"):
        run_score(empty, export, _options(tmp_path / "scores.parquet"))
    with pytest.raises(LookupError, match="no registered model 'leadq-lead-conversion' with version 99"):
        run_score(registry, export, _options(tmp_path / "scores.parquet", version="99"))
    # a version the publish gate kept from the alias is named, with how to score with it
    with pytest.raises(
        LookupError, match=r"with alias 'nobody'.*version \d+ is registered but not 'nobody'.*--version"
    ):
        run_score(registry, export, _options(tmp_path / "scores.parquet", alias="nobody"))
    assert list(tmp_path.glob("scores*")) == []


def test_an_export_without_a_column_the_model_reads_is_refused_naming_it(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    from models.contract import DataContractError

    leads.head(5).rename(columns={"company_size": "Company Size"}).to_parquet(tmp_path / "leads.parquet", index=False)

    with pytest.raises(DataContractError, match=r"'company_size' \(did you mean 'Company Size'\?\)"):
        run_score(registry, tmp_path / "leads.parquet", _options(tmp_path / "scores.parquet"))


def test_an_export_of_another_crm_is_refused_naming_the_export_each_version_learnt_from(
    trained: TrainingOutcome, fast_settings: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    import dataclasses

    settings = settings_with_store(fast_settings, tmp_path / "store")
    first = dataclasses.replace(trained, fingerprint={**trained.fingerprint, "export": "/crm/first.parquet"})
    assert log_outcome(first, settings, REPORT_HTML).version == "1"  # the champion: the first CRM's model
    other = tmp_path / "other_crm.parquet"
    leads.head(5).drop(columns=["company_size"]).to_parquet(other, index=False)
    # the second CRM's model, registered beside it (the champion stays: promotion is a separate step)
    second = dataclasses.replace(trained, fingerprint={**trained.fingerprint, "export": str(other.resolve())})
    assert log_outcome(second, settings, REPORT_HTML).version == "2"

    with pytest.raises(DataContractError) as refused:
        run_score(settings, other, _options(tmp_path / "scores.parquet"))

    said = " ".join(str(refused.value).split())
    assert "column(s) the model reads are missing: 'company_size'" in said
    assert "version 1 was trained on /crm/first.parquet" in said
    assert "version 2 was trained on this export: score it with --version 2" in said


# --- the command line -----------------------------------------------------------------------------------------------


def test_leadq_score_prints_the_summary(config: Path, leads: pd.DataFrame, tmp_path: Path) -> None:
    leads.head(50).to_csv(tmp_path / "leads.csv", index=False)
    out = tmp_path / "scores.csv"

    result = runner.invoke(
        app, ["score", str(tmp_path / "leads.csv"), "--out", str(out), "--config", str(config), "--chunk-size", "20"]
    )

    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Scored 50 leads with leadq-lead-conversion version 1" in output
    assert all(part in output for part in ("leads/s", "By grade: ", "MQLs"))
    assert f"Rejected 0 rows (row, id, field, why): {tmp_path / 'scores.rejects.csv'}" in output
    assert len(_read(out)) == 50


def test_leads_far_beyond_the_training_leads_range_are_warned_of_by_name_with_and_without_reasons(
    registry: Settings, config: Path, scorer: LeadScorer, leads: pd.DataFrame, tmp_path: Path
) -> None:
    # a nightly file whose time on site is counted in milliseconds: every lead beyond every training lead's
    export = tmp_path / "leads.csv"
    leads.assign(time_on_site_s=leads["time_on_site_s"] * 1_000 + 100_000).to_csv(export, index=False)
    leads.to_csv(tmp_path / "as_trained.csv", index=False)

    summaries = [
        run_score(registry, export, _options(tmp_path / f"{reasons}.csv", chunk_size=128, reasons=reasons))
        for reasons in (True, False)
    ]
    as_trained = run_score(registry, tmp_path / "as_trained.csv", _options(tmp_path / "as_trained_scores.csv"))
    result = runner.invoke(app, ["score", str(export), "--out", str(tmp_path / "cli.csv"), "--config", str(config)])

    texts = scorer.pipeline.named_steps["features"].feature_spec.texts
    for summary in summaries:
        (beyond,) = summary.beyond_training
        assert (beyond.feature, beyond.side, beyond.share) == (
            feature_name("time_on_site_s", "en", texts),
            "above",
            1.0,
        )
        assert beyond.leads == int(leads["time_on_site_s"].notna().sum())
        assert beyond.training_share <= 0.1
    assert as_trained.beyond_training == ()
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"Warning: outside the training leads' range: '{beyond.feature}' for 100% of the {beyond.leads:,}" in output
    assert "map it after_contact and retrain" in output


def test_leadq_score_no_reasons_writes_the_decision_columns_only(
    config: Path, leads: pd.DataFrame, tmp_path: Path, no_treeshap: None
) -> None:
    leads.head(50).to_csv(tmp_path / "leads.csv", index=False)
    out = tmp_path / "scores.csv"

    result = runner.invoke(
        app, ["score", str(tmp_path / "leads.csv"), "--out", str(out), "--config", str(config), "--no-reasons"]
    )

    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Scored 50 leads with leadq-lead-conversion version 1" in output
    assert "By grade" not in output
    scores = _read(out)
    assert list(scores.columns) == output_columns("lead_id", 3, reasons=False)
    assert len(scores) == 50


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--out", "scores.txt"], "name a .parquet or .csv file"),
        (["--out", "scores.csv", "--format", "parquet"], "ends in .csv but --format is parquet"),
        (["--out", "scores.csv", "--version", "1", "--alias", "x"], "not both"),
        (["--out", "scores.csv", "--since", "1.10.2026"], "expected a date such as 2026-10-01"),
    ],
)
def test_leadq_score_refuses_contradictory_options(arguments: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(tmp_path / "leads.csv"), *arguments])

    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_leadq_score_names_a_missing_champion(tmp_path: Path) -> None:
    config = tmp_path / "mlflow.yml"
    config.write_text("mlflow: {tracking_uri: 'sqlite:///nothing/mlflow.db'}\n", encoding="utf-8")
    pd.DataFrame({"lead_id": ["L1"]}).to_csv(tmp_path / "leads.csv", index=False)

    result = runner.invoke(
        app, ["score", str(tmp_path / "leads.csv"), "--out", str(tmp_path / "s.csv"), "--config", str(config)]
    )

    assert result.exit_code == 1
    assert "Not found: no MLflow store at" in " ".join(result.output.split())


def test_leadq_score_help_imports_no_data_or_model_library() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from pipelines.cli import app\n"
        "result = CliRunner().invoke(app, ['score', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = ('pandas', 'numpy', 'mlflow', 'lightgbm', 'pyarrow')\n"
        "print(' '.join(name for name in heavy if name in sys.modules))\n"
    )

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_summary_rate_leaves_the_models_loading_out() -> None:
    summary = ScoreSummary("m", "1", Path("o"), Path("r"), 1000, 0, 0, 10, {"A1": 1000}, 3.0, 1.0, None)

    assert summary.leads_per_s == 500.0


# --- the field checks and the repeated-id register ------------------------------------------------------------------

_ROLES = {
    "size": "count",
    "revenue": "numeric",
    "demo": "boolean",
    "opt_in": "consent",
    "industry": "categorical",
    "notes": "text",
    "email": "email",
    "title": "job_title",
}
_VALUES: list[object] = [
    None, 0, 1, -1, 2.5, -0.0, float("nan"), float("inf"), 10**400, True, False, "", "  ", "N/A", "select", "12",
    " 1.200 ", "50k", "-3", "abc", "yes", "nein", "x", "a@b.de", " a@b.de ", "x" * 321, "y" * 501, "z" * 2001,
    b"bytes", (1, 2),
]  # fmt: skip


@pytest.mark.parametrize("column", list(_ROLES))
def test_field_checks_answer_what_the_services_request_model_answers(column: str) -> None:
    lead_model = lead_in_model(_ROLES, ("N/A", "Select"))
    checker = FieldChecker(lead_model, _ROLES)
    position = list(_ROLES).index(column)

    for value in _VALUES * 2:  # the second time from the checker's memory
        try:
            expected: tuple[bool, object] = (
                True,
                getattr(lead_model.model_validate({"lead_id": "-", column: value}), f"field_{position}"),
            )
        except ValidationError as error:
            expected = (False, "; ".join(problem["msg"] for problem in error.errors()))
        got = checker.check_value(column, value)
        assert got[0] == expected[0], (column, value)
        assert type(got[1]) is type(expected[1]), (column, value)
        assert got[1] == expected[1] or got[1] != got[1], (column, value)  # NaN != NaN


def _same(got: object, want: object) -> bool:
    """Equal values, missing (None or NaN) on both sides counting as equal."""
    missing = want is None or (isinstance(want, float) and want != want)  # NaN != NaN
    return bool(pd.isna(got)) if missing else bool(got == want)


@pytest.mark.parametrize("column", list(_ROLES))
def test_a_columns_check_answers_each_values_own_check(column: str) -> None:
    # distinct values checked together (one call) give what each one's own check gives, refused ones included
    lead_model = lead_in_model(_ROLES, ("N/A", "Select"))
    values = np.array([*_VALUES, *_VALUES[::-1], 7, 7.0], dtype=object)
    codes, distinct = pd.factorize(values, use_na_sentinel=True)  # check_column's distinct values (1 == True == 1.0)
    by_value = FieldChecker(lead_model, _ROLES)
    expected = [by_value.check_value(column, value) for value in distinct]

    given, refused = FieldChecker(lead_model, _ROLES).check_column(column, values)

    assert sorted(refused) == [position for position, code in enumerate(codes) if code >= 0 and not expected[code][0]]
    for position, code in enumerate(codes):
        ok, want = expected[code] if code >= 0 else (True, None)
        if ok:
            assert _same(given[position], want), (column, values[position])
        else:
            assert refused[position] == want
            assert pd.isna(given[position])


_TEXTS: list[object] = [
    None, float("nan"), "", "  ", "N/A", "select", "a@b.de", " A@B.DE ", "a@b@c.de", "no at", "müller@gmx.de",
    "\x00\x1c\t\n", "\u2003", "x" * 320, "y" * 500, "z" * 2000, "ß" * 320,
]  # fmt: skip


@pytest.mark.parametrize(("column", "limit"), [("email", 320), ("title", 500), ("notes", 2000)])
def test_a_text_columns_check_without_a_check_per_value_answers_each_values_own_check(column: str, limit: int) -> None:
    # a column of texts within the field's limit is accepted whole (no check per distinct value): it must give
    # what each value's own check gives, and one text over the limit or one value that is no text refuses as before
    lead_model = lead_in_model(_ROLES, ("N/A", "Select"))
    texts = [value for value in _TEXTS if not isinstance(value, str) or len(value) <= limit]
    values = np.array(texts * 3, dtype=object)
    by_value = FieldChecker(lead_model, _ROLES)

    given, refused = FieldChecker(lead_model, _ROLES).check_column(column, values)

    assert refused == {}
    for position, value in enumerate(values.tolist()):
        ok, want = (True, None) if pd.isna(value) else by_value.check_value(column, value)
        assert ok, (column, value)
        assert type(given[position]) is type(want), (column, value)
        assert given[position] == want, (column, value)
    for odd in ("x" * (limit + 1), 7, b"bytes"):
        _, refused = FieldChecker(lead_model, _ROLES).check_column(column, np.array([*texts, odd], dtype=object))
        assert refused == {len(texts): by_value.check_value(column, odd)[1]}, (column, odd)


@pytest.mark.parametrize("column", ["size", "revenue", "demo", "opt_in", "industry", "title", "email"])
@pytest.mark.parametrize(
    "values",
    [
        pd.Series([3, 0, 12, 7] * 20, dtype="int64"),
        pd.Series([3, -1, 12, 7] * 20, dtype="int64"),  # a negative count: refused, as each value's check says
        pd.Series([2**53 + 1, 5] * 40, dtype="uint64"),
        pd.Series([1.5, np.nan, -0.0, 0.0, 1e300] * 16),
        pd.Series([1.5, np.inf, 2.0, np.nan] * 20),  # infinity: refused
        pd.Series([1.25, np.nan, 3.0, -2.5] * 20, dtype="float32"),
        pd.Series([True, False, True, True] * 20),
        pd.Series([1, None, 3, 0] * 20, dtype="Int64"),  # a nullable type: the values' own checks
        pd.Series([1, None, -3, 0] * 20, dtype="Int64"),  # a negative nullable count: refused
        pd.Series([True, None, False, True] * 20, dtype="boolean"),
        pd.Series(["Retail", None, " a b ", "ß" * 500, "12"] * 16, dtype="str"),  # Arrow text (Parquet)
        pd.Series(["Retail", "y" * 501, None, "x"] * 20, dtype="str"),  # one text over the limit: refused
        pd.Series([0, 1, 1, 0] * 20, dtype="int8"),
    ],
)
def test_a_typed_columns_check_gives_what_its_values_checks_give(column: str, values: pd.Series) -> None:
    # numbers a reader typed are checked as arrays when every value passes: the same floats (NaN for missing) and
    # the same refusals as the values' own checks and as_read
    lead_model = lead_in_model(_ROLES, ("N/A", "Select"))
    role = _ROLES[column]

    given, refused = FieldChecker(lead_model, _ROLES).check_series(column, values)

    want, want_refused = FieldChecker(lead_model, _ROLES).check_column(column, plain_values(values, role))
    assert refused == want_refused
    assert given.dtype == want.dtype
    if given.dtype == np.float64:  # equal numbers (check_column's distinct values take -0.0 and 0.0 as one)
        np.testing.assert_array_equal(given, want)
    else:
        assert [type(value) for value in given] == [type(value) for value in want]
        assert [_same(got, expected) for got, expected in zip(given, want, strict=True)] == [True] * len(want)


@pytest.mark.parametrize("dtype", ["str", object])
def test_checked_categories_are_scrubbed_as_the_service_scrubs_each_value(dtype: object) -> None:
    # the check scrubs a category field's accepted distinct values (remembered across chunks) as scrub_record does
    lead_model = lead_in_model(_ROLES, ("N/A", "Select"))
    categories = CategoryFields(known={"industry": frozenset({"retail"})}, feature_of={"industry": "industry"})
    values = ["Retail", None, "anna.schmidt@example.com", "+49 170 1234567", "Manufacturing", "Dr. Anna Schmidt"]
    checker = FieldChecker(lead_model, _ROLES)
    want = [None if value is None else scrub_record({"industry": value}, categories)[0]["industry"] for value in values]
    assert want[2] != values[2]  # the test scrubs something

    for chunk in (values, values[::-1]):  # the second chunk from the remembered values
        given, refused = checker.check_series("industry", pd.Series(chunk * 5, dtype=dtype), categories)

        assert refused == {}
        expected = want if chunk == values else want[::-1]
        assert given.tolist() == expected * 5


def test_checked_numbers_read_as_floats_give_the_features_of_the_values_themselves(scorer: LeadScorer) -> None:
    # as_read hands numbers and yes/no as floats; the features step must read them as it reads the values
    step = scorer.pipeline.named_steps["features"]
    roles = {column.column: column.role for column in step.columns}
    values = {
        "count": [None, 0, 3, 2.5, -0.0, 10**20, 7, None],
        "numeric": [1.5, None, -2, 0, 1e300, float("inf"), 3, 12],
        "boolean": [True, False, None, True, True, False, None, False],
        "consent": [True, None, False, True, False, True, True, None],
    }
    columns: dict[str, np.ndarray] = {}
    for column, role in roles.items():
        if role in values:
            given = np.array(values[role], dtype=object)
            columns[column] = given
            read = as_read(given, role)
            assert read.dtype == np.float64, (column, role)
            np.testing.assert_array_equal(read, np.array([np.nan if v is None else v for v in values[role]], float))
    n = 8
    as_values = step.arrays_from_columns(columns, n)
    as_floats = step.arrays_from_columns({c: as_read(v, roles[c]) for c, v in columns.items()}, n)
    assert list(as_floats) == list(as_values)
    for feature, expected in as_values.items():
        assert as_floats[feature].dtype == expected.dtype, feature
        assert all(_same(got, want) for got, want in zip(as_floats[feature], expected, strict=True)), feature
    # text, and True in a number field (no number there), are given unchanged
    for role, given in (("count", [1, "1.200", None]), ("numeric", [True, 2.0]), ("boolean", [True, "ja"])):
        array = np.array(given, dtype=object)
        assert as_read(array, role) is array
    assert as_read(np.array(["Retail", None], dtype=object), "categorical").dtype == object


def test_ids_are_read_as_training_reads_them() -> None:
    # read_ids reads in one pass what clean_column's id role reads: placeholders, blanks, 1042.0, trimming
    placeholders = ["N/A", " Select "]
    columns = [
        pd.Series([" a1 ", "n/a", "SELECT", "", "  ", None, "x\u00a0", "1042", np.nan], dtype=object),
        pd.Series(["a", None, " b", "N/A"], dtype="str"),
        pd.Series([1042.0, np.nan, 3.5, -0.0, 1e20]),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([True, 1.0, "n/a", pd.NA, pd.NaT, np.float32(7.0), np.str_(" q ")], dtype=object, index=range(5, 12)),
    ]
    for values in columns:
        cleaned, _ = clean_column(values.reset_index(drop=True), "id", "lead_id", placeholders)
        expected = cleaned.astype(object).where(cleaned.notna(), None).tolist()

        got = read_ids(values, "lead_id", placeholders)

        assert got.tolist() == expected
        assert [type(lead_id) for lead_id in got] == [type(lead_id) for lead_id in expected]


def test_the_id_register_agrees_with_a_dict_of_first_rows_over_many_chunks() -> None:
    rng = np.random.default_rng(3)
    pool = np.array([f"id-{n}" + "x" * (n % 7) for n in range(3_000)], dtype=object)  # widths vary
    register, first, row = IdRegister(), {}, 1
    for size in (500, 1, 0, 999, 700, 2_000, 300):
        ids = pool[rng.integers(0, len(pool), size)]
        rows = np.arange(row, row + size)
        expected = {}
        for position, lead_id in enumerate(ids.tolist()):
            if first.setdefault(lead_id, int(rows[position])) != rows[position]:
                expected[position] = f"the id is also in row {first[lead_id]}: only the first row of an id is scored"
        assert register.repeated(ids, rows) == expected
        row += size


def test_the_id_register_rejects_every_later_row_of_an_id_across_chunks() -> None:
    register = IdRegister()
    chunks = [
        (["b", "a", "b", "ü-1", "a\x00"], [1, 2, 3, 4, 5]),  # "a\x00" is another id than "a"
        (["a", "c", "c", "a\x00", "a-much-longer-id-than-before"], [6, 7, 8, 9, 10]),
        ([], []),
        (["ü-1", "a-much-longer-id-than-before", "d"], [11, 12, 13]),
    ]
    first: dict[str, int] = {}  # the rule, lead by lead
    for ids, rows in chunks:
        expected = {}
        for position, (lead_id, row) in enumerate(zip(ids, rows, strict=True)):
            if first.setdefault(lead_id, row) != row:
                expected[position] = f"the id is also in row {first[lead_id]}: only the first row of an id is scored"

        assert register.repeated(np.array(ids, dtype=object), np.array(rows)) == expected
    assert register.repeated(np.array(["b"], dtype=object), np.array([14])) == {
        0: "the id is also in row 1: only the first row of an id is scored"
    }


# --- a model trained with an activities table: engagement as of the run ---------------------------------------------


@pytest.fixture(scope="module")
def activities_export(fast_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """A registry holding a model trained on the synthetic CRM's activities table, and the export's folder."""
    from pipelines.crm_export.mapping import dump_mapping, load_mapping
    from pipelines.crm_export.prepare import read_export_files
    from pipelines.demo.synthetic import activities_mapping, generate_crm, write_crm
    from pipelines.settings import DEMO_MAPPING
    from pipelines.training import train_scorer

    folder = tmp_path_factory.mktemp("activities-export")
    write_crm(generate_crm(3_000, seed=9, activities=True), folder)
    (folder / "mapping.yml").write_text(dump_mapping(activities_mapping(load_mapping(DEMO_MAPPING))), encoding="utf-8")
    settings = settings_with_store(fast_settings, tmp_path_factory.mktemp("activities-registry"))
    outcome = train_scorer(read_export_files(folder / "leads.parquet", folder / "mapping.yml"), settings)
    assert log_outcome(outcome, settings, REPORT_HTML).version == "1"
    point_alias(settings, "champion", "1")  # 3,000 leads may be too few for the publish gate: served all the same
    return settings, folder


@pytest.mark.slow
def test_a_model_with_activities_scores_each_leads_engagement_as_of_the_run(
    activities_export: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, folder = activities_export
    activities = pd.read_parquet(folder / "activities.parquet")
    leads = pd.read_parquet(folder / "leads.parquet").head(300)
    export = tmp_path / "leads.parquet"
    leads.to_parquet(export)
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    hot_lead = str(leads["lead_id"].iloc[0])
    recent = pd.DataFrame(  # three demo requests of one lead an hour ago, and activity of everyone next year
        {
            "lead_id": [hot_lead] * 3 + leads["lead_id"].tolist(),
            "timestamp": [now - pd.Timedelta(hours=1)] * 3 + [now + pd.Timedelta(days=365)] * len(leads),
            "kind": ["demo_request"] * 3 + ["visit"] * len(leads),
            "detail": None,
        }
    )
    (tmp_path / "with-recent").mkdir()
    pd.concat([activities, recent], ignore_index=True).to_parquet(tmp_path / "with-recent" / "activities.parquet")

    run_score(settings, export, _options(tmp_path / "plain.parquet", activities=folder / "activities.parquet"))
    run_score(
        settings,
        export,
        _options(tmp_path / "recent.parquet", activities=tmp_path / "with-recent" / "activities.parquet"),
    )

    plain, recent_scores = (_read(tmp_path / name).set_index("lead_id") for name in ("plain.parquet", "recent.parquet"))
    others = plain.index != hot_lead  # activity after the run (next year) changes nothing
    pd.testing.assert_frame_equal(_without_time(recent_scores[others]), _without_time(plain[others]))
    assert recent_scores.loc[hot_lead, "leadq_probability"] != plain.loc[hot_lead, "leadq_probability"]
    reasons = [str(v) for k, v in recent_scores.loc[hot_lead].items() if str(k).startswith("leadq_reason_")]
    assert any("demo request" in reason.lower() for reason in reasons), reasons  # said in words
    assert recent_scores.loc[hot_lead, "leadq_probability"] > plain.loc[hot_lead, "leadq_probability"]


@pytest.mark.slow
def test_engagement_computed_from_activities_is_never_warned_of_as_missing(
    activities_export: tuple[Settings, Path],
) -> None:
    settings, _ = activities_export
    model = load_scoring_model(settings)

    computed = set(engagement_columns(model.mapping))
    assert computed  # the model reads engagement of its activities table ...
    assert model.always_given  # ... and export fields every training lead had
    assert not model.always_given & computed  # a lead without activities has none: no field it lacks


@pytest.mark.slow
def test_a_model_with_activities_needs_its_activities_file(
    activities_export: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, folder = activities_export
    export = tmp_path / "leads.parquet"
    pd.read_parquet(folder / "leads.parquet").head(50).to_parquet(export)

    with pytest.raises(DataContractError, match=r"activities\.parquet"):
        run_score(settings, export, _options(tmp_path / "scores.parquet"))  # no activities.parquet next to it
    assert _leftovers(tmp_path) == []


# --- accounts: the buying group in the batch output ---------------------------------------------------------------


def test_accounts_roll_the_leads_up_by_business_domain_chunk_for_chunk_as_all_at_once(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    from models.accounts import account_rollup, business_domain, engaged

    export = tmp_path / "leads.parquet"
    leads.to_parquet(export, index=False)

    summary = run_score(
        registry,
        export,
        _options(tmp_path / "chunked.parquet", chunk_size=97, accounts=tmp_path / "chunked.accounts.parquet"),
    )
    run_score(registry, export, _options(tmp_path / "whole.csv", accounts=tmp_path / "whole.accounts.csv"))

    scores = _read(tmp_path / "chunked.parquet")
    accounts = scores["leadq_account"].astype(object).where(scores["leadq_account"].notna(), None)
    assert accounts.tolist() == [business_domain(email) for email in leads["email"]]  # freemail: none
    assert list(scores.columns) == [
        *output_columns("lead_id", 3)[:-3],
        "leadq_account",
        *output_columns("lead_id", 3)[-3:],
    ]
    expected = account_rollup(
        pd.DataFrame(
            {
                "lead_id": scores["lead_id"],
                "account": scores["leadq_account"],
                "probability": scores["leadq_probability"],
                "is_mql": scores["leadq_is_mql"],
                "engaged": engaged(scores["leadq_grade"].to_numpy(dtype=object)),
            }
        )
    )
    rollup = pd.read_parquet(tmp_path / "chunked.accounts.parquet")
    pd.testing.assert_frame_equal(rollup, expected, check_dtype=False)
    assert summary.accounts == len(expected) > 0
    whole = pd.read_csv(tmp_path / "whole.accounts.csv", keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(whole, rollup, check_dtype=False)


# --- --log: nightly scores in the scoring log, with each lead's trend ---------------------------------------------


class _OneSecond(datetime):
    """Every run in the same second (as on a fast machine): the log's whole seconds must not hide the last run."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _OneSecond:
        return cls(2026, 11, 26, 12, 0, 0, 500, tzinfo=tz)


def test_log_appends_the_runs_scores_and_gives_each_lead_its_trend(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.audit import read_scoring_log

    monkeypatch.setattr("pipelines.score.datetime", _OneSecond)

    url = f"sqlite:///{tmp_path / 'log' / 'scoring_log.db'}"
    settings = registry.model_copy(
        update={"serving": registry.serving.model_copy(update={"scoring_log_url": url, "scoring_log_spool": None})}
    )
    (tmp_path / "log").mkdir()
    export = tmp_path / "leads.parquet"
    leads.head(200).to_parquet(export, index=False)

    run_score(settings, export, _options(tmp_path / "first.parquet", log=True, chunk_size=64))
    run_score(settings, export, _options(tmp_path / "second.parquet", log=True))

    first, second = _read(tmp_path / "first.parquet"), _read(tmp_path / "second.parquet")
    assert set(first["leadq_trend"]) == {"new"}  # no earlier score in the window
    assert set(second["leadq_trend"]) == {"steady"}  # the same score again
    assert list(second.columns) == [
        *output_columns("lead_id", 3)[:-3],
        "leadq_trend",
        *output_columns("lead_id", 3)[-3:],
    ]
    logged = read_scoring_log(url, pd.Timestamp("2000-01-01"), pd.Timestamp("2100-01-01"), by="scored")
    assert len(logged) == 400  # every score of both runs, the spool drained when each run ended
    assert logged["lead_id"].value_counts().eq(2).all()
    assert logged["reasons"].iloc[0]["for"][0]["label"] == first["leadq_reason_1"].iloc[0]
    # each score's account as the service keeps and reads it (the business e-mail domain), never the address
    with sqlite3.connect(tmp_path / "log" / "scoring_log.db") as db:
        accounts = dict(db.execute("SELECT lead_id, account FROM scores").fetchall())
    head = leads.head(200)
    domains = {str(i): business_domain(e) for i, e in zip(head["lead_id"], head["email"], strict=True)}
    assert accounts == domains
    assert sum(domain is not None for domain in domains.values()) > 50  # business addresses among the leads
    # each lead's creation time as the export has it (naive: UTC), so the audit counts it in its creation quarter
    created = pd.to_datetime(head["created_at"]).dt.tz_localize(None)
    by_quarter = read_scoring_log(url, created.min(), created.max() + pd.Timedelta(seconds=1), by="lead")
    assert len(by_quarter) == 400
    clock = by_quarter.drop_duplicates("lead_id").set_index("lead_id")["clock_start"]
    expected = pd.Series(created.to_numpy(), index=head["lead_id"].astype(str))
    assert (clock.reindex(expected.index) == expected).all()
    with pytest.raises(ValueError, match="not with --no-reasons"):
        run_score(settings, export, _options(tmp_path / "third.parquet", log=True, reasons=False))


# --- an export without ids: the leads are their rows -----------------------------------------------------------------


def test_an_export_without_ids_is_scored_under_its_row_numbers_across_chunks(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    with_ids = tmp_path / "with_ids.csv"
    leads.head(50).to_csv(with_ids, index=False)
    run_score(registry, with_ids, _options(tmp_path / "by_id.csv"))
    without_ids = tmp_path / "without_ids.csv"
    unreadable = leads.head(50).drop(columns="lead_id").astype({"company_size": object})
    unreadable.loc[7, "company_size"] = "a few"  # row 8: rejected under its row number
    unreadable.to_csv(without_ids, index=False)
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(_row_numbered(demo_mapping_text()), encoding="utf-8")

    summary = run_score(registry, without_ids, _options(tmp_path / "by_row.csv", chunk_size=16, mapping=mapping))

    by_row, by_id = _read(tmp_path / "by_row.csv"), _read(tmp_path / "by_id.csv")
    assert summary.scored == 49
    assert by_row.columns[0] == "leadq_row"
    assert by_row["leadq_row"].astype(str).tolist() == [str(row) for row in range(1, 51) if row != 8]
    kept = by_id.drop(index=7).reset_index(drop=True)  # the same leads score the same under either id
    columns = ["leadq_probability", "leadq_score", "leadq_grade", "leadq_reason_1"]
    pd.testing.assert_frame_equal(by_row[columns], kept[columns])
    rejects = pd.read_csv(tmp_path / "by_row.rejects.csv", dtype=str)
    assert rejects[["row", "leadq_row", "field"]].values.tolist() == [["8", "8", "company_size"]]
    with pytest.raises(ValueError, match="not with lead_ids: row_number"):  # row 17 tonight is not last night's
        run_score(registry, without_ids, _options(tmp_path / "logged.csv", mapping=mapping, log=True))
    assert not (tmp_path / "logged.csv").exists()


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])  # read in chunks; read whole (not UTF-8)
@pytest.mark.parametrize("chunk_size", [1, 3, 100])
def test_row_numbers_count_the_files_blank_rows_so_scores_join_back_to_their_rows(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, chunk_size: int, encoding: str
) -> None:
    # a sheet kept by hand: an empty row (a line of separators) and an empty line between leads; scores are joined
    # back to it by row number, so a left-out blank row must still count
    rows = leads.head(12).drop(columns="lead_id").astype({"company_size": object})
    rows.loc[9, "company_size"] = "a few"  # rejected under its row number
    lines = rows.to_csv(index=False).splitlines()
    blank_fields = "," * (len(rows.columns) - 1)
    text = "\n".join([*lines[:4], blank_fields, *lines[4:8], "", *lines[8:]]) + "\n"
    export = tmp_path / "tracker.csv"
    export.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(_row_numbered(demo_mapping_text()), encoding="utf-8")

    summary = run_score(registry, export, _options(tmp_path / "by_row.csv", chunk_size=chunk_size, mapping=mapping))

    # file rows after the header: leads 0-2 are rows 1-3, the blank row 4, leads 3-6 rows 5-8, the empty line 9,
    # leads 7-11 rows 10-14
    file_rows = [1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 14]
    by_row = _read(tmp_path / "by_row.csv")
    assert summary.scored == 11
    assert by_row["leadq_row"].astype(int).tolist() == [row for lead, row in enumerate(file_rows) if lead != 9]
    rejects = pd.read_csv(tmp_path / "by_row.rejects.csv", dtype=str)
    assert rejects[["row", "leadq_row", "field"]].values.tolist() == [["12", "12", "company_size"]]


@pytest.mark.parametrize("chunk_size", [1, 2, 100])
def test_a_value_in_a_field_the_header_does_not_name_marks_its_row_in_any_chunk(
    tmp_path: Path, chunk_size: int
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Id,Company,Visits\nL1,Acme,3,\nL2,Beta,5,\nL3,Gamma,1,Inc.\n", encoding="utf-8")
    reader = open_export(path)

    read = pd.concat(list(reader.chunks(reader.header, chunk_size)))
    with pytest.raises(DataContractError) as training:
        read_export(path)

    assert read["Id"].tolist() == ["L1", "L2", "L3"]
    assert read[LONG_ROW].fillna("").tolist() == ["", "", "4"]  # its fields: the scorer rejects that row alone
    assert "and data row 3 holds a value in a field the header does not name" in str(training.value)


@pytest.mark.parametrize("chunk_size", [1, 2, 100])
@pytest.mark.parametrize("padding", [1, SPARE_FIELDS + 1])
def test_rows_padded_with_empty_fields_past_the_header_read_as_training_reads_them(
    tmp_path: Path, chunk_size: int, padding: int
) -> None:
    # Excel pads every row to its widest: pandas took the rows' first fields for an index
    rows = "".join(f"L{i},Acme {i},{i}{',' * padding}\n" for i in range(5))
    path = tmp_path / "leads.csv"
    path.write_text(f"Id,Company,Visits\n{rows}", encoding="utf-8")
    reader = open_export(path)

    read = pd.concat(list(reader.chunks(reader.header, chunk_size)))

    assert read.fillna("").to_numpy().tolist() == read_export(path).frame.fillna("").to_numpy().tolist()
    assert list(read.columns) == ["Id", "Company", "Visits"]


@pytest.mark.parametrize("chunk_size", [1, 100])
def test_a_first_row_far_longer_than_the_header_is_marked_not_misread(tmp_path: Path, chunk_size: int) -> None:
    long_row = "L1,Acme,3," + ",".join(["x"] * (SPARE_FIELDS + 2))
    path = tmp_path / "leads.csv"
    path.write_text(f"Id,Company,Visits\n{long_row}\nL2,Beta,5\nL3,Gamma,1\n", encoding="utf-8")
    reader = open_export(path)

    read = pd.concat(list(reader.chunks(reader.header, chunk_size)))

    assert read["Id"].tolist() == ["L1", "L2", "L3"]
    assert read[LONG_ROW].fillna("").tolist() == [str(3 + SPARE_FIELDS + 2), "", ""]


@pytest.mark.parametrize("chunk_size", [4, 100])
def test_a_quote_never_closed_that_swallows_leads_refuses_the_scoring_as_training(
    tmp_path: Path, chunk_size: int
) -> None:
    rows = [f"L{i},Acme,{i},Call back" for i in range(20)]
    rows[5] = 'L5,Acme,5,"Said ""maybe, next week'  # rows 7 to 16 become this note's text
    rows[15] = 'L15,Acme,15,"Demo booked"'
    path = tmp_path / "leads.csv"
    path.write_text("Lead ID,Company,Visits,Notes\n" + "\n".join(rows) + "\n", encoding="utf-8")
    reader = open_export(path)

    with pytest.raises(DataContractError) as scoring:
        list(reader.chunks(reader.header, chunk_size))
    with pytest.raises(DataContractError) as training:
        read_export(path)

    assert "the value of 'Notes' in data row 6 holds" in str(scoring.value)
    assert str(scoring.value) == str(training.value)


def _row_numbered(mapping: str) -> str:
    """The demo mapping for one file without ids: rows as ids, the outcome a column (tables join by id)."""
    single_table = mapping[mapping.index("rare_category_share:") :]
    outcome = '  converted: {role: outcome, won: ["1"], lost: ["0"]}\n'
    return "lead_ids: row_number\n" + single_table.replace("  lead_id: id\n", "") + outcome


@pytest.mark.parametrize("chunk_size", [4, 100])
def test_rows_the_mapping_excludes_are_no_leads_in_any_chunk(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path, chunk_size: int
) -> None:
    # Pipedrive's deleted deals (fuzz29: 440 "Gelöscht" rows scored, 67 of them as MQLs): left out, their rows counted
    rows = leads.head(30).drop(columns="lead_id").assign(converted=["1", "0", " deleted "] * 10)
    path = tmp_path / "deals.csv"
    rows.to_csv(path, index=False)
    mapping = tmp_path / "mapping.yml"
    excluding = _row_numbered(demo_mapping_text()).replace('lost: ["0"]}', 'lost: ["0"], excluded: [Deleted]}')
    mapping.write_text(excluding, encoding="utf-8")

    summary = run_score(registry, path, _options(tmp_path / "scores.csv", chunk_size=chunk_size, mapping=mapping))

    assert (summary.scored, summary.rejected_rows) == (20, 0)
    assert summary.notes[-1] == (
        "deals.csv: 10 row(s) whose outcome the mapping lists under excluded (no leads) left out"
    )
    scored_rows = _read(tmp_path / "scores.csv")["leadq_row"].astype(int).tolist()
    assert scored_rows == [row for row in range(1, 31) if row % 3]  # file rows after the header, as numbered


def test_a_reports_footer_and_its_group_totals_are_both_said_once_when_read_twice(tmp_path: Path) -> None:
    # a file name holding digits, as CRMs name exports: the totals note must not take the footer note's place
    path = tmp_path / "deals-20261127.csv"
    lines = ["Leads by owner", "", "Id,Company,Visits", "L1,Acme,3", "Subtotal,,3", "L2,Beta,5", "L3,Gamma,1"]
    lines += ["Grand Totals,,9", '""']
    path.write_text("\n".join([*lines, '"Confidential Information - Do Not Distribute"']) + "\n", encoding="utf-8")
    reader = open_export(path)

    for _ in range(2):  # --since and --log read the file twice
        read = pd.concat(list(reader.chunks(reader.header, 2)))

    assert read["Id"].tolist() == ["L1", "L2", "L3"]
    assert sorted(reader.notes) == sorted(
        [title_note(path.name, 2), footer_note(path.name, 3), totals_note(path.name, 1)]
    )


REPORTS = {
    "footer after a blank line": 'Id,Company,Visits\nL1,Acme,3\nL2,Beta,5\n\n"Leads report"\n"Copyright (c) x"\n',
    "totals straddling chunks": "Id,Company,Visits\nL1,Acme,3\nL2,Beta,5\nL3,Gamma,1\nL4,Dx,2\nSum,,11\nAverage,,3\n",
    "totals in another column": "Owner,Company,Amount\nEva,Acme,3\nMax,Beta,4\n,Total,7\n",
    "a lead blank in the first columns": "Name,Company,Visits,Notes\nAnn,Acme,3,\n,,,called\nBo,Beta,1,\n",
    "a last lead named Sum": "Last,First,Visits\nLee,Ann,2\nSum,Kit,2\n",
    "blank lines only at the end": "Id,Company\r\nL1,Acme\r\n\r\n,\r\n",
    "first-column leads": "Id,Company\nL1,Acme\nL2,\nL3,\nL4,\n",
    "a separator ending every row but the header": "Id,Company,Visits\nL1,Acme,3,\nL2,Beta,5,\n\nL3,Gamma,1,\n",
}


@pytest.mark.parametrize("report", sorted(REPORTS))
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 100])
def test_a_report_read_in_chunks_has_the_training_readers_leads(tmp_path: Path, report: str, chunk_size: int) -> None:
    path = tmp_path / "report.csv"
    path.write_text(REPORTS[report], encoding="utf-8")
    export = read_export(path)
    reader = open_export(path)

    chunks = list(reader.chunks(reader.header, chunk_size))

    read = pd.concat(chunks) if chunks else pd.DataFrame(columns=reader.header)
    assert read.fillna("").to_numpy().tolist() == export.frame.fillna("").to_numpy().tolist()
    assert reader.notes == [note for note in export.warnings if "report footer" in note]


def test_a_row_with_more_fields_than_the_header_is_rejected_and_the_rest_scored(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    # an unquoted comma in a value shifts the rest of its row: scored, its values would be read in the wrong fields
    lines = leads.head(30).to_csv(index=False, lineterminator="\n").splitlines()
    lines[25] += ",Inc."
    lines.insert(12, "")  # a blank line is no lead, before or after a long row
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    leads.head(30).drop(index=24).to_csv(tmp_path / "good.csv", index=False)

    summary = run_score(registry, path, _options(tmp_path / "scores.csv", chunk_size=8))
    run_score(registry, tmp_path / "good.csv", _options(tmp_path / "good_scores.csv", chunk_size=8))
    with pytest.raises(DataContractError) as training:
        read_export(path)

    assert (summary.scored, summary.rejected_rows) == (29, 1)
    rejects = pd.read_csv(tmp_path / "scores.rejects.csv", dtype=str, keep_default_na=False)
    assert rejects.values.tolist() == [
        [
            "26",  # the file's row: the blank line before it counts (a sheet shows it as a row)
            "",
            WHOLE_ROW,
            f"{len(leads.columns) + 1} fields where the header names {len(leads.columns)}: a separator inside a "
            "value that is not in quotes shifts every value after it, so none is read; export again with values "
            "in quotes (or, where every row has them, add the missing column name to the header)",
        ]
    ]
    pd.testing.assert_frame_equal(
        _without_time(_read(tmp_path / "scores.csv")), _without_time(_read(tmp_path / "good_scores.csv"))
    )
    assert "1 row(s) have more fields than the header's" in str(training.value)  # training refuses the file


def test_a_long_row_refuses_an_export_numbered_by_its_rows(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    lines = leads.head(30).drop(columns="lead_id").to_csv(index=False, lineterminator="\n").splitlines()
    lines[20] += ",Inc."
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(_row_numbered(demo_mapping_text()), encoding="utf-8")

    with pytest.raises(DataContractError, match=r"data row 20 has more fields than the header .* row_number"):
        run_score(registry, path, _options(tmp_path / "scores.csv", chunk_size=8, mapping=mapping))
    assert not (tmp_path / "scores.csv").exists()


def test_a_row_with_far_more_fields_than_the_header_refuses_the_file(
    registry: Settings, leads: pd.DataFrame, tmp_path: Path
) -> None:
    lines = leads.head(30).to_csv(index=False, lineterminator="\n").splitlines()
    lines[5] += "," * (SPARE_FIELDS + 1)  # a line of another table, or another separator: not one bad value
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(DataContractError, match=r"1 row\(s\) have more fields than the header's .*\(data row 5\)"):
        run_score(registry, path, _options(tmp_path / "scores.csv", chunk_size=8))
    assert not (tmp_path / "scores.csv").exists()


def test_the_log_keeps_no_account_for_leads_of_an_export_without_e_mail_or_account(
    registry: Settings, leads: pd.DataFrame
) -> None:
    # Olist's MQLs: neither an e-mail nor an account column; `leadq score --log` crashed on them
    model = load_scoring_model(registry)
    without = dataclasses.replace(model, roles={k: v for k, v in model.roles.items() if v != "email"})
    chunk = leads.head(5).astype(object)
    ids = chunk["lead_id"].to_numpy(dtype=object)

    assert logged_accounts(chunk, without, ids, by_account_id=False).tolist() == [None] * 5
    assert logged_accounts(chunk, without, ids, by_account_id=True).tolist() == [None] * 5


def test_rows_filling_only_their_first_cell_go_on_chunk_by_chunk() -> None:
    # an e-mail list with its optional fields empty after a few full rows: nothing held back but what may be a footer
    rows = [f"L{n},Acme,{n}" for n in range(100)] + [f"M{n},," for n in range(20_000)]
    text = "Id,Company,Visits\n" + "\n".join(rows) + "\n\nConfidential Information\n"
    frames = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False, chunksize=1_000)
    notes: list[str] = []

    sizes = [len(frame) for frame in report_leads(frames, notes, "list.csv")]

    assert sum(sizes) == 20_100
    assert max(sizes) <= 2_000  # at most a chunk and what it held back
    assert notes == [footer_note("list.csv", 2)]
