"""``leadq demo-quarter``: one quarter of the quarterly routine, end to end, on one synthetic world.

serve -> score a quarter -> resolve -> audit -> retrain -> promote or keep.

One world is generated up to the moment the quarter is resolved, with the demo drift from the quarter's first
day on (a worse LinkedIn agency, a new industry, inflated e-mail opens). Each step sees only what it would see
in production: training gets the export as of the quarter's start, the quarter's leads reach the model through
real HTTP calls to the scoring service (so the audit reads the scoring log the service wrote, not scores computed
on the side), and the audit and the retrain get the export taken when the quarter's last lead has passed its label
horizon (plus ``RESOLVE_MARGIN_DAYS``): every lead is won, lost or, recycled to nurture, open.
Everything lives in one workspace folder (MLflow store, data, scoring log, reports), wiped at the start.
"""

from __future__ import annotations

import json
import math
import secrets
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pandas as pd

from models.labels import quarter_bounds
from pipelines.audit import AuditResult, run_audit
from pipelines.demo.synthetic import (
    DEFAULT_COMPETITOR_DOMAINS,
    QuarterDrift,
    SyntheticCRM,
    cut_export,
    generate_crm,
    write_crm,
)
from pipelines.retrain import RetrainResult, run_retrain
from pipelines.settings import DataSettings, Settings
from pipelines.training import MONTHS_PER_QUARTER, StepReporter, run_training, silent_steps

if TYPE_CHECKING:
    from fastapi import FastAPI

# The audit waits until the quarter's last lead passed its label horizon, and this many days more: before that
# most leads are still open and the early outcomes (fast rejections, fast deals) are a biased sample.
RESOLVE_MARGIN_DAYS = 14
# Training needs train, calibration and test quarters whose label horizon has elapsed; keep a margin of two.
MIN_MATURE_QUARTERS = 5
# Written into a workspace we created: only such a folder (or an empty one) is ever wiped.
WORKSPACE_MARKER = ".leadq-quarter-demo"
API_KEY_NAME = "quarter-demo"
SERVER_START_TIMEOUT_S = 120.0
SERVER_STOP_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 120.0


class WorkspaceError(ValueError):
    """The workspace folder holds something the demo did not create: it is not wiped."""


@dataclass(frozen=True)
class QuarterPlan:
    """The audited quarter and the world around it."""

    quarter: str  # e.g. "2026Q4"
    start: pd.Timestamp  # first moment of the quarter: the history export is taken here
    end: pd.Timestamp  # first moment after the quarter
    resolved_at: pd.Timestamp  # the export the audit and the retrain read
    months: int  # months of leads in the world, history plus the quarter and its resolution


@dataclass(frozen=True)
class ScoredQuarter:
    """What the scoring service answered for the quarter's leads."""

    leads_scored: int
    mqls: int

    @property
    def mql_rate(self) -> float:
        return self.mqls / self.leads_scored if self.leads_scored else math.nan


@dataclass(frozen=True)
class QuarterDemoResult:
    """What one quarter of the loop produced; ``settings`` point at the workspace and the resolved export."""

    quarter: str
    leads_scored: int
    mql_rate: float
    audit: AuditResult
    retrain: RetrainResult
    workspace: Path
    settings: Settings


def plan_quarter(settings: Settings) -> QuarterPlan:
    """The quarter after the configured synthetic export (``synthetic.end``), and how many months the world spans."""
    last_exported = pd.Timestamp(settings.synthetic.end) - pd.Timedelta(seconds=1)  # the export runs at 00:00 on end
    quarter = str(last_exported.to_period("Q") + 1)
    start, end = quarter_bounds(quarter)
    resolved_at = end + pd.Timedelta(days=settings.labels.horizon_days + RESOLVE_MARGIN_DAYS)
    horizon_months = math.ceil(settings.labels.horizon_days / 30)
    # +1 quarter: the world's first quarter is usually partial
    history_months = max(settings.synthetic.months, horizon_months + (MIN_MATURE_QUARTERS + 1) * MONTHS_PER_QUARTER)
    return QuarterPlan(
        quarter=quarter,
        start=start,
        end=end,
        resolved_at=resolved_at,
        months=history_months + MONTHS_PER_QUARTER + math.ceil((resolved_at - end).days / 30),
    )


def prepare_workspace(workspace: Path) -> Path:
    """Create ``workspace`` empty (removing a previous demo's), marked as ours; refuse to wipe a foreign folder."""
    workspace = workspace.resolve()
    if workspace.exists():
        ours = (workspace / WORKSPACE_MARKER).is_file()
        if not workspace.is_dir() or (not ours and any(workspace.iterdir())):
            raise WorkspaceError(
                f"{workspace} exists and was not created by `leadq demo-quarter`: choose another --workspace "
                "(the demo wipes its workspace on every run)"
            )
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    (workspace / WORKSPACE_MARKER).write_text("created by `leadq demo-quarter`; wiped on its next run\n")
    return workspace


def _data_in(folder: Path) -> DataSettings:
    """The export ``write_crm`` writes into ``folder``: its leads file and the mapping it writes next to it."""
    return DataSettings(export=folder / "leads.parquet", mapping=folder / "mapping.yml")


DEMO_MQLS_PER_MONTH = 600  # the synthetic CRM's sales capacity at its configured size (200,000 leads, 30 months)


def demo_capacity(settings: Settings, n_leads: int, months: int) -> int:
    """Sales capacity (``threshold.mqls_per_month``) scaled from the configured synthetic CRM to the demo's world.

    The capacity is set for ``synthetic.leads`` leads over ``synthetic.months``; kept as is in a smaller world,
    the threshold would make every second lead an MQL and the audit's funnel would say little. Without one
    (the shipped settings leave it empty), the synthetic CRM's sales team works ``DEMO_MQLS_PER_MONTH``.
    """
    configured = settings.synthetic.leads / settings.synthetic.months
    capacity = settings.threshold.mqls_per_month or DEMO_MQLS_PER_MONTH
    return max(1, round(capacity * (n_leads / months) / configured))


def workspace_settings(settings: Settings, workspace: Path, mqls_per_month: int) -> Settings:
    """``settings`` with every store inside ``workspace`` and the demo's capacity; data: the history export."""
    return settings.model_copy(
        update={
            "threshold": settings.threshold.model_copy(update={"mqls_per_month": mqls_per_month}),
            # the world's competitors (generate_world): the demo mapping's points rule scores their addresses
            "features": settings.features.model_copy(update={"competitor_domains": competitor_domains(settings)}),
            # each export's labels run to its own latest event: a fixed cut-off would not fit the demo's exports
            "labels": settings.labels.model_copy(update={"as_of": None}),
            "mlflow": settings.mlflow.model_copy(
                update={
                    "tracking_uri": f"sqlite:///{workspace / 'mlflow.db'}",
                    "artifact_location": workspace / "artifacts",
                }
            ),
            "data": _data_in(workspace / "history"),
            "serving": settings.serving.model_copy(
                update={
                    "scoring_log_url": f"sqlite:///{workspace / 'scoring_log.db'}",
                    "model_alias": settings.mlflow.champion_alias,  # the demo serves what the registry promotes
                    "model_version": None,
                    "reload_interval_s": 0.0,
                }
            ),
            "explanations": settings.explanations.model_copy(update={"reports_dir": workspace / "reports"}),
        }
    )


def competitor_domains(settings: Settings) -> tuple[str, ...]:
    """The competitors' e-mail domains of the demo's world: the configured ones, else the synthetic CRM's."""
    return settings.features.competitor_domains or DEFAULT_COMPETITOR_DOMAINS


def generate_world(settings: Settings, plan: QuarterPlan, n_leads: int, seed: int) -> SyntheticCRM:
    """The whole world up to ``plan.resolved_at``, with the demo drift from the quarter's first day."""
    return generate_crm(
        n_leads,
        seed=seed,
        end=plan.resolved_at.date(),
        months=plan.months,
        horizon_days=settings.labels.horizon_days,
        competitor_domains=competitor_domains(settings),
        drift=QuarterDrift.demo(plan.start.date()),
    )


def scoring_requests(leads: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> list[dict[str, Any]]:
    """The leads created in [start, end) as the CRM sends them: the export's columns, lead_id and created_at (ISO)
    among them (the service reads the model's input columns and logs the id and creation time)."""
    created = leads[(leads["created_at"] >= start) & (leads["created_at"] < end)]
    # to_json turns NaN/NA into null and numpy scalars into plain JSON; httpx's encoder knows neither
    records: list[dict[str, Any]] = json.loads(created.to_json(orient="records", date_format="iso", date_unit="s"))
    return records


@contextmanager
def serving_in_background(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under a real uvicorn on 127.0.0.1 (a free port) in a thread; yield its base URL.

    Leaving the block shuts the server down and waits for it: the app's shutdown drains its scoring log.
    """
    import uvicorn  # the service's stack is loaded only when the demo serves

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="quarter-demo-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=SERVER_STOP_TIMEOUT_S)
            raise RuntimeError("the scoring service did not start (see the log above)")
        time.sleep(0.05)
    try:
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=SERVER_STOP_TIMEOUT_S)
    if thread.is_alive():
        raise RuntimeError(f"the scoring service did not stop within {SERVER_STOP_TIMEOUT_S:.0f} s")


def post_in_batches(base_url: str, api_key: str, requests: Sequence[dict[str, Any]], batch_size: int) -> ScoredQuarter:
    """POST the leads to /v1/leads/score-batch, ``batch_size`` per call; any answer but 200 stops the demo."""
    from serving.app import API_KEY_HEADER

    scored = mqls = 0
    with httpx.Client(base_url=base_url, headers={API_KEY_HEADER: api_key}, timeout=REQUEST_TIMEOUT_S) as client:
        for first in range(0, len(requests), batch_size):
            batch = requests[first : first + batch_size]
            response = client.post("/v1/leads/score-batch", json={"leads": batch})
            if response.status_code != 200:
                raise RuntimeError(
                    f"score-batch answered {response.status_code} for leads {first}-{first + len(batch) - 1}: "
                    f"{response.text[:1000]}"
                )
            results = response.json()["results"]
            scored += len(results)
            mqls += sum(bool(result["is_mql"]) for result in results)
    return ScoredQuarter(leads_scored=scored, mqls=mqls)


def score_quarter(settings: Settings, requests: Sequence[dict[str, Any]]) -> ScoredQuarter:
    """Serve the champion as ``leadq serve`` would and send it the quarter's leads over HTTP."""
    from pipelines.serve import build_service

    api_key = secrets.token_urlsafe(24)
    with serving_in_background(build_service(settings, {API_KEY_NAME: api_key})) as base_url:
        return post_in_batches(base_url, api_key, requests, settings.serving.max_batch)


def run_quarter_demo(
    settings: Settings,
    workspace: Path,
    *,
    n_leads: int = 60_000,
    seed: int = 42,
    report: StepReporter = silent_steps,
) -> QuarterDemoResult:
    """Train a champion, serve it a drifted quarter over HTTP, then audit and retrain on the resolved export.

    Args:
        settings: the user's settings; stores, data and reports are redirected into ``workspace``.
        workspace: the demo's own folder, wiped and recreated (refused if it holds anything the demo did not create).
        n_leads: leads in the whole world (history, the quarter and the months until it resolves).
        seed: the world's random seed.
        report: a context manager per step (the CLI prints steps and timings).
    """
    plan = plan_quarter(settings)
    workspace = prepare_workspace(workspace)
    settings = workspace_settings(settings, workspace, demo_capacity(settings, n_leads, plan.months))
    with report(f"generate one world of {n_leads:,} leads, drifting from {plan.quarter}"):
        world = generate_world(settings, plan, n_leads, seed)
    with report(f"write the export as of {plan.start.date()} (the history)"):
        write_crm(cut_export(world, plan.start), settings.data.export.parent)
    # A demo world can be too small for the publish gate; the loop needs a served model, and says it forced it.
    run_training(settings, report=report, force=True)
    requests = scoring_requests(world.leads, plan.start, plan.end)
    with report(f"serve the champion and score {len(requests):,} leads of {plan.quarter} over HTTP"):
        scored = score_quarter(settings, requests)
    resolved = settings.model_copy(update={"data": _data_in(workspace / "export")})
    with report(f"write the export as of {plan.resolved_at.date()} (the quarter resolved)"):
        write_crm(cut_export(world, plan.resolved_at), resolved.data.export.parent)
    audit = run_audit(resolved, plan.quarter, report=report)
    retrain = run_retrain(resolved, report)
    return QuarterDemoResult(
        quarter=plan.quarter,
        leads_scored=scored.leads_scored,
        mql_rate=scored.mql_rate,
        audit=audit,
        retrain=retrain,
        workspace=workspace,
        settings=resolved,
    )
