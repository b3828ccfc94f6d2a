from __future__ import annotations

import math

import pytest

from models.contract import ACTIVITY_KINDS
from models.engagement import EngagementWindows
from models.feature_text import (
    DERIVED_TEXTS,
    FEATURE_TEXTS,
    LANGUAGES,
    VALUE_TEXTS,
    Language,
    column_text,
    describe,
    feature_name,
    format_value,
    text_of,
)
from models.job_titles import FUNCTION_PATTERNS, OTHER, SENIORITY_PATTERNS
from tests.builders import demo_mapping


def test_every_feature_of_the_demo_mapping_has_its_own_name_in_every_language() -> None:
    features = demo_mapping().derived_feature_names()

    for feature in features:
        text = text_of(feature)
        assert text in (*FEATURE_TEXTS.values(), *DERIVED_TEXTS.values()), feature  # not the fallback
        for language in LANGUAGES:
            assert text.name[language].strip(), (feature, language)


def test_every_text_is_given_in_every_language() -> None:
    for feature, text in {**FEATURE_TEXTS, **DERIVED_TEXTS}.items():
        for language in LANGUAGES:
            assert text.name[language].strip(), (feature, language)
            if text.yes is not None:
                assert text.no is not None
                assert text.yes[language].strip(), (feature, language)
                assert text.no[language].strip(), (feature, language)
            if text.unit is not None:
                assert text.unit[language].strip(), (feature, language)


def test_every_coded_value_is_translated() -> None:
    seniority = {label for label, _ in SENIORITY_PATTERNS} | {OTHER}
    functions = {label for label, _ in FUNCTION_PATTERNS} | {OTHER}

    assert seniority <= set(VALUE_TEXTS["seniority"])
    assert functions <= set(VALUE_TEXTS["function"])
    for values in VALUE_TEXTS.values():
        for texts in values.values():
            assert set(texts) == set(LANGUAGES)


@pytest.mark.parametrize(
    ("feature", "value", "language", "expected"),
    [
        ("company_size", 250.0, "en", "Company size: 250 employees"),
        ("company_size", 1200.0, "de", "Unternehmensgröße: 1.200 Mitarbeitende"),
        ("demo_requested", 1.0, "en", "Demo requested"),
        ("demo_requested", 0.0, "de", "Keine Demo angefragt"),
        ("email_is_freemail", 1.0, "en", "Freemail address"),
        ("work_email_is_freemail", 0.0, "en", "No freemail address"),  # any e-mail column's flag; none is no freemail
        ("email_is_competitor", 1.0, "de", "E-Mail-Domain eines Wettbewerbers"),
        ("job_title_seniority", "c_level", "en", "Seniority: C-level"),
        ("position_function", "sales", "de", "Funktion: Vertrieb"),  # any job-title column's function
        ("job_title_is_student_or_intern", 1.0, "en", "Student or intern"),
        ("industry", "Manufacturing", "en", "Industry: Manufacturing"),
        ("pages_per_visit", 2.5, "en", "Pages per visit: 2.5"),
        ("pages_per_visit", 2.5, "de", "Seiten pro Besuch: 2,5"),  # a German decimal comma
        ("exit_rates", 0.0234, "en", "Exit rates: 0.023"),  # a rate below 1: two significant digits, not "0.0"
        ("exit_rates", 0.004, "de", "Exit rates: 0,004"),
        ("company_size", math.nan, "en", "Company size: unknown"),
        ("demo_requested", None, "de", "Demo-Anfrage: unbekannt"),
        ("no_of_employees", 1200.0, "en", "No of employees: 1,200"),  # a mapped column without own texts
        ("no_of_employees", 1200.0, "de", "No of employees: 1.200"),
        ("year_established", 1999.0, "en", "Year established: 1999"),  # a snake_case column that names a year
        ("revenue_per_year", 1999.0, "en", "Revenue per year: 1,999"),
    ],
)
def test_reason_texts(feature: str, value: object, language: str, expected: str) -> None:
    assert describe(feature, value, language) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("column", "value", "yes_no", "language", "expected"),
    [
        ("Anzahl Mitarbeiter", 3590.0, False, "de", "Anzahl Mitarbeiter: 3.590"),
        ("How did you hear about X Education", "Google", False, "en", "How did you hear about X Education: Google"),
        ("Do Not Email", 1.0, True, "en", "Do Not Email: yes"),
        ("Newsletter abbestellt", 0.0, True, "de", "Newsletter abbestellt: nein"),
        ("Do Not Email", None, True, "de", "Do Not Email: unbekannt"),
        ("lead_origin", "API", False, "en", "Lead origin: API"),
        ("CurrentGenerators__c", "Diesel", False, "en", "Current Generators: Diesel"),  # a Salesforce custom field
        ("MntMeatProducts", 271.0, False, "en", "Mnt Meat Products: 271"),  # an API name's words run together
        ("Region_Code", "28.0", False, "en", "Region Code: 28"),  # a code a float column wrote, as the model reads it
        # numbers that name, not count: no thousands separator
        ("year_established", 1998.0, False, "en", "Year established: 1998"),
        ("PLZ", 80331.0, False, "de", "PLZ: 80331"),
        ("Gründungsjahr", 2004.0, False, "de", "Gründungsjahr: 2004"),
        ("Annual Revenue", 1998.0, False, "en", "Annual Revenue: 1,998"),
        ("Umsatz pro Jahr", 1200000.0, False, "de", "Umsatz pro Jahr: 1.200.000"),  # an amount a year
        ("Revenue / year", 1200000.0, False, "en", "Revenue / year: 1,200,000"),
        # a JSON export's field paths (Zendesk Sell): the containers as words, a "custom fields" one left out
        ("custom_fields.Requested Demo", 1.0, True, "en", "Requested Demo: yes"),
        ("address.city", "Köln", False, "en", "Address city: Köln"),
        ("No. of Employees", 250.0, False, "en", "No. of Employees: 250"),  # an abbreviation, no path
    ],
)
def test_an_export_column_reads_as_the_crm_spells_it(
    column: str, value: object, yes_no: bool, language: Language, expected: str
) -> None:
    texts = {"feature": column_text(column, yes_no)}

    assert describe("feature", value, language, texts) == expected


def test_value_and_name_alone() -> None:
    assert format_value("time_on_site_s", 95.0) == "95 seconds"
    assert feature_name("pricing_page_visits", "de") == "Besuche der Preisseite"
    assert feature_name("job_title_function") == "Job function"


def test_every_activity_kind_has_its_words_in_every_language() -> None:
    windows = EngagementWindows(ACTIVITY_KINDS, windows_days=(7, 30))

    for feature in windows.feature_names():
        for language in LANGUAGES:
            name = feature_name(feature, language)
            assert "_" not in name, (feature, language)  # not the fallback spelling of the feature's name
            assert name.strip(), (feature, language)


@pytest.mark.parametrize(
    ("feature", "value", "language", "expected"),
    [
        ("visit_30d", 3, "en", "Website visits in the last 30 days: 3"),
        ("demo_request_7d", 1, "de", "Demo-Anfragen der letzten 7 Tage: 1"),
        ("days_since_demo_request", 2, "en", "Days since the last demo request: 2 days"),
        ("days_since_email_open", 12, "de", "Tage seit der letzten geöffneten E-Mail: 12 Tage"),
        ("days_since_visit", None, "en", "Days since the last website visit: unknown"),
        ("email_click_decayed", 1.3, "en", "E-mail link clicks, recent ones weighted most: 1.3"),
    ],
)
def test_activity_reasons_read_as_sentences(feature: str, value: object, language: Language, expected: str) -> None:
    assert describe(feature, value, language) == expected
