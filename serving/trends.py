"""Each lead's score trend in the service's answers (``trend``), read from the scoring log's database.

The rule is ``models.trends.trend_of``, the one ``leadq score --log`` and ``leadq hot`` use: this request's score is
the last, the lead's first logged score in the ``window_days`` before now the first; ``improving`` or ``declining``
when they differ by ``min_change_points`` or more, ``steady`` otherwise, ``new`` without an earlier score in the
window. One query per request (every lead of a batch at once, ``select_first_scores``) on the index (lead_id,
scored_at): one row per lead however often it was scored. Scores still in the spool (answered within the last flush
interval) are not in the database yet, so they are not seen.

Reading must never cost a score: when the database does not answer (locked, gone, unreachable), the request's trends
are None, one warning line says so when the failure starts and one when it ends (the error's class and first line,
never a lead), and the reader waits before it tries again (1 s, doubling to a minute) so that a database that is
down does not slow every request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from models.trends import Trend, trend_of
from serving.scoring_log import _describe, _sqlite_file, prepare_log_table, select_first_scores

logger = logging.getLogger("leadq.serving.trends")

# The request waits this long at most for a SQLite log locked by its writer's commit (milliseconds, normally).
SQLITE_READ_TIMEOUT_S = 0.05
SQLITE_RECYCLE_S = 60
POSTGRES_TIMEOUT_S = 2  # connecting and each query (libpq waits at least 2 s to connect)
FIRST_RETRY_S, MAX_RETRY_S = 1.0, 60.0


def _read_engine(url: str) -> sa.Engine:
    if _sqlite_file(url) is not None:
        # Pooled connections (a new one per request cost 0.5 ms in the service), renewed after a minute: a log file
        # replaced while the service runs is read within a minute (the writer's engine opens one per batch).
        return sa.create_engine(
            url,
            poolclass=QueuePool,
            max_overflow=-1,  # as many as requests at once: none waits for a connection
            pool_recycle=SQLITE_RECYCLE_S,
            connect_args={"timeout": SQLITE_READ_TIMEOUT_S},
        )
    connect_args: dict[str, Any] = {}
    if sa.make_url(url).get_backend_name() == "postgresql":
        milliseconds = POSTGRES_TIMEOUT_S * 1000
        connect_args = {"connect_timeout": POSTGRES_TIMEOUT_S, "options": f"-c statement_timeout={milliseconds}"}
    return sa.create_engine(url, pool_pre_ping=True, pool_timeout=POSTGRES_TIMEOUT_S, connect_args=connect_args)


class ScoreTrends:
    """Reads the leads' earlier scores from the scoring log's database and gives their trends."""

    def __init__(self, url: str, window_days: float, min_change_points: int, first_retry_s: float = FIRST_RETRY_S):
        self.window = timedelta(days=window_days)
        self.min_change_points = min_change_points
        self.engine = _read_engine(url)
        # built once (SQLAlchemy caches its compiled form): each lead's first score since the window's start
        self._query = select_first_scores(sa.bindparam("start"), sa.bindparam("lead_ids", expanding=True))
        self._database = _sqlite_file(url)
        self._first_retry_s = first_retry_s
        self._lock = threading.Lock()  # requests on the event loop and in worker threads share the episode
        self._failing_since: float | None = None
        self._retry_s = 0.0
        self._retry_at = 0.0

    def prepare(self, engine: sa.Engine) -> None:
        """Create the log's table and indexes where missing (the index trends read by, on a log from an older leadq),
        with the writer's engine; a database that does not answer now is said once and left to the writer."""
        try:
            prepare_log_table(engine)
        except Exception as error:
            logger.warning(
                "score trends: could not prepare the scoring log's table at start (%s); trends are null while it "
                "cannot be read",
                _describe(error),
            )

    def trends(self, lead_ids: Sequence[str], scores: Sequence[int]) -> list[Trend] | None:
        """Each lead's trend with ``scores`` (this request's) as its last; None when the log cannot be read now."""
        if self._failing_since is not None and time.monotonic() < self._retry_at:
            return None
        try:
            first = self._first_scores(lead_ids)
        except Exception as error:  # any failure of the database: the scores are answered without trends
            self._failed(error)
            return None
        if self._failing_since is not None:
            self._recovered()
        firsts = np.array([first.get(lead, score) for lead, score in zip(lead_ids, scores, strict=True)])
        counts = np.array([2 if lead in first else 1 for lead in lead_ids])  # trend_of asks only: an earlier one?
        return cast(list[Trend], trend_of(np.asarray(scores) - firsts, counts, self.min_change_points).tolist())

    def _first_scores(self, lead_ids: Sequence[str]) -> dict[str, int]:
        """Each lead's first score in the window, for the leads that have one (one query)."""
        if self._database is not None and not self._database.is_file():  # connecting would create an empty file
            raise FileNotFoundError("the scoring log's SQLite file is missing")
        first: dict[str, int] = {}
        parameters = {"start": datetime.now(UTC) - self.window, "lead_ids": list(set(lead_ids))}
        with self.engine.connect() as connection:
            for lead, score in connection.execute(self._query, parameters):
                first.setdefault(lead, score)  # a tie at the first time: the one written first
        return first

    def _failed(self, error: Exception) -> None:
        with self._lock:
            self._retry_s = min(max(2 * self._retry_s, self._first_retry_s), MAX_RETRY_S)
            self._retry_at = time.monotonic() + self._retry_s
            starting = self._failing_since is None
            if starting:
                self._failing_since = time.monotonic()
        if starting:
            logger.warning(
                "score trends: cannot read the scoring log (%s); answers carry trend null until it can",
                _describe(error),
            )

    def _recovered(self) -> None:
        with self._lock:
            since, self._failing_since = self._failing_since, None
            self._retry_s = 0.0
        if since is not None:
            logger.warning("score trends: the scoring log can be read again after %.1f s", time.monotonic() - since)

    def close(self) -> None:
        self.engine.dispose()
