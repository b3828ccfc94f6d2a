"""Each lead's score trend in the service's answers (``trend``), read from the scoring log's database.

The rule is ``models.trends.trend_of``, the one ``leadq score --log`` and ``leadq hot`` use: this request's score is
the last, the lead's first logged score in the ``window_days`` before now the first; ``improving`` or ``declining``
when they differ by ``min_change_points`` or more, ``steady`` otherwise, ``new`` without an earlier score in the
window. One query per request (every lead of a batch at once, ``select_first_scores``): the leads in the log's
``latest_scores``, then one seek per lead on the index (lead_id, scored_at), however often it was scored. Scores still
in the spool (answered within the last flush interval) are not in the database yet, so they are not seen.

Reading must never cost a score: when the database does not answer (locked, gone, unreachable), the request's trends
are None (``serving.log_reader``: one warning line per failure, a wait before the next attempt).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

import numpy as np
import sqlalchemy as sa

from models.trends import Trend, trend_of
from serving.log_reader import LogReader
from serving.scoring_log import select_first_scores


class ScoreTrends:
    """Reads the leads' earlier scores from the scoring log's database and gives their trends."""

    def __init__(self, log: LogReader, window_days: float, min_change_points: int):
        self.log = log
        self.window = timedelta(days=window_days)
        self.min_change_points = min_change_points
        # built once (SQLAlchemy caches its compiled form): each lead's first score since the window's start
        self._query = select_first_scores(sa.bindparam("start"), sa.bindparam("lead_ids", expanding=True))

    def trends(self, lead_ids: Sequence[str], scores: Sequence[int]) -> list[Trend] | None:
        """Each lead's trend with ``scores`` (this request's) as its last; None when the log cannot be read now."""
        first = self.log.read(lambda connection: self._first_scores(connection, lead_ids))
        if first is None:
            return None
        firsts = np.array([first.get(lead, score) for lead, score in zip(lead_ids, scores, strict=True)])
        counts = np.array([2 if lead in first else 1 for lead in lead_ids])  # trend_of asks only: an earlier one?
        return cast(list[Trend], trend_of(np.asarray(scores) - firsts, counts, self.min_change_points).tolist())

    def _first_scores(self, connection: sa.Connection, lead_ids: Sequence[str]) -> dict[str, int]:
        """Each lead's first score in the window, for the leads that have one (one query)."""
        first: dict[str, int] = {}
        parameters = {"start": datetime.now(UTC) - self.window, "lead_ids": list(set(lead_ids))}
        for lead, score in connection.execute(self._query, parameters).all():
            first.setdefault(lead, score)  # a tie at the first time: the one written first
        return first
