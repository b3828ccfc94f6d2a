"""Personal data typed into a category field is replaced before scoring: never stored in the scoring log, never
echoed in the reasons, counted in the warnings by field name (issue 15, "PII stays out everywhere")."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from pipelines.settings import Settings
from serving.pii import MARKER, CategoryFields, category_fields, personal_kind, scrub_record
from tests.builders import AUTH, make_holder, scoring_request, served_app


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("jane.doe@example.org", "e-mail address"),
        ("Kontakt: j.doe@acme-logistik.de", "e-mail address"),
        ("+49 170 1234567", "phone number"),
        ("0049 (0)30 1234-5678", "phone number"),
        ("0170/1234567", "phone number"),
        ("(555) 123-4567", "phone number"),
        ("call +44 20 7946 0958 after 5", "phone number"),
        ("Erika Mustermann", "name"),
        ("Dr. Erika Mustermann", "name"),
        ("Mustermann, Erika", "name"),
        ("J. Smith", "name"),
        ("Ursula von der Leyen", "name"),
        ("Anna-Lena Schmidt", "name"),
        ("Tel. 030/1234567", "phone number"),
        ("Zwackelmann Hildegard 0171 5556667", "phone number"),
        ("DE89370400440532013000", "bank account"),
        ("DE89 3704 0044 0532 0130 00", "bank account"),
        ("https://www.linkedin.com/in/hildegard-zwackelmann", "profile"),
        ("192.168.10.42", "IP address"),
        ("call me 9876543210", "phone number"),  # national numbers without a leading 0 (India, the US) ...
        ("Rahul Sharma 9876543210", "phone number"),  # ... after a phone's word or beside a name
        ("Phone: 555 123 4567", "phone number"),
        ("Wei Hong", "name"),  # words of places and channels are names too, outside their phrases
        ("Kim West", "name"),
        ("Sri Mulyani", "name"),
        ("Won Kim", "name"),
        ("Richard Price", "name"),
        ("Firmentelefon 0301234567", "phone number"),  # a phone's word inside a compound
        ("Diensthandy 0171 5556667", "phone number"),
        ("Smartphone 9876543210", "phone number"),
        ("WorkPhone: 9876543210", "phone number"),
    ],
)
def test_personal_data_is_recognised(value: str, kind: str) -> None:
    assert personal_kind(value) == kind


@pytest.mark.parametrize(
    "value",
    [
        "Software",
        "Asteroid Mining",  # a category word: an industry, not a person
        "Hannover Messe",
        "Spring Launch",
        "hannover-messe",
        "2025Q1-seo",
        "2024-05-01",
        "10-50",
        "80331",
        "organic_search",
        "DE",
        "Mustermann",  # one word: not caught (said in the module's docstring)
        "erika mustermann",  # not capitalised: not taken for a name
        "01.05.2024",
        "Event 2024-05-01",
        "Version 1.2.3",
        "0800 campaign",
        "Q3 2025 retargeting",
        "KW12 Newsletter",  # IBAN-shaped codes without an IBAN's checksum
        "EU27 Kampagne",
        "FY24 Enterprise",
        "DE12 ABCD 1234 5678",
        "Build 4.2.0.17",  # four numbers with dots in other text: a version
        "Version 1.2.3.4",
        "Produkt 0815-4711",  # a code with a leading zero, beside no name and no phone's word
        "Gutschein 0123-4567",
        "PLZ-Gebiet 01067-01099",
        "YouTube",  # one word in camel case: no given name and surname
        "LinkedIn",
        "New Delhi",  # two capitalised words that are places, channels and stages (X Education's values)
        "Sri Lanka",
        "United States",
        "Cold Call",
        "Word Of Mouth",
        "Closed Lost",
        "Olark Chat",
        "Press Release",
        "Release 2024 1234567",  # digits beside no name and no phone's word
        "Hong Kong",
        "South Africa",
        "New York",
        "Hotel Budget 1500000",
        "North Carolina",
        "West Virginia",
        "East London",
        "New Hampshire",
        "Silicon Valley",
        "Bay Area",
        "Inbound Call",
    ],
)
def test_category_values_are_not_taken_for_personal_data(value: str) -> None:
    assert personal_kind(value) is None


def test_field_names_are_checked_for_addresses_and_numbers_only() -> None:
    assert personal_kind("Lead Owner", names=False) is None
    assert personal_kind("Erika Mustermann", names=False) is None
    assert personal_kind("jane@example.org", names=False) == "e-mail address"


FIELDS = CategoryFields(
    known={"campaign": frozenset({"erika mustermann", "2025q1-seo"}), "industry": frozenset({"software"})},
    feature_of={"campaign": "campaign", "industry": "industry"},
)


def test_only_unknown_personal_values_of_category_fields_are_replaced() -> None:
    record = {"campaign": " Erika  MUSTERMANN ", "industry": "Max Mustermann", "notes": "jane@example.org"}

    scrubbed, removed = scrub_record(record, FIELDS)

    assert removed == ["industry"]
    assert scrubbed == {"campaign": " Erika  MUSTERMANN ", "industry": MARKER, "notes": "jane@example.org"}
    assert record["industry"] == "Max Mustermann"  # the input is not changed


def test_missing_numbers_and_known_categories_pass_unchanged() -> None:
    record = {"campaign": None, "industry": 12}

    assert scrub_record(record, FIELDS) == (record, [])


def test_a_models_category_fields_are_its_training_categories(registry: Settings) -> None:
    holder = make_holder(registry)
    holder.reload()

    fields = category_fields(holder.current.scorer.pipeline)

    assert {"industry", "country", "lead_source", "campaign"} <= set(fields.known)
    assert "financial services" in fields.known["industry"]
    assert fields.feature_of["industry"] == "industry"
    assert category_fields(holder.current.scorer.pipeline) is fields  # read once per model


PERSONAL = {
    "campaign": "jane.doe@private-mail.example",
    "industry": "Erika Mustermann",
    "lead_source": "+49 170 1234567",
}


def test_personal_data_in_category_fields_is_not_echoed_and_scores_as_unknown(client: TestClient) -> None:
    personal = client.post("/v1/leads/score", json=scoring_request(lead_id="P1", **PERSONAL), headers=AUTH)
    unseen = {field: f"never-seen-{field}" for field in PERSONAL}
    unknown = client.post("/v1/leads/score", json=scoring_request(lead_id="P2", **unseen), headers=AUTH)

    assert personal.status_code == 200
    body = personal.json()
    assert body["warnings"][0] == (
        "personal data (an e-mail address, phone number, name, bank account, profile or IP address) removed "
        "from field(s), scored as unknown: "
        "industry, lead_source, campaign"
    )
    assert not any("value not seen in training" in warning for warning in body["warnings"])
    for value in ("jane.doe", "private-mail", "Erika", "Mustermann", "170 1234567"):
        assert value not in personal.text
    assert body["probability"] == pytest.approx(unknown.json()["probability"], abs=1e-12)


def test_known_categories_are_kept_whatever_they_look_like(client: TestClient) -> None:
    response = client.post("/v1/leads/score", json=scoring_request(industry="Financial Services"), headers=AUTH)

    assert not any("personal data" in warning for warning in response.json()["warnings"])


def test_the_scoring_log_and_the_log_lines_hold_no_personal_data(
    registry: Settings, log_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    leads = [scoring_request(lead_id=f"P{i}", **PERSONAL) for i in range(3)]
    with caplog.at_level(logging.DEBUG), TestClient(served_app(registry, scoring_log_url=log_url)) as client:
        one = client.post("/v1/leads/score", json=leads[0], headers=AUTH)
        batch = client.post("/v1/leads/score-batch", json={"leads": leads[1:]}, headers=AUTH)
        # the reasons' labels and values, in the response
        reasons = [
            r
            for result in [one.json(), *batch.json()["results"]]
            for r in [*result["reasons_for"], *result["reasons_against"]]
        ]

    with sa.create_engine(log_url).connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM scores ORDER BY id")).mappings().all()
    assert [row["lead_id"] for row in rows] == ["P0", "P1", "P2"]
    features = json.loads(rows[0]["features"])
    assert features["campaign"] == MARKER.casefold()  # stored as the marker (categories are stored casefolded)
    dump = json.dumps([dict(row) for row in rows], default=str) + json.dumps(reasons) + caplog.text
    for value in ("jane.doe", "private-mail", "erika", "mustermann", "1234567"):
        assert value not in dump.casefold()
