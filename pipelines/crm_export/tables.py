"""Further tables of an export, as its CRM made them, turned into leadq's dispositions, deals and activities.

A mapping's ``tables:`` names each table's file, the column that joins it to the leads and its own column names
and words (a deal stage "Closed Won", a lead status "Disqualified", an activity type "Page Visited");
:func:`deals_table`, :func:`dispositions_table` and :func:`activities_table` return the rows in leadq's vocabulary
(``models.contract.DEAL_COLUMNS``, ``DISPOSITION_COLUMNS`` and ``ACTIVITY_COLUMNS``), checked by
:func:`validate_table`, with a report of what was dropped and why.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from models.cleaning import clean_column, mark_missing, parse_numbers
from models.contract import (
    ACTIVITIES_SCHEMA,
    ACTIVITY_COLUMNS,
    DEAL_COLUMNS,
    DEALS_SCHEMA,
    DISPOSITION_COLUMNS,
    DISPOSITIONS_SCHEMA,
    DataContractError,
    SchemaErrors,
    ignore_pyspark_on_pandas_3,
)
from pipelines.crm_export.mapping import (
    ActivitiesSpec,
    DealsSpec,
    DispositionsSpec,
    MappingError,
    ValuesColumn,
    normalize_value,
)

_TABLE_SCHEMAS = {"dispositions": DISPOSITIONS_SCHEMA, "deals": DEALS_SCHEMA, "activities": ACTIVITIES_SCHEMA}
_TABLE_COLUMNS = {"dispositions": DISPOSITION_COLUMNS, "deals": DEAL_COLUMNS, "activities": ACTIVITY_COLUMNS}
_MAX_SHOWN = 5


def _require_columns(frame: pd.DataFrame, table: str, columns: list[str | None]) -> None:
    missing = [column for column in columns if column is not None and column not in frame.columns]
    if missing:
        raise MappingError(
            f"tables.{table}: column(s) {missing} not in the {table} file; "
            f"it has: {', '.join(map(repr, frame.columns))}"
        )


def _lead_ids(
    frame: pd.DataFrame, table: str, key: str, lead_keys: pd.Series, placeholders: list[str]
) -> tuple[pd.Series, dict[str, Any]]:
    """Each row's lead id through the join key; rows whose key matches no lead are counted and dropped."""
    keys, _ = clean_column(frame[key].astype(object), "id", f"{table}.{key}", placeholders)
    by_key = pd.Series(lead_keys.index.astype(str), index=lead_keys.map(normalize_value).to_numpy())
    by_key = by_key[~by_key.index.duplicated()]
    lead_ids = keys.map(normalize_value, na_action="ignore").map(by_key)
    return lead_ids, {"rows": len(frame), "rows_without_a_known_lead": int(lead_ids.isna().sum())}


def _dates(frame: pd.DataFrame, table: str, column: str | None, placeholders: list[str]) -> pd.Series:
    if column is None:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    dates, _ = clean_column(frame[column].astype(object), "date", f"{table}.{column}", placeholders)
    return dates


def _words(frame: pd.DataFrame, spec: ValuesColumn | None) -> tuple[pd.Series, dict[str, int]]:
    """Each row's leadq word and the export's words that map to none (counted, for the report)."""
    if spec is None:
        return pd.Series(None, index=frame.index, dtype=object), {}
    words = frame[spec.column].map(spec.word_of)
    unmapped = frame.loc[words.isna() & frame[spec.column].notna(), spec.column].astype(str).str.strip()
    return words, {str(k): int(v) for k, v in unmapped[unmapped != ""].value_counts().head(10).items()}


def _named_deal_columns(spec: DealsSpec, frame: pd.DataFrame) -> DealsSpec:
    """``spec`` without the optional columns it leaves at leadq's own names where the file has no such column (a
    won-deals export has no deal id, creation date or amount column); an outcome left at leadq's name must be named.

    Raises:
        MappingError: the file has no column ``outcome`` and the mapping names none, nor says there is none.
    """
    defaulted = {
        name
        for name in ("deal_id", "created_at", "amount")
        if name not in spec.model_fields_set and getattr(spec, name) not in frame.columns
    }
    if "outcome" not in spec.model_fields_set and spec.outcome and spec.outcome.column not in frame.columns:
        raise MappingError(
            f"tables.deals: the deals file has no column {spec.outcome.column!r} (leadq's own name for a deal's "
            "outcome); name the file's column and its words, e.g. outcome: {column: Stage, won: [Closed Won], "
            "lost: [Closed Lost]}, or set outcome: null where every row is a won deal; "
            f"the file has: {', '.join(map(repr, frame.columns))}"
        )
    return spec.model_copy(update=dict.fromkeys(defaulted)) if defaulted else spec


def deals_table(
    frame: pd.DataFrame, spec: DealsSpec, lead_keys: pd.Series, placeholders: list[str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Deals in leadq's words: won, lost or open by the outcome column's words (without one, every row won).

    ``lead_keys``: the leads' join values (the id, or ``lead_column``), indexed by lead id.
    """
    frame = frame.rename(columns=str).reset_index(drop=True)
    spec = _named_deal_columns(spec, frame)
    outcome_column = spec.outcome.column if spec.outcome else None
    _require_columns(
        frame, "deals", [spec.key, spec.deal_id, spec.created_at, spec.closed_at, spec.amount, outcome_column]
    )
    lead_ids, report = _lead_ids(frame, "deals", spec.key, lead_keys, placeholders)
    closed_at = _dates(frame, "deals", spec.closed_at, placeholders)
    created_at = _dates(frame, "deals", spec.created_at, placeholders).fillna(closed_at)
    outcomes, unmapped = _words(frame, spec.outcome)
    amounts = (
        parse_numbers(mark_missing(frame[spec.amount], placeholders)[0], f"deals.{spec.amount}")[0]
        if spec.amount
        else pd.Series(float("nan"), index=frame.index)
    )
    deals = pd.DataFrame(
        {
            "deal_id": frame[spec.deal_id].astype(str) if spec.deal_id else "deal-" + frame.index.astype(str),
            "lead_id": lead_ids,
            "created_at": created_at,
            "closed_at": closed_at,
            "amount_eur": amounts.astype(float),
            "outcome": outcomes.fillna("open") if spec.outcome else "won",
        }
    )
    known = deals["lead_id"].notna()
    # A deal with neither a creation nor a close date (an open opportunity of an export without a created
    # column) cannot be placed in time; the label rule only reads closed deals, so it is dropped and counted.
    undated = known & deals["created_at"].isna()
    counts = deals.loc[known & ~undated, "outcome"].value_counts()
    report |= {
        "outcomes": {str(k): int(v) for k, v in counts.items()},
        "open_words": unmapped,
        "undated_dropped": {str(k): int(v) for k, v in deals.loc[undated, "outcome"].value_counts().items()},
    }
    return validate_table(deals[known & ~undated].reset_index(drop=True), "deals"), report


def dispositions_table(
    frame: pd.DataFrame, spec: DispositionsSpec, lead_keys: pd.Series, placeholders: list[str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Dispositions in leadq's stages and reasons; rows whose stage word the mapping does not translate are dropped."""
    frame = frame.rename(columns=str).reset_index(drop=True)
    reason_column = spec.reason.column if spec.reason and spec.reason.column in frame.columns else None
    team_column = spec.sales_team if spec.sales_team in frame.columns else None
    _require_columns(frame, "dispositions", [spec.key, spec.timestamp, spec.stage.column])
    lead_ids, report = _lead_ids(frame, "dispositions", spec.key, lead_keys, placeholders)
    stages, unmapped = _words(frame, spec.stage)
    reasons, _ = _words(frame, spec.reason if reason_column else None)
    dispositions = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "timestamp": _dates(frame, "dispositions", spec.timestamp, placeholders),
            "stage": stages,
            "reason": reasons.where(stages == "rejected"),
            "sales_team": frame[team_column].astype(object) if team_column else None,
        }
    )
    kept = dispositions["lead_id"].notna() & dispositions["stage"].notna()
    report |= {"rows_with_unmapped_stage": int(stages.isna().sum()), "unmapped_stage_words": unmapped}
    return validate_table(dispositions[kept].reset_index(drop=True), "dispositions"), report


def activities_table(
    frame: pd.DataFrame, spec: ActivitiesSpec, lead_keys: pd.Series, placeholders: list[str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Activities in leadq's kinds; rows of an unmapped type, of no known lead or without a readable date are dropped
    and counted."""
    frame = frame.rename(columns=str).reset_index(drop=True)
    detail_column = spec.detail if spec.detail in frame.columns else None
    _require_columns(frame, "activities", [spec.key, spec.timestamp, spec.kind.column])
    lead_ids, report = _lead_ids(frame, "activities", spec.key, lead_keys, placeholders)
    kinds, unmapped = _words(frame, spec.kind)
    activities = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "timestamp": _dates(frame, "activities", spec.timestamp, placeholders),
            "kind": kinds,
            "detail": frame[detail_column].astype(object) if detail_column else None,
        }
    )
    known = activities["lead_id"].notna() & activities["kind"].notna()
    undated = known & activities["timestamp"].isna()
    report |= {
        "rows_with_unmapped_kind": int(kinds.isna().sum()),
        "unmapped_kind_words": unmapped,
        "undated_dropped": int(undated.sum()),
        "kinds": {str(k): int(v) for k, v in activities.loc[known & ~undated, "kind"].value_counts().items()},
    }
    return validate_table(activities[known & ~undated].reset_index(drop=True), "activities"), report


def validate_table(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """A further table in leadq's columns, checked by its schema (dates parsed, codes lower case).

    Raises:
        DataContractError: a column is missing or holds values leadq's tables do not allow; the message names it.
    """
    parsed = frame.reset_index(drop=True).astype(object)
    for column in ("timestamp", "created_at", "closed_at"):
        if column in parsed:
            parsed[column] = pd.to_datetime(parsed[column], errors="coerce").astype("datetime64[ns]")
    try:
        with warnings.catch_warnings():
            ignore_pyspark_on_pandas_3()
            return _TABLE_SCHEMAS[table].validate(parsed, lazy=True)
    except SchemaErrors as errors:
        raise DataContractError(_schema_problems(errors, table)) from errors


def won_date_deals(won_at: pd.Series, created_at: pd.Series) -> pd.DataFrame:
    """One won deal per lead with a win date (mapping role ``won_at``), closed then; leads without one have none.

    Both series are indexed by lead id and hold dates (the export's cleaned columns). A lead without a win date
    is then lost or still open by leadq's label rule: lost once the label horizon has passed since it came in.
    """
    won = won_at.notna() & created_at.notna()
    lead_ids = won_at.index.astype(str)[won.to_numpy()]
    deals = pd.DataFrame(
        {
            "deal_id": [f"won-{lead_id}" for lead_id in lead_ids],
            "lead_id": lead_ids,
            "created_at": created_at[won].to_numpy(),
            "closed_at": won_at[won].to_numpy(),
            "amount_eur": float("nan"),
            "outcome": "won",
        },
        columns=list(DEAL_COLUMNS),
    )
    return validate_table(deals, "deals")


def empty_table(table: str) -> pd.DataFrame:
    """A table with leadq's columns and no rows (a single-table export has no dispositions, deals or activities)."""
    return validate_table(pd.DataFrame(columns=list(_TABLE_COLUMNS[table])), table)


def _schema_problems(errors: SchemaErrors, table: str) -> list[str]:
    problems = []
    for (column, check), group in errors.failure_cases.groupby(["column", "check"], dropna=False, sort=False):
        examples = group["failure_case"].astype(str).unique()[:3].tolist()
        if str(check) == "column_in_dataframe":
            problems.append(f"{table}: missing required column(s) {examples}; expected {list(_TABLE_COLUMNS[table])}")
        else:
            problems.append(f"{table}.{column}: expected {check}, got {examples}")
    return problems
