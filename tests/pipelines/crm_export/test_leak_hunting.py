"""Leak hunting from evidence: values of one outcome, lift beyond all other columns, words of sales work; on
exports built in code that mimic several CRMs, and end to end on the real X Education export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.real import X_EDUCATION
from pipelines.crm_export.inspect import profile_export, proposal_notes, propose
from pipelines.crm_export.leakage import (
    EMPTY,
    FILLED_IN,
    REMEDY,
    LeakageError,
    LeakagePolicy,
    OneOutcomeEvidence,
    _evidence_findings,
    check_leakage,
    days_to_the_export,
    lift_beyond_others,
    missingness_auc,
    one_outcome_values,
    sales_words_in_name,
    sales_words_in_values,
    share_days_to_outcome,
    shown_sales_values,
    single_feature_auc,
    value_groups,
)
from pipelines.crm_export.mapping import FEATURE_ROLES, dump_mapping
from pipelines.crm_export.prepare import prepare_export_files
from pipelines.crm_export.read import read_export

N_LEADS = 3000
POST_CONTACT = ("Lead Status", "Lead Score", "Amount", "Last Call Result")
HONEST = ("Company Size", "Industry", "Website Visits", "Email Opens", "Demo Requested", "Lead Source", "Country")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def crm_export(n: int = N_LEADS, seed: int = 0) -> pd.DataFrame:
    """A CRM export as a sales team leaves it: honest fit and engagement columns with strong signal, a channel with
    one small 99%-won value, and four columns sales filled in after contact (status, a score, an amount only some
    won deals have, the last call's result). ``Converted`` is 1 or 0."""
    rng = np.random.default_rng(seed)
    fit, engagement = rng.normal(size=n), rng.normal(size=n)
    y = (rng.random(n) < _sigmoid(-1.3 + 0.9 * fit + 1.0 * engagement)).astype(int)
    partner = rng.random(n) < 0.015  # a partner webinar: small, and its leads nearly always buy (honestly)
    y = np.where(partner, (rng.random(n) < 0.99).astype(int), y)
    won = y == 1
    source = rng.choice(["Google", "Direct", "Referral", "LinkedIn"], n, p=[0.4, 0.3, 0.15, 0.15])
    status_won = rng.choice(["Qualified", "Converted"], n)
    status_lost = rng.choice(["Unqualified", "Contacted", "Nurturing", "Attempted"], n, p=[0.4, 0.3, 0.2, 0.1])
    call_won = rng.choice(["Meeting booked", "Call back"], n, p=[0.7, 0.3])
    call_lost = rng.choice(["No answer", "Not interested", "Call back", "Voicemail"], n, p=[0.4, 0.3, 0.2, 0.1])
    return pd.DataFrame(
        {
            "Lead ID": [f"L{i:05d}" for i in range(n)],
            "Company Size": np.round(np.exp(3 + 0.8 * fit + rng.normal(size=n))),
            "Industry": np.where(fit + rng.normal(size=n) > 0.3, "Software", rng.choice(["Retail", "Health"], n)),
            "Country": rng.choice(["Germany", "France", "Spain", "Italy"], n),
            "Lead Source": np.where(partner, "Partner Webinar", source),
            "Website Visits": rng.poisson(np.exp(1 + 0.6 * engagement)),
            "Email Opens": rng.poisson(np.exp(0.5 + 0.5 * engagement)),
            "Demo Requested": np.where(engagement + rng.normal(size=n) > 1.0, "yes", "no"),
            "Lead Status": np.where(won, status_won, status_lost),
            "Lead Score": np.round(50 + 12 * y + 8 * engagement + rng.normal(0, 6, n)),
            "Amount": np.where(won & (rng.random(n) < 0.08), np.round(rng.uniform(2_000, 50_000, n)), np.nan),
            "Last Call Result": np.where(rng.random(n) < 0.3, None, np.where(won, call_won, call_lost)),
            "Converted": y,
        }
    )


def _features(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return frame.loc[:, list(columns)].reset_index(drop=True)


def _split(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    y = frame["Converted"].to_numpy(dtype=float)
    return y, np.arange(len(frame)) < int(len(frame) * 0.7)


def _flagged(report_findings: tuple) -> dict[str, set[str]]:  # type: ignore[type-arg]
    flagged: dict[str, set[str]] = {}
    for finding in report_findings:
        flagged.setdefault(finding.column, set()).add(finding.check)
    return flagged


# --- One-outcome values -------------------------------------------------------------------------------------


def _one_outcome(values: pd.Series, y: np.ndarray) -> OneOutcomeEvidence:
    groups, policy = value_groups(values), LeakagePolicy()
    return one_outcome_values(groups, y, policy.significance / len(groups), policy)


def test_values_of_one_outcome_are_found_with_their_counts() -> None:
    # 300 "Closed" all won, 600 "Ringing" with 6 won (1%), 1,100 "Open" at the rest: base rate 35%.
    values = pd.Series(["Closed"] * 300 + ["Ringing"] * 600 + ["Open"] * 1100)
    y = np.array([1.0] * 300 + [1.0] * 6 + [0.0] * 594 + [1.0] * 394 + [0.0] * 706)

    evidence = _one_outcome(values, y)

    found = {value.value: (value.rows, value.won, value.outcome) for value in evidence.values}
    assert found == {"'Ringing'": (600, 6, "lost"), "'Closed'": (300, 300, "won")}
    assert evidence.won_share == pytest.approx(300 / 700)
    assert evidence.lost_share == pytest.approx(594 / 1300)
    assert evidence.base_rate == pytest.approx(0.35)


def test_a_small_pure_value_is_not_enough_support_to_rule_out_chance() -> None:
    # 8 leads, all won, at a 50% base rate: p = 0.4%, far above the Bonferroni-corrected 0.1%.
    values = pd.Series(["Rare"] * 8 + ["a"] * 496 + ["b"] * 496)
    y = np.array([1.0] * 8 + [1.0, 0.0] * 496)

    assert _one_outcome(values, y).values == ()


def test_purity_is_read_against_the_base_rate() -> None:
    # At a 3% base rate, a value with 2% won is 98% lost and says nothing; at 40%, it is a lost-only value.
    values = pd.Series(["x"] * 1000 + ["y"] * 1000)
    rare_wins = np.array(([1.0] * 20 + [0.0] * 980) + ([1.0] * 40 + [0.0] * 960))
    common_wins = np.array(([1.0] * 20 + [0.0] * 980) + ([1.0] * 780 + [0.0] * 220))

    assert _one_outcome(values, rare_wins).values == ()
    assert [value.value for value in _one_outcome(values, common_wins).values] == ["'x'"]


def test_values_only_lost_leads_have_do_not_flag_a_column_alone() -> None:
    # At a 3% base rate students never buy (an honest negative signal covering 10% of the leads); a status column
    # that also says won for some leads is a leak.
    rng = np.random.default_rng(0)
    y = (rng.random(10_000) < 0.03).astype(float)
    student = (rng.random(10_000) < 0.1) & (y == 0)
    persona = pd.Series(np.where(student, "student", np.where(rng.random(10_000) < 0.5, "manager", "it")))
    status = pd.Series(np.where(y == 1, np.where(rng.random(10_000) < 0.5, "closed", "open"), persona))
    policy = LeakagePolicy()

    honest = _one_outcome(persona, y)
    assert [value.outcome for value in honest.values] == ["lost"]
    assert not honest.flags(policy)
    assert _one_outcome(status, y).flags(policy)


def test_an_answer_left_empty_by_the_leads_that_never_buy_is_honest() -> None:
    # Company size is empty for 20% of the leads, none of which converts: junk leads skip the field.
    y = np.array([1.0] * 100 + [0.0] * 700 + [0.0] * 200)
    size = pd.Series([250.0] * 400 + [40.0] * 400 + [np.nan] * 200)

    assert not _one_outcome(size, y).flags(LeakagePolicy())


def test_a_column_filled_only_for_some_won_leads_is_caught_though_its_aucs_are_near_chance() -> None:
    # "Amount" is filled for 8% of the won leads and none of the lost ones (base rate 20%).
    rng = np.random.default_rng(4)
    y = (rng.random(4000) < 0.2).astype(float)
    filled = (y == 1) & (rng.random(4000) < 0.08)
    amount = pd.Series(np.where(filled, rng.uniform(1000, 9000, 4000), np.nan))
    train_mask = np.arange(4000) < 2800

    assert single_feature_auc(amount, y, train_mask) < 0.6
    assert missingness_auc(amount, y, train_mask) < 0.6
    report = check_leakage(pd.DataFrame({"Field 7": amount}), y, train_mask, LeakagePolicy())

    assert _flagged(report.findings) == {"Field 7": {"one_outcome_values"}}
    evidence = report.findings[0].evidence
    assert evidence.startswith(f"'Field 7': {FILLED_IN} converts 100% of ")
    assert f"cover {filled.sum() / (y == 1).sum():.0%} of the won and 0% of the lost leads" in evidence
    assert report.findings[0].remedy == REMEDY


def test_value_groups_test_presence_and_the_frequent_values_of_numbers_in_steps() -> None:
    # A probability in steps (100 on won deals, 0 on lost) is tested value by value; a continuous number by its
    # presence and its spikes (an amount of 0 on lost deals), not its extremes: no one set those.
    steps = pd.Series([100.0] * 20 + [0.0] * 30 + [np.nan] * 15 + list(range(1, 10)))
    continuous = pd.Series([0.0] * 30 + [np.nan] * 15 + list(range(1, 60)) + [100.0] * 4)

    groups = value_groups(steps)

    assert set(groups) == {FILLED_IN, EMPTY, "100", "0"}
    assert groups["100"].sum() == 20
    assert groups[EMPTY].sum() == 15
    assert set(value_groups(continuous)) == {FILLED_IN, EMPTY, "0"}  # 30 of 93 values: a spike; 100 (4) is not
    assert set(value_groups(pd.Series([np.nan] * 15 + list(range(90))))) == {FILLED_IN, EMPTY}


# --- Lift beyond all other columns --------------------------------------------------------------------------


def test_a_score_sales_fill_in_lifts_beyond_all_other_columns_together() -> None:
    # No value of its own is pure; alone it beats every honest column together.
    frame = crm_export()
    y, train_mask = _split(frame)
    honest = ("Company Size", "Industry", "Website Visits", "Email Opens", "Country")
    features = _features(frame, (*honest, "Lead Score")).rename(columns={"Lead Score": "Field 9"})

    report = check_leakage(features, y, train_mask, LeakagePolicy())

    assert _flagged(report.findings) == {"Field 9": {"lift"}}
    assert report.findings[0].evidence.startswith("'Field 9' alone reaches AUC 0.")
    assert "all other columns together 0." in report.findings[0].evidence
    assert report.table.loc["Field 9", "others_auc"] < 0.8


def test_a_middling_column_is_judged_against_the_columns_no_other_evidence_flags() -> None:
    # Sales writes a first response time for the leads it works first, half of those that buy: alone AUC ~0.7,
    # no value pure. Beside the status (a leak of its own), "all the others" would reach AUC 1 and hide it.
    frame = crm_export()
    y, train_mask = _split(frame)
    rng = np.random.default_rng(4)
    worked_first = (y == 1) & (rng.random(len(y)) < 0.5)
    frame["Field 3"] = np.where(worked_first, rng.uniform(0, 2, len(y)), rng.uniform(0, 48, len(y))).round(1)
    honest = ("Company Size", "Industry", "Website Visits", "Email Opens", "Country")
    features = _features(frame, (*honest, "Lead Status", "Field 3"))

    report = check_leakage(features, y, train_mask, LeakagePolicy())

    assert _flagged(report.findings)["Field 3"] == {"lift"}
    assert "lift" not in _flagged(report.findings).get("Lead Status", set())  # flagged by its values instead
    assert report.table.loc["Field 3", "others_auc"] < 0.9  # the honest columns, without the status


def test_the_strongest_honest_column_is_no_lift_leak_where_its_name_says_who_the_lead_is() -> None:
    # Company size carries most of the signal (as firmographics often do); the others are weak. Removing it costs
    # the model more than 0.1 AUC, which alone would read as a leak; its name says it is known from the start.
    rng = np.random.default_rng(5)
    n = 3000
    size = rng.lognormal(4, 1.5, n)
    visits = rng.poisson(3, n)
    y = (rng.random(n) < _sigmoid(-1.5 + 0.9 * (np.log(size) - 4) + 0.1 * (visits - 3))).astype(float)
    unnamed = pd.DataFrame({"Field 1": size, "Website Visits": visits, "Country": rng.choice(["DE", "FR"], n)})
    train_mask = np.arange(n) % 3 != 0

    blind = check_leakage(unnamed, y, train_mask, LeakagePolicy())
    named = check_leakage(unnamed.rename(columns={"Field 1": "No. of Employees"}), y, train_mask, LeakagePolicy())

    assert _flagged(blind.findings) == {"Field 1": {"lift"}}  # the same evidence under a name that says nothing
    assert "(a column known before contact rarely reaches alone " in blind.findings[0].evidence
    assert named.findings == ()
    assert named.table.loc["No. of Employees", "status"] == "ok"


def test_a_modest_column_beside_columns_that_say_nothing_is_no_lift_leak() -> None:
    # A Kaggle-like marketing export: e-mail opens, modest alone, beside columns at chance: removing the opens
    # costs the model all it has (more than 0.1), which says nothing of when they were counted
    rng = np.random.default_rng(9)
    n = 3000
    opens = rng.poisson(4, n)
    y = (rng.random(n) < _sigmoid(-1.2 + 0.25 * (opens - 4))).astype(float)
    frame = pd.DataFrame({"EmailOpens": opens, "AdSpend": rng.normal(size=n), "Region Index": rng.normal(size=n)})
    train_mask = np.arange(n) % 3 != 0

    report = check_leakage(frame, y, train_mask, LeakagePolicy())

    measured = report.table.loc["EmailOpens"]
    assert 0.6 <= measured["single_feature_auc"] < 0.7
    assert measured["others_auc"] < 0.55
    assert report.findings == ()


@pytest.mark.parametrize(("others", "flagged"), [(0.72, True), (0.58, True), (0.51, False)])
def test_what_removing_a_column_costs_is_evidence_only_where_the_others_say_something(
    others: float, flagged: bool
) -> None:
    # a first response time of middling strength alone costs 0.13 beside columns at 0.72: sales' work; beside
    # columns at chance, that cost is the column's own signal, which the reach test judges
    nothing = OneOutcomeEvidence((), 0.0, 0.0, 0.3)
    full = others + 0.13

    found = _evidence_findings(
        "Field 4", pd.Series([1.0, 2.0]), nothing, 0.65, (0.65, others, full), 0.02, LeakagePolicy()
    )

    assert [finding.check for finding in found] == (["lift"] if flagged else [])


def test_lift_on_few_evaluation_conversions_is_read_against_their_noise() -> None:
    # 1% convert: the evaluation rows hold a handful of conversions, and "all other columns" can land below chance
    rng = np.random.default_rng(6)
    n = 1500
    frame = pd.DataFrame({"Field 1": rng.normal(size=n), "Field 2": rng.normal(size=n), "Field 3": rng.normal(size=n)})
    y = (rng.random(n) < _sigmoid(-5.2 + 0.8 * frame["Field 1"].to_numpy())).astype(float)
    train_mask = np.arange(n) % 3 != 0

    report = check_leakage(frame, y, train_mask, LeakagePolicy())

    assert int(y[~train_mask].sum()) < 15
    assert [finding for finding in report.findings if finding.check == "lift"] == []


def test_lift_measures_the_others_and_the_full_model_out_of_sample() -> None:
    frame = crm_export(n=1500)
    y, train_mask = _split(frame)
    features = _features(frame, ("Website Visits", "Email Opens", "Company Size", "Lead Status"))

    lifts = lift_beyond_others(features, y, train_mask, ["Lead Status", "Company Size"])

    assert list(lifts.index) == ["Company Size", "Lead Status"]  # in the order of the features
    assert lifts.loc["Lead Status", "full_auc"] > 0.95
    assert lifts.loc["Lead Status", "others_auc"] < 0.85  # without the status, only honest signal is left
    assert lifts.loc["Company Size", "others_auc"] > 0.95


def test_lift_is_not_measured_with_too_few_other_columns() -> None:
    frame = crm_export(n=500)
    y, train_mask = _split(frame)

    lifts = lift_beyond_others(_features(frame, ("Lead Score", "Email Opens")), y, train_mask)

    assert lifts[["others_auc", "full_auc"]].isna().all().all()
    assert (lifts["without"] == "").all()


# --- Words of sales work -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "word"),
    [
        ("Lead Status", "status"),
        ("Lead Owner", "owner"),
        ("Sales Rep", "sales_rep"),
        ("Assigned To", "assigned"),
        ("Last Call Result", "last_call_result"),
        ("Anrufergebnis", "anrufergebnis"),
        ("Letzte Aktivität", "letzte_aktivitaet"),
        ("Last Activity", "last_activity"),
        ("Close Date", "close"),
        ("Opportunity Amount", "opportunity"),
        ("Lead Quality", "quality"),
        ("Tags", "tags"),
        ("Lead Profile", "profile"),
        ("Asymmetrique Activity Score", "score"),
        ("Betreuer", "betreuer"),
        ("Disposition", "disposition"),
        ("Leadbesitzer", "besitzer"),
        ("Vertriebsphase", "vertrieb"),
        ("Anzahl der Verkaufsaktivitäten", "verkaufs"),
        ("Number of times contacted", "times_contacted"),
        ("Duration", "duration"),
        ("dur", "dur"),
        # a bare calendar part: when the last contact happened (a telemarketing export's "month", "day_of_week")
        ("month", "month"),
        ("day_of_week", "day_of_week"),
        ("mon", "mon"),
        ("Main Competitor(s)", "competitor"),
        ("Wettbewerber", "wettbewerber"),
        ("Push Count", "push_count"),
        ("Has Line Item", "line_item"),
        ("Fiscal Period", "fiscal_period"),
        # what sales establish to qualify a lead (BANT), in Dynamics' German export and elsewhere
        ("Kaufzeitrahmen", "kaufzeitrahmen"),
        ("Purchase Timeframe", "purchase_timeframe"),
        ("Kaufprozess", "kaufprozess"),
        # what sales confirmed, held or granted (Salesforce custom fields, a SaaS trial)
        ("Budget_Confirmed__c", "budget_confirmed"),
        ("Demo_Completed__c", "demo_completed"),
        ("trial_extended", "trial_extended"),
        # an offer or quote sales sent, and its sum
        ("Angebotssumme", "angebotssumme"),
        ("Quote Amount", "quote_amount"),
        ("Proposal Sent", "proposal_sent"),
        # a Pipedrive deals export: its record's prefix is no sales word, the deal's value and activities are
        ("Deal - Value", "deal_value"),
        # a deal's value in German, Dutch, French, Spanish, Portuguese and Italian (Teamleader's "Waarde")
        ("Wert (EUR)", "wert"),
        ("Waarde", "waarde"),
        ("Bedrag", "bedrag"),
        ("Montant", "montant"),
        ("Valor", "valor"),
        ("Importe", "importe"),
        ("Valore", "valore"),
        ("Deal - Done activities", "done_activities"),
        ("Deal - Activities to do", "activities_to_do"),
        ("Deal - Next activity date", "next_activity"),
        ("Deal - Email messages count", "email_messages_count"),
        ("Deal - Stage", "stage"),
        # Dynamics 365: sales' estimates on a lead
        ("Est. Value", "est_value"),
        ("Est. Close Date", "est_close_date"),
        # the CRM user who keyed in or last edited the record (Zoho, Salesforce)
        ("Modified By", "modified_by"),
        ("Geändert von", "geaendert_von"),
        ("Created By", "created_by"),
        # the rep by other names (Odoo, Bitrix24, a French or Spanish HubSpot)
        ("Salesperson", "salesperson"),
        ("Responsible person", "responsible"),
        ("Propriétaire du contact", "proprietaire"),
        ("Propietario del contacto", "propietario"),
        ("Erstellt von", "erstellt_von"),
        # what a rep types into a record, in English and German
        ("Bemerkung", "bemerkung"),
        ("Interne Notiz", "notiz"),
        ("Notizen", "notizen"),
        ("Anmerkungen", "anmerkungen"),
        ("Kommentar", "kommentar"),
        ("Internal Remarks", "internal_remarks"),
        ("Sales Comments", "sales_comments"),
        ("Gesprächsnotiz", "gespraech"),
        # a deal's probability and the deal itself in French, Spanish, Italian, Portuguese (fuzz20 H1: Pipedrive)
        ("Probabilité", "probabilite"),
        ("Probabilidad", "probabilidad"),
        ("Probabilità", "probabilita"),
        ("Probabilidade", "probabilidade"),
        ("Titre de l'affaire", "affaire"),
        ("Título del trato", "trato"),
        ("Étape", "etape"),
    ],
)
def test_names_that_speak_of_sales_work(column: str, word: str) -> None:
    assert sales_words_in_name(column) == word


@pytest.mark.parametrize(
    "column",
    [
        # what a web form asks as often as sales do
        "Product Need",
        "Special Needs",
        "Ihr Bedarf",
        "Project Timeline",
        "Gewünschter Zeitrahmen",
        "Are you the decision maker",
        "Marketing status",  # Pipedrive's: subscribed or not, the lead's own choice
        "Deal - Source",  # the record's prefix says no more than "Source"
        "Deal - Demo requested",
        "Request a Quote",  # the lead asked: a form's box
        "Quote Requested",
        "Angebotsanfrage",
        "Newsletter Angebote",
        "Quote of the day",
        "Email Status",
        "budget_stated",  # a form's question, the lead's own answer (the demo export's)
        "Lead Source",
        "Do Not Call",
        "Employment Status",
        "Company Size",
        "Website Visits",
        "Industry",
        "User Agent",
        "Annual Revenue",
        "ProductRelated_Duration",
        "Preferred Contact Method",
        "Email Opt Out",
        "Fiscal Year End",
        "Push Notifications Enabled",
        "Comment Count",  # the lead's comments on a blog or forum: engagement
        "Number of Comments",
        "Comments",  # a web form's message as often as a rep's: its values decide (notes of calls are sales')
        "Notification Preference",
        "Last Notable Activity",  # of one kind: the lead's own, as marketing automation records it
        "Created Month",  # a calendar part of a named moment
        "pdays",
        "Last Web Activity",
        "Policy_Sales_Channel",  # the channel a policy is sold through: known when the lead comes in
        "Vertriebskanal",
        "Sales Region",  # the territory routing gives a lead by where it is
        "Vertriebsgebiet",
        "Is Email Hard Bounced",  # a marketing tool's delivery (Pardot), not a sales sequence's
        "Welcome Email Sent",
        "Actividad comercial",  # the company's line of business, not its salesperson
        "Valor de facturación anual",  # the company's turnover beside a word for value
        "Jahresumsatz Wert",
        "Montant CA annuel",
        "Chiffre d'affaires",  # the company's turnover, not its deals
        "Contrato",
    ],
)
def test_names_of_what_the_lead_is_or_did_do_not(column: str) -> None:
    assert sales_words_in_name(column) is None


def test_values_that_speak_of_sales_contact_in_english_and_german() -> None:
    values = pd.Series(["Ringing", "switched off", "Closed by Horizzon", "Rückruf", "nicht erreicht", "Google", None])

    assert sales_words_in_values(values) == [
        "Closed by Horizzon",
        "nicht erreicht",
        "Ringing",
        "Rückruf",
        "switched off",
    ]
    assert sales_words_in_values(pd.Series([1.0, 2.0])) == []


@pytest.mark.parametrize(
    "call_results",
    [
        ["Injoignable", "Messagerie vocale", "Pas intéressé", "Rappel prévu"],
        ["Non risponde", "Richiamare", "Non interessato", "Numero errato"],
        ["No contesta", "Volver a llamar", "Buzón de voz", "No interesado"],
        ["Não atende", "Caixa postal", "Sem interesse"],
        ["Niet bereikbaar", "Terugbellen", "Geen interesse", "Verkeerd nummer"],
    ],
)
def test_a_calls_results_in_french_italian_spanish_portuguese_and_dutch_speak_of_sales_contact(
    call_results: list[str],
) -> None:
    values = pd.Series([*call_results, "Intéressé", "Interessato"] * 5)

    assert sales_words_in_values(values) == sorted(call_results, key=str.casefold)


def test_sales_sequences_and_recontacts_in_french_and_spanish_speak_of_sales_contact() -> None:
    values = pd.Series(["Séquence SDR - relance J+3", "A recontacter T3", "Secuencia comercial Q1", "Newsletter"] * 5)

    assert sales_words_in_values(values) == ["A recontacter T3", "Secuencia comercial Q1", "Séquence SDR - relance J+3"]


def test_a_reps_temperature_of_the_lead_speaks_of_sales_contact_as_the_whole_value() -> None:
    assert sales_words_in_values(pd.Series(["Heiß", "Warm", "Kalt", None] * 5)) == ["Heiß", "Kalt", "Warm"]
    assert sales_words_in_values(pd.Series(["Hot", "Cold", "Warm"] * 5)) == ["Cold", "Hot", "Warm"]
    # a product or a place that holds the word is not a temperature
    products_and_places = ["Cold storage", "Hot desk rental", "Warmwasser", "Kaltenkirchen", "Recycling", "Messagerie"]
    assert sales_words_in_values(pd.Series(products_and_places * 5)) == []


def test_a_reps_notes_in_english_and_german_speak_of_sales_contact_and_show_no_one_by_name() -> None:
    notes = [
        "Nicht erreicht (3.3.), erneut versuchen",
        "Mit Hr. Schulz gesprochen, Budget für Q2",
        "Demo am 3.3. durchgeführt, Angebot verschickt",
        "Spoke with Anna Meier, call back in May",
        "Left a message with Mr. Lee",
    ]
    values = pd.Series([*notes, *["Ringing"] * 5, *["left a message for anna meier"] * 6, "Wants pricing", None])

    said = sales_words_in_values(values)
    shown = shown_sales_values(values, said)

    assert said == sorted([*notes, "Ringing", "left a message for anna meier"], key=str.casefold)
    assert "Ringing" in shown  # a picklist's value, held by five leads: shown whole
    assert "... gesprochen ..." in shown
    assert "... Angebot verschickt ..." in shown
    assert not [value for value in shown if any(name in value for name in ("Schulz", "Anna", "Meier", "Lee"))]


def test_a_few_rare_call_results_among_the_leads_own_activities_are_no_sales_work() -> None:
    own = ["Email Opened"] * 60 + ["Page Visited on Website"] * 36
    rare = pd.Series([*own, "Unreachable", "Unreachable", "Had a Phone Conversation", "Had a Phone Conversation"])
    frequent = pd.Series([*own[:90], *["Unreachable"] * 3, *["Had a Phone Conversation"] * 3, None])

    assert sales_words_in_values(rare) == []  # 4 of 100 filled-in rows
    assert sales_words_in_values(frequent) == ["Had a Phone Conversation", "Unreachable"]  # 6 of 96


def test_a_name_alone_is_no_leak_without_evidence_from_the_data() -> None:
    frame = crm_export(n=1000)
    y, train_mask = _split(frame)
    owners = pd.Series(np.random.default_rng(5).choice(["Anna", "Ben", "Chris"], len(frame)))
    features = _features(frame, ("Website Visits", "Email Opens", "Company Size")).assign(**{"Lead Owner": owners})

    report = check_leakage(features, y, train_mask, LeakagePolicy())

    assert report.findings == ()


# --- Exports that mimic CRMs ----------------------------------------------------------------------------------


# --- Numbers counted up to the outcome --------------------------------------------------------------------


def _opportunities(n: int = 600, seed: int = 4) -> pd.DataFrame:
    """Opportunities with a creation date, a close date for the closed ones, their "Age" in days as Salesforce
    counts it (to the close, or to the export for open ones), and an honest number of employees."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    cycle = rng.integers(5, 120, n)
    closed = rng.random(n) < 0.85
    close = pd.Series(created + pd.to_timedelta(cycle, unit="D")).where(closed)
    exported = pd.Timestamp("2025-03-31")
    age = np.where(closed, cycle, (exported - created).days) + rng.integers(-1, 1, n, endpoint=True) * (cycle > 60)
    return pd.DataFrame(
        {
            "Opportunity ID": [f"006{i:05d}" for i in range(n)],
            "Created Date": created.strftime("%Y-%m-%d"),
            "Close Date": close.dt.strftime("%Y-%m-%d"),
            "Stage": np.where(closed, rng.choice(["Closed Won", "Closed Lost"], n), "Negotiation"),
            "Age": age,
            "Employees": rng.integers(5, 5000, n),
        }
    )


def test_a_number_counted_from_creation_to_the_close_knows_when_the_deal_ended() -> None:
    frame = _opportunities()
    created, closed = pd.to_datetime(frame["Created Date"]), pd.to_datetime(frame["Close Date"])

    age_share, rows = share_days_to_outcome(frame["Age"], created, closed)
    honest_share, _ = share_days_to_outcome(frame["Employees"], created, closed)

    assert age_share == 1.0  # counted in whole days, a day off either way at most
    assert rows == closed.notna().sum()  # open opportunities have no close to compare with
    assert honest_share < 0.05
    assert share_days_to_outcome(frame["Stage"], created, closed) == (pytest.approx(float("nan"), nan_ok=True), 0)


def test_check_leakage_stops_an_age_counted_to_the_close_and_inspect_proposes_it_after_contact() -> None:
    frame = _opportunities()
    y = frame["Stage"].map({"Closed Won": 1.0, "Closed Lost": 0.0}).to_numpy()
    created, closed = pd.to_datetime(frame["Created Date"]), pd.to_datetime(frame["Close Date"])
    features = _features(frame, ("Age", "Employees"))

    report = check_leakage(features, y, np.arange(len(frame)) < 400, LeakagePolicy(), None, closed, created_at=created)
    proposal = propose(frame.astype(str), profile_export(frame.astype(str)), "Stage")

    assert _flagged(report.findings) == {"Age": {"after_outcome"}}
    assert "is the number of days from created_at to the outcome date for 100%" in report.findings[0].evidence
    assert proposal.columns["Age"].role == "after_contact"  # its name is a person's age in most exports
    assert "counted up to the close" in proposal.review["Age"]
    assert proposal.columns["Employees"].role in FEATURE_ROLES


def test_a_number_counted_from_creation_to_the_export_is_an_open_leads_age() -> None:
    # fuzz21: a German Salesforce report's "Alter" without a close date mapped: "Alter: 0" was a reason against on
    # 5,357 of 7,500 new deals
    frame = _opportunities()
    created, still_open = pd.to_datetime(frame["Created Date"]), (frame["Stage"] == "Negotiation").to_numpy()

    counted = days_to_the_export(frame["Age"], created, still_open, min_rows=50)

    assert counted is not None
    day, share, rows = counted
    assert day == pd.Timestamp("2025-03-31")
    assert rows == (still_open & (created < created.max() - pd.Timedelta(days=2))).sum()  # not the last days' leads
    assert share > 0.9  # a day off either way for some
    assert days_to_the_export(frame["Employees"], created, still_open, min_rows=50) is None
    assert days_to_the_export(frame["Age"], created, ~still_open, min_rows=50) is None  # closed: to the close


def test_a_number_zero_for_the_newest_open_leads_is_no_age() -> None:
    # a trade-show list imported the day before the export: their visits, opens and flags are 0 (helper-84)
    created = pd.Series(pd.date_range("2025-01-01", periods=200).append(pd.DatetimeIndex(["2025-07-19"] * 300)))
    still_open = np.ones(len(created), dtype=bool)
    visits = pd.Series(np.r_[np.arange(200) % 7, np.zeros(300)])
    flags = pd.Series(np.r_[np.arange(200) % 2, np.zeros(300)])

    assert days_to_the_export(visits, created, still_open, min_rows=50) is None
    assert days_to_the_export(flags, created, still_open, min_rows=50) is None


def test_check_leakage_and_inspect_stop_an_age_counted_to_the_export_without_close_dates() -> None:
    frame = _opportunities().drop(columns=["Close Date"])
    y = frame["Stage"].map({"Closed Won": 1.0, "Closed Lost": 0.0}).to_numpy()
    created = pd.to_datetime(frame["Created Date"])
    features = _features(frame, ("Age", "Employees"))

    report = check_leakage(features, y, np.arange(len(frame)) < 400, LeakagePolicy(), arrived_at=created)
    proposal = propose(frame.astype(str), profile_export(frame.astype(str)), "Stage")

    assert _flagged(report.findings) == {"Age": {"age_at_the_export"}}
    assert "days from created_at to 2025-03-31 (the export's day)" in report.findings[0].evidence
    assert proposal.columns["Age"].role == "after_contact"
    assert "it counts the lead's age, which is 0 for every new lead" in proposal.review["Age"]
    assert proposal.columns["Employees"].role in FEATURE_ROLES


def test_every_post_contact_column_is_stopped_and_no_honest_one() -> None:
    frame = crm_export()
    y, train_mask = _split(frame)

    report = check_leakage(_features(frame, (*HONEST, *POST_CONTACT)), y, train_mask, LeakagePolicy())

    flagged = _flagged(report.findings)
    assert set(flagged) == set(POST_CONTACT)
    assert {"one_outcome_values", "sales_words"} <= flagged["Lead Status"]
    assert {"one_outcome_values", "sales_words"} <= flagged["Last Call Result"]
    assert "one_outcome_values" in flagged["Amount"]
    assert "sales_words" in flagged["Lead Score"]
    with pytest.raises(LeakageError, match=r"Amount.*Last Call Result|Last Call Result.*Amount"):
        report.raise_if_leaks()


def test_the_honest_columns_alone_pass_with_their_small_pure_channel() -> None:
    frame = crm_export()
    y, train_mask = _split(frame)

    report = check_leakage(_features(frame, HONEST), y, train_mask, LeakagePolicy())

    assert report.findings == ()
    assert 0.0 < report.table.loc["Lead Source", "one_outcome_share"] < 0.02  # 'Partner Webinar': real but small


def test_allowed_columns_keep_their_evidence_without_stopping() -> None:
    frame = crm_export(n=1500)
    y, train_mask = _split(frame)
    policy = LeakagePolicy(allowed=frozenset({"Lead Status"}))

    report = check_leakage(_features(frame, ("Website Visits", "Lead Status")), y, train_mask, policy)

    assert report.findings == ()
    assert "one_outcome_values" in {finding.check for finding in report.allowed}
    summary = json.loads(json.dumps(report.as_dict()))
    assert summary["passed"] is True
    assert summary["allowed"][0]["remedy"] == REMEDY


def _write(frame: pd.DataFrame, folder: Path) -> Path:
    path = folder / "export.csv"
    frame.to_csv(path, index=False)
    return path


def test_inspect_proposes_post_contact_columns_as_after_contact_with_their_evidence(tmp_path: Path) -> None:
    raw = read_export(_write(crm_export(), tmp_path)).frame
    profile = profile_export(raw)

    proposal = propose(raw, profile, "Converted")

    roles = {column: spec.role for column, spec in proposal.columns.items()}
    assert all(roles[column] not in FEATURE_ROLES for column in POST_CONTACT), roles
    assert all(roles[column] in FEATURE_ROLES for column in HONEST), roles
    assert proposal.review["Amount"].startswith("after contact? (filled in) converts 100% of")
    assert "'meeting booked' converts" in proposal.review["Last Call Result"]
    notes = proposal_notes(profile, proposal.mapping(), proposal.review)
    assert "after contact?" in notes["Last Call Result"]


def test_inspect_finds_post_contact_columns_by_their_data_whatever_their_names(tmp_path: Path) -> None:
    renamed = {"Lead Status": "Field 1", "Amount": "Field 2", "Last Call Result": "Field 3"}
    raw = read_export(_write(crm_export().rename(columns=renamed), tmp_path)).frame

    proposal = propose(raw, profile_export(raw), "Converted")

    assert {proposal.columns[column].role for column in renamed.values()} == {"after_contact"}
    assert "converts" in proposal.review["Field 1"]


def test_check_export_stops_on_a_proposal_reviewed_into_a_leak(tmp_path: Path) -> None:
    export = _write(crm_export(n=1500), tmp_path)
    raw = read_export(export).frame
    proposal = propose(raw, profile_export(raw), "Converted")
    columns = {**proposal.columns, "Last Call Result": proposal.columns["Industry"].model_copy(update={"group": None})}
    mapping_path = tmp_path / "mapping.yml"
    mapping_path.write_text(dump_mapping(proposal.mapping().model_copy(update={"columns": columns})))

    with pytest.raises(LeakageError) as stopped:
        prepare_export_files(export, mapping_path)

    message = str(stopped.value)
    assert re.search(r"'Last Call Result': '(no answer|meeting booked)' converts (0|100)% of", message)
    assert REMEDY in message


def test_check_export_stops_an_age_reviewed_back_into_a_feature(tmp_path: Path) -> None:
    export = _write(_opportunities(), tmp_path)
    raw = read_export(export).frame
    proposal = propose(raw, profile_export(raw), "Stage")
    columns = {**proposal.columns, "Age": proposal.columns["Employees"]}
    mapping_path = tmp_path / "mapping.yml"
    mapping_path.write_text(dump_mapping(proposal.mapping().model_copy(update={"columns": columns})))

    with pytest.raises(LeakageError, match="'Age' is the number of days from created_at to the outcome date"):
        prepare_export_files(export, mapping_path)


# --- The real X Education export ----------------------------------------------------------------------------

# the reviewed mapping's sales-filled columns, as the real-export benchmark declares them
SALES_FILLED = tuple(column for column, spec in X_EDUCATION.reviewed.items() if spec.role == "after_contact")


@pytest.mark.slow
@pytest.mark.skipif(not X_EDUCATION.path.exists(), reason=f"the X Education export is absent: {X_EDUCATION.path}")
def test_x_education_inspect_then_check_export_keeps_the_sales_filled_columns_out(tmp_path: Path) -> None:
    export = X_EDUCATION.path
    raw = read_export(export).frame
    profile = profile_export(raw)
    proposal = propose(raw, profile)
    mapping = proposal.mapping()
    mapping_path = tmp_path / "mapping.yml"
    mapping_path.write_text(dump_mapping(mapping, None, proposal_notes(profile, mapping, proposal.review)))

    after_contact = {column for column, spec in mapping.columns.items() if spec.role == "after_contact"}
    assert set(SALES_FILLED) <= after_contact
    honest_flagged = after_contact - set(SALES_FILLED)
    assert len(honest_flagged) <= 1, honest_flagged
    assert all(proposal.review[column].startswith("after contact?") for column in SALES_FILLED)
    assert "'will revert after reading the email' converts 97% of 2,072" in proposal.review["Tags"]
    assert "the name says 'quality'" in proposal.review["Lead Quality"]  # 'worst' converts 2%: lost-only, no proof

    prepared = prepare_export_files(export, mapping_path)  # check-export on the proposal: passes

    assert prepared.report["leakage"]["findings"] == []
    # Reviewed the other way (every sales-filled column a feature), check-export stops with evidence.
    as_features = dict.fromkeys(("Tags", "Lead Quality", "Last Activity"), mapping.columns["City"])
    leaky = mapping.model_copy(update={"columns": {**mapping.columns, **as_features}})
    leaky_path = tmp_path / "leaky.yml"
    leaky_path.write_text(dump_mapping(leaky))
    with pytest.raises(LeakageError) as stopped:
        prepare_export_files(export, leaky_path)
    message = str(stopped.value)
    assert "'Tags': 'will revert after reading the email' converts 97% of 2,072" in message
    assert "'Lead Quality': the name says 'quality'" in message
    assert "'Last Activity': the name says 'last_activity'" in message
