"""A small upload goes out once: a file that changed size sends nothing; a connection closed unread is not a second upload."""

from __future__ import annotations

import threading
from pathlib import Path

from registry_upload import (
    FileStatus,
    upload,
)
from registry_upload.testing import FakeRegistry, hostile, make_wheel

from .conftest import assert_no_canary
from .support import CREDS, NO_WAIT


def test_small_file_that_changed_size_sends_no_request(tmp_path: Path) -> None:
    """The size check runs before the one write of head and body: nothing reaches
    the registry, and the file's error is reported (not a broken connection)."""
    wheel = make_wheel(tmp_path, "resized", "1.0")
    grown: list[bool] = []

    def grow(event: object) -> None:
        if getattr(event, "kind", None) == "started" and not grown:
            grown.append(True)
            wheel.write_bytes(wheel.read_bytes() + b"\0" * 10)

    with FakeRegistry() as registry:
        report = upload([wheel], registry.url, credentials=CREDS, retry=NO_WAIT, on_event=grow)
        assert registry.posts == []
        assert registry.upload_count == {}
    (result,) = report.results
    assert result.status is FileStatus.FAILED
    assert "changed size" in str(result.error)
    assert_no_canary(report, report.to_dict())


def test_a_connection_closed_after_the_body_is_never_resent_blind(tmp_path: Path) -> None:
    """A registry that drops the connection after the small body went out (one write):
    the client cannot tell "closed unread" from "stored, then reset", and the index
    does not list the file, so it ends unconfirmed and is never sent a second time."""
    wheel = make_wheel(tmp_path, "dropped", "1.0")
    seen: list[str] = []
    lock = threading.Lock()

    def behaviour(conn: hostile.Connection) -> None:
        with lock:
            first = not seen
            seen.append("connection")
        if first:
            return  # closed without reading a byte
        while (request := conn.read_request()) is not None:
            seen.append(request.method)
            if request.method == "POST":
                conn.read_body(request)
                conn.answer(200, b"OK")
            else:
                conn.answer(404, b"not found")

    with hostile.HostileServer(behaviour, name="drop-first") as server:
        report = upload([wheel], server.url, credentials=CREDS, retry=NO_WAIT, allow_insecure=True)
        posts = [r for r in server.requests if r.method == "POST"]
    (result,) = report.results
    assert result.status is FileStatus.UNCONFIRMED, result.error
    assert result.attempts == 1 and posts == []  # no second POST
    assert "skip-existing" in (result.hint or "")
    assert_no_canary(report, report.to_dict())
