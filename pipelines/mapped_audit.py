"""The audit's view of your own CRM export: the three tables ``leadq audit`` reads, built through the mapping.

leads: the mapped id and creation time, plus the lead source and campaign when the mapping has categorical
columns named like them (for the funnel by channel). dispositions and deals: the tables the mapping names,
in leadq's contract format. A single-table export has none: its outcome column (and ``outcome_at``, when
mapped) becomes one closed deal per resolved lead, and its stage (and reason) column, when mapped, one
disposition per lead. Such dispositions carry no contact time, so the SLA cannot be judged from them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from models.cleaning import clean_column
from models.contract import DEAL_COLUMNS, DISPOSITION_COLUMNS, CRMTables, DataContractError
from pipelines.audit import AuditExport
from pipelines.crm_export.mapping import ExportMapping
from pipelines.crm_export.prepare import labels_from_outcome, read_mapped_files, unique_leads, validate_table

# Categorical columns taken as the channel, by name (English and German, after snake_case).
_CHANNEL_NAMES = {
    "lead_source": re.compile(r"(lead_?)?source|quelle|herkunft|channel|kanal"),
    "campaign": re.compile(r"campaign|kampagne"),
}


def channel_columns(mapping: ExportMapping) -> dict[str, str]:
    """Contract channel (lead_source, campaign) -> the export's categorical column that holds it, by name."""
    found: dict[str, str] = {}
    for column, name in mapping.feature_names().items():
        if mapping.columns[column].role != "categorical":
            continue
        for channel, pattern in _CHANNEL_NAMES.items():
            if channel not in found and pattern.search(name):
                found[channel] = column
    return found


def _leads(rows: pd.DataFrame, mapping: ExportMapping) -> pd.DataFrame:
    created_column = mapping.created_at_column
    if created_column is None:
        raise DataContractError(["the audit needs the leads' creation dates: map a created_at column"])
    created, _ = clean_column(rows[created_column], "created_at", created_column, mapping.placeholders)
    leads = pd.DataFrame({"lead_id": rows.index.astype(str), "created_at": created.to_numpy()})
    channels = channel_columns(mapping)
    for channel in ("lead_source", "campaign"):
        column = channels.get(channel)
        leads[channel] = rows[column].to_numpy() if column else None
    return leads


def _outcome_deals(rows: pd.DataFrame, mapping: ExportMapping, created_at: pd.Series) -> pd.DataFrame:
    """One closed deal per lead the outcome column resolves, closed at ``outcome_at`` (else at creation)."""
    column = mapping.outcome_column
    if column is None:
        return pd.DataFrame(columns=list(DEAL_COLUMNS))
    y, _ = labels_from_outcome(rows[column], mapping.columns[column], column)
    closed_column = mapping.outcome_at_column
    closed_at = (
        clean_column(rows[closed_column], "date", closed_column, mapping.placeholders)[0]
        if closed_column
        else created_at
    )
    resolved = y.notna().to_numpy()
    lead_ids = rows.index.astype(str)[resolved]
    return pd.DataFrame(
        {
            "deal_id": [f"outcome-{lead_id}" for lead_id in lead_ids],
            "lead_id": lead_ids,
            "created_at": created_at.to_numpy()[resolved],
            "closed_at": pd.Series(closed_at).fillna(pd.Series(created_at)).to_numpy()[resolved],
            "amount_eur": float("nan"),
            "outcome": ["won" if won else "lost" for won in y.to_numpy()[resolved] == 1],
        }
    )


def _stage_dispositions(rows: pd.DataFrame, mapping: ExportMapping, created_at: pd.Series) -> pd.DataFrame:
    """One disposition per lead from the mapped stage (and reason) column, dated at the lead's creation."""
    stage_column = next(iter(mapping.columns_with("stage")), None)
    if stage_column is None:
        return pd.DataFrame(columns=list(DISPOSITION_COLUMNS)).astype({"timestamp": "datetime64[ns]"})
    stages = rows[stage_column].map(mapping.columns[stage_column].mapped_value)
    reason_column = next(iter(mapping.columns_with("reason")), None)
    reason_spec = mapping.columns[reason_column] if reason_column else None
    reasons = rows[reason_column].map(reason_spec.mapped_value) if reason_column and reason_spec else None
    known = stages.notna().to_numpy()
    return pd.DataFrame(
        {
            "lead_id": rows.index.astype(str)[known],
            "timestamp": created_at.to_numpy()[known],
            "stage": stages.to_numpy()[known],
            "reason": None if reasons is None else reasons.where(stages == "rejected").to_numpy()[known],
            "sales_team": None,
        }
    )


def mapped_export_tables(export_path: Path, mapping_path: Path) -> AuditExport:
    """The audit's three tables from a mapped export (and the tables it names). Dispositions from a stage
    column carry no contact times; deals from an outcome column are not opportunities."""
    mapping, export, tables = read_mapped_files(export_path, mapping_path)
    rows = unique_leads(export.frame, mapping)
    leads = _leads(rows, mapping)
    created_at = pd.Series(leads["created_at"].to_numpy(), index=rows.index)
    given = tables["dispositions"]
    has_contact_times = given is not None
    dispositions = (
        validate_table(given, "dispositions") if given is not None else _stage_dispositions(rows, mapping, created_at)
    )
    deals = (
        validate_table(tables["deals"], "deals")
        if tables["deals"] is not None
        else _outcome_deals(rows, mapping, created_at)
    )
    return AuditExport(
        CRMTables(leads=leads, dispositions=dispositions, deals=deals),
        has_contact_times=has_contact_times,
        deals_are_opportunities=tables["deals"] is not None,
    )
