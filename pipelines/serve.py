"""The scoring service as ``mlflow.yml`` configures it (``leadq serve``, the quarter demo).

``serving/`` knows no settings file: this is where the settings meet the app. The model is loaded here, before
the app is built, because the request schema is the model's input fields and their roles.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI

from pipelines.settings import Settings
from serving.access import ApiKey, redact_access_log_queries
from serving.app import ServiceConfig, create_app
from serving.model_holder import ModelHolder


def build_service(settings: Settings, api_keys: Mapping[str, str | ApiKey], allow_no_auth: bool = False) -> FastAPI:
    """The app serving the registry's model (the ``serving`` and ``mlflow`` sections; ``trends`` for its answers).

    Also keeps query strings out of uvicorn's access log (a key put in a URL by mistake is not logged).

    Raises:
        ModelNotReadyError: the configured alias or version is not in the registry.
    """
    serving = settings.serving
    holder = ModelHolder(
        settings.mlflow.tracking_uri, settings.mlflow.registered_model, serving.model_alias, serving.model_version
    )
    holder.reload()  # now, not at start-up: the request schema follows the model's input fields
    config = ServiceConfig(
        api_keys=api_keys,
        input_roles=holder.input_roles,
        allow_no_auth=allow_no_auth,
        max_batch=serving.max_batch,
        max_request_bytes=serving.max_request_bytes,
        max_unknown_fields=serving.max_unknown_fields,
        max_unknown_value_chars=serving.max_unknown_value_chars,
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
    )
    redact_access_log_queries()
    return create_app(holder, config)
