"""Leakage checks: each kind of leak stops training with evidence; honest features, allowed columns and thin data
do not."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from pipelines.crm_export.leakage import (
    REMEDY,
    LeakageError,
    LeakagePolicy,
    Untouched,
    check_leakage,
    filled_after_contact,
    filled_beyond_rest,
    grown_after_contact,
    is_outreach,
    lift_beyond_others,
    missingness_auc,
    sales_words_in_name,
    share_after_outcome,
    single_feature_auc,
    worked_alongside,
)

N_LEADS = 400


@pytest.fixture
def outcome() -> tuple[np.ndarray, np.ndarray]:
    """Labels (about 30% won) and a 70/30 train/evaluation split, as if by creation date."""
    rng = np.random.default_rng(0)
    y = (rng.random(N_LEADS) < 0.3).astype(float)
    train_mask = np.arange(N_LEADS) < int(N_LEADS * 0.7)
    return y, train_mask


def _informative(y: np.ndarray, seed: int = 1) -> pd.Series:
    """A numeric feature that helps honestly: won leads are shifted by one standard deviation (AUC about 0.75)."""
    rng = np.random.default_rng(seed)
    return pd.Series(rng.normal(size=len(y)) + y, name="Website Visits")


def _status_mirroring(y: np.ndarray) -> pd.Series:
    rng = np.random.default_rng(2)
    won_status = np.where(rng.random(len(y)) < 0.9, "Qualified", "Working - Contacted")
    return pd.Series(np.where(y == 1, won_status, "Disqualified"), name="Lead Status")


def _amount_only_when_won(y: np.ndarray) -> pd.Series:
    rng = np.random.default_rng(3)
    return pd.Series(np.where(y == 1, rng.uniform(5_000, 80_000, len(y)), np.nan), name="Opportunity Amount")


# --- The three measurements, checked by hand on tiny examples ------------------------------------------------


def test_numeric_auc_matches_a_hand_count_with_train_median_imputation() -> None:
    # Training rows 10, 20, 30 -> median 20 fills the missing evaluation value.
    # Evaluation scores 1, 4, 20, 5, 2, 3 with won at 4, 20, 2 and lost at 1, 5, 3.
    # Won-above-lost pairs: 4 beats 1 and 3 (2), 20 beats all (3), 2 beats 1 (1): 6 of 9.
    values = pd.Series([10.0, 20.0, 30.0, 1.0, 4.0, np.nan, 5.0, 2.0, 3.0])
    y = np.array([0, 1, 0, 0, 1, 1, 0, 1, 0], dtype=float)
    train_mask = np.array([True] * 3 + [False] * 6)

    assert single_feature_auc(values, y, train_mask) == pytest.approx(6 / 9)


def test_numeric_auc_is_symmetric() -> None:
    values = pd.Series([0.0, 1.0, 3.0, 2.0, 1.0, 0.0])  # evaluation: won at 1 and 0, lost at 3 and 2
    y = np.array([0, 1, 0, 0, 1, 1], dtype=float)
    train_mask = np.array([True, True, False, False, False, False])

    assert single_feature_auc(values, y, train_mask) == pytest.approx(1.0)


def test_categorical_auc_matches_a_hand_count_with_train_rates_and_unseen_category() -> None:
    # Training: 'a' converts 2 of 3, 'b' 1 of 3, base rate 50%, so smoothed a > 50% > b.
    # Evaluation: won 'a' and unseen 'c' (-> base rate 50%), lost 'a' and 'b'.
    # Pairs: won a vs lost a tie (0.5), won a vs lost b (1), won c vs lost a (0), won c vs lost b (1): 2.5 of 4.
    values = pd.Series(["a", "a", "a", "b", "b", "b", "a", "c", "a", "b"])
    y = np.array([1, 1, 0, 0, 0, 1, 1, 1, 0, 0], dtype=float)
    train_mask = np.array([True] * 6 + [False] * 4)

    assert single_feature_auc(values, y, train_mask) == pytest.approx(2.5 / 4)


def test_missingness_auc_matches_a_hand_count() -> None:
    # Evaluation: missing for both lost leads and one of two won: scores lost 1, 1; won 1, 0.
    # Missing-above-present ranking: pairs (lost, won) -> (1 vs 1 tie, 1 vs 0 win) twice = 3 of 4 -> AUC 0.75.
    values = pd.Series([1.0, np.nan, np.nan, np.nan, np.nan, 7.0])
    y = np.array([1, 0, 0, 0, 1, 1], dtype=float)
    train_mask = np.array([True, True, False, False, False, False])

    assert missingness_auc(values, y, train_mask) == pytest.approx(0.75)


def test_missingness_auc_is_nan_when_never_or_always_missing() -> None:
    y = np.array([0, 1, 0, 1], dtype=float)
    train_mask = np.array([True, True, False, False])

    assert math.isnan(missingness_auc(pd.Series([1.0, 2.0, 3.0, 4.0]), y, train_mask))
    assert math.isnan(missingness_auc(pd.Series([1.0, 2.0, np.nan, np.nan]), y, train_mask))


def test_share_after_outcome_counts_only_rows_with_both_dates() -> None:
    activity = pd.Series(pd.to_datetime(["2025-03-01", "2025-01-01", "2025-02-10", None, "2025-05-01"]))
    outcome_at = pd.Series(pd.to_datetime(["2025-02-01", "2025-02-01", "2025-02-10", "2025-02-01", None]))

    # Rows 0-2 have both dates: one after (row 0), one before, one same day (not after).
    assert share_after_outcome(activity, outcome_at) == pytest.approx(1 / 3)


def test_share_after_outcome_is_nan_without_overlapping_dates() -> None:
    assert math.isnan(share_after_outcome(pd.Series([pd.NaT, pd.NaT]), pd.Series([pd.NaT, pd.NaT])))


def test_one_class_evaluation_rows_give_nan() -> None:
    values = pd.Series([1.0, 2.0, 3.0, 4.0])
    y = np.array([0, 1, 1, 1], dtype=float)
    train_mask = np.array([True, True, False, False])

    assert math.isnan(single_feature_auc(values, y, train_mask))
    assert math.isnan(single_feature_auc(pd.Series(["a", "b", "a", "b"]), y, train_mask))
    assert math.isnan(missingness_auc(pd.Series([1.0, None, None, 4.0]), y, train_mask))


def test_unlabelled_rows_are_ignored() -> None:
    values = pd.Series([10.0, 20.0, 30.0, 1.0, 4.0, np.nan, 5.0, 2.0, 3.0, 99.0, -99.0])
    y = np.array([0, 1, 0, 0, 1, 1, 0, 1, 0, np.nan, np.nan])
    train_mask = np.array([True] * 3 + [False] * 8)

    assert single_feature_auc(values, y, train_mask) == pytest.approx(6 / 9)


# --- check_leakage: each kind of leak --------------------------------------------------------------------------


def test_status_that_mirrors_the_outcome_is_a_leak(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    features = pd.DataFrame({"Lead Status": _status_mirroring(y), "Website Visits": _informative(y)})

    report = check_leakage(features, y, train_mask, LeakagePolicy())

    # The single AUC comes first; the one-outcome values and the name add their own evidence (test_leak_hunting).
    assert (report.findings[0].column, report.findings[0].check) == ("Lead Status", "single_feature_auc")
    assert {f.column for f in report.findings} == {"Lead Status"}
    finding = report.findings[0]
    assert finding.value > 0.95
    assert finding.limit == 0.95
    assert "'Disqualified' converts 0%" in finding.evidence
    assert "'Qualified' converts" in finding.evidence
    assert report.table.loc["Lead Status", "status"] == "leak"


def test_amount_present_only_for_won_leads_is_a_missingness_leak(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    features = pd.DataFrame({"Opportunity Amount": _amount_only_when_won(y)})

    report = check_leakage(features, y, train_mask, LeakagePolicy())

    checks = {f.check: f for f in report.findings}
    assert "missingness_auc" in checks
    assert checks["missingness_auc"].value == pytest.approx(1.0)
    assert "is missing for 100% of lost and 0% of won leads" in checks["missingness_auc"].evidence


def test_date_after_the_outcome_is_a_leak(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    rng = np.random.default_rng(4)
    outcome_at = pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 300, N_LEADS), unit="D"))
    days_after = rng.integers(1, 30, N_LEADS) * np.where(rng.random(N_LEADS) < 0.87, 1, -1)
    last_activity = outcome_at + pd.to_timedelta(days_after, unit="D")

    report = check_leakage(
        pd.DataFrame({"Website Visits": _informative(y)}),
        y,
        train_mask,
        LeakagePolicy(),
        date_columns={"Last Activity Date": last_activity},
        outcome_at=outcome_at,
    )

    assert [(f.column, f.check) for f in report.findings] == [("Last Activity Date", "after_outcome")]
    assert report.findings[0].evidence.startswith("'Last Activity Date' is after the outcome date for 8")
    assert report.table.loc["Last Activity Date", "status"] == "leak"
    assert math.isnan(report.table.loc["Last Activity Date", "single_feature_auc"])


def test_informative_honest_feature_passes(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    features = pd.DataFrame(
        {
            "Website Visits": _informative(y),
            "Industry": pd.Series(np.where(_informative(y, seed=5) > 0.5, "Software", "Retail")),
            "Newsletter Opt-in": _informative(y, seed=6) > 0.5,
        }
    )

    report = check_leakage(features, y, train_mask, LeakagePolicy())

    assert report.findings == ()
    assert 0.6 < report.table.loc["Website Visits", "single_feature_auc"] < 0.9
    assert 0.55 < report.table.loc["Newsletter Opt-in", "single_feature_auc"] < 0.9
    assert set(report.table["status"]) == {"ok"}
    report.raise_if_leaks()


def test_allowed_column_is_reported_but_does_not_stop_training(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    features = pd.DataFrame({"Lead Status": _status_mirroring(y)})

    report = check_leakage(features, y, train_mask, LeakagePolicy(allowed=frozenset({"Lead Status"})))

    assert report.findings == ()
    assert {f.column for f in report.allowed} == {"Lead Status"}
    assert report.table.loc["Lead Status", "status"] == "allowed"
    report.raise_if_leaks()


def test_unknown_allowed_column_is_noted(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome

    report = check_leakage(
        pd.DataFrame({"Website Visits": _informative(y)}),
        y,
        train_mask,
        LeakagePolicy(allowed=frozenset({"Lead Stat"})),
    )

    assert any("'Lead Stat'" in note for note in report.notes)


def test_an_export_without_untouched_leads_or_dates_says_what_was_not_compared(
    outcome: tuple[np.ndarray, np.ndarray],
) -> None:
    # IBM's sales win-loss sample: closed deals only, no dates; "Ratio Days Validated To Total Days" is 0 for a
    # new deal, and only names and strength can give such a column away
    y, train_mask = outcome

    report = check_leakage(pd.DataFrame({"Region": _informative(y)}), y, train_mask, LeakagePolicy())

    said = [note for note in report.notes if note.startswith("no leads marked as not yet touched by sales")]
    assert len(said) == 1
    assert "without creation and outcome dates" in said[0]
    assert "review every feature for whether a new lead has it" in said[0]


def test_error_names_every_leaking_column_with_evidence_and_remedy(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    features = pd.DataFrame(
        {"Lead Status": _status_mirroring(y), "Opportunity Amount": _amount_only_when_won(y), "Visits": _informative(y)}
    )
    report = check_leakage(features, y, train_mask, LeakagePolicy())

    with pytest.raises(LeakageError) as raised:
        report.raise_if_leaks()

    message = str(raised.value)
    assert isinstance(raised.value, ValueError)
    assert "'Lead Status' alone predicts the outcome with AUC" in message
    assert "'Opportunity Amount' is missing for 100% of lost and 0% of won leads" in message
    assert REMEDY in message
    assert "'Visits'" not in message


# --- Out of time --------------------------------------------------------------------------------------------------


def test_leak_only_in_the_training_period_is_flagged(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    # A status sales filled in on the older leads only (later leads all "Open") does not lift the out-of-time
    # rows, but the model would learn from it: the check within the training rows catches it.
    y, train_mask = outcome
    status = _status_mirroring(y).where(train_mask, "Open")

    report = check_leakage(pd.DataFrame({"Lead Status": status}), y, train_mask, LeakagePolicy())

    assert {finding.column for finding in report.findings} == {"Lead Status"}
    assert single_feature_auc(status, y, train_mask) == pytest.approx(0.5)  # out of time alone: invisible
    assert report.table.loc["Lead Status", "single_feature_auc"] > 0.95


def test_numeric_leak_only_in_the_evaluation_period_is_flagged(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    # The numeric AUC ranks the evaluation rows directly, so a column that starts leaking later is caught.
    y, train_mask = outcome
    noise = _informative(np.zeros(N_LEADS), seed=7)
    score = noise.where(train_mask, pd.Series(y * 10 + noise * 0.1))

    report = check_leakage(pd.DataFrame({"Sales Score": score}), y, train_mask, LeakagePolicy())

    assert (report.findings[0].column, report.findings[0].check) == ("Sales Score", "single_feature_auc")
    assert {f.column for f in report.findings} == {"Sales Score"}
    assert "AUC 1.00 on held-out rows (limit 0.95): median 9.99 for won vs" in report.findings[0].evidence


# --- Guards -----------------------------------------------------------------------------------------------------


def test_too_few_labelled_rows_skip_the_checks_with_a_note(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    mostly_open = np.where(np.arange(N_LEADS) % 10 == 0, y, np.nan)  # 40 labelled leads
    features = pd.DataFrame({"Lead Status": _status_mirroring(y)})

    report = check_leakage(features, mostly_open, train_mask, LeakagePolicy(min_rows=50))

    assert report.findings == ()
    assert report.table.loc["Lead Status", "status"] == "skipped"
    assert any("only 40 labelled leads" in note for note in report.notes)


def test_one_class_evaluation_does_not_crash(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    all_lost_later = np.where(train_mask, y, 0.0)
    features = pd.DataFrame({"Lead Status": _status_mirroring(y), "Amount": _amount_only_when_won(y)})

    report = check_leakage(features, all_lost_later, train_mask, LeakagePolicy())

    assert report.findings == ()
    assert report.table[["single_feature_auc", "missingness_auc"]].isna().all().all()
    assert any("all won or all lost" in note for note in report.notes)


def test_date_check_without_outcome_dates_is_skipped_with_a_note(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    dates = {"Last Activity Date": pd.Series(pd.date_range("2025-01-01", periods=N_LEADS, freq="D"))}

    report = check_leakage(pd.DataFrame(index=range(N_LEADS)), y, train_mask, LeakagePolicy(), date_columns=dates)

    assert report.table.loc["Last Activity Date", "status"] == "skipped"
    assert any("no outcome dates" in note for note in report.notes)


@pytest.mark.parametrize(
    "settings",
    [{"max_single_feature_auc": 0.5}, {"max_missingness_auc": 1.2}, {"max_share_after_outcome": -0.1}, {"min_rows": 0}],
)
def test_policy_rejects_impossible_limits(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="leakage"):
        LeakagePolicy(**settings)  # type: ignore[arg-type]


def test_mismatched_lengths_and_bad_labels_are_rejected() -> None:
    with pytest.raises(ValueError, match="one entry per row"):
        single_feature_auc(pd.Series([1.0, 2.0]), np.array([0.0, 1.0, 1.0]), np.array([True, False]))
    with pytest.raises(ValueError, match="won"):
        single_feature_auc(pd.Series([1.0, 2.0]), np.array([0.0, 2.0]), np.array([True, False]))


# --- Report and purity ------------------------------------------------------------------------------------------


def test_report_as_dict_is_json_serialisable(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    features = pd.DataFrame({"Lead Status": _status_mirroring(y), "Website Visits": _informative(y)})

    summary = check_leakage(features, y, train_mask, LeakagePolicy()).as_dict()

    restored = json.loads(json.dumps(summary, allow_nan=False))
    assert restored["passed"] is False
    assert restored["findings"][0]["column"] == "Lead Status"
    assert {row["column"]: row["status"] for row in restored["table"]} == {
        "Lead Status": "leak",
        "Website Visits": "ok",
    }
    assert restored["table"][1]["missingness_auc"] is None  # never missing: NaN becomes null


def test_inputs_are_not_mutated(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    features = pd.DataFrame(
        {
            "Lead Status": _status_mirroring(y).to_numpy(),
            "Amount": _amount_only_when_won(y).to_numpy(),
            "Opt-in": (_informative(y) > 0).to_numpy(),
        },
        index=np.arange(N_LEADS) * 3,  # rows are matched by position: a non-default index must not matter
    )
    rng = np.random.default_rng(8)
    outcome_at = pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 99, N_LEADS), unit="D"))
    dates = {"Last Activity Date": outcome_at + pd.Timedelta(days=3)}
    originals = (features.copy(), y.copy(), train_mask.copy(), outcome_at.copy(), dates["Last Activity Date"].copy())

    report = check_leakage(features, y, train_mask, LeakagePolicy(), date_columns=dates, outcome_at=outcome_at)

    pd.testing.assert_frame_equal(features, originals[0])
    np.testing.assert_array_equal(y, originals[1])
    np.testing.assert_array_equal(train_mask, originals[2])
    pd.testing.assert_series_equal(outcome_at, originals[3])
    pd.testing.assert_series_equal(dates["Last Activity Date"], originals[4])
    assert {f.column for f in report.findings} == {"Lead Status", "Amount", "Last Activity Date"}


def test_pandas_dtypes_are_judged_by_what_they_hold(outcome: tuple[np.ndarray, np.ndarray]) -> None:
    y, train_mask = outcome
    won = pd.Series(y == 1)
    features = pd.DataFrame(
        {
            "Stage (category)": _status_mirroring(y).astype("category"),
            "Opt-in (nullable)": won.astype("boolean").where(np.arange(N_LEADS) % 7 != 0),
            "Amount (Float64)": _amount_only_when_won(y).astype("Float64"),
            "Signed Up": pd.Series(pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(np.arange(N_LEADS), "D")),
        }
    )

    report = check_leakage(features, y, train_mask, LeakagePolicy())

    assert report.table["status"].to_dict() == {
        "Stage (category)": "leak",
        "Opt-in (nullable)": "leak",
        "Amount (Float64)": "leak",
        "Signed Up": "ok",  # a datetime is ranked as a number, unrelated to the outcome here
    }


def _worked_and_untouched(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """600 leads: 400 labelled that sales worked (30% won), 200 it has not touched yet (unlabelled)."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([(rng.random(400) < 0.3).astype(float), np.full(200, np.nan)])
    untouched = np.arange(600) >= 400
    return y, untouched, rng.random(600)


def test_a_column_sales_fills_after_contact_is_a_leak_against_the_leads_it_has_not_touched() -> None:
    y, untouched, noise = _worked_and_untouched()
    # a rep's field ("Current Generators"): filled on the call for a fifth of the worked leads, never before it;
    # the form's field is filled as often for both
    rep_field = pd.Series(np.where(~untouched & (noise < 0.2), "Diesel", None), name="Current Generators")
    form_field = pd.Series(np.where(noise < 0.5, "Yes", None), name="Newsletter")
    train_mask = np.arange(600) < 280

    features = pd.concat([rep_field, form_field], axis=1)

    report = check_leakage(features, y, train_mask, LeakagePolicy(), untouched=Untouched("Status", untouched))

    [finding] = [finding for finding in report.findings if finding.check == "filled_after_contact"]
    assert finding.column == "Current Generators"
    assert "filled for 2" in finding.evidence
    assert "0.0% of the 200 it has not touched yet ('Status')" in finding.evidence
    assert "Newsletter" not in {finding.column for finding in report.findings}


def _touches(untouched: np.ndarray, noise: np.ndarray) -> tuple[pd.Series, pd.Series, pd.Series]:
    """0 until sales works the lead; the lead's own count (any value, touched or not); a demo requested (no for
    every untouched lead)."""
    touches = pd.Series(np.where(untouched, 0.0, np.floor(noise * 6)), name="Touches")
    visits = pd.Series(np.floor(noise * 9), name="Visits")
    demo = pd.Series(np.where(untouched, False, noise < 0.3), name="Demo requested", dtype="boolean")
    return touches, visits, demo


def _owner(untouched: np.ndarray, noise: np.ndarray) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Salesforce's Lead Owner: "Lead Queue" until a rep takes the lead; the lead's industry; a newsletter yes/no in
    words (no for every untouched lead)."""
    reps = np.array(["kim lee", "jonas berg", "ana torres"])[(noise * 3).astype(int)]
    owner = pd.Series(np.where(untouched, "lead queue", reps), name="Lead Owner")
    industry = pd.Series(np.array(["it", "retail"])[(noise * 2).astype(int)], name="Industry")
    newsletter = pd.Series(np.where(untouched, "no", np.where(noise < 0.4, "yes", "no")), name="Newsletter")
    return owner, industry, newsletter


@pytest.mark.parametrize(
    ("columns", "evidence"),
    [
        (_touches, "'Touches' is other than 0 for 79% of the 400 leads sales has worked"),
        (_owner, "'Lead Owner' is other than 'lead queue' for 100% of the 400 leads sales has worked"),
    ],
)
def test_a_value_every_untouched_lead_holds_is_the_column_at_rest_and_other_values_a_leak(
    columns: Callable[[np.ndarray, np.ndarray], tuple[pd.Series, pd.Series, pd.Series]], evidence: str
) -> None:
    # never empty, so "filled" alone saw no difference: a count of sales' touches, an owner's queue
    y, untouched, noise = _worked_and_untouched()
    leaking, honest, yes_no = columns(untouched, noise)
    train_mask = np.arange(600) < 280

    report = check_leakage(
        pd.concat([leaking, honest, yes_no], axis=1),
        y,
        train_mask,
        LeakagePolicy(),
        untouched=Untouched("Status", untouched),
    )

    [finding] = [finding for finding in report.findings if finding.check == "filled_after_contact"]
    assert finding.column == leaking.name
    assert evidence in finding.evidence
    assert "0.0% of the 200 it has not touched yet ('Status')" in finding.evidence
    # a yes/no the untouched leads all answer no stays (as a boolean or in words): a demo requested brings sales
    assert filled_beyond_rest(yes_no, untouched, LeakagePolicy().min_rows)[1] is None


def test_a_value_nearly_every_untouched_lead_holds_is_at_rest_where_a_few_were_touched_early() -> None:
    # a Pipedrive entry stage: 4 of its 200 untouched deals had a first call logged already (fuzz22b)
    y, untouched, noise = _worked_and_untouched()
    touches = pd.Series(np.where(untouched, 0.0, np.floor(noise * 6) + 1), name="Touches")
    touches[np.flatnonzero(untouched)[:4]] = 1.0

    filled, at_rest = filled_beyond_rest(touches, untouched, LeakagePolicy().min_rows)
    report = check_leakage(
        touches.to_frame(), y, np.arange(600) < 280, LeakagePolicy(), untouched=Untouched("Status", untouched)
    )

    assert at_rest == 0.0
    assert int(filled[untouched].sum()) == 4
    assert "'Touches' is other than 0 for 100% of the 400 leads sales has worked but for 2.0% of the 200" in (
        report.findings[0].evidence
    )


@pytest.mark.parametrize(
    ("name", "stopped"),
    [
        ("Demo requested", False),
        ("Trial Request", False),
        ("Is Starred", True),
        ("Meeting Booked", True),
        ("Is SQL", True),
    ],
)
def test_a_yes_no_feature_no_untouched_lead_says_yes_to_is_at_rest_only_where_its_name_speaks_of_sales(
    name: str, stopped: bool
) -> None:
    # check-export judges the model's features, where a yes/no is 0 or 1: a demo requested brings sales within
    # hours, so no lead still untouched has one; a rep's star (Pardot), a meeting booked are sales' own marks
    y, untouched, noise = _worked_and_untouched()
    said_yes = pd.Series(np.where(untouched, 0.0, (noise < 0.3).astype(float)), name=name)
    visits = pd.Series(np.floor(noise * 9), name="Visits")

    report = check_leakage(
        pd.concat([said_yes, visits], axis=1),
        y,
        np.arange(600) < 280,
        LeakagePolicy(),
        untouched=Untouched("Status", untouched),
    )

    found = [finding for finding in report.findings if finding.check == "filled_after_contact"]
    assert [finding.column for finding in found] == ([name] if stopped else [])


def test_a_title_every_untouched_lead_has_its_own_is_said_as_such_not_other_than_other() -> None:
    # Teamleader's deal title: "Nieuwe deal <company>" until worked, each rare and grouped as "other"
    y, untouched, _ = _worked_and_untouched()
    worked = ~np.isnan(y) & ~untouched

    found = filled_after_contact("Titel", ~untouched, untouched, worked, "Fase", LeakagePolicy(), at_rest="other")

    assert found is not None
    assert "'Titel' is a value shared by other leads (not one of the rare ones grouped as 'other')" in found.evidence


def test_an_engagement_count_that_keeps_counting_once_sales_works_the_lead_is_a_leak_against_the_untouched() -> None:
    # fuzz25's HubSpot contacts: visits 1-4 for the leads sales has not touched yet ("Nuevo"), 3 and more (the
    # demo, the pricing call, onboarding) for the worked ones; the company's size differs as much (sales works the
    # bigger companies first) but is no count; the e-mail opens are the lead's own, alike for both
    y, untouched, noise = _worked_and_untouched()
    rng = np.random.default_rng(4)
    visits = np.where(untouched, rng.integers(1, 5, 600), 3 + rng.poisson(9, 600)).astype(float)
    employees = np.where(untouched, rng.integers(1, 10, 600), rng.integers(10, 500, 600)).astype(float)
    features = pd.DataFrame(
        {"Número de visitas": visits, "Número de empleados": employees, "Email opens": np.floor(noise * 9)}
    )

    report = check_leakage(features, y, np.arange(600) < 280, LeakagePolicy(), untouched=Untouched("Estado", untouched))

    [finding] = [finding for finding in report.findings if finding.check == "grown_after_contact"]
    assert finding.column == "Número de visitas"
    bound = np.quantile(visits[~untouched], 0.1, method="lower")
    assert finding.value == pytest.approx(float(np.mean(visits[untouched] < bound)))
    assert f"is below {bound:g} for {finding.value:.0%} of the 200 leads sales has not touched yet ('Estado')" in (
        finding.evidence
    )
    assert "where nine in ten of the 400 it has worked hold" in finding.evidence
    assert {"Número de empleados", "Email opens"}.isdisjoint(f.column for f in report.findings)
    # the mapping's group wins over the name's guess: an enrichment's "website visits" mapped as fit is no count
    as_fit = check_leakage(
        features,
        y,
        np.arange(600) < 280,
        LeakagePolicy(),
        untouched=Untouched("Estado", untouched),
        feature_groups={"Número de visitas": "fit"},
    )
    assert "grown_after_contact" not in {f.check for f in as_fit.findings}


def test_an_objection_said_far_more_often_by_worked_leads_is_a_leak_against_the_untouched() -> None:
    # fuzz30's Salesforce opt-out: 3% of the new leads, 15% of the worked ones (they object to sales' e-mails); a
    # newsletter opt-out said alike by both is the lead's own and stays
    y, untouched, _ = _worked_and_untouched()
    rng = np.random.default_rng(7)
    opted_out = np.where(untouched, rng.random(600) < 0.03, rng.random(600) < 0.15).astype(float)
    newsletter = (rng.random(600) < 0.1).astype(float)
    features = pd.DataFrame(
        {"Email Opt Out": opted_out, "Newsletter Unsubscribed": newsletter, "Demo Booked": newsletter}
    )

    report = check_leakage(features, y, np.arange(600) < 280, LeakagePolicy(), untouched=Untouched("Status", untouched))

    [finding] = [finding for finding in report.findings if finding.check == "objected_after_contact"]
    assert finding.column == "Email Opt Out"
    assert "of the 200 it has not touched yet ('Status'): leads object to sales' e-mails" in finding.evidence
    assert "Newsletter Unsubscribed" not in {f.column for f in report.findings}


def test_grown_after_contact_needs_a_count_enough_leads_with_a_value_and_most_untouched_below() -> None:
    y, untouched, noise = _worked_and_untouched()
    worked = ~np.isnan(y) & ~untouched
    policy = LeakagePolicy()
    grown = pd.Series(np.where(untouched, 1.0, 5.0 + np.floor(noise * 20)))

    assert grown_after_contact("Website visits", grown, untouched, worked, "Status", policy) is not None
    assert grown_after_contact("Company size", grown, untouched, worked, "Status", policy) is None  # fit
    # ... judged by the export column that speaks for the feature
    assert grown_after_contact("x1", grown, untouched, worked, "Status", policy, named="Page views") is not None
    yes_no = pd.Series(np.where(untouched, 0.0, 1.0))
    assert grown_after_contact("Website visits", yes_no, untouched, worked, "Status", policy) is None
    few = grown.where(~untouched | (np.arange(600) < 420))  # 20 untouched leads with a value
    assert grown_after_contact("Website visits", few, untouched, worked, "Status", policy) is None
    some = pd.Series(np.where(untouched & (noise < 0.4), 1.0, 5.0 + np.floor(noise * 20)))  # 40% below: not most
    assert grown_after_contact("Website visits", some, untouched, worked, "Status", policy) is None


def test_a_field_the_form_asks_of_some_and_sales_of_everyone_else_is_filled_after_contact() -> None:
    # fuzz25: Zoho's "Nº de usuários previstos", on the form for a fifth of new deals, asked on the first call of
    # every worked one; an optional form field half the leads fill in, and sales completes, is no such field
    y, untouched, noise = _worked_and_untouched()
    worked = ~np.isnan(y) & ~untouched
    policy = LeakagePolicy()
    asked = ~untouched | (noise < 0.2)
    optional = ~untouched | (noise < 0.6)
    mostly = (~untouched & (noise < 0.9)) | (untouched & (noise < 0.2))  # 90% of the worked: not nearly all

    finding = filled_after_contact("Usuários previstos", asked, untouched, worked, "Fase", policy)
    assert finding is not None
    assert "filled for 100% of the 400 leads sales has worked but for" in finding.evidence
    assert filled_after_contact("Usuários previstos", optional, untouched, worked, "Fase", policy) is None
    # a company's size a demo form asks and a download form does not, the demo's leads worked first: no finding
    assert filled_after_contact("Number of Employees", asked, untouched, worked, "Fase", policy) is None
    assert filled_after_contact("Usuários previstos", mostly, untouched, worked, "Fase", policy) is None


def test_filled_after_contact_needs_enough_leads_of_each_kind_and_more_than_chance() -> None:
    y, untouched, noise = _worked_and_untouched()
    worked = ~np.isnan(y) & ~untouched
    rare = ~untouched & (noise < 0.2)
    policy = LeakagePolicy()

    assert filled_after_contact("Rep field", rare, untouched, worked, "Status", policy) is not None
    few = untouched & (np.arange(600) < 420)  # 20 untouched leads: below the guard's minimum
    assert filled_after_contact("Rep field", rare, few, worked, "Status", policy) is None
    thin = ~untouched & (noise < 0.05)  # filled for 5% of the worked leads: too rare to tell
    assert filled_after_contact("Rep field", thin, untouched, worked, "Status", policy) is None
    both = noise < 0.2  # filled as often for the untouched leads
    assert filled_after_contact("Rep field", both, untouched, worked, "Status", policy) is None


def test_columns_kept_out_by_name_do_not_hide_another_from_the_lift() -> None:
    # the bank export with "duration" renamed "secs": columns inspect keeps out by their names follow the call and
    # together know what secs knows (named neutrally here: the guard's own name check would flag them first)
    rng = np.random.default_rng(8)
    y = (rng.random(3_000) < 0.3).astype(float)
    secs = 1.5 * y + rng.normal(size=3_000)
    by_name = {name: 0.7 * secs + rng.normal(size=3_000) for name in ("field_a", "field_b", "field_c")}
    honest = {"age": 0.3 * y + rng.normal(size=3_000), "job": 0.3 * y + rng.normal(size=3_000)}
    features = pd.DataFrame({"secs": secs, **by_name, **honest})
    train_mask = np.arange(3_000) < 2_100

    hidden = check_leakage(features, y, train_mask, LeakagePolicy())
    found = check_leakage(features, y, train_mask, LeakagePolicy(), kept_out=list(by_name))

    assert hidden.findings == ()  # the three among "all the others" reach what secs reaches
    assert [(finding.column, finding.check) for finding in found.findings] == [("secs", "lift")]


def test_two_counters_that_grew_after_the_win_do_not_hide_each_other_from_the_lift() -> None:
    # a HubSpot snapshot: sessions and pageviews kept counting after the win; each is among "all the others" of the
    # other, which then reach what it reaches alone
    rng = np.random.default_rng(9)
    y = (rng.random(3_000) < 0.3).astype(float)
    sessions = rng.poisson(4, 3_000) + rng.poisson(3, 3_000) * y
    pageviews = 3 * sessions + rng.poisson(3, 3_000)
    honest = {"size": 0.3 * y + rng.normal(size=3_000), "industry": 0.2 * y + rng.normal(size=3_000)}
    features = pd.DataFrame({"Number of Sessions": sessions, "Number of Pageviews": pageviews, **honest})
    train_mask = np.arange(3_000) < 2_100

    report = check_leakage(features, y, train_mask, LeakagePolicy())

    lifted = {finding.column: finding.evidence for finding in report.findings if finding.check == "lift"}
    assert set(lifted) == {"Number of Sessions", "Number of Pageviews"}
    assert "leaving out 'Number of Pageviews' as well: columns that move with it" in lifted["Number of Sessions"]


def test_a_field_no_new_lead_has_yet_is_compared_with_the_worked_leads_of_its_time() -> None:
    # a field dropped from the web form in the last months: empty for the newest leads, worked or not; the leads
    # sales has not touched yet are the newest
    rng = np.random.default_rng(5)
    created = pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 365, 800)), unit="D"))
    untouched = (np.arange(800) >= 680) | ((np.arange(800) >= 560) & (rng.random(800) < 0.3))
    y = np.where(untouched, np.nan, (rng.random(800) < 0.3).astype(float))
    dropped = pd.Series(np.where((created < pd.Timestamp("2025-09-01")) & (rng.random(800) < 0.6), "Yes", None))
    features = pd.DataFrame({"Budget approved": dropped})
    train_mask = np.arange(800) < 500

    undated = check_leakage(features, y, train_mask, LeakagePolicy(), untouched=Untouched("Status", untouched))
    dated = check_leakage(features, y, train_mask, LeakagePolicy(), untouched=Untouched("Status", untouched, created))

    assert [finding.check for finding in undated.findings] == ["filled_after_contact"]  # without dates: it looks so
    assert dated.findings == ()  # the worked leads of the untouched leads' months have none either


def test_too_few_leads_worked_since_the_untouched_came_in_are_made_up_by_the_nearest_in_time() -> None:
    # 11 leads worked since the untouched ones came in: the 50 newest worked leads stand for them (a Marketo export's
    # 44 had left every column unjudged); with enough since then, those alone
    created = pd.Series(pd.date_range("2025-01-01", periods=400, freq="D"))
    days = np.arange(400)
    untouched = (days >= 370) & (days % 2 == 1)
    worked = days % 2 == 0

    few = worked_alongside(untouched, worked, created, min_rows=50)
    enough = worked_alongside(untouched, worked, created, min_rows=5)

    assert few.sum() == 50
    assert (days[few] >= 300).all()  # the newest worked leads, nearest to the untouched ones
    assert enough.sum() == 11
    assert (days[enough] >= 376).all()
    assert worked_alongside(untouched, worked, created).sum() == 11  # without a minimum, as before
    long_ago = worked & (days < 200)  # none within a quarter before: no stand-ins, the check is skipped with a note
    assert worked_alongside(untouched, long_ago, created, min_rows=50).sum() == 0


@pytest.mark.parametrize(
    "column",
    ["Email Sent", "Email Bounced", "Emails Sent", "Contacted", "Called", "Demoed", "Demo completed", "Meeting held",
     "Replied", "Deal - Demoed", "Responded to Outreach", "Outreach Stage", "Sequence Step", "Sales Cadence",
     "SDR Sequences", "Sales Touches", "Dials", "Discovery Call", "Discovery Done"],
)  # fmt: skip
def test_outreach_done_to_the_lead_is_sales_work_by_name(column: str) -> None:
    # an Apollo sequence's flags: e-mails sales sent or that bounced, a demo held, the lead's reply to sales
    assert is_outreach(column)
    assert sales_words_in_name(column) is not None


@pytest.mark.parametrize(
    "column",
    ["Demo Requested", "Email Open", "Email Opens", "Marketing emails opened", "Marketing emails clicked",
     "Marketing emails bounced", "Marketing emails sent", "Invites Sent", "Last Notable Activity", "Touchpoints",
     "Marketing Touchpoints", "Responded", "Campaign Responded", "Meeting Booked", "Attended Webinar",
     "Sequence Number", "Nurture Sequence", "Billing Cadence", "Marketing Touches", "Total Touches",
     "Community Outreach", "Terms Agreement Date", "Data Processing Agreement Signed"],
)  # fmt: skip
def test_the_leads_own_actions_and_marketings_e_mails_are_no_outreach(column: str) -> None:
    # the lead's own request and what it did with a marketing tool's e-mails stay features, judged by the data (a
    # campaign's "Responded" is the lead's answer to marketing; a meeting booked through a scheduling link its own)
    assert not is_outreach(column)
    assert sales_words_in_name(column) is None


@pytest.mark.parametrize(
    "column",
    ["Handed to Sales", "Passed to Sales", "Sales Handoff", "Contract Sent", "Contract Signed",
     "Decision Maker Identified", "Budget Verified", "Reached", "Connected", "Attempts", "Meetings",
     "Number of Meetings"],
)  # fmt: skip
def test_what_sales_did_with_the_lead_is_sales_work_by_name(column: str) -> None:
    # the hand-over the MQL decision makes, a contract sent, BANT items sales found out, a call's result and the
    # attempts and meetings counted: known only after sales took the lead
    assert sales_words_in_name(column) is not None


@pytest.mark.parametrize(
    "column",
    ["Elapsed Days In Sales Stage", "Total Days Identified Through Closing", "Total Days Identified Through Qualified",
     "Ratio Days Validated To Total Days", "Ratio Days Identified To Total Days", "Sales Stage Change Count",
     "Days in Stage", "Stage Duration", "Time in Pipeline", "Days to Closing"],
)  # fmt: skip
def test_a_span_of_the_deals_way_through_the_pipeline_is_sales_work_by_name(column: str) -> None:
    # IBM's sales win-loss sample: each grows as sales works the deal; a new deal has 0
    assert sales_words_in_name(column) is not None


@pytest.mark.parametrize(
    "column",
    [
        "Time Zone",
        "Days Since Last Visit",
        "Time on Site",
        "Total Time Spent on Website",
    ],
)
def test_the_leads_own_time_is_no_pipeline_span(column: str) -> None:
    assert sales_words_in_name(column) is None


@pytest.mark.parametrize("column", ["Latest Funding Amount", "Total Funding Amount", "Amount Raised"])
def test_a_companys_funding_amount_is_no_sales_work(column: str) -> None:
    # company enrichment (Apollo, Crunchbase): firmographic, not a deal's amount
    assert sales_words_in_name(column) is None


@pytest.mark.parametrize("column", ["Amount", "Deal Amount", "Quote Amount"])
def test_a_deals_amount_stays_sales_work(column: str) -> None:
    assert sales_words_in_name(column) is not None


def test_yes_no_columns_that_follow_each_other_are_judged_apart_in_the_lift() -> None:
    # a sequence's flags: an e-mail opened or bounced only where one was sent, a bounced one never opened; their
    # |Spearman| stays low, yet each hides the others from "all the other columns"
    rng = np.random.default_rng(3)
    n = 3_000
    y = (rng.random(n) < 0.35).astype(float)
    sent = rng.random(n) < 0.85
    bounced = sent & (rng.random(n) < 0.15)
    opened = sent & ~bounced & (rng.random(n) < 0.3 + 0.4 * y)
    honest = rng.random(n) < 0.3 + 0.2 * y  # a lead's own yes/no, independent of the sequence's flags
    yes_no = {"Email Sent": sent, "Email Bounced": bounced, "Email Open": opened, "Webinar Attended": honest}
    features = pd.DataFrame({name: np.where(flag, "true", "false") for name, flag in yes_no.items()})
    features["Company Size"] = 0.3 * y + rng.normal(size=n)
    train_mask = np.arange(n) < 2_100

    lifts = lift_beyond_others(features, y, train_mask)

    assert set(lifts.loc["Email Open", "without"].split(", ")) == {"'Email Sent'", "'Email Bounced'"}
    assert set(lifts.loc["Email Sent", "without"].split(", ")) == {"'Email Bounced'", "'Email Open'"}
    assert lifts.loc["Webinar Attended", "without"] == ""
    assert lifts.loc["Company Size", "without"] == ""
