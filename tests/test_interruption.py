"""Ctrl-C at every phase: a partial report, no thread left behind, nothing sent twice."""

from __future__ import annotations

import _thread
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from registry_upload import (
    FileStatus,
    Uploader,
    UploadInterrupted,
)
from registry_upload.testing import FakeRegistry, make_wheel

from .conftest import CANARY, assert_no_canary
from .support import CREDS, cli_env, many_wheels, upload_threads


def test_ctrl_c_returns_a_partial_report_and_leaves_no_thread(tmp_path: Path) -> None:
    files = many_wheels(tmp_path, 20)
    with FakeRegistry(delay=0.3) as registry:
        timer = threading.Timer(1.0, _thread.interrupt_main)  # Ctrl-C, delivered to this thread
        timer.start()
        try:
            with Uploader(registry.url, credentials=CREDS, jobs=2) as uploader:
                with pytest.raises(UploadInterrupted) as raised:
                    uploader.upload(files)
        finally:
            timer.cancel()
        time.sleep(0.2)
        stored = set(registry.stored)
    report = raised.value.report
    assert report is uploader.report and report.interrupted
    counts = report.counts()
    assert counts["uploaded"] >= 1 and counts["not-started"] >= 1
    assert counts["uploaded"] + counts["not-started"] + counts["interrupted"] == 20
    assert not upload_threads()
    uploaded = {r.filename for r in report if r.status is FileStatus.UPLOADED}
    not_started = {r.filename for r in report if r.status is FileStatus.NOT_STARTED}
    assert uploaded <= stored  # what the report calls uploaded is on the registry
    assert not (not_started & stored)  # nothing "not started" was sent
    assert all(r.reason for r in report if not r.ok)


def test_sigint_to_the_cli_mid_batch(tmp_path: Path) -> None:
    files = many_wheels(tmp_path, 30)
    with FakeRegistry(delay=0.25) as registry:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "registry_upload",
                "upload",
                "--repository-url",
                registry.url,
                "--non-interactive",
                "--json",
                *map(str, files),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env({"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY}),
        )
        deadline = time.monotonic() + 30
        while len(registry.stored) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        time.sleep(0.3)
        stored = set(registry.stored)
    assert proc.returncode == 130, stderr
    assert "NOT-STARTED" in stderr and "interrupted: nothing more was started" in stderr
    data = json.loads(stdout)
    assert data["interrupted"] is True
    by_status: dict[str, set[str]] = {}
    for item in data["results"]:
        by_status.setdefault(item["status"], set()).add(item["filename"])
    assert by_status["uploaded"] <= stored
    assert not (by_status.get("not-started", set()) & stored)
    assert len(stored) < 30  # the batch did not run to the end
    assert_no_canary(stdout, stderr)


def test_a_second_ctrl_c_never_calls_a_file_in_flight_failed(tmp_path: Path) -> None:
    files = many_wheels(tmp_path, 20)
    with FakeRegistry(delay=0.6) as registry:
        first = threading.Timer(1.0, _thread.interrupt_main)
        second = threading.Timer(1.1, _thread.interrupt_main)  # before the grace period ends
        first.start()
        second.start()
        try:
            with Uploader(registry.url, credentials=CREDS, jobs=4) as uploader:
                with pytest.raises(UploadInterrupted) as raised:
                    uploader.upload(files)
        finally:
            first.cancel()
            second.cancel()
        time.sleep(0.8)
        stored = set(registry.stored)
    report = raised.value.report
    statuses = {r.status for r in report}
    assert FileStatus.FAILED not in statuses  # our own abort is no failure of the file
    assert FileStatus.INTERRUPTED in statuses  # (four slow uploads were in flight)
    assert statuses <= {FileStatus.UPLOADED, FileStatus.INTERRUPTED, FileStatus.NOT_STARTED}
    assert {r.filename for r in report if r.status is FileStatus.UPLOADED} <= stored
    assert not ({r.filename for r in report if r.status is FileStatus.NOT_STARTED} & stored)
    assert not upload_threads()


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
