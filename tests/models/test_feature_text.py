from __future__ import annotations

import math

import pytest

from models.feature_text import FEATURE_TEXTS, LANGUAGES, VALUE_TEXTS, describe, feature_name, format_value
from models.features import FUNCTION_PATTERNS, MODEL_FEATURES, SENIORITY_PATTERNS


def test_every_model_feature_has_a_name_in_every_language() -> None:
    assert set(FEATURE_TEXTS) == set(MODEL_FEATURES)
    for feature, text in FEATURE_TEXTS.items():
        for language in LANGUAGES:
            assert text.name[language].strip(), (feature, language)
            if text.yes is not None:
                assert text.no is not None
                assert text.yes[language].strip(), (feature, language)
                assert text.no[language].strip(), (feature, language)
            if text.unit is not None:
                assert text.unit[language].strip(), (feature, language)


def test_every_coded_value_is_translated() -> None:
    seniority = {label for label, _ in SENIORITY_PATTERNS} | {"other"}
    functions = {label for label, _ in FUNCTION_PATTERNS} | {"other"}

    assert seniority <= set(VALUE_TEXTS["seniority"])
    assert functions <= set(VALUE_TEXTS["job_function"])
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
        ("is_freemail", 1.0, "en", "Freemail address"),
        ("seniority", "c_level", "en", "Seniority: C-level"),
        ("job_function", "sales", "de", "Funktion: Vertrieb"),
        ("industry", "Manufacturing", "en", "Industry: Manufacturing"),
        ("email_click_rate", 0.25, "en", "E-mail click rate: 25%"),
        ("pages_per_visit", 2.5, "en", "Pages per visit: 2.5"),
        ("company_size", math.nan, "en", "Company size: unknown"),
        ("demo_requested", None, "de", "Demo-Anfrage: unbekannt"),
    ],
)
def test_reason_texts(feature: str, value: object, language: str, expected: str) -> None:
    assert describe(feature, value, language) == expected  # type: ignore[arg-type]


def test_value_and_name_alone() -> None:
    assert format_value("time_on_site_s", 95.0) == "95 seconds"
    assert feature_name("pricing_page_visits", "de") == "Besuche der Preisseite"
