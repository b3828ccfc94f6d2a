"""The scoring log on a real PostgreSQL server (started by ``make test`` and CI; skipped locally without one): rows
spooled and written, a replay that writes nothing twice, an older table brought up to date, a database that does
not exist yet and a role that may not insert (rows wait in the spool until they can be written), and the audit
reading the table back by quarter in UTC across a daylight-saving change of the server's time zone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from pipelines.audit import read_scoring_log
from serving.scoring_log import ScoringLog, prepare_log_table, score_row
from tests.builders import SCORED_RESULT, logged_rows, wait_until

RESULT = SCORED_RESULT
FAST = {"max_backoff_s": 0.2, "flush_interval_s": 0.05}


def _rows(prefix: str, count: int, created: datetime | None = None) -> list[dict[str, object]]:
    return [score_row(f"{prefix}{i}", RESULT, "leadq", "3", 0.2, created) for i in range(count)]


def _execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_rows_are_written_with_their_types_and_the_driver_is_psycopg(postgres_url: str, tmp_path: Path) -> None:
    log = ScoringLog(postgres_url, spool_path=tmp_path / "spool", **FAST)
    created = datetime(2026, 10, 5, 7, 30, tzinfo=UTC)
    log.append(_rows("P", 700, created))
    log.close()

    rows = logged_rows(postgres_url)
    assert log.engine.dialect.driver == "psycopg"
    assert len(rows) == 700
    assert len({row["row_id"] for row in rows}) == 700
    assert rows[0]["lead_created_at"] == created  # timestamptz: the same instant, in the session's time zone
    assert rows[0]["scored_at"].tzinfo is not None
    assert (rows[0]["is_mql"], rows[0]["score"], rows[0]["respond_within_hours"]) == (True, 31, 4.0)
    assert (log.stats().written, log.stats().backlog) == (700, 0)


def test_a_replayed_spool_writes_no_row_twice(postgres_url: str, tmp_path: Path) -> None:
    """The unique row_id index on PostgreSQL: rows already in the table are skipped when a spool is replayed."""
    first = ScoringLog(postgres_url, spool_path=tmp_path / "spool", **FAST)
    rows = _rows("R", 50)
    first.append(rows)
    first.close()
    again = ScoringLog(postgres_url, spool_path=tmp_path / "spool-copy", **FAST)
    again.append(rows[:20])  # the same rows (same row_id): a spool replayed after the database had them
    again.append(_rows("NEW", 5))
    again.close()

    logged = logged_rows(postgres_url)
    assert len(logged) == 55
    assert (again.stats().written, again.stats().replayed_duplicates) == (5, 20)


def test_an_older_log_table_gains_the_new_columns_and_keeps_its_rows(postgres_url: str, tmp_path: Path) -> None:
    _execute(
        postgres_url,
        "CREATE TABLE scores (id SERIAL PRIMARY KEY, lead_id VARCHAR(100) NOT NULL, scored_at TIMESTAMPTZ NOT NULL, "
        "model_name VARCHAR(200) NOT NULL, model_version VARCHAR(50) NOT NULL, probability FLOAT NOT NULL, "
        "score INTEGER NOT NULL, is_mql BOOLEAN NOT NULL, threshold FLOAT NOT NULL, grade VARCHAR(2) NOT NULL, "
        "priority VARCHAR(50) NOT NULL, reasons TEXT NOT NULL, features TEXT NOT NULL)",
        "INSERT INTO scores (lead_id, scored_at, model_name, model_version, probability, score, is_mql, threshold, "
        "grade, priority, reasons, features) VALUES ('OLD', '2026-07-01 10:00:00+00', 'leadq', '1', 0.1, 10, false, "
        "0.2, 'C3', 'nurture', '{}', '{}')",
    )

    log = ScoringLog(postgres_url, spool_path=tmp_path / "spool", **FAST)
    log.append(_rows("NEW", 1))
    log.close()

    rows = logged_rows(postgres_url)
    assert [row["lead_id"] for row in rows] == ["OLD", "NEW0"]
    assert (rows[0]["row_id"], rows[0]["respond_within_hours"], rows[0]["lead_created_at"]) == (None, None, None)
    engine = sa.create_engine(postgres_url)
    unique = [index for index in sa.inspect(engine).get_indexes("scores") if index["column_names"] == ["row_id"]]
    engine.dispose()
    assert unique
    assert unique[0]["unique"]


def test_a_database_created_after_the_service_started_gets_every_row(postgres_url: str, tmp_path: Path) -> None:
    """The log's database does not exist yet when the service starts: rows wait in the spool until it does."""
    missing = sa.make_url(postgres_url).set(database=f"{sa.make_url(postgres_url).database}_later")
    url = missing.render_as_string(hide_password=False)
    log = ScoringLog(url, spool_path=tmp_path / "spool", **FAST)
    try:
        log.append(_rows("W", 30))
        wait_until(lambda: log.stats().retried > 0, "a failed write to the missing database")
        assert log.stats().backlog == 30

        _execute(postgres_url, f'CREATE DATABASE "{missing.database}"')
        wait_until(lambda: log.stats().backlog == 0, "the spooled rows written once the database exists")
        log.close()
        assert len(logged_rows(url)) == 30
    finally:
        log.close()
        _execute(postgres_url, f'DROP DATABASE IF EXISTS "{missing.database}" WITH (FORCE)')


@pytest.fixture
def reader_role(postgres_url: str) -> Iterator[str]:
    """A login role of its own that may read and create nothing yet in the test database; dropped after the test."""
    role = f"leadq_writer_{uuid.uuid4().hex[:12]}"
    _execute(postgres_url, f'CREATE ROLE "{role}" LOGIN')
    try:
        yield role
    finally:
        _execute(postgres_url, f'DROP OWNED BY "{role}"', f'DROP ROLE IF EXISTS "{role}"')


def test_a_role_that_may_not_insert_keeps_rows_until_it_is_granted(
    postgres_url: str, reader_role: str, tmp_path: Path
) -> None:
    engine = sa.create_engine(postgres_url)
    prepare_log_table(engine)  # the table exists, owned by the test server's superuser
    engine.dispose()
    _execute(postgres_url, f'GRANT SELECT ON scores, latest_scores TO "{reader_role}"')
    as_role = sa.make_url(postgres_url).set(username=reader_role).render_as_string(hide_password=False)
    log = ScoringLog(as_role, spool_path=tmp_path / "spool", **FAST)
    try:
        log.append(_rows("G", 40))
        wait_until(lambda: log.stats().retried > 0, "a refused INSERT (permission denied)")
        assert logged_rows(postgres_url) == []

        _execute(
            postgres_url,
            f'GRANT INSERT ON scores TO "{reader_role}"',
            f'GRANT INSERT, UPDATE ON latest_scores TO "{reader_role}"',
            f'GRANT USAGE ON SEQUENCE scores_id_seq TO "{reader_role}"',
        )
        wait_until(lambda: log.stats().backlog == 0, "the spooled rows written once INSERT is granted")
    finally:
        log.close()
    assert len(logged_rows(postgres_url)) == 40


def test_the_audit_reads_quarters_in_utc_from_a_server_in_another_time_zone(postgres_url: str, tmp_path: Path) -> None:
    """Rows on both sides of a daylight-saving change come back from PostgreSQL with different UTC offsets."""
    log = ScoringLog(postgres_url, spool_path=tmp_path / "spool", **FAST)
    log.append(
        [
            *_rows("SUMMER", 1, datetime(2026, 10, 5, 9, 0, tzinfo=UTC)),  # Berlin: +02:00
            *_rows("WINTER", 1, datetime(2026, 12, 31, 23, 30, tzinfo=UTC)),  # Berlin: +01:00, already 2027
            *_rows("NEXT", 1, datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        ]
    )
    log.close()
    _execute(postgres_url, f"ALTER DATABASE \"{sa.make_url(postgres_url).database}\" SET timezone = 'Europe/Berlin'")

    scores = read_scoring_log(postgres_url, pd.Timestamp("2026-10-01"), pd.Timestamp("2027-01-01"))

    assert scores["lead_id"].tolist() == ["SUMMER0", "WINTER0"]
    assert scores["clock_start"].tolist() == [pd.Timestamp("2026-10-05 09:00"), pd.Timestamp("2026-12-31 23:30")]
    assert scores["features"].iloc[0]["industry"] == "Software"
