"""Review of the start-up/per-file round: one-write requests, run()'s frozen imports,
the deferred credential providers, _destination.

The last three record findings of the review, fixed since: Ctrl-C while the
program imports, a deferred provider built twice by racing threads, a file:
URL escape that is not UTF-8.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from registry_upload import Credentials, FileStatus, RetryPolicy, upload
from registry_upload._destination import root_from_destination
from registry_upload.credentials import CredentialChain
from registry_upload.testing import FakeRegistry, hostile, make_wheel

from .conftest import CANARY, assert_no_canary

CREDS = Credentials.of("__token__", CANARY)
NO_WAIT = RetryPolicy(attempts=3, sleep=lambda seconds: None)


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


def test_small_upload_after_a_connection_closed_unread_is_sent_once(tmp_path: Path) -> None:
    """A registry that drops the first connection without reading it: the upload is
    retried and stored exactly once."""
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
    assert result.status is FileStatus.UPLOADED, result.error
    assert result.attempts == 2
    assert len(posts) == 1 and posts[0].body_sha256 is not None  # one complete upload
    assert_no_canary(report, report.to_dict())


_IMPORT_INTERRUPTED = """\
import sys

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "registry_upload.publish":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupt())
from registry_upload.cli import run
sys.argv[1:] = ["check", sys.argv[1]]
run()
"""


def test_ctrl_c_while_the_program_imports_its_modules_says_interrupted(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "early", "1.0")
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_INTERRUPTED, str(wheel)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 130
    assert "Traceback" not in out.stderr
    assert "interrupted" in out.stderr


def test_a_deferred_provider_is_built_once_when_threads_resolve_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry_upload.credentials import _gitlab

    built: list[object] = []
    real_init = _gitlab.GitLabJobTokenProvider.__init__

    def slow_init(self: object, *args: object, **kwargs: object) -> None:
        built.append(self)
        time.sleep(0.05)  # widens the window two threads share
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_gitlab.GitLabJobTokenProvider, "__init__", slow_init)
    empty = tmp_path / ".pypirc"
    empty.write_text("", encoding="utf-8")
    chain = CredentialChain.default(env={}, pypirc=empty)
    for machine_state in ("netrc", "keyring"):
        chain.remove(machine_state)
    start = threading.Barrier(4)

    def resolve() -> None:
        start.wait()
        chain.resolve("https://upload.example.org/legacy/")

    threads = [threading.Thread(target=resolve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(built) == 1


@pytest.mark.skipif(os.name == "nt", reason="POSIX file-system encoding")
def test_file_url_escape_that_is_not_utf8_names_those_bytes() -> None:
    root = root_from_destination("file:///srv/%FF/simple/")
    assert root is not None
    assert os.fsencode(root) == b"/srv/\xff/simple"
