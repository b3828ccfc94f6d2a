"""The scoring log for the quarterly audit: every served score, appended off the request path.

Requests put rows on an in-memory queue; one writer thread inserts them in batches (every
``flush_interval_s`` or ``batch_size`` rows) through SQLAlchemy, so any database with a SQLAlchemy URL works
(SQLite file by default, PostgreSQL in production). ``close`` drains the queue: a clean shutdown loses no
row. Rows hold the lead id, model version, decision, reasons and the model features, never the request: the
features carry no PII (an e-mail column only ever becomes ``<name>_is_freemail`` / ``_has_valid_email`` /
``_is_competitor``, a job title its seniority and function, free text its length; columns the mapping marks as
pii are never read).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

logger = logging.getLogger(__name__)

METADATA = sa.MetaData()
SCORES = sa.Table(
    "scores",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("lead_id", sa.String(100), nullable=False, index=True),
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
)
_STOP = object()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)


def score_row(
    lead_id: str,
    result: dict[str, Any],
    model_name: str,
    model_version: str,
    threshold: float,
    lead_created_at: datetime | None = None,
) -> dict[str, Any]:
    """One scoring-log row from a result of ``LeadScorer.explain_records`` (``lead_created_at`` in UTC)."""
    return {
        "lead_id": lead_id,
        "scored_at": datetime.now(UTC),
        "lead_created_at": lead_created_at,
        "model_name": model_name,
        "model_version": model_version,
        "probability": result["probability"],
        "score": result["score"],
        "is_mql": result["is_mql"],
        "threshold": threshold,
        "grade": result["grade"],
        "priority": result["priority"],
        "respond_within_hours": result["response_hours"],
        "reasons": _json({"for": result["reasons_for"], "against": result["reasons_against"]}),
        "features": _json(result["features"]),
    }


def create_log_engine(url: str) -> sa.Engine:
    """An engine for the log's database; a SQLite file's folder is created if needed."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    METADATA.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: sa.Engine) -> None:
    """Bring a log written by an older leadq up to date: new columns are nullable, so adding them keeps every row."""
    present = {column["name"] for column in sa.inspect(engine).get_columns(SCORES.name)}
    missing = [column for column in SCORES.columns if column.name not in present]
    with engine.begin() as connection:
        for column in missing:
            kind = column.type.compile(dialect=engine.dialect)
            connection.execute(sa.text(f'ALTER TABLE {SCORES.name} ADD COLUMN "{column.name}" {kind}'))
            logger.info("scoring log: added column %s", column.name)


class ScoringLog:
    """Appends scoring rows in the background; ``close`` writes everything still queued."""

    def __init__(self, url: str, flush_interval_s: float = 1.0, batch_size: int = 500):
        self.engine = create_log_engine(url)
        self.flush_interval_s, self.batch_size = flush_interval_s, batch_size
        self._queue: queue.Queue[object] = queue.Queue()
        self._writer = threading.Thread(target=self._run, name="scoring-log-writer", daemon=True)
        self._writer.start()

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue rows for writing (returns at once)."""
        for row in rows:
            self._queue.put(row)

    def _take_batch(self) -> tuple[list[dict[str, Any]], bool]:
        batch: list[dict[str, Any]] = []
        try:
            first = self._queue.get(timeout=self.flush_interval_s)
        except queue.Empty:
            return batch, False
        if first is _STOP:
            return batch, True
        batch.append(first)  # type: ignore[arg-type]
        while len(batch) < self.batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)  # type: ignore[arg-type]
        return batch, False

    def _write(self, batch: list[dict[str, Any]]) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(SCORES.insert(), batch)
        except Exception:  # a failing database must not stop the service; the error is logged, not the rows
            logger.exception("scoring log: could not write %d row(s)", len(batch))

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._take_batch()
            if batch:
                self._write(batch)
        while True:  # rows queued after the stop marker (requests finishing during shutdown)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                self._write([item])  # type: ignore[list-item]

    def close(self) -> None:
        """Write all queued rows and stop the writer."""
        self._queue.put(_STOP)
        self._writer.join()
        self.engine.dispose()
