"""Bounds the transport keeps whatever the other end does: name resolution within the
deadline, certificate files checked before anything is sent, server text without
terminal escapes."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_upload import ConfigurationError, TransportError
from registry_upload.distribution import Distribution
from registry_upload.testing import hostile, make_wheel
from registry_upload.transport import MultipartBody, Response, Transport, TransportOptions, _connect

from .test_hostile_servers import AUTH, finishes


@pytest.fixture
def body(tmp_path: Path) -> MultipartBody:
    wheel = make_wheel(tmp_path, "bounds", "1.0")
    dist = Distribution.open(wheel)
    return MultipartBody(dist.form_fields(), path=wheel, filename=wheel.name, size=dist.size)


@pytest.fixture
def slow_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A resolver that takes 8 s (or until the test ends) and never asks a real one."""
    asked: list[str] = []
    released = threading.Event()

    def lookup(host: str, port: object, *args: object, **kwargs: object) -> list[object]:
        asked.append(host)
        released.wait(8.0)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 9))]

    monkeypatch.setattr(_connect, "getaddrinfo", lookup)
    yield asked
    released.set()


def test_name_resolution_is_bounded_by_the_deadline(
    body: MultipartBody, slow_resolver: list[str]
) -> None:
    options = TransportOptions(timeout=1.0, connect_timeout=5.0)
    with Transport(options) as transport:
        started = time.monotonic()
        error = finishes(
            lambda: transport.post_file("https://slow.example/legacy/", body, authorization=AUTH)
        )
        elapsed = time.monotonic() - started
    assert isinstance(error, TransportError)
    assert "timed out connecting" in error.message and "resolving slow.example" in error.message
    assert not error.connected and error.retryable and error.bytes_sent == 0
    assert elapsed < 2.5  # 8 s before: resolution ignored every timeout
    assert slow_resolver == ["slow.example"]


def test_name_resolution_is_bounded_by_the_connect_timeout(slow_resolver: list[str]) -> None:
    with Transport(TransportOptions(connect_timeout=0.5, read_timeout=5.0)) as transport:
        started = time.monotonic()
        error = finishes(lambda: transport.get("http://slow.example/simple/"))
    assert isinstance(error, TransportError) and not error.connected
    assert time.monotonic() - started < 2.0


def test_literal_addresses_are_not_looked_up(slow_resolver: list[str]) -> None:
    with hostile.honour_expect() as server, Transport() as transport:
        page = finishes(lambda: transport.get(server.url))
    assert isinstance(page, Response) and page.status == 200
    assert slow_resolver == []


@pytest.mark.parametrize("option", ["ca_cert", "client_cert"])
def test_certificate_files_are_checked_before_anything_is_sent(tmp_path: Path, option: str) -> None:
    fifo = tmp_path / "bundle.fifo"
    os.mkfifo(fifo)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    cases = {
        str(fifo): "not a regular file",  # opening it would block forever
        "/dev/zero": "not a regular file",  # reading it would never end
        str(tmp_path / "missing.pem"): "does not exist",
        str(tmp_path): "not a regular file",
    }
    for path, words in cases.items():
        started = time.monotonic()
        with pytest.raises(ConfigurationError) as info:
            TransportOptions(**{option: path})
        assert words in info.value.message and path in info.value.message
        assert info.value.path == path and info.value.hint
        assert time.monotonic() - started < 1.0
    options = TransportOptions(**{option: str(garbage)})  # a regular file: read by Transport
    with pytest.raises(ConfigurationError) as info:
        Transport(options)
    assert str(garbage) in info.value.message


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 2\x1b[31m00 OK\x07\r\n\r\n",  # an invalid status line, quoted in the error
        b"\x1b]0;owned\x07HTTP/1.1 200 OK\r\n\r\n",
    ],
)
def test_no_terminal_escapes_from_an_invalid_answer(body: MultipartBody, answer: bytes) -> None:
    with hostile.raw_answer(answer) as server, Transport(TransportOptions(timeout=5.0)) as t:
        error = finishes(lambda: t.post_file(server.url, body, authorization=AUTH))
    assert isinstance(error, TransportError)
    shown = error.message + (error.hint or "")
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in shown), shown


def test_no_terminal_escapes_in_a_reason_phrase(body: MultipartBody) -> None:
    answer = b"HTTP/1.1 400 Bad\x1b[2J\x1b[H request\r\nContent-Length: 0\r\n\r\n"
    with hostile.raw_answer(answer) as server, Transport(TransportOptions(timeout=5.0)) as t:
        result = finishes(lambda: t.post_file(server.url, body, authorization=AUTH))
    response = getattr(result, "response", None)
    assert isinstance(response, Response), result
    assert response.status == 400
    assert "\x1b" not in response.reason and "request" in response.reason
