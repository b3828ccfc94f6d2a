"""Messy CRM values, one format at a time: placeholders, numbers, booleans, dates, categories, duplicates."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from models.cleaning import (
    DEFAULT_PLACEHOLDERS,
    CleaningError,
    NumberParsing,
    NumberReading,
    clean_column,
    decimal_vote,
    drop_exact_duplicates,
    duplicate_report,
    group_categories,
    group_rare,
    is_missing,
    mark_missing,
    normalise_categories,
    number_from_reading,
    parse_booleans,
    parse_dates,
    parse_numbers,
    plain_numbers,
    rare_categories,
    read_number,
)


def _numbers(*values: object) -> list[float]:
    parsed, _ = parse_numbers(pd.Series(list(values), dtype=object), "Annual Revenue")
    return parsed.tolist()


# --- placeholders -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("placeholder", DEFAULT_PLACEHOLDERS)
def test_every_default_placeholder_becomes_missing_whatever_its_case_and_padding(placeholder: str) -> None:
    values = pd.Series(["Acme", placeholder, f"  {placeholder.upper()} ", placeholder.title()], dtype=object)
    marked, replaced = mark_missing(values, DEFAULT_PLACEHOLDERS)
    assert replaced == 3
    assert marked.iloc[0] == "Acme"
    assert marked.iloc[1:].isna().all()


def test_a_range_that_ends_below_its_start_is_no_number() -> None:
    # a CPF written "123.456.789-09" had read as a range and become a feature and a reason
    counts = {"range": 0, "bound": 0, "multiplier": 0, "unit": 0, "ambiguous": 0}

    assert number_from_reading(read_number("123.456.789-09"), "comma", counts) is None
    assert number_from_reading(read_number("200-50"), "none", counts) is None
    assert number_from_reading(read_number("50-200"), "none", counts) == 125.0


def test_a_word_for_none_that_may_be_a_leads_answer_or_a_code_is_no_placeholder() -> None:
    # "Vorerfahrung: keine" is an answer; "ND" North Dakota, "NA" is (a known cost: Namibia, Napoli)
    values = pd.Series(
        ["Keine", "Aucun", "Geen", "Ninguno", "ND", "Brak", "Brak danych", "Nie dotyczy", "Non renseigné"]
    )

    marked, replaced = mark_missing(values, DEFAULT_PLACEHOLDERS)

    assert marked.notna().tolist() == [True] * 6 + [False] * 3
    assert replaced == 3


def test_whitespace_only_is_missing_even_without_the_empty_placeholder() -> None:
    marked, replaced = mark_missing(pd.Series(["   ", "\t", "x"]), ["n/a"])
    assert replaced == 2
    assert marked.tolist()[2] == "x"


def test_mark_missing_leaves_real_values_and_numbers_alone() -> None:
    values = pd.Series(["Unknown Corp", "nan-tech", 0, 12.5, None], dtype=object)
    marked, replaced = mark_missing(values)
    assert replaced == 0
    assert marked.iloc[:4].tolist() == ["Unknown Corp", "nan-tech", 0, 12.5]


def test_mark_missing_reads_every_kind_of_column_as_one_value_at_a_time_would() -> None:
    # placeholders are judged once per distinct value: the result must be that of judging each value
    mixed = pd.Series([" N/A", "n/a", 1, 1.0, True, "1", None, float("nan"), "Acme", " ", "Acme"], dtype=object)
    columns = [
        mixed,
        mixed.iloc[[1, 4, 8, 9]].astype("string"),
        pd.Series([1.0, np.nan, 3.5]),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series(pd.to_datetime(["2026-01-01", None])),
        pd.Series([["n/a"], "n/a", {"a": 1}], dtype=object),  # unhashable values (JSON) judged one by one
    ]
    for values in columns:
        one_at_a_time = values.map(lambda value: isinstance(value, str) and value.strip().casefold() in {"n/a", ""})

        marked, replaced = mark_missing(values, ["N/A"])

        assert replaced == int(one_at_a_time.sum())
        pd.testing.assert_series_equal(marked, values.mask(one_at_a_time.astype(bool)))


# --- categories ---------------------------------------------------------------------------------------------


def test_spelling_variants_become_one_category_and_missing_stays_missing() -> None:
    values = pd.Series([" Manufacturing", "manufacturing ", "MANUFACTURING", "Financial   Services", None])
    normalised = normalise_categories(values)
    assert normalised.iloc[:4].tolist() == ["manufacturing"] * 3 + ["financial services"]
    assert pd.isna(normalised.iloc[4])


def test_rare_categories_are_grouped_as_other() -> None:
    values = pd.Series(["saas"] * 6 + ["retail"] * 3 + ["mining"] + [None])
    grouped, rare = group_rare(values, min_share=0.2)
    assert rare == ["mining"]
    assert grouped.value_counts().to_dict() == {"saas": 6, "retail": 3, "other": 1}
    assert pd.isna(grouped.iloc[-1])


def test_rare_categories_fitted_on_training_are_applied_to_new_values() -> None:
    rare = rare_categories(pd.Series(["saas"] * 9 + ["mining"]), min_share=0.2)
    assert group_categories(pd.Series(["mining", "saas"]), rare).tolist() == ["other", "saas"]


# --- numbers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1200", 1200.0),
        ("1.200.000", 1_200_000.0),
        ("1,200,000", 1_200_000.0),
        ("1 200", 1200.0),
        ("1\u00a0200", 1200.0),
        ("1'200", 1200.0),
        ("1.200,50", 1200.5),
        ("1,200.50", 1200.5),
        ("€ 10.000", 10_000.0),
        ("$1,200", 1200.0),
        ("EUR 2,5k", 2500.0),
        ("500 employees", 500.0),
        ("50 Mitarbeiter", 50.0),
        ("12%", 12.0),
        ("50k", 50_000.0),
        ("1.5M", 1_500_000.0),
        ("2 Mio", 2_000_000.0),
        ("1,5 Mio. €", 1_500_000.0),
        ("50-200", 125.0),
        ("50 - 200", 125.0),
        ("1.000 – 5.000 €", 3000.0),
        ("50-200k", 125_000.0),
        (">1000", 1000.0),
        ("> 1.000", 1000.0),
        ("1000+", 1000.0),
        ("1000+ employees", 1000.0),
        ("mehr als 500 Mitarbeiter", 500.0),
        ("ca. 300", 300.0),
        ("-5", -5.0),
    ],
)
def test_numbers_stored_as_text(text: str, expected: float) -> None:
    assert _numbers(text) == [pytest.approx(expected)]


def test_comma_decimal_column_reads_ambiguous_points_as_thousands() -> None:
    parsed, report = parse_numbers(pd.Series(["1.200", "1,5", "1.200,50", None]), "Umsatz")
    assert parsed.iloc[:3].tolist() == [1200.0, 1.5, 1200.5]
    assert np.isnan(parsed.iloc[3])
    assert report.decimal_convention == "comma"
    assert report.ambiguous_thousands == 1


def test_point_decimal_column_reads_ambiguous_commas_as_thousands() -> None:
    parsed, report = parse_numbers(pd.Series(["1,200", "1.5", "1,200.50"]), "Revenue")
    assert parsed.tolist() == [1200.0, 1.5, 1200.5]
    assert report.decimal_convention == "point"


def test_decimal_convention_is_decided_per_column() -> None:
    german, german_report = parse_numbers(pd.Series(["2,5", "10.000"]), "Umsatz")
    english, english_report = parse_numbers(pd.Series(["2.5", "10,000"]), "Revenue")
    assert german.tolist() == english.tolist() == [2.5, 10_000.0]
    assert (german_report.decimal_convention, english_report.decimal_convention) == ("comma", "point")


def test_without_decimal_evidence_separators_before_three_digits_are_thousands() -> None:
    parsed, report = parse_numbers(pd.Series(["1.200", "5.000", "12"]), "Employees")
    assert parsed.tolist() == [1200.0, 5000.0, 12.0]
    assert report.decimal_convention == "none"


def test_report_counts_ranges_bounds_suffixes_and_units() -> None:
    _, report = parse_numbers(pd.Series(["50-200", ">1000", "5000+", "50k", "€ 10", "7"]), "Employees")
    assert (report.from_ranges, report.from_bounds, report.from_multipliers, report.with_units) == (1, 2, 1, 1)
    assert report.unparseable == 0


def test_too_many_unparseable_numbers_are_refused_with_column_share_and_examples() -> None:
    values = pd.Series(["1.200", "lots", "2.000", "Q3", "3.000"])
    with pytest.raises(CleaningError, match=r"'No\. of Employees'.*40\.0%.*'lots', 'Q3'.*such as 1200"):
        parse_numbers(values, "No. of Employees")


def test_a_few_unparseable_numbers_become_missing_and_are_reported() -> None:
    values = pd.Series(["100"] * 98 + ["lots", "many"])
    parsed, report = parse_numbers(values, "Employees", max_unparseable_share=0.02)
    assert parsed.isna().sum() == 2
    assert (report.unparseable, report.unparseable_examples) == (2, ("lots", "many"))


def test_values_contradicting_the_column_convention_are_not_misread() -> None:
    # 1,200.50 in a comma-decimal column would otherwise silently become 1.2005
    values = pd.Series(["1,5"] * 60 + ["1,200.50"])
    parsed, report = parse_numbers(values, "Umsatz")
    assert report.decimal_convention == "comma"
    assert report.unparseable == 1
    assert np.isnan(parsed.iloc[-1])


def test_numeric_columns_and_numbers_in_object_columns_pass_through() -> None:
    assert parse_numbers(pd.Series([1, 2]), "n")[0].tolist() == [1.0, 2.0]
    # a real float 1200.5 must not be re-read as text under the comma convention
    assert _numbers(1200.5, "2,5") == [1200.5, 2.5]


def _numbers_value_by_value(values: list[object]) -> tuple[list[float], str, int, list[str]]:
    """The reference: every value read on its own, the convention from every value's votes."""
    readings = [read_number(value) for value in values]
    votes = [decimal_vote(part.number) for r in readings if isinstance(r, NumberReading) for part in r.parts]
    comma, point = votes.count("comma"), votes.count("point")
    convention = "none" if comma == point == 0 else "comma" if comma > point else "point"
    counts = {"range": 0, "bound": 0, "multiplier": 0, "unit": 0, "ambiguous": 0}
    numbers = [number_from_reading(reading, convention, counts) for reading in readings]
    unread = [str(v) for v, number in zip(values, numbers, strict=True) if number is None and not is_missing(v)]
    return [np.nan if number is None else number for number in numbers], convention, counts["ambiguous"], unread


_SPELLINGS = [
    "1200", "-3", "007", "3.75", "-0.125", "1.200", "12.345", "0.345", "1234.567", "1,5", "1.200,50", "1,200.50",
    "10,000", "50k", "€ 10", "50-200", ">1000", "1000+", " 12 ", "12.", ".5", "1 200", "lots", "9" * 17,
    "1" * 15 + ".5", "١٢٣", None, np.nan, 12.5, 3, 1, True, False, 0,
]  # fmt: skip


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("dtype", [object, "str"])
def test_numbers_read_per_distinct_value_equal_every_value_read_on_its_own(seed: int, dtype: object) -> None:
    rng = np.random.default_rng(seed)
    pool = rng.choice(np.array(_SPELLINGS, dtype=object), size=int(rng.integers(3, 12)), replace=False).tolist()
    if dtype == "str":
        pool = [value for value in pool if isinstance(value, str) or value is None]
    values = [pool[i] for i in rng.integers(0, len(pool), size=int(rng.integers(1, 300)))]
    expected, convention, ambiguous, unread = _numbers_value_by_value(values)
    parsed, report = parse_numbers(pd.Series(values, dtype=dtype), "Revenue", max_unparseable_share=1.0)
    np.testing.assert_array_equal(parsed.to_numpy(), np.array(expected, dtype=float))
    assert report.decimal_convention == convention
    assert (report.ambiguous_thousands, report.unparseable) == (ambiguous, len(unread))
    assert list(report.unparseable_examples) == list(dict.fromkeys(unread))[:5]


def test_plain_numbers_are_read_at_once_as_their_point_says_under_each_convention() -> None:
    plain = plain_numbers(["1200", "-3.75", "1.200", "1,5", " 7", "50k", 12.0, None, "1" * 16, "7\udcff"])
    assert plain.plain.tolist() == [True, True, True, False, False, False, False, False, False, False]
    point, comma, none = plain.read("point"), plain.read("comma"), plain.read("none")
    assert point[:3].tolist() == [1200.0, -3.75, 1.2]
    assert comma[[0, 2]].tolist() == [1200.0, 1200.0]
    assert np.isnan(comma[1])  # 3.75 contradicts the comma
    assert none[:3].tolist() == [1200.0, -3.75, 1200.0]
    assert np.isnan(point[3:]).all()


# --- booleans -----------------------------------------------------------------------------------------------


def test_boolean_spellings() -> None:
    values = pd.Series(
        [
            "TRUE",
            "false",
            "Yes",
            "no",
            "Ja",
            "NEIN",
            "1",
            "0",
            "x",
            "Checked",
            "y",
            "N",
            None,
            True,
            0,
            "✓",
            "on",
            "Off",
        ]
    )
    parsed = parse_booleans(values, "Newsletter Opt-in")
    expected = [True, False, True, False, True, False, True, False, True, True, True, False, pd.NA, True, False]
    expected += [True, True, False]
    assert parsed.dtype == "boolean"
    assert parsed.tolist() == expected


def test_french_and_spanish_yes_and_no_are_booleans() -> None:
    values = pd.Series(["Oui", "Non", "Sí", "No", "si", "Vrai", "Faux", "Verdadero", "Falso"])

    parsed = parse_booleans(values, "Démo demandée")

    assert parsed.tolist() == [True, False, True, False, True, True, False, True, False]


def test_polish_czech_finnish_turkish_hungarian_and_romanian_yes_and_no_are_booleans() -> None:
    values = pd.Series(
        ["Tak", "Nie", "Ano", "Ne", "Kyllä", "Ei", "Evet", "Hayır", "Igen", "Nem", "Da", "Nu", "Да", "Нет"]
    )

    parsed = parse_booleans(values, "Zgoda marketingowa")

    assert parsed.tolist() == [True, False] * 7


def test_unknown_boolean_values_are_refused_with_column_and_examples() -> None:
    with pytest.raises(CleaningError, match=r"'Newsletter Opt-in'.*'maybe'"):
        parse_booleans(pd.Series(["yes", "maybe"]), "Newsletter Opt-in")


# --- dates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", "2026-03-01 00:00"),
        ("2026-03-01T09:30:00Z", "2026-03-01 09:30"),
        ("2026-03-01T09:30:00+02:00", "2026-03-01 07:30"),
        ("2026-03-01 09:30:00-0500", "2026-03-01 14:30"),
        ("2026-3-1 9:30", "2026-03-01 09:30"),
        ("2026/03/01", "2026-03-01 00:00"),
        ("01.03.2026", "2026-03-01 00:00"),
        ("01.03.2026 09:30", "2026-03-01 09:30"),
        ("1.3.26", "2026-03-01 00:00"),
        ("13-02-2014", "2014-02-13 00:00"),  # dashed, day-first: iFood's Dt_Customer
        ("01-03-2026", "2026-03-01 00:00"),  # dashed without a day > 12: day-first by default, as dotted
        ("18 Apr 2025", "2025-04-18 00:00"),
        ("Apr 18, 2025", "2025-04-18 00:00"),
        ("18. April 2025", "2025-04-18 00:00"),
        ("5. März 2026", "2026-03-05 00:00"),
        ("Mon, 5 Jan 2026 14:03", "2026-01-05 14:03"),
        ("January 5th, 2026 at 2:30 PM", "2026-01-05 14:30"),
        ("5. Mai 2026, 14:03 Uhr", "2026-05-05 14:03"),
        ("3-Jan-24", "2024-01-03 00:00"),  # Excel's d-mmm-yy, as a CSV saved from Excel holds it
        ("15-Mar-2024", "2024-03-15 00:00"),
        ("3 janv. 2024", "2024-01-03 00:00"),  # French and Spanish month names
        ("1er mars 2024 à 10:14", "2024-03-01 10:14"),
        ("3 de enero de 2024", "2024-01-03 00:00"),
        ("12 ago 2025", "2025-08-12 00:00"),
    ],
)
def test_date_formats(text: str, expected: str) -> None:
    parsed, _ = parse_dates(pd.Series([text]), "Created Date")
    assert parsed.dtype == "datetime64[ns]"
    assert parsed.iloc[0] == pd.Timestamp(expected)


def test_offsets_are_converted_to_utc_and_reported() -> None:
    _, description = parse_dates(pd.Series(["2026-03-01T10:00:00+01:00", "2026-03-02"]), "Created Date")
    assert "UTC" in description
    _, description = parse_dates(pd.Series(["2026-03-02"]), "Created Date")
    assert "UTC" not in description


def test_slashed_dates_are_day_first_when_a_first_part_exceeds_12() -> None:
    parsed, description = parse_dates(pd.Series(["01/03/2026", "25/12/2026"]), "Created Date")
    assert parsed.tolist() == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-12-25")]
    assert description.startswith("day-first")


def test_slashed_dates_are_month_first_when_a_second_part_exceeds_12() -> None:
    parsed, description = parse_dates(pd.Series(["03/01/2026", "12/25/2026 9:30 PM"]), "Created Date")
    assert parsed.tolist() == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-12-25 21:30")]
    assert description.startswith("month-first")


@pytest.mark.parametrize(
    ("text", "expected", "order"),
    [("03/01/2026", "2026-03-01", "month-first"), ("01.03.2026", "2026-03-01", "day-first")],
)
def test_ambiguous_dates_use_the_default_of_their_separator_and_say_so(text: str, expected: str, order: str) -> None:
    parsed, description = parse_dates(pd.Series([text, "02/01/2026".replace("/", text[2])]), "Created Date")
    assert parsed.iloc[0] == pd.Timestamp(expected)
    assert description.startswith(order)
    assert "by default" in description


def test_excel_serial_numbers_when_the_whole_column_is_numeric() -> None:
    parsed, description = parse_dates(pd.Series([46082, 46082.5, None]), "Created Date")
    assert parsed.iloc[:2].tolist() == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-01 12:00")]
    assert pd.isna(parsed.iloc[2])
    assert "Excel" in description


@pytest.mark.parametrize(
    ("numbers", "description"),
    [
        (["1745000000", "1746000000"], "Unix times in seconds (UTC)"),
        (["1745000000000", "1746000000000"], "Unix times in milliseconds (UTC)"),
    ],
)
def test_unix_times_when_the_whole_column_is_numbers(numbers: list[str], description: str) -> None:
    parsed, said = parse_dates(pd.Series(numbers), "Erstellt am")

    assert said == description
    assert parsed.tolist() == [pd.Timestamp("2025-04-18 18:13:20"), pd.Timestamp("2025-04-30 08:00:00")]


def test_excel_day_numbers_among_text_dates_are_read_as_dates() -> None:
    # a spreadsheet kept a few cells of a date column unformatted: their day numbers among the ISO dates
    values = pd.Series(["2026-03-01", "46083", "2026-03-03 09:30", 46084.5, None, "7"], dtype=object)

    parsed, description = parse_dates(values, "Created Date", max_unparseable_share=0.2)

    assert parsed.iloc[:4].tolist() == [
        pd.Timestamp("2026-03-01"),
        pd.Timestamp("2026-03-02"),
        pd.Timestamp("2026-03-03 09:30"),
        pd.Timestamp("2026-03-03 12:00"),
    ]
    assert parsed.iloc[4:].isna().all()  # "7" is no plausible day number: unreadable
    assert description == "ISO 8601; 2 Excel serial day numbers (origin 1899-12-30)"


def test_implausible_excel_serials_are_refused() -> None:
    with pytest.raises(CleaningError, match=r"'Created Date'.*'7'"):
        parse_dates(pd.Series([7, 46082]), "Created Date")


def test_datetime_columns_and_objects_are_kept_naive_utc() -> None:
    aware = pd.Series(pd.to_datetime(["2026-03-01T10:00:00+01:00"]))
    assert parse_dates(aware, "c")[0].tolist() == [pd.Timestamp("2026-03-01 09:00")]
    mixed = pd.Series([dt.datetime(2026, 3, 1), "2026-03-02"], dtype=object)
    assert parse_dates(mixed, "c")[0].tolist() == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-02")]


def test_unparseable_dates_are_refused_with_column_and_examples() -> None:
    with pytest.raises(CleaningError, match=r"'Created Date'.*50\.0%.*'yesterday'"):
        parse_dates(pd.Series(["2026-03-01", "yesterday"]), "Created Date")


def test_dates_keep_the_index_even_when_it_repeats() -> None:
    values = pd.Series(["2026-03-01", "01.03.2026"], index=[7, 7], name="Created Date")
    parsed, _ = parse_dates(values, "Created Date")
    assert parsed.index.tolist() == [7, 7]
    assert parsed.name == "Created Date"
    assert parsed.tolist() == [pd.Timestamp("2026-03-01")] * 2


# --- duplicates ---------------------------------------------------------------------------------------------


def test_duplicate_report_and_dropping_exact_duplicates() -> None:
    frame = pd.DataFrame(
        {"Lead ID": ["L1", "L1", "L2", "L2", "L3", None, None], "Industry": ["a", "a", "b", "c", "d", "e", "f"]}
    )
    report = duplicate_report(frame, "Lead ID")
    assert report == {
        "duplicate_rows": 1,
        "duplicate_ids": 2,
        "conflicting_ids": 1,
        "duplicate_id_examples": ["L1", "L2"],
    }
    assert drop_exact_duplicates(frame).index.tolist() == [0, 2, 3, 4, 5, 6]


# --- clean_column -------------------------------------------------------------------------------------------


def test_clean_column_reports_every_choice_as_json() -> None:
    frame = pd.DataFrame(
        {
            "Annual Revenue": ["1.200,50", "n/a", "2 Mio", "50-200"],
            "Industry": [" Manufacturing", "MANUFACTURING", "--None--", "Retail"],
            "Newsletter Opt-in": ["ja", "", "nein", "x"],
            "Created Date": ["01.03.2026", "Select", "13.03.2026", "02.03.2026"],
            "Email": ["a@b.de ", "unknown", "c@d.com", "e@f.com"],
            "Lead ID": [1042.0, 7.0, np.nan, 9.0],
        }
    )
    roles = {
        "Annual Revenue": "numeric",
        "Industry": "categorical",
        "Newsletter Opt-in": "boolean",
        "Created Date": "created_at",
        "Email": "pii",
        "Lead ID": "id",
    }
    results = {
        column: clean_column(frame[column], role, column, rare_category_share=0.4) for column, role in roles.items()
    }
    reports = {column: report for column, (_, report) in results.items()}
    json.dumps(reports)

    assert results["Annual Revenue"][0].tolist()[0] == 1200.5
    assert reports["Annual Revenue"]["decimal_convention"] == "comma"
    assert reports["Annual Revenue"]["placeholders_replaced"] == 1
    assert reports["Industry"] | {"rare_grouped": None} == {
        "column": "Industry",
        "role": "categorical",
        "rows": 4,
        "placeholders_replaced": 1,
        "distinct_before": 3,
        "distinct_after_normalising": 2,
        "rare_grouped": None,
        "missing": 1,
    }
    assert reports["Industry"]["rare_grouped"] == ["retail"]
    assert (reports["Newsletter Opt-in"]["true"], reports["Newsletter Opt-in"]["false"]) == (2, 1)
    assert reports["Created Date"]["date_format"].startswith("day-first")
    assert "a@b.de" not in json.dumps(reports["Email"])
    assert results["Email"][0].iloc[0] == "a@b.de"
    assert results["Lead ID"][0].tolist()[:2] == ["1042", "7"]


def test_clean_column_refuses_roles_it_does_not_clean() -> None:
    with pytest.raises(CleaningError, match="after_contact"):
        clean_column(pd.Series(["x"]), "after_contact", "Last Call Outcome")


def test_inputs_are_not_mutated() -> None:
    frame = pd.DataFrame(
        {
            "n": [" 1.200 ", "n/a", "50k"],
            "c": [" A", "NULL", "a"],
            "b": ["yes", "", "no"],
            "d": ["01.03.2026", "-", "2026-03-01T09:30Z"],
            "id": ["L1", "L1", "L2"],
        }
    )
    before = frame.copy(deep=True)
    for column, role in {"n": "numeric", "c": "categorical", "b": "boolean", "d": "date", "id": "id"}.items():
        clean_column(frame[column], role, column, rare_category_share=0.5)
    mark_missing(frame["c"])
    normalise_categories(frame["c"])
    group_rare(frame["c"], 0.5)
    duplicate_report(frame, "id")
    drop_exact_duplicates(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_number_parsing_report_is_json_serialisable() -> None:
    report = NumberParsing("comma", unparseable=1, unparseable_examples=("lots",))
    assert json.loads(json.dumps(report.as_dict()))["unparseable_examples"] == ["lots"]
