"""Each lead's account in the service's answers, with the account's other leads from the scoring log.

A lead's account is the business domain of its e-mail field (``models.accounts.business_domain``: freemail, invalid
and missing addresses give none) or, with the service's accounts keyed by account id (``serving.account_key:
account_id``), the ``account_id`` the request carries (never a model input), else that domain: the rule of
``models.accounts.account_keys``, which ``leadq score`` uses too. The scoring log keeps it with every score (column
``account``), so an account's answer counts the leads of other requests too: the latest logged score within
``window_days`` (the trend window) of each of its other leads, with this request's leads (this request's score wins
for a lead in both), rolled up by ``models.accounts`` (the one roll-up ``leadq score --accounts`` uses). One query
per request for all of its accounts (``select_account_scores``: the log's ``latest_scores``, one row per lead); scores
still in the spool (answered within the last flush interval) are not seen yet.

A log that cannot be read never costs the score (``serving.log_reader``): the accounts hold this request's leads
only, and the answer says so in a warning.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa

from models.accounts import account_keys, business_domain, engaged, lead_totals, rollup_records
from serving.log_reader import LogReader
from serving.schemas import AccountOut, DecisionOut, LeadBase, ScoreOut
from serving.scoring_log import select_account_scores

UNREAD_WARNING = "account of this request's leads only: its other leads' scores could not be read"
# a logged lead's latest score: its account (it may have changed since), probability, MQL decision and grade
LoggedScore = tuple[str | None, float, bool, str]


def lead_accounts(leads: Sequence[LeadBase], email_field: str | None, by_account_id: bool = False) -> list[str | None]:
    """Each lead's account: the business domain of its e-mail field (None: no e-mail field, freemail, invalid), or
    with ``by_account_id`` the account id it carries where it carries one (``models.accounts.account_keys``)."""
    if by_account_id:
        ids = np.array([lead.sent_account_id() for lead in leads], dtype=object)
        if email_field is None:
            return list(account_keys(ids, None))
        emails = np.array([lead.scoring_record().get(email_field) for lead in leads], dtype=object)
        return list(account_keys(ids, emails))
    if email_field is None:
        return [None] * len(leads)
    return [business_domain(lead.scoring_record().get(email_field)) for lead in leads]


class AccountScores:
    """Reads the latest scores of the accounts' other leads from the scoring log's database."""

    def __init__(self, log: LogReader, window_days: float):
        self.log = log
        self.window = timedelta(days=window_days)
        # built once (SQLAlchemy caches its compiled form): the accounts' leads' latest scores since the window's start
        self._query = select_account_scores(sa.bindparam("start"), sa.bindparam("accounts", expanding=True))

    def latest_scores(self, accounts: Collection[str]) -> dict[str, LoggedScore] | None:
        """Each lead logged in ``accounts`` within the window: its latest score (one query); None when the log
        cannot be read now."""
        if not accounts:
            return {}
        return self.log.read(lambda connection: self._latest(connection, accounts))

    def _latest(self, connection: sa.Connection, accounts: Collection[str]) -> dict[str, LoggedScore]:
        parameters = {"start": datetime.now(UTC) - self.window, "accounts": sorted(set(accounts))}
        latest: dict[str, LoggedScore] = {}
        for lead, account, probability, is_mql, grade in connection.execute(self._query, parameters).all():
            latest[lead] = (account, probability, is_mql, grade)  # a tie at the latest time: the one written last
        return latest


def rolled_up_accounts(
    accounts: Sequence[str | None],
    scored: Sequence[ScoreOut | DecisionOut],
    logged: dict[str, LoggedScore] | None = None,
) -> dict[str, AccountOut]:
    """The accounts of a request's leads, rolled up with the other leads ``logged`` in them, best first.

    A lead is counted once: this request's score (its last in the request) over a logged one; a logged lead whose
    latest score names another account is not counted in this one. ``engaged_leads`` is null for an account with a
    lead scored without reasons (no grade).
    """
    latest: dict[str, tuple[str | None, float, bool, str | None]] = {}  # every lead of the request, no account too
    for account, one in zip(accounts, scored, strict=True):
        latest[one.lead_id] = (account, one.probability, one.is_mql, getattr(one, "grade", None))
    leads = {lead: (account, *rest) for lead, (account, *rest) in latest.items() if account is not None}
    if not leads:
        return {}
    wanted = {account for account, *_ in leads.values()}
    for lead, (account, probability, is_mql, grade) in (logged or {}).items():
        if account in wanted and lead not in latest:  # a lead of this request is where this request puts it
            leads[lead] = (account, probability, is_mql, grade or None)  # grade "": scored without reasons
    members = list(leads.values())
    keys = np.array([member[0] for member in members], dtype=object)
    grades = np.array([member[3] for member in members], dtype=object)
    ungraded = {member[0] for member in members if member[3] is None}
    totals = lead_totals(
        np.array(list(leads), dtype=object),
        keys,
        np.array([member[1] for member in members], dtype=float),
        np.array([member[2] for member in members], dtype=bool),
        engaged(grades),
    )
    return {
        str(record["account"]): AccountOut.model_validate(
            {**record, "engaged_leads": None if record["account"] in ungraded else record["engaged_leads"]}
        )
        for record in rollup_records(totals)
    }
