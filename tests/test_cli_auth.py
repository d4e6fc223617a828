"""``registry-upload auth``: who would answer, as whom, until when; never the secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import CANARY, assert_no_canary
from .test_cloud_credentials import CA_URL, GAR_URL, FakeTools, aws_answer

GITLAB_URL = "https://gitlab.example.com/api/v4/projects/42/packages/pypi"


def auth(fakes: FakeTools, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a clean environment whose PATH holds only the fakes."""
    base = {
        "PATH": str(fakes.bin),
        "HOME": "/nonexistent",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    if os.environ.get("PYTHONPATH"):
        base["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [sys.executable, "-m", "registry_upload", "auth", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.fixture
def fakes(tmp_path: Path) -> FakeTools:
    return FakeTools(tmp_path)


def test_codeartifact_answer_in_text_and_json(fakes: FakeTools) -> None:
    fakes.tool("aws", aws_answer("2031-01-02T03:04:05+00:00"))
    text = auth(fakes, CA_URL)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "Answered by: aws-codeartifact (source aws-codeartifact:aws-cli)" in out
    assert "Username: aws" in out and "Kind: cloud-token" in out
    assert "Expires: 2031-01-02 03:04:05 UTC" in out
    assert "Details: domain=acme-corp, owner=123456789012, region=eu-west-1" in out
    assert "env: skipped (REGISTRY_UPLOAD_PASSWORD, TWINE_PASSWORD and UV_PUBLISH" in out
    assert "prompt" not in out  # the chain stopped at the answer
    assert_no_canary(text.stdout, text.stderr)

    js = auth(fakes, CA_URL, "--json")
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["answered"] is True and data["provider"] == "aws-codeartifact"
    assert data["username"] == "aws" and data["kind"] == "cloud-token"
    assert data["expires_at"] == 1925089445.0 and data["expires_in"] > 0
    assert data["details"] == {
        "domain": "acme-corp",
        "owner": "123456789012",
        "region": "eu-west-1",
    }
    assert [t["provider"] for t in data["trail"]][-1] == "aws-codeartifact"
    assert data["trail"][0] == {
        "provider": "explicit",
        "state": "skipped",
        "reason": "no username or password given",
    }
    assert data["error"] is None
    assert "Answered by" in js.stderr  # the human lines go to stderr with --json
    assert_no_canary(js.stdout, js.stderr)


def test_repository_name_and_credential_helper_from_pypirc(
    fakes: FakeTools, tmp_path: Path
) -> None:
    pypirc = tmp_path / "pypirc"
    pypirc.write_text(
        "[distutils]\nindex-servers = corp\n\n[corp]\n"
        "repository = https://pypi.corp.example/upload/\ncredential_helper = corp-helper --ci\n"
    )
    expires = int(time.time()) + 5400
    fakes.tool("corp-helper", f"username=svc\npassword={CANARY}\nexpires_at={expires}\n")
    result = auth(fakes, "-r", "corp", "--config-file", str(pypirc), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["url"], data["name"]) == ("https://pypi.corp.example/upload/", "corp")
    assert data["source"] == "credential-helper:corp-helper" and data["username"] == "svc"
    assert data["expires_at"] == expires
    assert fakes.calls("corp-helper")[0]["argv"] == ["--ci", "get"]
    assert_no_canary(result.stdout, result.stderr)


def test_nobody_answers_exit_1_with_the_whole_trail(fakes: FakeTools) -> None:
    result = auth(fakes, "https://registry.example.org/upload/")
    assert result.returncode == 1
    assert "No provider answered." in result.stdout
    for name in ("explicit", "env", "netrc", "keyring", "credential-helper", "aws-codeartifact"):
        assert f"  {name}: skipped" in result.stdout
    assert "  prompt: skipped (prompting is off (non-interactive))" in result.stdout
    assert "hint:" in result.stdout


def test_a_failing_cloud_cli_is_one_line_with_the_fix(fakes: FakeTools) -> None:
    fakes.tool(
        "gcloud",
        CANARY,  # printed on stdout before failing: must not reach the terminal
        err=f"ERROR: (gcloud.auth.print-access-token) Reauthentication failed for {CANARY}\n",
        exit=1,
    )
    result = auth(fakes, GAR_URL, "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["answered"] is False and data["trail"][-1]["state"] == "failed"
    assert data["error"]["type"] == "CredentialError"
    assert "gcloud auth login" in data["error"]["hint"]
    assert "Failed: google-artifact-registry" in result.stderr
    assert "Reauthentication failed for ********" in result.stderr
    assert_no_canary(result.stdout, result.stderr)


def test_gitlab_job_token_case_is_diagnosed(fakes: FakeTools) -> None:
    result = auth(
        fakes,
        GITLAB_URL,
        GITLAB_CI="true",
        CI_JOB_TOKEN=CANARY,
        CI_SERVER_URL="https://gitlab.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "Answered by: gitlab-ci-job-token" in result.stdout
    assert "Username: gitlab-ci-token" in result.stdout
    assert "Kind: gitlab-job-token" in result.stdout
    assert "Expires: not known" in result.stdout
    assert_no_canary(result.stdout, result.stderr)


def test_environment_password_wins_and_usage_errors_exit_2(
    fakes: FakeTools, tmp_path: Path
) -> None:
    fakes.tool("aws", aws_answer("2031-01-02T03:04:05Z"))
    result = auth(fakes, CA_URL, REGISTRY_UPLOAD_PASSWORD=CANARY)
    assert result.returncode == 0 and "Answered by: env" in result.stdout
    assert fakes.calls("aws") == []
    assert_no_canary(result.stdout, result.stderr)

    pypirc = tmp_path / "pypirc"
    pypirc.write_text("[distutils]\nindex-servers = corp\n")
    unknown = auth(fakes, "-r", "nope", "--config-file", str(pypirc))
    assert unknown.returncode == 2 and "not in .pypirc" in unknown.stderr
    assert auth(fakes, "--no-such-option").returncode == 2
    bad_url = auth(fakes, "ftp://example.org/")
    assert bad_url.returncode == 2 and "not an http(s) URL" in bad_url.stderr
