"""The data contract of a CRM export: three tables, their columns, types and rules.

``validate_crm`` parses (dates, booleans, categories) and checks the tables before anything is trained.
Every violation is collected and reported at once in a :class:`DataContractError` that names the table,
the column, what was expected and the offending rows (0-based positions in the table as read).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

STAGES = ("mql", "sal", "sql", "rejected", "recycled")
REJECTION_REASONS = (
    "wrong_size",
    "wrong_geography",
    "wrong_title",
    "no_budget",
    "competitor",
    "student_intern",
    "bad_data",
    "wrong_timing",
)
OUTCOMES = ("won", "lost", "open")

# Lead columns by role. PII is accepted only to derive features and never becomes a feature itself.
PII_COLUMNS = ("email",)
LEAD_TEXT_COLUMNS = ("email", "job_title", "industry", "country", "lead_source", "campaign", "budget_stated")
LEAD_BOOLEAN_COLUMNS = (
    "consent_marketing",
    "consent_tracking",
    "webinar_attended",
    "demo_requested",
    "newsletter_unsubscribed",
)
LEAD_COUNT_COLUMNS = (
    "company_size",
    "form_fields_answered",
    "website_visits",
    "pages_per_visit",
    "time_on_site_s",
    "content_downloads",
    "pricing_page_visits",
    "email_opens",
    "email_clicks",
)
LEAD_COLUMNS = ("lead_id", "created_at", *LEAD_TEXT_COLUMNS, *LEAD_BOOLEAN_COLUMNS, *LEAD_COUNT_COLUMNS)
# What a scoring request carries: the lead as known at scoring time, without identifiers or dates.
SCORING_COLUMNS = (*LEAD_TEXT_COLUMNS, *LEAD_BOOLEAN_COLUMNS, *LEAD_COUNT_COLUMNS)
DISPOSITION_COLUMNS = ("lead_id", "timestamp", "stage", "reason", "sales_team")
DEAL_COLUMNS = ("deal_id", "lead_id", "created_at", "closed_at", "amount_eur", "outcome")
# Known only after sales touched the lead: never model input (tests enforce this).
OUTCOME_COLUMNS = frozenset(DISPOSITION_COLUMNS + DEAL_COLUMNS) - {"lead_id"}

_BOOLEAN_TOKENS = {
    "true": True,
    "1": True,
    "yes": True,
    "y": True,
    "ja": True,
    "false": False,
    "0": False,
    "no": False,
    "n": False,
    "nein": False,
}
_MAX_ROWS_SHOWN = 5


class DataContractError(ValueError):
    """A CRM table breaks the data contract; ``problems`` lists each violation in plain words."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("the CRM export breaks the data contract:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class CRMTables:
    """The three tables of a CRM export (see README, "Data contract")."""

    leads: pd.DataFrame
    dispositions: pd.DataFrame
    deals: pd.DataFrame


def _rows(positions: Iterable[int]) -> str:
    shown = sorted({int(p) for p in positions})
    more = f" and {len(shown) - _MAX_ROWS_SHOWN} more" if len(shown) > _MAX_ROWS_SHOWN else ""
    return f"row(s) {shown[:_MAX_ROWS_SHOWN]}{more}"


def _count(minimum: float = 0) -> pa.Column:
    return pa.Column(float, pa.Check.ge(minimum), nullable=True, coerce=True)


def _text(nullable: bool = True, **kwargs: object) -> pa.Column:
    return pa.Column(str, nullable=nullable, coerce=True, **kwargs)  # type: ignore[arg-type]


LEADS_SCHEMA = pa.DataFrameSchema(
    {
        "lead_id": _text(nullable=False, unique=True),
        "created_at": pa.Column("datetime64[ns]", nullable=False),
        **{column: _text() for column in LEAD_TEXT_COLUMNS},
        **{column: pa.Column(bool, nullable=False) for column in LEAD_BOOLEAN_COLUMNS},
        **{column: _count() for column in LEAD_COUNT_COLUMNS},
        "company_size": _count(minimum=1),
    },
    name="leads",
)
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
_SCHEMAS = {"leads": LEADS_SCHEMA, "dispositions": DISPOSITIONS_SCHEMA, "deals": DEALS_SCHEMA}
_DATETIME_COLUMNS = {"leads": ("created_at",), "dispositions": ("timestamp",), "deals": ("created_at", "closed_at")}
_LOWERCASE_COLUMNS = {"dispositions": ("stage", "reason"), "deals": ("outcome",)}


def _parse_datetimes(frame: pd.DataFrame, table: str, problems: list[str]) -> pd.DataFrame:
    parsed = frame.copy()
    for column in _DATETIME_COLUMNS[table]:
        if column not in frame:
            continue
        values = pd.to_datetime(frame[column], errors="coerce", format="mixed", utc=True)
        unparsable = values.isna() & frame[column].notna()
        if unparsable.any():
            examples = frame.loc[unparsable, column].astype(str).unique()[:3].tolist()
            problems.append(
                f"{table}.{column}: expected a date/time, got {examples} in {_rows(np.flatnonzero(unparsable))}"
            )
        parsed[column] = values.dt.tz_localize(None).astype("datetime64[ns]")
    return parsed


def _parse_booleans(frame: pd.DataFrame, table: str, problems: list[str]) -> pd.DataFrame:
    parsed = frame.copy()
    for column in LEAD_BOOLEAN_COLUMNS if table == "leads" else ():
        if column not in frame or frame[column].dtype == bool:
            continue
        tokens = frame[column].astype(str).str.strip().str.lower()
        values = tokens.map(_BOOLEAN_TOKENS)
        invalid = values.isna()
        if invalid.any():
            examples = frame.loc[invalid, column].astype(str).unique()[:3].tolist()
            problems.append(
                f"{table}.{column}: expected true/false (or 1/0, yes/no), got {examples} in "
                f"{_rows(np.flatnonzero(invalid))}"
            )
            continue
        parsed[column] = values.astype(bool)
    return parsed


def _normalise_codes(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    parsed = frame.copy()
    for column in _LOWERCASE_COLUMNS.get(table, ()):
        if column in frame:
            parsed[column] = frame[column].astype("str").str.strip().str.lower().where(frame[column].notna())
    return parsed


def _schema_problems(errors: SchemaErrors, table: str, frame: pd.DataFrame) -> list[str]:
    cases = errors.failure_cases
    problems = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        if str(check) == "column_in_dataframe":
            missing = sorted(group["failure_case"].astype(str).unique())
            problems.append(f"{table}: missing required column(s) {missing}")
            continue
        positions = frame.index.get_indexer(group["index"].dropna())
        examples = group["failure_case"].astype(str).unique()[:3].tolist()
        where = f"{table}.{column}" if isinstance(column, str) and column != table else table
        problems.append(f"{where}: expected {check}, got {examples} in {_rows(positions)}")
    return problems


def _validate_table(frame: pd.DataFrame, table: str, problems: list[str]) -> pd.DataFrame:
    if frame.empty:
        problems.append(f"{table}: the table is empty; expected at least one row")
        return frame
    frame = frame.reset_index(drop=True)
    parsed = _normalise_codes(_parse_booleans(_parse_datetimes(frame, table, problems), table, problems), table)
    try:
        return _SCHEMAS[table].validate(parsed, lazy=True)
    except SchemaErrors as errors:
        problems.extend(_schema_problems(errors, table, parsed))
        return parsed


def _reference_problems(child: pd.DataFrame, table: str, lead_ids: pd.Series) -> list[str]:
    if "lead_id" not in child or child.empty:
        return []
    unknown = ~child["lead_id"].isin(lead_ids)
    if not unknown.any():
        return []
    examples = child.loc[unknown, "lead_id"].astype(str).unique()[:3].tolist()
    return [f"{table}.lead_id: points at unknown lead(s) {examples} in {_rows(np.flatnonzero(unknown))}"]


def _deal_problems(deals: pd.DataFrame) -> list[str]:
    if not {"outcome", "closed_at"} <= set(deals.columns):
        return []
    closed_without_date = deals["outcome"].isin(["won", "lost"]) & deals["closed_at"].isna()
    if closed_without_date.any():
        return [
            f"deals.closed_at: expected a close date for won/lost deals, missing in "
            f"{_rows(np.flatnonzero(closed_without_date))}"
        ]
    return []


def validate_crm(tables: CRMTables) -> CRMTables:
    """Parse and check all three tables; raise DataContractError listing every violation.

    Returns new frames with parsed dtypes (datetimes, booleans, floats for counts, lower-case codes).
    """
    problems: list[str] = []
    leads = _validate_table(tables.leads, "leads", problems)
    dispositions = _validate_table(tables.dispositions, "dispositions", problems)
    deals = _validate_table(tables.deals, "deals", problems)
    if "lead_id" in leads:
        problems += _reference_problems(dispositions, "dispositions", leads["lead_id"])
        problems += _reference_problems(deals, "deals", leads["lead_id"])
    problems += _deal_problems(deals)
    if problems:
        raise DataContractError(problems)
    return CRMTables(leads=leads, dispositions=dispositions, deals=deals)


def as_scoring_frame(leads: pd.DataFrame) -> pd.DataFrame:
    """The scoring columns of ``leads`` in the model signature's types (what the MLflow pyfunc accepts).

    Counts become float64 (missing -> NaN; MLflow refuses int64 -> double as unsafe), booleans stay bool or,
    when some are missing, object with None; text stays as given. Absent columns stay absent (scored as missing).
    A count that is not a number is refused, naming the column and rows.
    """
    frame = leads[[column for column in SCORING_COLUMNS if column in leads]].copy()
    for column in LEAD_COUNT_COLUMNS:
        if column in frame:
            numbers = pd.to_numeric(frame[column], errors="coerce").astype("float64")
            invalid = numbers.isna() & frame[column].notna()
            if invalid.any():
                raise DataContractError([f"leads.{column}: expected a number in {_rows(np.flatnonzero(invalid))}"])
            frame[column] = numbers
    for column in LEAD_BOOLEAN_COLUMNS:
        if column in frame and frame[column].dtype != bool:
            values = frame[column].astype(object)
            frame[column] = values.where(values.notna(), None)
    return frame


def require_both_classes(labels: pd.Series, where: str) -> None:
    """Refuse a training or evaluation set that holds only one class."""
    counts = labels.value_counts()
    if len(counts) < 2:
        only = "positive (won)" if counts.index.tolist() == [1] else "negative"
        raise DataContractError(
            [f"{where}: all {int(counts.sum())} labelled leads are {only}; expected both won and not-won leads"]
        )
