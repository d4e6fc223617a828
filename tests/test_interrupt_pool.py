"""Ctrl-C mid-batch, on every Python: no upload outlives the report, nothing is stored twice.

Before Python 3.13 an interrupted ``Thread.join()`` can leave ``is_alive()``
false while the thread still runs; the pool counts its own workers instead.
Each test interrupts the main thread for real (``_thread.interrupt_main``,
SIGINT) while slow uploads are in flight, then checks the registry's own
count against the report.
"""

from __future__ import annotations

import _thread
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from registry_upload import Credentials, FileStatus, Uploader, UploadInterrupted
from registry_upload._pool import Pool
from registry_upload.results import FileResult, ProgressEvent
from registry_upload.testing import FakeRegistry, make_wheel

from .conftest import CANARY

CREDS = Credentials.of("user", CANARY, source="test")


def _wheels(tmp_path: Path, count: int) -> list[Path]:
    return [make_wheel(tmp_path, f"ctrlc{i}", "1.0") for i in range(count)]


def _upload_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "registry-upload"]


def _interrupt_after(seconds: float, how: str) -> threading.Timer:
    if how == "sigint":
        timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    else:
        timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


@pytest.mark.parametrize("how", ["interrupt_main", "sigint"])
@pytest.mark.parametrize("delay", [0.4, 3.0])  # files end within the grace period / are cut
def test_no_upload_outlives_the_interrupted_report(tmp_path: Path, how: str, delay: float) -> None:
    files = _wheels(tmp_path, 8)
    events: list[tuple[float, ProgressEvent]] = []
    with FakeRegistry(delay=delay) as registry:
        timer = _interrupt_after(0.6, how)
        try:
            with Uploader(registry.url, credentials=CREDS, jobs=4) as uploader:
                uploader.on_event = lambda e: events.append((time.monotonic(), e))
                with pytest.raises(UploadInterrupted) as raised:
                    uploader.upload(files)
                raised_at = time.monotonic()
                assert not [t for t in _upload_threads() if t.is_alive()]
        finally:
            timer.cancel()
        time.sleep(delay + 0.5)  # whatever the registry was still doing has ended
        stored = set(registry.stored)
    report = raised.value.report
    assert not [e for at, e in events if at > raised_at]  # no on_event after the exception
    by_status: dict[FileStatus, set[str]] = {}
    for result in report:
        by_status.setdefault(result.status, set()).add(result.filename)
    assert by_status.get(FileStatus.UPLOADED, set()) <= stored
    assert not (by_status.get(FileStatus.NOT_STARTED, set()) & stored)
    assert FileStatus.FAILED not in by_status
    assert registry.upload_count == {name: 1 for name in stored}  # nothing sent twice
    posted = {p.filename for p in registry.posts}
    assert posted <= by_status.get(FileStatus.UPLOADED, set()) | by_status.get(
        FileStatus.INTERRUPTED, set()
    )  # every file the registry saw is reported as sent or in flight


def test_safe_rerun_with_skip_existing_stores_nothing_twice(tmp_path: Path) -> None:
    files = _wheels(tmp_path, 8)
    with FakeRegistry(delay=1.5) as registry:
        timer = _interrupt_after(0.5, "interrupt_main")
        try:
            with Uploader(registry.url, credentials=CREDS, jobs=4) as uploader:
                with pytest.raises(UploadInterrupted):
                    uploader.upload(files)
        finally:
            timer.cancel()
        registry.delay = 0.0
        with Uploader(registry.url, credentials=CREDS, jobs=4, skip_existing=True) as uploader:
            report = uploader.upload(files)
        time.sleep(0.3)
        counts = registry.upload_count
    assert report.ok
    assert set(registry.stored) == {f.name for f in files}
    assert all(n == 1 for n in counts.values()), counts  # stored once each


def test_the_pool_counts_its_workers_not_is_alive() -> None:
    """A worker ends only when the pool's own count says so, whatever ``is_alive`` says."""
    release = threading.Event()
    pool = Pool(2, slow_seconds=0.0, grace=0.2)
    seen: list[int] = []

    def work(index: int) -> FileResult:
        seen.append(index)
        release.wait(2.0)
        return FileResult(path="x", filename=f"f{index}", status=FileStatus.UPLOADED, url="u",
                          registry="r")  # fmt: skip

    def halt(result: FileResult) -> str | None:
        return None

    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    threading.Timer(1.0, release.set).start()  # the in-flight work ends after the grace
    try:
        started = time.monotonic()
        run = pool.run([0, 1, 2, 3], work, halt_reason=halt)
    finally:
        timer.cancel()
        release.set()
    assert run.interrupted
    assert pool.running == 0  # returned only once every worker had ended
    assert time.monotonic() - started >= 0.9
    assert 2 not in run.started or run.results[2] is not None
