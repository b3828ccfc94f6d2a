"""A multi-file export in a CRM's own shape trains as it is: leads, opportunities and the lead history, each with
the CRM's column names, words and formats, turned into leadq's dispositions and deals through the mapping alone.

The export is the synthetic CRM as a CRM would write it (``tests.builders.crm_shaped_tables``): a leads CSV with
German dates and numbers, ``opportunities.csv`` separated by ``;`` with a byte-order mark, and
``lead_history.xlsx``. Its labels must equal those of the synthetic CRM read through the shipped mapping.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.contract import DataContractError
from models.pipeline import input_fields
from pipelines.crm_export.mapping import MappingError, load_mapping, parse_mapping
from pipelines.crm_export.prepare import LoadedExport, PreparedExport, prepare_export, read_export_files
from pipelines.crm_export.tables import deals_table, dispositions_table
from pipelines.demo.synthetic import SyntheticCRM, generate_crm
from pipelines.training import train_scorer
from tests.builders import (
    CRM_MAPPING,
    CRM_STAGE_WORDS,
    crm_shaped_tables,
    synthetic_export,
    write_crm_shaped_export,
)

N_LEADS = 12_000
GHOST_LEAD = "00Q-GHOST"


@pytest.fixture(scope="module")
def crm() -> SyntheticCRM:
    return generate_crm(N_LEADS, seed=3)


@pytest.fixture(scope="module")
def export_files(crm: SyntheticCRM, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The CRM's files, plus what real exports hold: a status word the mapping does not know ("On Hold"), and
    two opportunities of a lead that is not in the leads file."""
    leads, opportunities, history = crm_shaped_tables(crm)
    on_hold = history.sample(5, random_state=1).assign(Status="On Hold")
    ghosts = opportunities.head(2).assign(**{"Opportunity ID": ["006-G1", "006-G2"], "Lead": GHOST_LEAD})
    return write_crm_shaped_export(
        tmp_path_factory.mktemp("crm"),
        leads,
        pd.concat([opportunities, ghosts], ignore_index=True),
        pd.concat([history, on_hold], ignore_index=True),
    )


@pytest.fixture(scope="module")
def loaded(export_files: tuple[Path, Path]) -> LoadedExport:
    return read_export_files(*export_files)


@pytest.fixture(scope="module")
def prepared(loaded: LoadedExport) -> PreparedExport:
    return prepare_export(loaded)


def _by_synthetic_id(y: pd.Series) -> pd.Series:
    return y.set_axis("L" + y.index.str.removeprefix("00Q")).sort_index()


def test_the_files_are_read_as_the_crm_wrote_them(loaded: LoadedExport) -> None:
    assert loaded.leads.separator == ","
    assert set(loaded.tables) == {"deals", "dispositions"}
    assert list(loaded.tables["deals"].columns) == ["Opportunity ID", "Lead", "Stage", "Close Date", "Amount"]
    assert loaded.tables["deals"]["Amount"].iloc[0].endswith(",00")  # as text: the German decimal comma kept
    assert list(loaded.tables["dispositions"].columns) == ["Lead", "Changed On", "Status", "Reason", "Team"]


@pytest.mark.slow
def test_the_labels_equal_those_of_the_synthetic_crm(prepared: PreparedExport, crm: SyntheticCRM) -> None:
    expected = prepare_export(synthetic_export(crm))

    pd.testing.assert_series_equal(_by_synthetic_id(prepared.y), expected.y.sort_index(), check_names=False)
    assert prepared.as_of.normalize() == expected.as_of.normalize()
    assert prepared.report["labels"]["by_reason"] == expected.report["labels"]["by_reason"]


def test_the_tables_are_in_leadqs_words(prepared: PreparedExport, crm: SyntheticCRM) -> None:
    deals, dispositions = prepared.deals, prepared.dispositions

    closed = crm.deals[crm.deals["outcome"] != "open"]
    assert deals["outcome"].value_counts().to_dict() == closed["outcome"].value_counts().to_dict()
    assert deals["amount_eur"].sum() == pytest.approx(closed["amount_eur"].sum())  # "134.750,00" read right
    # Open opportunities have no close date, and this export no creation date: they cannot be placed in time.
    undated = prepared.report["tables"]["deals"]["undated_dropped"]
    assert undated == {"open": int((crm.deals["outcome"] == "open").sum())}
    assert set(dispositions["stage"]) == set(CRM_STAGE_WORDS)
    rejected = dispositions["stage"] == "rejected"
    assert dispositions.loc[rejected, "reason"].notna().all()
    assert dispositions.loc[~rejected, "reason"].isna().all()
    assert dispositions["lead_id"].str.startswith("00Q").all()


def test_unknown_stage_words_are_reported_and_their_rows_dropped(prepared: PreparedExport, crm) -> None:  # type: ignore[no-untyped-def]
    report = prepared.report["tables"]["dispositions"]

    assert report["unmapped_stage_words"] == {"On Hold": 5}
    assert report["rows_with_unmapped_stage"] == 5
    assert len(prepared.dispositions) == len(crm.dispositions)


def test_deals_for_unknown_leads_are_counted_and_dropped(prepared: PreparedExport, crm) -> None:  # type: ignore[no-untyped-def]
    report = prepared.report["tables"]["deals"]

    assert report["rows_without_a_known_lead"] == 2
    assert report["rows"] == len(crm.deals) + 2
    assert GHOST_LEAD not in set(prepared.deals["lead_id"])
    assert report["open_words"] == {"Negotiation": int((crm.deals["outcome"] == "open").sum())}


@pytest.mark.slow
def test_the_export_trains_through_its_mapping_without_reshaping(loaded: LoadedExport, fast_settings) -> None:  # type: ignore[no-untyped-def]
    outcome = train_scorer(loaded, fast_settings)

    assert outcome.split.kind == "out_of_time"
    assert outcome.metrics["test_roc_auc"] > 0.7
    assert input_fields(outcome.scorer.pipeline) == (
        "Email",
        "Job Title",
        "No. of Employees",
        "Industry",
        "Lead Source",
        "Website Visits",
        "Demo Requested",
    )
    assert outcome.preparation["columns"]["unmapped"] == ["Lead Owner"]
    record = {"Email": "anna@gmail.com", "Job Title": "Leiterin Einkauf", "No. of Employees": "1.200"}
    no_demo, demo = outcome.scorer.explain_records(
        [{**record, "Demo Requested": "No"}, {**record, "Demo Requested": "Yes"}]
    )
    assert demo["probability"] >= no_demo["probability"]


@pytest.mark.slow
def test_a_won_deals_export_without_an_outcome_column_counts_presence_as_won(
    crm: SyntheticCRM, prepared: PreparedExport, tmp_path: Path
) -> None:
    leads, opportunities, history = crm_shaped_tables(crm)
    won = opportunities[opportunities["Stage"] == "Closed Won"].drop(columns="Stage")
    mapping = CRM_MAPPING.replace(
        "    outcome: {column: Stage, won: [Closed Won], lost: [Closed Lost]}\n", "    outcome: null\n"
    )

    won_only = prepare_export(read_export_files(*write_crm_shaped_export(tmp_path, leads, won, history, mapping)))

    assert won_only.report["tables"]["deals"]["outcomes"] == {"won": len(won)}
    positives = won_only.y[won_only.y == 1].index
    assert set(positives) == set(prepared.y[prepared.y == 1].index)  # the same wins: presence means won
    both = won_only.y.notna() & prepared.y.notna()
    assert (won_only.y[both] == prepared.y[both]).all()
    assert won_only.y.notna().sum() <= prepared.y.notna().sum()  # a recent lost deal is no longer known


def test_a_missing_table_column_is_refused_naming_it(crm: SyntheticCRM, tmp_path: Path) -> None:
    leads, opportunities, history = crm_shaped_tables(dataclasses.replace(crm, leads=crm.leads.head(200)))
    renamed = opportunities.rename(columns={"Close Date": "CloseDate"})
    files = write_crm_shaped_export(tmp_path, leads, renamed, history)

    with pytest.raises(MappingError, match=r"tables\.deals: column\(s\) \['Close Date'\] not in the deals file"):
        prepare_export(read_export_files(*files))


def test_a_missing_table_file_is_refused_naming_it(crm: SyntheticCRM, tmp_path: Path) -> None:
    leads, opportunities, history = crm_shaped_tables(crm)
    leads_path, mapping_path = write_crm_shaped_export(tmp_path, leads.head(50), opportunities, history)
    (tmp_path / "lead_history.xlsx").unlink()

    with pytest.raises(DataContractError, match=r"lead_history\.xlsx: file not found"):
        read_export_files(leads_path, mapping_path)


def test_table_functions_join_through_another_lead_column() -> None:
    """``lead_column``: the deals file keys leads by e-mail, not by the lead id."""
    mapping = parse_mapping(
        CRM_MAPPING.replace("    key: Lead\n    deal_id", "    key: Contact\n    lead_column: Email\n    deal_id", 1)
    )
    lead_keys = pd.Series(["anna@acme.de", "max@firm.de"], index=pd.Index(["00Q1", "00Q2"], name="lead_id"))
    deals = pd.DataFrame(
        {
            "Opportunity ID": ["0061", "0062"],
            "Contact": [" ANNA@acme.de", "nobody@else.de"],
            "Stage": ["Closed Won", "Closed Won"],
            "Close Date": ["01.02.2026", "03.02.2026"],
            "Amount": ["1.000,50", ""],
        }
    )
    assert mapping.tables.deals is not None
    assert mapping.tables.deals.lead_column == "Email"

    table, report = deals_table(deals, mapping.tables.deals, lead_keys, mapping.placeholders)

    assert table["lead_id"].tolist() == ["00Q1"]
    assert table["amount_eur"].tolist() == [1000.5]
    assert table["closed_at"].tolist() == [pd.Timestamp("2026-02-01")]
    assert report["rows_without_a_known_lead"] == 1


WON_DEALS_MAPPING = """
columns:
  mql_id: id
  first_contact_date: created_at
  origin: categorical
tables:
  deals: {file: closed_deals.csv, key: mql_id, closed_at: won_date, outcome: null}
"""


def test_a_won_deals_file_needs_no_deal_id_created_or_amount_column() -> None:
    # a won-deals export (Olist's closed deals): the lead's key and the day it was won, none of leadq's own names
    mapping = parse_mapping(WON_DEALS_MAPPING)
    deals = pd.DataFrame({"mql_id": ["a1", "b2"], "won_date": ["2018-03-01", "2018-04-02"], "seller_id": ["s", "t"]})
    lead_keys = pd.Series(["a1", "b2", "c3"], index=pd.Index(["a1", "b2", "c3"], name="lead_id"))
    assert mapping.tables.deals is not None

    table, report = deals_table(deals, mapping.tables.deals, lead_keys, mapping.placeholders)

    assert table["lead_id"].tolist() == ["a1", "b2"]
    assert table["outcome"].tolist() == ["won", "won"]
    assert table["created_at"].tolist() == table["closed_at"].tolist()  # no creation date: the close date
    assert table["amount_eur"].isna().all()
    assert report["outcomes"] == {"won": 2}


def test_a_deals_file_without_the_default_outcome_column_is_refused_saying_how_to_name_it() -> None:
    mapping = parse_mapping(WON_DEALS_MAPPING.replace(", outcome: null", ""))
    deals = pd.DataFrame({"mql_id": ["a1"], "won_date": ["2018-03-01"], "Stage": ["Closed Won"]})
    lead_keys = pd.Series(["a1"], index=pd.Index(["a1"], name="lead_id"))
    assert mapping.tables.deals is not None

    with pytest.raises(MappingError, match=r"no column 'outcome'.*outcome: \{column: Stage.*or set outcome: null"):
        deals_table(deals, mapping.tables.deals, lead_keys, mapping.placeholders)


def test_dispositions_keep_only_rejection_reasons() -> None:
    mapping = parse_mapping(CRM_MAPPING)
    history = pd.DataFrame(
        {
            "Lead": ["00Q1", "00Q1", "00Q2"],
            "Changed On": ["02.01.2026 10:00", "05.01.2026 09:30", "03.01.2026 08:00"],
            "Status": ["Working", "Disqualified", "Nurture"],
            "Reason": ["", "No budget", "Not now"],
            "Team": ["DACH", "DACH", None],
        }
    )
    lead_keys = pd.Series(["00Q1", "00Q2"], index=pd.Index(["00Q1", "00Q2"], name="lead_id"))
    assert mapping.tables.dispositions is not None

    table, _ = dispositions_table(history, mapping.tables.dispositions, lead_keys, mapping.placeholders)

    assert table["stage"].tolist() == ["sal", "rejected", "recycled"]
    assert table["reason"].tolist()[1] == "no_budget"
    assert pd.isna(table["reason"].iloc[2])  # a nurtured lead is recycled whatever the reason says
    assert table["timestamp"].iloc[1] == pd.Timestamp("2026-01-05 09:30")
    assert np.all(table.columns == ["lead_id", "timestamp", "stage", "reason", "sales_team"])


def test_the_mapping_file_reads_the_crms_deal_words(export_files: tuple[Path, Path]) -> None:
    mapping = load_mapping(export_files[1])

    assert mapping.tables.deals is not None
    assert mapping.tables.deals.outcome is not None
    assert mapping.tables.deals.outcome.word_of("closed won ") == "won"
    assert mapping.tables.deals.outcome.word_of("Negotiation") is None
