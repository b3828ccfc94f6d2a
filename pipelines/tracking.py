"""MLflow at the edge of the pipeline: tracking setup, one run per training, registration and aliases.

Registration goes through the publish gate (``pipelines.publish_gate``): a version becomes the champion only when
there is none yet and it passes the gate, or when it is forced (``leadq train --force``, tagged
``promoted_by_force``). The gate's decision goes to the run's and the version's tags either way. Every version is
registered with the SHA-256 of its model files as stored (tag ``artifact_sha256``): the scoring service loads a
version only if its files still match.
"""

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
from models.mlflow_model import DIGEST_TAG, PYFUNC_ENTRY, SCORER_ARTIFACT, artifact_digest, save_scorer
from pipelines.publish_gate import GateDecision, judge_version
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
    champion_version: str | None  # the champion after registration (None: no version passed the gate yet)
    gate: GateDecision | None = None
    forced: bool = False  # promoted by --force although the gate failed or another version was champion


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


def not_found_hint(tracking_uri: str, name: str, alias: str | None) -> str:
    """What to do when ``name`` has no version under ``alias``: name the latest registered version if there is one
    (the publish gate kept it from the alias), else train first."""
    try:
        client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        versions = [int(found.version) for found in client.search_model_versions(f"name = '{name}'")]
    except MlflowException:
        versions = []
    if not versions or alias is None:
        return "run `leadq train` first, or name a version the registry holds (`mlflow ui` lists them)"
    latest = max(versions)
    return (
        f"version {latest} is registered but not '{alias}' (the publish gate kept it out, or the alias was moved): "
        f"name it with --version {latest}, or point '{alias}' at it in the MLflow UI"
    )


def other_export_hint(tracking_uri: str, name: str, version: str, export: Path) -> str:
    """Why a version may not read ``export``: the export it was trained on, and the registered versions trained on
    ``export`` itself (its params ``data.export``), to name with ``--version``; empty when the registry says neither."""
    try:
        client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        trained_on = {
            str(found.version): client.get_run(str(found.run_id)).data.params.get("data.export", "")
            for found in client.search_model_versions(f"name = '{name}'")
            if found.run_id
        }
    except MlflowException:
        return ""
    said = []
    if trained_on.get(version):
        said.append(f"version {version} was trained on {trained_on[version]}")
    here = str(export.resolve())
    fitting = sorted(
        (int(other) for other, path in trained_on.items() if path == here and other != version), reverse=True
    )
    if fitting:
        said.append(f"version {fitting[0]} was trained on this export: score it with --version {fitting[0]}")
    return "; ".join(said)


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
    return params  # the export and mapping read: with the data's fingerprint


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
        "threshold_policy_requested": str(threshold.requested or threshold.policy),
        "threshold_rationale": threshold.rationale,
        "calibration_method": str(metadata["calibration_method"]),
        "label_horizon_days": str(metadata["horizon_days"]),
        "test_quarters": ",".join(outcome.split.test_quarters),
        "test_roc_auc": f"{outcome.metrics['test_roc_auc']:.4f}",
        "test_roc_auc_ci": _interval_tag(outcome.metrics, "test_roc_auc"),
        "test_ece": f"{outcome.metrics['test_ece']:.4f}",
        "data_sha256": str(outcome.fingerprint["sha256"]),
    }


def _interval_tag(metrics: dict[str, float], name: str) -> str:
    low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
    return "" if low is None or high is None else f"{low:.4f}-{high:.4f}"


REPORT_ARTIFACT = "reports/explanations.html"


def log_training_run(
    outcome: TrainingOutcome,
    settings: Settings,
    report_html: str,
    extra_dicts: dict[str, dict[str, object]] | None = None,
    input_columns: tuple[str, ...] = (),
    force: bool = False,
) -> RegisteredModel:
    """Log params, metrics, data fingerprint, plots, the report and the model; register it, champion if it is the
    first to pass the publish gate (or ``force``).

    ``extra_dicts``: more JSON artifacts (path -> content), e.g. how a mapped export was prepared;
    ``input_columns``: the export columns the model reads (its signature).
    """
    gate = judge_version(outcome.metrics, settings.gate)
    experiment_id = configure_mlflow(settings.mlflow)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-as-of-{outcome.as_of.date()}") as run:
        mlflow.log_params(_flat_params(settings))
        mlflow.log_params({f"data.{key}": value for key, value in outcome.fingerprint.items()})
        mlflow.log_metrics(outcome.metrics)
        mlflow.log_dict(outcome.fingerprint, "data/fingerprint.json")
        mlflow.log_dict(outcome.label_summary, "data/labels.json")
        mlflow.log_dict(outcome.scorer.threshold.as_dict(), "threshold.json")
        threshold = outcome.scorer.threshold
        mlflow.set_tags(
            {
                "threshold_policy": threshold.policy,
                "threshold_policy_requested": str(threshold.requested or threshold.policy),
                "threshold_rationale": threshold.rationale[:5000],
                **gate.tags(),
            }
        )
        mlflow.log_metric("gate_passed", float(gate.passed))
        if threshold.warning:
            mlflow.set_tag("threshold_warning", threshold.warning[:5000])
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
    return register_model(
        info.model_uri, run.info.run_id, outcome, settings.mlflow, gate, force, settings.retrain.previous_alias
    )


def _force_note(gate: GateDecision, champion: str | None) -> str:
    reasons = list(gate.reasons) or ["the gate passed"]
    if champion is not None:
        reasons.append(f"replaced champion version {champion}")
    return " | ".join(reasons)[:5000]


def stored_model_digest(model_uri: str) -> str:
    """The SHA-256 of a logged model's files as the artifact store holds them (downloaded into a scratch folder, as
    the scoring service downloads them before it loads a version)."""
    with tempfile.TemporaryDirectory(prefix="leadq-digest-") as scratch:
        return artifact_digest(Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=scratch)))


def record_artifact_digest(settings: MlflowSettings, version: str) -> str:
    """Tag a version registered before leadq recorded digests with the digest of its model files as they are now,
    so the scoring service loads it. Only for files you trust: loading them runs their code.

    Raises:
        ValueError: the version already has a digest that its files no longer match (they were changed).
    """
    client = mlflow.MlflowClient(settings.tracking_uri, settings.tracking_uri)
    recorded = client.get_model_version(settings.registered_model, version).tags.get(DIGEST_TAG)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    digest = stored_model_digest(f"models:/{settings.registered_model}/{version}")
    if recorded and recorded != digest:
        raise ValueError(
            f"version {version} of {settings.registered_model!r} was registered with {DIGEST_TAG} {recorded}, and its "
            f"files now give {digest}: they were changed after registration; not overwritten"
        )
    client.set_model_version_tag(settings.registered_model, version, DIGEST_TAG, digest)
    return digest


def register_model(
    model_uri: str,
    run_id: str,
    outcome: TrainingOutcome,
    settings: MlflowSettings,
    gate: GateDecision,
    force: bool = False,
    previous_alias: str = "previous",
) -> RegisteredModel:
    """Register the logged model with the gate's decision on it. It becomes the champion if there is none and it
    passes the gate, or if ``force`` (tagged ``promoted_by_force`` with the failed checks; an old champion gets
    ``previous_alias``, so ``leadq rollback`` returns to it). Otherwise it waits for ``leadq retrain``. The version is
    created with the digest of its model files (tag ``artifact_sha256``), which the scoring service checks."""
    client = mlflow.MlflowClient()
    tags = {**_version_tags(outcome), **gate.tags(), DIGEST_TAG: stored_model_digest(model_uri)}
    version = str(mlflow.register_model(model_uri, settings.registered_model, tags=tags).version)
    champion = _current_version(client, settings.registered_model, settings.champion_alias)
    forced = force and (champion is not None or not gate.passed)
    if forced:
        client.set_model_version_tag(
            settings.registered_model, version, "promoted_by_force", _force_note(gate, champion)
        )
        client.set_tag(run_id, "promoted_by_force", "true")
        if champion is not None:
            client.set_registered_model_alias(settings.registered_model, previous_alias, champion)
    if forced or (champion is None and gate.passed):
        client.set_registered_model_alias(settings.registered_model, settings.champion_alias, version)
        champion = version
    client.set_tag(run_id, "champion", "this version" if champion == version else str(champion or "none"))
    return RegisteredModel(
        tracking_uri=mlflow.get_tracking_uri(),
        experiment=settings.experiment,
        run_id=run_id,
        model_uri=f"models:/{settings.registered_model}/{version}",
        name=settings.registered_model,
        version=version,
        aliases=(settings.champion_alias,) if champion == version else (),
        champion_version=champion,
        gate=gate,
        forced=forced,
    )
