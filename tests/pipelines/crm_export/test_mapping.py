"""The mapping file: parsing, validation messages, the YAML round trip and the check against an export's header."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from pipelines.crm_export.mapping import (
    ROLES,
    ColumnSpec,
    DealsSpec,
    ExportMapping,
    MappingError,
    check_against_export,
    dump_mapping,
    guess_group,
    load_mapping,
    padding_matches,
    parse_mapping,
    to_snake_case,
)

SPEC_EXAMPLE = """\
# mapping.yml
tables:
  dispositions: null
  deals: null
placeholders: ["", "Select", "--None--", "N/A", "n/a", "NA", "none", "unknown", "-", "?"]
rare_category_share: 0.005
leakage:
  max_single_feature_auc: 0.95
  max_missingness_auc: 0.95
  allowed: []
columns:
  "Lead ID": id
  "Created Date": created_at
  "Converted": {role: outcome, won: ["1", "true", "yes", "Closed Won"], lost: ["0", "false", "no", "Closed Lost"]}
  "Lead Status": {role: stage, values: {"Working - Contacted": sal, "Qualified": sql, "Disqualified": rejected}}
  "Disqualification Reason": {role: reason}
  "No. of Employees": numeric
  "Annual Revenue": numeric
  "Industry": categorical
  "Newsletter Opt-in": boolean
  "Email": email
  "Job Title": job_title
  "Website Visits": count
  "Consent Tracking": {role: consent, gates: ["Website Visits"]}
  "Phone": pii
  "Description": text
  "Last Call Outcome": after_contact
  "Owner": ignore
"""


def _mapping(**columns: Any) -> dict[str, Any]:
    return {"columns": {"Lead ID": "id", "Converted": {"role": "outcome", "won": ["1"], "lost": ["0"]}, **columns}}


def _error(content: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as error:
        ExportMapping.model_validate(content)
    return str(error.value)


def test_the_spec_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yml"
    path.write_text(SPEC_EXAMPLE, encoding="utf-8")

    mapping = load_mapping(path)

    assert mapping.id_column == "Lead ID"
    assert mapping.created_at_column == "Created Date"
    assert mapping.outcome_column == "Converted"
    assert mapping.columns["Lead Status"].values == {
        "Working - Contacted": "sal",
        "Qualified": "sql",
        "Disqualified": "rejected",
    }
    assert mapping.columns_with("after_contact", "ignore") == ["Last Call Outcome", "Owner"]
    assert mapping.columns["Consent Tracking"].gates == ["Website Visits"]
    assert mapping.rare_category_share == 0.005


def test_shorthand_is_a_column_spec_with_only_a_role() -> None:
    mapping = ExportMapping.model_validate(_mapping(**{"No. of Employees": "numeric"}))

    assert ColumnSpec.model_validate("numeric") == ColumnSpec(role="numeric")
    assert mapping.columns["No. of Employees"] == ColumnSpec(role="numeric")


def test_plain_yaml_values_stay_strings_as_in_the_export() -> None:
    mapping = parse_mapping(
        'columns:\n  ID: id\n  Won: {role: outcome, won: [yes, 1, TRUE], lost: [no, 0]}\n  "no": boolean\n'
    )

    assert mapping.columns["Won"].won == ["yes", "1", "TRUE"]
    assert "no" in mapping.columns  # YAML 1.1 would have read the key as False


def test_outcome_and_stage_values_compare_trimmed_and_ignoring_case() -> None:
    outcome = ColumnSpec(role="outcome", won=["Closed Won", "1"], lost=["Closed Lost"])
    stage = ColumnSpec(role="stage", values={"Qualified": "sql"})

    assert [outcome.outcome_of(v) for v in (" closed won ", 1, "CLOSED LOST", "Open")] == ["won", "won", "lost", None]
    assert stage.mapped_value(" QUALIFIED") == "sql"
    assert stage.mapped_value("Nurture") is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {"columns": {"Converted": {"role": "outcome", "won": ["1"], "lost": ["0"]}}},
            "or lead_ids: row_number when the export has no ids",
        ),
        (
            _mapping() | {"lead_ids": "row_number"},
            "'Lead ID' has role id, and lead_ids is row_number; expected one of the two",
        ),
        (
            {"lead_ids": "row_number", "tables": {"deals": {"file": "deals.csv", "key": "Lead ID"}}, "columns": {}},
            "lead_ids: row_number numbers the leads by their row, and tables join by the lead id",
        ),
        ({"lead_ids": "row number", "columns": {}}, "lead_ids"),
        (_mapping(**{"Account ID": "id"}), "expected exactly one column with role id, got 2: 'Lead ID', 'Account ID'"),
        (
            _mapping(Created="created_at", Erstellt="created_at"),
            "expected at most one column with role created_at, got 2: 'Created', 'Erstellt'",
        ),
        ({"columns": {"Lead ID": "id"}}, "no column has role outcome; expected exactly one"),
        (
            _mapping(Won={"role": "outcome", "won": ["yes"], "lost": ["no"]}),
            "expected exactly one column with role outcome, got 2: 'Converted', 'Won'",
        ),
        ({"columns": {"Lead ID": "id", "Converted": {"role": "outcome", "lost": ["0"]}}}, "role outcome needs"),
        ({"columns": {"Lead ID": "id", "Converted": "outcome"}}, "the export values that mean won"),
        (
            {
                "columns": {
                    "Lead ID": "id",
                    "Converted": {"role": "outcome", "won": ["Yes", "1"], "lost": [" yes", "0"]},
                }
            },
            "'yes' listed in both won and lost",
        ),
        (_mapping(Size="numerc"), "unknown role 'numerc' (did you mean 'numeric'?); expected one of: id, created_at"),
        (_mapping(Size={"role": "number"}), ", ".join(ROLES)),
        (_mapping(Size=None), "no role given"),
        (_mapping(Size={"role": "numeric", "won": ["1"]}), "won applies only to role outcome, not numeric"),
        (_mapping(Status={"role": "stage"}), "role stage needs values mapping the export's values to leadq stages"),
        (_mapping(Status={"role": "stage", "values": {"Hot": "won"}}), "Hot: 'won' is not a leadq stage; expected"),
        (_mapping(Why={"role": "reason", "values": {"Too small": "size"}}), "'size' is not a leadq reason"),
        (_mapping(Size={"role": "numeric", "values": {"a": "b"}}), "values applies only to roles stage and reason"),
        (_mapping(Size={"role": "numeric", "name": "No. of Employees"}), "expected snake_case like 'no_of_employees'"),
        (_mapping(Owner={"role": "ignore", "name": "owner"}), "name applies only to feature roles"),
        (_mapping(Owner={"role": "ignore", "group": "fit"}), "group applies only to feature roles"),
        (
            _mapping(Size={"role": "numeric", "group": "fitt"}),
            "unknown group 'fitt' (did you mean 'fit'?); expected one of: fit, engagement",
        ),
        (
            _mapping(A={"role": "numeric", "name": "size"}, B={"role": "numeric", "name": "size"}),
            "feature name 'size' given to 2 columns: 'A', 'B'",
        ),
        (
            {**_mapping(Status="after_contact"), "leakage": {"allowed": ["Stauts"]}},
            "leakage.allowed: 'Stauts' is not a mapped column (did you mean 'Status'?)",
        ),
    ],
)
def test_invalid_mappings_are_refused_with_a_clear_message(content: dict[str, Any], expected: str) -> None:
    assert expected in _error(content)


def test_disposition_and_deal_tables_replace_the_outcome_column() -> None:
    mapping = ExportMapping.model_validate(
        {"tables": {"dispositions": "dispositions.csv", "deals": "deals.csv"}, "columns": {"Lead ID": "id"}}
    )

    assert mapping.outcome_column is None
    # a file name alone: leadq's own column names and words
    assert mapping.tables.deals == DealsSpec(file=Path("deals.csv"))
    assert mapping.tables.deals.outcome is not None
    assert mapping.tables.deals.outcome.word_of("WON") == "won"
    assert mapping.tables.dispositions is not None
    assert mapping.tables.dispositions.stage.word_of("sql") == "sql"


def test_further_tables_in_the_crms_own_column_names_and_words() -> None:
    mapping = parse_mapping(
        "tables:\n"
        "  deals:\n"
        "    file: opportunities.csv\n"
        '    key: "Lead Id"\n'
        '    closed_at: "Close Date"\n'
        "    deal_id: null\n"
        "    amount: null\n"
        '    outcome: {column: Stage, won: ["Closed Won"], lost: ["Closed Lost"]}\n'
        "  dispositions:\n"
        "    file: history.csv\n"
        '    key: "Lead Id"\n'
        "    timestamp: Changed\n"
        '    stage: {column: Status, values: {"Working - Contacted": sal, Qualified: sql, Unqualified: rejected}}\n'
        '    reason: {column: Why, values: {"No Budget": no_budget}}\n'
        "    sales_team: null\n"
        'columns: {"Lead ID": id, Created: created_at}\n'
    )

    deals, dispositions = mapping.tables.deals, mapping.tables.dispositions
    assert deals is not None
    assert deals.outcome is not None
    assert dispositions is not None
    assert (deals.file, deals.key, deals.closed_at, deals.deal_id) == (
        Path("opportunities.csv"),
        "Lead Id",
        "Close Date",
        None,
    )
    assert [deals.outcome.word_of(v) for v in ("closed won", "Closed Lost", "Negotiation")] == ["won", "lost", None]
    assert dispositions.stage.word_of("qualified") == "sql"
    assert dispositions.reason is not None
    assert dispositions.reason.word_of("No Budget") == "no_budget"
    assert mapping.outcome_column is None


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        (
            "{deals: {file: deals.csv, outcome: {column: Stage}}}",
            "tables.deals.outcome: a deal outcome needs the values",
        ),
        (
            "{deals: {file: deals.csv, closed_date: Closed}}",
            "tables.deals.closed_date: unknown key (did you mean 'closed_at'?)",
        ),
        ("{deals: {key: Lead}}", "tables.deals.file: Field required"),
        (
            "{dispositions: {file: d.csv, stage: {column: Status, values: {Hot: warm}}}}",
            "tables.dispositions.stage: Hot: 'warm' is not a leadq stage; expected one of: mql, sal",
        ),
        ("{dispositions: {file: d.csv, stage: {column: Status}}}", "tables.dispositions.stage: stage needs values"),
        (
            "{dispositions: {file: d.csv, reason: {column: Why, values: {Small: size}}}}",
            "tables.dispositions.reason: Small: 'size' is not a leadq reason",
        ),
        ("{deal: deals.csv}", "tables.deal: unknown key (did you mean 'deals'?)"),
    ],
)
def test_invalid_further_tables_are_refused_naming_the_key(tables: str, expected: str) -> None:
    with pytest.raises(MappingError) as error:
        parse_mapping(f"tables: {tables}\ncolumns: {{ID: id, Created: created_at}}\n", "mapping.yml")

    assert f"mapping.yml: {expected}" in str(error.value)


def _features_mapping(**extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "columns": {
            "Lead ID": "id",
            "Converted": {"role": "outcome", "won": ["1"], "lost": ["0"]},
            "E-Mail": "email",
            "Job Title": "job_title",
            "Website Visits": "count",
            "Email Opens": "count",
            "Description": "text",
            "Consent Tracking": {"role": "consent", "gates": ["Website Visits"]},
            "Phone": "pii",
        },
    }


def test_email_job_title_count_and_consent_give_their_features() -> None:
    mapping = ExportMapping.model_validate(_features_mapping())

    assert mapping.derived_feature_names() == [
        "e_mail_is_freemail",
        "e_mail_has_valid_email",
        "e_mail_is_competitor",
        "job_title_seniority",
        "job_title_function",
        "job_title_is_student_or_intern",
        "website_visits",
        "email_opens",
        "description_length",
        "description_answered",
    ]
    inputs = {column.column: (column.role, column.gates) for column in mapping.input_columns()}
    assert inputs["Consent Tracking"] == ("consent", ("Website Visits",))  # read at scoring time, not a feature
    assert "Phone" not in inputs
    assert mapping.feature_groups()["Website Visits"] == "engagement"
    assert mapping.feature_groups()["E-Mail"] == "fit"


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        ("consent", "columns.Consent.gates: role consent needs gates: the columns that may only be used with"),
        ("{role: consent, gates: []}", "columns.Consent.gates: role consent needs gates"),
        (
            '{role: consent, gates: ["Website Vists"]}',
            "columns.Consent.gates: 'Website Vists' is not a feature column (did you mean 'Website Visits'?)",
        ),
        ("{role: consent, gates: [Owner]}", "columns.Consent.gates: 'Owner' is not a feature column"),
    ],
)
def test_a_consent_gates_feature_columns_named_in_the_mapping(consent: str, expected: str) -> None:
    text = (
        'columns:\n  "Lead ID": id\n  Converted: {role: outcome, won: ["1"], lost: ["0"]}\n'
        f'  "Website Visits": count\n  Owner: after_contact\n  Consent: {consent}\n'
    )

    with pytest.raises(MappingError) as error:
        parse_mapping(text, "mapping.yml")

    assert f"mapping.yml: {expected}" in str(error.value)


def test_gates_belong_to_consent_only() -> None:
    assert "gates applies only to role consent, not boolean" in _error(
        _mapping(Visits="count", Optin={"role": "boolean", "gates": ["Visits"]})
    )


def test_a_blank_as_no_belongs_to_yes_no_columns_only() -> None:
    assert "blank applies only to roles boolean, outcome and won_at, not categorical" in _error(
        _mapping(Industry={"role": "categorical", "blank": "no"})
    )
    assert "blank: lost does not apply to role boolean; expected unknown or no" in _error(
        _mapping(Webinar={"role": "boolean", "blank": "lost"})
    )
    assert ExportMapping.model_validate(_mapping(Webinar={"role": "boolean", "blank": "no"})).columns["Webinar"].blank


def test_an_outcome_marked_only_for_wins_says_blank_lost_or_lost_empty_but_not_both() -> None:
    ticked = {"Lead ID": "id", "Converted": {"role": "outcome", "won": ["Yes"], "blank": "lost"}}
    assert ExportMapping.model_validate({"columns": ticked}).columns["Converted"].lost is None
    both = {"Lead ID": "id", "Converted": {"role": "outcome", "won": ["Yes"], "lost": [], "blank": "lost"}}
    assert "lost: [] counts a lead without a won value as lost once" in _error({"columns": both})
    neither = {"Lead ID": "id", "Converted": {"role": "outcome", "won": ["Yes"]}}
    assert "or blank: lost where only the wins are marked" in _error({"columns": neither})
    assert "blank: no does not apply to role outcome; expected unknown or lost" in _error(
        {"columns": {"Lead ID": "id", "Converted": {"role": "outcome", "won": ["Yes"], "blank": "no"}}}
    )


def test_monotone_constraints_name_features_and_an_unknown_one_is_refused_with_a_suggestion() -> None:
    mapping = ExportMapping.model_validate(
        _features_mapping(monotone_constraints={"website_visits": "1", "e_mail_is_freemail": -1})
    )

    assert mapping.monotone_constraints == {"website_visits": 1, "e_mail_is_freemail": -1}
    unknown = _error(_features_mapping(monotone_constraints={"website_visit": 1}))
    assert (
        "monotone_constraints: 'website_visit' is not a feature of this mapping (did you mean 'website_visits'?)"
        in unknown
    )
    assert "expected some of: e_mail_is_freemail" in unknown
    assert "monotone_constraints.website_visits" in _error(
        _features_mapping(monotone_constraints={"website_visits": 2})
    )


def test_a_points_rule_on_an_unknown_feature_is_refused() -> None:
    line = {"feature": "website_visit", "per_unit": True, "points": 5, "max_points": 20}
    rule = {"mql_points": 10, "lines": [line]}

    message = _error(_features_mapping(points_rule=rule))
    known = ExportMapping.model_validate(
        _features_mapping(points_rule={**rule, "lines": [{**line, "feature": "website_visits"}]})
    )

    assert "points_rule: line 'Website visit: per unit': feature 'website_visit' is not a model feature" in message
    assert "did you mean 'website_visits'?" in message
    assert known.points_rule is not None
    assert known.points_rule.lines[0].feature == "website_visits"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'columns:\n  "Lead ID": id\n  Converted: {role: outcome, lost: ["0"]}\n',
            "mapping.yml: columns.Converted.won: role outcome needs",
        ),
        (
            'columns:\n  "Lead ID": id\n  "Lead Status": {role: stage, values: {Hot: warm}}\n',
            "mapping.yml: columns.\"Lead Status\".values: Hot: 'warm' is not a leadq stage",
        ),
        ('colums:\n  "Lead ID": id\n', "mapping.yml: colums: unknown key (did you mean 'columns'?)"),
        ("columns:\n  ID: id\n  ID: numeric\n", "duplicate key 'ID'"),
        ("columns: [unclosed\n", "mapping.yml: not valid YAML"),
        ("- id\n", "mapping.yml: expected a mapping with at least a columns section, got list"),
        ("rare_category_share: lots\ncolumns: {ID: id}\n", "mapping.yml: rare_category_share: Input should be a valid"),
        ("leakage: {max_single_feature_auc: 0.4}\ncolumns: {ID: id}\n", "leakage.max_single_feature_auc"),
    ],
)
def test_load_errors_name_the_file_and_the_key_path(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "mapping.yml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(MappingError) as error:
        load_mapping(path)

    assert expected in str(error.value)
    assert str(path) in str(error.value)


def test_a_missing_mapping_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"nope\.yml: mapping file not found"):
        load_mapping(tmp_path / "nope.yml")


def test_dump_and_load_round_trip(tmp_path: Path) -> None:
    mapping = ExportMapping.model_validate(
        {
            "tables": {"dispositions": "exports/dispositions.csv"},
            "placeholders": ["", "Select", "-", "?", "null-ish"],
            "leakage": {"allowed": ["Lead Source"], "max_single_feature_auc": 0.9},
            "columns": {
                "Lead ID": "id",
                "Converted": {"role": "outcome", "won": ["1", "yes", "Closed Won"], "lost": ["0", "no"]},
                "Lead Status": {"role": "stage", "values": {"Working - Contacted": "sal", "Qualified": "sql"}},
                "Grund: Absage #1": {"role": "reason", "values": {"Kein Budget": "no_budget"}},
                "Größe": {"role": "numeric", "name": "company_size"},
                "Lead Source": "categorical",
                "yes": "boolean",
                "Owner": "ignore",
                "Lead\nSource 2": "categorical",  # a header cell with a line break (Alt+Enter in Excel)
                "Won?": {"role": "ignore"},
            },
        }
    )
    path = tmp_path / "mapping.yml"

    text = dump_mapping(mapping, header="proposed by leadq inspect: review every line", notes={"Owner": "a\nb"})
    path.write_text(text, encoding="utf-8")

    assert load_mapping(path) == mapping
    assert text.startswith("# proposed by leadq inspect: review every line\n")
    assert "  Owner: ignore  # a b\n" in text
    assert "  Lead Source: categorical\n" in text


def test_check_against_export_suggests_the_close_match_for_a_typo() -> None:
    mapping = ExportMapping.model_validate(_mapping(**{"Lead Status": "after_contact", "Industy": "categorical"}))

    with pytest.raises(MappingError) as error:
        check_against_export(mapping, ["Lead ID", "Converted", "Lead Status", "Industry"])

    assert "mapped column(s) not in the export: 'Industy' (did you mean 'Industry'?)" in str(error.value)


def test_recycled_values_are_open_values_of_an_outcome() -> None:
    spec = ColumnSpec.model_validate({"role": "outcome", "won": ["Won"], "lost": ["Lost"], "recycled": ["Nurture"]})

    assert spec.is_recycled(" nurture ")
    assert not spec.is_recycled("Lost")
    with pytest.raises(ValidationError, match="recycled 'lost' listed in won or lost too"):
        ColumnSpec.model_validate({"role": "outcome", "won": ["Won"], "lost": ["Lost"], "recycled": ["LOST"]})
    with pytest.raises(ValidationError, match="recycled 'nurture' listed in untouched too"):
        ColumnSpec.model_validate(
            {"role": "outcome", "won": ["W"], "lost": ["L"], "untouched": ["Nurture"], "recycled": ["nurture"]}
        )
    with pytest.raises(ValidationError, match="recycled applies only to role outcome, not stage"):
        ColumnSpec.model_validate({"role": "stage", "values": {"Nurture": "recycled"}, "recycled": ["Nurture"]})


def test_a_column_never_read_may_be_absent_from_a_later_export() -> None:
    # the first export's empty trailing column ("Unnamed: 37"), a notes field and a phone number the CRM no longer
    # exports: nothing was made from them, so next quarter's export reads without them
    mapping = ExportMapping.model_validate(
        _mapping(**{"Unnamed: 37": "ignore", "Notes": "after_contact", "Phone": "pii", "Industry": "categorical"})
    )

    check = check_against_export(mapping, ["Lead ID", "Converted", "Industry"])

    assert check.missing == check.missing_unread == ("Unnamed: 37", "Notes", "Phone")
    with pytest.raises(MappingError, match="mapped column\\(s\\) not in the export: 'Industry'"):
        check_against_export(mapping, ["Lead ID", "Converted", "Notes"])


def test_check_against_export_reports_unmapped_columns_and_feature_names() -> None:
    mapping = ExportMapping.model_validate(
        _mapping(
            **{
                "No. of Employees": "numeric",
                "No of Employees": "numeric",
                "Größe": "categorical",
                "Email": "email",
                "Phone": "pii",
                "Revenue": {"role": "numeric", "name": "annual_revenue"},
                "Owner": "after_contact",
                "Gone": "ignore",
            }
        )
    )
    export = [
        "Lead ID",
        "Converted",
        "No. of Employees",
        "No of Employees",
        "Größe",
        "Email",
        "Phone",
        "Revenue",
        "Owner",
        "Fax",
    ]

    check = check_against_export(mapping, [*export, "Gone"])
    partial = check_against_export(mapping, export, allow_missing=True)

    assert check.unmapped == ("Fax",)
    assert check.feature_columns == ("No. of Employees", "No of Employees", "Größe", "Email", "Revenue")
    assert [check.feature_name(c) for c in check.feature_columns] == [
        "no_of_employees",
        "no_of_employees_2",
        "groesse",
        "email",
        "annual_revenue",
    ]
    assert partial.missing == ("Gone",)
    with pytest.raises(KeyError, match="'Owner' is not a feature column"):
        check.feature_name("Owner")


def test_feature_groups_are_given_or_guessed_from_the_name(tmp_path: Path) -> None:
    mapping = ExportMapping.model_validate(
        _mapping(
            **{
                "Industry": "categorical",
                "Webinar Visits": "numeric",
                "Demo Request": {"role": "boolean", "group": "fit"},  # given: wins over the name
                "Form Comments": "text",
                "Owner": "ignore",
            }
        )
    )
    path = tmp_path / "mapping.yml"
    path.write_text(dump_mapping(mapping), encoding="utf-8")

    assert mapping.feature_groups() == {
        "Industry": "fit",
        "Webinar Visits": "engagement",
        "Demo Request": "fit",
        "Form Comments": "engagement",
    }
    assert load_mapping(path) == mapping
    assert "group: fit" in path.read_text()


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("EmailOpens", "engagement"),
        ("E-Mail-Öffnungen", "engagement"),
        ("Newsletter geöffnet", "engagement"),
        ("Pages per Visit", "engagement"),
        ("Time on Site (s)", "engagement"),
        ("Downloads", "engagement"),
        ("Last Activity", "engagement"),
        ("Sessions", "engagement"),
        ("Webinar besucht", "engagement"),
        ("Event Attended", "engagement"),
        ("Total Time Spent on Website", "engagement"),
        ("TotalVisits", "engagement"),
        ("Page Views Per Visit", "engagement"),
        ("Seitenaufrufe", "engagement"),
        ("Lead Source", "engagement"),
        ("Information Source", "engagement"),
        ("How did you hear about X Education", "engagement"),
        ("Newsletter Opt-in", "engagement"),
        ("Do Not Email", "engagement"),  # opting out is something the lead did
        ("Unsubscribed", "engagement"),
        ("ProductRelated_Duration", "engagement"),
        ("BounceRates", "engagement"),
        ("TrafficType", "engagement"),
        ("Leadquelle", "engagement"),  # German compounds carry the word inside
        ("Webseitenbesuche", "engagement"),
        ("Anzahl der Sitzungen", "engagement"),  # HubSpot's German export
        ("Anzahl der Formularübermittlungen", "engagement"),
        ("Marketing-E-Mails angeklickt", "engagement"),
        ("Visitas al sitio", "engagement"),  # French and Spanish
        ("Téléchargements", "engagement"),
        ("Campaña", "engagement"),
        ("Fuente del lead", "engagement"),
        ("E-mails ouverts", "engagement"),
        ("Medium", "engagement"),  # a UTM medium
        ("Acquisition Program", "engagement"),  # Marketo's
        ("projects_created", "engagement"),  # a product trial's use
        ("invites_sent", "engagement"),
        ("days_active", "engagement"),
        ("First Conversion", "engagement"),  # HubSpot: the first form the lead converted on
        ("Integrations Connected", "engagement"),
        ("Last Active", "engagement"),
        ("Number of Active Users", "fit"),  # a trial's words alone say who the lead is
        ("Projected Revenue", "fit"),
        ("Project Budget", "fit"),
        ("Integration Needs", "fit"),
        ("Platform", "fit"),  # "form" only as a whole word
        ("Information", "fit"),
        ("Demographics", "fit"),
        ("No. of Employees", "fit"),
        ("Email", "fit"),
        ("Job Title", "fit"),
        ("Time Zone", "fit"),  # where the lead is, not how long it stayed
        ("What is your current occupation", "fit"),
    ],
)
def test_guess_group_reads_engagement_words_in_the_column_name(column: str, expected: str) -> None:
    assert guess_group(column) == expected


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("No. of Employees", "no_of_employees"),
        ("Größe Ümsatz (€)", "groesse_uemsatz"),
        ("AnnualRevenue", "annual_revenue"),
        ("Café Besuche", "cafe_besuche"),
        ("Płeć", "plec"),  # letters without a decomposition written as their Latin letters, not dropped
        ("Właściciel", "wlasciciel"),
        ("Størrelse", "storrelse"),
        ("2FA enabled", "col_2fa_enabled"),
        ("???", "column"),
        ("Дата создания", "data_sozdaniya"),  # other scripts in Latin letters (anyascii), not dropped
        ("Ответственный", "otvetstvennyy"),
        ("Ημερομηνία", "imerominia"),
        ("メールアドレス", "meruadoresu"),
        ("作成日", "zuo_cheng_ri"),  # a kanji's Chinese reading: no Japanese word, yet a name of its own
        ("Satış (₺)", "satis"),  # a sign is no letter: dropped, as before
    ],
)
def test_feature_names_are_snake_case(column: str, expected: str) -> None:
    assert to_snake_case(column) == expected


ACTIVITIES_MAPPING = """\
columns:
  "Lead ID": id
  "Created": created_at
  "Converted": {role: outcome, won: ["1"], lost: ["0"]}
  "Visits": count
tables:
  activities:
    file: activities.csv
    key: Lead
    timestamp: When
    kind: {column: Type, values: {"Page Visit": visit, "Demo": demo_request}}
    windows_days: [90, 7]
"""


def test_an_activities_table_adds_its_engagement_features_after_the_mapped_columns() -> None:
    mapping = parse_mapping(ACTIVITIES_MAPPING)

    columns = mapping.input_columns()

    assert [c.name for c in columns] == [
        "visits",
        "visit_7d",
        "visit_90d",
        "days_since_visit",
        "visit_decayed",
        "demo_request_7d",
        "demo_request_90d",
        "days_since_demo_request",
        "demo_request_decayed",
    ]
    assert mapping.tables.activities is not None
    assert mapping.tables.activities.moment == "first_disposition"
    assert parse_mapping(dump_mapping(mapping)) == mapping


def test_a_consent_may_gate_the_activities_features() -> None:
    gated = ACTIVITIES_MAPPING.replace(
        '"Visits": count', '"Visits": count\n  "Tracking OK": {role: consent, gates: [Visits, visit_7d, visit_decayed]}'
    )

    columns = {c.column: c for c in parse_mapping(gated).input_columns()}

    assert columns["Tracking OK"].gates == ("Visits", "visit_7d", "visit_decayed")
    with pytest.raises(MappingError, match="'visit_8d' is not a feature column"):
        parse_mapping(gated.replace("visit_7d]", "visit_8d]").replace("visit_7d,", "visit_8d,"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            '"Demo": demo_request',
            "tables.activities.kind: Demo: 'demo' is not a leadq activity kind; expected one of: visit, download",
        ),
        ("windows_days: [90, 7]", "expected distinct positive whole days"),
        ('"Visits": count', "tables.activities: its features ['visit_7d'] have the names of mapped columns"),
    ],
)
def test_activities_settings_that_cannot_work_are_refused_naming_them(change: str, message: str) -> None:
    replacement = {
        '"Demo": demo_request': '"Demo": demo',
        "windows_days: [90, 7]": "windows_days: [0, 7]",
        '"Visits": count': '"Visits": count\n  "Web 7d": {role: count, name: visit_7d}',
    }[change]
    with pytest.raises(MappingError, match=re.escape(message)):
        parse_mapping(ACTIVITIES_MAPPING.replace(change, replacement))


def test_an_account_column_is_named_and_never_a_feature() -> None:
    mapping = parse_mapping(ACTIVITIES_MAPPING.replace('"Visits": count', '"Visits": count\n  "Account ID": account'))

    assert mapping.account_column == "Account ID"
    assert "Account ID" not in {c.column for c in mapping.input_columns()}
    assert parse_mapping(ACTIVITIES_MAPPING).account_column is None
    with pytest.raises(MappingError, match="at most one column with role account"):
        parse_mapping(ACTIVITIES_MAPPING.replace('"Visits": count', '"Visits": account\n  "Account ID": account'))


def test_columns_that_differ_from_the_mapping_only_by_surrounding_spaces_are_matched() -> None:
    header = ["Lead ID", "Lead Source ", " Industry", "Country", "Country "]

    matches = padding_matches(header, ["Lead ID", "Lead Source", "Industry", "Country  ", "Missing"])

    # "Country  " matches two columns once trimmed: neither is taken for it
    assert matches == {"Lead Source ": "Lead Source", " Industry": "Industry"}


# --- multi-select picklists ---------------------------------------------------------------------------------------


def test_a_multi_select_column_gives_one_feature_per_option_named_after_it() -> None:
    mapping = ExportMapping.model_validate(
        _mapping(Interessen={"role": "multi_select", "options": ["ERP", "CRM / BI", "crm bi", "Größe"]})
    )

    [column] = [column for column in mapping.input_columns() if column.column == "Interessen"]

    assert column.role == "multi_select"
    assert column.separator == ";"  # the default: Salesforce's and HubSpot's
    # "CRM / BI" and "crm bi" differ as options, not in snake_case: the second gets a suffix
    assert column.options == (
        ("ERP", "interessen_erp"),
        ("CRM / BI", "interessen_crm_bi"),
        ("crm bi", "interessen_crm_bi_2"),
        ("Größe", "interessen_groesse"),
    )
    assert mapping.derived_feature_names()[-4:] == [feature for _, feature in column.options]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"role": "multi_select"}, "role multi_select needs options"),
        ({"role": "multi_select", "options": []}, "role multi_select needs options"),
        ({"role": "multi_select", "options": ["ERP", " "]}, "role multi_select needs options"),
        ({"role": "categorical", "options": ["ERP"]}, "options applies only to role multi_select, not categorical"),
        ({"role": "text", "separator": ";"}, "separator applies only to role multi_select, not text"),
        ({"role": "multi_select", "options": ["ERP", " erp"]}, "options 'ERP' and ' erp' are one option"),
        ({"role": "multi_select", "options": ["Pricing  page", "pricing page"]}, "are one option"),
        ({"role": "multi_select", "options": ["ERP"], "separator": "/"}, "separator '/'; expected one of ; , |"),
        ({"role": "multi_select", "options": ["Ebook, Whitepaper"], "separator": ","}, "holds the separator ','"),
    ],
)
def test_a_multi_select_column_is_refused_saying_what_its_options_need(spec: dict[str, Any], message: str) -> None:
    assert message in _error(_mapping(Interessen=spec))


def test_a_multi_select_mapping_survives_its_own_dump() -> None:
    spec = {"role": "multi_select", "options": ["Webinar 2024", "Ebook: Email Benchmarks", "1"], "separator": ","}
    mapping = ExportMapping.model_validate(_mapping(TAGS=spec))

    again = parse_mapping(dump_mapping(mapping))

    assert again.columns["TAGS"] == mapping.columns["TAGS"]


def test_an_option_that_is_a_word_for_missing_is_refused() -> None:
    said = _error(_mapping(Region={"role": "multi_select", "options": ["EMEA", "N/A"]}))

    assert "columns.Region.options: 'N/A' is also a word for missing (placeholders)" in said
    kept = _mapping(Region={"role": "multi_select", "options": ["EMEA", "NA"]}) | {"placeholders": ["", "Select"]}
    assert ExportMapping.model_validate(kept).columns["Region"].options == ["EMEA", "NA"]


def test_excluded_values_belong_to_an_outcome_and_to_no_other_list() -> None:
    spec = ColumnSpec(role="outcome", won=["Won"], lost=["Lost"], excluded=["Deleted"])
    assert spec.excluded == ["Deleted"]

    with pytest.raises(ValidationError, match="excluded 'deleted' listed as won, lost, untouched or recycled too"):
        ColumnSpec(role="outcome", won=["Won"], lost=["Lost", "Deleted"], excluded=["deleted"])
    with pytest.raises(ValidationError, match="excluded applies only to role outcome"):
        ColumnSpec(role="stage", values={"New": "mql"}, excluded=["Deleted"])


def test_the_rows_an_outcome_excludes_are_found_ignoring_case_and_spaces() -> None:
    mapping = ExportMapping.model_validate(
        {
            "columns": {
                "Id": "id",
                "Status": {"role": "outcome", "won": ["Won"], "lost": ["Lost"], "excluded": ["Deleted"]},
            }
        }
    )
    frame = pd.DataFrame({"Id": ["1", "2", "3", "4"], "Status": ["Won", " deleted ", None, "Lost"]})

    assert mapping.excluded_rows(frame).tolist() == [False, True, False, False]
    assert mapping.excluded_rows(frame.drop(columns="Status")).tolist() == [False] * 4
