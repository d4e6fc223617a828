"""Hostile conditions and careless input: the origin rule, echoed secrets, URLs,
keyword types, interruption.  Every registry here is a loopback fake or a real
child process; nothing leaves the machine."""

from __future__ import annotations

import _thread
import base64
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from registry_upload import (
    ConfigurationError,
    Credentials,
    FileResult,
    FileStatus,
    InsecureTransportError,
    RetryPolicy,
    Uploader,
    UploadError,
    UploadFailedError,
    UploadInterrupted,
    upload,
)
from registry_upload.repository import Repository
from registry_upload.testing import Action, FakeRegistry, Reply, make_sdist, make_wheel

from .conftest import CANARY, assert_no_canary

CREDS = Credentials.of("alice", CANARY, source="test")
BASIC = base64.b64encode(f"alice:{CANARY}".encode()).decode()


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return make_wheel(tmp_path, "hardened", "1.0")


def _auth_headers(reg: FakeRegistry, method: str) -> list[str | None]:
    return [
        {k.lower(): v for k, v in r.headers.items()}.get("authorization")
        for r in reg.requests
        if r.method == method
    ]


# --- the origin rule ---------------------------------------------------------------


def test_index_on_another_origin_never_gets_the_credentials(wheel: Path) -> None:
    with FakeRegistry() as registry, FakeRegistry() as other_index:
        report = upload(
            [wheel],
            registry.url,
            credentials=CREDS,
            skip_existing=True,
            index_url=other_index.index_url,  # same host, another port: another origin
        )
    assert report.ok
    assert [r.method for r in other_index.requests] == ["GET"]  # the index was read ...
    assert _auth_headers(other_index, "GET") == [None]  # ... without credentials
    assert _auth_headers(registry, "POST") == [f"Basic {BASIC}"]


def test_credentials_in_the_index_url_serve_that_index_alone(wheel: Path) -> None:
    """``--index-url https://user:token@index/simple/``: the index gets those, the
    registry its own; the token is shown nowhere, -v included."""
    index_secret = CANARY[::-1]
    with FakeRegistry() as registry, FakeRegistry() as index:
        index_url = index.index_url.replace("://", f"://reader:{index_secret}@")
        out = _cli(
            "upload", "-v", "--skip-existing", "--repository-url", registry.url,
            "-u", "alice", "-p", CANARY, "--index-url", index_url, str(wheel),
        )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    reader = base64.b64encode(f"reader:{index_secret}".encode()).decode()
    assert _auth_headers(index, "GET") == [f"Basic {reader}"]
    assert _auth_headers(registry, "POST") == [f"Basic {BASIC}"]
    assert index_secret not in out.stdout + out.stderr
    assert_no_canary(out.stdout, out.stderr)


def test_credentials_in_a_plain_http_index_url_are_refused_first(wheel: Path) -> None:
    repo = Repository(
        "https://upload.example.org/legacy/",
        index_url=f"http://reader:{CANARY}@index.example.org/simple/",
    )
    assert repo.index_url == "http://index.example.org/simple/"
    assert CANARY not in repr(repo)
    with pytest.raises(InsecureTransportError) as info:
        Uploader(repo.url, index_url=f"http://reader:{CANARY}@index.example.org/simple/")
    assert "index URL" in info.value.message and info.value.hint
    assert_no_canary(str(info.value), repr(info.value))


def test_index_on_the_same_origin_gets_the_credentials(wheel: Path) -> None:
    with FakeRegistry() as registry:
        upload([wheel], registry.url, credentials=CREDS, skip_existing=True)
    gets = _auth_headers(registry, "GET")
    assert gets and all(value == f"Basic {BASIC}" for value in gets)


def test_origin_rule_compares_scheme_host_and_port() -> None:
    from registry_upload.repository import origin_of

    assert origin_of("https://h.example/legacy/") == ("https", "h.example", 443)
    assert origin_of("https://H.example:443/x") == origin_of("https://h.example/y")
    assert origin_of("http://h.example/") != origin_of("https://h.example/")
    assert origin_of("https://h.example:8443/") != origin_of("https://h.example/")


def test_plain_http_to_a_remote_host_is_refused_before_any_connection(wheel: Path) -> None:
    from registry_upload import InsecureTransportError

    # 192.0.2.1 is TEST-NET-1: nothing is there, and the refusal comes before any connect.
    with pytest.raises(InsecureTransportError, match="plain http"):
        upload([wheel], "http://192.0.2.1/legacy/", credentials=CREDS)


# --- secrets echoed back --------------------------------------------------------------


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
        out = _cli(
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
    out = _cli("upload", "--config-file", str(pypirc), "-r", "x", str(wheel))
    assert out.returncode == 2
    assert "line(s) 5" in out.stderr
    assert_no_canary(out.stdout, out.stderr)


# --- URLs ----------------------------------------------------------------------------


def test_credentials_in_the_url_are_used_and_never_shown(wheel: Path) -> None:
    with FakeRegistry() as registry:
        url = registry.url.replace("://", f"://alice:{CANARY}@")
        report = upload([wheel], url)
    assert report.ok and report.credential_source == "url"
    assert _auth_headers(registry, "POST") == [f"Basic {BASIC}"]
    assert_no_canary(report.repository_url, json.dumps(report.to_dict()), repr(report))


def test_url_credentials_with_a_bad_url_are_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Repository(f"https://alice:{CANARY}@[::1/legacy/")
    assert_no_canary(raised.value, raised.value.to_dict())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/",  # port out of range
        "https://[::1/legacy/",  # malformed IPv6 literal
        "ftp://example.org/",
        "upload.pypi.org/legacy/",
    ],
)
def test_bad_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Repository(url)
    assert raised.value.hint


def test_surrounding_white_space_is_stripped(wheel: Path) -> None:
    with FakeRegistry() as registry:
        report = upload([wheel], f"  {registry.url} \n", credentials=CREDS)
    assert report.ok
    assert [r.path for r in registry.posts] == ["/"]  # not /%20


@pytest.mark.parametrize(
    "args",
    [
        ["--repository-url", "http://127.0.0.1:99999/"],
        ["--repository-url", "https://[::1/legacy/"],
        ["--jobs", "0"],
        ["--jobs", "-3"],
        ["--attempts", "0"],
    ],
)
def test_cli_usage_errors_exit_2_with_one_clear_line(wheel: Path, args: list[str]) -> None:
    out = _cli("upload", *args, "--non-interactive", str(wheel))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert "error" in out.stderr


# --- how scripts call the library -----------------------------------------------------


@pytest.mark.parametrize("bad", [("alice", "pw"), {"username": "alice", "password": "pw"}, "pw"])
def test_wrong_credentials_types_raise_type_error(wheel: Path, bad: object) -> None:
    with pytest.raises(TypeError, match="username=... and password="):
        upload([wheel], "https://upload.pypi.org/legacy/", credentials=bad)  # type: ignore[arg-type]


def test_username_and_password_keywords(wheel: Path) -> None:
    with FakeRegistry() as registry:
        report = upload(str(wheel), registry.url, username="alice", password=CANARY)
    assert report.ok and report.credential_source == "explicit"
    assert _auth_headers(registry, "POST") == [f"Basic {BASIC}"]


def test_a_plain_string_is_one_path_and_directories_expand(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    make_wheel(dist, "expanded", "1.0")
    make_sdist(dist, "expanded", "1.0")
    (dist / "notes.txt").write_text("not a distribution")
    with FakeRegistry() as registry:
        one = upload(str(next(dist.glob("*.whl"))), registry.url, credentials=CREDS)
        both = upload(str(dist), registry.url, credentials=CREDS, skip_existing=True)
    assert len(one) == 1
    assert sorted(r.filename for r in both) == [
        "expanded-1.0-py3-none-any.whl",
        "expanded-1.0.tar.gz",
    ]
    with pytest.raises(TypeError, match="path"):
        upload(42, "https://upload.pypi.org/legacy/")  # type: ignore[arg-type]


def test_raise_on_failure_gives_an_upload_error_with_the_report(wheel: Path) -> None:
    with FakeRegistry(default=Action("reply", Reply(400, "metadata is invalid"))) as registry:
        with pytest.raises(UploadError) as raised:
            upload([wheel], registry.url, credentials=CREDS, raise_on_failure=True)
    error = raised.value
    assert isinstance(error, UploadFailedError)
    assert error.report.failed == 1 and error.status == 400
    assert "metadata is invalid" in (error.server_message or "")


def test_results_read_well_in_a_repl(wheel: Path) -> None:
    with FakeRegistry() as registry:
        report = upload([wheel], registry.url, credentials=CREDS)
    result = report.results[0]
    assert str(FileStatus.UPLOADED) == "uploaded"
    assert repr(FileStatus.UPLOADED) == "FileStatus.UPLOADED"
    assert str(result).startswith("uploaded: hardened-1.0-py3-none-any.whl (HTTP 200, 1 attempt")
    assert repr(result).startswith("FileResult('hardened-1.0-py3-none-any.whl', ")
    assert "status=FileStatus.UPLOADED" in repr(result)
    assert "1 uploaded" in str(report) and "ok=True" in repr(report)


def test_a_successful_batch_logs_nothing_at_info(
    wheel: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="registry_upload")
    with FakeRegistry() as registry:
        assert upload([wheel], registry.url, credentials=CREDS).ok
    ours = [r for r in caplog.records if r.name.startswith("registry_upload")]
    assert any(r.levelno == logging.DEBUG for r in ours)  # the per-file chatter is there ...
    assert [r.getMessage() for r in ours if r.levelno >= logging.INFO] == []  # ... at DEBUG


# --- interruption -------------------------------------------------------------------


def _many(tmp_path: Path, count: int) -> list[Path]:
    return [make_wheel(tmp_path, f"many{i}", "1.0") for i in range(count)]


def _upload_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "registry-upload" and t.is_alive()]


def test_ctrl_c_returns_a_partial_report_and_leaves_no_thread(tmp_path: Path) -> None:
    files = _many(tmp_path, 20)
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
    assert not _upload_threads()
    uploaded = {r.filename for r in report if r.status is FileStatus.UPLOADED}
    not_started = {r.filename for r in report if r.status is FileStatus.NOT_STARTED}
    assert uploaded <= stored  # what the report calls uploaded is on the registry
    assert not (not_started & stored)  # nothing "not started" was sent
    assert all(r.reason for r in report if not r.ok)


def test_sigint_to_the_cli_mid_batch(tmp_path: Path) -> None:
    files = _many(tmp_path, 30)
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
            env=_env({"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY}),
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


def test_file_results_for_files_not_started_are_typed() -> None:
    result = FileResult(
        path="x.whl",
        filename="x.whl",
        status=FileStatus.NOT_STARTED,
        url="https://example.org/",
        registry="unknown",
    )
    assert not result.ok and not FileStatus.INTERRUPTED.ok and FileStatus.SKIPPED.ok


# --- helpers ---------------------------------------------------------------------------


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "REGISTRY_UPLOAD_"))}
    env["HOME"] = "/nonexistent"
    env.update(extra or {})
    return env


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry_upload", *args],
        capture_output=True,
        text=True,
        env=_env(env),
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


# --- what real dist/ folders hold ------------------------------------------------------


def _dist_folder(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = make_wheel(dist, "companions", "1.0")
    make_sdist(dist, "companions", "1.0")
    Path(f"{wheel}.asc").write_text("-----BEGIN PGP SIGNATURE-----\n")
    Path(f"{wheel}.publish.attestation").write_text(json.dumps({"version": 1, "envelope": {}}))
    return dist


def test_cli_uploads_a_dist_folder_with_signatures_and_attestations(tmp_path: Path) -> None:
    dist = _dist_folder(tmp_path)
    env = {"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY}
    with FakeRegistry() as registry:
        out = _cli("upload", "--repository-url", registry.url, *map(str, dist.iterdir()), env=env)
        plain = _cli(
            "upload",
            "--repository-url",
            registry.url,
            "--no-attestations",
            "--skip-existing",
            str(dist),
            env=env,
        )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 uploaded" in out.stdout
    assert "signature skipped" in out.stderr  # the .asc: one line, not an error
    (wheel_form,) = [f.form for n, f in registry.stored.items() if n.endswith(".whl")]
    # only PyPI and TestPyPI take attestations (on a trusted-publishing upload): a note
    assert "attestations" not in wheel_form
    assert "attestations left out" in out.stderr
    assert plain.returncode == 0 and "2 skipped" in plain.stdout


def test_cli_refuses_other_files_named_explicitly(tmp_path: Path) -> None:
    dist = _dist_folder(tmp_path)
    (dist / "README.txt").write_text("hello")
    (dist / "notes.md").write_text("hello")
    out = _cli("upload", "--repository-url", "http://127.0.0.1:9/", *map(str, dist.iterdir()))
    assert out.returncode == 2
    assert "README.txt" in out.stderr and "notes.md" in out.stderr
    assert "Traceback" not in out.stderr


def test_metadata_2_0_is_refused_for_pypi_before_anything_is_sent(tmp_path: Path) -> None:
    from registry_upload import DistributionError

    old = make_wheel(tmp_path, "oldmeta", "1.0", metadata=None, metadata_extra="")
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    old = _rewrite_metadata_version(old, legacy, "2.0")
    # PyPI: refused in the plan, before credentials or any connection.
    with pytest.raises(DistributionError) as raised:
        upload([old], "https://upload.pypi.org/legacy/", credentials=CREDS)
    assert [p.code for p in raised.value.problems] == ["metadata-version-2.0"]
    assert "PyPI would refuse" in raised.value.message
    # Registries that accept it get it (with the warning kept on the distribution).
    with FakeRegistry() as registry:
        report = upload([old], registry.url, credentials=CREDS)
    assert report.ok and list(registry.stored) == [old.name]


def _rewrite_metadata_version(wheel: Path, into: Path, version: str) -> Path:
    import zipfile

    target = into / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".dist-info/METADATA"):
                data = data.replace(
                    b"Metadata-Version: 2.4", f"Metadata-Version: {version}".encode()
                )
            dst.writestr(info, data)
    return target


# --- hostile registries through the CLI, and an unreachable one ------------------------


def test_an_unreachable_registry_fails_the_batch_fast(tmp_path: Path) -> None:
    from registry_upload.testing import free_port

    files = _many(tmp_path, 10)
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
        ("never_answer", "deadline"),
        ("trickle", "failed"),  # the 400 is classified from what arrived in time
        ("endless_body", "uploaded"),
        ("huge_content_length", "failed"),
        ("close_at_once", "failed"),
    ],
)
def test_cli_against_hostile_registries_ends_with_a_typed_outcome(
    wheel: Path, server: str, expected: str
) -> None:
    from registry_upload.testing import hostile

    env = {"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY}
    with getattr(hostile, server)(lifetime=20.0) as registry:
        out = _cli(
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
        assert result["status"] == "failed"
        assert "deadline" in result["error"]["message"]
    else:
        assert result["status"] == expected, result
    assert_no_canary(out.stdout, out.stderr)


def test_cli_against_a_registry_echoing_headers(wheel: Path) -> None:
    from registry_upload.testing import hostile

    env = {"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY}
    for status in (400, 403, 500):
        with hostile.echo_headers(status) as registry:
            out = _cli(
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


def test_a_second_ctrl_c_never_calls_a_file_in_flight_failed(tmp_path: Path) -> None:
    files = _many(tmp_path, 20)
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
    assert not _upload_threads()


def test_check_keys_findings_by_the_path_as_given(tmp_path: Path) -> None:
    import zipfile as zf_module

    from registry_upload import check
    from registry_upload.testing import core_metadata

    wheel = tmp_path / "evil-1.0-py3-none-any.whl"
    with zf_module.ZipFile(wheel, "w") as zf:
        zf.writestr("../escape.py", "x")
        zf.writestr("evil-1.0.dist-info/METADATA", core_metadata("evil", "1.0"))
    given = os.path.join(os.curdir, os.path.relpath(wheel))
    report = check(given)
    assert report.paths == (given,)
    assert [f.code for f in report.for_path(given)] == ["unsafe-member-path"]
    out = _cli("check", given)
    assert out.returncode == 1 and "FAILED" in out.stdout and "unsafe-member-path" in out.stdout


@pytest.mark.parametrize("index", ["http://[::1/", "ftp://x/", "http://127.0.0.1:1\\@127.0.0.1:2/"])
def test_a_bad_index_url_is_a_usage_error(wheel: Path, index: str) -> None:
    out = _cli(
        "upload", "--repository-url", "http://127.0.0.1:9/", "--index-url", index, str(wheel)
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "index URL" in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2  # the error and its hint


def test_argument_errors_are_one_line_and_a_hint() -> None:
    out = _cli("upload", "--jobs", "0", "x.whl")
    assert out.returncode == 2
    assert out.stderr.splitlines() == [
        "error: argument --jobs: must be from 1 to 64, not 0",
        "hint: see `registry-upload upload --help`",
    ]


def test_url_credentials_serve_publish_and_auth_too(wheel: Path) -> None:
    with FakeRegistry() as registry:
        url = registry.url.replace("://", f"://alice:{CANARY}@")
        published = _cli(
            "upload", "--repository-url", url, "--verify", "--verify-timeout", "5", str(wheel)
        )
        auth = _cli("auth", url, "--json")
    assert published.returncode == 0, published.stdout + published.stderr
    assert _auth_headers(registry, "POST") == [f"Basic {BASIC}"]
    assert auth.returncode == 0, auth.stderr
    assert json.loads(auth.stdout)["source"] == "url"
    assert_no_canary(published.stdout, published.stderr, auth.stdout, auth.stderr)
