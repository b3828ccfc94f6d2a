"""The scoring log for the quarterly audit: every answered score is in the log, or the service says it is not.

A score reaches the log's database in two steps:

1. **The spool, in the request.** ``ScoringLog.append`` commits the rows to a local SQLite file in WAL mode (the
   spool) before the response goes out: one small transaction, tens of microseconds. A committed row survives a
   crash of the process (SIGKILL, out of memory). When the spool itself cannot write (disk full, its size cap
   reached), the policy decides: ``refuse`` (default) raises ``ScoringLogUnavailableError`` so the service answers
   503 instead of a score the audit will never see; ``serve`` returns ``False`` and counts the rows as dropped.
2. **The drain, in the background.** One writer thread moves spooled rows to the configured database (any
   SQLAlchemy URL: a SQLite file by default, PostgreSQL in production) in batches, and deletes them from the spool
   only after the database committed them. A failed write is retried with exponential backoff; the rows wait in
   the spool meanwhile. Each row carries a unique ``row_id`` and the insert skips ids already in the table, so a
   crash between the database's commit and the spool's delete writes nothing twice when the spool is replayed at
   the next start.

Failures are visible, never noisy: ``stats`` feeds ``/metrics`` (rows spooled, written, retried, dropped,
refused; the backlog), ``problems`` feeds ``/readyz`` (the spool cannot write; the backlog is past its limit),
and each failure episode writes one log line when it starts and one when it ends: the error's class and first
line, never a row or a traceback (a row holds lead ids and features).

Rows hold the lead id, model version, decision, reasons and the model features, never the request: the features
carry no PII (an e-mail column only ever becomes ``<name>_is_freemail`` / ``_has_valid_email`` /
``_is_competitor``, a job title its seniority and function, free text its length; columns the mapping marks as
pii are never read). The ``account`` column holds the business domain of the lead's e-mail (or the CRM's account
id), never the address: a company's domain, though a person's own domain (``max-mustermann.de``) can name them, so
the log is personal data in the GDPR's sense as the lead id already makes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

logger = logging.getLogger("leadq.serving.scoring_log")

SpoolFailurePolicy = Literal["refuse", "serve"]
SPOOL_FAILURE_POLICIES: tuple[SpoolFailurePolicy, ...] = ("refuse", "serve")

METADATA = sa.MetaData()
SCORES = sa.Table(
    "scores",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("lead_id", sa.String(100), nullable=False),  # its lookups use ix_scores_lead_id_scored_at
    sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False, index=True),
    # when the CRM created the lead (if it said): the audit's quarter and SLA clock; NULL: use scored_at
    sa.Column("lead_created_at", sa.DateTime(timezone=True), nullable=True, index=True),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("model_version", sa.String(50), nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("is_mql", sa.Boolean, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("grade", sa.String(2), nullable=False),
    sa.Column("priority", sa.String(50), nullable=False),
    sa.Column("respond_within_hours", sa.Float, nullable=True),  # the SLA promised with the score; NULL: nurture
    sa.Column("reasons", sa.Text, nullable=False),  # JSON: {"for": [...], "against": [...]}
    sa.Column("features", sa.Text, nullable=False),  # JSON: the model features (derived, no PII)
    # one id per served score, made when it is scored: a replayed spool row is recognised, never written twice
    # (NULL in rows written by a leadq before the spool)
    sa.Column("row_id", sa.String(32), nullable=True),
    # False: scored with ``reasons: false`` (probability, score and is_mql only): grade and priority are empty, reasons
    # JSON null, respond_within_hours NULL; NULL in rows written by a leadq before the switch (all with reasons)
    sa.Column("explained", sa.Boolean, nullable=True),
    # the lead's account as ``models.accounts`` derives it (the business domain of its e-mail address, or the CRM's
    # account id), never the address itself; NULL: freemail or no key, and in rows written by a leadq before accounts
    sa.Column("account", sa.String(255), nullable=True),
    sa.Index("ux_scores_row_id", "row_id", unique=True),
    # a lead's scores in a time window (its trend in the service's answers, ``select_score_history``)
    sa.Index("ix_scores_lead_id_scored_at", "lead_id", "scored_at"),
)
# Indexes an older leadq made that no query uses any more, dropped at start (each costs every insert its upkeep: the
# writer's CPU per 500 rows 28.1 -> 22.8 ms without these two): lead_id alone (the index on (lead_id, scored_at)
# serves it) and the accounts' one (their reads moved to ``latest_scores``).
_OLDER_SCORES = sa.Table(  # the older table's columns those indexes were on (its own metadata: never created)
    "scores",
    sa.MetaData(),
    sa.Column("lead_id", sa.String(100)),
    sa.Column("scored_at", sa.DateTime(timezone=True)),
    sa.Column("account", sa.String(255)),
)
_UNUSED_INDEXES = (
    sa.Index("ix_scores_lead_id", _OLDER_SCORES.c.lead_id),
    sa.Index(
        "ix_scores_account_scored_at", _OLDER_SCORES.c.account, _OLDER_SCORES.c.scored_at, _OLDER_SCORES.c.lead_id
    ),
)
# Each lead's latest score, kept by the writer in the transaction that inserts its scores (``insert_scores``): the
# service's account read finds an account's leads here, one row per lead however often each was scored (on
# ``scores`` it read every score of every lead of the accounts: 10.6 ms for 100 accounts of 2,000 leads scored 62
# times each, growing with every score). Derived: a log from an older leadq gets it filled from ``scores`` at start.
LATEST_SCORES = sa.Table(
    "latest_scores",
    METADATA,
    sa.Column("lead_id", sa.String(100), primary_key=True),
    sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("account", sa.String(255), nullable=True),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("is_mql", sa.Boolean, nullable=False),
    sa.Column("grade", sa.String(2), nullable=False),
    sa.Index("ix_latest_scores_account_scored_at", "account", "scored_at"),
)
_LATEST_COLUMNS = tuple(column.name for column in LATEST_SCORES.columns)
_UPSERTING_DIALECTS = ("sqlite", "postgresql")  # INSERT ... ON CONFLICT DO UPDATE ... WHERE
_DATETIME_COLUMNS = ("scored_at", "lead_created_at")

_SPOOL_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, row TEXT NOT NULL);
-- rows the database refused for their content (a constraint): kept for inspection, never retried, never lost
CREATE TABLE IF NOT EXISTS rejected (seq INTEGER PRIMARY KEY, row TEXT NOT NULL, error TEXT NOT NULL,
                                     rejected_at TEXT NOT NULL);
"""
_SPOOL_BUSY_TIMEOUT_S = 5.0
_WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024  # the WAL is truncated back to this after a checkpoint
_ERROR_TEXT_CHARS = 160
_DELETE_CHUNK = 50  # spool rows deleted per transaction (the lock requests wait for is held this long)
_PROBE_BYTES = 64 * 1024  # the spool counts as writable again when this much fits: no flapping at its last bytes


class ScoringLogUnavailableError(RuntimeError):
    """The spool cannot write and the policy is ``refuse``: the score must not be answered."""


@dataclass(frozen=True)
class LogStats:
    """Counts since the log was opened (``backlog``: rows in the spool now, from earlier runs included)."""

    spooled: int
    written: int
    retried: int
    dropped: int
    refused: int
    rejected: int
    replayed_duplicates: int
    backlog: int
    max_backlog: int
    database_failing: bool
    spool_failing: bool


@dataclass
class _Episode:
    """A failure that has started and not yet ended: when, and how many rows it touched."""

    started: float
    rows: int = 0


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)


def new_row_ids(count: int) -> list[str]:
    """``count`` random 128-bit row ids as hex (as ``uuid.uuid4().hex`` gives, from one read of the OS's random
    source instead of one per row: a 100-lead batch spent more on ``uuid4`` than on its spool commit)."""
    random = os.urandom(16 * count).hex()
    return [random[start : start + 32] for start in range(0, 32 * count, 32)]


def score_row(
    lead_id: str,
    result: dict[str, Any],
    model_name: str,
    model_version: str,
    threshold: float,
    lead_created_at: datetime | None = None,
    row_id: str | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """One scoring-log row from a result of ``LeadScorer.explain_records`` (``lead_created_at`` in UTC; ``account``
    the lead's account key from ``models.accounts``, None without one).

    A result without ``grade`` (a score asked for with ``reasons: false``: probability, score, is_mql and the model
    features) gives a row with ``explained`` False, an empty grade and priority, no SLA and reasons JSON null.
    """
    explained = "grade" in result
    return {
        "row_id": row_id or uuid.uuid4().hex,
        "lead_id": lead_id,
        "scored_at": datetime.now(UTC),
        "lead_created_at": lead_created_at,
        "model_name": model_name,
        "model_version": model_version,
        "probability": result["probability"],
        "score": result["score"],
        "is_mql": result["is_mql"],
        "threshold": threshold,
        "grade": result["grade"] if explained else "",
        "priority": result["priority"] if explained else "",
        "respond_within_hours": result["response_hours"] if explained else None,
        "reasons": _json({"for": result["reasons_for"], "against": result["reasons_against"]}) if explained else "null",
        "features": _json(result["features"]),
        "explained": explained,
        "account": account,
    }


def _spool_text(row: dict[str, Any]) -> str:
    """A row as the spool keeps it: JSON, times in ISO 8601 with their offset."""
    return json.dumps(
        {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.items()},
        ensure_ascii=False,
        allow_nan=False,
    )


def _row_from_spool(text: str) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(text)
    row.setdefault("explained", True)  # spooled by a leadq before reasons: false (every score had its reasons)
    row.setdefault("account", None)  # spooled by a leadq before accounts (a batch's rows must all name it)
    for column in _DATETIME_COLUMNS:
        if row.get(column) is not None:
            row[column] = datetime.fromisoformat(row[column])
    return row


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``file:`` URIs included); None for other databases and in-memory SQLite."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = parsed.database
    if parsed.query.get("uri") == "true" and database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database)


def default_spool_path(url: str) -> Path:
    """Where the spool goes when none is configured: next to a SQLite log (``scoring_log.db.spool``).

    Raises:
        ValueError: the log is not a SQLite file (a PostgreSQL log needs a spool path on local disk).
    """
    database = _sqlite_file(url)
    if database is None:
        raise ValueError(
            f"a scoring log in a {sa.make_url(url).get_backend_name()} database needs a spool file on local disk "
            "(spool_path)"
        )
    return database.with_name(database.name + ".spool")


def create_log_engine(url: str) -> sa.Engine:
    """An engine for the log's database (no connection yet: the database may be down when the service starts).

    A SQLite file is opened afresh for every batch, so a file replaced or repaired while the service runs is
    picked up; other databases keep a pool whose connections are checked before use.
    """
    if _sqlite_file(url) is not None:
        return sa.create_engine(url, poolclass=NullPool)
    return sa.create_engine(url, pool_pre_ping=True)


def prepare_log_table(engine: sa.Engine) -> None:
    """Create the ``scores`` table, or bring one written by an older leadq up to date (its rows are kept)."""
    database = _sqlite_file(engine.url.render_as_string(hide_password=False))
    writable = database if engine.url.query.get("mode") != "ro" else None  # a SQLite file this may change
    if writable is not None:
        writable.parent.mkdir(parents=True, exist_ok=True)
    METADATA.create_all(engine)
    if writable is not None:
        _use_wal(engine)
    _add_missing_columns(engine)
    for index in SCORES.indexes:  # a table from an older leadq has no unique row_id index yet
        index.create(engine, checkfirst=True)
    if writable is not None or database is None:
        for index in _UNUSED_INDEXES:
            index.drop(engine, checkfirst=True)
    _fill_latest_scores(engine)


def _fill_latest_scores(engine: sa.Engine) -> None:
    """Fill an empty ``latest_scores`` from ``scores`` (a log from an older leadq, or one whose fill was cut short):
    each lead's latest row, the last written at a tie. Leads the writer put there meanwhile keep its row."""
    with engine.begin() as connection:
        if connection.execute(sa.select(LATEST_SCORES.c.lead_id).limit(1)).first() is not None:
            return
        if connection.execute(sa.select(SCORES.c.id).limit(1)).first() is None:
            return
        filled = _update_latest_after(connection, 0)
    logger.info("scoring log: latest_scores filled with the latest score of %d lead(s)", filled)


def _latest_rows_after(last_id: int) -> sa.Select[Any]:
    """The rows of ``scores`` after id ``last_id`` that are their lead's latest (the last written at a tie), as
    ``latest_scores`` holds them: one per lead, each found by one seek on the index on (lead_id, scored_at)."""
    other = SCORES.alias("other")
    latest_id = (
        sa.select(other.c.id)
        .where(other.c.lead_id == SCORES.c.lead_id)
        .order_by(other.c.scored_at.desc(), other.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.select(*(SCORES.c[name] for name in _LATEST_COLUMNS)).where(
        SCORES.c.id > last_id, SCORES.c.id == latest_id
    )


def _upsert_latest(connection: sa.Connection, rows: sa.Select[Any]) -> sa.Insert:
    """The insert into ``latest_scores`` of ``rows`` (one per lead) where a lead's row is replaced only by one scored
    at the same time or later: one statement (``ON CONFLICT``), safe beside other writers. SQLite and PostgreSQL;
    other databases get a plain insert (``_replace_latest``)."""
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    upsert = insert(LATEST_SCORES).from_select(_LATEST_COLUMNS, rows)
    return upsert.on_conflict_do_update(
        index_elements=[LATEST_SCORES.c.lead_id],
        set_={name: upsert.excluded[name] for name in _LATEST_COLUMNS if name != "lead_id"},
        where=LATEST_SCORES.c.scored_at <= upsert.excluded.scored_at,
    )


def insert_scores(connection: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert scoring-log rows and keep ``latest_scores`` up to date with them, in the caller's transaction.

    The new rows that are their lead's latest are chosen and upserted by the database in one statement."""
    if not rows:
        return
    last_id = connection.execute(sa.select(sa.func.max(SCORES.c.id))).scalar() or 0
    connection.execute(SCORES.insert(), rows)
    _update_latest_after(connection, last_id)


def _update_latest_after(connection: sa.Connection, last_id: int) -> int:
    """``latest_scores`` brought up to date with the rows of ``scores`` after id ``last_id``; the rows it took."""
    latest = _latest_rows_after(last_id)
    if connection.dialect.name in _UPSERTING_DIALECTS:
        return int(connection.execute(_upsert_latest(connection, latest)).rowcount)
    values = [dict(row) for row in connection.execute(latest).mappings()]
    _replace_latest(connection, values)
    return len(values)


def _replace_latest(connection: sa.Connection, values: Sequence[dict[str, Any]]) -> None:
    """``latest_scores`` brought up to date with ``values`` (one per lead) by a read, a delete and an insert: for a
    database without ``ON CONFLICT``, where two writers at once could collide (one service per such database)."""
    if not values:
        return
    held = dict(
        connection.execute(
            sa.select(LATEST_SCORES.c.lead_id, LATEST_SCORES.c.scored_at).where(
                LATEST_SCORES.c.lead_id.in_([row["lead_id"] for row in values])
            )
        ).all()
    )
    newer = [
        row for row in values if row["lead_id"] not in held or _utc(held[row["lead_id"]]) <= _utc(row["scored_at"])
    ]
    replaced = [row["lead_id"] for row in newer if row["lead_id"] in held]
    if replaced:
        connection.execute(sa.delete(LATEST_SCORES).where(LATEST_SCORES.c.lead_id.in_(replaced)))
    if newer:
        connection.execute(sa.insert(LATEST_SCORES), newer)


def _utc(moment: datetime) -> datetime:
    """A time as UTC (SQLite gives back the times it stores without their offset: they are UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _use_wal(engine: sa.Engine) -> None:
    """A SQLite log in WAL mode, so the requests' reads never wait for the writer's commit (a read meeting a commit in
    the rollback journal slept in SQLite's busy handler). The mode stays the file's; SQLite keeps the old one where it
    cannot switch (another connection in a transaction), and says so once here."""
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode = WAL").scalar()
    if mode != "wal":
        logger.warning(
            "scoring log: the SQLite file stays in journal mode %s, not WAL: reads may wait for writes", mode
        )


def select_score_history(
    start: datetime | sa.BindParameter[datetime],
    end: datetime | None = None,
    lead_ids: Collection[str] | sa.BindParameter[list[str]] | None = None,
) -> sa.Select[str, datetime, int, bool]:
    """The logged scores in [start, end) (no end: up to the newest), of ``lead_ids`` only if given: ``lead_id``,
    ``scored_at``, ``score`` and ``is_mql``, oldest first (by scoring time, then as written). The leads' query uses
    the index on (lead_id, scored_at). Times in UTC; ``start`` and ``lead_ids`` may be bound parameters (an expanding
    one for the ids), for a statement built once and run per request."""
    query = sa.select(SCORES.c.lead_id, SCORES.c.scored_at, SCORES.c.score, SCORES.c.is_mql).where(
        SCORES.c.scored_at >= start
    )
    if end is not None:
        query = query.where(SCORES.c.scored_at < end)
    if lead_ids is not None:
        ids = lead_ids if isinstance(lead_ids, sa.BindParameter) else sorted(set(lead_ids))
        query = query.where(SCORES.c.lead_id.in_(ids))
    return query.order_by(SCORES.c.scored_at, SCORES.c.id)


def select_first_scores(
    start: datetime | sa.BindParameter[datetime], lead_ids: Collection[str] | sa.BindParameter[list[str]]
) -> sa.Select[str, int]:
    """Each lead's first logged score at or after ``start`` (``lead_id``, ``score``; none for a lead without one, the
    one written first at a tie): the leads scored in the window found in ``latest_scores``, then for each one seek
    on the index on (lead_id, scored_at), however often it was scored (reading all of the leads' scores in the window
    grew with every score)."""
    ids = lead_ids if isinstance(lead_ids, sa.BindParameter) else sorted(set(lead_ids))
    first = (
        sa.select(SCORES.c.score)
        .where(SCORES.c.lead_id == LATEST_SCORES.c.lead_id, SCORES.c.scored_at >= start)
        .order_by(SCORES.c.scored_at, SCORES.c.id)
        .limit(1)
        .correlate(LATEST_SCORES)
        .scalar_subquery()
    )
    return sa.select(LATEST_SCORES.c.lead_id, first).where(
        LATEST_SCORES.c.lead_id.in_(ids), LATEST_SCORES.c.scored_at >= start
    )


def select_account_scores(
    start: datetime | sa.BindParameter[datetime], accounts: Collection[str] | sa.BindParameter[list[str]]
) -> sa.Select[str, str | None, float, bool, str]:
    """The latest score of each lead whose latest logged score, at or after ``start``, is in one of ``accounts``:
    ``lead_id``, ``account``, ``probability``, ``is_mql`` and ``grade`` (empty: scored without reasons).

    A lead's latest score decides, also when its account changed since: a lead now in another account is not one of
    these accounts' leads. Read from ``latest_scores`` on its index on (account, scored_at): one row per lead however
    often it was scored. ``start`` and ``accounts`` may be bound parameters (an expanding one for the accounts), for a
    statement built once and run per request."""
    ids = accounts if isinstance(accounts, sa.BindParameter) else sorted(set(accounts))
    columns = (LATEST_SCORES.c[name] for name in ("lead_id", "account", "probability", "is_mql", "grade"))
    return sa.select(*columns).where(LATEST_SCORES.c.account.in_(ids), LATEST_SCORES.c.scored_at >= start)


def _add_missing_columns(engine: sa.Engine) -> None:
    """Bring a log written by an older leadq up to date: new columns are nullable, so adding them keeps every row."""
    present = {column["name"] for column in sa.inspect(engine).get_columns(SCORES.name)}
    missing = [column for column in SCORES.columns if column.name not in present]
    with engine.begin() as connection:
        for column in missing:
            kind = column.type.compile(dialect=engine.dialect)
            connection.execute(sa.text(f'ALTER TABLE {SCORES.name} ADD COLUMN "{column.name}" {kind}'))
            logger.info("scoring log: added column %s", column.name)


def _describe(error: BaseException) -> str:
    """The error's class and the first line of its message: never SQL parameters (rows) or a traceback."""
    cause = getattr(error, "orig", None) or error  # SQLAlchemy's message carries the statement and its parameters
    text = (str(cause).splitlines() or [""])[0][:_ERROR_TEXT_CHARS]
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


class _Spool:
    """The local SQLite file rows wait in; one process at a time (a lock file says which)."""

    def __init__(self, path: Path, max_bytes: int | None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock_file = path.with_name(path.name + ".lock").open("a")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise RuntimeError(
                f"the scoring log spool {path} is in use by another running service: give each its own spool file"
            ) from None
        try:
            self._writer = self._connect()
            self._writer.execute("PRAGMA wal_autocheckpoint = 0")  # the drain thread checkpoints, not the requests
            if max_bytes is not None:
                page_size = self._writer.execute("PRAGMA page_size").fetchone()[0]
                self._writer.execute(f"PRAGMA max_page_count = {max(max_bytes // page_size, 8)}")
            self._writer.executescript(_SPOOL_SCHEMA)
            self.backlog = int(self._writer.execute("SELECT count(*) FROM spool").fetchone()[0])
        except BaseException:
            self._lock_file.close()
            raise
        self.lock = threading.Lock()  # the writer connection is shared by requests and the drain thread
        self._reader: sqlite3.Connection | None = None  # the drain thread's own (WAL: reads never wait for writes)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=_SPOOL_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode = WAL")
        # a commit is in the OS before append returns: it survives the process; fsync happens at checkpoints
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute(f"PRAGMA journal_size_limit = {_WAL_SIZE_LIMIT_BYTES}")
        return connection

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._writer.execute("BEGIN IMMEDIATE")
        try:
            yield self._writer
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("ROLLBACK")
            raise
        self._writer.execute("COMMIT")

    def add(self, texts: list[str]) -> None:
        """Commit rows (called with ``lock`` held)."""
        with self._transaction() as connection:
            connection.executemany("INSERT INTO spool (row) VALUES (?)", [(text,) for text in texts])
        self.backlog += len(texts)

    def probe(self) -> None:
        """Write and remove a row the size of a 100-lead batch: raises while the spool cannot write (with ``lock``)."""
        with self._transaction() as connection:
            connection.execute("INSERT INTO spool (row) VALUES (?)", ("x" * _PROBE_BYTES,))
            connection.execute("DELETE FROM spool WHERE seq = last_insert_rowid()")

    def oldest(self, limit: int) -> list[tuple[int, str]]:
        """The ``limit`` oldest rows (drain thread only)."""
        if self._reader is None:
            self._reader = self._connect()
        return list(self._reader.execute("SELECT seq, row FROM spool ORDER BY seq LIMIT ?", (limit,)))

    def remove(self, seqs: list[int]) -> None:
        """Delete rows (ascending ``seqs``) once the database holds them, a few at a time: a request's append waits
        for one small delete at most. A crash in between leaves rows the replay recognises by their ``row_id``."""
        for start in range(0, len(seqs), _DELETE_CHUNK):
            chunk = seqs[start : start + _DELETE_CHUNK]
            with self.lock, self._transaction() as connection:
                connection.execute("DELETE FROM spool WHERE seq BETWEEN ? AND ?", (chunk[0], chunk[-1]))
                self.backlog -= len(chunk)

    def reject(self, seq: int, error: str) -> None:
        """Move a row the database refuses for its content to the ``rejected`` table."""
        with self.lock, self._transaction() as connection:
            connection.execute(
                "INSERT INTO rejected (seq, row, error, rejected_at) SELECT seq, row, ?, ? FROM spool WHERE seq = ?",
                (error, datetime.now(UTC).isoformat(), seq),
            )
            connection.execute("DELETE FROM spool WHERE seq = ?", (seq,))
            self.backlog -= 1

    def checkpoint(self) -> None:
        """Copy the WAL into the spool file (drain thread; never waits for a request's transaction)."""
        if self._reader is not None:
            self._reader.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        with self.lock:
            for connection in (self._reader, self._writer):
                if connection is not None:
                    with contextlib.suppress(sqlite3.Error):
                        connection.close()
            self._lock_file.close()  # releases the lock


class ScoringLog:
    """The audit's log of served scores: spooled in the request, written to the database in the background.

    Args:
        url: SQLAlchemy URL of the log's database.
        flush_interval_s: how often the writer thread looks for spooled rows (sooner once ``batch_size`` wait).
        batch_size: rows per database transaction.
        spool_path: the local spool file (default: next to a SQLite log, see ``default_spool_path``).
        max_backlog: rows waiting for the database beyond which ``problems`` reports the log as falling behind.
        on_spool_failure: ``refuse`` (raise ``ScoringLogUnavailableError``) or ``serve`` (count the rows as dropped).
        spool_max_mb: the most disk the spool may take; beyond it, the spool cannot write (the policy applies).
        max_backoff_s: the longest wait between retries of a failed database write (doubling from 0.1 s).
        close_timeout_s: how long ``close`` retries a database that fails while it drains before it leaves rows in the
            spool (a database already failing when ``close`` is called gets one more attempt).

    Raises:
        RuntimeError: another running service uses the same spool file.
        sqlite3.Error, OSError: the spool cannot be opened.
    """

    def __init__(
        self,
        url: str,
        flush_interval_s: float = 1.0,
        batch_size: int = 500,
        *,
        spool_path: str | Path | None = None,
        max_backlog: int = 50_000,
        on_spool_failure: SpoolFailurePolicy = "refuse",
        spool_max_mb: float | None = None,
        max_backoff_s: float = 2.0,
        close_timeout_s: float = 30.0,
    ):
        if on_spool_failure not in SPOOL_FAILURE_POLICIES:
            raise ValueError(f"on_spool_failure: expected one of {', '.join(SPOOL_FAILURE_POLICIES)}")
        path = Path(spool_path) if spool_path is not None else default_spool_path(url)
        self.engine = create_log_engine(url)
        self._sqlite_file = _sqlite_file(url) is not None
        self.flush_interval_s, self.batch_size = flush_interval_s, batch_size
        self.max_backlog, self.on_spool_failure = max_backlog, on_spool_failure
        self.max_backoff_s, self.close_timeout_s = max_backoff_s, close_timeout_s
        self._spool = _Spool(path, None if spool_max_mb is None else int(spool_max_mb * 1024 * 1024))
        counted = ("spooled", "written", "retried", "dropped", "refused", "rejected", "duplicates")
        self._counts = dict.fromkeys(counted, 0)
        self._database_episode: _Episode | None = None
        self._spool_episode: _Episode | None = None
        self._spool_writable = True  # readiness: False from a failed append until a probe or an append succeeds
        self._over_backlog = False
        self._backlog_lock = threading.Lock()
        self._table_ready = False
        self._closed = False
        self._wake, self._stop = threading.Event(), threading.Event()
        if self._spool.backlog:
            logger.info("scoring log: %d row(s) of an earlier run wait in the spool; writing them", self._spool.backlog)
        self._writer = threading.Thread(target=self._run, name="scoring-log-writer", daemon=True)
        self._writer.start()

    # --- the request's side -------------------------------------------------------------------------------------

    def append(self, rows: Sequence[dict[str, Any]]) -> bool:
        """Commit rows to the spool before the score is answered.

        Returns:
            True when the rows are in the spool; False when the spool cannot write and the policy is ``serve``
            (the rows are counted as dropped).

        Raises:
            ScoringLogUnavailableError: the spool cannot write and the policy is ``refuse`` (rows counted as refused).
        """
        if not rows:
            return True
        texts = [_spool_text(row if "row_id" in row else {**row, "row_id": uuid.uuid4().hex}) for row in rows]
        with self._spool.lock:
            # once the spool failed, it is not tried again until the writer thread's probe succeeds: no request
            # waits on a broken disk, and a nearly full spool does not flip between failing and working
            if self._spool_writable and not self._closed:
                try:
                    self._spool.add(texts)
                except sqlite3.Error as error:
                    self._open_spool_episode(error)
                else:
                    self._counts["spooled"] += len(texts)
                    backlog = self._spool.backlog
                    if backlog >= self.batch_size:
                        self._wake.set()
                    self._check_backlog(backlog)
                    return True
            refuse = self.on_spool_failure == "refuse"
            self._counts["refused" if refuse else "dropped"] += len(texts)
            if self._spool_episode is not None:
                self._spool_episode.rows += len(texts)
        if refuse:
            raise ScoringLogUnavailableError("the score could not be written to the scoring log")
        return False

    def _open_spool_episode(self, error: sqlite3.Error) -> None:
        """The spool failed: one line, and requests stop trying it (called with the lock)."""
        self._spool_writable = False
        self._spool_episode = _Episode(time.monotonic())
        self._wake.set()  # the writer thread probes the spool from now on
        consequence = (
            "requests are refused (503)" if self.on_spool_failure == "refuse" else "scores are served WITHOUT logging"
        )
        logger.error(
            "scoring log: the spool %s cannot write (%s); %s until it can",
            self._spool.path,
            _describe(error),
            consequence,
        )

    def _check_backlog(self, backlog: int) -> None:
        over = backlog > self.max_backlog
        with self._backlog_lock:  # requests and the writer thread both check: one line per crossing
            if over == self._over_backlog:
                return
            self._over_backlog = over
        if over:
            logger.warning(
                "scoring log: %d rows wait for the database, more than the limit of %d (not ready until it catches up)",
                backlog,
                self.max_backlog,
            )
        else:
            logger.warning("scoring log: the backlog is within its limit again (%d rows)", backlog)

    # --- what the service reports -------------------------------------------------------------------------------

    def stats(self) -> LogStats:
        """Counters for ``/metrics``."""
        counts = dict(self._counts)
        return LogStats(
            spooled=counts["spooled"],
            written=counts["written"],
            retried=counts["retried"],
            dropped=counts["dropped"],
            refused=counts["refused"],
            rejected=counts["rejected"],
            replayed_duplicates=counts["duplicates"],
            backlog=self._spool.backlog,
            max_backlog=self.max_backlog,
            database_failing=self._database_episode is not None,
            spool_failing=not self._spool_writable,
        )

    def problems(self) -> list[str]:
        """Why the service should not take traffic now (empty: all is well); for ``/readyz``."""
        found = []
        if not self._spool_writable:
            found.append(f"scoring log: the spool cannot write (policy: {self.on_spool_failure})")
        backlog = self._spool.backlog
        if backlog > self.max_backlog:
            database = "the database is failing" if self._database_episode is not None else "the database is slow"
            found.append(f"scoring log: {backlog} rows wait for the database, limit {self.max_backlog} ({database})")
        return found

    # --- the writer thread --------------------------------------------------------------------------------------

    def _write_batch(self, rows: list[dict[str, Any]]) -> int:
        """Insert the rows the table does not hold yet, in one transaction; the number already there."""
        if not self._table_ready:
            prepare_log_table(self.engine)
            self._table_ready = True
        ids = [row["row_id"] for row in rows]
        with self.engine.connect() as connection:
            with connection.begin():
                seen = set(connection.scalars(sa.select(SCORES.c.row_id).where(SCORES.c.row_id.in_(ids))))
                new = []
                for row in rows:  # a row appended twice is written once too
                    if row["row_id"] not in seen:
                        seen.add(row["row_id"])
                        new.append(row)
                insert_scores(connection, new)
            if self._sqlite_file:
                # the WAL copied into the file here, in this thread: otherwise the last reader connection to close
                # (a request's, at its pool recycle) would do it on the event loop
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        return len(rows) - len(new)

    def _write_one_by_one(self, spooled: list[tuple[int, str]], rows: list[dict[str, Any]]) -> tuple[int, int]:
        """A batch the database refused for some row's content: each row on its own, the refused ones set aside.

        Returns:
            The rows already in the table and the rows set aside; other failures propagate (the rest is retried).
        """
        already_there, refused = 0, []
        for (seq, _), row in zip(spooled, rows, strict=True):
            try:
                already_there += self._write_batch([row])
            except (sa.exc.IntegrityError, sa.exc.DataError) as error:
                self._spool.reject(seq, _describe(error))
                refused.append(error)
            else:
                self._spool.remove([seq])
        if refused:
            self._counts["rejected"] += len(refused)
            logger.error(
                "scoring log: the database refused %d row(s) for their content (%s); they are kept in the spool's "
                "rejected table, the others are written",
                len(refused),
                _describe(refused[0]),
            )
        return already_there, len(refused)

    def _database_failed(self, error: Exception, rows: int) -> bool:
        """The rows stay in the spool and are retried; the first failure of an episode is logged."""
        self._table_ready = False  # the table may be gone (a replaced file): check it again
        self._counts["retried"] += rows
        if self._database_episode is None:
            self._database_episode = _Episode(time.monotonic())
            logger.error(
                "scoring log: cannot write to the database (%s); rows wait in the spool and are retried",
                _describe(error),
            )
        self._database_episode.rows += rows
        return False

    def _drain_once(self) -> bool:
        """Move one batch from the spool to the database; False when there was nothing to move or it failed."""
        spooled = self._spool.oldest(self.batch_size)
        if not spooled:
            return False
        rows = [_row_from_spool(text) for _, text in spooled]
        refused = 0
        try:
            already_there = self._write_batch(rows)
        except (sa.exc.IntegrityError, sa.exc.DataError):  # a row's content, not the database: find it
            try:
                already_there, refused = self._write_one_by_one(spooled, rows)
            except Exception as error:
                return self._database_failed(error, len(spooled))
        except Exception as error:  # any failure of the database: the rows stay in the spool and are retried
            return self._database_failed(error, len(spooled))
        else:
            self._spool.remove([seq for seq, _ in spooled])
        self._counts["written"] += len(spooled) - already_there - refused
        self._counts["duplicates"] += already_there
        if already_there:
            logger.info("scoring log: %d replayed row(s) already in the database, skipped", already_there)
        episode, self._database_episode = self._database_episode, None
        if episode is not None:
            logger.warning(
                "scoring log: the database takes writes again after %.1f s (%d row write(s) were retried)",
                time.monotonic() - episode.started,
                episode.rows,
            )
        self._check_backlog(self._spool.backlog)
        return True

    def _probe_spool(self) -> None:
        """While the spool cannot write, try it now and then: requests use it again once a probe succeeds."""
        with self._spool.lock:
            try:
                self._spool.probe()
            except sqlite3.Error:
                return
            self._spool_writable = True
            episode, self._spool_episode = self._spool_episode, None
        if episode is not None:
            verb = "refused" if self.on_spool_failure == "refuse" else "served without logging"
            logger.warning(
                "scoring log: the spool writes again after %.1f s; %d row(s) were %s meanwhile",
                time.monotonic() - episode.started,
                episode.rows,
                verb,
            )

    def _run(self) -> None:
        backoff = 0.0
        deadline: float | None = None
        reader_failing = False
        while True:
            if self._stop.is_set() and deadline is None:
                # a database already failing at close gets one more attempt: the rows are safe in the spool
                grace = 0.0 if self._database_episode is not None else self.close_timeout_s
                deadline = time.monotonic() + grace
            try:
                if not self._spool_writable:
                    self._probe_spool()
                # one batch per wake-up, more only while full batches wait (or at close): under steady load the
                # rows arriving during a write wait for the next flush instead of making many tiny transactions
                moved = self._drain_once()
                if moved:
                    backoff = 0.0
                while moved and (deadline is not None or self._spool.backlog >= self.batch_size):
                    moved = self._drain_once()
                failing = self._database_episode is not None or not self._spool_writable
                self._spool.checkpoint()
            except Exception as error:  # the spool's reader failed: keep the thread alive, try again later
                if not reader_failing:
                    logger.error("scoring log: cannot read the spool (%s); trying again", _describe(error))
                reader_failing = failing = True
            else:
                if reader_failing:
                    logger.warning("scoring log: the spool can be read again")
                reader_failing = False
            if deadline is not None and (self._spool.backlog == 0 or not failing or time.monotonic() > deadline):
                break
            if failing:
                backoff = min(max(backoff * 2, 0.1), self.max_backoff_s)
                if deadline is None:
                    self._stop.wait(backoff)  # a close wakes it: the last attempts happen at once
                else:
                    time.sleep(backoff)
            else:
                self._wake.wait(self.flush_interval_s)
                self._wake.clear()

    def close(self) -> None:
        """Write every spooled row to the database and stop the writer.

        Rows the database does not take (it was failing already, or still fails after ``close_timeout_s``) stay in
        the spool and are written at the next start (one log line says how many).
        """
        self._stop.set()
        self._wake.set()
        self._writer.join()
        with self._spool.lock:
            self._closed = True
        if self._spool.backlog:
            logger.warning(
                "scoring log: %d row(s) stay in the spool %s; they are written at the next start",
                self._spool.backlog,
                self._spool.path,
            )
        self._spool.close()
        self.engine.dispose()
