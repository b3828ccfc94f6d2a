"""Accounts: the leads of one company scored together, so sales sees the buying group, not just the person.

A lead's account is the CRM's account id (a column mapped as ``account``) or, without one, the domain of its
business e-mail address (a freemail, invalid or missing address gives no account: gmail.com is not a company). Per
account (:func:`account_rollup`):

- ``probability_any_converts``: 1 - prod(1 - p) over its leads, the chance that at least one converts if they
  decided independently (they do not quite: colleagues talk, so read it as an upper estimate);
- ``expected_conversions``: the sum of the probabilities;
- ``engaged_leads``: the engaged buying-group size, leads whose engagement is in the upper half of the training
  leads' (engagement digit 1 or 2 of the grade);
- ``mqls``, ``leads`` and the best lead with its probability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.email_domains import FREEMAIL_DOMAINS

ACCOUNT_COLUMNS = (
    "account",
    "leads",
    "probability_any_converts",
    "expected_conversions",
    "mqls",
    "engaged_leads",
    "best_lead",
    "best_probability",
)
ENGAGED_DIGITS = frozenset("12")  # the engagement digit of grades A1..D4: upper half of the training leads


def business_domain(email: object, freemail_domains: frozenset[str] = FREEMAIL_DOMAINS) -> str | None:
    """The company domain of a business e-mail address; None for freemail, invalid or missing addresses."""
    if not isinstance(email, str):
        return None
    local_part, at_sign, domain = email.strip().lower().rpartition("@")
    if not at_sign or not local_part or "." not in domain or " " in domain or domain in freemail_domains:
        return None
    return domain


def account_keys(
    account_ids: np.ndarray | None, emails: np.ndarray | None, freemail_domains: frozenset[str] = FREEMAIL_DOMAINS
) -> np.ndarray:
    """Each lead's account: its account id where given (trimmed), else its business e-mail domain, else None."""
    n = len(account_ids) if account_ids is not None else len(emails) if emails is not None else 0
    keys = np.full(n, None, dtype=object)
    if emails is not None:
        codes, uniques = pd.factorize(pd.Series(emails, dtype=object), use_na_sentinel=True)
        domains = np.array([business_domain(email, freemail_domains) for email in uniques] + [None], dtype=object)
        keys = domains[codes]
    if account_ids is not None:
        given = pd.Series(account_ids, dtype=object).map(lambda v: str(v).strip() or None, na_action="ignore")
        keys = np.where(given.notna().to_numpy(), given.to_numpy(), keys)
    return keys


def engaged(grades: np.ndarray) -> np.ndarray:
    """Whether each lead's engagement is in the upper half (the grade's digit is 1 or 2)."""
    return np.array([isinstance(g, str) and len(g) == 2 and g[1] in ENGAGED_DIGITS for g in grades], dtype=bool)


def account_totals(leads: pd.DataFrame) -> pd.DataFrame:
    """Per account, what adds up over any split of its leads (chunks of a file): merge with :func:`merge_totals`,
    finish with :func:`rollup_from_totals`.

    Args:
        leads: ``lead_id``, ``account`` (None: no account, left out), ``probability``, ``is_mql``, ``engaged``.
    """
    known = leads[leads["account"].notna()]
    probability = known["probability"].astype(float).clip(0.0, 1.0)
    frame = pd.DataFrame(
        {
            "account": known["account"].astype(str),
            "leads": 1,
            "log_none": np.log1p(-probability.clip(upper=1 - 1e-12)),
            "expected_conversions": probability,
            "mqls": known["is_mql"].astype(int),
            "engaged_leads": known["engaged"].astype(int),
            "best_lead": known["lead_id"].astype(str),
            "best_probability": probability,
        }
    )
    return merge_totals(frame)


def merge_totals(*totals: pd.DataFrame) -> pd.DataFrame:
    """Partial totals of the same accounts added up (the best lead kept: highest probability, then lowest id)."""
    frame = pd.concat(totals, ignore_index=True) if len(totals) > 1 else totals[0]
    frame = frame.sort_values(["account", "best_probability", "best_lead"], ascending=[True, False, True])
    grouped = frame.groupby("account", sort=True)
    summed = grouped[["leads", "log_none", "expected_conversions", "mqls", "engaged_leads"]].sum()
    best = grouped[["best_lead", "best_probability"]].first()
    return summed.join(best).reset_index()


def rollup_from_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """One row per account (``ACCOUNT_COLUMNS``), best account first."""
    rollup = totals.assign(probability_any_converts=1.0 - np.exp(totals["log_none"].astype(float)))
    rollup = rollup[list(ACCOUNT_COLUMNS)]
    return rollup.sort_values(["probability_any_converts", "account"], ascending=[False, True]).reset_index(drop=True)


def account_rollup(leads: pd.DataFrame) -> pd.DataFrame:
    """One row per account (``ACCOUNT_COLUMNS``), best account first.

    Args:
        leads: ``lead_id``, ``account`` (None: no account, left out), ``probability``, ``is_mql``, ``engaged``.
    """
    return rollup_from_totals(account_totals(leads))
