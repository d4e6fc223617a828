"""Hostile registries: every misbehaviour ends in a typed answer or error, never a hang.

Each call runs in a thread joined with a generous limit: the assertion is
that it *finished* (no timing is asserted), with small deadlines configured.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from registry_upload import Credentials, FileStatus, RetryPolicy, TransportError, upload
from registry_upload.distribution import Distribution
from registry_upload.testing import hostile, make_wheel
from registry_upload.transport import (
    MultipartBody,
    Response,
    SendResult,
    Transport,
    TransportOptions,
)

from .conftest import CANARY, assert_no_canary

T = TypeVar("T")
LIMIT = 60.0  # far beyond any deadline below: reaching it means a hang
FAST = TransportOptions(timeout=2.0, connect_timeout=2.0, read_timeout=2.0)
AUTH = "Basic " + __import__("base64").b64encode(f"user:{CANARY}".encode()).decode()


def finishes(call: Callable[[], T]) -> T | BaseException:
    """The call's result or the exception it raised; fails the test if it is still running."""
    out: list[T | BaseException] = []

    def run() -> None:
        try:
            out.append(call())
        except BaseException as exc:  # handed to the test
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(LIMIT)
    assert not thread.is_alive(), "the client hung"
    return out[0]


@pytest.fixture
def body(tmp_path: Path) -> MultipartBody:
    wheel = make_wheel(tmp_path, "hostile", "1.0")
    dist = Distribution.open(wheel)
    return MultipartBody(dist.form_fields(), path=wheel, filename=wheel.name, size=dist.size)


def post(server: hostile.HostileServer, body: MultipartBody, options: TransportOptions = FAST):
    with Transport(options) as transport:
        return finishes(lambda: transport.post_file(server.url, body, authorization=AUTH))


def get(server: hostile.HostileServer, options: TransportOptions = FAST):
    with Transport(options) as transport:
        return finishes(lambda: transport.get(server.url))


def test_endless_chunked_body_is_cut_at_the_cap(body: MultipartBody) -> None:
    with hostile.endless_body() as server:
        sent = post(server, body)
        assert isinstance(sent, SendResult)
        assert sent.response.status == 200
        assert sent.response.truncated
        assert 0 < len(sent.response.body) <= 1 << 20
        page = get(server)
        assert isinstance(page, Response) and page.truncated


def test_huge_declared_length_is_not_drained(body: MultipartBody) -> None:
    with hostile.huge_content_length() as server:
        sent = post(server, body)
        assert isinstance(sent, SendResult)
        assert sent.response.status == 400
        assert sent.response.truncated
        assert sent.response.body == b"e" * 1024
        assert sent.bytes_sent == body.length


def test_trickling_body_ends_at_the_deadline(body: MultipartBody) -> None:
    with hostile.trickle(interval=0.3) as server:
        sent = post(server, body)
        assert isinstance(sent, SendResult)
        assert sent.response.status == 400
        assert sent.response.truncated
        assert 0 < len(sent.response.body) < 1000


def test_server_that_never_answers_costs_one_deadline(body: MultipartBody) -> None:
    options = TransportOptions(timeout=1.0, read_timeout=300.0)
    with hostile.never_answer() as server:
        error = post(server, body, options)
        assert isinstance(error, TransportError)
        assert "deadline" in error.message
        assert error.retryable and error.connected
        # the whole body went out before the silence: the outcome is ambiguous
        assert error.body_sent
        assert error.bytes_sent == body.length
        assert server.requests[0].body_received == body.length


def test_read_timeout_still_applies_within_the_deadline(body: MultipartBody) -> None:
    options = TransportOptions(timeout=30.0, read_timeout=0.5)
    with hostile.never_answer() as server:
        error = post(server, body, options)
        assert isinstance(error, TransportError)
        assert "read timeout" in error.message
        assert error.body_sent and error.bytes_sent == body.length


def test_connection_closed_at_once(body: MultipartBody) -> None:
    with hostile.close_at_once() as server:
        error = post(server, body)
        assert isinstance(error, TransportError)
        assert error.retryable
        assert error.connected  # the TCP connection was made; the registry dropped it
        assert "broke" in error.message
        assert len(server.requests) == 1


def test_refused_connection_is_not_connected(body: MultipartBody) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    try:
        url = f"http://127.0.0.1:{holder.getsockname()[1]}/legacy/"
        with Transport(FAST) as transport:
            error = finishes(lambda: transport.post_file(url, body, authorization=AUTH))
    finally:
        holder.close()
    assert isinstance(error, TransportError)
    assert not error.connected
    assert error.retryable
    assert error.bytes_sent == 0 and not error.body_sent


def test_secret_echoing_server_gives_a_response(body: MultipartBody) -> None:
    for status in (400, 403, 500):
        with hostile.echo_headers(status) as server:
            sent = post(server, body)
            assert isinstance(sent, SendResult)
            assert sent.response.status == status
            # The fake does quote the secret: redaction must happen above the transport.
            assert CANARY in sent.response.text()
            assert server.requests[0].header("authorization") == AUTH


def test_connection_reused_only_after_a_complete_body(body: MultipartBody) -> None:
    with hostile.honour_expect() as good, Transport(FAST) as transport:
        for _ in range(3):
            result = finishes(lambda: transport.get(good.url))
            assert isinstance(result, Response) and result.status == 200
        assert good.connections == 1
    with hostile.huge_content_length() as bad, Transport(FAST) as transport:
        for _ in range(2):
            result = finishes(lambda: transport.get(bad.url))
            assert isinstance(result, Response) and result.truncated
        assert bad.connections == 2  # the cut connection was closed, not drained or reused


def test_uploader_under_a_silent_server_is_bounded(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "silent", "1.0")
    with hostile.never_answer() as server:
        report = finishes(
            lambda: upload(
                [wheel],
                server.url,
                credentials=Credentials.of("user", CANARY),
                retry=RetryPolicy(attempts=1),
                transport=TransportOptions(timeout=1.0),
            )
        )
    assert not isinstance(report, BaseException)
    (result,) = report.results
    assert result.status is FileStatus.UNCONFIRMED  # the whole body went out: never resent
    assert isinstance(result.error, TransportError)
    assert result.error.bytes_sent > 0


def test_servers_record_and_stop() -> None:
    with hostile.never_answer(lifetime=30) as server:
        conn = socket.create_connection(("127.0.0.1", server.port))
        conn.sendall(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
        for _ in range(500):
            if server.body_received == 3:
                break
            threading.Event().wait(0.01)
    # leaving the block closed the connection and stopped every thread
    conn.settimeout(5)
    with contextlib.suppress(ConnectionResetError):
        assert conn.recv(1) == b""
    conn.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("silent")]
    (request,) = server.requests
    assert (request.method, request.path, request.body_received) == ("POST", "/x", 3)


@pytest.mark.parametrize("status", [400, 403, 500])
def test_echoed_secret_never_leaves_the_library(
    tmp_path: Path, status: int, canary_logs: pytest.LogCaptureFixture
) -> None:
    """A registry quoting Authorization (and its decoded form) back: no output shows it."""
    wheel = make_wheel(tmp_path, "echoed", "1.0")
    with hostile.echo_headers(status) as server:
        report = finishes(
            lambda: upload(
                [wheel],
                server.url,
                credentials=Credentials.of("user", CANARY),
                retry=RetryPolicy(attempts=2, sleep=lambda _: None),
                transport=FAST,
            )
        )
        assert not isinstance(report, BaseException)
        assert server.requests[0].header("authorization")  # the fake had a secret to quote
    (result,) = report.results
    assert result.status is FileStatus.FAILED
    error = result.error
    assert error is not None
    assert_no_canary(
        str(error),
        repr(error),
        error.to_dict(),
        json.dumps(report.to_dict()),
        canary_logs.text,
    )


def test_close_cuts_requests_in_flight(body: MultipartBody) -> None:
    """Closing the transport from another thread (an abort) ends a stuck request at once."""
    options = TransportOptions(timeout=120.0, read_timeout=120.0)
    with hostile.never_answer() as server, Transport(options) as transport:
        timer = threading.Timer(0.5, transport.close)
        timer.start()
        error = finishes(lambda: transport.post_file(server.url, body, authorization=AUTH))
        timer.join()
        assert isinstance(error, TransportError)
        assert "deadline" not in error.message and "timeout" not in error.message
        # the transport still works afterwards, with a new connection
    with hostile.honour_expect() as good:
        page = finishes(lambda: transport.get(good.url))
        assert isinstance(page, Response) and page.status == 200


def test_unresolvable_and_unreachable_hosts_are_not_connected(
    body: MultipartBody, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS failure and connect timeout, played without any traffic leaving the machine."""
    from registry_upload.transport import _connect

    def no_dns(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def documentation_address(*args: object, **kwargs: object) -> list[object]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 443))]

    def blackhole(*args: object, **kwargs: object) -> None:
        raise TimeoutError("timed out")

    for fake, words in ((no_dns, "cannot connect"), (blackhole, "timed out connecting")):
        with monkeypatch.context() as patch:
            patch.setattr(_connect, "getaddrinfo", no_dns)
            if fake is blackhole:
                patch.setattr(_connect, "getaddrinfo", documentation_address)
                patch.setattr(socket.socket, "connect", blackhole)
            with Transport(FAST) as transport:
                error = finishes(
                    lambda: transport.post_file(
                        "https://registry.example/legacy/", body, authorization=AUTH
                    )
                )
        assert isinstance(error, TransportError)
        assert words in error.message
        assert not error.connected and error.retryable
        assert error.bytes_sent == 0
