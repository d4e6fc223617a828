"""The Uploader against a loopback registry: faults, retries, skip-existing, order, events."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from registry_upload import (
    Credentials,
    FileExistsOnRegistryError,
    FileStatus,
    InsecureTransportError,
    RedirectError,
    RetryPolicy,
    ServerError,
    TransportError,
    TransportOptions,
    UnsupportedDistributionError,
    Uploader,
    UploadFailedError,
    upload,
)
from registry_upload.testing import Action, FakeRegistry, Reply, make_sdist, make_wheel
from registry_upload.uploader import ProgressEvent

from .conftest import CANARY, assert_no_canary

CREDS = Credentials.of("user", CANARY, source="test")


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fast_policy(attempts: int = 4) -> tuple[RetryPolicy, Sleeps]:
    sleeps = Sleeps()
    return RetryPolicy(attempts=attempts, initial_backoff=0.01, jitter=0.0, sleep=sleeps), sleeps


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return [
        make_sdist(tmp_path, "demo", "1.0", metadata_extra="Summary: demo"),
        make_wheel(tmp_path, "demo", "1.0", metadata_extra="Summary: demo", payload_size=300_000),
    ]


def test_upload_stores_both_files_with_correct_digests(files: list[Path]) -> None:
    with FakeRegistry() as reg:
        report = upload(files, reg.url, credentials=CREDS)
    assert report.ok and report.uploaded == 2
    for path, result in zip(files, report.results, strict=True):
        assert result.filename == path.name  # input order kept
        assert result.status is FileStatus.UPLOADED
        assert result.attempts == 1
        assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        data, form = reg.stored[path.name]
        assert data == path.read_bytes()
        assert form["sha256_digest"] == [result.sha256]
        assert form[":action"] == ["file_upload"]
        assert "blake2_256_digest" not in form  # sha256 only by default (see README)
    auth = reg.posts[0].headers["Authorization"]
    assert auth.startswith("Basic ")
    assert reg.posts[0].headers["User-Agent"].startswith("registry-upload/")


def test_blake2_is_sent_when_asked(files: list[Path]) -> None:
    with FakeRegistry() as reg:
        upload(files[1:], reg.url, credentials=CREDS, blake2=True)
    data, form = reg.stored[files[1].name]
    assert form["blake2_256_digest"] == [hashlib.blake2b(data, digest_size=32).hexdigest()]


def test_wheels_are_sent_before_sdists(files: list[Path]) -> None:
    with FakeRegistry() as reg:
        report = upload(files, reg.url, credentials=CREDS, jobs=1)
    assert [r.filename for r in report] == [p.name for p in files]
    posted = [json.dumps(p.path) for p in reg.posts]
    assert len(posted) == 2
    assert list(reg.stored) == [files[1].name, files[0].name]


def test_reset_mid_body_is_retried_and_stored_once(tmp_path: Path) -> None:
    # Large enough that the reset arrives while the body is still going out: the half
    # left unread must not fit into the loopback socket buffers (a few MiB), or the
    # whole body "went out", the attempt is ambiguous and the file is not resent.
    wheel = make_wheel(tmp_path, "demo", "1.0", payload_size=24_000_000)
    policy, sleeps = fast_policy()
    with FakeRegistry(actions=[Action("reset_mid_body")]) as reg:
        report = upload([wheel], reg.url, credentials=CREDS, retry=policy)
    (result,) = report.results
    assert result.status is FileStatus.UPLOADED
    assert result.attempts == 2
    assert reg.upload_count == {wheel.name: 1}
    assert len(sleeps) == 1


def test_reset_after_store_is_verified_not_resent(files: list[Path]) -> None:
    policy, sleeps = fast_policy()
    with FakeRegistry(actions=[Action("reset_after_store")]) as reg:
        report = upload(files[1:], reg.url, credentials=CREDS, retry=policy)
    (result,) = report.results
    assert result.status is FileStatus.UPLOADED
    assert result.verified
    assert result.attempts == 1
    assert len(reg.posts) == 1
    assert reg.upload_count == {files[1].name: 1}
    assert sleeps == []


@pytest.mark.parametrize("statuses", [[503], [429, 503]])
def test_unavailable_then_success(files: list[Path], statuses: list[int]) -> None:
    policy, sleeps = fast_policy()
    actions = [Action("reply", Reply(s, "upstream trouble")) for s in statuses]
    with FakeRegistry(actions=actions) as reg:
        report = upload(files[1:], reg.url, credentials=CREDS, retry=policy)
    (result,) = report.results
    assert result.status is FileStatus.UPLOADED
    assert result.attempts == len(statuses) + 1
    assert reg.upload_count == {files[1].name: 1}
    assert len(sleeps) == len(statuses)


def test_gateway_error_after_the_whole_file_is_not_resent(files: list[Path]) -> None:
    policy, sleeps = fast_policy()
    with FakeRegistry(actions=[Action("reply", Reply(502, "upstream trouble"))]) as reg:
        report = upload(files[1:], reg.url, credentials=CREDS, retry=policy)
    (result,) = report.results
    assert (result.status, result.attempts, result.http_status) == (
        FileStatus.UNCONFIRMED,
        1,
        502,
    )
    assert len(reg.posts) == 1 and reg.stored == {}
    assert result.error is not None and "skip-existing" in (result.hint or "")
    assert not report.ok and report.unconfirmed == 1
    assert sleeps  # the index was polled for a while before giving up


def test_5xx_that_stored_the_file_is_verified(files: list[Path]) -> None:
    policy, _ = fast_policy()
    with FakeRegistry(actions=[Action("store", Reply(500, "oops after commit"))]) as reg:
        report = upload(files[1:], reg.url, credentials=CREDS, retry=policy)
    (result,) = report.results
    assert (result.status, result.verified, result.attempts) == (FileStatus.UPLOADED, True, 1)
    assert len(reg.posts) == 1


def test_429_honours_retry_after(files: list[Path]) -> None:
    policy, sleeps = fast_policy()
    actions = [Action("reply", Reply(429, "slow down", {"Retry-After": "7"}))]
    with FakeRegistry(actions=actions) as reg:
        report = upload(files[1:], reg.url, credentials=CREDS, retry=policy)
    assert report.results[0].status is FileStatus.UPLOADED
    assert report.results[0].attempts == 2
    assert sleeps == [7.0]
    assert reg.upload_count == {files[1].name: 1}


def test_retry_budget_exhausted_gives_server_error(files: list[Path]) -> None:
    policy, sleeps = fast_policy(attempts=3)
    with FakeRegistry(default=Action("reply", Reply(503, "maintenance"))) as reg:
        report = upload(files[1:], reg.url, credentials=CREDS, retry=policy)
    (result,) = report.results
    assert result.status is FileStatus.FAILED
    assert result.attempts == 3
    assert isinstance(result.error, ServerError)
    assert result.error.status == 503
    assert "maintenance" in (result.error.server_message or "")
    assert len(reg.posts) == 3 and len(sleeps) == 2


def test_slow_server_read_timeout_is_verified_not_duplicated(files: list[Path]) -> None:
    policy, _ = fast_policy()
    options = TransportOptions(read_timeout=0.3)
    with FakeRegistry(actions=[Action("hang", delay=1.5)]) as reg:
        report = upload(files[1:], reg.url, credentials=CREDS, retry=policy, transport=options)
    (result,) = report.results
    assert result.status is FileStatus.UPLOADED
    assert result.verified
    assert len(reg.posts) == 1
    assert reg.upload_count == {files[1].name: 1}


def test_slow_server_without_storing_is_unconfirmed_not_resent(files: list[Path]) -> None:
    policy, _ = fast_policy(attempts=2)
    options = TransportOptions(read_timeout=0.3)
    hang = Action("reply", Reply(200, "late"))
    with FakeRegistry(actions=[hang], delay=0.0) as reg:
        reg.delay = 1.0  # the answer is late: the attempt times out, nothing is stored
        report = upload(files[1:], reg.url, credentials=CREDS, retry=policy, transport=options)
    (result,) = report.results
    assert result.status is FileStatus.UNCONFIRMED
    assert isinstance(result.error, TransportError)
    assert "read timeout" in result.error.message
    assert result.attempts == 1 and len(reg.posts) == 1


def test_redirect_is_reported_not_followed(files: list[Path]) -> None:
    policy, sleeps = fast_policy()
    with FakeRegistry(path="/legacy") as reg:
        reg.default = Action(
            "reply", Reply(308, "", {"Location": reg.url + "/"}, reason="Permanent Redirect")
        )
        report = upload(files[1:], reg.url, credentials=CREDS, retry=policy)
    (result,) = report.results
    assert isinstance(result.error, RedirectError)
    assert result.error.location == reg.url + "/"
    assert "trailing slash" in (result.error.hint or "")
    assert len(reg.posts) == 1 and sleeps == []
    assert reg.stored == {}


def test_duplicate_with_other_content_is_a_conflict(tmp_path: Path) -> None:
    first = make_wheel(tmp_path / "a", "dup", "1.0") if (tmp_path / "a").mkdir() is None else None
    second = (
        make_wheel(tmp_path / "b", "dup", "1.0", payload_size=10)
        if (tmp_path / "b").mkdir() is None
        else None
    )
    assert first and second
    with FakeRegistry() as reg:
        assert upload([first], reg.url, credentials=CREDS).ok
        report = upload([second], reg.url, credentials=CREDS)
    (result,) = report.results
    assert isinstance(result.error, FileExistsOnRegistryError)
    assert result.http_status == 409
    assert "Bump the version" in (result.error.hint or "")
    with pytest.raises(UploadFailedError) as info:
        report.raise_for_failures()
    assert info.value.report is report


def test_skip_existing_uses_the_index(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    same = make_wheel(tmp_path / "a", "skip", "1.0")
    other = make_wheel(tmp_path / "b", "skip", "1.0", payload_size=10)
    sdist = make_sdist(tmp_path / "a", "skip", "1.0")
    for use_json in (True, False):
        with FakeRegistry(json=use_json) as reg:
            assert upload([same], reg.url, credentials=CREDS).ok
            report = upload([same, sdist], reg.url, credentials=CREDS, skip_existing=True)
            assert [r.status for r in report] == [FileStatus.SKIPPED, FileStatus.UPLOADED]
            assert report.results[0].verified
            assert len(reg.posts) == 2  # the skipped file was not sent again
            conflict = upload([other], reg.url, credentials=CREDS, skip_existing=True)
            assert isinstance(conflict.results[0].error, FileExistsOnRegistryError)
            assert "different content" in conflict.results[0].error.message
            assert len(reg.posts) == 2


def test_skip_existing_falls_back_to_the_exists_answer(files: list[Path]) -> None:
    """Without a readable index, a registry's 'already exists' answer means skipped."""
    with FakeRegistry() as reg:
        assert upload(files, reg.url, credentials=CREDS).ok
        reg.default = Action("reply", Reply(409, "File already exists"))
        report = upload(
            files, reg.url, credentials=CREDS, skip_existing=True, index_url=reg.base + "/nothing/"
        )
    assert [r.status for r in report] == [FileStatus.SKIPPED, FileStatus.SKIPPED]
    assert all(not r.verified for r in report)
    assert "exists" in (report.results[0].reason or "")


def test_parallel_results_in_input_order_and_events(tmp_path: Path) -> None:
    paths = [make_wheel(tmp_path, f"pkg{i}", "1.0") for i in range(12)]
    events: list[ProgressEvent] = []
    lock = threading.Lock()

    def on_event(event: ProgressEvent) -> None:
        with lock:
            events.append(event)

    with FakeRegistry(delay=0.05) as reg:
        report = upload(paths, reg.url, credentials=CREDS, jobs=4, on_event=on_event)
    assert [r.filename for r in report] == [p.name for p in paths]
    assert report.uploaded == 12
    for path, result in zip(paths, report.results, strict=True):
        mine = [e for e in events if e.filename == path.name]
        assert mine[0].kind == "started" and mine[-1].kind == "finished"
        assert mine[-1].result == result
        progress = [e for e in mine if e.kind == "progress"]
        assert progress and progress[-1].bytes_sent == progress[-1].total_bytes
        # Every event of a file counts the file's bytes against its size.
        size = path.stat().st_size
        assert {e.total_bytes for e in mine} == {size}
        assert progress[-1].bytes_sent == mine[-1].bytes_sent == size
        assert result.bytes_sent > size  # the request: the file and its form fields


def test_parallelism_adapts_to_the_registry(tmp_path: Path) -> None:
    paths = [make_wheel(tmp_path, f"par{i}", "1.0") for i in range(16)]
    with FakeRegistry(delay=0.1) as slow:
        assert upload(paths, slow.url, credentials=CREDS, jobs=4).ok
    assert slow.max_in_flight == 4  # a slow registry gets `jobs` files in flight
    with FakeRegistry() as fast:
        assert upload(paths, fast.url, credentials=CREDS, jobs=4).ok
    # a fast one is served sequentially (one scheduling hiccup may add a worker)
    assert fast.max_in_flight <= 2


def test_dry_run_sends_nothing(files: list[Path]) -> None:
    with FakeRegistry() as reg:
        report = upload(files, reg.url, credentials=CREDS, dry_run=True)
    assert [r.status for r in report] == [FileStatus.DRY_RUN] * 2
    assert reg.posts == []
    assert report.credential_source == "test"


def test_preflight_bad_file_sends_nothing(files: list[Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("x")
    with FakeRegistry() as reg, pytest.raises(UnsupportedDistributionError):
        upload([*files, bad], reg.url, credentials=CREDS)
    assert reg.posts == []


def test_credentials_refused_over_plain_http_to_remote_host(files: list[Path]) -> None:
    with pytest.raises(InsecureTransportError) as info:
        upload(files, "http://registry.example.invalid/", credentials=CREDS)
    assert "https" in (info.value.hint or "")
    assert_no_canary(info.value, repr(info.value))
    # explicitly allowed: resolves fine (dry run: nothing is sent anywhere)
    report = upload(
        files,
        "http://registry.example.invalid/",
        credentials=CREDS,
        allow_insecure=True,
        dry_run=True,
    )
    assert report.ok


def test_connection_refused_is_a_typed_failure(files: list[Path]) -> None:
    with FakeRegistry() as reg:
        url = reg.url
    policy, _ = fast_policy(attempts=2)
    report = upload(files[1:], url, credentials=CREDS, retry=policy)
    (result,) = report.results
    assert isinstance(result.error, TransportError)
    assert result.attempts == 2
    assert "cannot connect" in result.error.message


def test_canary_never_leaks(files: list[Path], canary_logs: pytest.LogCaptureFixture) -> None:
    policy, _ = fast_policy(attempts=2)
    outputs: list[object] = []
    scenarios = [
        [Action("reset_mid_body"), Action("reply", Reply(401, "bad creds"))],
        [Action("reply", Reply(503, "x")), Action("reply", Reply(403, "denied"))],
        [],
    ]
    for actions in scenarios:
        with FakeRegistry(actions=actions) as reg:
            with Uploader(reg.url, credentials=CREDS, retry=policy) as uploader:
                report = uploader.upload(files)
                outputs += [uploader.credentials(), uploader.resolution, uploader.session]
        outputs += [report, json.dumps(report.to_dict()), *report.results]
        outputs += [r.error for r in report.results] + [repr(r.error) for r in report.results]
    outputs += [CREDS, repr(CREDS), CREDS.to_dict(), f"{CREDS.password}"]
    assert_no_canary(*outputs, *(r.getMessage() for r in canary_logs.records))
    assert any("retrying" in r.getMessage() for r in canary_logs.records)  # scanned retries
