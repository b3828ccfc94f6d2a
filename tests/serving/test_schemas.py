"""The request body built from a model's input fields and roles: each field typed by its role, by its export name."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from models.features import INPUT_ROLES
from serving.schemas import ExportNames, batch_in_model, lead_in_model

ROLES = {
    "No. of Employees": "count",
    "Annual Revenue": "numeric",
    "Demo Requested": "boolean",
    "Marketing OK": "consent",
    "Industry": "categorical",
    "Description": "text",
    "E-Mail": "email",
    "Job Title": "job_title",
    "Interessen": "multi_select",
}
LeadIn = lead_in_model(ROLES, placeholders=("Select", "unbekannt"))


def _refusal(field: str, value: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as raised:
        LeadIn.model_validate({"lead_id": "L1", field: value})
    errors = raised.value.errors()
    assert [error["loc"] for error in errors] == [(field,)]
    return errors[0]


def test_every_input_role_of_the_features_step_has_a_type() -> None:
    assert set(ROLES.values()) == set(INPUT_ROLES)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("No. of Employees", 1200),
        ("No. of Employees", 0),
        ("No. of Employees", "1.200"),
        ("No. of Employees", "50k"),
        ("No. of Employees", "10-50"),
        ("No. of Employees", "Select"),  # the export's word for missing
        ("No. of Employees", " unbekannt "),
        ("No. of Employees", ""),
        ("Annual Revenue", -2.5),
        ("Annual Revenue", "€ 10.000"),
        ("Annual Revenue", "about a million"),  # numeric text is read by the model, unknown if unreadable
        ("Demo Requested", True),
        ("Demo Requested", 0),
        ("Demo Requested", 1.0),
        ("Demo Requested", "Ja"),
        ("Demo Requested", "x"),
        ("Demo Requested", "Select"),
        ("Marketing OK", "no"),
        ("Industry", "  MANUFACTURING "),
        ("Industry", 12),  # a category code
        ("Description", "Bitte Rückruf wegen Preisen " * 50),
        ("E-Mail", "anna.mueller@acme-logistik.de"),
        ("E-Mail", "not an address"),  # scored as an invalid address, not refused
        ("Job Title", "Geschäftsführerin"),
        ("Interessen", "ERP; crm ;Sonstiges"),  # a multi-select picklist's options, as the export writes them
    ],
)
def test_values_an_export_holds_are_accepted_as_they_are(field: str, value: object) -> None:
    lead = LeadIn.model_validate({"lead_id": "L1", field: value})

    assert lead.scoring_record()[field] == value


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("No. of Employees", -1, "negative_count"),
        ("No. of Employees", "-3", "negative_count"),
        ("No. of Employees", "-1.5k", "negative_count"),
        ("No. of Employees", "many", "not_a_number"),
        ("No. of Employees", math.nan, "not_finite"),
        ("No. of Employees", math.inf, "not_finite"),
        ("No. of Employees", 10**400, "not_finite"),
        ("No. of Employees", True, "wrong_type"),
        ("Annual Revenue", -math.inf, "not_finite"),
        ("Annual Revenue", False, "wrong_type"),
        ("Annual Revenue", [1, 2], "wrong_type"),
        ("Demo Requested", "maybe", "not_yes_no"),
        ("Demo Requested", 2, "not_yes_no"),
        ("Demo Requested", math.nan, "not_yes_no"),
        ("Marketing OK", {"yes": True}, "wrong_type"),
        ("Industry", True, "wrong_type"),
        ("Industry", 1.5, "wrong_type"),
        ("Industry", "x" * 501, "too_long"),
        ("Description", "x" * 2_001, "too_long"),
        ("E-Mail", 42, "wrong_type"),
        ("E-Mail", "a" * 310 + "@example.de", "too_long"),
        ("Job Title", ["CEO"], "wrong_type"),
        ("Interessen", ["ERP", "CRM"], "wrong_type"),  # a list: the CRM writes the options as one text
        ("Interessen", "ERP; " * 500, "too_long"),
    ],
)
def test_values_no_export_holds_are_refused_naming_the_field_not_the_value(
    field: str, value: object, kind: str
) -> None:
    error = _refusal(field, value)

    assert error["type"] == kind
    assert not isinstance(value, str) or value[:20] not in str(error["msg"])


@pytest.mark.parametrize(
    ("convention", "value", "refused"),
    [
        ("point", "2,5", True),  # a decimal comma where the export writes a point: no count the model reads
        ("point", "1,200", False),
        ("comma", "2,5", False),
        ("comma", "1.200", False),
        ("none", "2,5", False),  # training never needed a separator: each value is read by its own
    ],
)
def test_a_count_is_read_by_the_decimal_separator_its_export_was_trained_with(
    convention: str, value: str, refused: bool
) -> None:
    lead_in = lead_in_model({"Visits": "count"}, decimal_conventions={"Visits": convention})

    if refused:
        with pytest.raises(ValidationError) as raised:
            lead_in.model_validate({"lead_id": "L1", "Visits": value})
        assert raised.value.errors()[0]["type"] == "not_a_number"
        assert "this export writes decimals with a point" in raised.value.errors()[0]["msg"]
    else:
        assert lead_in.model_validate({"lead_id": "L1", "Visits": value}).scoring_record()["Visits"] == value


def test_number_text_without_a_number_is_named_and_words_for_missing_are_missing() -> None:
    lead_in = lead_in_model(
        {"Revenue": "numeric", "Rate": "numeric", "Visits": "count", "Industry": "categorical"},
        placeholders=("k.A.",),
        decimal_conventions={"Revenue": "comma", "Rate": "point"},
    )

    lead = lead_in.model_validate(
        {"lead_id": "L1", "Revenue": "etwa eine Million", "Rate": "2,5", "Visits": "k.A.", "Industry": " K.A. "}
    )
    readable = lead_in.model_validate({"lead_id": "L2", "Revenue": "1.200,50", "Rate": "2.5", "Visits": 3})

    assert lead.unread_numbers() == ["Revenue", "Rate"]
    assert lead.missing_fields() == ["Visits", "Industry"]
    assert readable.unread_numbers() == []
    assert readable.missing_fields() == ["Industry"]


def test_the_record_holds_the_model_fields_by_export_name_and_names_the_rest() -> None:
    lead = LeadIn.model_validate({"lead_id": " L1 ", "Industry": "Software", "Owner": "Erika", "field_0": 5})

    assert lead.lead_id == "L1"
    assert list(lead.scoring_record()) == list(ROLES)
    assert lead.scoring_record()["No. of Employees"] is None  # field_0 is not a request field's name
    assert lead.unknown_fields() == ["Owner", "field_0"]
    assert lead.missing_fields() == [column for column in ROLES if column != "Industry"]


def test_the_json_schema_documents_each_field_by_its_role() -> None:
    schema = LeadIn.model_json_schema()
    properties = schema["properties"]

    assert schema["title"] == "LeadIn"
    assert schema["required"] == ["lead_id"]
    assert properties["No. of Employees"]["description"].startswith("the export's column 'No. of Employees' (count)")
    assert {"type": "number", "minimum": 0} in properties["No. of Employees"]["anyOf"]
    assert {"type": "boolean"} in properties["Marketing OK"]["anyOf"]
    assert "never stored" in properties["E-Mail"]["description"]
    assert {"type": "string", "maxLength": 320} in properties["E-Mail"]["anyOf"]


def test_the_batch_body_holds_leads_of_the_model() -> None:
    batch = batch_in_model(LeadIn).model_validate({"leads": [{"lead_id": "L1", "Demo Requested": "nein"}]})

    assert batch.leads[0].scoring_record()["Demo Requested"] == "nein"  # type: ignore[attr-defined]
    assert batch_in_model(LeadIn).model_json_schema()["title"] == "BatchIn"


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ({"lead_id": "categorical"}, "named like a request's own fields"),
        ({"Closed Won": "outcome"}, "not model inputs"),
    ],
)
def test_a_model_whose_fields_cannot_be_a_request_is_refused(roles: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lead_in_model(roles)


# --- hard edges (issue 15): unknown fields bounded, the creation time an ISO time, the limits documented ----------

Bounded = lead_in_model(ROLES, max_unknown_fields=3, max_unknown_value_chars=20)


def test_unknown_fields_within_the_limits_are_accepted_and_named() -> None:
    lead = Bounded.model_validate({"lead_id": "L1", "Owner": "x" * 20, "Tags": ["a", "b"], "Score": 12})

    assert lead.unknown_fields() == ["Owner", "Score", "Tags"]


def test_too_many_unknown_fields_are_refused_naming_the_limit() -> None:
    with pytest.raises(ValidationError) as raised:
        Bounded.model_validate({"lead_id": "L1", **{f"custom_{i}": i for i in range(4)}})

    assert raised.value.errors()[0]["type"] == "too_many_unknown_fields"
    assert raised.value.errors()[0]["msg"] == "expected at most 3 unknown fields per lead, got 4"


@pytest.mark.parametrize("value", ["x" * 21, ["x" * 10, "y" * 10], {"nested": {"deeper": "x" * 10}}])
def test_an_unknown_field_longer_than_the_limit_is_refused_naming_it_not_its_value(value: object) -> None:
    with pytest.raises(ValidationError) as raised:
        Bounded.model_validate({"lead_id": "L1", "Notes": value})

    error = raised.value.errors()[0]
    assert error["type"] == "unknown_field_too_long"
    assert error["msg"] == "unknown field 'Notes': expected at most 20 characters as JSON"


def test_an_unknown_field_named_by_an_email_address_is_refused_without_repeating_the_name() -> None:
    with pytest.raises(ValidationError) as raised:
        Bounded.model_validate({"lead_id": "L1", "anna.schmidt@example.de": "x" * 21})

    message = raised.value.errors()[0]["msg"]
    assert message == "unknown field '(a name holding personal data)': expected at most 20 characters as JSON"


def test_the_model_fields_do_not_count_as_unknown() -> None:
    lead = Bounded.model_validate({"lead_id": "L1", "created_at": "2026-01-05", **dict.fromkeys(ROLES)})

    assert lead.unknown_fields() == []


@pytest.mark.parametrize("value", [1_767_600_000, 1_767_600_000.5, "1767600000", True])
def test_the_creation_time_is_an_iso_time_not_a_number(value: object) -> None:
    error = _refusal("created_at", value)

    assert error["type"] == "wrong_type"
    assert "ISO 8601" in str(error["msg"])


def test_the_json_schema_states_the_unknown_field_and_batch_limits() -> None:
    lead_schema = Bounded.model_json_schema()
    batch_schema = batch_in_model(Bounded, max_batch=50).model_json_schema()

    assert lead_schema["maxProperties"] == 3 + len(ROLES) + 3  # lead_id, created_at, activities
    assert "at most 3 per lead, each at most 20 characters" in lead_schema["additionalProperties"]["description"]
    assert batch_schema["properties"]["leads"]["maxItems"] == 50
    assert batch_schema["properties"]["leads"]["minItems"] == 1


@pytest.mark.parametrize("lead_id", ["L\x001", "L\n1", "L\t1", "L1\x7f"])
def test_a_lead_id_with_control_characters_is_refused(lead_id: str) -> None:
    # the id is kept in the scoring log: PostgreSQL refuses NUL in text, and a read with it failed for every caller
    with pytest.raises(ValidationError) as refused:
        LeadIn.model_validate({"lead_id": lead_id})
    assert refused.value.errors()[0]["loc"] == ("lead_id",)
    assert LeadIn.model_validate({"lead_id": "Lead-Ü 1"}).lead_id == "Lead-Ü 1"


def test_the_exports_id_and_creation_columns_are_read_beside_the_requests_own_names() -> None:
    lead_in = lead_in_model(ROLES, export_names=ExportNames("Lead ID", "Erstellt am"))

    row = lead_in.model_validate({"Lead ID": "L1", "Erstellt am": "2026-01-05T10:00:00+01:00", "Industry": "IT"})
    both = lead_in.model_validate({"lead_id": "L2", "Lead ID": "L9"})

    assert (row.lead_id, str(row.created_at)) == ("L1", "2026-01-05 09:00:00+00:00")
    assert both.lead_id == "L2"  # the request's own name wins
    assert lead_in.model_validate({"Lead ID": 660737}).lead_id == "660737"  # a CRM's numeric id, as its text
    assert {"Lead ID", "Erstellt am"} <= lead_in.known_fields  # never an ignored unknown field
    with pytest.raises(ValidationError, match="lead_id"):
        lead_in.model_validate({"Industry": "IT"})


def test_a_lead_sent_as_its_export_row_warns_only_of_columns_its_mapping_does_not_name() -> None:
    names = ExportNames("Lead ID", "Erstellt am", frozenset({"Lead ID", "Converted", "Tags", "Email", "Industry"}))
    lead_in = lead_in_model(ROLES, max_unknown_fields=1, export_names=names)

    row = lead_in.model_validate(
        {"Lead ID": "L1", "Erstellt am": "", "Industry": "IT", "Converted": "1", "Tags": "Ringing", "Email": "x@y.de"}
    )

    assert row.created_at is None  # an export row's empty cell: no date, as an empty field is missing
    assert row.unknown_fields() == []  # the outcome, sales' and personal columns: ignored without a warning
    assert lead_in.model_validate({"Lead ID": "L2", "Campaign Notes": "x"}).unknown_fields() == ["Campaign Notes"]
    with pytest.raises(ValidationError, match="expected at most 1 unknown fields"):
        lead_in.model_validate({"Lead ID": "L3", "Tags": "x", "Campaign Notes": "x", "Other": "y"})
