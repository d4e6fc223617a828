"""Hostile archives, built here (no binary fixtures): each refused with a coded ERROR.

``Distribution.open`` raises InvalidDistributionError (so an upload refuses
before sending anything) and lists every problem of the file in ``problems``;
``check()`` reports the same findings without raising.  The zip rules follow
what PyPI's upload endpoint refuses (warehouse ``forklift`` and
``utils/zipfiles``); the tar rules refuse what is dangerous to unpack.
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from registry_upload import (
    Distribution,
    InvalidDistributionError,
    Severity,
    UnsupportedDistributionError,
    check,
)
from registry_upload.distribution import ATTESTATION_SIZE_LIMIT, unreadable_error
from registry_upload.inspect import _common
from registry_upload.testing import core_metadata, make_wheel

# --- builders ------------------------------------------------------------------


def _tar_member(name: str, data: bytes = b"", **attrs: object) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1577836800
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data


def _sdist(
    tmp_path: Path,
    extra: list[tuple[tarfile.TarInfo, bytes]],
    *,
    name: str = "evil",
    pkg_info: bool = True,
) -> Path:
    """A valid sdist for ``name`` 1.0 plus the given extra members."""
    path = tmp_path / f"{name}-1.0.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        members = [_tar_member(f"{name}-1.0/PKG-INFO", core_metadata(name, "1.0").encode())]
        if not pkg_info:
            members = []
        members.append(_tar_member(f"{name}-1.0/setup.py", b"# nothing\n"))
        for info, data in members + extra:
            tf.addfile(info, io.BytesIO(data) if info.isfile() else None)
    path.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    return path


def _wheel_with(tmp_path: Path, entries: list[tuple[str, bytes]], name: str = "evil") -> Path:
    """A wheel whose members are exactly ``entries`` (duplicates allowed)."""
    path = tmp_path / f"{name}-1.0-py3-none-any.whl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for member, data in entries:
                zf.writestr(member, data)
    return path


def _good_entries(name: str = "evil") -> list[tuple[str, bytes]]:
    di = f"{name}-1.0.dist-info"
    return [
        (f"{name}/__init__.py", b""),
        (f"{di}/METADATA", core_metadata(name, "1.0").encode()),
        (f"{di}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        (f"{di}/RECORD", b""),
    ]


def _refused(path: Path) -> InvalidDistributionError:
    with pytest.raises(InvalidDistributionError) as info:
        Distribution.open(path)
    error = info.value
    assert str(path) in error.message and error.hint
    assert error.problems and all(p.severity is Severity.ERROR for p in error.problems)
    assert all(p.hint for p in error.problems)
    # check() reports the same codes as findings, without raising
    report = check(path)
    assert not report.ok
    assert [f.code for f in report.errors] == [p.code for p in error.problems]
    return error


def _codes(error: InvalidDistributionError) -> list[str]:
    return [p.code for p in error.problems]


# --- sdists -------------------------------------------------------------------


def test_good_sdist_from_these_builders_is_accepted(tmp_path: Path) -> None:
    assert Distribution.open(_sdist(tmp_path, [])).name == "evil"


@pytest.mark.parametrize(
    "member",
    ["evil-1.0/../../escape.py", "/etc/evil.py", "evil-1.0/..", "C:/windows/evil.py", "a\\..\\b"],
)
def test_sdist_member_path_escaping_the_tree(tmp_path: Path, member: str) -> None:
    error = _refused(_sdist(tmp_path, [_tar_member(member, b"x")]))
    assert "unsafe-member-path" in _codes(error)
    assert repr(member) in str(error)


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "sub/../../.."])
def test_sdist_symlink_outside_the_tree(tmp_path: Path, target: str) -> None:
    link = _tar_member("evil-1.0/link", type=tarfile.SYMTYPE, linkname=target)
    error = _refused(_sdist(tmp_path, [link]))
    assert _codes(error) == ["link-outside-archive"]
    assert "symlink" in error.problems[0].message


def test_sdist_symlink_inside_the_tree_is_fine(tmp_path: Path) -> None:
    link = _tar_member("evil-1.0/docs/link", type=tarfile.SYMTYPE, linkname="../setup.py")
    assert Distribution.open(_sdist(tmp_path, [link])).name == "evil"


def test_sdist_hardlink_outside_the_tree(tmp_path: Path) -> None:
    link = _tar_member("evil-1.0/hard", type=tarfile.LNKTYPE, linkname="../outside")
    error = _refused(_sdist(tmp_path, [link]))
    assert _codes(error) == ["link-outside-archive"]
    assert "hard link" in error.problems[0].message


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_sdist_device_and_fifo_members(tmp_path: Path, kind: bytes) -> None:
    error = _refused(_sdist(tmp_path, [_tar_member("evil-1.0/dev", type=kind)]))
    assert _codes(error) == ["special-file-member"]


def test_every_problem_of_an_sdist_is_reported_at_once(tmp_path: Path) -> None:
    extra = [
        _tar_member("evil-1.0/../x", b"x"),
        _tar_member("evil-1.0/l", type=tarfile.SYMTYPE, linkname="/etc/shadow"),
        _tar_member("evil-1.0/fifo", type=tarfile.FIFOTYPE),
        _tar_member("other-2.0/file", b"x"),
    ]
    error = _refused(_sdist(tmp_path, extra))
    assert sorted(_codes(error)) == [
        "link-outside-archive",
        "multiple-top-level-directories",
        "special-file-member",
        "unsafe-member-path",
    ]
    assert "4 problems" in error.message


def test_sdist_with_two_pkg_info(tmp_path: Path) -> None:
    second = _tar_member("evil-1.0/PKG-INFO", core_metadata("other", "9.9").encode())
    error = _refused(_sdist(tmp_path, [second]))
    assert _codes(error) == ["duplicate-member"]


def test_sdist_with_a_zip_appended_is_a_polyglot(tmp_path: Path) -> None:
    path = _sdist(tmp_path, [])
    (tmp_path / "w").mkdir()
    wheel = make_wheel(tmp_path / "w", "x", "1")
    path.write_bytes(path.read_bytes() + wheel.read_bytes())
    assert zipfile.is_zipfile(path) and tarfile.is_tarfile(path)
    error = _refused(path)
    assert sorted(_codes(error)) == ["trailing-data", "zip-tar-polyglot"]


def test_gzip_bomb_is_refused_without_unpacking_it_all(tmp_path: Path) -> None:
    path = tmp_path / "evil-1.0.tar.gz"
    header = tarfile.TarInfo("evil-1.0/zeros")
    header.size = 200 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with path.open("wb") as out:
        out.write(compressor.compress(header.tobuf(format=tarfile.PAX_FORMAT)))
        zeros = bytes(1 << 20)
        for _ in range(200):
            out.write(compressor.compress(zeros))
        out.write(compressor.flush())
    assert path.stat().st_size < (1 << 20)
    error = _refused(path)
    assert _codes(error) == ["decompression-bomb"]


def test_member_count_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = [_tar_member(f"evil-1.0/f{i}", b"") for i in range(30)]
    path = _sdist(tmp_path, extra)
    monkeypatch.setattr(_common, "MAX_MEMBERS", 10)
    error = _refused(path)
    assert _codes(error) == ["too-many-members"]
    assert "more than 10 members" in error.problems[0].message


# --- wheels -------------------------------------------------------------------


def test_good_wheel_from_these_builders_is_accepted(tmp_path: Path) -> None:
    assert Distribution.open(_wheel_with(tmp_path, _good_entries())).name == "evil"


def test_wheel_with_a_second_metadata_naming_another_project(tmp_path: Path) -> None:
    entries = _good_entries()
    entries.insert(0, ("evil-1.0.dist-info/METADATA", core_metadata("requests", "2.0").encode()))
    error = _refused(_wheel_with(tmp_path, entries))
    # seen twice: as a duplicate name, and as two local headers for one name
    assert _codes(error) == ["duplicate-member", "zip-framing"]
    assert "'evil-1.0.dist-info/METADATA'" in error.problems[0].message


@pytest.mark.parametrize("member", ["../escape.py", "/abs/evil.py", "evil/../../x.py"])
def test_wheel_entry_escaping_the_tree(tmp_path: Path, member: str) -> None:
    error = _refused(_wheel_with(tmp_path, [*_good_entries(), (member, b"x")]))
    assert _codes(error) == ["unsafe-member-path"]


def _wheel_with_symlink(tmp_path: Path, target: str) -> Path:
    path = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in _good_entries():
            zf.writestr(member, data)
        link = zipfile.ZipInfo("evil/data.txt")
        link.create_system = 3  # Unix: the mode below is read as such
        link.external_attr = (0o120777 & 0xFFFF) << 16
        zf.writestr(link, target)
    return path


@pytest.mark.parametrize("target", ["../../../../etc/passwd", "/etc/passwd"])
def test_wheel_symlink_outside_the_tree(tmp_path: Path, target: str) -> None:
    error = _refused(_wheel_with_symlink(tmp_path, target))
    assert _codes(error) == ["link-outside-archive"]
    assert target in error.problems[0].message


def test_wheel_symlink_inside_the_tree_is_fine(tmp_path: Path) -> None:
    assert Distribution.open(_wheel_with_symlink(tmp_path, "__init__.py")).name == "evil"


def test_wheel_with_data_prepended(tmp_path: Path) -> None:
    path = _wheel_with(tmp_path, _good_entries())
    path.write_bytes(gzip.compress(b"a tar.gz in front") + path.read_bytes())
    assert zipfile.is_zipfile(path)  # zip readers find it from the end
    error = _refused(path)
    assert _codes(error) == ["zip-framing"]
    assert "prepended" in error.problems[0].message


def test_wheel_with_data_appended(tmp_path: Path) -> None:
    path = _wheel_with(tmp_path, _good_entries())
    path.write_bytes(path.read_bytes() + b"\x1f\x8b trailing bytes")
    error = _refused(path)
    assert _codes(error) == ["zip-framing"]
    assert "after the zip archive" in error.problems[0].message


def test_wheel_whose_local_header_disagrees_with_the_central_directory(tmp_path: Path) -> None:
    path = _wheel_with(tmp_path, _good_entries())
    data = path.read_bytes()
    # rename the module in its local header only (same length): a hidden entry
    first = data.index(b"evil/__init__.py")
    path.write_bytes(data[:first] + b"evil/__evil__.py" + data[first + 16 :])
    error = _refused(path)
    assert _codes(error) == ["zip-framing"]
    assert "not in the central directory" in error.problems[0].message


def test_wheel_with_data_descriptors(tmp_path: Path) -> None:
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: object) -> int:
            chunk = bytes(b)  # type: ignore[call-overload]
            self.data += chunk
            return len(chunk)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in _good_entries():
            with zf.open(member, "w") as out:
                out.write(data)
    path = tmp_path / "evil-1.0-py3-none-any.whl"
    path.write_bytes(bytes(sink.data))
    error = _refused(path)
    assert _codes(error) == ["zip-framing"]
    assert "data descriptor" in error.problems[0].message


def test_wheel_with_unsupported_compression(tmp_path: Path) -> None:
    path = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf:
        for member, data in _good_entries():
            zf.writestr(member, data)
    assert "unsupported-compression" in _codes(_refused(path))


def test_zip_bomb_wheel(tmp_path: Path) -> None:
    entries = [*_good_entries(), ("evil/zeros.bin", bytes(80 << 20))]
    path = _wheel_with(tmp_path, entries)
    assert path.stat().st_size < (1 << 20)
    assert _codes(_refused(path)) == ["decompression-bomb"]


def test_zip_sdist_with_hostile_names(tmp_path: Path) -> None:
    path = tmp_path / "evil-1.0.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("evil-1.0/PKG-INFO", core_metadata("evil", "1.0"))
        zf.writestr("evil-1.0/../../x", "x")
    assert _codes(_refused(path)) == ["unsafe-member-path"]


# --- attestations beside a file ---------------------------------------------------


def _attestation_refused(path: Path) -> None:
    with pytest.raises(InvalidDistributionError) as info:
        Distribution.open(path)
    assert [p.code for p in info.value.problems] == ["invalid-attestation"]
    # leaving attestations out opens the file
    assert Distribution.open(path, attestations=False).attestations == ()
    assert [f.code for f in check(path).errors] == ["invalid-attestation"]
    assert not check(path, attestations=False).errors


def test_attestation_symlink_to_dev_zero(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "att", "1.0")
    os.symlink("/dev/zero", f"{path}.publish.attestation")
    _attestation_refused(path)


def test_attestation_fifo_does_not_hang(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "att", "1.0")
    os.mkfifo(f"{path}.publish.attestation")
    _attestation_refused(path)


def test_attestation_over_the_size_cap(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "att", "1.0")
    Path(f"{path}.publish.attestation").write_text(
        '{"pad": "' + "x" * ATTESTATION_SIZE_LIMIT + '"}'
    )
    _attestation_refused(path)


def test_attestation_that_is_not_a_json_object(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "att", "1.0")
    Path(f"{path}.publish.attestation").write_text("[1, 2]")
    _attestation_refused(path)


# --- unreadable files -------------------------------------------------------------


def test_permission_denied_is_unreadable_not_damaged() -> None:
    error = unreadable_error("dist/x-1.0.tar.gz", PermissionError(errno.EACCES, "Permission"))
    assert isinstance(error, UnsupportedDistributionError)
    assert "cannot be read: permission denied" in error.message
    assert [p.code for p in error.problems] == ["unreadable"]
    assert "permissions" in (error.hint or "")
    assert "corrupt" not in str(error) and "damaged" not in str(error)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_on_disk(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "locked", "1.0")
    path.chmod(0)
    try:
        with pytest.raises(UnsupportedDistributionError, match="permission denied"):
            Distribution.open(path)
        assert [f.code for f in check(path).errors] == ["unreadable"]
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_dot_entry_is_not_a_second_top_level_directory(tmp_path: Path) -> None:
    dot = _tar_member(".", type=tarfile.DIRTYPE)
    assert Distribution.open(_sdist(tmp_path, [dot])).name == "evil"


def test_digests_of_a_file_gone_since_open(tmp_path: Path) -> None:
    dist = Distribution.open(make_wheel(tmp_path, "gone", "1.0"))
    dist.path.unlink()
    with pytest.raises(UnsupportedDistributionError, match="cannot be read") as info:
        dist.digests()
    assert [p.code for p in info.value.problems] == ["unreadable"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to an unprivileged user")
def test_unreadable_file_as_an_unprivileged_user(tmp_path: Path) -> None:
    # root reads any file: check a mode-000 file from a child that drops to "nobody"
    shared = Path(tempfile.mkdtemp(prefix="ru-unreadable-"))
    try:
        shared.chmod(0o755)
        path = make_wheel(shared, "locked", "1.0")
        path.chmod(0)
        code = (
            "import os, sys, json\n"
            "from registry_upload import Distribution, UnsupportedDistributionError, check\n"
            "import registry_upload.checks\n"
            "os.setgid(65534); os.setuid(65534)  # after the imports: stdlib may be root-only\n"
            "try:\n"
            "    Distribution.open(sys.argv[1])\n"
            "except UnsupportedDistributionError as exc:\n"
            "    print(json.dumps([exc.message, [f.code for f in check(sys.argv[1]).errors]]))\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if proc.returncode != 0 and "Permission denied" in proc.stderr:
            pytest.skip("the unprivileged user cannot import the package here")
        message, codes = json.loads(proc.stdout)
        assert message == f"{path}: cannot be read: permission denied"
        assert codes == ["unreadable"]
    finally:
        shutil.rmtree(shared)
