"""Reading a CRM export file: the one reader for every table of every export (CSV, .xlsx, Parquet).

Every CSV and Excel cell is kept as the text in the file (a German "1.200" stays "1.200", an ID "00123" keeps
its zeros); the features step and the cleaning decide later what the text means. CSV separators (``,``, ``;``,
tab), the encoding and a byte-order mark are detected.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.contract import DataContractError

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # latin-1 decodes any bytes: the last resort
SEPARATORS = (",", ";", "\t")


@dataclass(frozen=True)
class RawExport:
    """An export as read: every CSV cell as text, plus how the file was decoded."""

    frame: pd.DataFrame
    separator: str | None  # None for Parquet
    encoding: str | None


def _decode(raw: bytes) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("unreachable: latin-1 decodes any bytes")  # pragma: no cover (latin-1 never fails)


def _separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max(SEPARATORS, key=header.count)  # ties (a one-column file): the first, ","


def read_export(path: Path) -> RawExport:
    """Read a CSV (separator , ; or tab and the encoding detected), Excel (.xlsx, first sheet) or Parquet export.

    Raises:
        DataContractError: the file is missing, empty, unreadable or of another type; the message names it.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".xlsx"):
        raise DataContractError([f"{path}: unsupported file type {suffix!r}; expected .csv, .xlsx or .parquet"])
    if not path.is_file():
        raise DataContractError([f"{path}: file not found"])
    if path.stat().st_size == 0:
        raise DataContractError([f"{path} is empty; expected a header and at least one row"])
    try:
        if suffix == ".parquet":
            export = RawExport(pd.read_parquet(path), None, None)
        elif suffix == ".xlsx":  # cells as text, like a CSV: "00123" and "1.200" stay as the CRM wrote them
            frame = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False, engine="openpyxl")
            export = RawExport(frame, None, None)
        else:
            text, encoding = _decode(path.read_bytes())
            separator = _separator(text)
            frame = pd.read_csv(io.StringIO(text), sep=separator, dtype=str, keep_default_na=False)
            export = RawExport(frame, separator, encoding)
    except (ValueError, OSError, pd.errors.ParserError, zipfile.BadZipFile) as error:  # EmptyDataError: ValueError
        raise DataContractError([f"{path} could not be read: {error}"]) from error
    if export.frame.empty:
        raise DataContractError([f"{path} has no rows; expected a header and at least one row"])
    return export
