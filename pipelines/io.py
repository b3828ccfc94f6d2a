"""Reading and writing CRM tables (CSV or Parquet, chosen by file extension)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from models.contract import CRMTables, DataContractError

READERS: dict[str, Callable[[Path], pd.DataFrame]] = {".csv": pd.read_csv, ".parquet": pd.read_parquet}


def read_table(path: Path, table: str) -> pd.DataFrame:
    """Read one table; a missing, empty, unreadable or unsupported file raises DataContractError naming it."""
    if path.suffix.lower() not in READERS:
        raise DataContractError([f"{table}: {path}: unsupported file type; expected one of {sorted(READERS)}"])
    if not path.is_file():
        raise DataContractError([f"{table}: file not found: {path} (set data.{table} in mlflow.yml)"])
    if path.stat().st_size == 0:
        raise DataContractError([f"{table}: {path} is empty; expected a header and at least one row"])
    try:
        return READERS[path.suffix.lower()](path)
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise DataContractError([f"{table}: {path} could not be read: {error}"]) from error


def read_crm(leads: Path, dispositions: Path, deals: Path) -> CRMTables:
    """Read the three tables of a CRM export."""
    return CRMTables(
        leads=read_table(leads, "leads"),
        dispositions=read_table(dispositions, "dispositions"),
        deals=read_table(deals, "deals"),
    )


def fingerprint_crm(tables: CRMTables) -> dict[str, object]:
    """Row counts, lead date range and a content hash of the export, logged with every run."""
    digest = hashlib.sha256()
    for frame in (tables.leads, tables.dispositions, tables.deals):
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    created = tables.leads["created_at"]
    return {
        "leads_rows": len(tables.leads),
        "dispositions_rows": len(tables.dispositions),
        "deals_rows": len(tables.deals),
        "leads_from": str(created.min().date()),
        "leads_to": str(created.max().date()),
        "sha256": digest.hexdigest(),
    }
