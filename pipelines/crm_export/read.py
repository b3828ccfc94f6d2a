"""Reading a CRM export file: the one reader for every table of every export (CSV, .xlsx, Parquet).

Every CSV and Excel cell is kept as the text in the file (a German "1.200" stays "1.200", an ID "00123" keeps
its zeros); the features step and the cleaning decide later what the text means. CSV separators (``,``, ``;``,
tab), the encoding and a byte-order mark are detected. A UTF-8 file with a few bytes that are not UTF-8 (a cp1252
character pasted into a UTF-8 export) is read as UTF-8, those bytes as cp1252, with a warning naming the file and
each byte's position: reading the whole file as cp1252 would garble every other non-ASCII character. A file in
neither UTF-8 nor UTF-16 is read as cp1252, as Windows-1251 where its bytes form Cyrillic words, or as cp1250 or
ISO-8859-2 where its accented letters are those of a Central European language (Polish, Czech, Slovak,
Hungarian, Slovenian, Croatian, Romanian); a note says so where that guess was close, or where latin-1 read it.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import re
import statistics
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from models.cleaning import read_number
from models.contract import DataContractError

logger = logging.getLogger(__name__)

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # latin-1 decodes any bytes: the last resort
CYRILLIC_ENCODING = "cp1251"  # tried before cp1252 where the bytes read as Cyrillic words (``_reads_as_cyrillic``)
# tried before cp1252 where they read the file's accented letters as one language's (``_single_byte_encoding``);
# on a tie the first (Windows exports are far more common than ISO ones)
CENTRAL_EUROPEAN_ENCODINGS = ("cp1250", "iso-8859-2")
_ENCODING_NAMES = {
    "cp1252": "Western European",
    "latin-1": "Western European, ISO-8859-1",
    "cp1250": "Central European",
    "iso-8859-2": "Central European, ISO",
    "cp1251": "Cyrillic",
}
_CYRILLIC_LETTERS = bytes([0xA8, 0xB8, *range(0xC0, 0x100)])
_CYRILLIC_WORD = re.compile(b"[" + re.escape(_CYRILLIC_LETTERS) + b"]{3,}")
_CYRILLIC_MIN_LETTERS = 10
_ENCODING_SAMPLE_BYTES = 4 << 20  # a file's encoding is judged on its first megabytes (a 100 MB export in ~30 ms)
# The accented letters of the languages each family of encodings is made for (lower case). German's are in both:
# cp1250 reads ä, ö, ü and ß as cp1252 does.
_WESTERN_ALPHABETS = (
    "äöüß",  # German
    "àâæçéèêëîïôœùûüÿ",  # French
    "áéíñóúü",  # Spanish
    "àèéìíîòóùú",  # Italian
    "àáâãçéêíóôõú",  # Portuguese
    "àçèéíïòóúü",  # Catalan
    "áèéëïóöü",  # Dutch
    "åæéø",  # Danish, Norwegian
    "åäöéšž",  # Swedish, Finnish
    "áæðéíóöúýþ",  # Icelandic
)
_CENTRAL_ALPHABETS = (
    "ąćęłńóśźż",  # Polish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "áéíóöőúüű",  # Hungarian
    "čćđšž",  # Slovenian, Croatian
    "ăâîşţ",  # Romanian (cp1250 has s and t with a cedilla, not with a comma below)
    "äöüß",  # German
)
# Letters more than the other reading explains, for a Central European reading to be taken over cp1252 (and for the
# winning reading to count as sure where another one reads the letters otherwise)
_MIN_LETTERS_AHEAD = 3
# Excel's "Unicode Text" (.txt) is UTF-16 with a byte-order mark, tab-separated.
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")  # read as delimited text, the separator detected
HEADER_SEARCH_ROWS = 30  # a workbook's top rows searched for the row that names the columns
CSV_LAYOUT_LINES = 40  # a CSV's first lines read for its separator and the lines above its header
SEPARATORS = (",", ";", "\t", "|")
_BOM = b"\xef\xbb\xbf"
_STRAY_SHOWN = 5  # stray bytes named one by one in the warning; the rest are counted
_STRAY = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, as surrogateescape decodes them
_SEPARATOR_HINT = re.compile(r'"?sep=(.)"?\s*', re.IGNORECASE)  # Excel reads and writes a first line "sep=;"


@dataclass(frozen=True)
class RawExport:
    """An export as read: every CSV cell as text, plus how the file was decoded."""

    frame: pd.DataFrame
    separator: str | None  # None for Parquet
    encoding: str | None
    warnings: tuple[str, ...] = ()  # how the file was read, when it needed a guess (no cell values)
    # a workbook's row right above its header holding one cell alone: a grouped board's first section title
    title_above: str | None = None
    made_columns: tuple[str, ...] = ()  # columns the reader made (a board's sections), none of the export's own


def _single_byte(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d are unassigned in cp1252
        return bytes([byte]).decode("latin-1")


def _utf8_with_stray_bytes(raw: bytes) -> tuple[str, list[int], int] | None:
    """Decode mostly-UTF-8 bytes as UTF-8, each byte that is not part of a valid UTF-8 sequence as cp1252.

    Returns the text, the first stray bytes' offsets in ``raw`` (at most ``_STRAY_SHOWN``) and how many bytes were
    stray; None when there are fewer valid non-ASCII UTF-8 characters than stray bytes (a cp1252 file: its
    umlauts are stray bytes, and the rare byte pairs in it that happen to be valid UTF-8, such as "Ã¼", are not).
    """
    escaped = raw.decode("utf-8", errors="surrogateescape")  # a stray byte b becomes the lone surrogate U+DC00+b
    stray_count = len(escaped) - len(escaped.encode("utf-8", errors="ignore").decode("utf-8"))  # C speed
    non_ascii = len(escaped) - len(escaped.encode("ascii", errors="ignore"))
    if stray_count > non_ascii - stray_count:
        return None
    first = [match.start() for _, match in zip(range(_STRAY_SHOWN), _STRAY.finditer(escaped), strict=False)]
    offsets = [len(escaped[:index].encode("utf-8", errors="surrogateescape")) for index in first]
    text = _STRAY.sub(lambda match: _single_byte(ord(match.group()) - 0xDC00), escaped)
    return text, offsets, stray_count


def _stray_warning(path: Path, raw: bytes, stray: list[int], count: int, offset: int) -> str:
    def where(position: int) -> str:
        byte = raw[position]
        line = raw.count(b"\n", 0, position) + 1
        return f"byte offset {position + offset} (line {line}: 0x{byte:02x}, read as {_single_byte(byte)!r})"

    named = ", ".join(where(position) for position in stray)
    more = f" and {count - len(stray):,} more" if count > len(stray) else ""
    return (
        f"{path}: UTF-8 with {count:,} byte(s) that are not UTF-8, read as cp1252: {named}{more}; "
        "check those cells, or save the file as UTF-8 again"
    )


def _decode(raw: bytes, path: Path) -> tuple[str, str, tuple[str, ...]]:
    """The text, the encoding it was read in and warnings (a UTF-8 file with stray bytes)."""
    if raw.startswith(UTF16_BOMS):
        try:
            return raw.decode("utf-16"), "utf-16", ()
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: read on as a single-byte text
    try:
        return raw.decode("utf-8-sig"), "utf-8-sig", ()
    except UnicodeDecodeError:
        pass
    body, offset = (raw[len(_BOM) :], len(_BOM)) if raw.startswith(_BOM) else (raw, 0)
    mostly_utf8 = _utf8_with_stray_bytes(body)
    if mostly_utf8 is not None:  # a few foreign bytes in a UTF-8 file
        text, stray, count = mostly_utf8
        warning = _stray_warning(path, body, stray, count, offset)
        logger.warning("%s", warning)
        return text, "utf-8-sig", (warning,)
    encoding, rival = _single_byte_encoding(body[:_ENCODING_SAMPLE_BYTES])
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:  # a byte it leaves unassigned (cp1252: 0x81, 0x8d, 0x8f, 0x90, 0x9d): latin-1 reads any
        rival = encoding if encoding != "cp1252" else rival or "cp1250"
        text, encoding = raw.decode("latin-1"), "latin-1"
    if rival is None:
        return text, encoding, ()
    note = _encoding_note(path, encoding, rival)
    logger.warning("%s", note)
    return text, encoding, (note,)


def _encoding_note(path: Path, encoding: str, rival: str) -> str:
    """What a reader says of a single-byte encoding it guessed and is not sure of (one line)."""
    return (
        f"{path.name}: not UTF-8; read as {encoding} ({_ENCODING_NAMES[encoding]}), a guess from its accented "
        f"letters that {rival} ({_ENCODING_NAMES[rival]}) would read otherwise: if names or values show wrong "
        "letters, save the file as UTF-8 and read it again (leadq has no option naming an encoding)"
    )


def _single_byte_encoding(sample: bytes) -> tuple[str, str | None]:
    """The encoding of a file that is not UTF-8, from its first bytes, and the one it could as well be (None: the
    guess is sure, or the alternatives would read the file's letters the same).

    Cyrillic first (``_reads_as_cyrillic``). Else each encoding reads the bytes that follow a letter (the accented
    letters inside and at the end of words; a "£" before a number or a "¿" opening a question are no letters) and
    is credited with as many of them as it reads as letters of one of its languages, the best language's count:
    a Polish "ł" is "³" in cp1252, a Czech "ř" is "ø", a Hungarian "ő" is "õ", but no Western language writes
    "ø", "ì" and "š" together as Czech writes "ř", "ě" and "š". A Central European reading must explain
    ``_MIN_LETTERS_AHEAD`` letters more than cp1252's to be taken: a German file reads alike in both, and a
    French, Spanish or Portuguese one is explained in full by its own language. The guess is sure where no other
    encoding that reads the letters otherwise comes within ``_MIN_LETTERS_AHEAD`` letters of it, or where it
    explains every letter and the others do not (a short file: three Czech rows, three Danish ones).
    """
    if _reads_as_cyrillic(sample):
        return CYRILLIC_ENCODING, None
    counts = _bytes_after_letters(sample)
    western = _letters_explained(counts, "cp1252", _WESTERN_ALPHABETS)
    central = {
        encoding: _letters_explained(counts, encoding, _CENTRAL_ALPHABETS) for encoding in CENTRAL_EUROPEAN_ENCODINGS
    }
    best_central = max(central, key=central.__getitem__)  # ties: the first
    explained = {"cp1252": western, **central}
    chosen = best_central if central[best_central] >= western + _MIN_LETTERS_AHEAD else "cp1252"
    every_letter = explained[chosen] == int(counts.sum())  # one of its languages explains each accented letter
    close = [
        other
        for other in explained
        if other != chosen
        and explained[chosen] - explained[other] < _MIN_LETTERS_AHEAD
        and not (every_letter and explained[other] < explained[chosen])
        and _reads_otherwise(counts, chosen, other)
    ]
    return chosen, max(close, key=explained.__getitem__) if close else None


def _bytes_after_letters(sample: bytes) -> np.ndarray:
    """How often each byte value follows a letter (an ASCII letter or a byte from 0x80 up) in ``sample``."""
    data = np.frombuffer(sample, dtype=np.uint8)
    high = data >= 0x80
    folded = data | 0x20  # A-Z to a-z
    letter = high | ((folded >= ord("a")) & (folded <= ord("z")))
    return np.bincount(data[1:][high[1:] & letter[:-1]], minlength=256)


def _letters_explained(counts: np.ndarray, encoding: str, alphabets: tuple[str, ...]) -> int:
    """How many of the counted bytes ``encoding`` reads as letters of one language, the language that explains most."""
    reading = _high_bytes_read(encoding)
    return max(int(sum(counts[byte] for byte, char in reading.items() if char in alphabet)) for alphabet in alphabets)


def _reads_otherwise(counts: np.ndarray, encoding: str, other: str) -> bool:
    """Whether two encodings read one of the counted bytes differently."""
    first, second = _high_bytes_read(encoding), _high_bytes_read(other)
    return any(counts[byte] and first[byte] != second[byte] for byte in first)


@functools.cache
def _high_bytes_read(encoding: str) -> dict[int, str]:
    """Each byte from 0x80 up as ``encoding`` reads it, in lower case (U+FFFD where it assigns none)."""
    return {byte: bytes([byte]).decode(encoding, errors="replace").lower() for byte in range(0x80, 0x100)}


def _reads_as_cyrillic(raw: bytes) -> bool:
    """Whether single-byte text is Windows-1251 rather than cp1252 (Bitrix24, amoCRM and 1C export so in a Russian
    locale): every Cyrillic letter is a byte from 0xC0 up (Ё, ё: 0xA8, 0xB8), so a Cyrillic word is a run of such
    bytes, where German, French or Spanish text holds one among ASCII letters (ä, é, ñ; "ção" two). Judged on the
    file's first megabytes."""
    sample = raw[:_ENCODING_SAMPLE_BYTES]
    letters = len(sample) - len(sample.translate(None, _CYRILLIC_LETTERS))
    in_words = len(sample) - len(_CYRILLIC_WORD.sub(b"", sample))
    return letters >= _CYRILLIC_MIN_LETTERS and in_words >= letters / 2


_LONE_CARRIAGE_RETURN = re.compile("\r(?!\n)")


def with_line_feeds(text: str) -> str:
    """The text with its lines ended by line feeds where bare carriage returns end them (classic Mac OS, Excel for
    Mac, some CRM exports): read as it is, the file would be one line. Its lines are told by the carriage returns
    outnumbering the line feeds, which may then only be line breaks typed inside a quoted cell."""
    lone = len(_LONE_CARRIAGE_RETURN.findall(text))
    return _LONE_CARRIAGE_RETURN.sub("\n", text) if lone > text.count("\n") else text


def separator_hint(line: str) -> str | None:
    """The separator a file's first line names when it is Excel's hint ``sep=;`` (None: it is no such line)."""
    match = _SEPARATOR_HINT.fullmatch(line.rstrip("\r\n"))
    return match.group(1) if match else None


def detect_separator(text: str) -> str:
    """The CSV separator of a file's text (its header line is enough): the most frequent of ``SEPARATORS``."""
    header = text.split("\n", 1)[0]
    return max(SEPARATORS, key=header.count)  # ties (a one-column file): the first, ","


def _fields(line: str, separator: str) -> int:
    """How many fields a line has up to its last filled one (quotes respected; a blank line has none): the empty
    fields a spreadsheet pads every row with to its widest do not count."""
    record = next(csv.reader([line.rstrip("\r\n")], delimiter=separator), [])
    while record and not record[-1].strip():
        record.pop()
    return len(record)


_MAX_TITLE_LINES = 10


def _header_candidate(top: list[str], line: int) -> tuple[str, int] | None:
    """The separator and field count of a line that reads as a header: three fields or more under its own
    separator, and the lines below it about as many under that separator (one fewer at most: a trailing separator
    on every row; far fewer: a title's commas above a ``;`` file). None: no header."""
    separator = detect_separator(top[line])
    fields = _fields(top[line], separator)
    below = [text for text in top[line + 1 : line + 21] if text.strip()]
    if fields < 3 or not below:
        return None
    typical = statistics.median(_fields(text, separator) for text in below)
    if typical <= fields / 2 or fields < typical - 1 or _fields(below[0], separator) <= fields / 2:
        return None
    return separator, fields


def csv_layout(top: list[str]) -> tuple[str, int]:
    """The separator of a CSV's first lines and how many of them stand above the header: a report's title, its
    filters and a blank line ("Lead report, November 2026" above the column names), which have far fewer fields
    than the header. ``top``: the first lines (after an Excel ``sep=`` hint), at least the header.

    Each line names its own separator, as the header always did: counting the body's fields under every separator
    would misread a ``;`` file whose numbers carry decimal commas, or a comma file with ``;`` in multi-select
    cells."""
    for line in range(min(len(top), _MAX_TITLE_LINES + 1)):
        candidate = _header_candidate(top, line)
        if candidate is None:
            continue
        separator, fields = candidate
        if all(_fields(text, separator) <= fields / 2 for text in top[:line]):
            return separator, line
        break
    return detect_separator(top[0]), 0


def title_note(name: str, lines: int) -> str:
    return f"{name}: the column names are on line {lines + 1}; the {lines} line(s) above them, a title, left out"


def filled_cells(frame: pd.DataFrame) -> np.ndarray:
    """Which cells hold text besides blanks (a rows x columns array of booleans)."""
    return frame.fillna("").astype(str).apply(lambda column: column.str.strip() != "").to_numpy(dtype=bool)


# A report's last rows that are no leads: totals rows ("Grand Totals (9,812 records)", "Total", "Summe",
# "Gesamtergebnis", "Average"), and the lines Salesforce ends a report with even without a blank line before them.
# The whole first filled cell must read so, and a totals row's other cells must be numbers: a last lead of the
# company "Total Energies", or of Mr Sum (a name in the first column), stays a lead.
_REPORT_TAIL = re.compile(
    r"(((grand|sub)\s*)?totals?(\s+(general|général|result))?|sum|summe|(gesamt|zwischen)\s*(summe|ergebnis)?|"
    r"insgesamt|average|durchschnitt|mittelwert|(record\s+)?count|anzahl|datensatzanzahl|"
    r"nombre\s+d['’]enregistrements)(\s*\(.*\))?\s*:?|"
    r"(confidential information|copyright|generated by)\b.*|"
    # a report's closing line naming when or by whom it was made: "Report generated 2026-11-27 by Kim Lee",
    # "Exported on 27.11.2026", "Erstellt am 27.11.2026 von ...": the verb and a date or a "by"
    r"((report|bericht|export)\s+)?(generated|exported|created|erstellt|exportiert|generiert)\s+"
    r"(on|at|by|am|von|:)?\s*(\d|by\b|von\b).*",
    re.IGNORECASE,
)
# the words each of _REPORT_TAIL's readings starts with, to find its candidates fast (a superset: "summer" too)
_REPORT_TAIL_START = (
    r"^\s*(grand|sub|total|sum|gesamt|zwischen|insgesamt|average|durchschnitt|mittelwert|record|count|anzahl|"
    r"datensatzanzahl|nombre|confidential|copyright|generated|report|bericht|export|created|erstellt|generiert)"
)
MAX_TOTALS_ROWS = 3  # a report's totals at its end: a sum, a count, an average at most
_TAIL_WINDOW_ROWS = 64  # the last rows of a chunk looked at first for what may still be a footer


def _is_report_tail(cell: str) -> bool:
    return bool(_REPORT_TAIL.fullmatch(" ".join(cell.split())))


def _is_totals_row(frame: pd.DataFrame, filled: np.ndarray, row: int) -> bool:
    """Whether a row filling more than its first cell is a report's totals: its first filled cell reads as a total
    ("Total", "Summe") and every other filled cell as a number ("9", "$1,234.00")."""
    cells = [str(cell).strip() for cell in frame.iloc[row].to_numpy(dtype=object)[filled[row]]]
    return bool(cells) and _is_report_tail(cells[0]) and all(_reads_as_a_sum(cell) for cell in cells[1:])


# A sum as a spreadsheet writes it besides a number: accounting's zero ("-", "$ -"), a negative in parentheses
# ("(1,234)"), an error value ("#DIV/0!")
_SUM_TEXT = re.compile(r"[$€£]?\s*[-–]|\(\s*[$€£]?\s*[\d.,' ]+\)|#[A-Z/0!?]+", re.IGNORECASE)


def _reads_as_a_sum(cell: str) -> bool:
    return read_number(cell) is not None or bool(_SUM_TEXT.fullmatch(cell))


def without_totals_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``frame`` without the rows inside it that total a group (a formatted report's "Subtotal" and "Record Count"
    after each group: the first cell a total's word, every other filled cell a number), and how many there were;
    each would be scored as a lead. The first column is read for all rows, the few rows it names whole."""
    if frame.shape[1] < 2 or frame.empty:
        return frame, 0
    first = frame.iloc[:, 0].fillna("").astype(str)
    # the first words a totals row can start with, found in C++ (every chunk of leadq score passes here); the few
    # rows found are then read whole in Python
    text = pa.array(first.to_numpy(dtype=object), type=pa.string())
    maybe = pc.match_substring_regex(text, _REPORT_TAIL_START, ignore_case=True).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(maybe)
    named = starts[[_is_report_tail(first.iloc[row]) for row in starts]] if len(starts) else starts
    if not len(named):
        return frame, 0
    filled = filled_cells(frame.iloc[named])
    totals = [row for index, row in enumerate(named) if _is_totals_row(frame.iloc[named], filled, index)]
    if not totals:
        return frame, 0
    kept = np.ones(len(frame), dtype=bool)
    kept[totals] = False
    return frame.iloc[np.flatnonzero(kept)], len(totals)


TOTALS_WORDS = "row(s) inside the table total a group"  # what tells the totals note from the reader's others


def totals_note(name: str, rows: int) -> str:
    """What a reader says of the totals rows inside a table it left out."""
    return f"{name}: {rows} {TOTALS_WORDS} ('Subtotal', 'Record Count'): left out, no lead"


MAX_GROUP_FILLED_SHARE = 0.2  # a grouped report fills its first column on each group's first row only
MIN_GROUPED_ROWS = 10  # fewer rows tell no group from a sparse column


def filled_down_groups(frame: pd.DataFrame, totals_rows: int) -> tuple[pd.DataFrame, str | None]:
    """A grouped report's first column, filled on each group's first row only (Salesforce's formatted report
    grouped by Lead Status), carried down to the group's rows; and the column's name where it was. Only in a report
    whose groups had their totals (``totals_rows`` left out inside the table: a sparse first column of a sheet kept
    by hand, a "Won" marked "x", is no group), where the first row is filled, at most ``MAX_GROUP_FILLED_SHARE``
    of the rows are, each value once (one row a group), and every row between holds other cells."""
    if not totals_rows or frame.shape[1] < 2 or len(frame) < MIN_GROUPED_ROWS:
        return frame, None
    first = frame.iloc[:, 0]
    text = first.fillna("").astype(str).str.strip()
    filled = (text != "").to_numpy()
    if not filled[0] or filled.mean() > MAX_GROUP_FILLED_SHARE or filled.all() or text[filled].duplicated().any():
        return frame, None
    others_filled = filled_cells(frame.iloc[np.flatnonzero(~filled), 1:]).any(axis=1)
    if not others_filled.all():
        return frame, None
    column = frame.columns[0]
    carried = first.where(pd.Series(filled, index=frame.index)).ffill()
    return frame.assign(**{str(column): carried}), str(column)


def group_note(name: str, column: str) -> str:
    """What the reader says of a grouped report's first column it carried down."""
    return (
        f"{name}: {column!r} is filled on each group's first row only, as a grouped report's first column is: "
        "carried down to the rows of its group"
    )


def _tail_ends(first_column: pd.Series) -> np.ndarray:
    """Positions of the rows after the last full row (first-column text at most) where a footer can start: blank,
    or a total or a report's closing line."""
    text = first_column.fillna("").astype(str).str.strip().str.replace(r"\s+", " ", regex=True)
    return np.flatnonzero(((text == "") | text.str.fullmatch(_REPORT_TAIL)).to_numpy(dtype=bool))


def _footer_start(frame: pd.DataFrame, filled: np.ndarray) -> int:
    """The row where a report's footer starts (``len(frame)``: none); see ``drop_report_footer``."""
    beyond_first = np.flatnonzero(filled[:, 1:].any(axis=1))
    if frame.shape[1] < 2 or not len(beyond_first):
        return len(frame)  # no row fills a second column: nothing tells leads and footer apart
    footer_start = len(frame)
    for row in beyond_first[-MAX_TOTALS_ROWS:][::-1]:
        if not _is_totals_row(frame, filled, int(row)):
            break
        footer_start = int(row)  # a totals row: it and all after it
    if footer_start < len(frame):
        return footer_start
    tail_start = int(beyond_first[-1]) + 1  # the rows after it fill the first column at most
    ends = _tail_ends(frame.iloc[tail_start:, 0])
    start = tail_start + int(ends[0]) if len(ends) else len(frame)
    return start if filled[start:].any() else len(frame)  # blank lines at the end are no footer


def drop_report_footer(frame: pd.DataFrame, keep_positions: bool = False) -> tuple[pd.DataFrame, int]:
    """The leads of a report: without its footer and without blank rows; and how many lines the footer had.

    A CRM report ends with lines that are no leads: Salesforce's "Export Details" a blank line and then text in the
    first column only (the report's name, "Copyright (c) ... salesforce.com", "Generated By: ..."); a report with
    totals ("Grand Totals (9,812 records)", an Excel report's "Total" row of sums). The footer is what follows the
    last row with a cell beyond the first from the first blank row, or from a first row that reads as a total or a
    report's closing line; and a totals row among the last rows (at most ``MAX_TOTALS_ROWS``) with what follows it.
    Leads with only their first cell filled and no blank line before stay. Blank rows between leads (an empty line,
    a line of separators) are left out, the rows numbered as if they were not there (``keep_positions``: the rows keep
    their index, their positions in the file, as ``leadq score`` numbers them).
    """
    if frame.empty:
        return frame, 0
    filled = filled_cells(frame)
    footer_start = _footer_start(frame, filled)
    leads = filled[:footer_start].any(axis=1)
    kept = frame.iloc[:footer_start]
    if not leads.all():
        kept = kept.iloc[np.flatnonzero(leads)]
        kept = kept if keep_positions else kept.reset_index(drop=True)
    return kept, len(frame) - footer_start


def settled_rows(frame: pd.DataFrame) -> tuple[int, int | None]:
    """How many of the first rows of a part of a file are leads (or blank rows) whatever rows follow it, and the last
    of them filling more than its first cell (None: none seen). On the rest, with the rows after it and that full row
    before it, ``drop_report_footer`` finds the footer it finds on the whole file (``leadq score`` reads a file in
    chunks). Held back: the last rows filling more than their first cell while they read as totals, with what follows
    them; else the rows from the first blank or closing row after the last such row."""
    if frame.shape[1] < 2:
        return len(frame), None
    window = _TAIL_WINDOW_ROWS
    while True:  # the last rows first: a chunk's last rows are leads filling many cells
        start = max(0, len(frame) - window)
        part = frame.iloc[start:]
        filled = filled_cells(part)
        beyond_first = np.flatnonzero(filled[:, 1:].any(axis=1))
        if len(beyond_first) >= MAX_TOTALS_ROWS or start == 0:
            break
        window *= 4
    last_full = beyond_first[::-1][:MAX_TOTALS_ROWS]
    run = 0
    while run < len(last_full) and _is_totals_row(part, filled, int(last_full[run])):
        run += 1
    if run:  # the last full rows read as totals: they and all after them wait
        before = start + int(last_full[run]) if run < len(last_full) else None
        return start + int(last_full[run - 1]), before
    if not len(beyond_first):
        ends = _tail_ends(frame.iloc[:, 0])
        return (int(ends[0]) if len(ends) else len(frame)), None
    last = start + int(beyond_first[-1])
    ends = _tail_ends(frame.iloc[last + 1 :, 0])
    return (last + 1 + int(ends[0]) if len(ends) else len(frame)), last


def without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without its blank rows (empty lines, lines of separators), as ``drop_report_footer`` leaves them out;
    the first column first: the other columns are read only for the rows blank in it."""
    blank = np.flatnonzero((frame.iloc[:, 0].fillna("").astype(str).str.strip() == "").to_numpy())
    for position in range(1, frame.shape[1]):
        if not len(blank):
            return frame
        values = frame.iloc[blank, position].fillna("").astype(str).str.strip()
        blank = blank[(values == "").to_numpy()]
    if not len(blank):
        return frame
    kept = np.ones(len(frame), dtype=bool)
    kept[blank] = False
    return frame.iloc[np.flatnonzero(kept)]


def footer_note(name: str, lines: int) -> str:
    """What a reader says of a report's footer it left out (the lines' words are not repeated)."""
    what = "a report footer (totals, or text in the first column only after a blank line), not leads: left out"
    return f"{name}: the last line is {what}" if lines == 1 else f"{name}: the last {lines} lines are {what}"


def _read_text(text: str, separator: str, path: Path) -> pd.DataFrame:
    # blank lines kept: they tell a report's footer from leads (drop_report_footer leaves them out)
    frame = pd.read_csv(io.StringIO(text), sep=separator, dtype=str, keep_default_na=False, skip_blank_lines=False)
    return without_trailing_fields(frame, 0, path)


def without_trailing_fields(frame: pd.DataFrame, first_row: int, path: Path) -> pd.DataFrame:
    """A CSV read whose rows hold more fields than its header has names, as its header names them: pandas took
    their first fields for an index and shifted the rest; the fields the header does not name are left out where
    empty in every row (a separator at the end of each row, the header's not). ``first_row``: the data row the
    frame starts at (a chunk of a file), for the index and the message.

    Raises:
        DataContractError: a row holds a value in a field the header does not name.
    """
    if isinstance(frame.index, pd.RangeIndex):
        return frame
    names = list(frame.columns)
    fields = frame.reset_index()
    extra = fields.iloc[:, len(names) :].fillna("").astype(str).apply(lambda column: column.str.strip() != "")
    filled = extra.to_numpy(dtype=bool).any(axis=1)
    if filled.any():
        raise DataContractError(
            [
                f"{path}: its rows have {fields.shape[1]} fields and the header names {len(names)}, and data row "
                f"{first_row + int(np.argmax(filled)) + 1:,} holds a value in a field the header does not name; add "
                "the missing column name to the header (or export again)"
            ]
        )
    kept = fields.iloc[:, : len(names)].set_axis(names, axis=1)
    return kept.set_axis(pd.RangeIndex(first_row, first_row + len(kept)), axis=0)


def _header_row(grid: pd.DataFrame) -> int:
    """The row of a sheet's top rows (read without a header) that names the columns: the first one filling at
    least half as many cells as the widest row. A formatted report puts its title and a blank line above it."""
    filled = filled_cells(grid).sum(axis=1)
    widest = int(filled.max()) if len(filled) else 0
    wide_enough = np.flatnonzero(filled >= max(2, widest / 2))
    return int(wide_enough[0]) if len(wide_enough) else 0


# A sheet named for the leads ("Leads", "Kontakte", "Interessenten", "Lead_export"): read before a larger one of
# activities or deals
_LEADS_SHEET_NAME = re.compile(
    r"(?<![a-z])(leads?|contacts?|prospects?|kontakte|interessenten|prospekte)(?![a-z])", re.IGNORECASE
)


def _read_workbook(path: Path) -> RawExport:
    """The sheet named for the leads, else the one with the most rows (the first of equals), cells as text like a
    CSV's ("00123" and "1.200" stay as the CRM wrote them), from the row that names its columns; notes name the
    sheet where the workbook has more (a summary sheet before the leads', an activity log beside them), and the
    title rows left out."""
    with pd.ExcelFile(path, engine="openpyxl") as book:
        sheets = book.sheet_names
        rows = {sheet: getattr(book.book[sheet], "max_row", None) or 0 for sheet in sheets}
        named = [name for name in sheets if _LEADS_SHEET_NAME.search(str(name)) and rows[name] > 1]
        sheet = max(named or sheets, key=lambda name: rows[name])  # ties: the first
        top = book.parse(sheet, header=None, nrows=HEADER_SEARCH_ROWS, dtype=str, keep_default_na=False)
        header = _header_row(top)
        frame = book.parse(sheet, header=header, dtype=str, keep_default_na=False)
    notes = []
    if len(sheets) > 1:
        others = ", ".join(f"{other!r} ({rows[other]:,} rows)" for other in sheets if other != sheet)
        why = "named for the leads" if named else "the most"
        notes.append(
            f"{path.name}: read the sheet {sheet!r} ({rows[sheet]:,} rows, {why}); the workbook also has "
            f"{others} (to read another, save it as its own file)"
        )
    title_above = None
    if header:
        notes.append(
            f"{path.name}: the column names are on row {header + 1}; the {header} rows above, a title, left out"
        )
        above = top.iloc[[header - 1]]
        if filled_cells(above)[0, 0] and filled_cells(above).sum() == 1:
            title_above = str(above.iloc[0, 0]).strip()
    return RawExport(frame, None, None, tuple(notes), title_above)


def read_export(path: Path, keep_positions: bool = False) -> RawExport:
    """Read a CSV (separator , ; or tab and the encoding detected), Excel (.xlsx, its largest sheet) or Parquet export.
    ``keep_positions``: the frame's index is each row's position in the file (0 = the first after the header), blank
    rows left out still counted (``drop_report_footer``); else 0, 1, 2 ... as read.

    Raises:
        DataContractError: the file is missing, empty, unreadable or of another type; the message names it.
    """
    suffix = path.suffix.lower()
    if suffix not in (*TEXT_SUFFIXES, ".parquet", ".xlsx"):
        legacy = "; save an .xls workbook as .xlsx or CSV in Excel" if suffix == ".xls" else ""
        raise DataContractError(
            [f"{path}: unsupported file type {suffix!r}; expected .csv (or .tsv, .txt), .xlsx or .parquet{legacy}"]
        )
    if not path.is_file():
        raise DataContractError([f"{path}: file not found"])
    if path.stat().st_size == 0:
        raise DataContractError([f"{path} is empty; expected a header and at least one row"])
    footer = 0  # lines of a report's footer (CSV and Excel), left out
    above = 0  # lines of a CSV report's title above its header, left out
    try:
        if suffix == ".parquet":
            export = RawExport(pd.read_parquet(path), None, None)
        elif suffix == ".xlsx":
            export = _read_workbook(path)
        else:
            text, encoding, warnings = _decode(path.read_bytes(), path)
            text = with_line_feeds(text)
            first, _, rest = text.partition("\n")
            hint = separator_hint(first)
            body = rest if hint else text
            top = body.split("\n", CSV_LAYOUT_LINES)[:CSV_LAYOUT_LINES]
            separator, above = (hint, 0) if hint else csv_layout(top)
            if above:
                body = body.split("\n", above)[above]
                warnings = (*warnings, title_note(path.name, above))
            frame, footer = drop_report_footer(_read_text(body, separator, path), keep_positions)
            refuse_swallowed_rows(frame, separator, path)
            export = RawExport(frame, separator, encoding, warnings)
    except pd.errors.ParserError as error:
        lines_before = int(bool(hint)) + above
        said = rows_longer_than_header(io.StringIO(body), separator, lines_before) if suffix in TEXT_SUFFIXES else ""
        raise DataContractError([f"{path}: {said}" if said else f"{path} could not be read: {error}"]) from error
    except DataContractError:
        raise  # said in full where it was found
    except (ValueError, OSError, zipfile.BadZipFile) as error:  # EmptyDataError: ValueError
        raise DataContractError([f"{path} could not be read: {error}"]) from error
    if suffix == ".xlsx":
        frame, footer = drop_report_footer(export.frame, keep_positions)
        export = replace(export, frame=frame)
    if footer:
        export = replace(export, frame=frame, warnings=(*export.warnings, footer_note(path.name, footer)))
    totals = without_totals_rows(export.frame) if suffix != ".parquet" else (export.frame, 0)
    if totals[1]:
        leads = totals[0] if keep_positions else totals[0].reset_index(drop=True)
        export = replace(export, frame=leads, warnings=(*export.warnings, totals_note(path.name, totals[1])))
    if suffix == ".xlsx" and (grouped := filled_down_groups(export.frame, totals[1]))[1]:
        export = replace(export, frame=grouped[0], warnings=(*export.warnings, group_note(path.name, grouped[1])))
    if suffix != ".parquet" and (sections := with_section_column(export.frame, export.title_above))[1]:
        frame, repeated, titles, kept = sections
        note = section_note(path.name, repeated, titles, kept)
        made = (*export.made_columns, SECTION_COLUMN) if kept else export.made_columns
        export = replace(export, frame=frame, warnings=(*export.warnings, note), made_columns=made)
    if export.frame.empty:
        raise DataContractError([f"{path} has no rows; expected a header and at least one row"])
    if twice := _renamed_duplicates([str(column) for column in export.frame.columns]):
        said = ", ".join(f"{original!r} (again as {renamed!r})" for renamed, original in twice.items())
        note = f"{path.name}: columns named more than once, each kept under its own name: {said}"
        export = replace(export, warnings=(*export.warnings, note))
    return export


MIN_HEADER_REPEAT = 0.8  # of a row's filled cells: its column's name, as in a header repeated over each section


def _section_rows(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the rows that repeat the column names (a grouped board's sections: monday.com's workbook
    puts each group's title row with its name alone, then the column names again, then its items), and of the
    section titles right above them. The first two columns are compared with their names (a chunk of 20,000 leads
    in a few ms; every cell, 30 ms), then the few rows that hold one of them are looked at whole."""
    none = np.array([], dtype=int)
    if frame.shape[1] < 2:
        return none, none
    names = np.array([str(column) for column in frame.columns], dtype=object)
    first_two = (frame.iloc[:, index].to_numpy(dtype=object) == names[index] for index in (0, 1))
    candidates = np.flatnonzero(np.logical_or(*first_two))
    if not len(candidates):
        return none, none
    values, filled = frame.iloc[candidates].to_numpy(dtype=object), filled_cells(frame.iloc[candidates])
    same = ((values == names) & filled).sum(axis=1)
    repeated = candidates[(same >= 2) & (same >= MIN_HEADER_REPEAT * filled.sum(axis=1))]
    if not len(repeated):
        return none, none
    above = repeated[repeated > 0] - 1
    above_filled = filled_cells(frame.iloc[above])
    return repeated, above[(above_filled.sum(axis=1) == 1) & above_filled[:, 0]]


def without_section_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int, tuple[str, ...]]:
    """The rows left once a grouped board's section rows are out (:func:`_section_rows`), how many rows repeated
    the column names, and the titles right above them; no row a lead, each would be scored as one."""
    repeated, titles = _section_rows(frame)
    if not len(repeated):
        return frame, 0, ()
    leads, named = _without_sections(frame, repeated, titles)
    return leads, len(repeated), named


def _without_sections(
    frame: pd.DataFrame, repeated: np.ndarray, titles: np.ndarray
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    dropped = np.zeros(len(frame), dtype=bool)
    dropped[repeated], dropped[titles] = True, True
    return frame[~dropped], tuple(str(title).strip() for title in frame.iloc[titles, 0])


SECTION_COLUMN = "Group"  # monday.com's word for a board's sections


def with_section_column(
    frame: pd.DataFrame, first_title: str | None
) -> tuple[pd.DataFrame, int, tuple[str, ...], bool]:
    """:func:`without_section_rows`, and where every section has its title (the first one's above the header,
    ``first_title``), each item's section title kept as the column ``Group``: a board whose groups are the
    pipeline's stages ("New Leads", "Won", "Lost") has no other column that says them. The last item: whether the
    column was added."""
    repeated, titles = _section_rows(frame)
    if not len(repeated):
        return frame, 0, (), False
    leads, named = _without_sections(frame, repeated, titles)
    count = len(repeated)
    if len(titles) < count or not first_title or SECTION_COLUMN in frame.columns:
        return leads, count, named, False
    section = np.full(len(frame), first_title, dtype=object)
    for position, title in zip(titles, named, strict=True):  # in the board's order: each title holds till the next
        section[position:] = title
    kept = pd.Series(section, index=frame.index).loc[leads.index]
    return leads.assign(**{SECTION_COLUMN: kept}), count, (first_title, *named), True


SECTION_WORDS = "row(s) repeat the column names"  # what tells the section note from the reader's others


def section_note(name: str, repeated: int, titles: tuple[str, ...], kept: bool = False) -> str:
    sections = f" and {len(titles)} section title(s) above them ({', '.join(map(repr, titles[:5]))})" if titles else ""
    if kept:
        return (
            f"{name}: {repeated} {SECTION_WORDS} and {len(titles)} section title(s) head the "
            f"sections ({', '.join(map(repr, titles[:5]))}), as a grouped board's do: left out, no lead; each row's "
            f"section kept as the column {SECTION_COLUMN!r}"
        )
    return (
        f"{name}: {repeated} {SECTION_WORDS}{sections}, as a grouped board's sections do: left out, "
        "no lead; the section a row sat in is not kept (where the groups are the stages, export them as a column)"
    )


SWALLOWED_ROWS = 3  # lines inside one cell that read as rows of the file: an opening quote never closed


def refuse_swallowed_rows(frame: pd.DataFrame, separator: str, path: Path) -> None:
    """Refuse a CSV where a quote opened in a cell was never closed: the reader then took the lines that follow,
    rows of leads, as that one cell's text, and those leads are gone without a word.

    Raises:
        DataContractError: a cell holds at least ``SWALLOWED_ROWS`` lines with as many fields as a row.
    """
    fields = len(frame.columns)
    if fields < 3:
        return  # too few separators in a row to tell a row from a note's line
    row_numbers = np.asarray(frame.index) + 1  # a chunk of a file is numbered on from the chunks before it
    for column in frame.columns:
        values = frame[column]
        # the cheap look first: a cell with a line break at all (the count is thrice as slow, on a few cells only)
        broken = np.flatnonzero(values.str.contains("\n", regex=False).fillna(False).to_numpy(dtype=bool))
        counts = values.iloc[broken].str.count("\n").to_numpy()
        for position in broken[counts >= SWALLOWED_ROWS]:
            lines = str(values.iloc[position]).split("\n")
            rows = sum(_fields(line, separator) >= fields for line in lines)
            if rows >= SWALLOWED_ROWS:
                raise DataContractError(
                    [
                        f"{path}: the value of {str(column)!r} in data row {int(row_numbers[position]):,} holds "
                        f"{rows:,} lines "
                        f"that read as rows of the file (each with {fields} fields): a quote opened in that cell is "
                        "never closed, so the leads after it would be lost. Fix the quote in the export (or export "
                        "again with every value in quotes)"
                    ]
                )


def rows_longer_than_header(lines: Iterable[str], separator: str, lines_before: int = 0) -> str:
    """What to say of the rows with more fields than the header ("" where none has): how many, where the first is
    (its line in an editor, after ``lines_before`` lines above the header, and its data row), and the likely cause.
    ``lines``: the text from the header on (a file opened with ``newline=""`` is read line by line)."""
    records = csv.reader(lines, delimiter=separator)
    long_rows: list[tuple[int, int, int]] = []  # (first line, data row, fields)
    line, row = 1 + lines_before, 0
    try:
        header = len(next(records, []))
        for record in records:
            first_line, line = line + 1, records.line_num + lines_before
            row += bool(record)  # data rows as the reader numbers them: blank lines are none
            if len(record) > header:
                long_rows.append((first_line, row, len(record)))
    except csv.Error:  # a cell beyond the csv module's field limit: pandas' own message says it
        return ""
    if not long_rows:
        return ""
    first_line, row, fields = long_rows[0]
    return (
        f"{len(long_rows):,} row(s) have more fields than the header's {header} (separator {separator!r}); the first, "
        f"line {first_line} of the file (data row {row:,}), has {fields}. A separator inside a value that is not in "
        "quotes shifts every value after it: export again with values in quotes (or another separator)"
    )


def _renamed_duplicates(columns: list[str]) -> dict[str, str]:
    """The names pandas gave a header's repeated column ("Industry.1" for a second "Industry") -> the name."""
    names = set(columns)
    found = (re.fullmatch(r"(.+)\.(\d+)", column) for column in columns)
    return {match.group(0): match.group(1) for match in found if match and match.group(1) in names}
