"""How scripts call the library: keyword types, paths, raise_on_failure, readable results, quiet logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from registry_upload import (
    ConfigurationError,
    FileResult,
    FileStatus,
    Uploader,
    UploadError,
    UploadFailedError,
    upload,
)
from registry_upload.testing import Action, FakeRegistry, Reply, make_sdist, make_wheel

from .conftest import CANARY
from .support import BASIC, CREDS, auth_headers


@pytest.mark.parametrize("bad", [("alice", "pw"), {"username": "alice", "password": "pw"}, "pw"])
def test_wrong_credentials_types_raise_type_error(wheel: Path, bad: object) -> None:
    with pytest.raises(TypeError, match="username=... and password="):
        upload([wheel], "https://upload.pypi.org/legacy/", credentials=bad)  # type: ignore[arg-type]


def test_username_and_password_keywords(wheel: Path) -> None:
    with FakeRegistry() as registry:
        report = upload(str(wheel), registry.url, username="alice", password=CANARY)
    assert report.ok and report.credential_source == "explicit"
    assert auth_headers(registry, "POST") == [f"Basic {BASIC}"]


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


def test_file_results_for_files_not_started_are_typed() -> None:
    result = FileResult(
        path="x.whl",
        filename="x.whl",
        status=FileStatus.NOT_STARTED,
        url="https://example.org/",
        registry="unknown",
    )
    assert not result.ok and not FileStatus.INTERRUPTED.ok and FileStatus.SKIPPED.ok


def test_no_files_is_an_error_in_the_library_too(tmp_path: Path) -> None:
    """A CI script must not go green having uploaded nothing."""
    empty = tmp_path / "dist"
    empty.mkdir()
    with FakeRegistry() as registry:
        with pytest.raises(ConfigurationError, match="no distribution files"):
            upload(empty, registry.url, credentials=CREDS, raise_on_failure=True)
        assert registry.requests == []


def test_an_uploader_used_after_close_raises(wheel: Path) -> None:
    with FakeRegistry() as registry:
        uploader = Uploader(registry.url, credentials=CREDS)
        assert uploader.upload(wheel).ok
        uploader.close()
        with pytest.raises(ConfigurationError, match="closed"):
            uploader.upload(wheel)
        assert sum(registry.upload_count.values()) == 1


def test_options_are_one_frozen_value_for_every_entry_point(wheel: Path) -> None:
    from dataclasses import FrozenInstanceError

    from registry_upload import PublishOptions
    from registry_upload.publish import publish

    options = PublishOptions(skip_existing=True, jobs=2)
    with pytest.raises(FrozenInstanceError):
        options.jobs = 3  # type: ignore[misc]
    with pytest.raises(ConfigurationError, match="jobs"):
        PublishOptions(jobs=0)
    with pytest.raises(TypeError, match="unknown option"):
        PublishOptions.of(None, jobz=2)
    with FakeRegistry() as registry:
        assert upload(wheel, registry.url, credentials=CREDS, options=options).ok
        again = publish(wheel, [registry.url], credentials=CREDS, options=options)
        assert again.ok and again.counts()["skipped"] == 1
        assert sum(registry.upload_count.values()) == 1
