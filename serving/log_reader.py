"""The scoring log's database read by requests: each lead's trend (``serving.trends``) and its account's other leads
(``serving.accounts``) come from it.

Reading must never cost a score: when the database does not answer (locked, gone, unreachable), ``read`` returns
None and the request answers without what it would have read; one warning line says so when the failure starts and
one when it ends (the error's class and first line, never a lead or an account). While it fails no request reads it:
after a wait (1 s, doubling to a minute) one probe in a background thread tries again, so that a database that is
down or hung slows no request but the one that found it so. The trends and the accounts share one reader, so one
failure spares both reads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.pool import NullPool, QueuePool

from serving.scoring_log import SCORES, _describe, _sqlite_file, create_log_engine, prepare_log_table

logger = logging.getLogger("leadq.serving.log_reader")

# The request waits this long at most for a locked SQLite log (in WAL mode a read waits for no commit; a file still in
# the rollback journal, or one being recovered after a crash, is locked for milliseconds).
SQLITE_READ_TIMEOUT_S = 0.05
SQLITE_RECYCLE_S = 60
POSTGRES_TIMEOUT_S = 2  # connecting and each query (libpq waits at least 2 s to connect)
FIRST_RETRY_S, MAX_RETRY_S = 1.0, 60.0

T = TypeVar("T")


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


def _prepare_engine(url: str) -> sa.Engine:
    if sa.make_url(url).get_backend_name() == "postgresql":
        return sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": POSTGRES_TIMEOUT_S})
    return create_log_engine(url)


class LogReader:
    """Runs the requests' reads of the scoring log's database; None while it cannot be read."""

    def __init__(self, url: str, first_retry_s: float = FIRST_RETRY_S):
        self.url = url
        self.engine = _read_engine(url)
        self._database = _sqlite_file(url)
        self._first_retry_s = first_retry_s
        self._lock = threading.Lock()  # requests on the event loop and in worker threads share the episode
        self._failing_since: float | None = None
        self._probing = False  # the background probe is trying a failing database again
        self._retry_s = 0.0
        self._retry_at = 0.0

    def prepare(self) -> None:
        """Create the log's table, columns and indexes where missing (the indexes the reads use, the account column,
        on a log from an older leadq); a database that does not answer now is said once and left to the writer.

        The service starts after this: a PostgreSQL server that does not answer is given ``POSTGRES_TIMEOUT_S`` to
        connect (the writer's engine has no limit, and a server that accepts the connection and never replies held
        the start forever); building an index on a large log is not limited."""
        engine = _prepare_engine(self.url)
        try:
            prepare_log_table(engine)
        except Exception as error:
            logger.warning(
                "scoring log reads: could not prepare the scoring log's table at start (%s); trends are null and "
                "accounts hold the request's leads only while it cannot be read",
                _describe(error),
            )
        finally:
            engine.dispose()

    def read(self, reading: Callable[[sa.Connection], T]) -> T | None:
        """``reading`` on a connection; None when the log cannot be read now (it failed, or failed a moment ago).

        While it fails, no request waits for it: each answers at once, and once the wait is over one probe in a
        background thread tries the database again (a request that reads on the event loop must never hold up the
        others for a database that does not answer)."""
        if self._failing_since is not None:
            self._probe_when_due()
            return None
        return self._read(reading)

    def _probe_when_due(self) -> None:
        with self._lock:
            if self._probing or time.monotonic() < self._retry_at:
                return
            self._probing = True
        threading.Thread(target=self._probe, name="leadq-log-probe", daemon=True).start()

    def _probe(self) -> None:
        # the table the requests read, not just the server: a table locked or gone still fails the probe
        try:
            self._read(lambda connection: connection.execute(sa.select(SCORES.c.id).limit(1)).scalar())
        finally:
            self._probing = False

    def _read(self, reading: Callable[[sa.Connection], T]) -> T | None:
        if self._database is not None and not self._database.is_file():  # connecting would create an empty file
            self._failed(FileNotFoundError("the scoring log's SQLite file is missing"))
            return None
        try:
            with self.engine.connect() as connection:
                result = reading(connection)
        except sa.exc.DataError as error:  # this request's values, not the database: no wait for the next ones
            logger.warning("scoring log reads: the database refused a read's values (%s)", _describe(error))
            return None
        except Exception as error:  # any failure of the database: the scores are answered without what it holds
            self._failed(error)
            return None
        if self._failing_since is not None:
            self._recovered()
        return result

    def _failed(self, error: Exception) -> None:
        with self._lock:
            self._retry_s = min(max(2 * self._retry_s, self._first_retry_s), MAX_RETRY_S)
            self._retry_at = time.monotonic() + self._retry_s
            starting = self._failing_since is None
            if starting:
                self._failing_since = time.monotonic()
        if starting:
            logger.warning(
                "scoring log reads: cannot read the scoring log (%s); answers carry trend null and accounts of "
                "their own leads only until it can",
                _describe(error),
            )

    def _recovered(self) -> None:
        with self._lock:
            since, self._failing_since = self._failing_since, None
            self._retry_s = 0.0
        if since is not None:
            logger.warning(
                "scoring log reads: the scoring log can be read again after %.1f s", time.monotonic() - since
            )

    def close(self) -> None:
        self.engine.dispose()
