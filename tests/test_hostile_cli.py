"""Hostile and unreachable registries through the CLI: every run ends with a typed outcome, fast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry_upload import (
    FileStatus,
    RetryPolicy,
    upload,
)
from registry_upload.testing import hostile

from .conftest import CANARY, assert_no_canary
from .support import CREDS, cli, many_wheels


def test_an_unreachable_registry_fails_the_batch_fast(tmp_path: Path) -> None:
    from registry_upload.testing import free_port

    files = many_wheels(tmp_path, 10)
    port = free_port()  # nothing listens there: connection refused
    policy = RetryPolicy(attempts=3, initial_backoff=0.0, jitter=0.0, sleep=lambda s: None)
    report = upload(files, f"http://127.0.0.1:{port}/", credentials=CREDS, retry=policy, jobs=1)
    statuses = [r.status for r in report]
    assert statuses.count(FileStatus.FAILED) == 1  # one file spent the retry budget ...
    assert statuses.count(FileStatus.NOT_STARTED) == 9  # ... and no other file was tried
    failed = next(r for r in report if r.status is FileStatus.FAILED)
    assert failed.attempts == 3 and "cannot connect" in str(failed.error)
    assert all("could not be reached" in (r.reason or "") for r in report if not r.attempts)


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("never_answer", "deadline"),  # the whole file went out: unconfirmed, never resent
        ("trickle", "failed"),  # the 400 is classified from what arrived in time
        ("endless_body", "uploaded"),
        ("huge_content_length", "failed"),
        ("close_at_once", "unconfirmed"),  # closed after the body: the index cannot tell
    ],
)
def test_cli_against_hostile_registries_ends_with_a_typed_outcome(
    wheel: Path, server: str, expected: str
) -> None:

    env = {"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY}
    with getattr(hostile, server)(lifetime=20.0) as registry:
        out = cli(
            "upload",
            "--repository-url",
            registry.url,
            "--timeout",
            "2",
            "--attempts",
            "1",
            "--json",
            str(wheel),
            env=env,
        )
    assert out.returncode in (0, 1), out.stderr
    assert "Traceback" not in out.stderr
    data = json.loads(out.stdout)
    (result,) = data["results"]
    if expected == "deadline":
        assert result["status"] == "unconfirmed"
        assert "deadline" in result["error"]["message"]
    else:
        assert result["status"] == expected, result
    assert_no_canary(out.stdout, out.stderr)
