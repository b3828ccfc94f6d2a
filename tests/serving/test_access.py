"""Keys and roles, and the request guard: a body's size and the key are checked before the body is read; keys
never reach the access log (issue 15, "Hard edges")."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send
from typer.testing import CliRunner

from pipelines.cli import app as cli
from pipelines.serve import build_service
from pipelines.settings import Settings
from serving.access import ApiKey, KeyRing, QueryRedactingFilter, RequestGuard, parse_api_keys
from tests.builders import ADMIN, ADMIN_KEY, AUTH, CRM_KEY, KEYS, scoring_request, served_app

# --- LEADQ_API_KEYS: names, keys and roles ----------------------------------------------------------------------


def test_keys_are_parsed_with_their_roles() -> None:
    keys = parse_api_keys("crm:abcdefgh12, ops : zyxwvuts98 : admin,analyst:qwertzui34:scoring")

    assert keys == {
        "crm": ApiKey("abcdefgh12", "scoring"),
        "ops": ApiKey("zyxwvuts98", "admin"),
        "analyst": ApiKey("qwertzui34", "scoring"),
    }
    assert parse_api_keys(None) == {}
    assert parse_api_keys(" , ") == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("crm:abcdefgh12,nokey", "entry 2: expected name:key or name:key:admin"),
        ("crm:short", "at least 8 characters"),
        ("crm:abcdefgh12:root", "entry 1: expected name:key or name:key:admin"),
        ("crm:abcd:efgh:ijkl", "no colon"),
        (":abcdefgh12", "entry 1"),
    ],
)
def test_malformed_entries_are_refused_by_position(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_api_keys(raw)


def test_a_name_given_twice_is_refused_naming_it_never_the_keys() -> None:
    with pytest.raises(ValueError, match="entries 1 and 3 both use the name 'crm'") as refused:
        parse_api_keys("crm:first-key-0001,analyst:second-key-02,crm:third-key-0003")

    assert "first-key" not in str(refused.value)
    assert "third-key" not in str(refused.value)


def test_one_key_under_two_names_is_refused() -> None:
    with pytest.raises(ValueError, match="entries 1 and 2 hold the same key"):
        parse_api_keys("crm:same-key-0001,analyst:same-key-0001")


def test_serve_refuses_a_name_given_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADQ_API_KEYS", "crm:first-key-0001,crm:second-key-02")
    config = tmp_path / "mlflow.yml"
    config.write_text("mlflow:\n  tracking_uri: sqlite:///mlflow.db\n")

    result = CliRunner().invoke(cli, ["serve", "--config", str(config)])

    assert result.exit_code == 2
    assert "both use the name 'crm'" in result.output
    assert "second-key" not in result.output


def test_a_scoring_key_may_not_reload_the_model_an_admin_key_may(client: TestClient) -> None:
    scoring = client.post("/v1/admin/reload", headers=AUTH)
    admin = client.post("/v1/admin/reload", headers=ADMIN)

    assert scoring.status_code == 403
    assert scoring.json()["error"]["code"] == "forbidden"
    assert "'crm' may score leads, not administer" in scoring.json()["error"]["message"]
    assert admin.status_code == 200
    assert client.post("/v1/leads/score", json=scoring_request(), headers=ADMIN).status_code == 200


# --- the guard: before the body is read --------------------------------------------------------------------------


def _guarded(
    headers: dict[str, str], chunks: list[bytes], max_body_bytes: int = 1_000, path: str = "/v1/leads/score"
) -> tuple[int, dict[str, object], int, bool]:
    """Call the guard in front of an app that reads the whole body: (status, body, receive calls, app reached)."""
    calls = {"receive": 0, "app": False}
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        calls["receive"] += 1
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def reading_app(scope: Scope, receive: Receive, send: Send) -> None:
        calls["app"] = True
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }
    guard = RequestGuard(reading_app, KeyRing(KEYS), max_body_bytes)
    asyncio.run(guard(scope, receive, send))
    body = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
    return sent[0]["status"], body, int(calls["receive"]), bool(calls["app"])


def test_a_body_longer_than_the_limit_is_refused_before_a_byte_is_read() -> None:
    status, body, reads, reached = _guarded({"content-length": "60000000", "x-api-key": CRM_KEY}, [b"x" * 10])

    assert (status, reads, reached) == (413, 0, False)
    assert body["error"]["code"] == "body_too_large"
    assert body["error"]["message"] == "the request body is larger than the limit of 1,000 bytes (got 60,000,000)"


def test_a_request_without_a_key_is_refused_before_its_body_is_read() -> None:
    status, body, reads, reached = _guarded({"content-length": "12"}, [b'{"lead_id": '])
    wrong = _guarded({"content-length": "12", "x-api-key": "not-a-key-at-all"}, [b'{"lead_id": '])

    assert (status, reads, reached) == (401, 0, False)
    assert body["error"]["code"] == "unauthorized"
    assert wrong[0] == 403
    assert wrong[2:] == (0, False)


def test_a_scoring_key_is_refused_on_admin_routes_before_the_body_is_read() -> None:
    status, body, reads, reached = _guarded({"x-api-key": CRM_KEY}, [b"{}"], path="/v1/admin/reload")
    admin = _guarded({"x-api-key": ADMIN_KEY}, [b"{}"], path="/v1/admin/reload")

    assert (status, reads, reached) == (403, 0, False)
    assert body["error"]["code"] == "forbidden"
    assert admin[0] == 200


def test_a_body_streamed_without_a_length_is_counted_and_refused_past_the_limit() -> None:
    with pytest.raises(Exception, match="larger than the limit of 1,000 bytes") as refused:
        _guarded({"x-api-key": CRM_KEY}, [b"x" * 400] * 10)

    assert getattr(refused.value, "status_code", None) == 413  # the app renders it (next test)


def test_the_open_routes_need_no_key() -> None:
    assert _guarded({}, [b""], path="/healthz")[0] == 200


@pytest.fixture
def small_limits(registry: Settings, log_url: str) -> Iterator[TestClient]:
    with TestClient(served_app(registry, max_request_bytes=20_000, scoring_log_url=log_url)) as client:
        yield client


def test_a_60000_lead_batch_is_413_before_it_is_parsed(client: TestClient) -> None:
    lead = json.dumps(scoring_request()).encode()
    body = b'{"leads": [' + b",".join([lead] * 60_000) + b"]"  # also malformed: parsing it would say 422

    response = client.post("/v1/leads/score-batch", content=body, headers={**AUTH, "content-type": "application/json"})

    assert response.status_code == 413  # not 422: the body was never parsed
    assert response.json()["error"]["code"] == "body_too_large"
    assert "limit of 8,388,608 bytes" in response.json()["error"]["message"]


def test_a_chunked_body_past_the_limit_is_413_in_the_error_shape(small_limits: TestClient) -> None:
    chunks = (b" " * 1_000 for _ in range(50))  # no Content-Length: sent chunked, counted as it arrives

    response = small_limits.post(
        "/v1/leads/score", content=chunks, headers={**AUTH, "content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "body_too_large",
        "message": "the request body is larger than the limit of 20,000 bytes",
        "details": [],
    }


def test_a_small_chunked_body_is_scored(small_limits: TestClient) -> None:
    body = json.dumps(scoring_request()).encode()

    response = small_limits.post(
        "/v1/leads/score", content=iter([body[:50], body[50:]]), headers={**AUTH, "content-type": "application/json"}
    )

    assert response.status_code == 200


def test_without_a_key_a_malformed_body_is_401_not_422(client: TestClient) -> None:
    response = client.post("/v1/leads/score", content=b'{"lead_id": ', headers={"content-type": "application/json"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_refusals_are_counted_in_the_metrics(client: TestClient) -> None:
    client.post("/v1/leads/score", json=scoring_request())

    assert 'leadq_requests_total{method="POST",route="unmatched",status="401"} 1.0' in client.get("/metrics").text


# --- keys never logged ----------------------------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _uvicorn_with_access_log(app: object) -> Iterator[tuple[str, _Records]]:
    """A real uvicorn on 127.0.0.1 with its access log on, as `leadq serve` runs it; the access lines it writes."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info", access_log=True))  # type: ignore[arg-type]
    records = _Records()  # after uvicorn's own logging set-up, which replaces the loggers' handlers
    access = logging.getLogger("uvicorn.access")
    access.addHandler(records)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}", records
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        access.removeHandler(records)


@pytest.mark.slow
def test_a_key_in_the_query_string_never_reaches_the_access_log(registry: Settings) -> None:
    with _uvicorn_with_access_log(build_service(registry, KEYS)) as (base, records):
        in_url = httpx.post(f"{base}/v1/leads/score?api_key={CRM_KEY}", json=scoring_request(), timeout=10)
        both = httpx.post(f"{base}/v1/leads/score?api_key={CRM_KEY}", json=scoring_request(), headers=AUTH, timeout=10)

    assert in_url.status_code == 401  # a key in the URL is not read
    assert "a key in the URL is not read" in in_url.json()["error"]["message"]
    assert both.status_code == 200
    lines = [line for line in records.lines if "/v1/leads/score" in line]
    assert len(lines) == 2
    assert all("/v1/leads/score?[query removed]" in line for line in lines)
    assert not any(CRM_KEY in line for line in records.lines)


def test_the_access_log_filter_keeps_the_path_and_drops_the_query() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/v1/model?key=s3cret", "1.1", 200),
        None,
    )

    assert QueryRedactingFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /v1/model?[query removed] HTTP/1.1" 200'
