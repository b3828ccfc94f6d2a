"""leadq's own vocabulary for what happened to a lead: dispositions, deals and activities, their columns and words.

Every export's further tables are translated into these (``pipelines.crm_export.tables``) before labels are
built, so the label rule and the audit read one format. :class:`DataContractError` names the table, the column,
what was expected and the offending values.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal, get_args

import pandas as pd


def ignore_pyspark_on_pandas_3() -> None:
    """Ignore pyspark's warning that pandas-on-Spark does not support pandas 3 (call it in ``catch_warnings``).

    pandera tries to import ``pyspark.pandas`` wherever pyspark is installed (leadq's Spark engine needs it): when
    it is imported and again when a schema first validates; under pandas 3 each try warns, then fails. The warning
    is about an API leadq never uses, yet every user saw it.
    """
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support", category=FutureWarning)


with warnings.catch_warnings():
    ignore_pyspark_on_pandas_3()
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors as SchemaErrors  # what the schemas' lazy validation raises

Stage = Literal["mql", "sal", "sql", "rejected", "recycled"]
STAGES: tuple[str, ...] = get_args(Stage)
Reason = Literal[
    "wrong_size",
    "wrong_geography",
    "wrong_title",
    "no_budget",
    "competitor",
    "student_intern",
    "bad_data",
    "wrong_timing",
]
REJECTION_REASONS: tuple[str, ...] = get_args(Reason)
OUTCOMES = ("won", "lost", "open")
# What a lead did, in leadq's words: a mapping translates the CRM's activity types into these.
ActivityKind = Literal[
    "visit", "download", "email_open", "email_click", "webinar", "event", "form", "demo_request", "unsubscribe"
]
ACTIVITY_KINDS: tuple[str, ...] = get_args(ActivityKind)
DISPOSITION_COLUMNS = ("lead_id", "timestamp", "stage", "reason", "sales_team")
DEAL_COLUMNS = ("deal_id", "lead_id", "created_at", "closed_at", "amount_eur", "outcome")
ACTIVITY_COLUMNS = ("lead_id", "timestamp", "kind", "detail")


class DataContractError(ValueError):
    """An export breaks a rule leadq needs to train on it; ``problems`` lists each violation in plain words."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("the CRM export cannot be used as it is:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class CRMTables:
    """Leads (lead_id, created_at, ...), dispositions and deals in leadq's words, as labels and the audit read them."""

    leads: pd.DataFrame
    dispositions: pd.DataFrame
    deals: pd.DataFrame


def _text(nullable: bool = True, **kwargs: object) -> pa.Column:
    return pa.Column(str, nullable=nullable, coerce=True, **kwargs)  # type: ignore[arg-type]


DISPOSITIONS_SCHEMA = pa.DataFrameSchema(
    {
        "lead_id": _text(nullable=False),
        "timestamp": pa.Column("datetime64[ns]", nullable=False),
        "stage": _text(nullable=False, checks=pa.Check.isin(STAGES)),
        "reason": _text(checks=pa.Check.isin(REJECTION_REASONS)),
        "sales_team": _text(required=False),
    },
    name="dispositions",
)
DEALS_SCHEMA = pa.DataFrameSchema(
    {
        "deal_id": _text(nullable=False, unique=True),
        "lead_id": _text(nullable=False),
        "created_at": pa.Column("datetime64[ns]", nullable=False),
        "closed_at": pa.Column("datetime64[ns]", nullable=True),
        "amount_eur": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
        "outcome": _text(nullable=False, checks=pa.Check.isin(OUTCOMES)),
    },
    name="deals",
)
ACTIVITIES_SCHEMA = pa.DataFrameSchema(
    {
        "lead_id": _text(nullable=False),
        "timestamp": pa.Column("datetime64[ns]", nullable=False),
        "kind": _text(nullable=False, checks=pa.Check.isin(ACTIVITY_KINDS)),
        "detail": _text(),
    },
    name="activities",
)


def require_both_classes(labels: pd.Series, where: str) -> None:
    """Refuse a training or evaluation set that holds only one class."""
    counts = labels.value_counts()
    if len(counts) < 2:
        only = "positive (won)" if counts.index.tolist() == [1] else "negative"
        raise DataContractError(
            [f"{where}: all {int(counts.sum())} labelled leads are {only}; expected both won and not-won leads"]
        )
