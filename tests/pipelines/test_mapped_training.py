"""``leadq train --data export.csv --mapping mapping.yml``: a messy, renamed CRM export to a registered model.

The export is built in code from the synthetic CRM: Salesforce-like column names, German number and date
formats, placeholders, mixed-case categories, a yes/no column in German, an e-mail, a 0/1 outcome, and a
status column sales filled in after contact. Real LightGBM, real MLflow registry.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from pipelines.mapped_training import run_mapped_training
from typer.testing import CliRunner

from models.contract import CRMTables, DataContractError
from models.labels import build_labels, resolve_as_of
from models.threshold import ThresholdPolicy
from pipelines.cli import app
from pipelines.crm_export.leakage import LeakageError
from pipelines.demo.synthetic import generate_crm
from tests.serving.conftest import registry_settings

MAPPING = """\
columns:
  Lead ID: id
  Created Date: created_at
  Email: pii
  No. of Employees: numeric
  Industry: categorical
  Lead Source: categorical
  Website Visits: numeric
  Demo Requested: boolean
  Description: text
  Lead Status: after_contact
  Converted: {role: outcome, won: ['1'], lost: ['0']}
"""


def _messy_export(n_leads: int = 12_000, seed: int = 3) -> pd.DataFrame:
    crm = generate_crm(n_leads, seed=seed)
    tables = CRMTables(crm.leads, crm.dispositions, crm.deals)
    labels = build_labels(tables, 180, resolve_as_of(tables)).set_index("lead_id")["label"].dropna()
    leads = crm.leads.set_index("lead_id").loc[labels.index].reset_index()
    y = labels.astype(int).to_numpy()
    rng = np.random.default_rng(seed)
    size = leads["company_size"]
    return pd.DataFrame(
        {
            "Lead ID": leads["lead_id"],
            "Created Date": leads["created_at"].dt.strftime("%d.%m.%Y"),
            "Email": leads["email"],
            "No. of Employees": [f"{v:,.0f}".replace(",", ".") if pd.notna(v) else "Select" for v in size],
            "Industry": leads["industry"].where(rng.random(len(leads)) > 0.5, leads["industry"].str.upper()),
            "Lead Source": leads["lead_source"],
            "Website Visits": leads["website_visits"],
            "Demo Requested": np.where(leads["demo_requested"], "ja", "nein"),
            "Description": np.where(rng.random(len(leads)) < 0.3, "Bitte Rückruf wegen Preisen", "N/A"),
            "Lead Status": np.where(y == 1, "Qualified", "Disqualified"),
            "Converted": y,
        }
    )


def write_messy_export(folder: Path, n_leads: int = 12_000) -> tuple[Path, Path]:
    """The messy export as a German CSV and its mapping, in ``folder``."""
    export, mapping = folder / "export.csv", folder / "mapping.yml"
    _messy_export(n_leads).to_csv(export, sep=";", index=False)
    mapping.write_text(MAPPING, encoding="utf-8")
    return export, mapping


@pytest.fixture(scope="module")
def export_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_messy_export(tmp_path_factory.mktemp("export"))


@pytest.mark.slow
def test_a_mapped_export_trains_logs_and_registers_like_the_synthetic_path(export_files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    export, mapping = export_files
    settings = registry_settings(tmp_path)

    result, prepared = run_mapped_training(settings, export, mapping)

    registered = result.registered
    assert (registered.version, registered.aliases) == ("1", ("champion",))
    assert prepared.split == "out_of_time"
    assert result.outcome.metrics["test_roc_auc"] > 0.7
    client = mlflow.MlflowClient(registered.tracking_uri)
    run = client.get_run(registered.run_id)
    preparation = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/data/preparation.json")
    assert preparation["cleaning"]["No. of Employees"]["decimal_convention"] in ("comma", "none")
    assert "Lead Status" not in result.outcome.scorer.pipeline.named_steps["features"].input_columns
    loaded = mlflow.pyfunc.load_model(f"models:/{registered.name}@champion")
    raw = pd.read_csv(export, sep=";", dtype=str).head(20)
    inputs = raw[list(result.outcome.scorer.pipeline.named_steps["features"].input_columns)]
    predicted = loaded.predict(inputs)
    assert predicted["probability"].between(0, 1).all()
    assert loaded.input_example["Email"].dropna().str.startswith("redacted@").all()


@pytest.mark.slow
def test_raw_export_records_are_explained_in_the_exports_own_words(export_files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    export, mapping = export_files
    result, _ = run_mapped_training(registry_settings(tmp_path), export, mapping)
    record = {
        "Email": "anna@acme-logistik.de",
        "No. of Employees": "1.200",
        "Industry": "Manufacturing",
        "Lead Source": "webinar",
        "Website Visits": "7",
        "Demo Requested": "ja",
        "Description": "Bitte Rückruf",
    }

    explained = result.outcome.scorer.explain_records([record])[0]

    assert 0 < explained["probability"] < 1
    labels = [reason["label"] for reason in [*explained["reasons_for"], *explained["reasons_against"]]]
    assert labels
    assert not any("anna@" in label for label in labels)


def test_a_leaking_column_stops_training_and_leaves_mlflow_untouched(export_files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    export, mapping = export_files
    leaky = tmp_path / "leaky.yml"
    leaky.write_text(mapping.read_text().replace("Lead Status: after_contact", "Lead Status: categorical"))
    settings = registry_settings(tmp_path)

    with pytest.raises(LeakageError, match="'Lead Status' alone predicts the outcome"):
        run_mapped_training(settings, export, leaky)

    assert not (tmp_path / "mlflow.db").exists()


def test_without_dates_capacity_is_refused_and_precision_trains(export_files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    export, mapping = export_files
    undated = tmp_path / "undated.yml"
    undated.write_text(mapping.read_text().replace("Created Date: created_at", "Created Date: ignore"))
    settings = registry_settings(tmp_path)

    with pytest.raises(DataContractError, match=r"threshold\.policy capacity needs the leads' creation dates"):
        run_mapped_training(settings, export, undated)

    precision = settings.model_copy(update={"threshold": ThresholdPolicy(policy="precision", target_precision=0.1)})
    result, prepared = run_mapped_training(precision, export, undated)
    assert prepared.split == "random_stratified"
    assert result.registered.version == "1"


def test_the_cli_trains_a_mapped_export_and_needs_both_options(export_files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    export, mapping = export_files
    registry_settings(tmp_path)  # writes tmp_path/mlflow.yml
    runner = CliRunner()

    alone = runner.invoke(app, ["train", "--config", str(tmp_path / "mlflow.yml"), "--data", str(export)])
    trained = runner.invoke(
        app, ["train", "--config", str(tmp_path / "mlflow.yml"), "--data", str(export), "--mapping", str(mapping)]
    )

    assert alone.exit_code == 2
    assert "--data and --mapping go together" in alone.output
    assert trained.exit_code == 0, trained.output
    assert "Split: out_of_time" in trained.output
    assert "Registered leadq-lead-conversion version 1 (alias 'champion')" in trained.output

    config = tmp_path / "mlflow.yml"
    deals_line = "  deals: data/deals.parquet\n"
    config.write_text(config.read_text().replace(deals_line, f"{deals_line}  export: {export}\n  mapping: {mapping}\n"))
    from_settings = runner.invoke(app, ["train", "--config", str(config)])
    assert from_settings.exit_code == 0, from_settings.output
    assert "version 2" in from_settings.output


@pytest.mark.slow
def test_a_three_table_export_is_labelled_by_dispositions_and_deals(tmp_path: Path) -> None:
    crm = generate_crm(12_000, seed=5)
    leads = crm.leads.rename(
        columns={
            "lead_id": "Id",
            "created_at": "CreatedDate",
            "company_size": "NumberOfEmployees",
            "industry": "Branche",
        }
    )
    leads[["Id", "CreatedDate", "NumberOfEmployees", "Branche", "website_visits", "demo_requested"]].to_csv(
        tmp_path / "leads.csv", index=False
    )
    crm.dispositions.to_csv(tmp_path / "dispositions.csv", index=False)
    crm.deals.to_csv(tmp_path / "deals.csv", index=False)
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(
        "tables: {dispositions: dispositions.csv, deals: deals.csv}\n"
        "columns:\n  Id: id\n  CreatedDate: created_at\n  NumberOfEmployees: numeric\n  Branche: categorical\n"
        "  website_visits: numeric\n  demo_requested: boolean\n",
        encoding="utf-8",
    )

    result, prepared = run_mapped_training(registry_settings(tmp_path), tmp_path / "leads.csv", mapping)

    assert prepared.report["labels"]["source"] == "dispositions and deals tables"
    assert prepared.y.isna().any()  # recycled and open leads are censored, as in the synthetic path
    assert prepared.split == "out_of_time"
    assert result.outcome.metrics["test_roc_auc"] > 0.65
    assert result.registered.version == "1"
