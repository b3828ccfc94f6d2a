"""The training pipeline end to end, one road for every export: the synthetic CRM through its shipped mapping, and
a messy single-table export through its own; frames in, evaluated scorer out; files in, registered MLflow model
out. Real LightGBM, real MLflow."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models.audit import population_stability
from models.contract import DataContractError
from models.features import InputColumn, LeadFeatures, feature_spec_of
from models.mlflow_model import as_model_input
from models.pipeline import input_fields
from models.threshold import ThresholdPolicy
from pipelines.crm_export.leakage import LeakageError
from pipelines.crm_export.mapping import ExportMapping, MappingError
from pipelines.demo.synthetic import generate_crm, write_crm
from pipelines.settings import Settings
from pipelines.training import (
    MAPPING_ARTIFACT,
    PREPARATION_ARTIFACT,
    _input_example,
    created_at_day_first,
    redact_pii,
    run_training,
    train_scorer,
)
from serving.pii import MARKER
from tests.builders import demo_mapping, settings_with_store, synthetic_export, write_messy_export

# --- the synthetic CRM through its shipped mapping (the `trained` fixture) ------------------------------------


def test_outcome_is_evaluated_out_of_time(trained, synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    created = synthetic_crm.leads.set_index("lead_id")["created_at"]
    split = trained.split

    assert (split.kind, split.by_quarters) == ("out_of_time", True)
    assert created.loc[split.train].max() < created.loc[split.calibration].min()
    assert created.loc[split.calibration].max() < created.loc[split.test].min()
    assert trained.metrics["n_test"] == len(split.test) > 500
    assert "the most recent quarters whose labels are final (180-day horizon)" in split.reason


def test_metrics_cover_model_baselines_and_decision(trained) -> None:  # type: ignore[no-untyped-def]
    metrics = trained.metrics
    for prefix in ("test", "logreg_test"):
        for name in ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top10", "capture_top20"):
            assert np.isfinite(metrics[f"{prefix}_{name}"]), f"{prefix}_{name}"
    for name in ("roc_auc", "pr_auc", "lift_top10", "capture_top20"):  # a points rule ranks, it has no probability
        assert np.isfinite(metrics[f"rules_test_{name}"]), f"rules_test_{name}"
    for prefix in ("test_mql", "rules_test_mql"):
        for name in ("mql_count", "mql_per_month", "precision", "recall"):
            assert np.isfinite(metrics[f"{prefix}_{name}"]), f"{prefix}_{name}"
    assert all(isinstance(value, float) for value in metrics.values())
    scored = {"lead_id", "converted", "model", "is_mql", "logistic_regression", "points_rule", "points_rule_is_mql"}
    assert set(trained.test_scores.columns) == scored


def test_model_ranks_and_calibrates_better_than_the_baselines(trained) -> None:  # type: ignore[no-untyped-def]
    metrics = trained.metrics

    assert metrics["test_roc_auc"] > 0.75
    assert metrics["test_roc_auc"] > metrics["rules_test_roc_auc"]
    assert metrics["test_ece"] < 0.03
    assert abs(metrics["test_mean_probability"] - metrics["test_conversion_rate"]) < 0.02


def test_the_mappings_points_rule_is_the_baseline(trained) -> None:  # type: ignore[no-untyped-def]
    assert trained.points_rule == demo_mapping().points_rule
    assert trained.points_rule is not None
    assert trained.metrics["rules_test_mql_mql_count"] == (trained.test_scores["points_rule"] >= 60).sum()


def test_monotone_constraints_of_the_mapping_reach_lightgbm(trained) -> None:  # type: ignore[no-untyped-def]
    names = feature_spec_of(trained.scorer.pipeline).names
    vector = trained.scorer.pipeline[-1].get_params()["monotone_constraints"]

    assert {name: sign for name, sign in zip(names, vector, strict=True) if sign} == {
        "demo_requested": 1,
        "pricing_page_visits": 1,
        "content_downloads": 1,
        "email_is_freemail": -1,
        "newsletter_unsubscribed": -1,
    }


def test_the_calibration_leads_choose_the_tree_size(trained) -> None:  # type: ignore[no-untyped-def]
    losses = trained.scorer.metadata["num_leaves_calibration_logloss"]
    chosen = trained.scorer.metadata["booster_params"]["num_leaves"]

    assert {"2", "3", "7"} <= set(losses)  # fewer leaves tried beside the scaled number
    assert losses[str(chosen)] == min(losses.values())
    assert trained.scorer.pipeline[-1].get_params()["num_leaves"] == chosen  # the shipped refit keeps it


def test_a_configured_tree_size_is_kept(synthetic_crm, fast_settings) -> None:  # type: ignore[no-untyped-def]
    settings = fast_settings.model_copy(update={"model": fast_settings.model.model_copy(update={"num_leaves": 5})})

    outcome = train_scorer(synthetic_export(synthetic_crm), settings)

    assert outcome.scorer.metadata["booster_params"]["num_leaves"] == 5
    assert list(outcome.scorer.metadata["num_leaves_calibration_logloss"]) == ["5"]


def test_threshold_is_chosen_by_the_configured_policy(trained) -> None:  # type: ignore[no-untyped-def]
    threshold = trained.scorer.threshold

    assert threshold.policy == "capacity"
    assert threshold.expected_mqls_per_month == pytest.approx(60, rel=0.1)
    assert trained.metrics["threshold"] == threshold.threshold


def test_label_summary_and_preparation_count_the_leads(trained, synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    summary, labels = trained.label_summary, trained.preparation["labels"]

    assert summary["won"] + summary["lost"] + summary["unlabelled"] == len(synthetic_crm.leads)
    assert summary["unlabelled"] > 0  # open and recycled leads are censored
    assert labels["by_reason"]["recycled_wrong_timing"] > 0
    assert labels["source"] == "dispositions and deals tables"
    assert trained.metrics["n_train"] + trained.metrics["n_calibration"] + trained.metrics["n_test"] <= (
        summary["won"] + summary["lost"]
    )
    assert trained.preparation["split"]["kind"] == "out_of_time"
    json.dumps(trained.preparation, allow_nan=False)  # plain JSON for mlflow.log_dict


def test_input_example_is_redacted(trained) -> None:  # type: ignore[no-untyped-def]
    emails = trained.input_example["email"].dropna()

    assert list(trained.input_example.columns) == list(input_fields(trained.scorer.pipeline))
    assert len(emails) > 0
    assert emails.str.startswith("redacted@").all()


def test_the_input_example_keeps_no_notes_and_no_personal_categories() -> None:
    columns = (
        InputColumn("Notes", "text", "notes"),
        InputColumn("Industry", "categorical", "industry"),
        InputColumn("Email", "email", "email"),
    )
    leads = pd.DataFrame(
        {
            "Notes": ["Rückruf bei Frau Böhm, Tel. 0171 5556667", None],
            "Industry": ["Tel. 030/1234567", "Retail"],
            "Email": ["anna.boehm@firm.de", None],
        }
    )
    example = _input_example(leads, LeadFeatures(columns).fit(leads))

    assert example["Notes"].tolist() == ["x" * len(leads["Notes"][0]), None]  # its length is all the model reads
    assert example["Industry"].tolist() == [MARKER, "Retail"]
    assert example["Email"].tolist() == ["redacted@firm.de", None]


def test_the_input_example_judges_a_multi_select_cell_option_by_option() -> None:
    options = (("Payroll", "payroll"), ("Time Tracking", "time_tracking"))
    interests = InputColumn("Interested in", "multi_select", "interested_in", options=options, separator=",")
    cells = ["Payroll, Time Tracking", "Payroll,anna.boehm@firm.de", "Payroll,Anna Böhm", None]
    leads = pd.DataFrame({"Interested in": cells})

    example = _input_example(leads, LeadFeatures((interests,)).fit(leads))

    # the options the mapping lists are kept ("Payroll, Time Tracking" as a whole reads as "Surname, First name");
    # an item no option matches is judged alone
    assert example["Interested in"].tolist() == ["Payroll, Time Tracking", MARKER, MARKER, None]


def test_redact_pii_keeps_domains_and_missing_values() -> None:
    leads = pd.DataFrame({"E-Mail": ["jane.doe@acme.de", None], "Name": ["Jane", "Max"]})

    redacted = redact_pii(leads, ["E-Mail"])

    assert redacted["E-Mail"].iloc[0] == "redacted@acme.de"
    assert pd.isna(redacted["E-Mail"].iloc[1])
    assert leads["E-Mail"].iloc[0] == "jane.doe@acme.de"


@pytest.mark.slow
def test_training_is_reproducible(trained, synthetic_crm, fast_settings) -> None:  # type: ignore[no-untyped-def]
    again = train_scorer(synthetic_export(synthetic_crm), fast_settings)

    assert again.metrics == trained.metrics


def test_one_class_export_is_refused(synthetic_crm, fast_settings) -> None:  # type: ignore[no-untyped-def]
    deals = synthetic_crm.deals.assign(outcome=synthetic_crm.deals["outcome"].replace("won", "lost"))
    lost_only = synthetic_export(dataclasses.replace(synthetic_crm, deals=deals))

    with pytest.raises(DataContractError, match="labelled leads are negative"):
        train_scorer(lost_only, fast_settings)


def test_the_drift_baseline_profiles_every_model_feature_and_the_score(trained, synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    reference = trained.scorer.reference

    assert set(reference["features"]) == set(feature_spec_of(trained.scorer.pipeline).names)
    assert reference["features"]["industry"]["kind"] == "categorical"
    assert reference["features"]["website_visits"]["kind"] == "numeric"
    # the shipped model learnt from every labelled lead (refit): they are its training leads
    split = trained.split
    labelled = synthetic_crm.leads.set_index("lead_id").loc[split.train.append([split.calibration, split.test])]
    features = trained.scorer.pipeline.named_steps["features"].transform(labelled)
    stability = population_stability(reference, features, trained.scorer.predict_proba(labelled)).set_index("feature")
    # the training leads against their own sample (10,000 of ~14,600): no drift; campaign's many small
    # categories (new ones every quarter) carry more sampling noise
    assert stability["psi"].drop("campaign").max() < 0.01
    assert stability.loc["campaign", "psi"] < 0.05


# --- files in, registered model out -------------------------------------------------------------------------


def _small_report(settings: Settings) -> Settings:
    explanations = settings.explanations.model_copy(update={"report_leads": 1_000, "report_sample": 200})
    return settings.model_copy(update={"explanations": explanations})


def _files_settings(fast_settings: Settings, folder: Path, paths: dict[str, Path]) -> Settings:
    return _small_report(settings_with_store(fast_settings, folder, export=paths["leads"], mapping=paths["mapping"]))


@pytest.mark.slow
def test_run_training_logs_registers_and_round_trips(synthetic_crm, fast_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = write_crm(synthetic_crm, tmp_path / "data", "csv")
    settings = _files_settings(fast_settings, tmp_path, paths)

    first = run_training(settings, force=True)  # champion whatever the publish gate says of 20k synthetic leads
    second = run_training(settings)

    client = mlflow.MlflowClient(first.registered.tracking_uri)
    name = settings.mlflow.registered_model
    assert (first.registered.version, first.registered.aliases) == ("1", ("champion",))
    assert (second.registered.version, second.registered.aliases) == ("2", ())  # a champion exists: it waits
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    assert second.registered.champion_version == "1"
    assert first.registered.gate is not None
    assert client.get_model_version(name, "1").tags["gate"] == ("passed" if first.registered.gate.passed else "failed")

    run = client.get_run(first.registered.run_id)
    assert run.data.params["labels.horizon_days"] == "180"
    assert run.data.params["data.sha256"] == first.outcome.fingerprint["sha256"]
    for metric in ("test_roc_auc", "logreg_test_roc_auc", "rules_test_roc_auc"):
        assert run.data.metrics[metric] == pytest.approx(first.outcome.metrics[metric])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert artifacts == {"plots/roc.png", "plots/calibration.png", "plots/gains.png"}
    preparation = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/{PREPARATION_ARTIFACT}")
    assert preparation["source"]["export"] == str(paths["leads"])
    assert preparation["split"]["kind"] == "out_of_time"
    assert preparation["tables"]["deals"]["rows_without_a_known_lead"] == 0
    mapping = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/{MAPPING_ARTIFACT}")
    assert "email_is_freemail: -1" in mapping["yaml"]
    report = client.download_artifacts(run.info.run_id, "reports/explanations.html", str(tmp_path / "download"))
    assert "What drives lead conversion" in Path(report).read_text(encoding="utf-8")
    assert first.report_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert first.report_path.name == "leadq-lead-conversion-v1.html"
    reference = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/reference_profile.json")
    assert reference == json.loads(json.dumps(first.outcome.scorer.reference))
    version = client.get_model_version(name, "1")
    assert version.tags["threshold_policy"] == "capacity"
    assert float(version.tags["threshold"]) == pytest.approx(first.outcome.scorer.threshold.threshold, abs=1e-6)

    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    fields = list(input_fields(first.outcome.scorer.pipeline))
    assert loaded.metadata.get_input_schema().input_names() == fields
    leads = synthetic_crm.leads.sample(300, random_state=3)
    predicted = loaded.predict(as_model_input(leads[fields]))
    expected = first.outcome.scorer.score(leads)
    np.testing.assert_allclose(predicted["probability"].to_numpy(), expected["probability"].to_numpy(), rtol=1e-9)
    assert predicted["is_mql"].tolist() == expected["is_mql"].tolist()
    assert predicted["grade"].tolist() == expected["grade"].tolist()
    german = loaded.predict(as_model_input(leads[fields].head(3)), params={"language": "de", "top_k": 1})
    assert all(len(reasons) <= 1 for reasons in german["reasons_for"])
    assert all(isinstance(reason["label"], str) for reasons in german["reasons_for"] for reason in reasons)
    assert loaded.input_example["email"].dropna().str.startswith("redacted@").all()


def test_a_missing_mapped_column_is_refused_by_name_and_leaves_mlflow_untouched(
    synthetic_crm, fast_settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    broken = dataclasses.replace(synthetic_crm, leads=synthetic_crm.leads.drop(columns="industry"))
    paths = write_crm(broken, tmp_path / "data", "parquet")

    with pytest.raises(MappingError, match=r"mapped column\(s\) not in the export: 'industry'"):
        run_training(_files_settings(fast_settings, tmp_path, paths))

    assert not (tmp_path / "mlflow.db").exists()
    assert not (tmp_path / "artifacts").exists()


def test_a_monotone_constraint_on_a_non_feature_is_refused_by_name(synthetic_crm, fast_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = write_crm(synthetic_crm, tmp_path / "data", "parquet")
    text = paths["mapping"].read_text(encoding="utf-8")
    paths["mapping"].write_text(text.replace("  demo_requested: 1\n", "  demo_request: 1\n", 1), encoding="utf-8")

    with pytest.raises(MappingError, match=r"monotone_constraints: 'demo_request' is not a feature of this mapping"):
        run_training(_files_settings(fast_settings, tmp_path, paths))

    assert not (tmp_path / "mlflow.db").exists()


def test_a_missing_file_is_named(fast_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nowhere" / "leads.csv"
    settings = settings_with_store(fast_settings, tmp_path, export=missing)

    with pytest.raises(DataContractError, match=f"{missing}: file not found"):
        run_training(settings)


# --- a messy single-table export through its own mapping ------------------------------------------------------


@pytest.fixture(scope="module")
def messy_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """12,000 synthetic leads, labelled, as one German CSV with a 0/1 outcome column, and its mapping."""
    return write_messy_export(tmp_path_factory.mktemp("messy"), generate_crm(12_000, seed=3))


def _messy_settings(fast_settings: Settings, folder: Path) -> Settings:
    return _small_report(settings_with_store(fast_settings, folder))


@pytest.mark.slow
def test_a_messy_export_trains_logs_and_registers_on_the_same_road(messy_files, fast_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    export, mapping = messy_files

    result = run_training(_messy_settings(fast_settings, tmp_path), export, mapping)

    outcome, registered = result.outcome, result.registered
    assert registered.version == "1"
    assert registered.gate is not None
    assert registered.aliases == (("champion",) if registered.gate.passed else ())  # the publish gate decides
    assert outcome.split.kind == "out_of_time"
    assert outcome.metrics["test_roc_auc"] > 0.7
    assert outcome.points_rule is None
    assert "rules_test_roc_auc" not in outcome.metrics  # no points rule in this mapping: no rule baseline
    assert outcome.preparation["labels"]["source"] == "outcome column"
    assert outcome.preparation["source"]["separator"] == ";"
    fields = input_fields(outcome.scorer.pipeline)
    assert "Lead Status" not in fields  # after_contact: never a model input
    assert {"Lead ID", "Created Date", "Converted"}.isdisjoint(fields)
    run = mlflow.MlflowClient(registered.tracking_uri).get_run(registered.run_id)
    preparation = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/{PREPARATION_ARTIFACT}")
    assert preparation["cleaning"]["No. of Employees"]["decimal_convention"] in ("comma", "none")
    assert preparation["columns"]["after_contact_dropped"] == ["Lead Status"]
    loaded = mlflow.pyfunc.load_model(f"models:/{registered.name}/1")
    raw = pd.read_csv(export, sep=";", dtype=str, keep_default_na=False).head(20)
    predicted = loaded.predict(raw[list(fields)])
    assert predicted["probability"].between(0, 1).all()
    assert loaded.input_example["Email"].dropna().str.startswith("redacted@").all()


@pytest.mark.slow
def test_raw_export_records_are_explained_in_the_exports_own_words(messy_files, fast_settings) -> None:  # type: ignore[no-untyped-def]
    from pipelines.crm_export.prepare import read_export_files

    outcome = train_scorer(read_export_files(*messy_files), fast_settings)
    record = {
        "Email": "anna@acme-logistik.de",
        "Job Title": "Leiterin Einkauf",
        "No. of Employees": "1.200",
        "Industry": "MANUFACTURING",
        "Lead Source": "webinar",
        "Website Visits": "7",
        "Demo Requested": "ja",
        "Description": "Bitte Rückruf",
    }

    explained = outcome.scorer.explain_records([record])[0]

    assert 0 < explained["probability"] < 1
    reasons = [*explained["reasons_for"], *explained["reasons_against"]]
    assert reasons
    assert not any("anna@" in reason["label"] for reason in reasons)
    shown = {reason["feature"]: reason["value"] for reason in reasons}
    assert shown.get("industry", "MANUFACTURING") == "MANUFACTURING"  # the CRM's spelling, not the model's
    assert explained["features"]["job_title_seniority"] == "director"


def test_a_leaking_column_stops_training_and_leaves_mlflow_untouched(messy_files, fast_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    export, mapping = messy_files
    leaky = tmp_path / "leaky.yml"
    leaky.write_text(mapping.read_text().replace("Lead Status: after_contact", "Lead Status: categorical"))

    with pytest.raises(LeakageError, match="'Lead Status' alone predicts the outcome"):
        run_training(_messy_settings(fast_settings, tmp_path), export, leaky)

    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.slow
def test_without_dates_capacity_is_refused_and_precision_cross_validates(messy_files, fast_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pipelines.crm_export.prepare import read_export_files

    export, mapping = messy_files
    undated = tmp_path / "undated.yml"
    undated.write_text(mapping.read_text().replace("Created Date: created_at", "Created Date: ignore"))
    loaded = read_export_files(export, undated)

    capacity = fast_settings.model_copy(update={"threshold": ThresholdPolicy(policy="capacity", mqls_per_month=60)})
    with pytest.raises(ValueError, match=r"threshold\.policy:? capacity needs .*creation dates"):
        train_scorer(loaded, capacity)

    precision = fast_settings.model_copy(
        update={"threshold": ThresholdPolicy(policy="precision", target_precision=0.1)}
    )
    outcome = train_scorer(loaded, precision)
    assert outcome.split.kind == "random_stratified"
    assert "the mapping has no created_at column" in outcome.split.reason
    assert "cross-validated over 8 random stratified folds" in outcome.split.reason
    assert outcome.scorer.threshold.policy == "precision"
    # every labelled lead is tested once, by the fold model that did not learn from it
    scores, metrics = outcome.test_scores, outcome.metrics
    assert scores["lead_id"].is_unique
    assert len(scores) == metrics["n_test"] == metrics["refit_leads"] == metrics["labelled_leads"]
    assert metrics["labelled_conversions"] == scores["converted"].sum()  # the gate counts each lead once
    assert list(outcome.test_leads.index) == list(scores["lead_id"])
    assert metrics["test_roc_auc_fold_min"] <= metrics["test_roc_auc"] <= metrics["test_roc_auc_fold_max"] + 0.01
    assert metrics["test_conversions"] == scores["converted"].sum()
    assert outcome.scorer.metadata["evaluation_folds"] == 8
    for fold in outcome.split.folds:
        assert not set(fold.test) & (set(fold.train) | set(fold.calibration))
        held_out = scores.set_index("lead_id").loc[fold.test]
        evaluated_alone = roc_auc_score(held_out["converted"], held_out["model"])
        assert metrics["test_roc_auc_fold_min"] <= evaluated_alone <= metrics["test_roc_auc_fold_max"]


def test_the_creation_dates_order_is_kept_where_the_exports_values_told_it() -> None:
    mapping = ExportMapping.model_validate(
        {"columns": {"id": "id", "created": "created_at", "won": {"role": "outcome", "won": ["1"], "lost": ["0"]}}}
    )

    def order(dates: list[str]) -> bool | None:
        return created_at_day_first(pd.DataFrame({"created": dates}), mapping)

    assert order(["24/03/2026", "02/04/2026"]) is True  # 24 can only be a day
    assert order(["03/24/2026", "04/02/2026"]) is False
    assert order(["02/04/2026", "", "N/A"]) is None  # nothing tells it
    assert order(["2026-03-24"]) is None  # ISO: no order to learn


def test_a_champion_that_reads_an_option_the_new_mapping_took_out_is_named() -> None:
    from pipelines.crm_export.mapping import ExportMapping
    from pipelines.training import read_after_contact

    def mapping(options: list[str], status: str = "categorical") -> ExportMapping:
        tags = {"role": "multi_select", "options": options, "separator": ","}
        columns = {
            "Lead ID": "id",
            "Tags": tags,
            "Status": status,
            "Won": {"role": "outcome", "won": ["1"], "lost": ["0"]},
        }
        return ExportMapping.model_validate({"columns": columns})

    champion = mapping(["Webinar", "Customer"])

    assert read_after_contact(champion, mapping(["webinar"])) == ["Tags: Customer"]  # compared ignoring case
    assert read_after_contact(champion, mapping(["Webinar", "Customer", "Ebook"])) == []
    assert read_after_contact(champion, mapping(["Webinar"], "after_contact")) == ["Tags: Customer", "Status"]
