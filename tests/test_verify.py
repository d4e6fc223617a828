"""Verify after upload against a loopback index that lags, lies or refuses."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from registry_upload._verify import VerifyOutcome, VerifyPolicy, VerifyStatus, verify_listed
from registry_upload.errors import FileExistsOnRegistryError, UploadError
from registry_upload.transport import Transport, TransportOptions
from tests.conftest import CANARY, assert_no_canary

FILENAME = "demo_pkg-1.0-py3-none-any.whl"
SHA = "ab" * 32
OTHER = "cd" * 32
# The default policy over 60 s: sleeps 1, 2, 4, 8, then 10 s capped, the last one cut short.
DEFAULT_SLEEPS = [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0, 5.0]

# (status, content type, body) for the n-th GET (1-based)
Page = tuple[int, str, bytes]


def json_page(files: dict[str, str | None]) -> Page:
    entries = [
        {"filename": f, "url": f, "hashes": {"sha256": h} if h else {}} for f, h in files.items()
    ]
    body = {"meta": {"api-version": "1.0"}, "name": "demo-pkg", "files": entries}
    return 200, "application/vnd.pypi.simple.v1+json", json.dumps(body).encode()


def html_page(files: dict[str, str | None]) -> Page:
    links = "".join(
        f'<a href="../../files/{f}{"#sha256=" + h if h else ""}">{f}</a><br>'
        for f, h in files.items()
    )
    return 200, "text/html; charset=utf-8", f"<html><body>{links}</body></html>".encode()


NOT_FOUND: Page = (404, "text/plain", b"Not Found")


@dataclass
class IndexServer:
    """A loopback simple index whose answer to the n-th page read is scripted."""

    script: Callable[[int], Page]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


Start = Callable[[Callable[[int], Page]], IndexServer]


@pytest.fixture
def index() -> Iterator[Start]:
    servers: list[ThreadingHTTPServer] = []

    def start(script: Callable[[int], Page]) -> IndexServer:
        state = IndexServer(script)
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    state.requests.append((self.path, dict(self.headers.items())))
                    status, ctype, body = state.script(len(state.requests))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        state.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def transport() -> Iterator[Transport]:
    with Transport(TransportOptions(proxy="", connect_timeout=5, read_timeout=5)) as t:
        yield t


def run(transport: Transport, server: IndexServer, fake: FakeTime, **kw: Any) -> VerifyOutcome:
    return verify_listed(
        transport,
        server.url,
        "Demo.Pkg",
        FILENAME,
        SHA.upper(),  # the caller's case does not matter
        sleep=fake.sleep,
        clock=fake.clock,
        **kw,
    )


def test_listed_after_some_polls_is_verified(index: Start, transport: Transport) -> None:
    server = index(lambda n: NOT_FOUND if n < 3 else json_page({FILENAME: SHA}))
    fake = FakeTime()
    outcome = run(transport, server, fake)
    assert outcome.status is VerifyStatus.VERIFIED and outcome.ok and outcome.verified
    assert outcome.polls == 3 == len(server.requests)
    assert fake.sleeps == [1.0, 2.0]
    assert outcome.waited == 3.0
    assert outcome.listed_sha256 == SHA and outcome.error is None
    # the page of the normalised name, asked for JSON first and fresh from caches
    path, headers = server.requests[0]
    assert path == "/simple/demo-pkg/"
    assert headers["Accept"].startswith("application/vnd.pypi.simple.v1+json")
    assert headers["Cache-Control"] == "max-age=0"
    assert "Authorization" not in headers
    assert outcome.to_dict()["status"] == "verified"


def test_html_index_is_read_when_json_is_not_offered(index: Start, transport: Transport) -> None:
    server = index(
        lambda n: (
            html_page({"other-1.0.tar.gz": OTHER})
            if n == 1
            else html_page({FILENAME: SHA, "other-1.0.tar.gz": OTHER})
        )
    )
    fake = FakeTime()
    outcome = run(transport, server, fake)
    assert outcome.status is VerifyStatus.VERIFIED
    assert outcome.polls == 2 and fake.sleeps == [1.0]


def test_server_errors_and_lag_are_polled_through(index: Start, transport: Transport) -> None:
    pages = {1: (503, "text/plain", b"busy"), 2: json_page({}), 3: (500, "text/plain", b"x")}
    server = index(lambda n: pages.get(n, json_page({FILENAME: SHA})))
    outcome = run(transport, server, FakeTime())
    assert outcome.status is VerifyStatus.VERIFIED and outcome.polls == 4


def test_wrong_hash_until_the_end_is_a_mismatch(index: Start, transport: Transport) -> None:
    server = index(lambda n: json_page({FILENAME: OTHER}))
    fake = FakeTime()
    outcome = run(transport, server, fake)
    assert outcome.status is VerifyStatus.MISMATCH and not outcome.ok
    # a stale cache may show an overwritten file's old hash: it keeps polling to the end
    assert outcome.polls == 10 == len(server.requests)
    assert fake.sleeps == DEFAULT_SLEEPS
    assert outcome.listed_sha256 == OTHER
    assert isinstance(outcome.error, FileExistsOnRegistryError)
    assert OTHER in outcome.error.message and SHA in outcome.error.message
    assert "bump the version" in (outcome.error.hint or "")


def test_a_stale_hash_that_turns_right_is_verified(index: Start, transport: Transport) -> None:
    server = index(lambda n: json_page({FILENAME: OTHER if n < 4 else SHA}))
    outcome = run(transport, server, FakeTime())
    assert outcome.status is VerifyStatus.VERIFIED and outcome.polls == 4


def test_never_listed_within_the_wait(index: Start, transport: Transport) -> None:
    server = index(lambda n: json_page({"demo_pkg-0.9.tar.gz": OTHER}))
    fake = FakeTime()
    outcome = run(transport, server, fake)
    assert outcome.status is VerifyStatus.NOT_LISTED and not outcome.ok
    assert outcome.polls == 10 and fake.sleeps == DEFAULT_SLEEPS
    assert outcome.waited == 60.0
    error = outcome.error
    assert type(error) is UploadError
    assert "not listed" in error.message and "60 s" in error.message
    assert "raise the verify timeout" in (error.hint or "")
    assert outcome.reason == error.message
    assert outcome.to_dict()["error"]["type"] == "UploadError"


def test_the_wait_is_bounded_by_the_policy(index: Start, transport: Transport) -> None:
    server = index(lambda n: NOT_FOUND)
    fake = FakeTime()
    policy = VerifyPolicy(timeout=5, initial_delay=0.5, factor=3, max_delay=2)
    outcome = run(transport, server, fake, policy=policy)
    assert fake.sleeps == [0.5, 1.5, 2.0, 1.0]
    assert outcome.polls == 5 and outcome.status is VerifyStatus.NOT_LISTED
    assert outcome.error is not None and outcome.error.status is None  # a 404 is "not yet"


def test_zero_timeout_polls_once(index: Start, transport: Transport) -> None:
    server = index(lambda n: NOT_FOUND)
    fake = FakeTime()
    outcome = run(transport, server, fake, policy=VerifyPolicy(timeout=0))
    assert outcome.polls == 1 and fake.sleeps == []


def test_listed_without_a_hash_is_not_a_failure_but_not_verified(
    index: Start, transport: Transport
) -> None:
    server = index(lambda n: html_page({FILENAME: None}))
    outcome = run(transport, server, FakeTime())
    assert outcome.status is VerifyStatus.LISTED
    assert outcome.ok and not outcome.verified and outcome.polls == 1
    assert "no sha256" in (outcome.reason or "")


def test_authorization_is_sent_and_never_reported(index: Start, transport: Transport) -> None:
    auth = f"Basic {CANARY}"
    server = index(lambda n: json_page({FILENAME: SHA}))
    outcome = run(transport, server, FakeTime(), authorization=auth)
    assert outcome.verified
    assert server.requests[0][1]["Authorization"] == auth
    assert_no_canary(repr(outcome), outcome.to_dict(), outcome.reason)


def test_an_index_that_refuses_reads_says_so(
    index: Start, transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    server = index(lambda n: (401, "text/plain", b"Unauthorized"))
    caplog.set_level("DEBUG")
    outcome = run(
        transport, server, FakeTime(), authorization=f"Bearer {CANARY}",
        policy=VerifyPolicy(timeout=3),
    )  # fmt: skip
    assert outcome.status is VerifyStatus.NOT_LISTED
    assert outcome.error is not None and outcome.error.status == 401
    assert "answered 401" in outcome.error.message
    assert "credentials for reading" in (outcome.error.hint or "")
    assert_no_canary(caplog.text, outcome.to_dict())


def test_an_index_that_is_down_ends_not_listed(transport: Transport) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens on the port any more
    fake = FakeTime()
    outcome = verify_listed(
        transport, f"http://127.0.0.1:{port}/simple/", "demo-pkg", FILENAME, SHA,
        policy=VerifyPolicy(timeout=2), sleep=fake.sleep, clock=fake.clock,
    )  # fmt: skip
    assert outcome.status is VerifyStatus.NOT_LISTED and outcome.polls == 3
    assert outcome.error is not None and "cannot read the index" in outcome.error.message


@pytest.mark.parametrize(
    "kwargs", [{"timeout": -1}, {"initial_delay": 0}, {"max_delay": 0}, {"factor": 0.5}]
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        VerifyPolicy(**kwargs)
