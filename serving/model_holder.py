"""The served model: loaded once from the MLflow registry, swapped atomically when the alias moves.

A request takes one reference to the current ``ServedModel`` and uses it to the end, so a reload never
changes the model under a request in flight; the new model is fully loaded before the reference is swapped.

Loading a model runs its code (a joblib pickle, MLflow's models-from-code entry), so a version's files are
downloaded into a private scratch folder and checked against the SHA-256 recorded when the version was
registered (tag ``artifact_sha256``) before anything in them is loaded; a mismatch, or a version registered
without a digest, is refused (:class:`ModelIntegrityError`).
"""

from __future__ import annotations

import dataclasses
import hmac
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException

from models.engagement import ActivityVocabulary
from models.explanations import prepare_tree_contributions
from models.mlflow_model import DIGEST_TAG, artifact_digest
from models.pipeline import input_fields
from models.scorer import LeadScorer
from serving.schemas import ExportNames

_METRICS_SHOWN = ("test_roc_auc", "test_pr_auc", "test_ece", "test_brier", "test_mql_precision", "test_mql_recall")


@dataclass(frozen=True)
class ServedModel:
    scorer: LeadScorer
    name: str
    version: str
    alias: str | None
    model_uri: str
    test_metrics: dict[str, float]
    loaded_at: datetime
    # the CRM's activity words the model's mapping translates (a model trained with an activities table; None: it
    # reads no activities, or no ``activities_of`` was given to the holder): a request's raw activities
    activities: ActivityVocabulary | None = None
    # the input fields the model (almost) never saw missing (``LeadScorer.always_given``): said when a lead lacks one
    always_given: frozenset[str] = frozenset()
    # the yes/no fields whose blank means no (a checkbox only ever ticked): a lead without one is no, not missing
    blank_means_no: frozenset[str] = frozenset()
    # a request's lead_id and created_at -> the export's own column for it ("Prospect ID", "Erstellt am"), from the
    # version's mapping (``export_names_of``); a lead sent as its export row reads by those names too
    export_names: ExportNames = dataclasses.field(default_factory=ExportNames)


# (registered model name, version) -> the version's activity words from the mapping it was trained with, or None
ActivitiesOf = Callable[[str, str], ActivityVocabulary | None]
# (registered model name, version) -> the export's columns for a request's lead_id and created_at
ExportNamesOf = Callable[[str, str], ExportNames]


class ModelNotReadyError(RuntimeError):
    """No model is loaded (yet)."""


class ModelIntegrityError(ModelNotReadyError):
    """A version's model files do not match the digest recorded at registration, or it has none: not loaded."""


class ModelInputsChangedError(RuntimeError):
    """The registry's new version reads other input fields (or the same ones in other roles) than the served one."""


class ModelLoadError(ModelNotReadyError):
    """The registry names a version whose model cannot be loaded (artifacts missing or unreadable); the served one
    stays."""


def input_roles_of(scorer: LeadScorer) -> dict[str, str]:
    """The export columns a model reads (its request fields, in order) and the role of each in the mapping."""
    roles = scorer.pipeline.named_steps["features"].input_roles
    return {field: roles[field] for field in input_fields(scorer.pipeline)}


def blank_means_no_of(scorer: LeadScorer) -> frozenset[str]:
    """The yes/no input fields a model reads a blank of as no (``InputColumn.blank_is_no``)."""
    columns = getattr(scorer.pipeline.named_steps["features"], "columns", ())
    return frozenset(mapped.column for mapped in columns if getattr(mapped, "blank_is_no", False))


def placeholders_of(scorer: LeadScorer) -> tuple[str, ...]:
    """The export's words for missing ("N/A", "Select") that the model reads as unknown."""
    return tuple(scorer.pipeline.named_steps["features"].placeholders)


def input_changes(served: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """What differs between two models' input fields and roles, by field name (empty: the same request schema)."""
    added = [field for field in new if field not in served]
    removed = [field for field in served if field not in new]
    changed = [f"{field} ({served[field]} -> {role})" for field, role in new.items() if served.get(field, role) != role]
    return [
        f"{what}: {', '.join(fields)}"
        for what, fields in (("added", added), ("removed", removed), ("role changed", changed))
        if fields
    ]


def decimal_conventions_of(scorer: LeadScorer) -> dict[str, str]:
    """The decimal separator ("point", "comma", "none") each number column of the export was read with in training."""
    return dict(getattr(scorer.pipeline.named_steps["features"], "decimal_conventions_", {}))


def decimal_changes(served: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """The number fields two models read with another decimal separator (empty: the same request schema)."""
    changed = [
        f"{column} ({served.get(column, 'none')} -> {convention})"
        for column, convention in new.items()
        if served.get(column, "none") != convention
    ]
    return [f"decimal separator changed: {', '.join(changed)}"] if changed else []


def export_name_changes(served: ExportNames, new: ExportNames) -> list[str]:
    """The request fields whose export column name differs between two models (empty: the same request schema)."""
    changed = [
        f"{field} ({getattr(served, field)!r} -> {getattr(new, field)!r})"
        for field in ("lead_id", "created_at")
        if getattr(served, field) != getattr(new, field)
    ]
    return [f"export column names changed: {', '.join(changed)}"] if changed else []


def missing_word_changes(served: Iterable[str], new: Iterable[str]) -> list[str]:
    """What differs between two models' words for missing, as the request schema folds them (empty: the same)."""
    folded_served = {word.strip().casefold() for word in served}
    folded_new = {word.strip().casefold() for word in new}
    return [
        f"words for missing {what}: {', '.join(repr(word) for word in sorted(words))}"
        for what, words in (("added", folded_new - folded_served), ("removed", folded_served - folded_new))
        if words
    ]


def _resolve(client: mlflow.MlflowClient, name: str, alias: str | None, version: str | None) -> tuple[str, str]:
    """(version, run_id) of the alias or the version."""
    found = client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, str(version))
    return str(found.version), str(found.run_id)


def verify_model_files(model_dir: Path, recorded: str | None, name: str, version: str) -> None:
    """Check a downloaded version's files against the digest recorded at registration.

    Raises:
        ModelIntegrityError: no digest was recorded, or the files give another one.
    """
    if not recorded:
        raise ModelIntegrityError(
            f"version {version} of {name!r} has no {DIGEST_TAG} tag (registered before leadq recorded model digests, "
            "or the tag was removed); its files cannot be checked and loading them runs their code, so it is not "
            "loaded: register it again with leadq train, or record the digest of files you trust (README, "
            "'Trusting the registry')"
        )
    found = artifact_digest(model_dir)
    if not hmac.compare_digest(found, recorded):
        raise ModelIntegrityError(
            f"version {version} of {name!r}: its model files do not match the {DIGEST_TAG} recorded at registration "
            f"({recorded[:12]}..., the files give {found[:12]}...): they were changed after registration; not loaded"
        )


def load_served_model(tracking_uri: str, name: str, version: str, alias: str | None = None) -> ServedModel:
    """Load a registered version with the test metrics of its training run (``alias``: how it was found).

    Raises:
        ModelIntegrityError: its files do not match the digest recorded at registration (nothing of them is loaded).
    """
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    found = client.get_model_version(name, str(version))
    resolved, run_id = str(found.version), str(found.run_id)
    uri = f"models:/{name}/{resolved}"
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    # Checked and loaded from one private copy: the files loaded are the files checked.
    with tempfile.TemporaryDirectory(prefix="leadq-model-") as scratch:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=scratch))
        verify_model_files(local, found.tags.get(DIGEST_TAG), name, resolved)
        scorer = mlflow.pyfunc.load_model(str(local)).unwrap_python_model().scorer
    metrics = client.get_run(run_id).data.metrics
    return ServedModel(
        scorer=scorer,
        name=name,
        version=resolved,
        alias=alias,
        model_uri=uri,
        test_metrics={key: float(metrics[key]) for key in _METRICS_SHOWN if key in metrics},
        loaded_at=datetime.now(UTC),
        always_given=scorer.always_given(),
        blank_means_no=blank_means_no_of(scorer),
    )


class ModelHolder:
    """Holds the served model; ``reload`` swaps in the version the alias points to now.

    ``activities_of`` gives each loaded version its activity words and ``export_names_of`` its export's names for
    a request's id and creation date (``pipelines.serve`` reads both from the version's mapping: this package knows
    no mapping), so they change with the version a reload swaps in. ``prepare_contributions``: group each loaded
    version's trees for its SHAP values before it serves (``prepare_tree_contributions``), as the service does, so
    that its first batch after a promotion does not wait for it; a run without reasons needs none.
    """

    def __init__(
        self,
        tracking_uri: str,
        name: str,
        alias: str | None = "champion",
        version: str | None = None,
        activities_of: ActivitiesOf | None = None,
        export_names_of: ExportNamesOf | None = None,
        prepare_contributions: bool = False,
    ):
        self.tracking_uri, self.name, self.alias, self.version = tracking_uri, name, alias, version
        self.activities_of = activities_of
        self.export_names_of = export_names_of
        self.prepare_contributions = prepare_contributions
        self._current: ServedModel | None = None
        self._reloading = threading.Lock()

    @property
    def current(self) -> ServedModel:
        served = self._current
        if served is None:
            raise ModelNotReadyError("no model loaded yet")
        return served

    @property
    def ready(self) -> bool:
        return self._current is not None

    def registered_version(self) -> str:
        """The version the alias points to in the registry right now (cheap: no model download)."""
        client = mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        return _resolve(client, self.name, self.alias, self.version)[0]

    def reload(self) -> tuple[str | None, str]:
        """Load the alias's current version if it differs from the served one; (old version, new version)."""
        with self._reloading:
            old = self._current.version if self._current else None
            try:
                target = self.registered_version()
            except MlflowException as error:
                raise ModelNotReadyError(
                    f"model {self.name!r} ({self.alias or self.version}) not found in the registry"
                ) from error
            if target != old:
                try:
                    loaded = load_served_model(self.tracking_uri, self.name, target, self.alias)
                    if self.activities_of is not None:
                        loaded = dataclasses.replace(loaded, activities=self.activities_of(self.name, target))
                    if self.export_names_of is not None:
                        loaded = dataclasses.replace(loaded, export_names=self.export_names_of(self.name, target))
                    if self.prepare_contributions:
                        prepare_tree_contributions(loaded.scorer.pipeline)
                except ModelNotReadyError:
                    raise
                except Exception as error:  # a broken registry entry must not take the served model down
                    raise ModelLoadError(
                        f"version {target} of {self.name!r} could not be loaded ({type(error).__name__}: "
                        f"{str(error)[:200]})"
                    ) from error
                changes = (
                    [
                        *input_changes(self.input_roles, input_roles_of(loaded.scorer)),
                        *missing_word_changes(self.placeholders, placeholders_of(loaded.scorer)),
                        *decimal_changes(self.decimal_conventions, decimal_conventions_of(loaded.scorer)),
                        *export_name_changes(self.current.export_names, loaded.export_names),
                    ]
                    if self.ready
                    else []
                )
                if changes:
                    raise ModelInputsChangedError(
                        f"version {target} reads other input fields, words for missing, decimal separators or export "
                        "column names than the "
                        f"served version {old} ({'; '.join(changes)}): restart the service to serve it (the request "
                        "schema changes)"
                    )
                self._current = loaded
            return old, self.current.version

    @property
    def input_roles(self) -> dict[str, str]:
        """The served model's input fields (export column -> role): the request schema."""
        return input_roles_of(self.current.scorer)

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The served model's words for missing."""
        return placeholders_of(self.current.scorer)

    @property
    def decimal_conventions(self) -> dict[str, str]:
        """The served model's decimal separator per number column of the export."""
        return decimal_conventions_of(self.current.scorer)
