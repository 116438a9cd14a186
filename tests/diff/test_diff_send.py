"""Sending is bounded: a side that stops answering ends the run with exit 10 and the request it
stopped at, the run's budget is a ceiling, and a request no HTTP library can send is an answer,
not a crash."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from mmconform._wire import Secret
from mmconform.diff._exitcodes import EXIT_SIDE_UNREACHABLE, DiffProblem
from mmconform.diff._model import RequestSpec
from mmconform.diff._send import Budget, Connection, SendOptions
from mmconform.stub import StubOptions, start_stub

PING = RequestSpec("GetPing", "GET", "/api/v4/system/ping")


@pytest.fixture
def hangs_up() -> Iterator[str]:
    """A TCP server that accepts every connection and closes it without a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    listener.close()


def _connection(url: str, **changes: object) -> Connection:
    return Connection(
        name="candidate",
        url=url,
        tokens={"system_admin": Secret("t" * 26, "system_admin")},
        local_socket=None,
        options=SendOptions(request_timeout=2.0, stop_after=3),
        budget=changes.pop("budget", Budget(None)),  # type: ignore[arg-type]
    )


def test_a_side_that_stops_answering_ends_the_run_with_exit_10(hangs_up: str) -> None:
    with _connection(hangs_up) as connection:
        first = connection.send(PING, "system_admin")
        assert first.status == 0
        assert first.error == "the connection was closed without an answer"
        connection.send(PING, "anonymous")
        with pytest.raises(DiffProblem) as stopped:
            connection.send(PING, "system_admin")
    assert stopped.value.returncode == EXIT_SIDE_UNREACHABLE
    assert "stopped answering after 3 requests, at GET /api/v4/system/ping as system_admin" in (
        stopped.value.message
    )
    assert "t" * 26 not in stopped.value.message


def test_a_request_no_client_can_send_is_an_answer_not_a_failure_of_the_side() -> None:
    with start_stub(StubOptions()) as stub, _connection(stub.url) as connection:
        broken = RequestSpec("GetPing", "GET", "/api/v4/system/ping", (("X-Bad", "a\nb"),))
        for _ in range(5):
            answer = connection.send(broken, "anonymous")
            assert answer.error is not None
            assert answer.error.startswith("not sendable")
        assert connection.send(PING, "anonymous").status == 200


def test_the_budget_is_a_ceiling_for_the_whole_run() -> None:
    budget = Budget(0.05)
    assert budget.timeout(10.0) <= 0.05
    time.sleep(0.06)
    with pytest.raises(DiffProblem) as spent:
        budget.timeout(10.0)
    assert spent.value.returncode == EXIT_SIDE_UNREACHABLE
    assert "time budget of 0.05 s is used up" in spent.value.message
    assert Budget(None).timeout(10.0) == 10.0


def test_a_kept_alive_connection_the_server_closed_is_opened_again() -> None:
    with start_stub(StubOptions()) as stub, _connection(stub.url) as connection:
        assert connection.send(PING, "system_admin").status in (200, 401)
        channel = connection._tcp  # the server may close an idle connection at any time
        held = channel.get(1.0)
        assert held.sock is not None
        held.sock.shutdown(socket.SHUT_RDWR)
        assert connection.send(PING, "anonymous").status == 200
        assert connection.sent == 2
