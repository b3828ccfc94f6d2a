"""A real ``leadq serve`` process killed (SIGKILL) under batch load and started again: every score it answered is
in the scoring log, once."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from pipelines.settings import Settings
from tests.builders import AUTH, CRM_KEY, logged_rows, scoring_request, wait_until

LEADQ = Path(sys.executable).parent / "leadq"
BATCH = 200
CLIENTS = 3
ANSWERED_BEFORE_KILL = 8  # batches


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write_config(registry: Settings, folder: Path) -> tuple[Path, str]:
    """``leadq serve``'s settings: the session's registry, the scoring log in ``folder``; its URL."""
    log_url = f"sqlite:///{folder / 'scoring_log.db'}"
    content = {
        "mlflow": {
            "tracking_uri": registry.mlflow.tracking_uri,
            "artifact_location": str(registry.mlflow.artifact_location),
            "registered_model": registry.mlflow.registered_model,
        },
        # written only by the batch-size wake-up: rows wait in the spool most of the time
        "serving": {"scoring_log_url": log_url, "scoring_log_flush_s": 60},
    }
    config = folder / "mlflow.yml"
    config.write_text(yaml.safe_dump(content))
    return config, log_url


@contextlib.contextmanager
def _serving(config: Path, port: int, output: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``leadq serve`` in its own process; yields once /readyz answers 200; stops it (SIGTERM) if still running."""
    env = {**os.environ, "LEADQ_API_KEYS": f"crm:{CRM_KEY}"}
    command = [str(LEADQ), "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    with output.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:

        def ready() -> bool:
            assert process.poll() is None, f"leadq serve exited:\n{output.read_text()[-3000:]}"
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            return False

        wait_until(ready, "leadq serve ready", timeout_s=180)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def _load(port: int, sent: set[str], answered: set[str], stop: threading.Event) -> None:
    """Post 200-lead batches with fresh lead ids until told to stop or the server is gone."""
    url = f"http://127.0.0.1:{port}/v1/leads/score-batch"
    worker = threading.current_thread().name
    with httpx.Client(headers=AUTH, timeout=60) as client:
        for number in range(10_000):
            if stop.is_set():
                return
            ids = [f"{worker}-{number}-{lead}" for lead in range(BATCH)]
            sent.update(ids)
            try:
                response = client.post(url, json={"leads": [scoring_request(lead_id=lead_id) for lead_id in ids]})
            except httpx.HTTPError:  # the server was killed
                return
            if response.status_code == 200:
                answered.update(result["lead_id"] for result in response.json()["results"])


def _spooled(folder: Path) -> int:
    with contextlib.closing(sqlite3.connect(folder / "scoring_log.db.spool")) as spool:
        return int(spool.execute("SELECT count(*) FROM spool").fetchone()[0])


@pytest.mark.slow
def test_a_killed_service_logs_every_answered_score_after_a_restart(registry: Settings, tmp_path: Path) -> None:
    config, log_url = _write_config(registry, tmp_path)
    port = _free_port()
    sent: set[str] = set()
    answered: set[str] = set()
    stop = threading.Event()
    output = tmp_path / "serve.log"

    with _serving(config, port, output) as process:
        clients = [
            threading.Thread(target=_load, args=(port, sent, answered, stop), name=f"C{n}") for n in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        wait_until(lambda: len(answered) >= ANSWERED_BEFORE_KILL * BATCH, "batches answered", timeout_s=120)
        process.send_signal(signal.SIGKILL)  # in the middle of requests: some answered, some not
        process.wait(timeout=30)
        stop.set()
        for client in clients:
            client.join(timeout=60)

    logged_at_kill = {row["lead_id"] for row in logged_rows(log_url)}
    waiting_in_spool = _spooled(tmp_path)
    with _serving(config, port, output):
        pass  # started (the spool is replayed in the background) and stopped cleanly (the spool is drained)

    rows = logged_rows(log_url)
    logged = [row["lead_id"] for row in rows]
    missing = answered - set(logged)
    assert not missing, (
        f"{len(missing)} of {len(answered)} answered scores are not in the log "
        f"({len(logged_at_kill)} were logged and {waiting_in_spool} spooled at the kill)"
    )
    assert len(logged) == len(set(logged)), "a score is in the log twice"
    assert set(logged) <= sent
    assert len({row["row_id"] for row in rows}) == len(rows)
    assert "Traceback" not in output.read_text()
