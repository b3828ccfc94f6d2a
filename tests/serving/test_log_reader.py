"""The requests' reader of the scoring log against a PostgreSQL server that accepts connections and never answers
(a hung server, or a host whose packets are dropped after the handshake): start and requests stay bounded."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from serving.log_reader import POSTGRES_TIMEOUT_S, LogReader
from tests.builders import wait_until


@pytest.fixture
def silent_server() -> Iterator[str]:
    """The URL of a PostgreSQL 'server' that accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:  # closed at the end of the test
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"postgresql+psycopg://leadq:secret@127.0.0.1:{listener.getsockname()[1]}/leadq"
    listener.close()
    for connection in accepted:
        connection.close()


@pytest.mark.slow
def test_preparing_a_log_whose_server_never_answers_gives_up_after_the_connect_timeout(
    silent_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    reader = LogReader(silent_server)
    started = time.monotonic()
    reader.prepare()  # the service's start waits for this
    waited = time.monotonic() - started
    reader.close()
    assert waited < POSTGRES_TIMEOUT_S + 3  # it waited forever with the writer's engine
    assert "could not prepare the scoring log's table at start" in caplog.text
    assert "secret" not in caplog.text


@pytest.mark.slow
def test_while_the_server_never_answers_no_request_waits_for_it_and_one_probe_tries_it_again(
    silent_server: str,
) -> None:
    reader = LogReader(silent_server, first_retry_s=0.5)
    attempts: list[object] = []
    sa.event.listen(reader.engine, "do_connect", lambda *args: attempts.append(args))

    def timed_read() -> tuple[object, float]:
        started = time.monotonic()
        return reader.read(lambda connection: connection.execute(sa.text("SELECT 1")).scalar()), (
            time.monotonic() - started
        )

    first, first_wait = timed_read()
    assert first is None
    assert first_wait < POSTGRES_TIMEOUT_S + 3  # the request that finds it hung: bounded by the connect timeout
    assert timed_read()[1] < 0.1  # within the wait: no request tries
    time.sleep(0.6)  # the wait is over: eight requests at once, none waits, one probe starts in the background
    with ThreadPoolExecutor(8) as pool:
        reads = list(pool.map(lambda _: timed_read(), range(8)))
    assert all(result is None for result, _ in reads)
    assert max(wait for _, wait in reads) < 0.5
    wait_until(lambda: len(attempts) == 2 and not reader._probing, "the probe to give up")
    reader.close()
    assert len(attempts) == 2  # one probe, not one per request


def test_a_read_the_database_refuses_for_its_values_does_not_stop_the_next_reads(postgres_url: str) -> None:
    reader = LogReader(postgres_url, first_retry_s=60)
    echo = sa.text("SELECT CAST(:value AS text)")
    refused = reader.read(lambda connection: connection.execute(echo, {"value": "L\x001"}).scalar())
    answered = reader.read(lambda connection: connection.execute(echo, {"value": "L1"}).scalar())
    reader.close()
    assert refused is None
    assert answered == "L1"  # not a database that is down: the next request reads at once
