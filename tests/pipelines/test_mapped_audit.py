"""``leadq audit`` on a model trained on your own export: the audit's tables built through the mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pipelines.mapped_training import run_mapped_training

from pipelines.audit import run_audit
from pipelines.crm_export.mapping import ExportMapping
from pipelines.mapped_audit import channel_columns, mapped_export_tables
from serving.app import build_service
from tests.pipelines.test_mapped_training import MAPPING, _messy_export
from tests.serving.conftest import AUTH, KEYS, registry_settings


def test_channels_are_the_categorical_columns_named_like_them() -> None:
    mapping = ExportMapping.model_validate(
        {
            "columns": {
                "Lead ID": "id",
                "Converted": {"role": "outcome", "won": ["1"], "lost": ["0"]},
                "Lead Source": "categorical",
                "Kampagne": "categorical",
                "Source Notes": "text",
            }
        }
    )

    assert channel_columns(mapping) == {"lead_source": "Lead Source", "campaign": "Kampagne"}


def test_a_single_table_outcome_becomes_one_closed_deal_per_resolved_lead(tmp_path: Path) -> None:
    export = pd.DataFrame(
        {
            "Lead ID": ["A", "B", "C"],
            "Created": ["01.03.2026", "02.03.2026", "03.03.2026"],
            "Closed": ["15.04.2026", "N/A", "20.03.2026"],
            "Converted": ["1", "open", "0"],
            "Lead Source": ["Web", "Partner", "Web"],
        }
    )
    export.to_csv(tmp_path / "export.csv", index=False)
    (tmp_path / "mapping.yml").write_text(
        "columns:\n  Lead ID: id\n  Created: created_at\n  Closed: outcome_at\n  Lead Source: categorical\n"
        "  Converted: {role: outcome, won: ['1'], lost: ['0']}\n"
    )

    export = mapped_export_tables(tmp_path / "export.csv", tmp_path / "mapping.yml")
    tables = export.tables

    assert not export.has_contact_times
    assert not export.deals_are_opportunities  # made from the outcome column
    assert tables.leads["lead_source"].tolist() == ["Web", "Partner", "Web"]
    assert tables.deals[["lead_id", "outcome"]].values.tolist() == [["A", "won"], ["C", "lost"]]
    assert tables.deals["closed_at"].tolist() == [pd.Timestamp("2026-04-15"), pd.Timestamp("2026-03-20")]
    assert tables.dispositions.empty  # the "open" lead has no deal: it stays open


def test_a_stage_column_becomes_one_undated_disposition_per_lead(tmp_path: Path) -> None:
    export = pd.DataFrame(
        {
            "Lead ID": ["A", "B", "C", "D"],
            "Created": ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"],
            "Status": ["Qualified", "Disqualified", "Working", "Brand new"],
            "Why": ["", "Too small", "", ""],
            "Converted": ["1", "0", "0", "open"],
        }
    )
    export.to_csv(tmp_path / "export.csv", index=False)
    (tmp_path / "mapping.yml").write_text(
        "columns:\n  Lead ID: id\n  Created: created_at\n  Converted: {role: outcome, won: ['1'], lost: ['0']}\n"
        "  Status: {role: stage, values: {Qualified: sql, Disqualified: rejected, Working: sal}}\n"
        "  Why: {role: reason, values: {Too small: wrong_size}}\n"
    )

    export = mapped_export_tables(tmp_path / "export.csv", tmp_path / "mapping.yml")
    tables = export.tables

    assert not export.has_contact_times  # stages, but no time of the sales contact
    rows = tables.dispositions[["lead_id", "stage", "reason"]].astype(object).where(tables.dispositions.notna(), None)
    assert rows.values.tolist() == [["A", "sql", None], ["B", "rejected", "wrong_size"], ["C", "sal", None]]
    assert tables.dispositions["timestamp"].tolist() == [pd.Timestamp(f"2026-03-0{day}") for day in (1, 2, 3)]


@pytest.mark.slow
def test_a_quarter_served_by_a_mapped_model_is_audited(tmp_path: Path) -> None:
    export = _messy_export(12_000)
    created = pd.to_datetime(export["Created Date"], format="%d.%m.%Y")
    export[created < "2025-10-01"].to_csv(tmp_path / "history.csv", sep=";", index=False)
    export.to_csv(tmp_path / "export.csv", sep=";", index=False)
    (tmp_path / "mapping.yml").write_text(MAPPING, encoding="utf-8")
    settings = registry_settings(tmp_path)
    run_mapped_training(settings, tmp_path / "history.csv", tmp_path / "mapping.yml")
    quarter = export[(created >= "2025-10-01") & (created < "2026-01-01")]
    requests = json.loads(quarter.drop(columns=["Converted", "Lead Status"]).to_json(orient="records"))
    for request, day in zip(requests, created[quarter.index], strict=True):
        request["lead_id"] = request.pop("Lead ID")
        request["created_at"] = day.isoformat()
    with TestClient(build_service(settings, KEYS)) as client:
        for start in range(0, len(requests), 500):
            response = client.post("/v1/leads/score-batch", json={"leads": requests[start : start + 500]}, headers=AUTH)
            assert response.status_code == 200, response.text
    audited = settings.model_copy(
        update={
            "data": settings.data.model_copy(
                update={"export": tmp_path / "export.csv", "mapping": tmp_path / "mapping.yml"}
            )
        }
    )

    result = run_audit(audited, "2025Q4")

    figures = result.figures
    assert figures["leads"]["scored"] == len(quarter)
    assert figures["leads"]["open"] == 0  # the outcome column resolves every lead
    assert figures["discrimination"]["roc_auc"] > 0.6
    assert {row["feature"] for row in figures["drift"]} >= {"no_of_employees", "industry", "score"}
    sources = {row["segment"] for row in figures["funnel_by_source"]}
    assert sources == set(quarter["Lead Source"].unique())
    assert figures["funnel_overall"][0]["sal_rate"] is None  # no dispositions in a single-table export
    assert result.html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
