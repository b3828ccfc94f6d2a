"""The scoring service the CRM calls: ``create_app`` builds the FastAPI application (nothing happens on import).

Routes: ``POST /v1/leads/score``, ``POST /v1/leads/score-batch``, ``GET /v1/model``, ``POST /v1/admin/reload``,
``GET /healthz``, ``GET /readyz``, ``GET /metrics``. Every error is JSON ``{"error": {"code", "message",
"details"}}``; invalid input is 422 naming the field. Size and key are checked before the body is read
(``serving.access``); category values that look like personal data are replaced before scoring (``serving.pii``).

The request body (``LeadIn``) is the served model's input fields: the CRM export's own columns, each typed by its
role in the export's mapping (see ``serving.schemas``). ``leadq serve`` builds the app from ``mlflow.yml`` in
``pipelines.serve``; this package knows no settings file.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures (Annotated dependencies
# defined inside create_app) at runtime.
import asyncio
import collections
import contextlib
import ctypes
import gc
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

import lightgbm.basic
from fastapi import Depends, FastAPI, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.accounts import email_field
from models.cleaning import DEFAULT_PLACEHOLDERS
from models.trends import Trend
from serving.access import (
    ANONYMOUS,
    API_KEY_HEADER,
    ApiError,
    ApiKey,
    KeyRing,
    RequestGuard,
    parse_api_keys,
    require_admin,
)
from serving.access import Caller as KeyCaller
from serving.accounts import UNREAD_WARNING, AccountScores, lead_accounts, rolled_up_accounts
from serving.activities import RequestEngagement, request_engagement
from serving.log_reader import LogReader
from serving.model_holder import ModelHolder, ModelInputsChangedError, ModelNotReadyError, ServedModel, input_changes
from serving.pii import REMOVED_WARNING, category_fields, personal_kind, scrub_record
from serving.schemas import (
    MAX_ACTIVITIES,
    MAX_UNKNOWN_FIELDS,
    MAX_UNKNOWN_VALUE_CHARS,
    MISSING_ALWAYS_GIVEN_WARNING,
    UNREAD_NUMBER_WARNING,
    UNSEEN_WARNING,
    AccountOut,
    BatchOut,
    DecisionOut,
    ErrorOut,
    ExportNames,
    Health,
    LeadBase,
    ModelInfo,
    ModelRef,
    ReasonOut,
    ScoreOut,
    batch_in_model,
    lead_in_model,
    score_in_model,
)
from serving.scoring_log import ScoringLog, ScoringLogUnavailableError, SpoolFailurePolicy, new_row_ids, score_row
from serving.trends import ScoreTrends

logger = logging.getLogger("leadq.serving")
__all__ = ["API_KEY_HEADER", "ApiError", "ApiKey", "ServiceConfig", "create_app", "parse_api_keys"]
MAX_REQUEST_BYTES = 8 * 1024 * 1024
SHOWN_UNKNOWN_FIELDS = 10  # the warning names this many unknown fields, then counts the rest
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
AccountKey = Literal["email_domain", "account_id"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceConfig:
    """What the app needs besides the model: its request fields, keys, limits, reasons and the scoring log."""

    api_keys: Mapping[str, str | ApiKey]  # name -> key (a plain string: a scoring key); empty only with allow_no_auth
    # the served model's input fields (export column -> role, ``ModelHolder.input_roles``): the request schema
    input_roles: Mapping[str, str]
    allow_no_auth: bool = False
    max_batch: int = 1_000
    max_request_bytes: int = MAX_REQUEST_BYTES  # 413 beyond, before the body is read
    max_unknown_fields: int = MAX_UNKNOWN_FIELDS  # per lead; 422 beyond
    max_unknown_value_chars: int = MAX_UNKNOWN_VALUE_CHARS  # each unknown field's value as JSON; 422 beyond
    max_activities: int = MAX_ACTIVITIES  # a lead's raw activities (``serving.activities``); 422 beyond
    # a lead's account (``serving.accounts``): its e-mail's business domain, or the account id the request carries
    # (``account_id``; without one, the domain), which the scoring log then keeps as the account
    account_key: AccountKey = "email_domain"
    top_k: int | None = None
    reload_interval_s: float = 0.0  # 0: reload only through POST /v1/admin/reload
    scoring_log_url: str | None = None
    scoring_log_flush_s: float = 1.0
    scoring_log_spool: str | None = None  # local spool file; None: next to a SQLite log (``default_spool_path``)
    scoring_log_max_backlog: int = 50_000  # rows waiting for the database beyond which /readyz answers 503
    scoring_log_on_spool_failure: SpoolFailurePolicy = "refuse"  # or "serve": score without logging, counted
    scoring_log_spool_max_mb: float | None = None  # the most local disk the spool may take; None: no cap
    # each lead's trend in the answers, from the scoring log (``serving.trends``; the ``trends`` settings)
    trend_window_days: float = 30.0
    trend_min_change_points: int = 5
    # the export's words for missing ("N/A", ``ModelHolder.placeholders``): accepted in count and yes/no fields
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS
    # the decimal separator each number field was read with in training (``ModelHolder.decimal_conventions``)
    decimal_conventions: Mapping[str, str] = field(default_factory=dict)
    # the export's own names a request may carry (the served model's mapping): its id and created_at columns, read
    # as lead_id and created_at, and its other mapped columns, ignored without a warning
    export_names: ExportNames = field(default_factory=ExportNames)
    # The most threads LightGBM may use in this process while the app runs; None: its default (every core). One:
    # a request is one lead or a batch of a few hundred, too small to share out, and on a busy machine every OpenMP
    # barrier waits for a thread the scheduler has not run yet (measured: TreeSHAP of one lead 12 ms on two threads
    # under load, 0.65 ms on one). Concurrent requests use the other cores.
    model_threads: int | None = 1
    # ``leadq serve``, a process of its own: what start-up made (libraries, the model, the log) is frozen before the
    # first request, and again after a reload that changed the model, so the garbage collector's full collections,
    # which every request waits for, no longer scan it. Off where the app shares a process (tests, the quarter demo).
    freeze_objects: bool = False
    now: Callable[[], datetime] = _utc_now  # the request's time, as of which raw activities are read (aware)


def freeze_lasting_objects() -> None:
    """Free what is garbage (a replaced model's cycles, unless a request in flight still holds it), then freeze the
    rest: objects that live as long as the process are no longer scanned by each full collection (``gc.freeze``)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class _ScoringLogCollector(Collector):
    """The scoring log's counters, read when Prometheus scrapes (the log counts; this only reports)."""

    def __init__(self, state: Mapping[str, ScoringLog | None]):
        self.state = state

    def collect(self) -> Iterator[Metric]:
        log = self.state.get("log")
        if log is None:
            return
        stats = log.stats()
        for name, value, help_text in (
            ("spooled", stats.spooled, "Scoring-log rows committed to the local spool"),
            ("written", stats.written, "Scoring-log rows written to the log's database"),
            ("retried", stats.retried, "Scoring-log row writes to the database that failed and are retried"),
            ("dropped", stats.dropped, "Scores answered without a log row (spool failure, policy serve)"),
            ("refused", stats.refused, "Scores refused with 503 because the spool could not write (policy refuse)"),
            ("rejected", stats.rejected, "Scoring-log rows the database refused for their content (kept in the spool)"),
        ):
            yield CounterMetricFamily(f"leadq_scoring_log_rows_{name}", help_text, value=value)
        yield GaugeMetricFamily(
            "leadq_scoring_log_backlog_rows", "Scoring-log rows in the spool, waiting for the database", stats.backlog
        )
        yield GaugeMetricFamily(
            "leadq_scoring_log_max_backlog_rows", "Backlog beyond which /readyz answers 503", stats.max_backlog
        )
        yield GaugeMetricFamily(
            "leadq_scoring_log_database_failing", "1 while writes to the log's database fail", stats.database_failing
        )
        yield GaugeMetricFamily(
            "leadq_scoring_log_spool_failing", "1 while the spool cannot write", stats.spool_failing
        )


class _Metrics:
    def __init__(self, state: Mapping[str, ScoringLog | None]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_ScoringLogCollector(state))
        self.requests = Counter(
            "leadq_requests_total", "HTTP requests", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "leadq_request_seconds",
            "HTTP request latency",
            ["route", "method"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.scores = Counter("leadq_scores_total", "Leads scored", ["model_version"], registry=self.registry)
        self.mqls = Counter("leadq_mqls_total", "Leads scored as MQL", ["model_version"], registry=self.registry)


class _Measure:
    """Counts requests and their latency by route, method and status (a plain ASGI middleware: no extra task, no
    response stream in between, unlike ``@app.middleware("http")``)."""

    def __init__(self, app: ASGIApp, metrics: _Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception no handler answered

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")  # the router puts the matched route in scope
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route, scope["method"]).observe(time.perf_counter() - started)


def _lightgbm_max_threads(threads: int) -> int:
    """Cap the threads of every LightGBM call in this process (``-1``: no cap); the cap before.

    LightGBM's C API has this switch (``LGBM_SetMaxThreads``) but its Python package does not wrap it. Unlike
    ``OMP_NUM_THREADS`` it works after the library is loaded, and unlike an OpenMP limit it also binds the
    ``n_jobs`` scikit-learn's ``predict_proba`` passes (``LeadScorer.predict_mql``).
    """
    before = ctypes.c_int(0)
    lightgbm.basic._safe_call(lightgbm.basic._LIB.LGBM_GetMaxThreads(ctypes.byref(before)))
    lightgbm.basic._safe_call(lightgbm.basic._LIB.LGBM_SetMaxThreads(ctypes.c_int(threads)))
    return before.value


def _json_response(body: BaseModel, exclude: Mapping[str, Any] | None = None) -> Response:
    """A validated answer as JSON, serialised once by pydantic (FastAPI would validate and encode it again)."""
    return Response(body.model_dump_json(exclude=exclude), media_type="application/json")


def _error(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorOut.model_validate({"error": {"code": code, "message": message, "details": details or []}})
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def _unreadable_body(error: StarletteHTTPException) -> str:
    """Why FastAPI could not parse a body (it answers 400; the contract says 422 naming the body)."""
    cause = error.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return "the body is not valid UTF-8"
    if isinstance(cause, RecursionError):
        return "the JSON is nested too deeply"
    return "the body could not be read as JSON"


def _field_path(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part != "body")


# Where pydantic's "Field required" would leave a CRM integrator guessing: the export's id column is sent as lead_id.
_MISSING_ID = "Field required: the CRM's id of the lead, as lead_id (the export's id column is sent under this name)"


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for item in error.errors():
        kind, location = item.get("type", ""), tuple(item.get("loc", ()))
        if kind == "json_invalid":  # loc is (body, character position)
            details.append({"field": "body", "message": f"malformed JSON: {item.get('msg', '')}"})
            continue
        message = item.get("msg", "")
        if location[-1:] == ("lead_id",) and kind == "missing":
            message = _MISSING_ID
        details.append({"field": _field_path(location), "message": message})
    return details


def _unknown_fields_warning(unknown: list[str]) -> str:
    """The unknown fields by count and the first few names (shortened; names that hold personal data hidden)."""
    shown = [
        "(a name holding personal data)" if personal_kind(name, names=False) else name[:40]
        for name in unknown[:SHOWN_UNKNOWN_FIELDS]
    ]
    more = f" and {len(unknown) - len(shown)} more" if len(unknown) > len(shown) else ""
    return f"ignored {len(unknown)} unknown field(s): {', '.join(shown)}{more}"


def _warnings(
    lead: LeadBase,
    result: dict[str, Any],
    personal: list[str],
    column_of: Mapping[str, str],
    computed: Collection[str] = (),
    always_given: Collection[str] = (),
    blank_means_no: Collection[str] = (),
) -> list[str]:
    # names only, never values: a warning may end up in the CRM's logs; fields by the export's names, as sent
    unseen = (column_of.get(feature, feature) for feature in result["unseen_categories"])
    warnings = [f"{column}: {UNSEEN_WARNING}" for column in unseen if column not in personal]  # said below
    if personal:
        warnings.append(f"{REMOVED_WARNING}: {', '.join(personal)}")
    # computed: from its activities; a checkbox's blank: no
    missing = [name for name in lead.missing_fields() if name not in computed and name not in blank_means_no]
    never = [name for name in missing if name in always_given]
    if never:
        warnings.append(f"{MISSING_ALWAYS_GIVEN_WARNING}: {', '.join(never)}")
    if len(never) < len(missing):
        warnings.append(
            f"missing optional field(s), scored as unknown: {', '.join(name for name in missing if name not in never)}"
        )
    unread = lead.unread_numbers()
    if unread:
        warnings.append(f"{UNREAD_NUMBER_WARNING}: {', '.join(unread)}")
    unknown = lead.unknown_fields()
    if unknown:
        warnings.append(_unknown_fields_warning(unknown))
    return warnings


def _reason(reason: dict[str, Any]) -> ReasonOut:
    value = reason["value"]
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    return ReasonOut(feature=reason["feature"], label=reason["label"], value=value, impact=reason["impact"])


def _score_out(
    lead: LeadBase,
    result: dict[str, Any],
    served: ServedModel,
    personal: list[str] | None = None,
    trend: Trend | None = None,
    computed: Collection[str] = (),
) -> ScoreOut | DecisionOut:
    """The answer for one lead: a ScoreOut, or a DecisionOut for a result without reasons
    (``LeadScorer.decide_records``); ``computed``: the fields computed from the lead's activities (not missing,
    whatever it sent)."""
    column_of = {feature: column for column, feature in category_fields(served.scorer.pipeline).feature_of.items()}
    personal = personal or []
    common: dict[str, Any] = {
        "lead_id": lead.lead_id,
        "probability": result["probability"],
        "score": result["score"],
        "is_mql": result["is_mql"],
        "trend": trend,
        "threshold": served.scorer.threshold.threshold,
        "model": ModelRef(name=served.name, version=served.version),
        "warnings": _warnings(
            lead,
            result,
            personal,
            column_of,
            computed,
            served.always_given,
            served.blank_means_no,
        ),
    }
    if "grade" not in result:
        return DecisionOut(**common)
    return ScoreOut(
        **common,
        grade=result["grade"],
        priority=result["priority"],
        respond_within_hours=result["response_hours"],
        reasons_for=[_reason(r) for r in result["reasons_for"]],
        reasons_against=[_reason(r) for r in result["reasons_against"]],
    )


def create_app(holder: ModelHolder, config: ServiceConfig) -> FastAPI:
    """The scoring service; the model is loaded (and the scoring log opened) when the app starts."""
    if not config.api_keys and not config.allow_no_auth:
        raise ValueError("no API key configured: set LEADQ_API_KEYS (name:key,...) or allow no auth explicitly")
    state: dict[str, ScoringLog | None] = {"log": None}
    # with a scoring log only: its reads in the requests (trends, the accounts' other leads)
    readers: dict[str, Any] = {"log": None, "trends": None, "accounts": None}
    metrics = _Metrics(state)

    # The request bodies follow the model's input fields (no `from __future__ import annotations` in this module,
    # so the route signatures below read these local classes).
    Lead = lead_in_model(
        config.input_roles,
        config.placeholders,
        config.max_unknown_fields,
        config.max_unknown_value_chars,
        config.max_activities,
        account_id=config.account_key == "account_id",
        decimal_conventions=config.decimal_conventions,
        export_names=config.export_names,
    )
    Batch = batch_in_model(Lead, config.max_batch)
    ScoreIn = score_in_model(Lead)
    keys = KeyRing(config.api_keys) if config.api_keys else None  # None: --insecure-no-auth

    async def refreeze() -> None:
        if config.freeze_objects:  # once per promotion: one full collection (about 0.2 s with a large model)
            await run_in_threadpool(freeze_lasting_objects)

    async def poll_registry() -> None:
        failing = ""  # the last reload failure, said once rather than at every poll
        while True:
            await asyncio.sleep(config.reload_interval_s)
            try:
                old, new = await run_in_threadpool(holder.reload)
                failing = ""
                if old != new:
                    logger.info("model reloaded: version %s -> %s", old, new)
                    await refreeze()
            except (ModelNotReadyError, ModelInputsChangedError) as error:  # the registry's problem: no traceback
                if str(error) != failing:
                    failing = str(error)
                    logger.error("model reload failed: %s; still serving version %s", error, holder.current.version)
            except Exception:
                logger.exception("model reload failed; still serving version %s", holder.current.version)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not holder.ready:
            await run_in_threadpool(holder.reload)
        changes = input_changes(config.input_roles, holder.input_roles)
        if changes:  # the routes were built for other fields: every request would be scored on the wrong ones
            raise ModelInputsChangedError(
                f"the model reads other input fields than the app was built for ({'; '.join(changes)})"
            )
        logger.info("serving %s version %s", holder.current.name, holder.current.version)
        if config.scoring_log_url:  # the spool must open: a service that cannot keep its scores does not start
            state["log"] = await run_in_threadpool(
                lambda: ScoringLog(
                    config.scoring_log_url or "",
                    config.scoring_log_flush_s,
                    spool_path=config.scoring_log_spool,
                    max_backlog=config.scoring_log_max_backlog,
                    on_spool_failure=config.scoring_log_on_spool_failure,
                    spool_max_mb=config.scoring_log_spool_max_mb,
                )
            )
            log_reader = LogReader(config.scoring_log_url)
            # the indexes the reads use and the account column, if missing (a log from an older leadq)
            await run_in_threadpool(log_reader.prepare)
            readers["log"] = log_reader
            readers["trends"] = ScoreTrends(log_reader, config.trend_window_days, config.trend_min_change_points)
            readers["accounts"] = AccountScores(log_reader, config.trend_window_days)
        poller = asyncio.create_task(poll_registry()) if config.reload_interval_s > 0 else None
        threads_before = None if config.model_threads is None else _lightgbm_max_threads(config.model_threads)
        if config.freeze_objects:
            freeze_lasting_objects()
        try:
            yield
        finally:
            if threads_before is not None:  # the process may go on (tests, the quarter demo): its own cap again
                _lightgbm_max_threads(threads_before)
            if poller:
                poller.cancel()
            log = state["log"]
            if log is not None:
                await run_in_threadpool(log.close)
            if readers["log"] is not None:
                readers["log"].close()

    app = FastAPI(
        title="leadq scoring service",
        version="1",
        description="Scores B2B leads: conversion probability, MQL decision, grade, SLA and reasons. "
        f"Every /v1 route needs an API key in the {API_KEY_HEADER} header (POST /v1/admin/reload an admin key). "
        f"Request bodies: at most {config.max_request_bytes:,} bytes, at most {config.max_batch:,} leads per batch "
        f"(413 beyond), at most {config.max_unknown_fields} unknown fields per lead (422 beyond).",
        lifespan=lifespan,
        responses={status: {"model": ErrorOut} for status in (401, 403, 409, 413, 422, 503)},
    )
    # Inside the metrics middleware (added later, so it wraps this one): refusals are counted too.
    app.add_middleware(RequestGuard, keys=keys, max_body_bytes=config.max_request_bytes)
    app.add_middleware(_Measure, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        details = _validation_details(error)
        fields = ", ".join(d["field"] or "body" for d in details[:5])
        return _error(422, "validation_error", f"invalid request: {fields}", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # FastAPI could not parse the body (invalid UTF-8, nested too deeply)
            reason = _unreadable_body(error)
            return _error(422, "validation_error", f"invalid request: {reason}", [{"field": "body", "message": reason}])
        code = getattr(error, "code", None) or _HTTP_CODES.get(error.status_code, "http_error")
        return _error(error.status_code, code, str(error.detail), headers=error.headers)  # 405 keeps its Allow

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.code, error.message)

    @app.exception_handler(ModelNotReadyError)
    async def not_ready(request: Request, error: ModelNotReadyError) -> JSONResponse:
        if holder.ready:  # a reload found nothing loadable (missing files, a digest mismatch): the served one stays
            message = f"{error}; still serving version {holder.current.version}"
            logger.error("model reload failed: %s", message)  # one line, no traceback: a registry problem
            return _error(502, "model_load_failed", message)
        return _error(503, "model_not_ready", str(error))

    @app.exception_handler(ModelInputsChangedError)
    async def inputs_changed(request: Request, error: ModelInputsChangedError) -> JSONResponse:
        return _error(409, "model_inputs_changed", str(error))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s", request.url.path)
        return _error(500, "internal_error", "unexpected error; it has been logged")

    api_key = APIKeyHeader(
        name=API_KEY_HEADER,
        scheme_name="ApiKey",
        description="a key of LEADQ_API_KEYS: name:key scores leads and reads the model, name:key:admin may also "
        "reload it",
        auto_error=False,  # the guard answers 401/403 in the service's error shape
    )

    async def identify(request: Request, given: Annotated[str | None, Security(api_key)]) -> KeyCaller:
        checked = getattr(request.state, "caller", None)  # the guard checked the key before the body was read
        if isinstance(checked, KeyCaller):
            return checked
        return ANONYMOUS if keys is None else keys.identify(given)

    async def authenticate(caller: Annotated[KeyCaller, Depends(identify)]) -> str:  # async: no worker thread
        return caller.name

    async def authenticate_admin(caller: Annotated[KeyCaller, Depends(identify)]) -> str:
        require_admin(caller)
        return caller.name

    Caller = Annotated[str, Depends(authenticate)]
    AdminCaller = Annotated[str, Depends(authenticate_admin)]

    # the request field whose business domain is a lead's account (models.accounts); none: no accounts but ids
    account_email = email_field(config.input_roles)
    by_account_id = config.account_key == "account_id"

    def answer_accounts(keys: list[str | None], scored: Sequence[ScoreOut | DecisionOut]) -> dict[str, AccountOut]:
        """The accounts of the request's leads with their other leads in the scoring log (this request's alone
        without a log, or with a warning when it cannot be read)."""
        wanted = {key for key in keys if key is not None}
        if not wanted:
            return {}
        reader: AccountScores | None = readers["accounts"]
        logged = reader.latest_scores(wanted) if reader is not None else {}
        if logged is None:
            for one, key in zip(scored, keys, strict=True):
                if key is not None:
                    one.warnings.append(UNREAD_WARNING)
        return rolled_up_accounts(keys, scored, logged)

    def score_leads(
        leads: list[LeadBase], caller: str, reasons: bool = True, batch: bool = False
    ) -> tuple[list[ScoreOut] | list[DecisionOut], ServedModel, dict[str, AccountOut]]:
        served = holder.current  # one model for the whole request, even if a reload swaps it meanwhile
        # personal data typed into a category field never reaches the scorer, so neither the log nor the reasons
        fields = category_fields(served.scorer.pipeline)
        scrubbed = [scrub_record(lead.scoring_record(), fields) for lead in leads]
        records = [record for record, _ in scrubbed]
        engagement: RequestEngagement | None = None
        if any(lead.sent_activities() is not None for lead in leads):  # only leads that sent them pay for them
            engagement = request_engagement(leads, records, served.activities, config.now(), batch)
            for position, computed in engagement.fields.items():
                records[position] = {**records[position], **computed}
        if reasons:
            results = served.scorer.explain_records(records, top_k=config.top_k)
        else:
            results = served.scorer.decide_records(records)
        reader: ScoreTrends | None = readers["trends"]
        trends: Sequence[Trend | None] | None = None
        if reader is not None:
            trends = reader.trends([lead.lead_id for lead in leads], [cast(int, result["score"]) for result in results])
        scored: list[Any] = [
            _score_out(lead, result, served, personal, trend, engagement.computed(position) if engagement else ())
            for position, (lead, result, (_, personal), trend) in enumerate(
                zip(leads, results, scrubbed, trends or [None] * len(leads), strict=True)
            )
        ]
        if engagement is not None:
            for position, warnings in engagement.warnings.items():
                scored[position].warnings.extend(warnings)
        if batch:  # `leadq score` scores a repeated id once; a batch scores each, and says so
            sent = collections.Counter(lead.lead_id for lead in leads)
            for one in scored:
                if sent[one.lead_id] > 1:
                    one.warnings.append(f"this lead_id is sent {sent[one.lead_id]} times in the batch: each is scored")
        if reader is not None and trends is None:
            for one in scored:
                one.warnings.append("trend unknown: the lead's earlier scores could not be read")
        keys = lead_accounts(leads, account_email, by_account_id)
        accounts = answer_accounts(keys, scored)
        log = state["log"]
        if log is not None:  # in the spool before the answer goes out, or no answer (policy refuse)
            threshold = served.scorer.threshold.threshold
            row_ids = new_row_ids(len(leads))
            rows = [
                score_row(
                    lead.lead_id, result, served.name, served.version, threshold, lead.created_at, row_id, account
                )
                for lead, result, row_id, account in zip(leads, results, row_ids, keys, strict=True)
            ]
            try:
                logged = log.append(rows)
            except ScoringLogUnavailableError as error:
                raise ApiError(
                    503, "scoring_log_unavailable", "the score could not be logged for the audit; try again later"
                ) from error
            if not logged:  # policy serve: the answer says what the audit will not see
                for one in scored:
                    one.warnings.append("not in the scoring log (it cannot write): the audit will not see this score")
        metrics.scores.labels(served.version).inc(len(scored))
        metrics.mqls.labels(served.version).inc(sum(s.is_mql for s in scored))
        logger.info("scored %d lead(s) for %s with version %s", len(scored), caller, served.version)
        return scored, served, accounts

    # The scoring routes answer with the validated pydantic objects serialised once (``_json_response``);
    # ``response_model`` documents them.
    @app.post("/v1/leads/score", response_model=ScoreOut | DecisionOut, tags=["scoring"])
    async def score(lead: ScoreIn, caller: Caller) -> Response:  # type: ignore[valid-type]
        """Score one lead: probability, MQL decision, grade, SLA and the top reasons for and against (``reasons:
        false``: probability, score and MQL decision only, a DecisionOut)."""
        # On the event loop: one lead takes about a millisecond, less than handing it to a worker thread (measured:
        # +1.2 ms p50 and +2.4 ms CPU a request in the thread pool). Its log reads do not wait for a database that
        # fails: the reader answers at once then, and probes it in the background (serving.log_reader).
        # Batches (tens of milliseconds) go to the thread pool so they do not hold up other requests.
        (answer,), _, accounts = score_leads([lead], caller, lead.reasons)  # type: ignore[attr-defined]
        if accounts and readers["accounts"] is not None:  # without a scoring log: null (the lead alone is no news)
            answer.account = next(iter(accounts.values()))  # one account at most: the lead's
        return _json_response(answer)

    @app.post("/v1/leads/score-batch", response_model=BatchOut, tags=["scoring"])
    def score_batch(batch: Batch, caller: Caller) -> Response:  # type: ignore[valid-type]
        """Score up to ``serving.max_batch`` leads in one call (413 beyond); ``reasons: false`` as for one lead."""
        leads = batch.leads  # type: ignore[attr-defined]
        if len(leads) > config.max_batch:
            raise ApiError(413, "batch_too_large", f"at most {config.max_batch} leads per call, got {len(leads)}")
        scored, served, accounts = score_leads(leads, caller, batch.reasons, batch=True)  # type: ignore[attr-defined]
        body = BatchOut(
            results=scored, model=ModelRef(name=served.name, version=served.version), accounts=list(accounts.values())
        )
        return _json_response(body, exclude={"results": {"__all__": {"account"}}})  # each account once, in accounts

    @app.get("/v1/model", response_model=ModelInfo, tags=["model"])
    def model_info(caller: Caller) -> ModelInfo:
        """The served model: version, threshold and policy, training quarters and test metrics."""
        served = holder.current
        meta, threshold = served.scorer.metadata, served.scorer.threshold
        return ModelInfo(
            name=served.name,
            version=served.version,
            alias=served.alias,
            model_uri=served.model_uri,
            threshold=threshold.threshold,
            threshold_policy=threshold.policy,
            threshold_rationale=threshold.rationale,
            trained_as_of=str(meta.get("as_of")) if meta.get("as_of") else None,
            train_quarters=[str(q) for q in meta.get("train_quarters", [])],  # type: ignore[attr-defined]
            test_quarters=[str(q) for q in meta.get("test_quarters", [])],  # type: ignore[attr-defined]
            test_metrics=served.test_metrics,
            loaded_at=served.loaded_at.isoformat(),
        )

    @app.post("/v1/admin/reload", response_model=ModelRef, tags=["model"], responses={502: {"model": ErrorOut}})
    async def reload(caller: AdminCaller) -> ModelRef:
        """Load the version the registry alias points to now (admin keys only); requests in flight finish on the old
        one. A version that cannot be loaded is 502 and the served one stays."""
        old, new = await run_in_threadpool(holder.reload)
        logger.info("reload requested by %s: version %s -> %s", caller, old, new)
        if old != new:
            await refreeze()
        return ModelRef(name=holder.current.name, version=new)

    @app.get("/healthz", response_model=Health, response_model_exclude_none=True, tags=["health"])
    def healthz() -> Health:
        """The process is alive."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, tags=["health"], responses={503: {"model": Health}})
    def readyz() -> Response:
        """A model is loaded, requests can be scored and their scores logged (503 with a reason otherwise)."""
        if not holder.ready:
            return JSONResponse(status_code=503, content=Health(status="not ready").model_dump(exclude_none=True))
        log = state["log"]
        problems = log.problems() if log is not None else []
        if problems:
            content = Health(status="not ready", model_version=holder.current.version, reason="; ".join(problems))
            return JSONResponse(status_code=503, content=content.model_dump(exclude_none=True))
        return JSONResponse(
            content=Health(status="ok", model_version=holder.current.version).model_dump(exclude_none=True)
        )

    @app.get("/metrics", tags=["health"], response_class=Response)
    def prometheus_metrics() -> Response:
        """Prometheus metrics: requests and latency by route and status, leads scored, MQLs, the scoring log."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
