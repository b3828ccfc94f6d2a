from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.contract import CRMTables, DataContractError, validate_crm
from pipelines.io import fingerprint_crm, read_crm, read_table

FRAME = pd.DataFrame({"lead_id": ["a", "b"], "company_size": [10, 250]})


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".CSV"])
def test_csv_and_parquet_read_the_same(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"leads{suffix}"
    if suffix.lower() == ".csv":
        FRAME.to_csv(path, index=False)
    else:
        FRAME.to_parquet(path, index=False)

    read = read_table(path, "leads")

    assert read["lead_id"].tolist() == ["a", "b"]
    assert read["company_size"].tolist() == [10, 250]


def test_unsupported_extension_is_named(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    path.write_text("x")

    with pytest.raises(DataContractError, match=r"leads: .*leads.xlsx: unsupported file type; expected one of"):
        read_table(path, "leads")


def test_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match=r"deals: file not found: .*deals.csv \(set data.deals"):
        read_table(tmp_path / "deals.csv", "deals")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dispositions.csv"
    path.touch()

    with pytest.raises(DataContractError, match=r"dispositions: .* is empty"):
        read_table(path, "dispositions")


def test_corrupt_parquet_is_named(tmp_path: Path) -> None:
    path = tmp_path / "leads.parquet"
    path.write_bytes(b"not parquet at all")

    with pytest.raises(DataContractError, match=r"leads: .*leads.parquet could not be read"):
        read_table(path, "leads")


def test_read_crm_names_the_table_whose_file_is_missing(tmp_path: Path) -> None:
    FRAME.to_csv(tmp_path / "leads.csv", index=False)

    with pytest.raises(DataContractError, match="dispositions: file not found"):
        read_crm(tmp_path / "leads.csv", tmp_path / "dispositions.csv", tmp_path / "deals.csv")


def test_fingerprint_is_stable_and_changes_with_the_data(small_crm: CRMTables) -> None:
    tables = validate_crm(small_crm)
    first, again = fingerprint_crm(tables), fingerprint_crm(tables)
    deals = tables.deals.copy()
    deals.loc[deals.index[0], "amount_eur"] = deals["amount_eur"].iloc[0] + 1

    changed = fingerprint_crm(CRMTables(tables.leads, tables.dispositions, deals))

    assert first == again
    assert changed["sha256"] != first["sha256"]
    assert first["leads_rows"] == len(tables.leads)
    assert first["leads_from"] <= first["leads_to"]
