"""Each lead's account in the service's answers with the account's other leads from the scoring log (real SQLite
files, the app on the registry): counted across requests by each lead's latest score in the trend window, this
request's leads alone without a log or when it cannot be read (with a warning), the column added to an older log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from models.accounts import business_domain
from pipelines.settings import Settings
from serving.accounts import UNREAD_WARNING, AccountScores
from serving.log_reader import LogReader
from serving.scoring_log import insert_scores, prepare_log_table, score_row, select_account_scores
from tests.builders import AUTH, SCORED_RESULT, logged_rows, scoring_request, served_app, table_lock, wait_until

OLD_INDEX = "ix_scores_account_scored_at"  # an older leadq's: unused since latest_scores, dropped at start
LATEST_INDEX = "ix_latest_scores_account_scored_at"
COMPANY = "acme-industries.de"


def _score(client: TestClient, lead_id: str, **fields: object) -> dict[str, Any]:
    response = client.post("/v1/leads/score", json=scoring_request(lead_id=lead_id, **fields), headers=AUTH)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _batch(client: TestClient, leads: list[dict[str, object]], **options: object) -> dict[str, Any]:
    response = client.post("/v1/leads/score-batch", json={"leads": leads, **options}, headers=AUTH)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _flushed(url: str, rows: int) -> None:
    wait_until(lambda: len(logged_rows(url)) == rows, f"{rows} scores in the log's database")


def _log_with(url: str, scores: list[tuple[str, str | None, float, datetime]], grade: str = "A1") -> None:
    """A scoring log holding these (lead, account, probability, scored_at), as the service writes them."""
    engine = sa.create_engine(url)
    prepare_log_table(engine)
    result = {**SCORED_RESULT, "grade": grade}
    rows = [
        {**score_row(lead, {**result, "probability": p}, "leadq", "1", 0.2, account=account), "scored_at": at}
        for lead, account, p, at in scores
    ]
    with engine.begin() as connection:
        insert_scores(connection, rows)
    engine.dispose()


def test_two_leads_of_one_company_scored_apart_make_one_account(registry: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=0.05)) as client:
        first = _score(client, "ANNA", email=f"anna@{COMPANY}", demo_requested=True)
        _flushed(url, 1)
        second = _score(client, "BEN", email=f"Ben@{COMPANY.upper()}", demo_requested=False, website_visits=0)
        _flushed(url, 2)
        rows = logged_rows(url)  # before the batch: its own row may be flushed any moment after
        batch = _batch(client, [scoring_request(lead_id="CARL", email=f"carl@{COMPANY}")])

    assert first["account"]["leads"] == 1  # the first lead of its account: itself
    account = second["account"]
    p = {"ANNA": first["probability"], "BEN": second["probability"]}
    assert account["account"] == COMPANY
    assert account["leads"] == 2
    assert account["probability_any_converts"] == pytest.approx(1 - (1 - p["ANNA"]) * (1 - p["BEN"]))
    assert account["expected_conversions"] == pytest.approx(p["ANNA"] + p["BEN"])
    assert account["mqls"] == first["is_mql"] + second["is_mql"]
    grades = {"ANNA": first["grade"], "BEN": second["grade"]}
    assert account["engaged_leads"] == sum(grade[1] in "12" for grade in grades.values())
    assert (account["best_lead"], account["best_probability"]) == max(p.items(), key=lambda item: item[1])
    assert [row["account"] for row in rows] == [COMPANY, COMPANY]  # the domain, never the address
    assert not any("@" in str(row["account"]) for row in rows)
    (in_batch,) = batch["accounts"]
    assert (in_batch["account"], in_batch["leads"]) == (COMPANY, 3)  # the batch's lead with the two logged ones
    assert "account" not in batch["results"][0]  # a batch answers each account once, in accounts
    assert not [warning for answer in (first, second) for warning in answer["warnings"] if "account" in warning]


def test_a_freemail_lead_has_no_account(registry: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=0.05)) as client:
        _score(client, "COLLEAGUE", email="eva@gmail.com")
        _flushed(url, 1)
        answer = _score(client, "FREEMAIL", email="fritz@gmail.com")
        batch = _batch(client, [scoring_request(lead_id="F2", email="f2@gmail.com")])
        _flushed(url, 3)
        rows = logged_rows(url)

    assert answer["account"] is None
    assert batch["accounts"] == []
    assert [row["account"] for row in rows] == [None, None, None]


def test_each_other_lead_counts_once_by_its_latest_score_in_the_window(registry: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    now = datetime.now(UTC)
    _log_with(
        url,
        [
            ("SAME", COMPANY, 0.10, now - timedelta(days=20)),
            ("SAME", COMPANY, 0.40, now - timedelta(days=2)),  # its latest score replaces the earlier one
            ("GONE", COMPANY, 0.80, now - timedelta(days=31)),  # outside the 30-day window: not counted
            ("MOVED", COMPANY, 0.70, now - timedelta(days=10)),
            ("MOVED", "other-firm.de", 0.20, now - timedelta(days=1)),  # its latest score is another account's
            ("ME", COMPANY, 0.90, now - timedelta(days=3)),  # this request's lead: its new score wins
            ("ELSE", "other-firm.de", 0.50, now - timedelta(days=1)),
        ],
    )
    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=60)) as client:
        answer = _score(client, "ME", email=f"me@{COMPANY}")

    account = answer["account"]
    p = answer["probability"]
    assert account["leads"] == 2  # ME (this request) and SAME (its latest score)
    assert account["probability_any_converts"] == pytest.approx(1 - (1 - p) * (1 - 0.40))
    assert account["expected_conversions"] == pytest.approx(p + 0.40)
    assert account["best_lead"] == ("ME" if p > 0.40 else "SAME")


def test_a_lead_whose_request_gives_it_no_account_leaves_the_account_it_was_logged_in(
    registry: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    now = datetime.now(UTC)
    _log_with(url, [("SWITCHED", COMPANY, 0.95, now - timedelta(days=1)), ("TWICE", COMPANY, 0.90, now)])
    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=60)) as client:
        batch = _batch(
            client,
            [
                scoring_request(lead_id="SWITCHED", email="private@gmail.com"),  # its address is no company's now
                scoring_request(lead_id="COLLEAGUE", email=f"colleague@{COMPANY}"),
                scoring_request(lead_id="TWICE", email=f"twice@{COMPANY}"),
                scoring_request(lead_id="TWICE", email="twice@gmail.com"),  # its last in the request decides
            ],
        )

    (account,) = batch["accounts"]
    assert account["account"] == COMPANY
    assert account["leads"] == 1  # COLLEAGUE: neither the logged 0.95 of SWITCHED nor TWICE counts here
    assert account["best_lead"] == "COLLEAGUE"


def test_the_window_is_the_trend_window(registry: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _log_with(url, [("TWO-DAYS", COMPANY, 0.3, datetime.now(UTC) - timedelta(days=2))])
    with TestClient(served_app(registry, scoring_log_url=url, trend_window_days=1)) as narrow:
        outside = _score(narrow, "NOW", email=f"now@{COMPANY}")["account"]
    with TestClient(served_app(registry, scoring_log_url=url)) as wide:  # NOW's score above is its own: not counted
        inside = _score(wide, "NOW", email=f"now@{COMPANY}")["account"]
    assert outside["leads"] == 1
    assert inside["leads"] == 2


def test_without_a_scoring_log_the_answer_has_no_account_and_a_batch_its_own_leads(registry: Settings) -> None:
    with TestClient(served_app(registry)) as client:
        answer = _score(client, "ONE", email=f"one@{COMPANY}")
        batch = _batch(
            client,
            [scoring_request(lead_id="A", email=f"a@{COMPANY}"), scoring_request(lead_id="B", email=f"b@{COMPANY}")],
        )
    assert answer["account"] is None
    assert [(account["account"], account["leads"]) for account in batch["accounts"]] == [(COMPANY, 2)]
    assert not [warning for warning in answer["warnings"] if "account" in warning]


def test_a_locked_log_answers_the_request_s_leads_with_a_warning_and_reads_again_later(
    registry: Settings, postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = postgres_url
    app = served_app(registry, scoring_log_url=url, scoring_log_spool=str(tmp_path / "spool"), scoring_log_flush_s=0.05)
    with TestClient(app) as client:
        _score(client, "SECRET-COLLEAGUE", email=f"secret@{COMPANY}")
        _flushed(url, 1)
        with table_lock(url):
            locked = _score(client, "SECRET-LEAD", email=f"lead@{COMPANY}")
            batch = _batch(
                client,
                [
                    scoring_request(lead_id="B1", email=f"b1@{COMPANY}"),
                    scoring_request(lead_id="B2", email="x@gmail.com"),
                ],
            )
        wait_until(
            lambda: _score(client, "SECRET-LEAD", email=f"lead@{COMPANY}")["account"]["leads"] == 3,
            "the account's other leads read again",
            timeout_s=10,
        )

    assert locked["account"]["leads"] == 1  # this request's lead alone
    assert locked["account"]["account"] == COMPANY
    assert UNREAD_WARNING in locked["warnings"]
    assert [(account["account"], account["leads"]) for account in batch["accounts"]] == [(COMPANY, 1)]
    assert UNREAD_WARNING in batch["results"][0]["warnings"]
    assert UNREAD_WARNING not in batch["results"][1]["warnings"]  # the freemail lead has no account to miss
    assert "SECRET" not in caplog.text
    assert COMPANY not in caplog.text  # neither a lead nor an account in the log lines


def test_reasons_false_and_a_logged_lead_without_grade_leave_the_engaged_count_null(
    registry: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    now = datetime.now(UTC)
    _log_with(url, [("GRADED", COMPANY, 0.3, now - timedelta(days=1))])
    _log_with(url, [("UNGRADED", "no-grades.de", 0.3, now - timedelta(days=1))], grade="")
    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=60)) as client:
        graded = _score(client, "G", email=f"g@{COMPANY}")["account"]
        ungraded = _score(client, "U", email="u@no-grades.de")["account"]
        response = client.post(
            "/v1/leads/score",
            json={**scoring_request(lead_id="D", email=f"d@{COMPANY}"), "reasons": False},
            headers=AUTH,
        )
    decision = response.json()
    assert graded["leads"] == ungraded["leads"] == 2
    assert graded["engaged_leads"] is not None
    assert ungraded["engaged_leads"] is None  # a lead of the account has no grade
    assert decision["reasons"] is False
    assert (decision["account"]["leads"], decision["account"]["engaged_leads"]) == (2, None)


def test_the_account_column_is_added_to_a_log_from_an_older_leadq_at_start(registry: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _log_with(url, [("OLD-1", None, 0.3, datetime.now(UTC) - timedelta(days=1))])
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # the table as a leadq before accounts wrote it
        connection.execute(sa.text("ALTER TABLE scores DROP COLUMN account"))
        connection.execute(sa.text("DROP TABLE latest_scores"))
    assert "account" not in {column["name"] for column in sa.inspect(engine).get_columns("scores")}

    with TestClient(served_app(registry, scoring_log_url=url, scoring_log_flush_s=0.05)) as client:
        indexes = {index["name"]: index["column_names"] for index in sa.inspect(engine).get_indexes("scores")}
        answer = _score(client, "NEW-1", email=f"new@{COMPANY}")
        _flushed(url, 2)
    rows = logged_rows(url)
    engine.dispose()

    assert OLD_INDEX not in indexes  # the accounts are read from latest_scores
    assert answer["account"]["leads"] == 1
    assert [(row["lead_id"], row["account"]) for row in rows] == [("OLD-1", None), ("NEW-1", COMPANY)]


def test_one_query_reads_every_account_of_a_request_on_the_account_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    now = datetime.now(UTC)
    _log_with(
        url,
        [
            ("A1", "a.de", 0.1, now - timedelta(days=1)),
            ("A1", "a.de", 0.2, now - timedelta(hours=1)),
            ("B1", "b.de", 0.3, now - timedelta(days=1)),
            ("C1", "c.de", 0.4, now - timedelta(days=1)),
        ],
    )
    log = LogReader(url)
    reader = AccountScores(log, window_days=30)
    statements: list[str] = []
    sa.event.listen(log.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    latest = reader.latest_scores({"a.de", "b.de", "nobody.de"})
    assert reader.latest_scores(set()) == {}  # no account: no query
    queries = len(statements)

    query = select_account_scores(now, ["a.de", "b.de"])
    compiled = query.compile(log.engine, compile_kwargs={"literal_binds": True})
    with log.engine.connect() as connection:
        plan = " ".join(str(row) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    log.close()

    assert latest == {"A1": ("a.de", 0.2, True, "A1"), "B1": ("b.de", 0.3, True, "A1")}
    assert queries == 1
    assert f"USING INDEX {LATEST_INDEX} (account=? AND scored_at>?)" in plan, plan  # one row per lead, on the index


def test_the_openapi_document_declares_the_account(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("ScoreOut", "DecisionOut"):
        account = schemas[name]["properties"]["account"]
        assert account["anyOf"] == [{"$ref": "#/components/schemas/AccountOut"}, {"type": "null"}]
        assert "latest score within the trend window (trends.window_days)" in account["description"]
        assert "Left out of a batch's results" in account["description"]
    assert "other leads in the scoring log" in schemas["BatchOut"]["properties"]["accounts"]["description"]
    assert "reasons: false" in schemas["AccountOut"]["properties"]["engaged_leads"]["description"]


def test_accounts_read_a_postgresql_log_and_its_column_is_added_at_start(postgres_url: str) -> None:
    now = datetime.now(UTC)
    _log_with(
        postgres_url,
        [
            ("P1", COMPANY, 0.1, now - timedelta(days=3)),
            ("P1", COMPANY, 0.4, now - timedelta(days=1)),
            ("P2", COMPANY, 0.2, now - timedelta(days=40)),
        ],
    )
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:  # a log from a leadq before accounts: its rows lose their account
        connection.execute(sa.text("ALTER TABLE scores DROP COLUMN account"))
        connection.execute(sa.text("DROP TABLE latest_scores"))
    log = LogReader(postgres_url)
    log.prepare()
    columns = {column["name"] for column in sa.inspect(engine).get_columns("scores")}
    indexes = {index["name"]: index["column_names"] for index in sa.inspect(engine).get_indexes("scores")}
    assert AccountScores(log, 30).latest_scores({COMPANY}) == {}  # old rows have no account
    _log_with(postgres_url, [("P3", COMPANY, 0.3, now - timedelta(hours=1))])
    latest = AccountScores(log, 30).latest_scores({COMPANY})
    log.close()
    engine.dispose()

    assert "account" in columns
    assert OLD_INDEX not in indexes
    assert latest == {"P3": (COMPANY, 0.3, True, "A1")}


# --- accounts keyed by the CRM's account id (serving.account_key: account_id) ---------------------------------------


def test_leads_of_one_account_id_with_other_domains_roll_up_together_when_configured(
    registry: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    app = served_app(registry, scoring_log_url=url, scoring_log_flush_s=0.05, account_key="account_id")
    with TestClient(app) as client:
        first = _score(client, "ANNA", email=f"anna@{COMPANY}", account_id="  0015g00000ACME  ")
        _flushed(url, 1)
        second = _score(client, "BEN", email="ben@acme-holding.com", account_id="0015g00000ACME")
        _flushed(url, 2)
        batch = _batch(
            client,
            [
                scoring_request(lead_id="CARL", email="carl@acme-logistik.de", account_id="0015g00000ACME"),
                scoring_request(lead_id="DORA", email="dora@other-company.de"),  # no id: its domain
                scoring_request(lead_id="EVA", email="eva@gmail.com"),  # neither
            ],
        )
        rows = logged_rows(url)

    assert first["account"]["account"] == "0015g00000ACME"  # trimmed
    assert second["account"]["account"] == "0015g00000ACME"
    assert second["account"]["leads"] == 2
    p = {"ANNA": first["probability"], "BEN": second["probability"]}
    assert second["account"]["probability_any_converts"] == pytest.approx(1 - (1 - p["ANNA"]) * (1 - p["BEN"]))
    by_account = {account["account"]: account for account in batch["accounts"]}
    assert set(by_account) == {"0015g00000ACME", "other-company.de"}
    assert by_account["0015g00000ACME"]["leads"] == 3
    assert not any("unknown field" in w for result in batch["results"] for w in result["warnings"])
    assert [row["account"] for row in rows[:2]] == ["0015g00000ACME", "0015g00000ACME"]


def test_by_default_an_account_id_in_a_request_is_ignored_and_accounts_are_domains(client: TestClient) -> None:
    answer = _score(client, "ANNA", email=f"anna@{COMPANY}", account_id="0015g00000ACME")

    assert answer["account"]["account"] == COMPANY
    assert "ignored 1 unknown field(s): account_id" in answer["warnings"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["LeadIn"]
    assert "account_id" not in schema["properties"]


def test_an_account_id_is_checked_and_documented_when_configured(registry: Settings) -> None:
    with TestClient(served_app(registry, account_key="account_id")) as client:
        too_long = client.post(
            "/v1/leads/score", json=scoring_request(lead_id="ANNA", account_id="x" * 201), headers=AUTH
        )
        a_number = client.post("/v1/leads/score", json=scoring_request(lead_id="ANNA", account_id=15), headers=AUTH)
        blank = client.post("/v1/leads/score", json=scoring_request(lead_id="ANNA", account_id="   "), headers=AUTH)
        schema = client.get("/openapi.json").json()["components"]["schemas"]["LeadIn"]

    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"][0]["field"] == "account_id"
    assert a_number.status_code == 422
    assert blank.status_code == 200  # no id: the e-mail's domain (no scoring log here: no account answered)
    assert "account_id" in schema["properties"]


def test_nightly_scores_logged_by_account_id_count_in_the_services_accounts(
    registry: Settings, synthetic_crm: Any, tmp_path: Path
) -> None:
    from pipelines.crm_export.mapping import ExportMapping, dump_mapping, load_mapping
    from pipelines.score import ScoreOptions, run_score
    from pipelines.settings import DEMO_MAPPING

    url = f"sqlite:///{tmp_path / 'log.db'}"
    serving = registry.serving.model_copy(
        update={"scoring_log_url": url, "scoring_log_spool": None, "account_key": "account_id"}
    )
    settings = registry.model_copy(update={"serving": serving})
    data = load_mapping(DEMO_MAPPING).model_dump(mode="json", exclude_none=True)
    data["columns"]["Account ID"] = {"role": "account"}  # the CRM's account id: never a feature
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(dump_mapping(ExportMapping.model_validate(data)), encoding="utf-8")
    leads = synthetic_crm.leads.iloc[:6].reset_index(drop=True)
    leads["Account ID"] = ["ACC-1", "ACC-1", "ACC-1", None, " ", "ACC-2"]  # the fourth and fifth: their domains
    export = tmp_path / "leads.parquet"
    leads.to_parquet(export, index=False)

    options = ScoreOptions(tmp_path / "scores.parquet", tmp_path / "rejects.csv", mapping=mapping, log=True)
    run_score(settings, export, options)

    logged = {row["lead_id"]: row["account"] for row in logged_rows(url)}
    domains = [business_domain(email) for email in leads["email"]]
    assert [logged[str(lead)] for lead in leads["lead_id"]] == ["ACC-1", "ACC-1", "ACC-1", *domains[3:5], "ACC-2"]
    with TestClient(served_app(registry, scoring_log_url=url, account_key="account_id")) as client:
        answer = _score(client, "NEW", email="new@another-domain.de", account_id="ACC-1")
    assert answer["account"]["account"] == "ACC-1"
    assert answer["account"]["leads"] == 4  # the three nightly leads of the account and this one
