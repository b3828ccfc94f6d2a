"""Accounts: leads grouped by account id or business e-mail domain, and the account's roll-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.accounts import (
    ACCOUNT_COLUMNS,
    account_keys,
    account_rollup,
    account_totals,
    business_domain,
    engaged,
    lead_totals,
    merge_totals,
    rollup_from_totals,
    rollup_records,
)


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("Anna.Berg@ACME-Industries.de ", "acme-industries.de"),
        ("max@gmail.com", None),  # freemail: not a company
        ("no-at-sign.de", None),
        ("@acme.de", None),
        ("anna@localhost", None),
        (None, None),
        (float("nan"), None),
        # one company, one key
        ("anna@ACME.com.", "acme.com"),  # the fully qualified form
        ("anna@münchen.de", "xn--mnchen-3ya.de"),  # the ASCII form of an international domain
        ("anna@xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("max@gmail.com.", None),  # still freemail
        ("max@comcast.net", None),  # an internet provider's mailbox: households, not a company
        # not a host name: no key (a database column could refuse it, or one company would be split)
        ("John <john@acme.com>", None),
        ("a@acme.com;b@other.com", None),
        ("anna@acme\x00.de", None),
        ("anna@" + "x" * 300 + ".de", None),
        ("anna@" + "x" * 64 + ".de", None),
        ("anna@acme..de", None),
    ],
)
def test_the_business_domain_is_the_account_and_freemail_is_none(email: object, domain: str | None) -> None:
    assert business_domain(email) == domain


def test_an_account_id_wins_over_the_domain() -> None:
    keys = account_keys(
        np.array(["ACC-1", None, "  ", None], dtype=object),
        np.array(["a@acme.de", "b@acme.de", "c@firm.io", "d@gmail.com"], dtype=object),
    )

    assert keys.tolist() == ["ACC-1", "acme.de", "firm.io", None]
    assert account_keys(None, np.array(["a@acme.de"], dtype=object)).tolist() == ["acme.de"]
    assert account_keys(np.array(["X"], dtype=object), None).tolist() == ["X"]


def test_the_rollup_gives_the_chance_that_any_lead_converts_and_the_engaged_buying_group() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4", "L5"],
            "account": ["acme.de", "acme.de", "acme.de", "firm.io", None],
            "probability": [0.5, 0.2, 0.1, 0.3, 0.9],
            "is_mql": [True, False, False, True, True],
            "engaged": engaged(np.array(["A1", "B2", "C4", "A3", "A1"], dtype=object)),
        }
    )

    rollup = account_rollup(leads).set_index("account")

    assert list(account_rollup(leads).columns) == list(ACCOUNT_COLUMNS)
    assert rollup.index.tolist() == ["acme.de", "firm.io"]  # the lead without an account is left out
    assert rollup.loc["acme.de", "probability_any_converts"] == pytest.approx(1 - 0.5 * 0.8 * 0.9)
    assert rollup.loc["acme.de", "expected_conversions"] == pytest.approx(0.8)
    assert rollup.loc["acme.de", "leads"] == 3
    assert rollup.loc["acme.de", "engaged_leads"] == 2
    assert rollup.loc["acme.de", "mqls"] == 1
    assert (rollup.loc["acme.de", "best_lead"], rollup.loc["acme.de", "best_probability"]) == ("L1", 0.5)
    assert rollup.loc["firm.io", "probability_any_converts"] == pytest.approx(0.3)


def test_no_accounts_give_an_empty_rollup() -> None:
    leads = pd.DataFrame({"lead_id": ["L1"], "account": [None], "probability": [0.4], "is_mql": [True], "engaged": [1]})

    assert account_rollup(leads).empty
    assert list(account_rollup(leads).columns) == list(ACCOUNT_COLUMNS)


def test_totals_of_chunks_merge_to_the_rollup_of_all_leads() -> None:
    rng = np.random.default_rng(1)
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i:03d}" for i in range(300)],
            "account": rng.choice(["a.de", "b.de", "c.io", None], 300),
            "probability": rng.uniform(0, 0.6, 300),
            "is_mql": rng.random(300) < 0.3,
            "engaged": rng.random(300) < 0.5,
        }
    )

    chunks = [account_totals(leads.iloc[start : start + 70]) for start in range(0, 300, 70)]

    pd.testing.assert_frame_equal(rollup_from_totals(merge_totals(*chunks)), account_rollup(leads))


def test_the_records_of_lead_totals_are_the_rollup_of_the_frame() -> None:
    rng = np.random.default_rng(2)
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i:02d}" for i in range(40)],
            "account": rng.choice(["a.de", "b.de", None], 40),
            "probability": rng.uniform(0, 0.6, 40),
            "is_mql": rng.random(40) < 0.3,
            "engaged": rng.random(40) < 0.5,
        }
    )
    leads.loc[[3, 4], ["account", "probability"]] = ["a.de", 0.7]  # a tie for the best lead: the lower id

    columns = (leads[name].to_numpy() for name in ("lead_id", "account", "probability", "is_mql", "engaged"))
    records = rollup_records(lead_totals(*columns))

    pd.testing.assert_frame_equal(pd.DataFrame(records), account_rollup(leads), check_dtype=False)
    assert {record["account"]: record["best_lead"] for record in records}["a.de"] == "L03"
    assert all(type(value) in (str, int, float) for record in records for value in record.values())  # plain values
