"""The scoring log: rows spooled in the request and written in the background, every row kept on close and after a
killed process, written once after a replay, kept through a locked, an unwritable and a full database (real SQLite
files, real faults), refused or served without logging by policy when the spool itself cannot write."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from pipelines.audit import read_scoring_log
from serving.scoring_log import (
    LATEST_SCORES,
    SCORES,
    ScoringLog,
    ScoringLogUnavailableError,
    _replace_latest,
    new_row_ids,
    prepare_log_table,
    score_row,
)
from tests.builders import SCORED_RESULT, exclusive_lock, logged_rows, wait_until

LOGGER = "leadq.serving.scoring_log"
RESULT = SCORED_RESULT
# a score asked for with reasons: false: the decision and the model features only
DECIDED = {key: SCORED_RESULT[key] for key in ("probability", "score", "is_mql", "features")}
FAST = {"max_backoff_s": 0.2}  # retry a failing database every 0.2 s at most: recovery is seen at once


def _rows(prefix: str, count: int) -> list[dict[str, object]]:
    return [score_row(f"{prefix}{i}", RESULT, "leadq", "3", 0.2) for i in range(count)]


def _lines(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and words in r.getMessage()]


def _assert_one_failure_episode(caplog: pytest.LogCaptureFixture, error: str, prefix: str) -> None:
    """One line when the database failed (naming ``error``), one when it took writes again, none about rows."""
    assert len(_lines(caplog, f"cannot write to the database{error}")) == 1
    assert len(_lines(caplog, "the database takes writes again")) == 1
    _assert_quiet_about_rows(caplog, prefix)


def _assert_quiet_about_rows(caplog: pytest.LogCaptureFixture, prefix: str) -> None:
    """No lead id, feature or traceback in any line the log wrote."""
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert prefix not in text
    assert "Software" not in text
    assert not [record for record in caplog.records if record.exc_info]


def _append_until_refused(log: ScoringLog, prefix: str, size: int) -> int:
    """Append ``size`` rows at a time until the log refuses them; the rows it took."""
    for attempt in range(1_000):
        try:
            log.append(_rows(f"{prefix}{attempt}-", size))
        except ScoringLogUnavailableError:
            return attempt * size
    raise AssertionError("the spool never refused a row")


def _with_table(url: str) -> None:
    engine = sa.create_engine(url)
    prepare_log_table(engine)
    engine.dispose()


def test_close_writes_every_queued_row(scoring_log_url: str, tmp_path: Path) -> None:
    url = scoring_log_url  # a SQLite file, and a PostgreSQL database
    log = ScoringLog(url, flush_interval_s=60.0, spool_path=tmp_path / "spool")  # no flush by time before close
    created = datetime(2026, 10, 5, 7, 30, tzinfo=UTC)
    log.append([score_row(f"L{i}", RESULT, "leadq", "3", 0.2, created) for i in range(1200)])
    log.close()

    rows = logged_rows(url)
    assert len(rows) == 1200
    assert len({row["row_id"] for row in rows}) == 1200
    assert rows[0]["respond_within_hours"] == 4.0
    assert rows[0]["model_version"] == "3"
    logged_created = datetime.fromisoformat(str(rows[0]["lead_created_at"]))  # SQLite: naive UTC; PostgreSQL: aware
    assert logged_created.replace(tzinfo=logged_created.tzinfo or UTC) == created
    assert log.stats().backlog == 0


def _latest_scores(url: str) -> dict[str, tuple[float, str | None]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(LATEST_SCORES.c.lead_id, LATEST_SCORES.c.probability, LATEST_SCORES.c.account)
        )
        latest = {lead: (probability, account) for lead, probability, account in rows}
    engine.dispose()
    return latest


def test_the_latest_score_of_each_lead_is_kept_whatever_order_the_scores_are_written_in(
    scoring_log_url: str, tmp_path: Path
) -> None:
    url = scoring_log_url  # a SQLite file, and a PostgreSQL database
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def scored(lead: str, probability: float, minutes: int, account: str | None = "acme.de") -> dict[str, object]:
        row = score_row(lead, {**RESULT, "probability": probability}, "leadq", "3", 0.2, account=account)
        return {**row, "scored_at": at + timedelta(minutes=minutes)}

    log = ScoringLog(url, flush_interval_s=60.0, spool_path=tmp_path / "spool")
    # one batch: A twice (the later first), B twice at the same time (the last written wins)
    log.append([scored("A", 0.9, 10), scored("A", 0.1, 5), scored("B", 0.2, 0), scored("B", 0.3, 0)])
    log.close()
    log = ScoringLog(url, flush_interval_s=60.0, spool_path=tmp_path / "spool")
    # a later batch: A's older score spooled late does not replace its latest; C moves to another account
    log.append([scored("A", 0.5, 1), scored("C", 0.4, 0), scored("C", 0.6, 20, account=None)])
    log.close()

    assert _latest_scores(url) == {"A": (0.9, "acme.de"), "B": (0.3, "acme.de"), "C": (0.6, None)}
    assert len(logged_rows(url)) == 7


def test_a_database_without_upserts_keeps_the_latest_scores_by_read_delete_and_insert(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    engine = sa.create_engine(url)
    prepare_log_table(engine)
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def latest(lead: str, probability: float, minutes: int) -> dict[str, object]:
        return {
            "lead_id": lead,
            "scored_at": at + timedelta(minutes=minutes),
            "account": None,
            "probability": probability,
            "is_mql": False,
            "grade": "B2",
        }

    with engine.begin() as connection:  # the path of databases other than SQLite and PostgreSQL, run on SQLite
        _replace_latest(connection, [latest("A", 0.1, 5), latest("B", 0.2, 5)])
        _replace_latest(connection, [latest("A", 0.3, 10), latest("B", 0.4, 1), latest("C", 0.5, 0)])
    engine.dispose()

    assert _latest_scores(url) == {"A": (0.3, None), "B": (0.2, None), "C": (0.5, None)}


def test_indexes_an_older_leadq_made_that_no_read_uses_are_dropped_at_start(scoring_log_url: str) -> None:
    url = scoring_log_url  # a SQLite file, and a PostgreSQL database
    engine = sa.create_engine(url)
    prepare_log_table(engine)
    with engine.begin() as connection:  # as the leadq before latest_scores made them
        connection.execute(sa.text("CREATE INDEX ix_scores_lead_id ON scores (lead_id)"))
        connection.execute(sa.text("CREATE INDEX ix_scores_account_scored_at ON scores (account, scored_at, lead_id)"))

    prepare_log_table(engine)
    indexes = {index["name"] for index in sa.inspect(engine).get_indexes("scores")}
    engine.dispose()

    assert "ix_scores_lead_id" not in indexes  # (lead_id, scored_at) serves a lead's lookups
    assert "ix_scores_account_scored_at" not in indexes  # the accounts are read from latest_scores
    assert {"ix_scores_lead_id_scored_at", "ix_scores_scored_at", "ux_scores_row_id"} <= indexes


def test_a_log_from_an_older_version_gains_the_new_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE scores (id INTEGER PRIMARY KEY, lead_id VARCHAR(100) NOT NULL, scored_at DATETIME NOT "
                "NULL, model_name VARCHAR(200) NOT NULL, model_version VARCHAR(50) NOT NULL, probability FLOAT NOT "
                "NULL, score INTEGER NOT NULL, is_mql BOOLEAN NOT NULL, threshold FLOAT NOT NULL, grade VARCHAR(2) "
                "NOT NULL, priority VARCHAR(50) NOT NULL, reasons TEXT NOT NULL, features TEXT NOT NULL)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO scores (lead_id, scored_at, model_name, model_version, probability, score, is_mql, "
                "threshold, grade, priority, reasons, features) VALUES ('OLD', '2026-07-01 10:00:00', 'leadq', '1', "
                "0.1, 10, 0, 0.2, 'C3', 'nurture', '{}', '{}')"
            )
        )

    log = ScoringLog(url)
    log.append([score_row("NEW", RESULT, "leadq", "2", 0.2), score_row("FAST", DECIDED, "leadq", "2", 0.2)])
    log.close()

    rows = logged_rows(url)
    assert [row["lead_id"] for row in rows] == ["OLD", "NEW", "FAST"]
    assert rows[0]["respond_within_hours"] is None
    assert rows[0]["lead_created_at"] is None
    assert rows[0]["row_id"] is None
    assert rows[1]["respond_within_hours"] == 4.0
    # a score without reasons fits the old NOT NULL columns: empty grade and priority, reasons JSON null
    assert [row["explained"] for row in rows] == [None, 1, 0]
    assert (rows[2]["grade"], rows[2]["priority"], rows[2]["reasons"]) == ("", "", "null")
    assert rows[2]["respond_within_hours"] is None
    assert rows[2]["features"] == rows[1]["features"]
    unique = [index for index in sa.inspect(engine).get_indexes("scores") if index["column_names"] == ["row_id"]]
    assert unique
    assert unique[0]["unique"]
    engine.dispose()
    # each lead's latest score, the older leadq's filled in from its rows at start
    assert set(_latest_scores(url)) == {"OLD", "NEW", "FAST"}


def test_the_audit_reads_a_log_written_before_row_ids(tmp_path: Path) -> None:
    """``leadq audit`` may read a log no service has opened (and upgraded) since the row_id column came."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        columns = [sa.Column(c.name, c.type, primary_key=c.primary_key) for c in SCORES.columns if c.name != "row_id"]
        before_row_ids = sa.Table("scores", sa.MetaData(), *columns)
        before_row_ids.create(connection)
        connection.execute(
            before_row_ids.insert(), [{k: v for k, v in row.items() if k != "row_id"} for row in _rows("OLD", 2)]
        )
    engine.dispose()

    scores = read_scoring_log(url, pd.Timestamp("2000-01-01"), pd.Timestamp("2100-01-01"))

    assert list(scores["lead_id"]) == ["OLD0", "OLD1"]


def test_rows_spooled_by_a_killed_process_are_written_at_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    crash = textwrap.dedent(
        f"""
        import os, signal
        from serving.scoring_log import ScoringLog, score_row
        import time
        log = ScoringLog({url!r}, flush_interval_s=600.0)
        time.sleep(0.5)  # the writer thread has looked at the empty spool and sleeps
        result = {RESULT!r}
        log.append([score_row(f"K{{i}}", result, "leadq", "3", 0.2) for i in range(300)])  # below one batch
        os.kill(os.getpid(), signal.SIGKILL)  # before the writer thread ever wakes
        """
    )
    killed = subprocess.run([sys.executable, "-c", crash], cwd=Path(__file__).parents[2], timeout=120, check=False)
    assert killed.returncode == -9
    assert logged_rows(url) == []  # nothing reached the database: the rows are only in the spool

    caplog.set_level(logging.INFO, logger=LOGGER)
    log = ScoringLog(url)
    log.close()

    rows = logged_rows(url)
    assert sorted(row["lead_id"] for row in rows) == sorted(f"K{i}" for i in range(300))
    assert _lines(caplog, "300 row(s) of an earlier run wait in the spool")
    assert log.stats().written == 300


def test_a_replayed_spool_writes_no_row_twice(tmp_path: Path) -> None:
    """A crash after the database committed a batch and before the spool dropped it: the replay skips those rows."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    spool = tmp_path / "log.db.spool"
    log = ScoringLog(url, flush_interval_s=600.0)
    log.append(_rows("R", 200))
    with (
        contextlib.closing(sqlite3.connect(spool)) as source,
        contextlib.closing(sqlite3.connect(tmp_path / "copy.spool")) as copy,
    ):
        source.backup(copy)  # the spool as it was when the process died: rows not yet deleted
    log.close()
    assert len(logged_rows(url)) == 200
    for leftover in tmp_path.glob("log.db.spool*"):
        if not leftover.name.endswith(".lock"):
            leftover.unlink()
    shutil.copy(tmp_path / "copy.spool", spool)

    replay = ScoringLog(url)
    replay.append(_rows("NEW", 5))
    replay.close()

    rows = logged_rows(url)
    assert len(rows) == 205
    assert len({row["lead_id"] for row in rows}) == 205
    assert (replay.stats().written, replay.stats().replayed_duplicates) == (5, 200)


def test_a_locked_database_delays_rows_and_loses_none(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    database = tmp_path / "log.db"
    url = f"sqlite:///{database}?timeout=0.2"  # give up on the lock after 0.2 s (default 5 s)
    log = ScoringLog(url, flush_interval_s=0.05, max_backlog=50, **FAST)
    log.append(_rows("FIRST", 1))
    wait_until(lambda: log.stats().written == 1, "the first row written")

    with exclusive_lock(database):
        for batch in range(4):
            assert log.append(_rows(f"LOCKED{batch}-", 40)) is True  # the request never waits for the database
        wait_until(lambda: log.stats().retried > 0, "a failed write")
        stats = log.stats()
        assert stats.database_failing
        assert stats.backlog == 160
        assert log.problems() == ["scoring log: 160 rows wait for the database, limit 50 (the database is failing)"]
        threading.Event().wait(0.6)  # several retries fail meanwhile: still one line

    wait_until(lambda: log.stats().backlog == 0, "the backlog written after the lock is released")
    assert log.problems() == []
    log.close()
    assert len(logged_rows(f"sqlite:///{database}")) == 161
    assert len(_lines(caplog, "cannot write to the database (OperationalError: database is locked)")) == 1
    assert len(_lines(caplog, "the database takes writes again")) == 1
    assert len(_lines(caplog, "more than the limit of 50")) == 1
    assert len(_lines(caplog, "within its limit again")) == 1
    _assert_quiet_about_rows(caplog, "LOCKED")


def test_a_database_that_cannot_be_opened_keeps_rows_until_it_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Root ignores file modes, so the fault is real for any user: the database file is replaced by a directory."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    database = tmp_path / "log.db"
    url = f"sqlite:///{database}"
    log = ScoringLog(url, flush_interval_s=0.05, spool_path=tmp_path / "spool", **FAST)
    log.append(_rows("BEFORE", 3))
    wait_until(lambda: log.stats().written == 3, "the first rows written")

    database.rename(tmp_path / "moved.db")
    database.mkdir()
    log.append(_rows("GONE", 50))
    wait_until(lambda: log.stats().database_failing, "the failure noticed")
    assert log.stats().backlog == 50
    database.rmdir()
    (tmp_path / "moved.db").rename(database)

    wait_until(lambda: log.stats().backlog == 0, "the rows written once the file is back")
    log.close()
    assert len(logged_rows(url)) == 53
    _assert_one_failure_episode(caplog, " (OperationalError: unable to open database file)", "GONE")


def test_a_read_only_database_keeps_rows_in_the_spool_for_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A log opened read-only (as a database user without insert rights is) writes nothing; a restart with a
    writable URL writes every row."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    database, spool = tmp_path / "log.db", tmp_path / "log.spool"
    _with_table(f"sqlite:///{database}")
    read_only = f"sqlite:///file:{database}?mode=ro&uri=true"
    log = ScoringLog(read_only, flush_interval_s=0.05, spool_path=spool, close_timeout_s=0.5, **FAST)
    log.append(_rows("RO", 30))
    wait_until(lambda: log.stats().database_failing, "the failure noticed")
    log.close()  # gives up after close_timeout_s: the rows stay in the spool

    assert logged_rows(f"sqlite:///{database}") == []
    assert _lines(caplog, "cannot write to the database (OperationalError: attempt to write a readonly database)")
    assert _lines(caplog, "30 row(s) stay in the spool")
    writable = ScoringLog(f"sqlite:///{database}", spool_path=spool)
    writable.close()
    assert len(logged_rows(f"sqlite:///{database}")) == 30
    _assert_quiet_about_rows(caplog, "RO")


def test_a_full_database_keeps_rows_until_there_is_room(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """SQLite's own size limit (``max_page_count``) gives the real SQLITE_FULL error a full disk gives."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _with_table(url)
    log = ScoringLog(url, flush_interval_s=0.05, spool_path=tmp_path / "spool", **FAST)

    def no_room(connection: sqlite3.Connection, _: object) -> None:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")

    sa.event.listen(log.engine, "connect", no_room)  # every batch opens the file afresh, with no room to grow
    log.append(_rows("FULL", 100))
    wait_until(lambda: log.stats().database_failing, "the full database noticed")
    sa.event.remove(log.engine, "connect", no_room)

    wait_until(lambda: log.stats().backlog == 0, "the rows written once there is room")
    log.close()
    assert len(logged_rows(url)) == 100
    _assert_one_failure_episode(caplog, " (OperationalError: database or disk is full)", "FULL")


@contextlib.contextmanager
def _small_disk(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A real, tiny file system (tmpfs) mounted at ``folder``; the test is skipped where mounting is not allowed."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN): {mounted.stderr.decode()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(disk: Path) -> Path:
    """Take every free byte of ``disk``."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (65536, 4096, 1):  # down to the last byte
            with contextlib.suppress(OSError):
                while True:
                    os.write(descriptor, b"\0" * chunk)
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_under_the_database_keeps_rows_until_space_is_freed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    with _small_disk(tmp_path / "disk") as disk:
        url = f"sqlite:///{disk / 'log.db'}"
        _with_table(url)
        log = ScoringLog(url, flush_interval_s=0.05, spool_path=tmp_path / "spool", **FAST)
        filler = _fill(disk)
        log.append(_rows("DISK", 400))
        wait_until(lambda: log.stats().database_failing, "the full disk noticed")
        filler.unlink()

        wait_until(lambda: log.stats().backlog == 0, "the rows written once space is freed")
        log.close()
        assert len(logged_rows(url)) == 400
    _assert_one_failure_episode(caplog, "", "DISK")


def test_a_spool_that_cannot_write_refuses_the_score_until_it_can(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The database is unreachable (its folder is a file), so the spool fills up to its cap: appends are refused
    (the service answers 503), the spool reports it, and everything is written once the database is back."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    url = f"sqlite:///{blocker / 'log.db'}"
    log = ScoringLog(url, flush_interval_s=0.05, spool_path=tmp_path / "spool", spool_max_mb=0.1, **FAST)

    accepted = _append_until_refused(log, "CAP", 20)
    assert accepted > 0
    stats = log.stats()
    assert (stats.spool_failing, stats.refused, stats.spooled) == (True, 20, accepted)
    assert "scoring log: the spool cannot write (policy: refuse)" in log.problems()
    with pytest.raises(ScoringLogUnavailableError):
        log.append(_rows("STILL", 1))

    blocker.unlink()
    wait_until(lambda: log.stats().backlog == 0, "the spool drained once the database is reachable")
    wait_until(lambda: not log.stats().spool_failing, "the spool probed writable again")
    assert log.append(_rows("AFTER", 1)) is True
    log.close()
    assert len(logged_rows(url)) == accepted + 1
    assert len(_lines(caplog, "cannot write (OperationalError: database or disk is full); requests are refused")) == 1
    assert _lines(caplog, "the spool writes again after")[0].endswith("21 row(s) were refused meanwhile")
    _assert_quiet_about_rows(caplog, "CAP")


def test_the_serve_policy_scores_without_logging_and_counts_the_dropped_rows(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    log = ScoringLog(
        f"sqlite:///{blocker / 'log.db'}",
        spool_path=tmp_path / "spool",
        spool_max_mb=0.1,
        on_spool_failure="serve",
        close_timeout_s=0.2,
        **FAST,
    )
    outcomes = [log.append(_rows(f"S{n}-", 20)) for n in range(40)]
    log.close()

    assert outcomes[0] is True
    assert outcomes[-1] is False
    stats = log.stats()
    assert stats.dropped == 20 * outcomes.count(False)
    assert stats.spooled == 20 * outcomes.count(True)
    assert stats.refused == 0


def test_a_full_disk_under_the_spool_refuses_scores(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    with _small_disk(tmp_path / "disk") as disk:
        log = ScoringLog(f"sqlite:///{tmp_path / 'log.db'}", flush_interval_s=600.0, spool_path=disk / "spool")
        filler = _fill(disk)
        _append_until_refused(log, "D", 50)
        assert "scoring log: the spool cannot write (policy: refuse)" in log.problems()
        filler.unlink()
        wait_until(lambda: not log.stats().spool_failing, "the spool probed writable again")
        assert log.append(_rows("AFTER", 1)) is True
        log.close()
    assert len(logged_rows(f"sqlite:///{tmp_path / 'log.db'}")) == log.stats().spooled
    assert len(_lines(caplog, "cannot write (OperationalError: database or disk is full)")) == 1


def test_a_row_the_database_refuses_is_set_aside_and_the_others_are_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One row breaking a constraint (here NOT NULL) must not hold up the log: it is kept apart, the rest written."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = ScoringLog(url, flush_interval_s=600.0, spool_path=tmp_path / "spool")
    good = _rows("GOOD", 4)
    log.append([*good[:2], {**score_row("POISON", RESULT, "leadq", "3", 0.2), "grade": None}, *good[2:]])
    log.append([good[0]])  # the same row appended twice is written once
    log.close()

    assert [row["lead_id"] for row in logged_rows(url)] == ["GOOD0", "GOOD1", "GOOD2", "GOOD3"]
    stats = log.stats()
    assert (stats.written, stats.rejected, stats.replayed_duplicates, stats.backlog) == (4, 1, 1, 0)
    with contextlib.closing(sqlite3.connect(tmp_path / "spool")) as spool:
        kept = spool.execute("SELECT row, error FROM rejected").fetchall()
    assert len(kept) == 1
    assert '"lead_id": "POISON"' in kept[0][0]
    assert kept[0][1] == "IntegrityError: NOT NULL constraint failed: scores.grade"
    assert len(_lines(caplog, "refused 1 row(s) for their content (IntegrityError: NOT NULL constraint failed")) == 1
    _assert_quiet_about_rows(caplog, "POISON")


def test_one_spool_serves_one_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = ScoringLog(url)
    try:
        with pytest.raises(RuntimeError, match="in use by another running service"):
            ScoringLog(url)
    finally:
        log.close()
    ScoringLog(url).close()  # free again once the first one closed


def test_a_log_on_another_database_needs_a_spool_path() -> None:
    with pytest.raises(ValueError, match="needs a spool file on local disk"):
        ScoringLog("postgresql://leadq@localhost/leadq")


@pytest.mark.parametrize("policy", ["drop", ""])
def test_an_unknown_spool_policy_is_refused(tmp_path: Path, policy: str) -> None:
    with pytest.raises(ValueError, match="on_spool_failure: expected one of refuse, serve"):
        ScoringLog(f"sqlite:///{tmp_path / 'log.db'}", on_spool_failure=policy)  # type: ignore[arg-type]


def test_the_spool_is_a_wal_file_next_to_a_sqlite_log(tmp_path: Path) -> None:
    """The spool is a file next to the log, in WAL mode (a committed row is in the OS before append returns)."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = ScoringLog(url, flush_interval_s=600.0)
    log.append(_rows("W", 3))
    with contextlib.closing(sqlite3.connect(tmp_path / "log.db.spool")) as reader:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert reader.execute("SELECT count(*) FROM spool").fetchone()[0] == 3
    log.close()
    assert os.path.exists(tmp_path / "log.db.spool")


def test_a_sqlite_log_is_in_wal_mode_and_a_read_only_one_is_left_as_it_is(tmp_path: Path) -> None:
    # WAL: the requests' reads never wait for the writer's commit (tests/serving/test_trends.py shows it served)
    _with_table(f"sqlite:///{tmp_path / 'log.db'}")
    _with_table(f"sqlite:///{tmp_path / 'old.db'}")
    with contextlib.closing(sqlite3.connect(tmp_path / "old.db")) as old:
        old.execute("PRAGMA journal_mode = DELETE")
    _with_table(f"sqlite:///file:{tmp_path / 'old.db'}?mode=ro&uri=true")  # a read-only URL changes nothing

    modes = {}
    for name in ("log.db", "old.db"):
        with contextlib.closing(sqlite3.connect(tmp_path / name)) as reader:
            modes[name] = reader.execute("PRAGMA journal_mode").fetchone()[0]
    assert modes == {"log.db": "wal", "old.db": "delete"}


def test_the_writer_copies_the_wal_into_the_log_file_after_each_batch(tmp_path: Path) -> None:
    # otherwise the last reader to close (a request's pooled connection) would copy it, on the event loop
    database = tmp_path / "log.db"
    url = f"sqlite:///{database}"
    _with_table(url)
    prepared_bytes = database.stat().st_size
    with contextlib.closing(sqlite3.connect(database)) as reader:
        reader.execute("SELECT count(*) FROM scores").fetchone()  # a reader stays connected, as the service's do
        log = ScoringLog(url, flush_interval_s=0.05, spool_path=tmp_path / "spool")
        log.append(_rows("C", 300))
        wait_until(lambda: len(logged_rows(url)) == 300, "the rows written")
        written_bytes = database.stat().st_size
        log.close()

    assert written_bytes > prepared_bytes  # the rows' pages are in the file, not only in the WAL


def test_row_ids_are_random_128_bit_hex_like_uuid4() -> None:
    ids = new_row_ids(1_000)

    assert len(set(ids)) == 1_000
    assert all(len(row_id) == 32 and int(row_id, 16) >= 0 for row_id in ids)
    assert new_row_ids(0) == []


def test_a_row_spooled_before_reasons_false_is_written_as_explained(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    older = {key: value for key, value in score_row("OLDER", RESULT, "leadq", "3", 0.2).items() if key != "explained"}

    log = ScoringLog(url)
    log.append([older, score_row("NOW", DECIDED, "leadq", "3", 0.2)])
    log.close()

    assert [(row["lead_id"], row["explained"]) for row in logged_rows(url)] == [("OLDER", 1), ("NOW", 0)]
