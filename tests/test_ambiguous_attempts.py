"""An attempt whose outcome the registry never told is never sent again.

The registry stores the file and then resets, or a gateway answers 502, or a
success arrives before the whole body went out: the index is polled (fresh
reads), and the file ends *uploaded (verified)* when the index lists it with
its sha256, *unconfirmed* when the index cannot tell (it lags past the wait,
lives elsewhere and answers 404, or answers 503) -- never *failed* while
stored, never a second POST.  And a host that resets every connection ends
the batch fast.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from pathlib import Path

import pytest

from registry_upload import Credentials, FileStatus, RetryPolicy, TransportError, upload
from registry_upload.testing import Action, FakeRegistry, Reply, hostile, make_wheel
from registry_upload.testing.fake import _Handler

from .conftest import CANARY

CREDS = Credentials.of("user", CANARY, source="test")


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class OddIndex(FakeRegistry):
    """A FakeRegistry whose index answers ``status`` (404: it lives elsewhere; 503:
    down), or lags: lists nothing until ``lag`` seconds after the first store."""

    def __init__(self, *, status: int = 200, lag: float = 0.0, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.status, self.lag = status, lag
        self.first_store: float | None = None
        self.index_reads: list[dict[str, str]] = []

    def _store(self, form):  # type: ignore[no-untyped-def]
        self.first_store = self.first_store or time.monotonic()
        return super()._store(form)

    def _handle_get(self, handler: _Handler) -> None:
        if "/simple/" in handler.path:
            self.index_reads.append(dict(handler.headers.items()))
        lagging = self.first_store is None or time.monotonic() - self.first_store < self.lag
        if self.status != 200 or (self.lag and lagging):
            self._record(handler)
            handler.send(Reply(self.status if self.status != 200 else 404, b"no"))
            return
        super()._handle_get(handler)


def _policy(confirm: float, waits: Waits | None = None) -> RetryPolicy:
    return RetryPolicy(attempts=3, initial_backoff=0.01, jitter=0.0, confirm_timeout=confirm,
                       sleep=waits)  # fmt: skip


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return make_wheel(tmp_path, "amb", "1.0", payload_size=200_000)


def test_stored_then_reset_with_a_lagging_index_is_verified(wheel: Path) -> None:
    with OddIndex(lag=3.0, actions=[Action("reset_after_store")]) as registry:
        started = time.monotonic()
        report = upload([wheel], registry.url, credentials=CREDS, retry=_policy(20.0))
        took = time.monotonic() - started
        reads = registry.index_reads
        count = registry.upload_count
    (result,) = report.results
    assert (result.status, result.verified, result.attempts) == (FileStatus.UPLOADED, True, 1)
    assert count == {wheel.name: 1} and len(registry.posts) == 1
    assert 3.0 <= took < 20.0
    assert len(reads) >= 2 and all(h.get("Cache-Control") == "max-age=0" for h in reads)


@pytest.mark.parametrize("status", [404, 503])
def test_stored_then_reset_when_the_index_cannot_tell_is_unconfirmed(
    wheel: Path, status: int
) -> None:
    waits = Waits()
    with OddIndex(status=status, actions=[Action("reset_after_store")]) as registry:
        report = upload([wheel], registry.url, credentials=CREDS, retry=_policy(30.0, waits))
        count = registry.upload_count
    (result,) = report.results
    assert result.status is FileStatus.UNCONFIRMED and not result.ok and not report.ok
    assert count == {wheel.name: 1} and len(registry.posts) == 1  # stored once, sent once
    assert result.attempts == 1
    assert "--skip-existing" in (result.hint or "")
    assert waits[:5] == [1.0, 2.0, 4.0, 8.0, 10.0]  # polled through the wait, then gave up
    assert report.unconfirmed == 1 and report.counts()["unconfirmed"] == 1
    assert report.to_dict()["results"][0]["status"] == "unconfirmed"
    assert "unconfirmed" in str(result) and "unconfirmed" in str(report)


def test_gateway_error_after_storing_is_verified_not_resent(wheel: Path) -> None:
    with FakeRegistry(actions=[Action("store", Reply(502, "bad gateway"))]) as registry:
        report = upload([wheel], registry.url, credentials=CREDS, retry=_policy(5.0, Waits()))
    (result,) = report.results
    assert (result.status, result.verified, result.http_status) == (FileStatus.UPLOADED, True, 502)
    assert registry.upload_count == {wheel.name: 1} and len(registry.posts) == 1


def test_stored_file_is_never_reported_failed(wheel: Path) -> None:
    """Whatever the index says, a stored file ends uploaded or unconfirmed."""
    for action in ("reset_after_store", "hang"):
        with OddIndex(status=404, actions=[Action(action, delay=2.0)]) as registry:
            report = upload(
                [wheel],
                registry.url,
                credentials=CREDS,
                retry=_policy(1.0, Waits()),
                timeout=1.0,
            )
            assert registry.upload_count == {wheel.name: 1}
        assert report.results[0].status is FileStatus.UNCONFIRMED


# -- a success before the body ended -------------------------------------------------------


def _early_success(listed: str | None) -> hostile.HostileServer:
    """Says 100 Continue, reads 64 KiB, answers 200 (and stores nothing); its index
    lists the file with ``listed`` as sha256 (or 404)."""

    def behaviour(conn: hostile.Connection) -> None:
        while (request := conn.read_request()) is not None:
            if request.method == "GET":
                if listed is None:
                    conn.answer(404, b"no")
                else:
                    page = f'<a href="/f/early-1.0-py3-none-any.whl#sha256={listed}">x</a>'
                    conn.answer(200, page.encode(), headers={"Content-Type": "text/html"})
                continue
            if request.expects_continue:
                conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            conn.read_body(request, limit=64 << 10)
            conn.answer(200, b"OK", headers={"Connection": "close"})
            return

    return hostile.HostileServer(behaviour, name="early-200")


@pytest.mark.parametrize("listed", [False, True])
def test_a_success_before_the_whole_body_is_not_an_upload(tmp_path: Path, listed: bool) -> None:
    wheel = make_wheel(tmp_path, "early", "1.0", payload_size=3_000_000)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with _early_success(digest if listed else None) as server:
        report = upload([wheel], server.url, credentials=CREDS, retry=_policy(2.0, Waits()),
                        allow_insecure=True)  # fmt: skip
        posts = [r for r in server.requests if r.method == "POST"]
    (result,) = report.results
    assert len(posts) == 1  # never sent again
    # (bytes_sent counts the multipart body, whose form fields come first: under load
    # the answer may arrive after more bytes than the file's size, yet before the end)
    if listed:  # verified=True: the index, not the early 200, settled it
        assert (result.status, result.verified) == (FileStatus.UPLOADED, True)
    else:
        assert result.status is FileStatus.UNCONFIRMED
        assert "before the whole file was sent" in (result.error.message if result.error else "")


# -- a host that resets every connection ------------------------------------------------


class ResetEverything:
    """Accepts every connection and resets it at once, before any byte of an answer."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/legacy/"

    def _serve(self) -> None:
        while not self.stopping.is_set() and self.connections < 500:
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
            sock.close()

    def __enter__(self) -> ResetEverything:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.listener.close()


def test_a_host_resetting_every_connection_stops_the_batch_fast(tmp_path: Path) -> None:
    wheels = [make_wheel(tmp_path, f"reset{i}", "1.0") for i in range(10)]
    with ResetEverything() as server:
        started = time.monotonic()
        report = upload(wheels, server.url, credentials=CREDS, allow_insecure=True,
                        retry=RetryPolicy(jitter=0.0), jobs=1)  # fmt: skip
        took = time.monotonic() - started
    statuses = [r.status for r in report]
    assert took < 15.0, took  # one file's retries, not ten
    assert statuses.count(FileStatus.NOT_STARTED) == 9
    (first,) = [r for r in report if r.status is not FileStatus.NOT_STARTED]
    assert first.status in (FileStatus.FAILED, FileStatus.UNCONFIRMED)
    assert isinstance(first.error, TransportError)
    reasons = {r.reason for r in report if r.status is FileStatus.NOT_STARTED}
    assert len(reasons) == 1 and "could not be reached" in reasons.pop()


# -- answers that are junk -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "1e3", "-5", "9" * 400, "Mon, 99 Foo 2024"])
def test_a_junk_retry_after_is_ignored(wheel: Path, value: str) -> None:
    waits = Waits()
    reply = Reply(429, "slow down", {"Retry-After": value})
    with FakeRegistry(actions=[Action("reply", reply)]) as registry:
        report = upload([wheel], registry.url, credentials=CREDS, retry=_policy(1.0, waits))
    (result,) = report.results
    assert result.status is FileStatus.UPLOADED and result.attempts == 2
    assert waits == [0.01]  # the policy's own backoff
    assert registry.upload_count == {wheel.name: 1}


def test_a_deeply_nested_index_page_is_an_index_that_cannot_tell(wheel: Path) -> None:
    class Nested(FakeRegistry):
        def _handle_get(self, handler: _Handler) -> None:
            self._record(handler)
            body = b'{"files": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
            ctype = "application/vnd.pypi.simple.v1+json"
            handler.send(Reply(200, body, {"Content-Type": ctype}))

    with Nested() as registry:
        report = upload([wheel], registry.url, credentials=CREDS, skip_existing=True)
    (result,) = report.results
    assert result.status is FileStatus.UPLOADED  # skip-existing could not tell: it was sent
    assert registry.upload_count == {wheel.name: 1}
