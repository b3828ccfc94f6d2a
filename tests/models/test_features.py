"""The model's features step, ``LeadFeatures``: every role's rule, fitted parsing, lenient scoring, consent,
the online path from records, the estimator contract, and a real (tiny) LightGBM pipeline explained in the CRM's
spelling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from models.cleaning import CleaningError
from models.explanations import contributions_of_records, top_reasons
from models.feature_text import describe
from models.features import (
    FeaturesStep,
    InputColumn,
    LeadFeatures,
    columns_from_records,
    columns_of_frame,
    factorize_values,
    feature_spec_of,
    number_as_read,
)
from models.job_titles import TITLES_KEPT, classify_title
from models.pipeline import BoosterParams, assemble_pipeline, fit_model

COLUMNS = (
    InputColumn("Umsatz", "numeric", "umsatz", "fit"),  # German export: 1.200,50
    InputColumn("No. of Employees", "numeric", "no_of_employees", "fit"),
    InputColumn("Industry", "categorical", "industry", "fit"),
    InputColumn("Newsletter", "boolean", "newsletter", "engagement"),
    InputColumn("Description", "text", "description", "engagement"),
    InputColumn("Email", "email", "email", "fit"),
)


def messy_export() -> pd.DataFrame:
    """Training rows as a CRM exports them: text everywhere, placeholders, two decimal conventions, e-mails."""
    return pd.DataFrame(
        {
            "Umsatz": ["1.200,50", "3,5", "1.000", "Select", "50k", "2 Mio"],
            "No. of Employees": ["1,200", "45", "1.5k", "N/A", "250", "12.5"],
            "Industry": ["Manufacturing", " MANUFACTURING ", "Retail   Trade", "Select", None, "retail trade"],
            "Newsletter": ["ja", "nein", "", "x", "TRUE", "0"],
            "Description": ["Wants a demo", "", "N/A", "  hi  ", None, "Pricing?"],
            "Email": ["jane@gmail.com", "max@acme-industries.de", "not an address", "--None--", None, "a@b"],
            "Lead Owner": ["Max", "Eva", "Max", "Eva", "Max", "Eva"],  # not mapped: ignored
        }
    )


@pytest.fixture
def builder() -> LeadFeatures:
    return LeadFeatures(COLUMNS).fit(messy_export())


# --- what the step declares ------------------------------------------------------------------------------------


def test_spec_names_and_inputs_are_known_before_fitting() -> None:
    step = LeadFeatures(COLUMNS)  # assemble_pipeline reads the spec of an unfitted step

    spec = step.feature_spec

    assert spec.numeric == (
        "umsatz",
        "no_of_employees",
        "newsletter",
        "description_length",
        "description_answered",
        "email_is_freemail",
        "email_has_valid_email",
        "email_is_competitor",
    )
    assert spec.categorical == ("industry",)
    assert spec.fit == (
        "umsatz",
        "no_of_employees",
        "industry",
        "email_is_freemail",
        "email_has_valid_email",
        "email_is_competitor",
    )
    assert spec.engagement == ("newsletter", "description_length", "description_answered")
    assert list(step.get_feature_names_out()) == list(spec.names)
    assert step.input_columns == ("Umsatz", "No. of Employees", "Industry", "Newsletter", "Description", "Email")
    assert step.input_roles["Email"] == "email"
    assert step.verbatim_columns == {"industry": "Industry"}
    assert step.feature_columns["email_is_freemail"] == "Email"
    # reasons name a column as the export spells it, a yes/no answer in words; derived features keep leadq's texts
    assert set(spec.texts) == {
        "umsatz",
        "no_of_employees",
        "industry",
        "newsletter",
        "description_length",
        "description_answered",
    }
    assert describe("no_of_employees", 1200.0, "en", spec.texts) == "No. of Employees: 1,200"
    assert describe("newsletter", 1.0, "de", spec.texts) == "Newsletter: ja"
    assert describe("newsletter", 0.0, "en", spec.texts) == "Newsletter: no"


def test_the_step_is_a_features_step() -> None:
    assert isinstance(LeadFeatures(COLUMNS), FeaturesStep)
    assert not isinstance(object(), FeaturesStep)


def test_a_feature_name_given_twice_is_refused() -> None:
    clash = (*COLUMNS, InputColumn("Länge", "numeric", "description_length", "fit"))

    with pytest.raises(ValueError, match=r"'Description' and 'Länge' both give the feature 'description_length'"):
        _ = LeadFeatures(clash).feature_spec
    with pytest.raises(ValueError, match="group 'who'"):
        InputColumn("Industry", "categorical", "industry", "who")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="role 'pii'"):
        InputColumn("Email", "pii", "email")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only a consent column gates"):
        InputColumn("Visits", "count", "visits", gates=("Email",))


# --- each role -----------------------------------------------------------------------------------------------


def test_messy_training_values_become_features(builder: LeadFeatures) -> None:
    features = builder.transform(messy_export())

    assert list(features.columns) == list(builder.feature_spec.names)
    assert builder.decimal_conventions_ == {"Umsatz": "comma", "No. of Employees": "point"}
    np.testing.assert_array_equal(features["umsatz"], [1200.5, 3.5, 1000.0, np.nan, 50_000.0, 2_000_000.0])
    np.testing.assert_array_equal(features["no_of_employees"], [1200.0, 45.0, 1500.0, np.nan, 250.0, 12.5])
    assert features["industry"].tolist()[:3] == ["manufacturing", "manufacturing", "retail trade"]
    assert features["industry"].isna().tolist() == [False, False, False, True, True, False]
    np.testing.assert_array_equal(features["newsletter"], [1.0, 0.0, np.nan, 1.0, 1.0, 0.0])
    assert features["description_length"].tolist() == [12.0, 0.0, 0.0, 2.0, 0.0, 8.0]
    assert features["description_answered"].tolist() == [1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    assert features["email_is_freemail"].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert features["email_has_valid_email"].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert features["umsatz"].dtype == "float64"
    assert pd.api.types.is_string_dtype(features["industry"])
    assert not features.astype(str).apply(lambda column: column.str.contains("@")).any().any()


def test_scoring_values_are_read_with_the_fitted_decimal_convention(builder: LeadFeatures) -> None:
    leads = pd.DataFrame({"Umsatz": ["1.200", "1,5", "2.000.000", "€ 3,25 Mio"], "No. of Employees": ["1,200"] * 4})

    features = builder.transform(leads)

    np.testing.assert_array_equal(features["umsatz"], [1200.0, 1.5, 2_000_000.0, 3_250_000.0])
    assert features["no_of_employees"].eq(1200.0).all()  # the point column reads "1,200" as thousands


def test_a_column_without_decimals_in_training_reads_a_decimal_by_its_own_separator() -> None:
    step = LeadFeatures((InputColumn("Visits", "numeric", "visits"),)).fit(pd.DataFrame({"Visits": ["3", "12"]}))

    features = step.transform(pd.DataFrame({"Visits": ["1,5", "2.75", "7"]}))

    assert step.decimal_conventions_ == {"Visits": "none"}
    assert features["visits"].tolist() == [1.5, 2.75, 7.0]


@pytest.mark.parametrize("training", [["1,5", "2"], ["1.5", "2"], ["1", "2"]], ids=["comma", "point", "none"])
def test_many_distinct_numbers_read_at_once_as_each_read_on_its_own(training: list[str]) -> None:
    step = LeadFeatures((InputColumn("Umsatz", "numeric", "umsatz"),), placeholders=("", "999")).fit(
        pd.DataFrame({"Umsatz": training})
    )
    rng = np.random.default_rng(3)
    spellings = ["1.200", "3.75", "-2", "999", "1,5", "50k", " 12 ", "n/a", None]
    values = [f"{rng.integers(0, 10_000) / 100}" for _ in range(300)] + spellings
    keys = step.placeholder_keys_
    convention = step.decimal_conventions_["Umsatz"]

    features = step.transform(pd.DataFrame({"Umsatz": values}))

    expected = [number_as_read(value, convention, keys) for value in values]
    np.testing.assert_array_equal(features["umsatz"].to_numpy(), np.array(expected, dtype=float))
    assert np.isnan(features["umsatz"].iloc[-6])  # "999": a placeholder, even though plain


COUNT = (InputColumn("Website Visits", "count", "website_visits", "engagement"),)


def test_a_count_refuses_negatives_in_training_and_reads_them_as_unknown_when_scoring() -> None:
    with pytest.raises(CleaningError, match=r"Website Visits: a count cannot be negative, got \[-3.0\]"):
        LeadFeatures(COUNT).fit(pd.DataFrame({"Website Visits": ["2", "-3", "5"]}))
    with pytest.raises(CleaningError, match="a count cannot be negative"):
        LeadFeatures(COUNT).fit(pd.DataFrame({"Website Visits": [2.0, -1.0]}))  # numbers, as from Parquet
    step = LeadFeatures(COUNT).fit(pd.DataFrame({"Website Visits": ["2", "0", "5"]}))

    features = step.transform(pd.DataFrame({"Website Visits": ["-4", "3", None, "many"]}))

    np.testing.assert_array_equal(features["website_visits"], [np.nan, 3.0, np.nan, np.nan])


def test_categories_are_trimmed_collapsed_casefolded_and_placeholders_missing() -> None:
    step = LeadFeatures((InputColumn("Sector", "categorical", "sector"),), placeholders=("Select", "n/a"))
    rows = pd.DataFrame({"Sector": ["  Financial   Services ", "SELECT", "N/A", "", None, 12.0, "IT", "28.0", 28]})

    sectors = step.fit(rows).transform(rows)["sector"]

    assert sectors.iloc[0] == "financial services"
    assert sectors.iloc[1:5].isna().all()
    assert sectors.iloc[5] == "12"  # a code read as a float is the code a request sends
    assert sectors.iloc[6] == "it"
    assert sectors.iloc[7] == sectors.iloc[8] == "28"  # and the text a float column was written as


@pytest.mark.parametrize(
    ("value", "expected"),
    [("yes", 1.0), ("Ja", 1.0), ("TRUE", 1.0), ("x", 1.0), ("1", 1.0), (True, 1.0), (1, 1.0), ("nein", 0.0),
     ("false", 0.0), ("0", 0.0), (False, 0.0), (0.0, 0.0), ("vielleicht", np.nan), ("", np.nan), (None, np.nan)],
)  # fmt: skip
def test_booleans_read_yes_no_words_in_english_and_german(value: object, expected: float) -> None:
    step = LeadFeatures((InputColumn("Demo", "boolean", "demo"),)).fit(pd.DataFrame({"Demo": ["ja", "nein"]}))

    features = step.transform(pd.DataFrame({"Demo": [value]}, dtype=object))

    np.testing.assert_array_equal(features["demo"], [expected])


def test_text_gives_length_and_answered_only() -> None:
    step = LeadFeatures((InputColumn("Notes", "text", "notes"),))
    rows = pd.DataFrame({"Notes": ["Call me back", "  ", None, "N/A"]})

    features = step.fit(rows).transform(rows)

    assert list(features.columns) == ["notes_length", "notes_answered"]
    assert features["notes_length"].tolist() == [12.0, 0.0, 0.0, 0.0]
    assert features["notes_answered"].tolist() == [1.0, 0.0, 0.0, 0.0]


EMAIL = (InputColumn("E-Mail", "email", "e_mail"),)


def test_email_gives_flags_only_with_extra_freemail_and_competitor_domains() -> None:
    emails = [" Jane.Doe@GMAIL.com ", "j.doe@acme.de", "x@eu.rivalsoft.de", "a@mymail.example", "not-an-email", None]
    rows = pd.DataFrame({"E-Mail": emails})
    step = LeadFeatures(EMAIL, extra_freemail_domains=("MyMail.example",), competitor_domains=("rivalsoft.de",))

    features = step.fit(rows).transform(rows)

    assert list(features.columns) == ["e_mail_is_freemail", "e_mail_has_valid_email", "e_mail_is_competitor"]
    assert features["e_mail_is_freemail"].tolist() == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert features["e_mail_is_competitor"].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert features["e_mail_has_valid_email"].tolist() == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    without_competitors = LeadFeatures(EMAIL).fit(rows).transform(rows)  # the same features, whatever the settings
    assert list(without_competitors.columns) == list(features.columns)
    assert without_competitors["e_mail_is_competitor"].eq(0.0).all()


MESSY_EMAILS = [
    " Jane.Doe@GMAIL.com ",
    "JOHN@ACME.DE",
    "j doe@acme.de",  # a space in the local part: not valid
    "x@eu.rivalsoft.de",
    "x@rivalsoft.de",
    "x@notrivalsoft.de",
    "a@mymail.example",
    "not-an-email",
    "gmail.com",  # no @: the whole text is the domain
    "a@b@gmail.com",  # several @: split at the last
    "@gmail.com",
    "a@",
    "a@gmail",
    "a@-x.de",
    "a@x..de",
    "\x1c a@web.de \x1f\x0b",  # str.strip's ASCII whitespace beyond RE2's
    "a\x0bb@web.de",
    "a\nb@web.de",
    "\x00@x.de",
    "müller@gmx.de",  # non-ASCII: the per-value path
    "a@GMAİL.com",
    "\u2003a@web.de\u2003",
    "ß@straße.de",
    "",
    "   ",
    "N/A",
    " n/a ",
    "Select",
    "SELECT",
    None,
    np.nan,
    pd.NA,
    42,
    4.5,
    True,
]


def test_email_flags_of_many_leads_equal_the_per_value_rule_on_messy_addresses() -> None:
    # Above 64 leads the flags come from pyarrow's string kernels for ASCII text; they must equal email_flags.
    step = LeadFeatures(EMAIL, extra_freemail_domains=("MyMail.example",), competitor_domains=("rivalsoft.de", "b"))
    step.fit(pd.DataFrame({"E-Mail": ["a@b.de", "c@d.de"]}))
    values = np.array(MESSY_EMAILS * 3, dtype=object)
    names = ["e_mail_is_freemail", "e_mail_is_competitor", "e_mail_has_valid_email"]

    many = step.arrays_from_columns({"E-Mail": values}, len(values))
    one_by_one = [step.arrays_from_columns({"E-Mail": np.array([value], dtype=object)}, 1) for value in values]

    for name in names:
        expected = np.array([single[name][0] for single in one_by_one])
        assert many[name].dtype == np.float64
        assert many[name].tolist() == expected.tolist(), name
    assert many["e_mail_is_freemail"][:3].tolist() == [1.0, 0.0, 0.0]
    assert many["e_mail_is_competitor"][3:6].tolist() == [1.0, 1.0, 0.0]
    assert many["e_mail_has_valid_email"][:3].tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("title", "seniority", "function"),
    [
        ("CTO", "c_level", "it"),
        ("Geschäftsführer", "c_level", "executive"),
        ("VP Sales", "vp", "sales"),
        ("Head of IT", "director", "it"),
        ("Leiter Einkauf", "director", "procurement"),
        ("Vertriebsleiterin", "director", "sales"),  # German compounds put the function first
        ("Marketingleitung", "director", "marketing"),
        ("Teamleiter Vertrieb", "manager", "sales"),
        ("Projektleiter IT", "manager", "it"),
        ("  senior marketing MANAGER ", "manager", "marketing"),
        ("Werkstudent Marketing", "student_intern", "marketing"),
        ("Marketing Intern", "student_intern", "marketing"),
        ("Praktikant", "student_intern", "other"),
        ("Assistenz der Geschäftsführung", "individual", "executive"),
        ("Software Engineer", "individual", "it"),
        ("Controller", "other", "finance"),
        ("Astronaut", "other", "other"),
    ],
)
def test_job_titles_give_seniority_function_and_student_in_english_and_german(
    title: str, seniority: str, function: str
) -> None:
    step = LeadFeatures((InputColumn("Job Title", "job_title", "job_title"),))
    rows = pd.DataFrame({"Job Title": [title]})

    features = step.fit(rows).transform(rows)

    assert features.loc[0, "job_title_seniority"] == seniority
    assert features.loc[0, "job_title_function"] == function
    assert features.loc[0, "job_title_is_student_or_intern"] == float(seniority == "student_intern")
    assert "Job Title" not in features.columns


def test_a_title_seen_in_an_earlier_batch_gets_the_same_features_from_the_remembered_titles() -> None:
    step = LeadFeatures((InputColumn("Job Title", "job_title", "title"),)).fit(pd.DataFrame({"Job Title": ["x"]}))
    titles = ["Head of Marketing", "Werkstudent IT", None, "CEO", " ceo ", "Head of Marketing"]
    classify_title.cache_clear()
    first = step.transform(pd.DataFrame({"Job Title": titles}))
    hits = classify_title.cache_info().hits
    second = step.transform(pd.DataFrame({"Job Title": titles[::-1]}))

    assert classify_title.cache_info().hits > hits  # the second batch's titles were remembered
    pd.testing.assert_frame_equal(second.iloc[::-1].reset_index(drop=True), first)
    assert first.loc[0, "title_seniority"] == classify_title.__wrapped__("Head of Marketing")[0]
    assert classify_title.cache_info().maxsize == TITLES_KEPT  # bounded


def test_checked_yes_no_floats_are_read_as_themselves() -> None:
    # leadq score hands checked yes/no fields as 1.0/0.0/NaN: read as the values themselves, other floats as before
    step = LeadFeatures((InputColumn("Demo", "boolean", "demo"),)).fit(pd.DataFrame({"Demo": [True, False]}))
    for values in ([1.0, 0.0, np.nan, -0.0] * 30, [1.0, 2.0, np.nan, 0.5] * 30):
        floats = step.arrays_from_columns({"Demo": np.array(values)}, len(values))["demo"]
        objects = step.arrays_from_columns({"Demo": np.array(values, dtype=object)}, len(values))["demo"]
        np.testing.assert_array_equal(floats, objects)


def test_missing_job_titles_are_unknown_and_not_students() -> None:
    step = LeadFeatures((InputColumn("Job Title", "job_title", "title"),))
    rows = pd.DataFrame({"Job Title": [None, "   ", "Select"]})

    features = step.fit(rows).transform(rows)

    assert features[["title_seniority", "title_function"]].isna().all(axis=None)
    assert features["title_is_student_or_intern"].eq(0.0).all()
    assert set(step.feature_spec.categorical) == {"title_seniority", "title_function"}


# --- consent -------------------------------------------------------------------------------------------------

CONSENTED = (
    InputColumn("Tracking OK", "consent", "tracking_ok", gates=("Visits", "Email")),
    InputColumn("Visits", "count", "visits", "engagement"),
    InputColumn("Email", "email", "email"),
    InputColumn("Industry", "categorical", "industry"),
)


@pytest.fixture
def consented() -> LeadFeatures:
    rows = pd.DataFrame(
        {"Tracking OK": ["yes", "no"], "Visits": ["3", "4"], "Email": ["a@gmail.com", "b@x.de"], "Industry": ["IT"] * 2}
    )
    return LeadFeatures(CONSENTED).fit(rows)


def test_gated_features_are_unknown_unless_consent_is_a_clear_yes(consented: LeadFeatures) -> None:
    consent = ["yes", "ja", "no", None, "maybe", "", True, False]
    leads = pd.DataFrame(
        {"Tracking OK": consent, "Visits": "7", "Email": "jane@gmail.com", "Industry": "IT"}, dtype=object
    )

    features = consented.transform(leads)

    given = np.array([True, True, False, False, False, False, True, False])
    gated = ["visits", "email_is_freemail", "email_has_valid_email", "email_is_competitor"]
    assert features.loc[given, gated].notna().all(axis=None)
    assert features.loc[~given, gated].isna().all(axis=None)
    assert features["industry"].eq("it").all()  # not gated: used whatever the consent


def test_consent_is_not_a_feature_and_never_moves_one_by_itself(consented: LeadFeatures) -> None:
    nothing_gated = pd.DataFrame({"Visits": [None, None], "Email": [None, None], "Industry": ["IT", "IT"]})

    given = consented.transform(nothing_gated.assign(**{"Tracking OK": "yes"}))
    withheld = consented.transform(nothing_gated.assign(**{"Tracking OK": "no"}))

    assert not any(name.startswith("tracking_ok") for name in consented.feature_spec.names)
    assert "Tracking OK" in consented.input_columns  # read to gate, never turned into a feature
    assert consented.input_roles["Tracking OK"] == "consent"
    pd.testing.assert_frame_equal(given[["visits", "industry"]], withheld[["visits", "industry"]])


def test_unreadable_consent_in_training_is_refused() -> None:
    rows = pd.DataFrame(
        {"Tracking OK": ["yes", "perhaps"], "Visits": ["1", "2"], "Email": [None] * 2, "Industry": ["IT"] * 2}
    )

    with pytest.raises(CleaningError, match="Tracking OK"):
        LeadFeatures(CONSENTED).fit(rows)


# --- training is strict, scoring lenient -----------------------------------------------------------------------


def test_unreadable_scoring_values_become_missing_without_an_error(builder: LeadFeatures) -> None:
    leads = pd.DataFrame(
        {"Umsatz": ["lots", "1.5"], "Newsletter": ["vielleicht", True], "Industry": [12.0, "   "], "Email": [3, "x"]}
    )

    features = builder.transform(leads)

    assert features["umsatz"].isna().all()  # "1.5" contradicts the comma convention training decided
    assert np.isnan(features.loc[0, "newsletter"])
    assert features.loc[1, "newsletter"] == 1.0
    assert features.loc[0, "industry"] == "12"
    assert pd.isna(features.loc[1, "industry"])
    assert features[["email_is_freemail", "email_has_valid_email"]].eq(0.0).all().all()


def test_absent_input_columns_are_all_missing(builder: LeadFeatures) -> None:
    leads = pd.DataFrame({"Unrelated": [1, 2]}, index=pd.Index(["L1", "L2"], name="lead_id"))

    features = builder.transform(leads)

    assert list(features.index) == ["L1", "L2"]
    assert features[["umsatz", "no_of_employees", "newsletter"]].isna().all().all()
    assert features["industry"].isna().all()
    assert features[["description_length", "description_answered"]].eq(0.0).all().all()
    assert features[["email_is_freemail", "email_has_valid_email"]].eq(0.0).all().all()


def test_unreadable_training_values_are_refused_naming_the_column() -> None:
    unreadable_numbers = messy_export().assign(Umsatz=["lots", "1,5", "2", "3", "4", "5"])
    unreadable_booleans = messy_export().assign(Newsletter=["vielleicht", "ja", "nein", "ja", "ja", "nein"])

    with pytest.raises(CleaningError, match=r"'Umsatz'.*'lots'"):
        LeadFeatures(COLUMNS).fit(unreadable_numbers)
    with pytest.raises(CleaningError, match=r"'Newsletter'.*'vielleicht'"):
        LeadFeatures(COLUMNS).fit(unreadable_booleans)
    with pytest.raises(ValueError, match=r"\['Email'\] are not in the training rows"):
        LeadFeatures(COLUMNS).fit(messy_export().drop(columns="Email"))


def test_outcome_columns_and_unknown_fields_change_nothing(builder: LeadFeatures) -> None:
    leads = messy_export()
    leaked = leads.assign(Converted=["1", "0", "1", "0", "1", "0"], Stage="Closed Won", Amount="9.000")

    pd.testing.assert_frame_equal(builder.transform(leaked), builder.transform(leads))


def test_input_is_not_modified(builder: LeadFeatures) -> None:
    leads = messy_export()
    before = leads.copy()

    builder.transform(leads)
    LeadFeatures(COLUMNS).fit(leads)

    pd.testing.assert_frame_equal(leads, before)


# --- the online path: records without a DataFrame --------------------------------------------------------------

REQUESTS: list[dict[str, Any]] = [
    {
        "Umsatz": "1.200",
        "No. of Employees": 800,
        "Industry": "Manufacturing",
        "Newsletter": True,
        "Description": "Call me",
        "Email": "x@gmail.com",
    },
    {"Umsatz": 2.5, "No. of Employees": "50k", "Industry": " RETAIL trade", "Newsletter": "nein", "Email": None},
    {"Umsatz": None, "No. of Employees": None, "Industry": 7, "Newsletter": 1, "Description": "N/A", "Email": "bad"},
    {"Umsatz": "n/a", "Industry": "Select", "Newsletter": False, "Description": "", "Email": "y@firm.de"},
    {"Umsatz": "lots", "No. of Employees": True, "Industry": None, "Newsletter": "?", "Description": 42},
]


@pytest.mark.parametrize("copies", [1, 100])  # a request, and a batch large enough for pandas' factorize
def test_arrays_from_request_records_equal_transform(builder: LeadFeatures, copies: int) -> None:
    records = REQUESTS * copies

    arrays = builder.arrays_from_columns(columns_from_records(records, builder.input_columns), len(records))

    names = list(builder.feature_spec.names)
    assert sorted(arrays) == sorted(names)
    from_arrays = pd.DataFrame(arrays)[names]
    pd.testing.assert_frame_equal(from_arrays, builder.transform(pd.DataFrame(records)), check_dtype=False)
    assert from_arrays.loc[0, "umsatz"] == 1200.0
    assert from_arrays.loc[1, "no_of_employees"] == 50_000.0
    assert from_arrays.loc[2, "industry"] == "7"


def test_columns_of_frame_gives_none_for_absent_columns() -> None:
    frame = pd.DataFrame({"A": [1, 2], "B": ["x", None]})

    for rows in (frame, pd.concat([frame] * 200, ignore_index=True)):  # the small and the large path
        columns = columns_of_frame(rows, ["B", "Missing"])
        assert columns["Missing"] is None
        assert columns["B"] is not None
        assert columns["B"][0] == "x"
        assert pd.isna(columns["B"][1])


def test_one_lead_at_a_time_gives_the_same_features_as_a_batch(synthetic_crm) -> None:  # type: ignore[no-untyped-def]
    from tests.builders import demo_mapping

    leads = synthetic_crm.leads.head(600)
    step = LeadFeatures(demo_mapping().input_columns(), competitor_domains=("rivalsoft.de",)).fit(leads)

    batch = step.transform(leads)
    one_by_one = pd.concat([step.transform(leads.iloc[[i]]) for i in range(0, 600, 7)])

    pd.testing.assert_frame_equal(one_by_one, batch.iloc[::7], check_dtype=False)


@pytest.mark.parametrize("size", [1, 5, 200])
def test_factorize_values_matches_pandas_for_small_and_large_inputs(size: int) -> None:
    pool = np.array(["Software", None, "Retail", np.nan, "software", pd.NA, "Retail"], dtype=object)
    values = np.resize(pool, size)
    codes, uniques = factorize_values(values)
    expected_codes, expected_uniques = pd.factorize(values, use_na_sentinel=True)
    assert list(uniques) == list(expected_uniques)
    np.testing.assert_array_equal(codes, expected_codes)


# --- the estimator contract ------------------------------------------------------------------------------------


def test_clone_round_trip_and_params(builder: LeadFeatures) -> None:
    fresh = clone(builder)

    assert fresh.get_params() == builder.get_params()
    assert set(fresh.get_params()) == {"columns", "placeholders", "extra_freemail_domains", "competitor_domains"}
    assert not hasattr(fresh, "decimal_conventions_")
    pd.testing.assert_frame_equal(
        fresh.fit(messy_export()).transform(messy_export()), builder.transform(messy_export())
    )
    changed = clone(builder).set_params(competitor_domains=("acme-industries.de",))
    assert changed.fit(messy_export()).transform(messy_export())["email_is_competitor"].tolist() == [0, 1, 0, 0, 0, 0]


def test_only_fitted_attributes_end_in_an_underscore(builder: LeadFeatures) -> None:
    params = set(builder.get_params())
    learned = set(vars(builder)) - params

    assert learned
    assert all(name.endswith("_") and not name.startswith("_") for name in learned)
    assert not any(name.endswith("_") for name in vars(LeadFeatures(COLUMNS)))  # __init__ only stores parameters


def test_joblib_round_trip(builder: LeadFeatures, tmp_path: Path) -> None:
    path = tmp_path / "builder.joblib"
    joblib.dump(builder, path)

    loaded = joblib.load(path)

    pd.testing.assert_frame_equal(loaded.transform(messy_export()), builder.transform(messy_export()))


# --- a real pipeline ---------------------------------------------------------------------------------------------


def _converting_export(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Export-like text columns where manufacturing, bigger companies and webinar visits convert more."""
    rng = np.random.default_rng(seed)
    industry = rng.choice(["Manufacturing", "MANUFACTURING ", "Retail", "Finance", "Select"], n)
    employees = rng.integers(5, 5000, n)
    visits = rng.poisson(2, n)
    logit = -1.0 + 1.5 * np.char.startswith(np.char.lower(industry), "manu") + employees / 2500 + 0.4 * visits
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))
    export = pd.DataFrame(
        {
            "Industry": industry,
            "No. of Employees": [f"{e:,}".replace(",", ".") for e in employees],  # German thousands
            "Webinar Visits": visits.astype(str),
            "Opt-in": rng.choice(["ja", "nein", ""], n),
            "Notes": rng.choice(["", "Wants pricing", "N/A"], n),
            "Email": np.where(rng.random(n) < 0.3, "a@gmail.com", "b@firm.de"),
        }
    )
    return export, y


def test_a_real_pipeline_fits_and_explains_requests_in_the_crms_spelling() -> None:
    columns = (
        InputColumn("Industry", "categorical", "industry", "fit"),
        InputColumn("No. of Employees", "numeric", "no_of_employees", "fit"),
        InputColumn("Webinar Visits", "count", "webinar_visits", "engagement"),
        InputColumn("Opt-in", "boolean", "opt_in", "engagement"),
        InputColumn("Notes", "text", "notes", "engagement"),
        InputColumn("Email", "email", "email", "fit"),
    )
    export, y = _converting_export(600)
    params = BoosterParams(max_trees=20, learning_rate=0.3, min_child_samples=10, min_category_share=0.01)
    model = assemble_pipeline(LeadFeatures(columns), params, {"webinar_visits": 1})
    fit_model(model, export[:450], y[:450], export[450:], y[450:], early_stopping_rounds=5)
    records = [
        {"Industry": "MANUFACTURING ", "No. of Employees": "4.000", "Webinar Visits": 5, "Email": "c@firm.de"},
        {"Industry": "Retail", "No. of Employees": 20, "Webinar Visits": "0", "Opt-in": "nein", "Notes": ""},
    ]

    explained = contributions_of_records(model, records)
    reasons = top_reasons(explained, top_k=len(explained.spec.names))

    assert feature_spec_of(model) == model.named_steps["features"].feature_spec
    probabilities = model.predict_proba(pd.DataFrame(records))[:, 1]
    np.testing.assert_allclose(explained.raw_score, np.log(probabilities / (1 - probabilities)), rtol=1e-6)
    assert explained.raw_score[0] > explained.raw_score[1]
    industry = {
        row: next(reason for reason in [*positive, *negative] if reason.feature == "industry")
        for row, (positive, negative) in enumerate(reasons)
    }
    assert industry[0].value == "MANUFACTURING "  # as the request spelt it; the model saw "manufacturing"
    assert industry[0].label == "Industry: MANUFACTURING "
    assert industry[0].impact > 0
    assert industry[1].value == "Retail"
    assert explained.arrays["industry"].tolist() == ["manufacturing", "retail"]
    assert "webinar_visits" in explained.spec.engagement
    assert not any("@" in str(value) for values in explained.arrays.values() for value in values)


@pytest.mark.parametrize("n", [7, 300])  # a request's few leads (a dict) and a batch (pandas' hash table)
def test_the_categories_factorizations_encode_as_hashing_them_again(n: int) -> None:
    # arrays_from_columns hands the category features' factorizations to encode_arrays: the same matrix as
    # encode_arrays factorizing the features itself, with missing, placeholder, "nan" and unseen categories, job
    # titles, and a category gated by a consent
    columns = (
        InputColumn("Industry", "categorical", "industry", "fit"),
        InputColumn("Source", "categorical", "source", "engagement"),
        InputColumn("Title", "job_title", "title", "fit"),
        InputColumn("Tracking", "consent", "tracking", gates=("Source",)),
        InputColumn("Visits", "count", "visits", "engagement"),
    )
    rng = np.random.default_rng(5)
    train = pd.DataFrame(
        {
            "Industry": rng.choice(["Retail", "IT", "nan", "Finance"], 400),
            "Source": rng.choice(["Web", "Fair", "Ads"], 400),
            "Title": rng.choice(["CEO", "Head of Sales", "Werkstudent", "Engineer"], 400),
            "Tracking": rng.choice(["yes", "no"], 400),
            "Visits": rng.integers(0, 9, 400).astype(str),
        }
    )
    y = pd.Series(rng.integers(0, 2, 400))
    params = BoosterParams(max_trees=10, learning_rate=0.3, min_child_samples=10, min_category_share=0.01)
    model = assemble_pipeline(LeadFeatures(columns), params, {})
    fit_model(model, train[:300], y[:300], train[300:], y[300:], early_stopping_rounds=5)
    step, encode = model.named_steps["features"], model.named_steps["encode"]
    messy = {
        "Industry": [" retail ", "IT", None, "Select", "NaN", "nan", "Mining", float("nan"), 12, "RETAIL"],
        "Source": ["Web", "Fair", None, "Ads", "Web", "Radio", "fair ", "Web", "Ads", "Web"],
        "Title": ["CEO", None, "ceo ", "Werkstudent IT", "", "Chief", "Head of Sales", "N/A", "CEO", "x"],
        "Tracking": ["yes", "no", "yes", None, "ja", "no", "yes", "yes", "maybe", "yes"],
    }
    leads = {column: np.array((values * n)[:n], dtype=object) for column, values in messy.items()}

    factorized: dict[str, Any] = {}
    features = step.arrays_from_columns(leads, n, factorized)

    assert set(factorized) == {"industry", "title_seniority", "title_function"}  # gated "source" is left out
    np.testing.assert_array_equal(encode.encode_arrays(features, factorized), encode.encode_arrays(features))
    pd.testing.assert_frame_equal(pd.DataFrame(features), pd.DataFrame(step.arrays_from_columns(leads, n)))


def test_a_checkbox_column_reads_a_blank_as_no_and_others_as_unknown() -> None:
    columns = (
        InputColumn("Webinar besucht", "boolean", "webinar", "engagement", blank_is_no=True),
        InputColumn("Newsletter", "boolean", "newsletter", "engagement"),
    )
    training = pd.DataFrame({"Webinar besucht": ["x", None, "x"], "Newsletter": ["ja", None, "nein"]})

    features = LeadFeatures(columns).fit(training).transform(training)

    assert features["webinar"].tolist() == [1.0, 0.0, 1.0]
    assert features["newsletter"].isna().tolist() == [False, True, False]
    with pytest.raises(ValueError, match="only a yes/no column reads a blank as no"):
        InputColumn("Industry", "categorical", "industry", blank_is_no=True)


# --- multi-select picklists ---------------------------------------------------------------------------------------

INTERESTS = InputColumn(
    "Interessen",
    "multi_select",
    "interessen",
    "fit",
    options=(("ERP", "interessen_erp"), ("CRM", "interessen_crm"), ("Business Intelligence", "interessen_bi")),
)


def test_a_multi_select_cell_gives_a_yes_or_no_per_option_in_any_order_case_and_spacing() -> None:
    cells = ["ERP; CRM", "crm;erp", " business   intelligence ;ERP", "Sonstiges; ERP", "", None, "N/A", ";", 7]
    builder = LeadFeatures((INTERESTS,)).fit(pd.DataFrame({"Interessen": cells}))

    features = builder.transform(pd.DataFrame({"Interessen": cells}))

    assert list(features.columns) == ["interessen_erp", "interessen_crm", "interessen_bi"]
    assert features.to_numpy().tolist() == [
        [1, 1, 0],
        [1, 1, 0],
        [1, 0, 1],
        [1, 0, 0],  # an option the mapping does not list: left out
        *[[0, 0, 0]] * 5,  # nothing chosen: empty, missing, a placeholder, only the separator, a value of no option
    ]
    online = builder.arrays_from_columns(columns_from_records([{"Interessen": "CRM ;ERP"}], ["Interessen"]), 1)
    assert [online[feature][0] for feature in features.columns] == [1.0, 1.0, 0.0]


def test_a_multi_select_columns_separator_is_its_own() -> None:
    tags = InputColumn("TAGS", "multi_select", "tags", options=(("Webinar", "tags_webinar"),), separator=",")
    cells = pd.DataFrame({"TAGS": ["Ebook, Webinar", "Webinar; Ebook"]})

    features = LeadFeatures((tags,)).fit(cells).transform(cells)

    assert features["tags_webinar"].tolist() == [1.0, 0.0]  # "Webinar; Ebook" is one option, unknown, under ","


def test_a_free_text_columns_features_read_as_reasons_in_the_exports_words() -> None:
    # fuzz20 L4: "Titre de l affaire length", from the feature's name, lost the apostrophe
    title = InputColumn("Titre de l'affaire", "text", "titre_de_l_affaire")
    spec = LeadFeatures((title,)).feature_spec

    assert describe("titre_de_l_affaire_length", 42.0, "en", spec.texts) == "Titre de l'affaire length: 42 characters"
    assert describe("titre_de_l_affaire_length", 42.0, "de", spec.texts) == "Titre de l'affaire Länge: 42 Zeichen"
    assert describe("titre_de_l_affaire_answered", 1.0, "en", spec.texts) == "Titre de l'affaire: filled in"
    assert describe("titre_de_l_affaire_answered", 0.0, "de", spec.texts) == "Titre de l'affaire: leer"


def test_a_multi_select_option_reads_as_a_reason_in_the_exports_words() -> None:
    spec = LeadFeatures((INTERESTS,)).feature_spec

    assert spec.numeric == ("interessen_erp", "interessen_crm", "interessen_bi")
    assert describe("interessen_bi", 1.0, "en", spec.texts) == "Interessen: Business Intelligence"
    assert describe("interessen_bi", 0.0, "en", spec.texts) == "Interessen: not Business Intelligence"
    assert describe("interessen_erp", 0.0, "de", spec.texts) == "Interessen: nicht ERP"


@pytest.mark.parametrize(
    ("role", "options"), [("multi_select", ()), ("categorical", (("A", "industry_a"),))], ids=["without", "beside"]
)
def test_only_a_multi_select_column_has_options_and_it_needs_them(role: Any, options: Any) -> None:
    with pytest.raises(ValueError, match="a multi_select column needs options, and only it has them"):
        InputColumn("Interessen", role, "interessen", options=options)
