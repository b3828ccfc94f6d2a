"""Messy CRM values made usable: placeholders, numbers stored as text, booleans, dates, categories, duplicates.

The mapped training path calls :func:`clean_column` once per column with the column's role from the mapping
file. Every function here is pure: it takes a Series or frame and returns new ones, and every choice it makes
(decimal convention, day-first dates, rare categories...) is returned in a JSON-serialisable report so that
training can log it. Values that cannot be read are tolerated up to a small share and refused beyond it, with
a message naming the column and examples, because silently dropping a tenth of a column hides a mapping error.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_PLACEHOLDERS = (
    "",
    "select",
    # Salesforce's empty picklist, and as its German, French, Spanish, Italian, Dutch, Portuguese users see it
    "--none--",
    "--keine--",
    "--aucun--",
    "--ninguno--",
    "--nessuno--",
    "--geen--",
    "--nenhum--",
    "-none-",  # Zoho's, and as its German, French, Spanish, Italian, Dutch, Portuguese users see it
    "-keine-",
    "-aucun-",
    "-ninguno-",
    "-nessuno-",
    "-geen-",
    "-nenhum-",
    "n/a",
    # a spreadsheet's error values, in English and German Excel: a failed lookup, a division by zero, ...
    "#n/a",
    "#nv",
    "#div/0!",
    "#value!",
    "#wert!",
    "#ref!",
    "#bezug!",
    "#name?",
    "#num!",
    "#zahl!",
    "#null!",
    "#spill!",
    "#überlauf!",
    "#calc!",
    "na",
    "none",
    "null",
    "unknown",
    "-",
    "—",  # an em dash and an en dash, as word processors and Russian exports write a dash for nothing
    "–",
    "--",
    "?",
    "not provided",
    "k.a.",  # German "keine Angabe": not given
    "k. a.",
    "keine angabe",
    # "not given" / "not applicable" in German, French, Italian, Spanish, Dutch, Portuguese and Polish (not a bare
    # "keine", "aucun", "geen" or "brak", which may be a lead's answer: none)
    "nicht angegeben",
    "non renseigné",
    "non renseigne",
    "non précisé",
    "non specificato",
    "no especificado",
    "sin datos",
    "s/d",
    "niet opgegeven",
    "não informado",
    "nao informado",
    "brak danych",
    "nie dotyczy",
    "nie podano",
    "n.d.",
    "n/d",
    "не указано",  # Russian: not given, no data
    "не указан",
    "нет данных",
    "н/д",
    "(blank)",  # an Excel pivot table's or filter's empty cell, in English and German
    "(leer)",
    # missing values written out as text by the tools that made the file: pandas (a join saved after astype(str)),
    # JavaScript ("undefined"), SQL clients ("(null)"), Google Analytics ("(not set)")
    "nan",
    "<na>",
    "nat",
    "undefined",
    "(null)",
    "(none)",
    "(not set)",
)
DEFAULT_MAX_UNPARSEABLE_SHARE = 0.02
OTHER_CATEGORY = "other"
ROLES = ("numeric", "categorical", "boolean", "created_at", "date", "text", "pii", "id")
_MAX_EXAMPLES = 5


class CleaningError(ValueError):
    """A column's values cannot be read as its mapped role."""


# --- placeholders -------------------------------------------------------------------------------------------


def mark_missing(values: pd.Series, placeholders: Iterable[str] = DEFAULT_PLACEHOLDERS) -> tuple[pd.Series, int]:
    """Replace placeholder strings (compared trimmed and case-insensitively) and blank strings by missing.

    Returns:
        The new Series and how many values were replaced.
    """
    keys = {placeholder.strip().casefold() for placeholder in placeholders} | {""}
    flags = _judge_distinct(values, lambda value: isinstance(value, str) and value.strip().casefold() in keys)
    is_placeholder = pd.Series(flags, index=values.index)
    return values.mask(is_placeholder), int(flags.sum())


def _judge_distinct(values: pd.Series, judge: Callable[[object], bool]) -> np.ndarray:
    """``judge(value)`` for every value, called once per distinct value (a CRM column repeats a few spellings);
    missing values are judged False. For judges that are False for every value that is not a string: distinct
    values are found by equality, which may merge values of other types (1 and 1.0), never two strings."""
    if values.dtype.kind in "biufcmM":  # numbers, booleans and dates hold no strings
        return np.zeros(len(values), dtype=bool)
    try:
        codes, distinct = pd.factorize(values)
    except TypeError:  # unhashable values (lists read from JSON): judged one by one
        return np.fromiter((judge(value) for value in values), dtype=bool, count=len(values))
    verdicts = np.fromiter((judge(value) for value in distinct), dtype=bool, count=len(distinct))
    return np.append(verdicts, False)[codes]  # code -1: missing


# --- categories ---------------------------------------------------------------------------------------------


def normalise_categories(values: pd.Series) -> pd.Series:
    """Trim, collapse inner whitespace and casefold, so " Manufacturing" and "MANUFACTURING" are one category."""
    text = _as_object(values)
    present = text.notna()
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:  # text only: each spelling once
        array, known = text.to_numpy(dtype=object, copy=True), present.to_numpy()
        codes, distinct = pd.factorize(array[known])
        array[known] = np.array([" ".join(value.split()).casefold() for value in distinct], dtype=object)[codes]
        return pd.Series(array, index=text.index, name=text.name, dtype=object)
    normalised = text[present].map(lambda value: " ".join(str(value).split()).casefold())
    return text.mask(present, normalised)


def rare_categories(values: pd.Series, min_share: float) -> list[str]:
    """Categories whose share of the non-missing values is below ``min_share`` (fit on training data)."""
    shares = values.dropna().astype(str).value_counts(normalize=True)
    return sorted(
        str(category) for category, share in shares.items() if share < min_share and category != OTHER_CATEGORY
    )


def group_categories(values: pd.Series, categories: Iterable[str]) -> pd.Series:
    """Replace the given categories by ``"other"``; missing values stay missing."""
    to_group = set(categories)
    is_grouped = values.isin(to_group)
    return _as_object(values).mask(is_grouped, OTHER_CATEGORY)


def group_rare(values: pd.Series, min_share: float) -> tuple[pd.Series, list[str]]:
    """Group categories rarer than ``min_share`` as ``"other"``; returns the grouped categories too."""
    rare = rare_categories(values, min_share)
    return group_categories(values, rare), rare


# --- numbers ------------------------------------------------------------------------------------------------

_NUMBER_EXPECTED = "numbers such as 1200, 1.200, 1,200.50 or 50k"
_MULTIPLIERS = {
    "k": 1e3,
    "tsd": 1e3,
    "thousand": 1e3,
    "tausend": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "mio": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "millionen": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "mrd": 1e9,
    "billion": 1e9,
    "billions": 1e9,
    "milliarden": 1e9,
}
# Prefixes are a closed list (currencies, "approximately") so that "Q3" or "v2" are not read as numbers.
_PREFIX = r"(?:(?:[€$£¥₹~≈]|eur|usd|gbp|chf|ca\.?|approx\.?|circa|about|rund|etwa)\s*)*"
_NUMBER_PART = re.compile(rf"(?P<prefix>{_PREFIX})(?P<sign>-)?\s*(?P<number>\d(?:[\d.,'’ ]*\d)?)(?P<suffix>\D*)")
_SUFFIX_TOKEN = re.compile(r"[^\W\d_]+\.?|[%€$£¥₹]")
_BOUND_PREFIX = re.compile(
    r"(?:>=|<=|=>|=<|[<>≥≤]|(?:more than|greater than|at least|over|above|mehr als|über|ueber|mindestens|mind\.?|ab"
    r"|less than|up to|under|below|weniger als|unter|bis zu|bis|max\.?)(?![^\W\d_]))\s*"
)
_BOUND_PLUS = re.compile(r"(?P<body>.*\d.*?)\s*\+(?P<tail>[^\d+]*)")
_RANGE = re.compile(r"(?P<low>[^-–—]*?\d[^-–—]*?)\s*(?:[-–—]|\bto\b|\bbis\b)\s*(?P<high>[^-–—]*\d[^-–—]*)")
_GROUPED_INTEGER = re.compile(r"\d{1,3}(?P<sep>[.,'’ ])\d{3}(?:(?P=sep)\d{3})*")


@dataclass(frozen=True)
class NumberParsing:
    """How a column of numbers stored as text was read.

    ``decimal_convention`` is "comma" (1.200,50), "point" (1,200.50) or "none" (no value needed a decimal
    separator; separators followed by exactly three digits, as in 1.200, were read as thousands).
    """

    decimal_convention: str
    from_ranges: int = 0
    from_bounds: int = 0
    from_multipliers: int = 0
    with_units: int = 0
    ambiguous_thousands: int = 0
    unparseable: int = 0
    unparseable_examples: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable form, for the cleaning report."""
        report = asdict(self)
        report["unparseable_examples"] = list(self.unparseable_examples)
        return report


@dataclass(frozen=True)
class _Part:
    number: str
    negative: bool
    multiplier: float
    has_unit: bool


@dataclass(frozen=True)
class NumberReading:
    """The number parts :func:`read_number` found in one value, before a decimal convention is applied."""

    kind: str  # "plain", "range" or "bound"
    parts: tuple[_Part, ...]


def parse_numbers(
    values: pd.Series, column: str, max_unparseable_share: float = DEFAULT_MAX_UNPARSEABLE_SHARE
) -> tuple[pd.Series, NumberParsing]:
    """Floats from numbers stored as text, with the decimal convention decided once for the whole column.

    Reads thousands separators ("1.200.000", "1,200", "1 200", "1'200"), decimals in either convention,
    currency and unit prefixes/suffixes ("€ 10.000", "500 employees", "12%"), k/M suffixes ("1.5M", "2 Mio"),
    ranges ("50-200" -> midpoint) and bounds (">1000", "1000+" -> the bound). Call :func:`mark_missing` first.

    Raises:
        CleaningError: more than ``max_unparseable_share`` of the non-missing values cannot be read.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64"), NumberParsing(decimal_convention="none")

    # Each distinct value is read once and counted as often as it occurs; plain ones ("1200", "3.75") at once.
    if values.dtype == object:
        values = pd.Series(yes_no_as_text(values.to_numpy()), index=values.index, name=values.name)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct: list[object] = list(uniques)
    occurrences = np.bincount(codes[codes >= 0], minlength=len(distinct))
    plain = plain_numbers(distinct)
    is_plain = plain.plain.tolist()
    readings = [
        None if plain_value else read_number(value) for value, plain_value in zip(distinct, is_plain, strict=True)
    ]
    comma = point = 0
    for reading, times in zip(readings, occurrences.tolist(), strict=True):
        if isinstance(reading, NumberReading):
            for part in reading.parts:
                vote = decimal_vote(part.number)
                comma += times * (vote == "comma")
                point += times * (vote == "point")
    point += int(occurrences[plain.decimal].sum())
    convention = _decide_decimal_convention(comma, point)

    numbers = plain.read(convention)
    counts = {"range": 0, "bound": 0, "multiplier": 0, "unit": 0, "ambiguous": 0}
    counts["ambiguous"] = int(occurrences[plain.ambiguous].sum())
    unparseable: list[str] = []
    unparseable_rows = missing_rows = 0
    for position, (value, reading, times) in enumerate(zip(distinct, readings, occurrences.tolist(), strict=True)):
        if is_plain[position]:
            if numbers[position] != numbers[position]:  # NaN: a decimal point under the comma convention
                unparseable.append(str(value))
                unparseable_rows += times
            continue
        tally = dict.fromkeys(counts, 0)
        number = number_from_reading(reading, convention, tally)
        for key, added in tally.items():
            counts[key] += added * times
        if number is not None:
            numbers[position] = number
        elif is_missing(value):
            missing_rows += times
        else:
            unparseable.append(str(value))
            unparseable_rows += times

    present = int(occurrences.sum()) - missing_rows
    _refuse_if_too_many(column, unparseable, present, max_unparseable_share, _NUMBER_EXPECTED, unparseable_rows)
    report = NumberParsing(
        decimal_convention=convention,
        from_ranges=counts["range"],
        from_bounds=counts["bound"],
        from_multipliers=counts["multiplier"],
        with_units=counts["unit"],
        ambiguous_thousands=counts["ambiguous"],
        unparseable=unparseable_rows,
        unparseable_examples=tuple(_examples(unparseable)),
    )
    spread = np.append(numbers, np.nan)[codes]  # code -1 (missing) takes the appended NaN
    return pd.Series(spread, index=values.index, name=values.name, dtype="float64"), report


def yes_no_as_text(values: np.ndarray) -> np.ndarray:
    """An object array's True and False as their text ("True"): a yes/no among numbers is no number, and must not
    pass for the 1 or 0 it equals where values are told apart by hashing (``pd.factorize``, a dict)."""
    if values.dtype != object or not any(isinstance(value, bool | np.bool_) for value in values):
        return values
    return np.array([str(value) if isinstance(value, bool | np.bool_) else value for value in values], dtype=object)


# Plain numbers: an optional minus, digits and at most one point (at most 15 digits a side, so a float holds
# them). A point before exactly three digits after one to three digits is decimal_vote's "ambiguous" ("1.200").
_PLAIN_INTEGER = r"^-?\d{1,15}$"
_PLAIN_DECIMAL = r"^-?\d{1,15}\.\d{1,15}$"
_PLAIN_AMBIGUOUS = r"^-?[1-9]\d{0,2}\.\d{3}$"


@dataclass(frozen=True)
class PlainNumbers:
    """Which of some values are plain numbers, read at once rather than value by value: the bulk of a column of
    amounts or durations, thousands of distinct values. Each array has one entry per value."""

    integer: np.ndarray  # "1200", "-3"
    decimal: np.ndarray  # "3.75", "0.125": a decimal point in every convention (decimal_vote "point")
    ambiguous: np.ndarray  # "1.200": decimal_vote "ambiguous"
    point_read: np.ndarray  # the value with its point read as the decimal separator; NaN where not plain
    thousands_read: np.ndarray  # an ambiguous value with its point read as the thousands separator; NaN elsewhere

    @property
    def plain(self) -> np.ndarray:
        return self.integer | self.decimal | self.ambiguous

    def read(self, convention: str) -> np.ndarray:
        """The plain values as :func:`number_from_reading` reads them under ``convention`` (a decimal point under
        the comma convention contradicts it: NaN; under "none" it is read as a point, as ``number_as_read`` does),
        NaN where a value is not plain."""
        if convention == "point":
            return self.point_read.copy()
        numbers = np.where(self.ambiguous, self.thousands_read, self.point_read)
        if convention == "comma":
            numbers[self.decimal] = np.nan
        return numbers


def plain_numbers(values: Sequence[object]) -> PlainNumbers:
    """Find the plain numbers among ``values`` (text only; numbers, other types and anything with a unit, a
    grouping or spaces are left to :func:`read_number`) and read them with pyarrow's vectorised kernels."""
    # a lone surrogate (text decoded with errors="surrogateescape") is no number, and pyarrow cannot hold it
    texts = pa.array(
        [value if isinstance(value, str) and value.isascii() else None for value in values], type=pa.string()
    )

    def matches(pattern: str) -> np.ndarray:
        return np.asarray(pc.fill_null(pc.match_substring_regex(texts, pattern), False), dtype=bool)

    def as_floats(selected: np.ndarray, strings: pa.Array) -> np.ndarray:
        chosen = pc.if_else(pa.array(selected), strings, pa.scalar(None, pa.string()))
        return np.asarray(pc.cast(chosen, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)

    integer, with_point, ambiguous = matches(_PLAIN_INTEGER), matches(_PLAIN_DECIMAL), matches(_PLAIN_AMBIGUOUS)
    decimal = with_point & ~ambiguous
    return PlainNumbers(
        integer=integer,
        decimal=decimal,
        ambiguous=ambiguous,
        point_read=as_floats(integer | with_point, texts),
        thousands_read=as_floats(ambiguous, pc.replace_substring(texts, ".", "")),
    )


def read_number(value: object) -> NumberReading | float | None:
    """The number parts of one value; a float for values that already are numbers, None if unreadable."""
    if is_missing(value) or isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return _read_number_text(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=100_000)  # CRM columns repeat the same few spellings many times
def _read_number_text(value: str) -> NumberReading | None:
    text = " ".join(value.split()).casefold()  # also turns non-breaking spaces into plain ones
    bound = _BOUND_PREFIX.match(text)
    if bound:
        part = _read_part(text[bound.end() :])
        return NumberReading("bound", (part,)) if part else None
    plus = _BOUND_PLUS.fullmatch(text)
    if plus:
        part = _read_part(plus["body"] + plus["tail"])
        return NumberReading("bound", (part,)) if part else None
    part = _read_part(text)
    if part:
        return NumberReading("plain", (part,))
    interval = _RANGE.fullmatch(text)
    if interval:
        low, high = _read_part(interval["low"]), _read_part(interval["high"])
        if low and high:
            if low.multiplier == 1 and not _has_multiplier_word(interval["low"]):
                # "50-200k" means 50k to 200k
                low = _Part(low.number, low.negative, high.multiplier, low.has_unit)
            return NumberReading("range", (low, high))
    return None


def _read_part(text: str) -> _Part | None:
    match = _NUMBER_PART.fullmatch(text.strip())
    if not match:
        return None
    suffix = match["suffix"]
    tokens = _SUFFIX_TOKEN.findall(suffix)
    if _SUFFIX_TOKEN.sub("", suffix).strip(" ./"):
        return None
    multiplier = _MULTIPLIERS.get(tokens[0].rstrip("."), 1.0) if tokens else 1.0
    has_unit = bool(match["prefix"].strip()) or len(tokens) > (multiplier != 1.0)
    return _Part(match["number"], bool(match["sign"]), multiplier, has_unit)


def _has_multiplier_word(text: str) -> bool:
    tokens = _SUFFIX_TOKEN.findall(text)
    return bool(tokens) and tokens[0].rstrip(".") in _MULTIPLIERS


def decimal_vote(number: str) -> str | None:
    """ "comma", "point", "ambiguous" (one separator before exactly three digits) or None (no separator)."""
    has_point, has_comma = "." in number, "," in number
    if has_point and has_comma:
        return "comma" if number.rfind(",") > number.rfind(".") else "point"
    if not (has_point or has_comma):
        return None
    separator = "." if has_point else ","
    as_decimal = "point" if separator == "." else "comma"
    as_thousands = "comma" if separator == "." else "point"
    if number.count(separator) > 1:
        return as_thousands
    head, tail = number.split(separator)
    head_is_thousands_group = re.fullmatch(r"[1-9]\d{0,2}(?:[ '’]\d{3})*", head) is not None
    if len(tail) != 3 or not head_is_thousands_group:
        return as_decimal
    return "ambiguous"


def _decide_decimal_convention(comma: int, point: int) -> str:
    if comma == point == 0:
        return "none"
    # A tie or a minority makes the contradicting values unparseable, which the share check then reports.
    return "comma" if comma > point else "point"


def number_from_reading(reading: NumberReading | float | None, convention: str, counts: dict[str, int]) -> float | None:
    """The float of a reading under the column's decimal ``convention`` (None: it contradicts it); ``counts``
    tallies ranges, bounds and multipliers for the report."""
    if reading is None or isinstance(reading, float):
        return reading
    parsed = [_part_to_float(part, convention) for part in reading.parts]
    if any(number is None for number in parsed):
        return None
    numbers = [number for number in parsed if number is not None]
    if reading.kind == "range" and numbers[1] < numbers[0]:
        return None  # no range ends below its start: a code written with a dash ("123.456.789-09", a CPF)
    if reading.kind in ("range", "bound"):
        counts[reading.kind] += 1
    counts["multiplier"] += any(part.multiplier != 1.0 for part in reading.parts)
    counts["unit"] += any(part.has_unit for part in reading.parts)
    counts["ambiguous"] += any(decimal_vote(part.number) == "ambiguous" for part in reading.parts)
    return sum(numbers) / len(numbers)


def _part_to_float(part: _Part, convention: str) -> float | None:
    vote = decimal_vote(part.number)
    if vote in ("comma", "point") and vote != convention:
        return None
    decimal = {"comma": ",", "point": "."}.get(convention)
    integer, _, fraction = (
        part.number.partition(decimal) if decimal and decimal in part.number else (part.number, "", "")
    )
    if fraction and not fraction.isdigit():
        return None
    if not integer.isdigit():
        grouped = _GROUPED_INTEGER.fullmatch(integer)
        if not grouped or grouped["sep"] == decimal:
            return None
        integer = re.sub(r"\D", "", integer)
    number = float(f"{integer}.{fraction or 0}") * part.multiplier
    return -number if part.negative else number


# --- booleans -----------------------------------------------------------------------------------------------

# English, German, French and Spanish
TRUE_WORDS = frozenset(
    {"true", "t", "yes", "y", "ja", "j", "wahr", "1", "1.0", "x", "checked", "on", "✓", "✔", "☑"}
    | {"oui", "vrai", "sí", "si", "verdadero"}
    | {"sì", "vero", "sim", "verdadeiro"}  # Italian, Portuguese
    | {"tak", "ano", "kyllä", "kylla", "evet", "igen", "da"}  # Polish, Czech, Finnish, Turkish, Hungarian, Romanian
    | {"да", "так"}  # Russian, Ukrainian
)
FALSE_WORDS = frozenset(
    {"false", "f", "no", "n", "nein", "falsch", "0", "0.0", "unchecked", "off", "☐", "non", "faux", "falso"}
    | {"não", "nao", "nee", "nej", "nei"}  # Portuguese, Dutch, Swedish and Danish, Norwegian
    | {"nie", "ne", "ei", "hayır", "hayir", "nem", "nu"}  # Polish, Czech, Finnish, Turkish, Hungarian, Romanian
    | {"нет", "ні"}  # Russian, Ukrainian
)


def parse_booleans(values: pd.Series, column: str) -> pd.Series:
    """A nullable boolean Series from yes/no-like values (true/false, ja/nein, 1/0, x, checked...).

    Missing stays missing (an empty checkbox export cell is unknown, not false). Call :func:`mark_missing` first.

    Raises:
        CleaningError: a value is not one of the known spellings.
    """

    def read(value: object) -> bool | None:
        if is_missing(value):
            return None
        if isinstance(value, bool | np.bool_):
            return bool(value)
        key = str(value).strip().casefold()
        return True if key in TRUE_WORDS else False if key in FALSE_WORDS else None

    codes, distinct = pd.factorize(values, use_na_sentinel=True)  # each spelling read once
    read_distinct = [read(value) for value in distinct]
    unreadable = [str(value) for value, result in zip(distinct, read_distinct, strict=True) if result is None]
    if unreadable:
        unread_positions = [position for position, result in enumerate(read_distinct) if result is None]
        count = int(np.isin(codes, unread_positions).sum())
        raise CleaningError(
            f"Column {column!r}: {count} values are not booleans, e.g. {_quoted(_examples(unreadable))}; "
            "expected true/false, yes/no, ja/nein, 1/0, x, ✓ or checked."
        )
    spread = np.array([*read_distinct, None], dtype=object)[codes]  # code -1 (missing) takes the appended None
    return pd.Series(spread, index=values.index, name=values.name, dtype="boolean")


# --- dates --------------------------------------------------------------------------------------------------

_DATE_EXPECTED = (
    "dates such as 2026-03-01, 01.03.2026, 01-03-2026, 03/01/2026, 1 Mar 2026, Mar 1, 2026, Excel day numbers or "
    "Unix times"
)
ISO_DATE = re.compile(
    r"(?P<year>\d{4})[-/](?P<month>\d{1,2})[-/](?P<day>\d{1,2})"
    r"(?P<time>[t ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?\s*(?P<zone>z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?"
)
# dotted dates with a space after each dot too, as Czech and Slovak write them ("2. 1. 2023 03:02")
DAY_MONTH_DATE = re.compile(
    r"(?P<first>\d{1,2})(?P<sep>[./-])\s?(?P<second>\d{1,2})(?P=sep)\s?(?P<year>\d{4}|\d{2})"
    r"(?:,?\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second_of_minute>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?)?"
)
# Month names, English, German, French and Spanish, full and short ("5 Jan 2026", "Jan 5, 2026", "5. März 2026",
# "3 janv. 2024", "3 de enero de 2024", Excel's "3-Jan-24"), casefolded
_MONTHS = {
    **dict.fromkeys(["jan", "january", "januar", "jänner", "jaenner", "janv", "janvier", "ene", "enero"], 1),
    **dict.fromkeys(["feb", "february", "februar", "févr", "fevr", "février", "fevrier", "febrero"], 2),
    **dict.fromkeys(["mar", "march", "mär", "märz", "maerz", "mrz", "mars", "marzo"], 3),
    **dict.fromkeys(["apr", "april", "avr", "avril", "abr", "abril"], 4),
    **dict.fromkeys(["may", "mai", "mayo"], 5),
    **dict.fromkeys(["jun", "june", "juni", "juin", "junio"], 6),
    **dict.fromkeys(["jul", "july", "juli", "juil", "juillet", "julio"], 7),
    **dict.fromkeys(["aug", "august", "août", "aout", "ago", "agosto"], 8),
    **dict.fromkeys(["sep", "sept", "september", "septembre", "septiembre", "set", "setiembre"], 9),
    **dict.fromkeys(["oct", "october", "okt", "oktober", "octobre", "octubre"], 10),
    **dict.fromkeys(["nov", "november", "novembre", "noviembre"], 11),
    **dict.fromkeys(["dec", "december", "dez", "dezember", "déc", "décembre", "decembre", "dic", "diciembre"], 12),
}
_MONTH_NAME = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY = (
    r"(?:(?:monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thur|thu|friday|fri|saturday|sat|sunday|sun|"
    r"montag|mo|dienstag|di|mittwoch|mi|donnerstag|do|freitag|fr|samstag|sa|sonntag|so)\.?,?\s+)?"
)
_CLOCK = (
    r"(?:,?\s+(?:at\s+|um\s+|à\s+|a\s+las\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second_of_minute>\d{2}))?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?(?:\s*uhr)?)?"
)
MONTH_NAME_DATE = re.compile(
    rf"{_WEEKDAY}(?:(?P<day>\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:de\s+)?(?P<month>{_MONTH_NAME})\.?"
    rf"|(?P<month_first>{_MONTH_NAME})\.?\s+(?P<day_second>\d{{1,2}})(?:st|nd|rd|th)?),?\s+(?:de\s+)?"
    rf"(?P<year>\d{{4}}){_CLOCK}"
    # Excel's d-mmm-yy as a CSV holds it ("3-Jan-24"); a two-digit year is of this century
    rf"|(?P<day_dashed>\d{{1,2}})-(?P<month_dashed>{_MONTH_NAME})-(?P<year_dashed>\d{{4}}|\d{{2}})"
)
# Excel day numbers that fall in 1970-2099: other numbers are not plausible CRM dates.
EXCEL_SERIAL_RANGE = (25569.0, 73051.0)
_EXCEL_ORIGIN = "1899-12-30"
# Unix times of 2000-2099, in seconds or milliseconds (a system's export of its own timestamps)
UNIX_SECONDS_RANGE = (946_684_800.0, 4_102_444_800.0)


def parse_dates(
    values: pd.Series,
    column: str,
    max_unparseable_share: float = DEFAULT_MAX_UNPARSEABLE_SHARE,
    order: DateOrderEvidence | None = None,
) -> tuple[pd.Series, str]:
    """Naive datetime64[ns] values (UTC where the export gave an offset) and a description of the format.

    Day-first or month-first is decided per column from the values whose first or second part exceeds 12;
    without such evidence dotted and dashed dates (01.03.2026, 01-03-2026) are read day-first and slashed ones
    (03/01/2026) month-first, and the description says so. A column of numbers is read as Excel serial numbers or
    Unix times (seconds or milliseconds of 2000-2099), whichever reads more of them; among text dates, numbers in
    the Excel range are Excel day numbers (a spreadsheet kept some cells unformatted); month names in
    English, German, French or Spanish ("5 Jan 2026", "Jan 5, 2026", "5. März 2026", "3 janv. 2024", "3-Jan-24")
    too. Call :func:`mark_missing` first.
    ``order``: the evidence of the whole column (:func:`date_order_evidence`) when ``values`` is only a part of it.

    Raises:
        CleaningError: more than ``max_unparseable_share`` of the non-missing values cannot be read.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]"), "datetimes (converted to UTC)"
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]"), "datetimes"
    parsed, description = _parse_date_values(values.reset_index(drop=True), column, max_unparseable_share, order)
    parsed = parsed.set_axis(values.index)
    parsed.name = values.name
    return parsed, description


def _parse_date_values(
    values: pd.Series, column: str, max_unparseable_share: float, order: DateOrderEvidence | None = None
) -> tuple[pd.Series, str]:
    """:func:`parse_dates` on a Series with a unique index, so that partial results can be placed by label."""

    present = values[values.map(lambda value: not is_missing(value)).astype(bool)]
    if len(present) and present.map(_is_number_like).all():
        return _parse_day_numbers(values, present, column, max_unparseable_share)

    text = present.map(lambda value: " ".join(str(value).split()).casefold())
    is_native = present.map(lambda value: isinstance(value, dt.date))
    iso = text.str.fullmatch(ISO_DATE.pattern) & ~is_native
    day_month = text.str.fullmatch(DAY_MONTH_DATE.pattern) & ~is_native
    named = text.str.fullmatch(MONTH_NAME_DATE.pattern) & ~is_native
    # a spreadsheet column whose cells Excel kept partly as day numbers (an unformatted cell among text dates)
    day_number = text.str.fullmatch(r"\d+(?:\.\d+)?") & ~is_native

    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    descriptions: list[str] = []
    if is_native.any():
        parsed.loc[is_native[is_native].index] = _naive_utc(pd.to_datetime(present[is_native], utc=True))
        descriptions.append("datetimes")
    if iso.any():
        parsed.loc[iso[iso].index] = _parse_iso(text[iso])
        with_offset = text[iso].str.extract(ISO_DATE.pattern)["zone"].notna().any()
        descriptions.append("ISO 8601" + (" (offsets converted to UTC)" if with_offset else ""))
    if day_month.any():
        day_first, choice = (order or _order_evidence(text[day_month])).decide()
        parsed.loc[day_month[day_month].index] = _parse_day_month(text[day_month], day_first)
        descriptions.append(choice)
    if named.any():
        parsed.loc[named[named].index] = _parse_month_names(text[named])
        descriptions.append("dates with month names")
    if day_number.any():
        serials = pd.to_numeric(text[day_number]).astype("float64")
        serials = serials[serials.between(*EXCEL_SERIAL_RANGE)]
        if len(serials):
            parsed.loc[serials.index] = pd.to_datetime(serials, unit="D", origin=_EXCEL_ORIGIN)
            descriptions.append(f"{len(serials):,} Excel serial day numbers (origin {_EXCEL_ORIGIN})")

    unreadable = [str(value) for value in present[parsed[present.index].isna()]]
    _refuse_if_too_many(column, unreadable, len(present), max_unparseable_share, _DATE_EXPECTED)
    return parsed, "; ".join(descriptions) or "no dates"


def _is_number_like(value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | float | np.integer | np.floating):
        return True
    return isinstance(value, str) and re.fullmatch(r"\s*\d+(?:\.\d+)?\s*", value) is not None


def _parse_day_numbers(
    values: pd.Series, present: pd.Series, column: str, max_unparseable_share: float
) -> tuple[pd.Series, str]:
    """A column of numbers as dates: Excel day numbers, or Unix times in seconds or milliseconds, whichever reads
    the most of them as a date of its range (Excel first on a tie)."""
    numbers = pd.to_numeric(present.astype(str)).astype("float64")
    seconds_low, seconds_high = UNIX_SECONDS_RANGE
    units = {
        "D": (numbers.between(*EXCEL_SERIAL_RANGE), f"Excel serial day numbers (origin {_EXCEL_ORIGIN})"),
        "s": (numbers.between(seconds_low, seconds_high), "Unix times in seconds (UTC)"),
        "ms": (numbers.between(seconds_low * 1000, seconds_high * 1000), "Unix times in milliseconds (UTC)"),
    }
    unit = max(units, key=lambda name: int(units[name][0].sum()))
    plausible, description = units[unit]
    unreadable = [str(value) for value in present[~plausible]]
    _refuse_if_too_many(column, unreadable, len(present), max_unparseable_share, _DATE_EXPECTED)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    read = numbers[plausible]
    if unit == "D":
        parsed.loc[read.index] = pd.to_datetime(read, unit="D", origin=_EXCEL_ORIGIN)
    else:
        parsed.loc[read.index] = pd.to_datetime(read, unit="ms" if unit == "ms" else "s")
    return parsed, description


def _parse_month_names(text: pd.Series) -> pd.Series:
    parts = text.str.extract(MONTH_NAME_DATE.pattern)
    month = parts["month"].fillna(parts["month_first"]).fillna(parts["month_dashed"]).map(_MONTHS)
    dashed_year = parts["year_dashed"].dropna()
    year = parts["year"].fillna(dashed_year.where(dashed_year.str.len() == 4, "20" + dashed_year))
    hour = parts["hour"].fillna("0").astype(int)
    ampm = parts["ampm"].fillna("").str.replace(".", "", regex=False)
    hour = hour.mask((ampm == "pm") & (hour < 12), hour + 12).mask((ampm == "am") & (hour == 12), 0)
    components = pd.DataFrame(
        {
            "year": year.astype(int),
            "month": month.astype(int),
            "day": parts["day"].fillna(parts["day_second"]).fillna(parts["day_dashed"]).astype(int),
            "hour": hour,
            "minute": parts["minute"].fillna("0").astype(int),
            "second": parts["second_of_minute"].fillna("0").astype(int),
        }
    )
    return _from_components(components)


def _from_components(components: pd.DataFrame) -> pd.Series:
    """Datetimes from year..second columns; NaT where a part is out of its range (a clock of 25:00 or 10:99 is no
    time, not the next day's)."""
    clock_ok = (components["hour"] < 24) & (components["minute"] < 60) & (components["second"] < 60)
    return pd.to_datetime(components, errors="coerce").where(clock_ok).astype("datetime64[ns]")


def _parse_iso(text: pd.Series) -> pd.Series:
    parts = text.str.extract(ISO_DATE.pattern)
    zone = parts["zone"].fillna("").replace({"utc": "z", "gmt": "z"}).str.upper()
    time = parts["time"].fillna("").str.replace(",", ".").str.strip()
    iso = (
        parts["year"]
        + "-"
        + parts["month"].str.zfill(2)
        + "-"
        + parts["day"].str.zfill(2)
        + time.map(lambda clock: "T" + re.sub(r"^(\d):", r"0\1:", clock.lstrip("t")) if clock else "")
        + zone
    )
    return _naive_utc(pd.to_datetime(iso, format="ISO8601", utc=True, errors="coerce"))


@dataclass(frozen=True)
class DateOrderEvidence:
    """Counts of day/month dates that tell day-first from month-first; they add up over parts of a column."""

    day_first: int = 0  # first part > 12, second <= 12
    month_first: int = 0  # second part > 12, first <= 12
    dotted_or_dashed: int = 0  # 01.03.2026, 01-03-2026: day-first by default
    dates: int = 0
    # the order the same CRM's dates were read in before (a model's training export), decided by its values: it
    # decides where these values cannot (a nightly file of 1 to 12 November), before any default
    learnt_day_first: bool | None = None

    def __add__(self, other: DateOrderEvidence) -> DateOrderEvidence:
        learnt = self.learnt_day_first if self.learnt_day_first is not None else other.learnt_day_first
        return DateOrderEvidence(
            self.day_first + other.day_first,
            self.month_first + other.month_first,
            self.dotted_or_dashed + other.dotted_or_dashed,
            self.dates + other.dates,
            learnt,
        )

    @property
    def decided_by_values(self) -> bool | None:
        """Day-first or not where values with a day > 12 tell it, else None."""
        return self.day_first >= self.month_first if self.day_first or self.month_first else None

    def decide(self) -> tuple[bool, str]:
        """Day-first or not, and why in words: the evidence's majority, else dotted or dashed day-first, slashed
        month-first."""
        if self.day_first or self.month_first:
            day_first = self.day_first >= self.month_first
            evidence = self.day_first if day_first else self.month_first
            place = "first" if day_first else "second"
            order = "day-first (DD.MM.YYYY / DD/MM/YYYY)" if day_first else "month-first (MM/DD/YYYY)"
            return day_first, f"{order}, decided by {evidence} value(s) with a day > 12 in {place} place"
        if self.learnt_day_first is not None:
            order = "day-first (DD.MM.YYYY / DD/MM/YYYY)" if self.learnt_day_first else "month-first (MM/DD/YYYY)"
            return self.learnt_day_first, f"{order} as the training export was read: no value here had a day > 12"
        if self.dotted_or_dashed >= self.dates - self.dotted_or_dashed:
            return (
                True,
                "day-first (DD.MM.YYYY, DD-MM-YYYY) by default for dotted or dashed dates: no value had a day > 12",
            )
        return False, "month-first (MM/DD/YYYY) by default for slashed dates: no value had a day > 12"


def _order_evidence(text: pd.Series) -> DateOrderEvidence:
    parts = text.str.extract(DAY_MONTH_DATE.pattern)
    first, second = parts["first"].astype(int), parts["second"].astype(int)
    return DateOrderEvidence(
        day_first=int(((first > 12) & (second <= 12)).sum()),
        month_first=int(((second > 12) & (first <= 12)).sum()),
        dotted_or_dashed=int(parts["sep"].isin([".", "-"]).sum()),
        dates=len(parts),
    )


def date_order_evidence(values: pd.Series) -> DateOrderEvidence:
    """The day/month evidence of a column's text dates (or of one part of it: parts add up), after
    :func:`mark_missing`; a column read in chunks decides its order once from the sum, as a whole column would."""
    present = values[values.map(lambda value: not is_missing(value)).astype(bool)]
    text = present.map(lambda value: " ".join(str(value).split()).casefold())
    is_native = present.map(lambda value: isinstance(value, dt.date))
    day_month = text.str.fullmatch(DAY_MONTH_DATE.pattern) & ~is_native
    return _order_evidence(text[day_month]) if day_month.any() else DateOrderEvidence()


def _parse_day_month(text: pd.Series, day_first: bool) -> pd.Series:
    parts = text.str.extract(DAY_MONTH_DATE.pattern)
    first, second = parts["first"].astype(int), parts["second"].astype(int)
    year = parts["year"].astype(int)
    two_digit = parts["year"].str.len() == 2
    year = year.mask(two_digit, year + np.where(year < 70, 2000, 1900))
    hour = parts["hour"].fillna("0").astype(int)
    ampm = parts["ampm"].fillna("").str.replace(".", "", regex=False)
    hour = hour.mask((ampm == "pm") & (hour < 12), hour + 12).mask((ampm == "am") & (hour == 12), 0)
    components = pd.DataFrame(
        {
            "year": year,
            "month": second if day_first else first,
            "day": first if day_first else second,
            "hour": hour,
            "minute": parts["minute"].fillna("0").astype(int),
            "second": parts["second_of_minute"].fillna("0").astype(int),
        }
    )
    return _from_components(components)


def _naive_utc(stamps: pd.Series) -> pd.Series:
    return stamps.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")


# --- duplicates ---------------------------------------------------------------------------------------------


def duplicate_report(frame: pd.DataFrame, id_column: str) -> dict[str, int | list[str]]:
    """Exact duplicate rows, and ids that occur more than once (with up to five examples).

    ``conflicting_ids`` counts the ids still repeated once exact duplicate rows are dropped: those rows
    disagree about the same lead and need a decision, not just a de-duplication.
    """
    ids = frame[id_column].dropna()
    repeated = ids[ids.duplicated(keep=False)]
    deduplicated_ids = drop_exact_duplicates(frame)[id_column].dropna()
    return {
        "duplicate_rows": int(frame.duplicated().sum()),
        "duplicate_ids": int(repeated.nunique()),
        "conflicting_ids": int(deduplicated_ids[deduplicated_ids.duplicated()].nunique()),
        "duplicate_id_examples": _examples(str(identifier) for identifier in repeated),
    }


def drop_exact_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without rows that repeat an earlier row in every column (the original index is kept)."""
    return frame.drop_duplicates(keep="first")


# --- one column, by role ------------------------------------------------------------------------------------


def clean_column(
    values: pd.Series,
    role: str,
    column: str,
    placeholders: Iterable[str] = DEFAULT_PLACEHOLDERS,
    *,
    rare_category_share: float = 0.0,
    max_unparseable_share: float = DEFAULT_MAX_UNPARSEABLE_SHARE,
) -> tuple[pd.Series, dict[str, object]]:
    """Clean one column according to its mapped role; returns the new column and a JSON-serialisable report.

    Args:
        role: one of :data:`ROLES` ("created_at" and "date" are the same).
        rare_category_share: categorical only; 0 keeps every category. Grouping here uses the frequencies of
            the values given: to fit on the training split only, pass 0 and use :func:`rare_categories`.

    Raises:
        CleaningError: the values cannot be read as the role, or the role is not one this module cleans.
    """
    if role not in ROLES:
        raise CleaningError(
            f"Column {column!r}: role {role!r} is not cleaned here; expected one of {', '.join(ROLES)}."
        )
    marked, replaced = mark_missing(values, placeholders)
    report: dict[str, object] = {"column": column, "role": role, "rows": len(values), "placeholders_replaced": replaced}
    cleaned: pd.Series
    if role == "numeric":
        cleaned, parsing = parse_numbers(marked, column, max_unparseable_share)
        report |= parsing.as_dict()
    elif role == "categorical":
        normalised = normalise_categories(marked)
        cleaned, rare = group_rare(normalised, rare_category_share) if rare_category_share > 0 else (normalised, [])
        report |= {
            "distinct_before": int(marked.dropna().astype(str).nunique()),
            "distinct_after_normalising": int(normalised.nunique()),
            "rare_grouped": rare,
        }
    elif role == "boolean":
        cleaned = parse_booleans(marked, column)
        report |= {"true": int(cleaned.sum()), "false": int((~cleaned).sum())}
    elif role in ("created_at", "date"):
        cleaned, date_format = parse_dates(marked, column, max_unparseable_share)
        report |= {"date_format": date_format, "unparseable": int(marked.notna().sum() - cleaned.notna().sum())}
    elif role == "id":
        cleaned = _as_object(marked).map(_identifier_text, na_action="ignore")
    else:  # text and pii: trimmed only; pii values never enter the report
        cleaned = _as_object(marked).map(lambda value: str(value).strip(), na_action="ignore")
    report["missing"] = int(cleaned.isna().sum())
    return cleaned, report


def _identifier_text(value: object) -> str:
    # CSV readers turn integer ids into floats when some are missing: 1042.0 is the id "1042".
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


# --- helpers ------------------------------------------------------------------------------------------------


def _as_object(values: pd.Series) -> pd.Series:
    return values.astype(object)


def is_missing(value: object) -> bool:
    """None, NA, NaT or a float NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _examples(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))[:_MAX_EXAMPLES]


def _quoted(examples: Iterable[str]) -> str:
    return ", ".join(repr(example) for example in examples)


def _refuse_if_too_many(
    column: str, unreadable: list[str], present: int, max_share: float, expected: str, count: int | None = None
) -> None:
    """Refuse the column when more than ``max_share`` of its ``present`` values cannot be read: ``count`` of them
    (default: one per entry of ``unreadable``, whose first distinct entries are the examples)."""
    count = len(unreadable) if count is None else count
    if not present or count / present <= max_share:
        return
    raise CleaningError(
        f"Column {column!r}: {count} of {present} non-missing values ({count / present:.1%}) "
        f"cannot be read, e.g. {_quoted(_examples(unreadable))}; expected {expected}. "
        "Fix the export or map the column to another role."
    )
