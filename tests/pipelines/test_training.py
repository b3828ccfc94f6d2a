"""The training pipeline end to end: frames in, evaluated scorer out; files in, registered MLflow model out."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from models.audit import population_stability
from models.contract import CRMTables, DataContractError, as_scoring_frame
from models.features import MODEL_FEATURES
from pipelines.demo.synthetic import write_crm
from pipelines.settings import Settings
from pipelines.training import redact_pii, run_training, train_scorer


def test_outcome_is_evaluated_out_of_time(trained, synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    created = synthetic_crm.leads.set_index("lead_id")["created_at"]
    split = trained.split

    assert created.loc[split.train].max() < created.loc[split.calibration].min()
    assert created.loc[split.calibration].max() < created.loc[split.test].min()
    assert trained.metrics["n_test"] == len(split.test) > 500


def test_metrics_cover_model_baselines_and_decision(trained) -> None:  # type: ignore[no-untyped-def]
    metrics = trained.metrics
    for prefix in ("test", "logreg_test"):
        for name in ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top10", "capture_top20"):
            assert np.isfinite(metrics[f"{prefix}_{name}"]), f"{prefix}_{name}"
    for prefix in ("test_mql", "rules_test_mql"):
        for name in ("mql_count", "mql_per_month", "precision", "recall"):
            assert np.isfinite(metrics[f"{prefix}_{name}"]), f"{prefix}_{name}"
    assert all(isinstance(value, float) for value in metrics.values())


def test_model_ranks_and_calibrates_better_than_the_baselines(trained) -> None:  # type: ignore[no-untyped-def]
    metrics = trained.metrics

    assert metrics["test_roc_auc"] > 0.75
    assert metrics["test_roc_auc"] > metrics["rules_test_roc_auc"]
    assert metrics["test_ece"] < 0.03
    assert abs(metrics["test_mean_probability"] - metrics["test_conversion_rate"]) < 0.02


def test_threshold_is_chosen_by_the_configured_policy(trained) -> None:  # type: ignore[no-untyped-def]
    threshold = trained.scorer.threshold

    assert threshold.policy == "capacity"
    assert threshold.expected_mqls_per_month == pytest.approx(60, rel=0.1)
    assert trained.metrics["threshold"] == threshold.threshold


def test_label_summary_counts_censored_leads(trained) -> None:  # type: ignore[no-untyped-def]
    summary = trained.label_summary

    assert summary["status_censored"] > 0
    assert summary["reason_recycled_wrong_timing"] > 0
    assert (
        summary["n_train"] + summary["n_calibration"] + summary["n_test"]
        <= summary["status_positive"] + summary["status_negative"]
    )


def test_input_example_is_redacted(trained) -> None:  # type: ignore[no-untyped-def]
    emails = trained.input_example["email"].dropna()

    assert len(emails) > 0
    assert emails.str.startswith("redacted@").all()


def test_redact_pii_keeps_domains_and_missing_values() -> None:
    leads = pd.DataFrame({"email": ["jane.doe@acme.de", None]})

    redacted = redact_pii(leads)

    assert redacted["email"].iloc[0] == "redacted@acme.de"
    assert pd.isna(redacted["email"].iloc[1])
    assert leads["email"].iloc[0] == "jane.doe@acme.de"


def test_training_is_reproducible(trained, synthetic_crm, fast_settings) -> None:  # type: ignore[no-untyped-def]
    again = train_scorer(CRMTables(synthetic_crm.leads, synthetic_crm.dispositions, synthetic_crm.deals), fast_settings)

    assert again.metrics == trained.metrics


def test_one_class_export_is_refused(synthetic_crm, fast_settings) -> None:  # type: ignore[no-untyped-def]
    deals = synthetic_crm.deals.assign(outcome=synthetic_crm.deals["outcome"].replace("won", "lost"))

    with pytest.raises(DataContractError, match="labelled leads are negative"):
        train_scorer(CRMTables(synthetic_crm.leads, synthetic_crm.dispositions, deals), fast_settings)


def _settings_for(fast_settings: Settings, folder: Path, data: dict[str, Path]) -> Settings:
    return fast_settings.model_copy(
        update={
            "mlflow": fast_settings.mlflow.model_copy(
                update={"tracking_uri": f"sqlite:///{folder / 'mlflow.db'}", "artifact_location": folder / "artifacts"}
            ),
            "data": fast_settings.data.model_copy(update=data),
        }
    )


@pytest.mark.slow
def test_run_training_logs_registers_and_round_trips(synthetic_crm, fast_settings, trained, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = write_crm(synthetic_crm, tmp_path / "data", "csv")
    settings = _settings_for(fast_settings, tmp_path, {k: paths[k] for k in ("leads", "dispositions", "deals")})

    first = run_training(settings)
    second = run_training(settings)

    client = mlflow.MlflowClient(first.registered.tracking_uri)
    name = settings.mlflow.registered_model
    assert (first.registered.version, second.registered.version) == ("1", "2")
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    assert second.registered.aliases == ()
    assert second.registered.champion_version == "1"

    run = client.get_run(first.registered.run_id)
    assert run.data.params["labels.horizon_days"] == "180"
    assert run.data.params["data.sha256"] == first.outcome.fingerprint["sha256"]
    assert run.data.metrics["test_roc_auc"] == pytest.approx(first.outcome.metrics["test_roc_auc"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert artifacts == {"plots/roc.png", "plots/calibration.png", "plots/gains.png"}
    report = client.download_artifacts(run.info.run_id, "reports/explanations.html", str(tmp_path / "download"))
    assert "What drives lead conversion" in Path(report).read_text(encoding="utf-8")
    assert first.report_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert first.report_path.name == "leadq-lead-conversion-v1.html"
    cuts = client.download_artifacts(run.info.run_id, "grade_cut_points.json", str(tmp_path / "download"))
    assert Path(cuts).is_file()
    reference = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/reference_profile.json")
    assert reference == json.loads(json.dumps(first.outcome.scorer.reference))
    version = client.get_model_version(name, "1")
    assert version.tags["threshold_policy"] == "capacity"
    assert float(version.tags["threshold"]) == pytest.approx(first.outcome.scorer.threshold.threshold, abs=1e-6)

    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    leads = synthetic_crm.leads.sample(300, random_state=3)
    predicted = loaded.predict(as_scoring_frame(leads))
    expected = first.outcome.scorer.score(leads)
    np.testing.assert_allclose(predicted["probability"].to_numpy(), expected["probability"].to_numpy(), rtol=1e-12)
    assert predicted["is_mql"].tolist() == expected["is_mql"].tolist()
    assert predicted["grade"].tolist() == expected["grade"].tolist()
    german = loaded.predict(as_scoring_frame(leads.head(3)), params={"language": "de", "top_k": 1})
    assert all(len(reasons) <= 1 for reasons in german["reasons_for"])
    labels = [reason["label"] for reasons in german["reasons_for"] for reason in reasons]
    assert labels
    assert all(isinstance(label, str) for label in labels)
    assert loaded.metadata.get_input_schema() is not None

    example = loaded.input_example
    assert example["email"].dropna().str.startswith("redacted@").all()


def test_refused_export_leaves_mlflow_untouched(synthetic_crm, fast_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = dataclasses.replace(synthetic_crm, leads=synthetic_crm.leads.drop(columns=["industry"]))
    paths = write_crm(broken, tmp_path / "data", "parquet")
    settings = _settings_for(fast_settings, tmp_path, {k: paths[k] for k in ("leads", "dispositions", "deals")})

    with pytest.raises(DataContractError, match=r"leads: missing required column\(s\) \['industry'\]"):
        run_training(settings)

    assert not (tmp_path / "mlflow.db").exists()
    assert not (tmp_path / "artifacts").exists()


def test_missing_file_is_named(fast_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nowhere" / "leads.csv"
    settings = _settings_for(fast_settings, tmp_path, {"leads": missing})

    with pytest.raises(DataContractError, match=f"leads: file not found: {missing}"):
        run_training(settings)


def test_the_drift_baseline_profiles_every_model_feature_and_the_score(trained, synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    reference = trained.scorer.reference

    assert set(reference["features"]) == set(MODEL_FEATURES)
    assert reference["features"]["industry"]["kind"] == "categorical"
    assert reference["features"]["website_visits"]["kind"] == "numeric"
    train_leads = synthetic_crm.leads.set_index("lead_id").loc[trained.split.train]
    features = trained.scorer.pipeline.named_steps["features"].transform(train_leads)
    stability = population_stability(reference, features, trained.scorer.predict_proba(train_leads))
    assert stability["psi"].max() < 0.01  # the training leads against their own sample: no drift
