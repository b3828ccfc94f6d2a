"""Serving speed: leadq's scoring service against ``mlflow models serve`` of the same model.

All servers are real processes on 127.0.0.1 serving the same trained scorer, driven by the same clients (asyncio
httpx for concurrent requests, the standard library's blocking client for latency) with the same request bodies and
concurrency. leadq answers with probability, MQL decision, grade, SLA
and reasons, or (``reasons: false``) probability, score and MQL decision only. Two MLflow pyfuncs stand beside it:
one answers with the probability only (``predict_proba``), the other with the probability and every feature's SHAP
value from ``shap.TreeExplainer`` (what leadq's reasons are built from). Each leadq answer is compared with the
MLflow one that returns as much or less.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd
import yaml

from models.pipeline import input_fields
from models.scorer import LeadScorer
from pipelines.demo.synthetic import generate_for, write_crm
from pipelines.settings import load_settings, read_config_file

BATCH_SIZE = 100
BODY_LEADS = 2_000
READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_CHARS = 4_000
PROBABILITY_TOLERANCE = 1e-6
BIN = Path(sys.executable).parent
# MLflow column types of the request fields by mapping role; every other role is text
_MLFLOW_TYPES = {"numeric": "double", "count": "double", "boolean": "boolean", "consent": "boolean"}

# Models-from-code for the MLflow side: the scorer's probabilities and nothing else, as a plain pyfunc would.
_PROBABILITY_PYFUNC = """
import joblib
import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel


class ProbabilityModel(PythonModel):
    def load_context(self, context):
        self.scorer = joblib.load(context.artifacts["scorer"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return pd.DataFrame({"probability": self.scorer.predict_proba(model_input)})


set_model(ProbabilityModel())
"""

# The same with SHAP values, as a data scientist would serve "probability and explanation" with MLflow:
# shap.TreeExplainer on the pipeline's booster, over the pipeline's encoded features.
_SHAP_PYFUNC = """
import joblib
import pandas as pd
import shap
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel


class ShapModel(PythonModel):
    def load_context(self, context):
        self.scorer = joblib.load(context.artifacts["scorer"])
        self.prepare = self.scorer.pipeline[:-1]  # features and encoding
        self.explainer = shap.TreeExplainer(self.scorer.pipeline[-1])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        encoded = self.prepare.transform(model_input)
        values = self.explainer.shap_values(encoded)
        shap_values = pd.DataFrame(values, columns=[f"shap_{name}" for name in encoded.columns])
        return pd.concat([pd.DataFrame({"probability": self.scorer.predict_proba(model_input)}), shap_values], axis=1)


set_model(ShapModel())
"""


class ServingBenchmarkError(RuntimeError):
    """A server did not start, or answered a benchmark request with something other than 200."""


@dataclass(frozen=True)
class Endpoint:
    """How the load client calls one server: URLs, headers, pre-encoded bodies and where the probabilities are."""

    single_url: str
    batch_url: str
    headers: dict[str, str]
    single_bodies: list[bytes]
    batch_bodies: list[bytes]
    probabilities: Callable[[Any], list[float]]


@dataclass(frozen=True)
class Load:
    """Request counts and concurrency, the same for both servers."""

    single_requests: int = 2_000
    batch_requests: int = 200
    warmup: int = 50
    concurrency: int = 8  # for requests per second
    latency_requests: int = 500  # one at a time, for p50/p99: latency of a request, not of the client's queue


# --- the model both servers serve ------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide MLflow's progress bars, registration messages and warnings (errors still propagate)."""
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        yield


def _write_settings(base_config: Path, folder: Path, data: dict[str, Path]) -> Path:
    """The repository settings with the MLflow store, the export and its mapping, reports and scoring log inside
    ``folder``."""
    content = read_config_file(base_config)
    content["mlflow"] = {
        **content.get("mlflow", {}),
        "tracking_uri": f"sqlite:///{folder / 'mlflow.db'}",
        "artifact_location": str(folder / "artifacts"),
    }
    content["data"] = {"export": str(data["leads"]), "mapping": str(data["mapping"])}
    content["explanations"] = {**content.get("explanations", {}), "reports_dir": str(folder / "reports")}
    content["serving"] = {**content.get("serving", {}), "scoring_log_url": f"sqlite:///{folder / 'scoring_log.db'}"}
    path = folder / "mlflow.yml"
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def _without_scoring_log(config: Path) -> Path:
    """The same settings with the scoring log switched off (the baseline of what the durable log costs)."""
    content = read_config_file(config)
    content["serving"] = {**content.get("serving", {}), "scoring_log_url": None}
    path = config.with_name("mlflow-no-log.yml")
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def _train_and_register(base_config: Path, folder: Path, n_leads: int) -> tuple[Path, LeadScorer]:
    """Train on a synthetic export through its mapping (the one road) and register the model as champion in
    ``folder``'s MLflow store."""
    from pipelines.training import run_training

    base = load_settings(base_config)
    data = write_crm(generate_for(base, n_leads), folder / "data", "parquet")
    config = _write_settings(base_config, folder, data)
    result = run_training(load_settings(config))
    return config, result.outcome.scorer


def _log_probability_model(scorer: LeadScorer, tracking_uri: str, folder: Path, shap_values: bool = False) -> str:
    """Log the scorer as a pyfunc whose predict is ``predict_proba`` (``shap_values``: and the SHAP value of each
    feature, ``shap.TreeExplainer``); return its model URI."""
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, Schema, TensorSpec

    from models.mlflow_model import SCORER_ARTIFACT, save_scorer

    entry = folder / ("shap_pyfunc.py" if shap_values else "probability_pyfunc.py")
    entry.write_text(_SHAP_PYFUNC if shap_values else _PROBABILITY_PYFUNC)
    scorer_path = save_scorer(scorer, folder / "scorer.joblib")
    # the request fields typed by role (JSON numbers and booleans as leadq receives them), probability only out
    roles = scorer.pipeline.named_steps["features"].input_roles
    inputs: list[ColSpec | TensorSpec] = [
        ColSpec(_MLFLOW_TYPES.get(roles[field], "string"), field, required=False)
        for field in input_fields(scorer.pipeline)
    ]
    outputs = [ColSpec("double", "probability")]
    if shap_values:
        features = scorer.pipeline.named_steps["features"].feature_spec.names
        outputs += [ColSpec("double", f"shap_{name}") for name in features]
    signature = ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("benchmark-mlflow-serve")
    with mlflow.start_run(run_name="shap-pyfunc" if shap_values else "predict-proba-pyfunc"):
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(entry),
            artifacts={SCORER_ARTIFACT: str(scorer_path)},
            signature=signature,
            pip_requirements=["mlflow", "lightgbm", "scikit-learn", "pandas", "shap"],  # not used: --env-manager local
        )
    return str(info.model_uri)


# --- request bodies --------------------------------------------------------------------------------------------


def lead_records(leads: pd.DataFrame, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """JSON-ready lead records: ``lead_id`` plus the model's request fields, NaN/NA as None, plain Python types."""
    frame = leads.loc[:, list(fields)].copy()
    frame.insert(0, "lead_id", leads["lead_id"].astype(str).to_numpy())
    return json.loads(frame.to_json(orient="records"))


def _encode(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _batches(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [records[start : start + BATCH_SIZE] for start in range(0, len(records) - BATCH_SIZE + 1, BATCH_SIZE)]


def _leadq_endpoint(port: int, api_key: str, records: list[dict[str, Any]], reasons: bool = True) -> Endpoint:
    base = f"http://127.0.0.1:{port}"
    switch = {} if reasons else {"reasons": False}
    return Endpoint(
        single_url=f"{base}/v1/leads/score",
        batch_url=f"{base}/v1/leads/score-batch",
        headers={"Content-Type": "application/json", "X-API-Key": api_key},
        single_bodies=[_encode({**record, **switch}) for record in records],
        batch_bodies=[_encode({"leads": batch, **switch}) for batch in _batches(records)],
        probabilities=lambda body: [result["probability"] for result in body["results"]],
    )


def _mlflow_endpoint(port: int, records: list[dict[str, Any]]) -> Endpoint:
    base = f"http://127.0.0.1:{port}"
    without_id = [{key: value for key, value in record.items() if key != "lead_id"} for record in records]
    return Endpoint(
        single_url=f"{base}/invocations",
        batch_url=f"{base}/invocations",
        headers={"Content-Type": "application/json"},
        single_bodies=[_encode({"dataframe_records": [record]}) for record in without_id],
        batch_bodies=[_encode({"dataframe_records": batch}) for batch in _batches(without_id)],
        probabilities=lambda body: [row["probability"] for row in body["predictions"]],
    )


# --- server processes ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(log: Path) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return text[-LOG_TAIL_CHARS:] or "(no output)"


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, name: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServingBenchmarkError(
                f"{name} exited with code {process.returncode} before it was ready:\n{_tail(log)}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    raise ServingBenchmarkError(f"{name} not ready at {url} after {READY_TIMEOUT_S:.0f} s:\n{_tail(log)}")


def _signal_group(group: int, signum: int) -> bool:
    """Send ``signum`` to the server's process group; False when no process of the group is left."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server and everything it started (``mlflow models serve`` runs uvicorn as a child)."""
    group = process.pid  # start_new_session: the server leads its own process group
    if _signal_group(group, signal.SIGTERM):
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(group, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _signal_group(group, 0) and time.monotonic() < deadline:  # children still shutting down
            time.sleep(0.1)
        _signal_group(group, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def _running(name: str, command: list[str], env: dict[str, str], ready_url: str, folder: Path) -> Iterator[int]:
    """Start a server, wait until ``ready_url`` answers 200, yield its process id, and always stop it (with its
    children) afterwards."""
    log = folder / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=folder, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(process, ready_url, log, name)
        yield process.pid
    finally:
        _stop(process)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (Linux ``/proc``), all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


# --- load client -----------------------------------------------------------------------------------------------


async def _drive(
    client: httpx.AsyncClient, url: str, bodies: list[bytes], requests: int, concurrency: int
) -> list[float]:
    """Send ``requests`` POSTs (bodies in turn) from ``concurrency`` workers; the latency of each in seconds."""
    latencies: list[float] = []
    numbers = itertools.count()

    async def worker() -> None:
        while (number := next(numbers)) < requests:
            started = time.perf_counter()
            response = await client.post(url, content=bodies[number % len(bodies)])
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise ServingBenchmarkError(
                    f"{url} answered {response.status_code} to request {number}: {response.text[:LOG_TAIL_CHARS]}"
                )

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
    except ExceptionGroup as failures:  # the first failure, not a group of them
        raise failures.exceptions[0] from None
    return latencies


def _one_at_a_time(url: str, headers: dict[str, str], bodies: list[bytes], requests: int) -> list[float]:
    """Send ``requests`` POSTs one after another on one kept-alive connection; the latency of each in seconds.

    Latency is measured with the standard library's blocking client, not the asyncio one the load uses: httpx's
    ``AsyncClient`` adds its own time to every request (README, where a request's time goes). Both servers are
    measured alike; the connection is made before the first timed request."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60.0)
    latencies: list[float] = []
    try:
        connection.connect()
        for number in range(requests):
            started = time.perf_counter()
            connection.request("POST", parts.path, body=bodies[number % len(bodies)], headers=headers)
            response = connection.getresponse()
            body = response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                text = body[:LOG_TAIL_CHARS].decode(errors="replace")
                raise ServingBenchmarkError(f"{url} answered {response.status} to request {number}: {text}")
    finally:
        connection.close()
    return latencies


def _percentiles(latencies: list[float]) -> dict[str, float]:
    milliseconds = np.asarray(latencies) * 1000
    return {"p50_ms": float(np.percentile(milliseconds, 50)), "p99_ms": float(np.percentile(milliseconds, 99))}


async def _timed(client: httpx.AsyncClient, url: str, bodies: list[bytes], requests: int, concurrency: int) -> dict:
    started = time.perf_counter()
    latencies = await _drive(client, url, bodies, requests, concurrency)
    wall = time.perf_counter() - started
    return {"rps": requests / wall, **_percentiles(latencies)}


async def _measure_async(
    endpoint: Endpoint, load: Load, kinds: tuple[str, ...] = ("single", f"batch{BATCH_SIZE}")
) -> tuple[dict[str, dict[str, float]], list[float]]:
    limits = httpx.Limits(max_connections=load.concurrency, max_keepalive_connections=load.concurrency)
    async with httpx.AsyncClient(headers=endpoint.headers, limits=limits, timeout=60.0) as client:
        first = await client.post(endpoint.batch_url, content=endpoint.batch_bodies[0])
        if first.status_code != 200:
            raise ServingBenchmarkError(f"{endpoint.batch_url} answered {first.status_code}: {first.text}")
        probabilities = endpoint.probabilities(first.json())
        await _drive(client, endpoint.single_url, endpoint.single_bodies, load.warmup, load.concurrency)
        await _drive(client, endpoint.batch_url, endpoint.batch_bodies, max(load.warmup // 5, 1), load.concurrency)
        results = {}
        for kind, url, bodies, requests in (
            ("single", endpoint.single_url, endpoint.single_bodies, load.single_requests),
            (f"batch{BATCH_SIZE}", endpoint.batch_url, endpoint.batch_bodies, load.batch_requests),
        ):
            if kind not in kinds:
                continue
            throughput = await _timed(client, url, bodies, requests, load.concurrency)
            one_by_one = max(load.latency_requests // (1 if kind == "single" else 5), 20)
            latency = _percentiles(await asyncio.to_thread(_one_at_a_time, url, endpoint.headers, bodies, one_by_one))
            results[kind] = {"rps": throughput["rps"], "p50_ms": latency["p50_ms"], "p99_ms": latency["p99_ms"]}
    return results, probabilities


async def _compare_single(servers: dict[str, tuple[Endpoint, int]], load: Load, rounds: int = 10) -> dict[str, Any]:
    """Single-lead latency (one request at a time), requests per second and server CPU time per request of two
    servers (name -> endpoint and process id), measured in alternating rounds (the order flips every round) so that
    other work on the machine falls on both alike. CPU time per request barely depends on that other work."""
    limits = httpx.Limits(max_connections=load.concurrency, max_keepalive_connections=load.concurrency)
    latency_per_round = max(2 * load.latency_requests // rounds, 10)
    throughput_per_round = max(load.single_requests // rounds, load.concurrency)
    names = list(servers)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    walls, cpu = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0.0)
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(headers=endpoint.headers, limits=limits, timeout=60.0)
            )
            for name, (endpoint, _) in servers.items()
        }
        # Both servers as warm as the first one is after its own measurement: every body of the rounds seen once
        # (the features step caches parsed values) and a few batches served (measured: until a fresh service has
        # answered a batch, a single lead costs it about four times the CPU time)
        warmup = max(load.warmup, latency_per_round, throughput_per_round)
        for name, (endpoint, _) in servers.items():
            await _drive(clients[name], endpoint.single_url, endpoint.single_bodies, warmup, load.concurrency)
            await _drive(clients[name], endpoint.batch_url, endpoint.batch_bodies, load.concurrency, load.concurrency)
        for number in range(rounds):
            for name in names if number % 2 == 0 else names[::-1]:
                (endpoint, pid), client = servers[name], clients[name]
                cpu_before = _cpu_seconds(pid)
                latencies[name] += await asyncio.to_thread(
                    _one_at_a_time, endpoint.single_url, endpoint.headers, endpoint.single_bodies, latency_per_round
                )
                started = time.perf_counter()
                await _drive(
                    client, endpoint.single_url, endpoint.single_bodies, throughput_per_round, load.concurrency
                )
                walls[name] += time.perf_counter() - started
                cpu[name] += _cpu_seconds(pid) - cpu_before
    results: dict[str, Any] = {}
    for name, values in latencies.items():
        results[name] = {
            "rps": throughput_per_round * rounds / walls[name],
            **_percentiles(values),
            "cpu_ms_per_request": cpu[name] * 1000 / ((latency_per_round + throughput_per_round) * rounds),
        }
    first, second = names
    results["cost_p50_ms"] = results[first]["p50_ms"] - results[second]["p50_ms"]
    results["cost_p99_ms"] = results[first]["p99_ms"] - results[second]["p99_ms"]
    results["cost_cpu_ms_per_request"] = results[first]["cpu_ms_per_request"] - results[second]["cpu_ms_per_request"]
    results["rounds"] = rounds
    return results


# --- the benchmark ---------------------------------------------------------------------------------------------


def benchmark_serving(base_config: Path, n_leads: int = 100_000, load: Load | None = None) -> dict[str, Any]:
    """Requests per second and latency of leadq's service and of ``mlflow models serve``, same model and client.

    Trains on ``n_leads`` synthetic leads with ``base_config``'s settings (store, data and logs in a temporary
    folder), registers the model for ``leadq serve`` and logs the same scorer as a ``predict_proba`` pyfunc and as
    a pyfunc returning the probability and ``shap.TreeExplainer``'s SHAP values, for ``mlflow models serve``. Each
    server runs alone while it is measured (except the scoring-log comparison: leadq with the log on and off run
    side by side, measured in alternating rounds); all are always stopped.

    Returns:
        ``{"leadq": {"single": {rps, p50_ms, p99_ms}, "batch100": {...}, "batch100_no_reasons": {...}},
        "scoring_log": {"on": {rps, p50_ms, p99_ms, cpu_ms_per_request}, "off": {...}, "cost_p50_ms",
        "cost_p99_ms", "cost_cpu_ms_per_request", "rounds"} (single leads, the durable scoring log on and off),
        "mlflow": {"single": ..., "batch100": ...} (probability only), "mlflow_shap": {"batch100": ...},
        "ratio_single_rps", "ratio_batch100_rps" (with reasons / probability only), "ratio_batch100_shap_rps" (with
        reasons / probability and SHAP values), "ratio_batch100_no_reasons_rps" (reasons: false / probability
        only), "machine": {cpus, load_1min_before, load_1min_after}}``; ratios are leadq / mlflow.
    """
    load = load or Load()
    load_before = os.getloadavg()[0]
    batch = f"batch{BATCH_SIZE}"
    with tempfile.TemporaryDirectory(prefix="leadq-bench-serving-") as scratch:
        folder = Path(scratch)
        with _quiet():
            config, scorer = _train_and_register(base_config, folder, n_leads)
            settings = load_settings(config)
            tracking_uri = settings.mlflow.tracking_uri
            model_uri = _log_probability_model(scorer, tracking_uri, folder)
            shap_uri = _log_probability_model(scorer, tracking_uri, folder, shap_values=True)
        fields = input_fields(scorer.pipeline)
        records = lead_records(generate_for(settings, BODY_LEADS, settings.synthetic.seed + 1).leads, fields)
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

        api_key = secrets.token_urlsafe(24)
        port = _free_port()
        leadq = _leadq_endpoint(port, api_key, records)
        command = [str(BIN / "leadq"), "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
        leadq_env = {**env, "LEADQ_API_KEYS": f"bench:{api_key}"}
        with _running("leadq", command, leadq_env, f"http://127.0.0.1:{port}/readyz", folder) as on_pid:
            leadq_results, leadq_p = asyncio.run(_measure_async(leadq, load))
            decided, decided_p = asyncio.run(
                _measure_async(_leadq_endpoint(port, api_key, records, reasons=False), load, (batch,))
            )
            leadq_results[f"{batch}_no_reasons"] = decided[batch]
            # the same service with its scoring log off, running beside it: what the durable log costs
            off_port = _free_port()
            command = [str(BIN / "leadq"), "serve", "--config", str(_without_scoring_log(config))]
            command += ["--host", "127.0.0.1", "--port", str(off_port)]
            with _running("leadq-no-log", command, leadq_env, f"http://127.0.0.1:{off_port}/readyz", folder) as off_pid:
                no_log = _leadq_endpoint(off_port, api_key, records)
                scoring_log = asyncio.run(_compare_single({"on": (leadq, on_pid), "off": (no_log, off_pid)}, load))

        mlflow_env = {**env, "MLFLOW_TRACKING_URI": tracking_uri}
        measured: dict[str, tuple[dict[str, dict[str, float]], list[float]]] = {}
        for name, uri, kinds in (("mlflow", model_uri, ("single", batch)), ("mlflow-shap", shap_uri, (batch,))):
            port = _free_port()
            command = [str(BIN / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local"]
            command += ["--host", "127.0.0.1", "--port", str(port)]
            with _running(name, command, mlflow_env, f"http://127.0.0.1:{port}/ping", folder):
                measured[name] = asyncio.run(_measure_async(_mlflow_endpoint(port, records), load, kinds))
    (mlflow_results, mlflow_p), (shap_results, shap_p) = measured["mlflow"], measured["mlflow-shap"]

    for other, probabilities in (("reasons: false", decided_p), ("mlflow", mlflow_p), ("mlflow with SHAP", shap_p)):
        difference = float(np.max(np.abs(np.asarray(leadq_p) - np.asarray(probabilities))))
        if difference > PROBABILITY_TOLERANCE:
            raise ServingBenchmarkError(f"leadq and {other} disagree on the same leads (max |dp| = {difference:.2e})")
    return {
        "leadq": leadq_results,
        "scoring_log": scoring_log,
        "mlflow": mlflow_results,
        "mlflow_shap": shap_results,
        "ratio_single_rps": leadq_results["single"]["rps"] / mlflow_results["single"]["rps"],
        f"ratio_{batch}_rps": leadq_results[batch]["rps"] / mlflow_results[batch]["rps"],
        f"ratio_{batch}_shap_rps": leadq_results[batch]["rps"] / shap_results[batch]["rps"],
        f"ratio_{batch}_no_reasons_rps": leadq_results[f"{batch}_no_reasons"]["rps"] / mlflow_results[batch]["rps"],
        "machine": {"cpus": os.cpu_count(), "load_1min_before": load_before, "load_1min_after": os.getloadavg()[0]},
    }
