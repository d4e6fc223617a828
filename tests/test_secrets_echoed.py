"""A registry that echoes the secret back never gets it shown: not in errors, reports, logs or the CLI."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from registry_upload import (
    FileStatus,
    RetryPolicy,
    UploadError,
    UploadFailedError,
    upload,
)
from registry_upload.testing import Action, FakeRegistry, Reply, hostile

from .conftest import CANARY, assert_no_canary
from .support import BASIC, CREDS, cli


@pytest.mark.parametrize("status", [400, 403, 500])
def test_a_registry_echoing_the_token_never_gets_it_shown(
    wheel: Path, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = (
        f"bad request; you sent Authorization: Basic {BASIC} "
        f"(password {CANARY}, url-quoted {CANARY}); token={CANARY}"
    )
    reply = Action("reply", Reply(status, echo, reason=f"Nope {CANARY}"))
    policy = RetryPolicy(attempts=2, initial_backoff=0.0, jitter=0.0, sleep=lambda s: None)
    with FakeRegistry(actions=[reply, reply]) as registry:
        report = upload([wheel], registry.url, credentials=CREDS, retry=policy)
    result = report.results[0]
    assert result.status is FileStatus.FAILED
    error = result.error
    assert isinstance(error, UploadError)
    assert "********" in (error.server_message or "")  # the message is kept, masked
    outputs = [
        error,
        repr(error),
        error.server_message,
        error.to_dict(),
        json.dumps(report.to_dict()),
        str(result),
        repr(result),
        *(record.getMessage() for record in caplog.records),
    ]
    assert_no_canary(*outputs)
    assert all(BASIC not in str(o) for o in outputs)
    with pytest.raises(UploadFailedError) as raised:
        report.raise_for_failures()
    assert_no_canary(raised.value, raised.value.server_message, raised.value.to_dict())


def test_cli_never_prints_an_echoed_secret(wheel: Path) -> None:
    body = f"Authorization: Basic {BASIC}; password={CANARY}"
    with FakeRegistry(default=Action("reply", Reply(403, body))) as registry:
        out = cli(
            "upload",
            "--repository-url",
            registry.url,
            "--json",
            "-v",
            str(wheel),
            env={"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY},
        )
    assert out.returncode == 1
    assert "********" in out.stdout + out.stderr
    assert_no_canary(out.stdout, out.stderr)
    assert BASIC not in out.stdout + out.stderr


def test_pypirc_syntax_error_never_echoes_the_line(tmp_path: Path, wheel: Path) -> None:
    pypirc = tmp_path / "pypirc"
    pypirc.write_text(f"[distutils]\nindex-servers = x\n[x]\nusername = a\npassword {CANARY}\n")
    out = cli("upload", "--config-file", str(pypirc), "-r", "x", str(wheel))
    assert out.returncode == 2
    assert "line(s) 5" in out.stderr
    assert_no_canary(out.stdout, out.stderr)


def test_cli_against_a_registry_echoing_headers(wheel: Path) -> None:

    env = {"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY}
    for status in (400, 403, 500):
        with hostile.echo_headers(status) as registry:
            out = cli(
                "upload",
                "--repository-url",
                registry.url,
                "--attempts",
                "2",
                "--json",
                "-v",
                str(wheel),
                env=env,
            )
        assert out.returncode == 1
        assert "authorization" in (out.stdout + out.stderr).lower()  # the echo is shown ...
        assert_no_canary(out.stdout, out.stderr)  # ... with the secret masked
        assert BASIC not in out.stdout + out.stderr
