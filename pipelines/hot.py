"""``leadq hot``: the nurture leads heating up since the last run, from the scoring log.

A recycled lead goes back to nurture; when it engages again, the CRM (or a nightly ``leadq score``) scores it anew.
This lists the leads that were not MQLs at their last score before the run's start and are MQLs now
(``models.trends.heating_up``), with the reasons that are new and the features that changed, and writes the
moment it ran, so the next run starts there. The list goes to a CSV or Parquet file for the CRM (a task or a
campaign per lead), written under a temporary name and renamed at the end.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.trends import heating_up, score_trends
from pipelines.audit import read_scoring_log
from pipelines.settings import Settings


@dataclass(frozen=True)
class HotResult:
    since: pd.Timestamp  # naive UTC: the start of the window (the last run, --since, or first_run_days ago)
    until: pd.Timestamp  # naive UTC: this run
    since_source: str  # where ``since`` came from, in words
    leads: pd.DataFrame  # models.trends.HOT_COLUMNS plus trend and change over the trend window
    scored: int  # leads scored since ``since``


def last_run(state: Path) -> pd.Timestamp | None:
    """When ``leadq hot`` last ran (naive UTC), or None; a state file that cannot be read is refused, named."""
    if not state.is_file():
        return None
    try:
        return pd.Timestamp(json.loads(state.read_text(encoding="utf-8"))["ran_at"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{state}: not a leadq hot state file ({error}); delete it, or pass --since, to start over"
        ) from error


def record_run(state: Path, ran_at: pd.Timestamp) -> None:
    """Write when this run ran, atomically (a killed run leaves the previous state)."""
    state.parent.mkdir(parents=True, exist_ok=True)
    temporary = state.with_name(f".{state.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"ran_at": ran_at.isoformat()}), encoding="utf-8")
    os.replace(temporary, state)


def write_table(frame: pd.DataFrame, out: Path) -> None:
    """The list as CSV or Parquet (by the suffix), renamed over ``out`` only when complete."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        if out.suffix.lower() == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)


def run_hot(
    settings: Settings,
    since: pd.Timestamp | None = None,
    now: pd.Timestamp | None = None,
    record: bool = True,
) -> HotResult:
    """The leads heating up between the last run (or ``since``) and ``now``, with their trend.

    Raises:
        ValueError: no scoring log is configured, or the state file is unreadable. FileNotFoundError: no log file.
    """
    url = settings.serving.scoring_log_url
    if url is None:
        raise ValueError("serving.scoring_log_url is null: leadq hot reads the scoring log; configure one")
    trends = settings.trends
    until = now if now is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    previous = last_run(trends.hot_state)
    if since is not None:
        start, source = since, "--since"
    elif previous is not None:
        start, source = previous, f"the last run ({trends.hot_state})"
    else:
        start, source = (
            until - pd.Timedelta(days=trends.first_run_days),
            f"no earlier run: {trends.first_run_days} days",
        )
    # A lead's last score before the start says whether it was in nurture; scores older than the lookback do not.
    earliest = min(start, until - pd.Timedelta(days=trends.window_days)) - pd.Timedelta(days=trends.lookback_days)
    history = read_scoring_log(url, earliest, until + pd.Timedelta(seconds=1), by="scored")
    hot = heating_up(history, start, settings.explanations.language)
    trend = score_trends(history, until, trends.window_days, trends.min_change_points)
    leads = hot.join(trend[["trend", "change"]], on="lead_id")
    if record:
        record_run(trends.hot_state, until)
    scored = int(history.loc[history["scored_at"] >= start, "lead_id"].nunique())
    return HotResult(start, until, source, leads, scored)
