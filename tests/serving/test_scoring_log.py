"""The scoring log: rows written in the background, every row kept on close, older logs upgraded in place."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from serving.scoring_log import ScoringLog, score_row

RESULT = {
    "probability": 0.31,
    "score": 31,
    "is_mql": True,
    "grade": "A1",
    "priority": "hot",
    "response_hours": 4.0,
    "reasons_for": [{"feature": "demo_requested", "label": "Demo requested", "value": 1.0, "impact": 1.2}],
    "reasons_against": [],
    "features": {"demo_requested": 1.0, "industry": "Software"},
}


def _rows(url: str) -> list[dict[str, object]]:
    with sa.create_engine(url).connect() as connection:
        return [dict(row) for row in connection.execute(sa.text("SELECT * FROM scores ORDER BY id")).mappings()]


def test_close_writes_every_queued_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = ScoringLog(url, flush_interval_s=60.0)  # nothing would be flushed by time before close
    created = datetime(2026, 10, 5, 7, 30, tzinfo=UTC)
    log.append([score_row(f"L{i}", RESULT, "leadq", "3", 0.2, created) for i in range(1200)])
    log.close()

    rows = _rows(url)
    assert len(rows) == 1200
    assert rows[0]["respond_within_hours"] == 4.0
    assert rows[0]["model_version"] == "3"
    assert str(rows[0]["lead_created_at"]).startswith("2026-10-05 07:30:00")


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
    engine.dispose()

    log = ScoringLog(url)
    log.append([score_row("NEW", RESULT, "leadq", "2", 0.2)])
    log.close()

    rows = _rows(url)
    assert [row["lead_id"] for row in rows] == ["OLD", "NEW"]
    assert rows[0]["respond_within_hours"] is None
    assert rows[0]["lead_created_at"] is None
    assert rows[1]["respond_within_hours"] == 4.0
