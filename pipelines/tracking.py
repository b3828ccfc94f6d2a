"""MLflow at the edge of the pipeline: tracking setup, one run per training, registration and aliases."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, Array, ColSpec, Object, ParamSchema, ParamSpec, Property, Schema, TensorSpec

from models.evaluation import calibration_figure, gains_figure, roc_figure
from models.mlflow_model import PYFUNC_ENTRY, SCORER_ARTIFACT, save_scorer
from pipelines.settings import MlflowSettings, Settings

if TYPE_CHECKING:
    from pipelines.training import TrainingOutcome

MODEL_ARTIFACT = "model"
_RUNTIME_PACKAGES = ("lightgbm", "scikit-learn", "pandas", "numpy", "scipy", "joblib", "pandera", "pydantic", "mlflow")


@dataclass(frozen=True)
class RegisteredModel:
    """Where a training run and its model version ended up."""

    tracking_uri: str
    experiment: str
    run_id: str
    model_uri: str
    name: str
    version: str
    aliases: tuple[str, ...]
    champion_version: str


def configure_mlflow(settings: MlflowSettings) -> str:
    """Point MLflow at the configured store (creating a local one if needed); return the experiment id."""
    if settings.tracking_uri.startswith("sqlite:///"):
        Path(settings.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    experiment = mlflow.get_experiment_by_name(settings.experiment)
    if experiment is not None:
        return experiment.experiment_id
    location = settings.artifact_location / settings.experiment
    return mlflow.create_experiment(settings.experiment, artifact_location=location.resolve().as_uri())


def model_signature(input_columns: tuple[str, ...]) -> ModelSignature:
    """Input: the export's columns the model reads, as text and all optional (the model parses them as training
    did; a missing one is scored as unknown). Output: the scorer's decision per lead and its top reasons;
    params: ``top_k`` and ``language`` of the reasons.
    """
    columns: list[ColSpec | TensorSpec] = [ColSpec("string", column, required=False) for column in input_columns]
    reason = Array(
        Object(
            [
                Property("feature", "string"),
                Property("label", "string"),
                Property("value", AnyType(), required=False),
                Property("impact", "double"),
            ]
        )
    )
    outputs = Schema(
        [
            ColSpec("double", "probability"),
            ColSpec("long", "score"),
            ColSpec("boolean", "is_mql"),
            ColSpec("string", "grade"),
            ColSpec("string", "priority"),
            ColSpec("double", "response_hours", required=False),
            ColSpec("string", "sla_rule"),
            ColSpec(reason, "reasons_for"),
            ColSpec(reason, "reasons_against"),
        ]
    )
    params = ParamSchema([ParamSpec("top_k", "long", 3), ParamSpec("language", "string", "en")])
    return ModelSignature(inputs=Schema(columns), outputs=outputs, params=params)


def _flat_params(settings: Settings) -> dict[str, object]:
    sections = ("labels", "split", "model", "threshold")
    params: dict[str, object] = {
        f"{section}.{key}": value
        for section in sections
        for key, value in getattr(settings, section).model_dump().items()
    }
    params["features.competitor_domains"] = len(settings.features.competitor_domains)
    params["data.mapping"] = str(settings.data.mapping)
    return params


def _log_plots(outcome: TrainingOutcome) -> None:
    scores = outcome.test_scores
    y = scores["converted"].to_numpy()
    compared: list[str] = [name for name in ("model", "logistic_regression", "points_rule") if name in scores]
    ranked = {name: scores[name].to_numpy() for name in compared}
    probabilities = {name: ranked[name] for name in compared if name != "points_rule"}
    mlflow.log_figure(roc_figure(y, ranked), "plots/roc.png")
    mlflow.log_figure(calibration_figure(y, probabilities), "plots/calibration.png")
    mlflow.log_figure(gains_figure(y, ranked), "plots/gains.png")


def _current_version(client: mlflow.MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def _version_tags(outcome: TrainingOutcome) -> dict[str, str]:
    threshold = outcome.scorer.threshold
    metadata = outcome.scorer.metadata
    return {
        "threshold": f"{threshold.threshold:.6f}",
        "threshold_policy": threshold.policy,
        "threshold_rationale": threshold.rationale,
        "calibration_method": str(metadata["calibration_method"]),
        "label_horizon_days": str(metadata["horizon_days"]),
        "test_quarters": ",".join(outcome.split.test_quarters),
        "test_roc_auc": f"{outcome.metrics['test_roc_auc']:.4f}",
        "test_ece": f"{outcome.metrics['test_ece']:.4f}",
        "data_sha256": str(outcome.fingerprint["sha256"]),
    }


REPORT_ARTIFACT = "reports/explanations.html"


def log_training_run(
    outcome: TrainingOutcome,
    settings: Settings,
    report_html: str,
    extra_dicts: dict[str, dict[str, object]] | None = None,
    input_columns: tuple[str, ...] = (),
) -> RegisteredModel:
    """Log params, metrics, data fingerprint, plots, the report and the model; register it (first: champion).

    ``extra_dicts``: more JSON artifacts (path -> content), e.g. how a mapped export was prepared;
    ``input_columns``: the export columns the model reads (its signature).
    """
    experiment_id = configure_mlflow(settings.mlflow)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-as-of-{outcome.as_of.date()}") as run:
        mlflow.log_params(_flat_params(settings))
        mlflow.log_params({f"data.{key}": value for key, value in outcome.fingerprint.items()})
        mlflow.log_metrics(outcome.metrics)
        mlflow.log_dict(outcome.fingerprint, "data/fingerprint.json")
        mlflow.log_dict(outcome.label_summary, "data/labels.json")
        mlflow.log_dict(outcome.scorer.threshold.as_dict(), "threshold.json")
        if outcome.scorer.threshold.warning:
            mlflow.set_tag("threshold_warning", outcome.scorer.threshold.warning)
        _log_plots(outcome)
        mlflow.log_text(report_html, REPORT_ARTIFACT)
        cuts = outcome.scorer.grade_cuts
        mlflow.log_dict({"fit": list(cuts.fit), "engagement": list(cuts.engagement)}, "grade_cut_points.json")
        if outcome.scorer.reference is not None:
            mlflow.log_dict(outcome.scorer.reference, "reference_profile.json")
        for path, content in (extra_dicts or {}).items():
            mlflow.log_dict(content, path)
        with tempfile.TemporaryDirectory() as scratch:
            scorer_path = save_scorer(outcome.scorer, Path(scratch) / "scorer.joblib")
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=str(PYFUNC_ENTRY),
                artifacts={SCORER_ARTIFACT: str(scorer_path)},
                signature=model_signature(input_columns),
                input_example=outcome.input_example,
                pip_requirements=[f"{package}=={version(package)}" for package in _RUNTIME_PACKAGES],
                metadata={"threshold": outcome.scorer.threshold.as_dict(), **outcome.scorer.metadata},
            )
    return register_model(info.model_uri, run.info.run_id, outcome, settings.mlflow)


def register_model(model_uri: str, run_id: str, outcome: TrainingOutcome, settings: MlflowSettings) -> RegisteredModel:
    """Register the logged model; the first version of a name becomes the champion, later ones wait for promotion."""
    client = mlflow.MlflowClient()
    version = str(mlflow.register_model(model_uri, settings.registered_model, tags=_version_tags(outcome)).version)
    champion = _current_version(client, settings.registered_model, settings.champion_alias)
    if champion is None:
        client.set_registered_model_alias(settings.registered_model, settings.champion_alias, version)
        champion = version
    return RegisteredModel(
        tracking_uri=mlflow.get_tracking_uri(),
        experiment=settings.experiment,
        run_id=run_id,
        model_uri=f"models:/{settings.registered_model}/{version}",
        name=settings.registered_model,
        version=version,
        aliases=(settings.champion_alias,) if champion == version else (),
        champion_version=champion,
    )
