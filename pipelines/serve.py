"""The scoring service as ``mlflow.yml`` configures it (``leadq serve``, the quarter demo).

``serving/`` knows no settings file: this is where the settings meet the app. The model is loaded here, before
the app is built, because the request schema is the model's input fields and their roles.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI

from models.engagement import ActivityVocabulary
from pipelines.crm_export.mapping import (
    ActivitiesSpec,
    MappingError,
    normalize_value,
)
from pipelines.settings import Settings
from pipelines.training import registered_mapping
from serving.access import ApiKey, redact_access_log_queries
from serving.app import ServiceConfig, create_app
from serving.model_holder import ActivitiesOf, ExportNamesOf, ModelHolder
from serving.schemas import ExportNames

logger = logging.getLogger("leadq.serving")


def activity_vocabulary(spec: ActivitiesSpec) -> ActivityVocabulary:
    """The activity words of a mapping's activities table, translated as ``ValuesColumn.word_of`` translates them
    in training and ``leadq score`` (trimmed, case-insensitive), from one dictionary built once."""
    words = spec.kind.values or {}
    lookup = {normalize_value(word): kind for word, kind in words.items()}

    def kind_of(word: str) -> str | None:
        return lookup.get(normalize_value(word))

    return ActivityVocabulary(spec.windows(), tuple(words), kind_of)


def activities_of(tracking_uri: str) -> ActivitiesOf:
    """What gives each served version its activity words: from the mapping it was trained with."""

    def of(name: str, version: str) -> ActivityVocabulary | None:
        try:
            mapping = registered_mapping(tracking_uri, name, version)
        except MappingError as error:  # a mapping this leadq cannot read must not keep the model from serving
            logger.warning("%s, so requests cannot send raw activities (the fields work as before)", error)
            return None
        spec = mapping.tables.activities
        return None if spec is None else activity_vocabulary(spec)

    return of


def export_names_of(tracking_uri: str) -> ExportNamesOf:
    """What gives each served version the export's own columns for a request's lead_id and created_at (from the
    version's mapping), so that a lead sent as its export row reads: {} where the mapping cannot be read (the
    request's own names still work)."""

    def of(name: str, version: str) -> ExportNames:
        try:
            mapping = registered_mapping(tracking_uri, name, version)
        except MappingError as error:
            logger.warning("%s, so a request must name its id lead_id and its creation date created_at", error)
            return ExportNames()
        id_column = None if mapping.lead_ids == "row_number" else mapping.id_column
        return ExportNames(id_column, mapping.created_at_column, frozenset(mapping.columns))

    return of


def build_service(
    settings: Settings,
    api_keys: Mapping[str, str | ApiKey],
    allow_no_auth: bool = False,
    freeze_objects: bool = False,
) -> FastAPI:
    """The app serving the registry's model (the ``serving`` and ``mlflow`` sections; ``trends`` for its answers).

    Also keeps query strings out of uvicorn's access log (a key put in a URL by mistake is not logged).
    ``freeze_objects``: the app has the process to itself (``leadq serve``; see ``ServiceConfig.freeze_objects``).

    Raises:
        ModelNotReadyError: the configured alias or version is not in the registry.
    """
    serving = settings.serving
    holder = ModelHolder(
        settings.mlflow.tracking_uri,
        settings.mlflow.registered_model,
        serving.model_alias,
        serving.model_version,
        activities_of=activities_of(settings.mlflow.tracking_uri),
        export_names_of=export_names_of(settings.mlflow.tracking_uri),
        prepare_contributions=True,
    )
    holder.reload()  # now, not at start-up: the request schema follows the model's input fields
    served = holder.current
    config = ServiceConfig(
        api_keys=api_keys,
        input_roles=holder.input_roles,
        allow_no_auth=allow_no_auth,
        max_batch=serving.max_batch,
        max_request_bytes=serving.max_request_bytes,
        max_unknown_fields=serving.max_unknown_fields,
        max_unknown_value_chars=serving.max_unknown_value_chars,
        max_activities=serving.max_activities,
        account_key=serving.account_key,
        top_k=settings.explanations.top_k,
        reload_interval_s=serving.reload_interval_s,
        scoring_log_url=serving.scoring_log_url,
        scoring_log_flush_s=serving.scoring_log_flush_s,
        scoring_log_spool=str(serving.scoring_log_spool) if serving.scoring_log_spool else None,
        scoring_log_max_backlog=serving.scoring_log_max_backlog,
        scoring_log_on_spool_failure=serving.scoring_log_on_spool_failure,
        scoring_log_spool_max_mb=serving.scoring_log_spool_max_mb,
        trend_window_days=settings.trends.window_days,
        trend_min_change_points=settings.trends.min_change_points,
        placeholders=holder.placeholders,
        decimal_conventions=holder.decimal_conventions,
        export_names=served.export_names,
        freeze_objects=freeze_objects,
    )
    redact_access_log_queries()
    return create_app(holder, config)
