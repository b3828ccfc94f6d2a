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

from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.email_domains import FREEMAIL_DOMAINS, is_valid_domain, is_valid_local_part

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


def email_field(roles: Mapping[str, str]) -> str | None:
    """The input field whose business domain is a lead's account: the first of role ``email``; None without one."""
    return next((field for field, role in roles.items() if role == "email"), None)


def business_domain(email: object, freemail_domains: frozenset[str] = FREEMAIL_DOMAINS) -> str | None:
    """The company domain of a business e-mail address; None for freemail, invalid or missing addresses.

    One company, one key: a final dot (``acme.com.``) is dropped and an international domain is written in its
    ASCII form (``münchen.de`` as ``xn--mnchen-3ya.de``). Anything that is not a host name (``acme.com>`` of a
    display name, control characters, over DNS's lengths) gives no account: such a key could not be stored or
    would split one company in two."""
    if not isinstance(email, str):
        return None
    local_part, at_sign, domain = email.strip().lower().rpartition("@")
    if not at_sign or not is_valid_local_part(local_part):  # "a@acme.com;b@other.com" is no one address
        return None
    try:
        domain = domain.removesuffix(".").encode("idna").decode("ascii")
    except UnicodeError:  # an empty or too long label, or characters no domain may hold
        return None
    if not is_valid_domain(domain) or domain in freemail_domains:
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


_SUMMED = ("leads", "log_none", "expected_conversions", "mqls", "engaged_leads")
_TOTAL_COLUMNS = ("account", *_SUMMED, "best_lead", "best_probability")
Arrays = dict[str, np.ndarray]


def _known(account: np.ndarray) -> np.ndarray:
    return ~pd.isna(account)


def lead_totals(
    lead_id: np.ndarray, account: np.ndarray, probability: np.ndarray, is_mql: np.ndarray, engaged: np.ndarray
) -> Arrays:
    """Per account, the totals of these leads (arrays of ``_TOTAL_COLUMNS``; a None account is left out): the one
    place a lead's figures enter the roll-up, for a frame of leads (:func:`account_totals`) and the service's few."""
    known = _known(account)
    p = np.clip(np.asarray(probability, dtype=float)[known], 0.0, 1.0)
    return _merge(
        {
            "account": np.asarray(account, dtype=object)[known].astype(str).astype(object),
            "leads": np.ones(len(p), dtype=np.int64),
            "log_none": np.log1p(-np.minimum(p, 1 - 1e-12)),
            "expected_conversions": p,
            "mqls": np.asarray(is_mql)[known].astype(np.int64),
            "engaged_leads": np.asarray(engaged)[known].astype(np.int64),
            "best_lead": np.asarray(lead_id, dtype=object)[known].astype(str).astype(object),
            "best_probability": p,
        }
    )


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's position among the distinct values in sorted order, and those values (``pd.factorize`` with
    ``sort=True``; for a few values a dict, since factorize's set-up costs more than the service's one-lead work)."""
    if len(values) > 256:
        codes, uniques = pd.factorize(values, sort=True)
        return codes, np.asarray(uniques, dtype=object)
    listed = values.tolist()
    distinct = sorted(set(listed))
    position = {value: code for code, value in enumerate(distinct)}
    return np.array([position[value] for value in listed], dtype=np.intp), np.array(distinct, dtype=object)


def _merge(totals: Arrays) -> Arrays:
    """Totals added up by account, accounts in order (the best lead kept: highest probability, then lowest id)."""
    codes, accounts = _codes(totals["account"])
    count = len(accounts)
    merged: Arrays = {"account": np.asarray(accounts, dtype=object)}
    for name in _SUMMED:
        summed = np.bincount(codes, weights=totals[name], minlength=count)
        merged[name] = summed if totals[name].dtype.kind == "f" else summed.round().astype(np.int64)
    lead_rank, _ = _codes(totals["best_lead"])
    order = np.lexsort((lead_rank, -totals["best_probability"], codes))
    first = order[np.r_[True, codes[order][1:] != codes[order][:-1]]] if len(order) else order
    merged["best_lead"] = totals["best_lead"][first]
    merged["best_probability"] = totals["best_probability"][first].astype(float)
    return merged


def _rollup(totals: Arrays) -> Arrays:
    """One entry per account (``ACCOUNT_COLUMNS``), best account first (then by name)."""
    finished = {**totals, "probability_any_converts": 1.0 - np.exp(totals["log_none"].astype(float))}
    order = np.lexsort((np.arange(len(finished["account"])), -finished["probability_any_converts"]))
    return {name: finished[name][order] for name in ACCOUNT_COLUMNS}


def _arrays(frame: pd.DataFrame) -> Arrays:
    return {
        str(name): frame[name].to_numpy(dtype=object if name in ("account", "best_lead") else None) for name in frame
    }


def account_totals(leads: pd.DataFrame) -> pd.DataFrame:
    """Per account, what adds up over any split of its leads (chunks of a file): merge with :func:`merge_totals`,
    finish with :func:`rollup_from_totals`.

    Args:
        leads: ``lead_id``, ``account`` (None: no account, left out), ``probability``, ``is_mql``, ``engaged``.
    """
    columns = (leads[name].to_numpy() for name in ("lead_id", "account", "probability", "is_mql", "engaged"))
    return pd.DataFrame(lead_totals(*columns), columns=list(_TOTAL_COLUMNS))


def merge_totals(*totals: pd.DataFrame) -> pd.DataFrame:
    """Partial totals of the same accounts added up (the best lead kept: highest probability, then lowest id)."""
    frame = pd.concat(totals, ignore_index=True) if len(totals) > 1 else totals[0]
    return pd.DataFrame(_merge(_arrays(frame)), columns=list(_TOTAL_COLUMNS))


def rollup_from_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """One row per account (``ACCOUNT_COLUMNS``), best account first."""
    return pd.DataFrame(_rollup(_arrays(totals)), columns=list(ACCOUNT_COLUMNS))


def rollup_records(totals: Arrays) -> list[dict[str, object]]:
    """One plain record per account (``ACCOUNT_COLUMNS``), best account first, from :func:`lead_totals`: the roll-up
    without a DataFrame (a frame's construction and groupby cost the service milliseconds per request)."""
    rollup = _rollup(totals)
    columns = [rollup[name].tolist() for name in ACCOUNT_COLUMNS]
    return [dict(zip(ACCOUNT_COLUMNS, values, strict=True)) for values in zip(*columns, strict=True)]


def account_rollup(leads: pd.DataFrame) -> pd.DataFrame:
    """One row per account (``ACCOUNT_COLUMNS``), best account first.

    Args:
        leads: ``lead_id``, ``account`` (None: no account, left out), ``probability``, ``is_mql``, ``engaged``.
    """
    return rollup_from_totals(account_totals(leads))
