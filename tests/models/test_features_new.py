"""The features step of a model trained on a mapped CRM export: rules, fitted parsing, scoring leniency, the
online path, persistence, and a real (tiny) LightGBM pipeline explained in the CRM's spelling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from models.mapped_features import MappedColumn, MappedFeatureBuilder
from sklearn.base import clone

from models.cleaning import CleaningError
from models.explanations import contributions_of_records, top_reasons
from models.features import columns_from_records
from models.pipeline import BoosterParams, assemble_pipeline, fit_model

COLUMNS = (
    MappedColumn("Umsatz", "numeric", "umsatz", "fit"),  # German export: 1.200,50
    MappedColumn("No. of Employees", "numeric", "no_of_employees", "fit"),
    MappedColumn("Industry", "categorical", "industry", "fit"),
    MappedColumn("Newsletter", "boolean", "newsletter", "engagement"),
    MappedColumn("Description", "text", "description", "engagement"),
    MappedColumn("Email", "pii", "email", "fit"),
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
def builder() -> MappedFeatureBuilder:
    return MappedFeatureBuilder(COLUMNS).fit(messy_export())


def test_spec_names_and_inputs() -> None:
    step = MappedFeatureBuilder(COLUMNS)  # all of it known before fitting (assemble_pipeline reads the spec)

    spec = step.feature_spec

    assert spec.numeric == (
        "umsatz",
        "no_of_employees",
        "newsletter",
        "description_length",
        "description_answered",
        "email_is_freemail",
        "email_has_valid_email",
    )
    assert spec.categorical == ("industry",)
    assert spec.fit == ("umsatz", "no_of_employees", "industry", "email_is_freemail", "email_has_valid_email")
    assert spec.engagement == ("newsletter", "description_length", "description_answered")
    assert list(step.get_feature_names_out()) == list(spec.names)
    assert step.input_columns == ("Umsatz", "No. of Employees", "Industry", "Newsletter", "Description", "Email")
    assert step.verbatim_columns == {"industry": "Industry"}


def test_competitor_domains_add_a_competitor_flag() -> None:
    step = MappedFeatureBuilder(COLUMNS, competitor_domains=("acme-industries.de",)).fit(messy_export())

    features = step.transform(messy_export())

    assert "email_is_competitor" in step.feature_spec.numeric
    assert features["email_is_competitor"].tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]


def test_a_feature_name_given_twice_is_refused() -> None:
    clash = (*COLUMNS, MappedColumn("Länge", "numeric", "description_length", "fit"))

    with pytest.raises(ValueError, match=r"'Description' and 'Länge' both give the feature 'description_length'"):
        _ = MappedFeatureBuilder(clash).feature_spec
    with pytest.raises(ValueError, match="group 'who'"):
        MappedColumn("Industry", "categorical", "industry", "who")  # type: ignore[arg-type]


def test_messy_training_values_become_features(builder: MappedFeatureBuilder) -> None:
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
    assert pd.api.types.is_string_dtype(features["industry"])  # str (pandas 3) or object, as LeadFeatureBuilder
    assert not features.astype(str).apply(lambda column: column.str.contains("@")).any().any()


def test_scoring_values_are_read_with_the_fitted_decimal_convention(builder: MappedFeatureBuilder) -> None:
    leads = pd.DataFrame({"Umsatz": ["1.200", "1,5", "2.000.000", "€ 3,25 Mio"], "No. of Employees": ["1,200"] * 4})

    features = builder.transform(leads)

    np.testing.assert_array_equal(features["umsatz"], [1200.0, 1.5, 2_000_000.0, 3_250_000.0])
    assert features["no_of_employees"].eq(1200.0).all()  # the point column reads "1,200" as thousands


def test_unreadable_scoring_values_become_missing_without_an_error(builder: MappedFeatureBuilder) -> None:
    leads = pd.DataFrame(
        {"Umsatz": ["lots", "1.5"], "Newsletter": ["vielleicht", True], "Industry": [12.0, "   "], "Email": [3, "x"]}
    )

    features = builder.transform(leads)

    assert features["umsatz"].isna().all()  # "1.5" contradicts the comma convention training decided
    assert np.isnan(features.loc[0, "newsletter"])
    assert features.loc[1, "newsletter"] == 1.0
    assert features.loc[0, "industry"] == "12"  # a code read as a float is the code a request sends
    assert pd.isna(features.loc[1, "industry"])
    assert features[["email_is_freemail", "email_has_valid_email"]].eq(0.0).all().all()


def test_absent_input_columns_are_all_missing(builder: MappedFeatureBuilder) -> None:
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
        MappedFeatureBuilder(COLUMNS).fit(unreadable_numbers)
    with pytest.raises(CleaningError, match=r"'Newsletter'.*'vielleicht'"):
        MappedFeatureBuilder(COLUMNS).fit(unreadable_booleans)
    with pytest.raises(ValueError, match=r"\['Email'\] are not in the training rows"):
        MappedFeatureBuilder(COLUMNS).fit(messy_export().drop(columns="Email"))


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
def test_arrays_from_request_columns_equal_transform(builder: MappedFeatureBuilder, copies: int) -> None:
    records = REQUESTS * copies

    arrays = builder.arrays_from_columns(columns_from_records(records, builder.input_columns), len(records))

    names = list(builder.feature_spec.names)
    assert sorted(arrays) == sorted(names)
    from_arrays = pd.DataFrame(arrays)[names]
    pd.testing.assert_frame_equal(from_arrays, builder.transform(pd.DataFrame(records)), check_dtype=False)
    assert from_arrays.loc[0, "umsatz"] == 1200.0
    assert from_arrays.loc[1, "no_of_employees"] == 50_000.0
    assert from_arrays.loc[2, "industry"] == "7"


def test_clone_and_joblib_round_trip(builder: MappedFeatureBuilder, tmp_path: Path) -> None:
    fresh = clone(builder)
    path = tmp_path / "builder.joblib"
    joblib.dump(builder, path)
    loaded = joblib.load(path)

    assert fresh.get_params() == builder.get_params()
    assert not hasattr(fresh, "decimal_conventions_")
    expected = builder.transform(messy_export())
    pd.testing.assert_frame_equal(loaded.transform(messy_export()), expected)
    pd.testing.assert_frame_equal(fresh.fit(messy_export()).transform(messy_export()), expected)


def synthetic_export(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
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
        MappedColumn("Industry", "categorical", "industry", "fit"),
        MappedColumn("No. of Employees", "numeric", "no_of_employees", "fit"),
        MappedColumn("Webinar Visits", "numeric", "webinar_visits", "engagement"),
        MappedColumn("Opt-in", "boolean", "opt_in", "engagement"),
        MappedColumn("Notes", "text", "notes", "engagement"),
        MappedColumn("Email", "pii", "email", "fit"),
    )
    export, y = synthetic_export(600)
    params = BoosterParams(max_trees=20, learning_rate=0.3, min_child_samples=10, min_category_share=0.01)
    model = assemble_pipeline(MappedFeatureBuilder(columns), params, {"webinar_visits": 1})
    fit_model(model, export[:450], y[:450], export[450:], y[450:], early_stopping_rounds=5)
    records = [
        {"Industry": "MANUFACTURING ", "No. of Employees": "4.000", "Webinar Visits": 5, "Email": "c@firm.de"},
        {"Industry": "Retail", "No. of Employees": 20, "Webinar Visits": "0", "Opt-in": "nein", "Notes": ""},
    ]

    explained = contributions_of_records(model, records)
    reasons = top_reasons(explained, top_k=len(explained.spec.names))

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
