"""Uploads to a real pypiserver and devpi-server, fetched back with pip download."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from registry_upload import (
    AuthenticationError,
    Credentials,
    FileExistsOnRegistryError,
    FileStatus,
    RepositoryNotFoundError,
    RetryPolicy,
    upload,
)
from registry_upload.repository import Registry
from registry_upload.testing import make_wheel, pip_download

from .conftest import PASSWORD, USER, Server

pytestmark = pytest.mark.integration

GOOD = Credentials.of(USER, PASSWORD, source="test")
NO_RETRY = RetryPolicy(attempts=1)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def dists(
    built_dists: dict[str, list[Path]], tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    """hatchling-built wheel and sdist (copied, so each module has its own)."""
    out = tmp_path_factory.mktemp("dists")
    return [Path(shutil.copy(p, out)) for p in built_dists["hatchling"]]


def _roundtrip(server: Server, files: list[Path], tmp_path: Path) -> None:
    wheel = next(p for p in files if p.suffix == ".whl")
    sdist = next(p for p in files if p.suffix == ".gz")
    got_wheel = pip_download(server.index_url, "sample.hatch==1.2.3", tmp_path / "w")
    got_sdist = pip_download(server.index_url, "sample.hatch==1.2.3", tmp_path / "s", sdist=True)
    assert [p.name for p in got_wheel] == [wheel.name]
    assert [p.name for p in got_sdist] == [sdist.name]
    assert _sha(got_wheel[0]) == _sha(wheel)
    assert _sha(got_sdist[0]) == _sha(sdist)


def test_pypiserver_with_auth(pypiserver_auth: Server, dists: list[Path], tmp_path: Path) -> None:
    server = pypiserver_auth
    # wrong password: classified, nothing stored
    bad = upload(dists, server.url, credentials=Credentials.of(USER, "wrong"), retry=NO_RETRY)
    assert [type(r.error) for r in bad] == [AuthenticationError] * 2
    assert bad.registry == Registry.PYPISERVER
    assert "htpasswd" in (bad.results[0].hint or "")
    # no credentials at all: 401, and the hint says what the chain tried
    from registry_upload.credentials import CredentialChain, EnvProvider

    anon = upload(dists, server.url, credentials=CredentialChain([EnvProvider({})]), retry=NO_RETRY)
    assert all(r.http_status == 401 for r in anon)
    assert "No credentials were sent" in (anon.results[0].hint or "")
    # upload
    report = upload(dists, server.url, credentials=GOOD)
    assert report.ok and report.uploaded == 2, report.to_dict()
    assert [r.sha256 for r in report] == [_sha(p) for p in dists]
    _roundtrip(server, dists, tmp_path)
    # duplicate: pypiserver without --overwrite answers 409
    again = upload(dists, server.url, credentials=GOOD, retry=NO_RETRY)
    assert [type(r.error) for r in again] == [FileExistsOnRegistryError] * 2
    assert all(r.http_status == 409 for r in again)
    # skip-existing: verified against the index, nothing sent
    skipped = upload(dists, server.url, credentials=GOOD, skip_existing=True)
    assert [r.status for r in skipped] == [FileStatus.SKIPPED] * 2
    assert all(r.verified and r.bytes_sent == 0 for r in skipped)


def test_pypiserver_without_auth_and_conflict(pypiserver_open: Server, tmp_path: Path) -> None:
    server = pypiserver_open
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_wheel(tmp_path / "a", "openpkg", "1.0")
    report = upload([first], server.url, credentials=Credentials.of("x", "y"))
    assert report.ok
    other = make_wheel(tmp_path / "b", "openpkg", "1.0", payload_size=100)
    conflict = upload([other], server.url, credentials=GOOD, skip_existing=True)
    (result,) = conflict.results
    assert isinstance(result.error, FileExistsOnRegistryError)
    assert "different content" in result.error.message


def test_devpi(devpi: Server, dists: list[Path], tmp_path: Path) -> None:
    server = devpi
    bad = upload(dists, server.url, credentials=Credentials.of(USER, "wrong"), retry=NO_RETRY)
    assert all(isinstance(r.error, AuthenticationError) for r in bad), bad.to_dict()
    assert bad.registry == Registry.DEVPI
    report = upload(dists, server.url, credentials=GOOD)
    assert report.ok, report.to_dict()
    _roundtrip(server, dists, tmp_path)
    # identical bytes again: devpi answers 200 for a non-volatile index
    again = upload(dists, server.url, credentials=GOOD, retry=NO_RETRY)
    assert again.ok
    skipped = upload(dists, server.url, credentials=GOOD, skip_existing=True)
    assert [r.status for r in skipped] == [FileStatus.SKIPPED] * 2
    assert all(r.verified for r in skipped)


def test_devpi_wrong_index_and_conflict(devpi: Server, tmp_path: Path) -> None:
    wrong = devpi.url.replace("/dev/", "/nope/")
    wheel = make_wheel(tmp_path, "devpipkg", "1.0")
    report = upload([wheel], wrong, credentials=GOOD, retry=NO_RETRY)
    (result,) = report.results
    assert isinstance(result.error, RepositoryNotFoundError), result
    assert result.http_status == 404
    assert upload([wheel], devpi.url, credentials=GOOD).ok
    (tmp_path / "b").mkdir()
    changed = make_wheel(tmp_path / "b", "devpipkg", "1.0", payload_size=10)
    dup = upload([changed], devpi.url, credentials=GOOD, retry=NO_RETRY)
    (result,) = dup.results
    assert isinstance(result.error, FileExistsOnRegistryError), result
    assert result.http_status == 409
