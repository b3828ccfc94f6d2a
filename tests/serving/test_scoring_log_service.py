"""The scoring log as the service shows it: every answered score is logged or the answer says it is not; /readyz
and /metrics show a log falling behind or a spool that cannot write (real SQLite files, the app on the registry)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipelines.settings import Settings
from tests.builders import AUTH, exclusive_lock, logged_rows, scoring_request, served_app, wait_until

LOGGER = "leadq.serving.scoring_log"


def _metric(client: TestClient, name: str) -> float:
    """One sample of /metrics, by its name and labels."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def _episode_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]


def test_a_locked_log_database_shows_in_readyz_and_metrics_and_loses_no_answered_score(
    registry: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    database = tmp_path / "log.db"
    app = served_app(
        registry,
        scoring_log_url=f"sqlite:///{database}?timeout=0.2",
        scoring_log_flush_s=0.05,
        scoring_log_max_backlog=3,
    )
    with TestClient(app) as client:
        assert client.post("/v1/leads/score", json=scoring_request(lead_id="FIRST"), headers=AUTH).status_code == 200
        wait_until(lambda: _metric(client, "leadq_scoring_log_rows_written_total") == 1, "the first row written")

        with exclusive_lock(database):
            answered = [
                client.post("/v1/leads/score", json=scoring_request(lead_id=f"LOCKED-{n}"), headers=AUTH)
                for n in range(5)
            ]
            wait_until(lambda: _metric(client, "leadq_scoring_log_database_failing") == 1, "the failure noticed")
            ready = client.get("/readyz")
            backlog = _metric(client, "leadq_scoring_log_backlog_rows")
            retried = _metric(client, "leadq_scoring_log_rows_retried_total")

        wait_until(lambda: _metric(client, "leadq_scoring_log_backlog_rows") == 0, "the backlog written")
        ready_again = client.get("/readyz")
        written = _metric(client, "leadq_scoring_log_rows_written_total")

    assert [response.status_code for response in answered] == [200] * 5  # the requests never waited for the lock
    assert ready.status_code == 503
    assert ready.json()["reason"] == "scoring log: 5 rows wait for the database, limit 3 (the database is failing)"
    assert backlog == 5
    assert retried > 0
    assert ready_again.status_code == 200
    assert written == 6
    assert sorted(row["lead_id"] for row in logged_rows(f"sqlite:///{database}")) == sorted(
        ["FIRST"] + [f"LOCKED-{n}" for n in range(5)]
    )
    lines = _episode_lines(caplog)
    assert len([line for line in lines if "cannot write to the database" in line]) == 1
    assert len([line for line in lines if "takes writes again" in line]) == 1
    assert "LOCKED" not in "\n".join(record.getMessage() for record in caplog.records)


def test_a_spool_that_cannot_write_refuses_scores_with_503(registry: Settings, tmp_path: Path) -> None:
    """The log's database cannot be reached (its folder is a file) and the spool reaches its size cap."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app = served_app(
        registry,
        scoring_log_url=f"sqlite:///{blocker / 'log.db'}",
        scoring_log_spool=str(tmp_path / "spool"),
        scoring_log_spool_max_mb=0.1,
    )
    batch = {"leads": [scoring_request(lead_id=f"B{n}") for n in range(20)]}
    with TestClient(app) as client:
        statuses = [client.post("/v1/leads/score-batch", json=batch, headers=AUTH).status_code for _ in range(30)]
        refused = client.post("/v1/leads/score", json=scoring_request(), headers=AUTH)
        ready = client.get("/readyz")
        counted = _metric(client, "leadq_scoring_log_rows_refused_total")
        scored = _metric(client, 'leadq_scores_total{model_version="1"}')
        spooled = _metric(client, "leadq_scoring_log_rows_spooled_total")

    assert statuses[0] == 200
    assert statuses[-1] == 503
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "scoring_log_unavailable"
    assert ready.status_code == 503
    assert "the spool cannot write (policy: refuse)" in ready.json()["reason"]
    assert counted == 20 * statuses.count(503) + 1
    assert spooled == 20 * statuses.count(200)
    assert scored == spooled  # a refused score is not counted as scored


def test_the_serve_policy_answers_but_says_the_score_is_not_logged(registry: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app = served_app(
        registry,
        scoring_log_url=f"sqlite:///{blocker / 'log.db'}",
        scoring_log_spool=str(tmp_path / "spool"),
        scoring_log_spool_max_mb=0.1,
        scoring_log_on_spool_failure="serve",
    )
    batch = {"leads": [scoring_request(lead_id=f"B{n}") for n in range(20)]}
    with TestClient(app) as client:
        answers = [client.post("/v1/leads/score-batch", json=batch, headers=AUTH) for _ in range(30)]
        dropped = _metric(client, "leadq_scoring_log_rows_dropped_total")

    assert {answer.status_code for answer in answers} == {200}
    first, last = answers[0].json()["results"][0], answers[-1].json()["results"][0]
    assert not [warning for warning in first["warnings"] if "scoring log" in warning]
    assert "not in the scoring log (it cannot write): the audit will not see this score" in last["warnings"]
    unlogged = [answer for answer in answers if "the audit will not see" in str(answer.json()["results"][0])]
    assert dropped == 20 * len(unlogged) > 0
