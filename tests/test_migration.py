"""A team moving its release jobs from twine or uv: their variables and flags keep
their meaning, and the target is never guessed.

Every run is a real CLI process against loopback FakeRegistry servers; the
registries' own request logs show where the files (and secrets) went.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry_upload.testing import Action, FakeRegistry, make_sdist, make_wheel

from .conftest import CANARY, assert_no_canary
from .support import cli, passwords_seen


@pytest.fixture
def dist_dir(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    make_wheel(dist, "migrating", "1.0")
    make_sdist(dist, "migrating", "1.0")
    return dist


def pypirc(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "pypirc"
    path.write_text(f"[distutils]\nindex-servers = internal\n\n[internal]\nrepository = {url}\n")
    return path


# -- where the release goes ---------------------------------------------------------


@pytest.mark.parametrize(
    "variable",
    ["TWINE_REPOSITORY_URL", "REGISTRY_UPLOAD_REPOSITORY_URL", "UV_PUBLISH_URL"],
)
def test_a_target_url_variable_is_honoured(dist_dir: Path, variable: str) -> None:
    with FakeRegistry() as registry:
        env = {variable: registry.url, "TWINE_PASSWORD": CANARY}
        out = cli("upload", str(dist_dir), "-v", env=env)
        assert out.returncode == 0, out.stdout + out.stderr
        assert len(registry.stored) == 2 and passwords_seen(registry) == {CANARY}
        assert f"target from env:{variable}" in out.stdout
        assert_no_canary(out.stdout, out.stderr)


@pytest.mark.parametrize("variable", ["TWINE_REPOSITORY", "REGISTRY_UPLOAD_REPOSITORY"])
def test_a_repository_name_variable_reads_pypirc(
    tmp_path: Path, dist_dir: Path, variable: str
) -> None:
    """TWINE_REPOSITORY=internal used to send the release to PyPI."""
    with FakeRegistry() as registry:
        config = pypirc(tmp_path, registry.url)
        env = {variable: "internal", "TWINE_PASSWORD": CANARY}
        dry = cli("upload", str(dist_dir), "--config-file", str(config), "--dry-run", "-v", env=env)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        assert registry.url in dry.stdout and "upload.pypi.org" not in dry.stdout
        assert f"target from env:{variable}" in dry.stdout
        assert "credentials: env:TWINE_PASSWORD" in dry.stdout
        assert registry.requests == []  # a dry run sends nothing
        assert_no_canary(dry.stdout, dry.stderr)


def test_two_variables_naming_different_targets_are_a_usage_error(dist_dir: Path) -> None:
    with FakeRegistry() as first, FakeRegistry() as second:
        env = {"TWINE_REPOSITORY_URL": first.url, "UV_PUBLISH_URL": second.url}
        out = cli("upload", str(dist_dir), env=env)
        assert out.returncode == 2
        assert "TWINE_REPOSITORY_URL and UV_PUBLISH_URL" in out.stderr
        assert first.requests == [] and second.requests == []
        same = {"TWINE_REPOSITORY_URL": first.url, "UV_PUBLISH_URL": first.url.rstrip("/")}
        assert cli("upload", str(dist_dir), "--dry-run", env=same).returncode == 0


def test_an_unknown_repository_variable_never_falls_back_to_pypi(dist_dir: Path) -> None:
    out = cli("upload", str(dist_dir), "--dry-run", env={"TWINE_REPOSITORY": "internal"})
    assert out.returncode == 2
    assert "'internal' (from TWINE_REPOSITORY) is not in .pypirc" in out.stderr
    assert "upload.pypi.org" not in out.stdout + out.stderr


def test_a_flag_wins_over_the_environment(dist_dir: Path) -> None:
    with FakeRegistry() as flagged, FakeRegistry() as variable:
        env = {"TWINE_REPOSITORY_URL": variable.url, "TWINE_PASSWORD": CANARY}
        out = cli("upload", str(dist_dir), "--publish-url", flagged.url, env=env)
        assert out.returncode == 0, out.stderr
        assert len(flagged.stored) == 2 and variable.requests == []


# -- credentials and flags as twine and uv spell them --------------------------------


@pytest.mark.parametrize(
    ("args", "env", "user"),
    [
        (["-t", CANARY], {}, "__token__"),
        ([], {"UV_PUBLISH_TOKEN": CANARY}, "__token__"),
        ([], {"UV_PUBLISH_USERNAME": "bob", "UV_PUBLISH_PASSWORD": CANARY}, "bob"),
        ([], {"TWINE_USERNAME": "carol", "TWINE_PASSWORD": CANARY}, "carol"),
    ],
)
def test_uv_and_twine_credentials(
    dist_dir: Path, args: list[str], env: dict[str, str], user: str
) -> None:
    with FakeRegistry() as registry:
        out = cli("upload", str(dist_dir), "--repository-url", registry.url, *args, env=env)
        assert out.returncode == 0, out.stderr
        headers = {r.headers.get("Authorization") for r in registry.requests if r.method == "POST"}
        basic = base64.b64encode(f"{user}:{CANARY}".encode()).decode()
        assert headers == {f"Basic {basic}"}
        assert_no_canary(out.stdout, out.stderr)


def test_token_and_password_together_are_a_usage_error(dist_dir: Path) -> None:
    out = cli(
        "upload", str(dist_dir), "-t", "a", "-p", "b", "--repository-url", "http://127.0.0.1:9/"
    )
    assert out.returncode == 2 and "-t/--token" in out.stderr


def test_no_files_means_dist_as_uv_does(dist_dir: Path) -> None:
    with FakeRegistry() as registry:
        out = cli("upload", "--repository-url", registry.url, "--comment", "c", "-q",
                  "--disable-progress-bar", "--attestations", cwd=dist_dir.parent)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert len(registry.stored) == 2
        assert "UPLOADED" not in out.stdout and "2 uploaded" in out.stdout  # -q
    empty = dist_dir.parent / "empty"
    empty.mkdir()
    out = cli("upload", "--repository-url", "http://127.0.0.1:9/", cwd=empty)
    assert out.returncode == 2 and "no distribution files" in out.stderr


def test_check_url_skips_what_the_index_has(dist_dir: Path) -> None:
    with FakeRegistry() as registry:
        assert cli("upload", str(dist_dir), "--repository-url", registry.url).returncode == 0
        env = {"UV_PUBLISH_CHECK_URL": registry.index_url}
        again = cli("upload", str(dist_dir), "--repository-url", registry.url, env=env)
        assert again.returncode == 0, again.stderr
        assert "2 skipped" in again.stdout and sum(registry.upload_count.values()) == 2


def test_twine_register_says_it_is_gone_in_one_line() -> None:
    out = cli("register", "dist/x.whl")
    assert out.returncode == 2 and "register is gone" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_missing_cert_from_twine_cert_is_one_usage_error(dist_dir: Path, tmp_path: Path) -> None:
    with FakeRegistry() as registry:
        env = {"TWINE_CERT": str(tmp_path / "missing.pem")}
        out = cli("upload", str(dist_dir), "--repository-url", registry.url, env=env)
        assert out.returncode == 2 and "--cert" in out.stderr and "missing.pem" in out.stderr
        fifo = tmp_path / "fifo.pem"
        os.mkfifo(fifo)
        out = cli("upload", str(dist_dir), "--repository-url", registry.url, "--cert", str(fifo))
        assert out.returncode == 2 and "not a regular file" in out.stderr
        assert registry.requests == []


def test_trusted_publishing_never_and_twine_non_interactive(dist_dir: Path) -> None:
    with FakeRegistry() as registry:
        env = {"UV_TRUSTED_PUBLISHING": "never", "TWINE_NON_INTERACTIVE": "1"}
        out = cli("upload", str(dist_dir), "--repository-url", registry.url, "--dry-run", "-v",
                  env=env)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert "trusted-publishing from env:UV_TRUSTED_PUBLISHING" in out.stdout
        bad = cli("upload", str(dist_dir), "--dry-run", env={"UV_TRUSTED_PUBLISHING": "sometimes"})
        assert bad.returncode == 2 and "automatic, always or never" in bad.stderr


def test_unknown_option_hint_names_the_command() -> None:
    out = cli("upload", "--no-such-flag")
    assert out.returncode == 2 and "registry-upload upload --help" in out.stderr


def test_help_lists_exit_codes_and_variables() -> None:
    out = cli("upload", "--help")
    for word in ("130", "143", "TWINE_REPOSITORY", "UV_PUBLISH_URL", "--config-file", "-t TOKEN"):
        assert word in out.stdout, word


# -- cancellation as CI does it -------------------------------------------------------


def test_sigterm_stops_like_ctrl_c_with_the_partial_report(dist_dir: Path, tmp_path: Path) -> None:
    many = tmp_path / "many"
    for i in range(6):
        make_wheel(many, f"term{i}", "1.0")
    with FakeRegistry(delay=0.5) as registry:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "registry_upload",
                "upload",
                str(many),
                "--repository-url",
                registry.url,
                "--jobs",
                "1",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "HOME": "/nonexistent"},
        )
        deadline = time.monotonic() + 30
        while not registry.stored and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert "Traceback" not in err
        import json

        data = json.loads(out)
        assert data["interrupted"] is True
        uploaded = [r for r in data["results"] if r["status"] == "uploaded"]
        time.sleep(1.0)  # nothing arrives after the report
        assert len(registry.stored) == len(uploaded) < 6
        assert registry.default == Action("store")
