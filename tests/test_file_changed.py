"""The bytes sent are the bytes inspected: a file that changes under the upload fails, clearly."""

from __future__ import annotations

import os
from pathlib import Path

from registry_upload import Credentials, DistributionError, FileStatus, upload
from registry_upload.distribution import Distribution
from registry_upload.results import ProgressEvent
from registry_upload.testing import FakeRegistry, make_wheel

from .conftest import CANARY

CREDS = Credentials.of("user", CANARY, source="test")
BIG = 3_000_000  # over 1 MiB: sent in chunks, read while it goes out


def _rewrite_on_first_progress(action: object) -> tuple[list[bool], object]:
    done: list[bool] = []

    def on_event(event: ProgressEvent) -> None:
        if event.kind == "progress" and 0 < event.bytes_sent < event.total_bytes and not done:
            done.append(True)
            action()  # type: ignore[operator]

    return done, on_event


def test_a_file_rewritten_longer_mid_send_fails(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "grown", "1.0", payload_size=BIG)
    original = wheel.read_bytes()
    done, on_event = _rewrite_on_first_progress(
        lambda: wheel.write_bytes(original[::-1] + b"\0" * 100_000)
    )
    with FakeRegistry() as registry:
        report = upload([wheel], registry.url, credentials=CREDS, on_event=on_event)  # type: ignore[arg-type]
        count = registry.upload_count
    (result,) = report.results
    assert done and result.status is FileStatus.FAILED
    assert isinstance(result.error, DistributionError)
    assert "changed" in result.error.message and "rebuild and re-run" in (result.hint or "")
    assert count.get(wheel.name, 0) <= 1  # sent once at most, never again


def test_a_file_replaced_by_one_of_the_same_size_mid_send_fails(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "swapped", "1.0", payload_size=BIG)
    other = tmp_path / "other.bin"
    other.write_bytes(bytes(reversed(wheel.read_bytes())))
    done, on_event = _rewrite_on_first_progress(lambda: os.replace(other, wheel))
    with FakeRegistry() as registry:
        report = upload([wheel], registry.url, credentials=CREDS, on_event=on_event)  # type: ignore[arg-type]
    (result,) = report.results
    assert done and result.status is FileStatus.FAILED
    assert isinstance(result.error, DistributionError)


def test_a_file_changed_before_sending_sends_nothing(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "early", "1.0", payload_size=BIG)
    dist = Distribution.open(wheel)
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    with FakeRegistry() as registry:
        report = upload([dist], registry.url, credentials=CREDS)
        assert registry.posts == []
    (result,) = report.results
    assert result.status is FileStatus.FAILED and "changed size" in str(result.error)


def test_a_same_size_replacement_after_inspection_sends_nothing(tmp_path: Path) -> None:
    """The form would carry the inspected metadata with other bytes: refused before
    the first byte, by the fingerprint taken when the file was inspected."""
    wheel = make_wheel(tmp_path, "replaced", "1.0")
    other = tmp_path / "other.bin"
    other.write_bytes(bytes(reversed(wheel.read_bytes())))
    dist = Distribution.open(wheel)
    os.replace(other, wheel)  # same size, another inode
    with FakeRegistry() as registry:
        report = upload([dist], registry.url, credentials=CREDS)
        assert registry.posts == []
    (result,) = report.results
    assert result.status is FileStatus.FAILED and isinstance(result.error, DistributionError)
    assert "changed" in result.error.message


def test_a_file_changed_between_two_destinations_fails_the_second(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "twice", "1.0", payload_size=BIG)
    dist = Distribution.open(wheel)
    with FakeRegistry() as first, FakeRegistry() as second:
        assert upload([dist], first.url, credentials=CREDS).ok
        data = bytearray(wheel.read_bytes())
        data[-100] ^= 0xFF  # same size, other bytes
        wheel.write_bytes(bytes(data))
        report = upload([dist], second.url, credentials=CREDS)
        assert second.posts == []  # caught before a byte went out
    (result,) = report.results
    assert result.status is FileStatus.FAILED
    assert isinstance(result.error, DistributionError)
    assert first.upload_count == {wheel.name: 1}


def test_the_same_file_to_two_destinations_is_fine(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "same", "1.0", payload_size=BIG)
    dist = Distribution.open(wheel)
    with FakeRegistry() as first, FakeRegistry() as second:
        assert upload([dist], first.url, credentials=CREDS).ok
        assert upload([dist], second.url, credentials=CREDS).ok
        assert first.stored[wheel.name].data == second.stored[wheel.name].data
