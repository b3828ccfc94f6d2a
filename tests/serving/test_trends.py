"""Each lead's trend in the service's answers, read from the scoring log (real SQLite files, the app on the registry):
new, then steady or improving once the earlier score is in the log's database; one indexed query per request; a
log that cannot be read answers trend null and still scores."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from pipelines.serve import build_service
from pipelines.settings import Settings
from serving.log_reader import LogReader
from serving.scoring_log import insert_scores, prepare_log_table, score_row, select_first_scores
from serving.trends import ScoreTrends
from tests.builders import (
    AUTH,
    SCORED_RESULT,
    exclusive_lock,
    logged_rows,
    scoring_request,
    served_app,
    table_lock,
    wait_until,
)

LOGGER = "leadq.serving.log_reader"
INDEX = "ix_scores_lead_id_scored_at"
COLD = {"website_visits": 0, "pricing_page_visits": 0, "content_downloads": 0, "demo_requested": False}
HOT = {"website_visits": 25, "pricing_page_visits": 6, "content_downloads": 4, "demo_requested": True}


def _score(client: TestClient, lead_id: str, **fields: object) -> dict[str, Any]:
    response = client.post("/v1/leads/score", json=scoring_request(lead_id=lead_id, **fields), headers=AUTH)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _flushed(url: str, rows: int) -> None:
    wait_until(lambda: len(logged_rows(url)) == rows, f"{rows} scores in the log's database")


def _log_with(url: str, scores: list[tuple[str, int, datetime]]) -> None:
    """A scoring log holding these (lead, score, scored_at), as the service writes them."""
    engine = sa.create_engine(url)
    prepare_log_table(engine)
    rows = [
        {**score_row(lead, {**SCORED_RESULT, "score": score}, "leadq", "1", 0.2), "scored_at": at}
        for lead, score, at in scores
    ]
    with engine.begin() as connection:
        insert_scores(connection, rows)
    engine.dispose()


def test_a_lead_is_new_then_steady_then_improving_or_declining(
    registry: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=0.05)) as client:
        first = _score(client, "T-UP", **COLD)
        falling = _score(client, "T-DOWN", **HOT)
        _flushed(url, 2)
        again = _score(client, "T-UP", **COLD)
        _flushed(url, 3)
        warmer = _score(client, "T-UP", **HOT)
        colder = _score(client, "T-DOWN", **COLD)
        unexplained = client.post(
            "/v1/leads/score", json={**scoring_request(lead_id="T-UP", **HOT), "reasons": False}, headers=AUTH
        ).json()

    assert warmer["score"] - first["score"] >= 5, "the hot lead must score 5 points (min_change_points) higher"
    assert (first["trend"], falling["trend"]) == ("new", "new")
    assert again["score"] == first["score"]
    assert again["trend"] == "steady"
    assert warmer["trend"] == "improving"  # against the first score in the window, not the last
    assert colder["trend"] == "declining"
    assert unexplained["reasons"] is False
    assert unexplained["trend"] == "improving"
    assert all("trend" not in warning for answer in (first, again, warmer) for warning in answer["warnings"])
    assert not [record for record in caplog.records if record.name == LOGGER]


def test_the_batch_gives_each_lead_its_trend_against_the_log_twice_in_a_batch_too(
    registry: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=0.05)) as client:
        _score(client, "B-SAME", **COLD)
        _score(client, "B-UP", **COLD)
        _flushed(url, 2)
        leads = [
            scoring_request(lead_id="B-UP", **HOT),
            scoring_request(lead_id="B-NEW", **COLD),
            scoring_request(lead_id="B-SAME", **COLD),
            scoring_request(lead_id="B-UP", **COLD),  # twice in one batch: each against the log
        ]
        response = client.post("/v1/leads/score-batch", json={"leads": leads}, headers=AUTH)
        _flushed(url, 6)
        unexplained = client.post("/v1/leads/score-batch", json={"leads": leads, "reasons": False}, headers=AUTH)

    assert response.status_code == 200
    trends = [(one["lead_id"], one["trend"]) for one in response.json()["results"]]
    assert trends == [("B-UP", "improving"), ("B-NEW", "new"), ("B-SAME", "steady"), ("B-UP", "steady")]
    twice = "this lead_id is sent 2 times in the batch: each is scored"
    assert [twice in one["warnings"] for one in response.json()["results"]] == [True, False, False, True]
    # B-NEW's first score is in the log now; B-UP's first score in the window is still its first cold one
    assert [one["trend"] for one in unexplained.json()["results"]] == ["improving", "steady", "steady", "steady"]


def test_without_a_scoring_log_the_trend_is_null(registry: Settings) -> None:
    with TestClient(served_app(registry)) as client:
        answer = _score(client, "T-1")
        batch = client.post("/v1/leads/score-batch", json={"leads": [scoring_request(lead_id="T-2")]}, headers=AUTH)
        schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert answer["trend"] is None
    assert not [warning for warning in answer["warnings"] if "trend" in warning]  # null says it: no log
    assert batch.json()["results"][0]["trend"] is None
    for name in ("ScoreOut", "DecisionOut"):
        trend = schema[name]["properties"]["trend"]
        assert {"improving", "steady", "declining", "new"} <= set(trend["anyOf"][0]["enum"])
        assert trend["anyOf"][1] == {"type": "null"}
        assert "null when no scoring log is configured" in trend["description"]


def test_a_locked_log_answers_trend_null_scores_anyway_and_reads_again_later(
    registry: Settings, postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = postgres_url
    app = served_app(registry, scoring_log_url=url, scoring_log_spool=str(tmp_path / "spool"), scoring_log_flush_s=0.05)
    with TestClient(app) as client:
        _score(client, "SECRET-LEAD-1")
        _flushed(url, 1)
        with table_lock(url):
            locked = [_score(client, "SECRET-LEAD-1") for _ in range(3)]
            batch = client.post(
                "/v1/leads/score-batch", json={"leads": [scoring_request(lead_id="SECRET-LEAD-2")]}, headers=AUTH
            )
        _flushed(url, 5)
        wait_until(lambda: _score(client, "SECRET-LEAD-1")["trend"] == "steady", "trends read again", timeout_s=10)

    assert [answer["trend"] for answer in locked] == [None] * 3
    assert all("trend unknown: the lead's earlier scores could not be read" in answer["warnings"] for answer in locked)
    assert batch.status_code == 200
    assert batch.json()["results"][0]["trend"] is None
    lines = [record.getMessage() for record in caplog.records if record.name == LOGGER]
    assert len(
        [
            line
            for line in lines
            if "cannot read the scoring log (QueryCanceled: canceling statement due to statement timeout)" in line
        ]
    )
    assert len([line for line in lines if "cannot read the scoring log" in line]) == 1  # one line per episode
    assert len([line for line in lines if "can be read again" in line]) == 1
    assert "SECRET" not in "\n".join(record.getMessage() for record in caplog.records)


def test_a_sqlite_log_locked_by_a_writer_is_still_read(registry: Settings, tmp_path: Path) -> None:
    # the log is in WAL mode: a writer's exclusive transaction (a backup, a stuck client) blocks no read
    database = tmp_path / "log.db"
    url = f"sqlite:///{database}"
    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=0.05)) as client:
        _score(client, "LEAD-1")
        _flushed(url, 1)
        with exclusive_lock(database):
            locked = _score(client, "LEAD-1")

    assert locked["trend"] == "steady"
    assert not [warning for warning in locked["warnings"] if "could not be read" in warning]


def test_a_log_file_gone_answers_trend_null_and_is_not_created_by_reading(registry: Settings, tmp_path: Path) -> None:
    database = tmp_path / "log.db"
    url = f"sqlite:///{database}"
    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=60)) as client:
        database.unlink()  # prepared at start; the writer has nothing to write for a minute
        answer = _score(client, "T-1")
        assert not database.exists()
    assert answer["trend"] is None


def test_the_trend_index_is_added_to_a_log_from_an_older_leadq_at_start(registry: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _log_with(url, [("OLD-1", 40, datetime.now(UTC) - timedelta(days=1))])
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP INDEX {INDEX}"))
    assert INDEX not in {index["name"] for index in sa.inspect(engine).get_indexes("scores")}

    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=60)) as client:
        indexes = {index["name"]: index["column_names"] for index in sa.inspect(engine).get_indexes("scores")}
        answer = _score(client, "OLD-1")  # before the writer wrote anything: the index came with the start

    assert indexes[INDEX] == ["lead_id", "scored_at"]
    assert answer["trend"] in {"improving", "declining", "steady"}  # against the older leadq's score
    query = select_first_scores(datetime.now(UTC), ["OLD-1", "OLD-2"])
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        plan = " ".join(str(row) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    engine.dispose()
    # the leads in latest_scores, then one seek per lead on the index (not every score of the window)
    assert "SEARCH latest_scores USING INDEX" in plan, plan
    assert f"SEARCH scores USING INDEX {INDEX} (lead_id=? AND scored_at>?)" in plan, plan
    assert "SCAN" not in plan, plan


def test_scores_before_the_window_do_not_count_and_one_query_reads_all_leads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    now = datetime.now(UTC)
    _log_with(
        url,
        [
            ("OUTSIDE", 10, now - timedelta(days=31)),  # before the 30-day window: not the first score
            ("OUTSIDE", 50, now - timedelta(days=20)),
            ("UP", 30, now - timedelta(days=10)),
            ("UP", 60, now - timedelta(days=5)),  # a later score: the first one in the window decides
            ("OLD", 90, now - timedelta(days=40)),
        ],
    )
    reader = ScoreTrends(LogReader(url), window_days=30, min_change_points=5)
    statements: list[str] = []
    sa.event.listen(reader.log.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    trends = reader.trends(["OUTSIDE", "UP", "OLD", "NEVER"], [52, 34, 10, 70])
    reader.log.close()

    assert trends == ["steady", "steady", "new", "new"]
    assert len(statements) == 1
    assert "lead_id IN" in statements[0]


def test_an_unreachable_database_answers_none_and_waits_before_it_tries_again() -> None:
    reader = ScoreTrends(LogReader("postgresql+psycopg://leadq@127.0.0.1:1/leadq", first_retry_s=60), 30, 5)
    attempts: list[object] = []
    sa.event.listen(reader.log.engine, "do_connect", lambda *args: attempts.append(args))
    assert reader.trends(["A"], [50]) is None  # connection refused
    assert reader.trends(["A"], [50]) is None
    reader.log.close()
    assert len(attempts) == 1  # not tried again before its retry time: no request waits on a database that is down


def test_leadq_serve_takes_the_trend_window_and_change_from_the_trends_settings(
    registry: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _log_with(url, [("T-OLD", 10, datetime.now(UTC) - timedelta(days=2))])
    settings = registry.model_copy(
        update={
            "serving": registry.serving.model_copy(update={"scoring_log_url": url, "scoring_log_flush_s": 0.05}),
            "trends": registry.trends.model_copy(update={"window_days": 1, "min_change_points": 100}),
        }
    )
    with TestClient(build_service(settings, {"crm": AUTH["X-API-Key"]})) as client:
        old = _score(client, "T-OLD", **HOT)
        _score(client, "T-1", **COLD)
        _flushed(url, 3)
        warmer = _score(client, "T-1", **HOT)
    assert old["trend"] == "new"  # its score two days ago is outside the one-day window
    assert warmer["trend"] == "steady"  # no change of the 0-100 score reaches 100 points


def test_trends_read_a_postgresql_log_on_its_index(postgres_url: str) -> None:
    now = datetime.now(UTC)
    _log_with(
        postgres_url,
        [
            ("UP", 30, now - timedelta(days=10)),
            ("UP", 60, now - timedelta(days=5)),
            ("SAME", 40, now - timedelta(days=1)),
            ("OLD", 90, now - timedelta(days=40)),
        ],
    )
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:  # a log from an older leadq
        connection.execute(sa.text(f"DROP INDEX {INDEX}"))
    reader = ScoreTrends(LogReader(postgres_url), window_days=30, min_change_points=5)
    reader.log.prepare()
    indexes = {index["name"]: index["column_names"] for index in sa.inspect(engine).get_indexes("scores")}
    engine.dispose()

    trends = reader.trends(["UP", "SAME", "OLD", "NEVER"], [34, 44, 10, 70])
    reader.log.close()

    assert indexes[INDEX] == ["lead_id", "scored_at"]
    assert trends == ["steady", "steady", "new", "new"]
