"""The in-memory fast path for small zips answers exactly as the full reader does.

``Distribution.open`` reads a small wheel (or zip sdist) whole and, when it is
laid out the plain way, checks it in one pass (``_archives.plain_zip``); for
anything else it falls back to zipfile plus ``zip_problems``.  These tests run
every archive twice -- fast path allowed, and fast path switched off -- and
require the same outcome: the same metadata and findings, or the same error
with the same problems.  The corpus is the hostile archives' shapes plus every
single-byte corruption of a small wheel and of a small zip sdist.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest

from registry_upload import Distribution, DistributionError, _archives, distribution
from registry_upload.testing import core_metadata, make_wheel


def _outcome(path: Path) -> tuple[Any, ...]:
    try:
        dist = Distribution.open(path)
    except DistributionError as exc:
        problems = [(p.code, p.field, p.message) for p in exc.problems]
        return ("refused", type(exc).__name__, exc.message, problems)
    except Exception as exc:  # whatever it is, both paths must agree
        return ("raised", type(exc).__name__, str(exc))
    return ("ok", dist.name, dist.version, dict(dist.metadata), dist.findings, dist.pyversion)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    fast = _outcome(path)
    with monkeypatch.context() as m:
        m.setattr(distribution, "_IN_MEMORY", -1)
        full = _outcome(path)
    return fast, full


def _zip(path: Path, entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(path, "w", method) as zf:
            for member, data in entries:
                zf.writestr(member, data)
    return path


def _wheel_entries(name: str = "demo") -> list[tuple[str, bytes]]:
    di = f"{name}-1.0.dist-info"
    return [
        (f"{name}/__init__.py", b"x = 1\n" * 20),
        (f"{di}/METADATA", core_metadata(name, "1.0").encode()),
        (f"{di}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        (f"{di}/RECORD", b""),
    ]


WHEEL = "demo-1.0-py3-none-any.whl"


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _shapes(tmp: Path) -> dict[str, Path]:
    good = _wheel_entries()
    shapes = {
        "good": _zip(tmp / "a" / WHEEL, good),
        "stored": _zip(tmp / "b" / WHEEL, good, zipfile.ZIP_STORED),
        "bzip2": _zip(tmp / "c" / WHEEL, good, zipfile.ZIP_BZIP2),
        "duplicate": _zip(tmp / "d" / WHEEL, [good[1], *good]),
        "escaping": _zip(tmp / "e" / WHEEL, [*good, ("../x.py", b"x")]),
        "control": _zip(tmp / "f" / WHEEL, [*good, ("demo/a\x01.py", b"x")]),
        "no-dist-info": _zip(tmp / "g" / WHEEL, good[:1]),
        "two-dist-info": _zip(tmp / "h" / WHEEL, [*good, ("other-1.0.dist-info/METADATA", b"")]),
        "no-metadata": _zip(tmp / "i" / WHEEL, [good[0], good[2]]),
        "mismatch": _zip(tmp / "j" / WHEEL, _wheel_entries("other")),
        "bomb": _zip(tmp / "k" / WHEEL, [*good, ("demo/zeros", bytes(70 << 20))]),
        "sdist": _zip(
            tmp / "l" / "demo-1.0.zip",
            [("demo-1.0/PKG-INFO", core_metadata("demo", "1.0").encode()), ("demo-1.0/a", b"")],
        ),
        "sdist-two-tops": _zip(
            tmp / "m" / "demo-1.0.zip",
            [("demo-1.0/PKG-INFO", core_metadata("demo", "1.0").encode()), ("x/a", b"")],
        ),
        "built": make_wheel(_mkdir(tmp / "n"), "demo", "1.0"),
    }
    data = shapes["good"].read_bytes()
    (tmp / "o").mkdir()
    (tmp / "o" / WHEEL).write_bytes(b"prefix" + data)
    (tmp / "p").mkdir()
    (tmp / "p" / WHEEL).write_bytes(data + b"suffix")
    shapes["prepended"], shapes["appended"] = tmp / "o" / WHEEL, tmp / "p" / WHEEL
    with_comment = io.BytesIO()
    with zipfile.ZipFile(with_comment, "w") as zf:
        zf.comment = b"a comment"
        for member, content in good:
            zf.writestr(member, content)
    (tmp / "q").mkdir()
    (tmp / "q" / WHEEL).write_bytes(with_comment.getvalue())
    shapes["comment"] = tmp / "q" / WHEEL
    return shapes


def test_each_shape_gives_the_same_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, path in _shapes(tmp_path).items():
        fast, full = _both(path, monkeypatch)
        assert fast == full, name


def test_the_fast_path_answers_for_plain_archives_only(tmp_path: Path) -> None:
    shapes = _shapes(tmp_path)
    plain = {
        name for name, path in shapes.items() if _archives.plain_zip(path.read_bytes()) is not None
    }
    assert plain == {"good", "stored", "no-dist-info", "two-dist-info", "no-metadata"} | {
        "mismatch",
        "sdist",
        "sdist-two-tops",
        "built",
    }


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_every_single_byte_corruption_gives_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "wheel":
        source = make_wheel(_mkdir(tmp_path / "src"), "demo", "1.0")
    else:
        source = _zip(
            tmp_path / "demo-1.0.zip",
            [("demo-1.0/PKG-INFO", core_metadata("demo", "1.0").encode()), ("demo-1.0/a", b"")],
        )
    original = source.read_bytes()
    assert _archives.plain_zip(original) is not None  # the fast path answers for the original
    target = tmp_path / "t" / source.name
    target.parent.mkdir()
    differ = []
    for offset in range(len(original)):
        for flip in (0x01, 0x80):
            corrupt = bytearray(original)
            corrupt[offset] ^= flip
            target.write_bytes(bytes(corrupt))
            fast, full = _both(target, monkeypatch)
            if fast != full:
                differ.append((offset, flip, fast, full))
    assert not differ, differ[:3]


def _both_tar(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[Any, ...], ...]:
    fast = _outcome(path)
    with monkeypatch.context() as m:
        m.setattr(_archives, "_INFLATE_SIZE", -1)
        full = _outcome(path)
    return fast, full


def _tar_gz(path: Path, members: list[tuple[str, bytes]], *, tail: bytes = b"") -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buf.getvalue(), mtime=0) + tail)
    return path


def _sdist_members(name: str = "demo") -> list[tuple[str, bytes]]:
    return [
        (f"{name}-1.0/PKG-INFO", core_metadata(name, "1.0").encode()),
        (f"{name}-1.0/setup.py", b"# nothing\n"),
    ]


def test_each_sdist_shape_gives_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = _sdist_members()
    sdist = "demo-1.0.tar.gz"
    shapes = {
        "good": _tar_gz(tmp_path / "a" / sdist, good),
        "trailing": _tar_gz(tmp_path / "b" / sdist, good, tail=b"junk"),
        "nul-padding": _tar_gz(tmp_path / "c" / sdist, good, tail=bytes(100)),
        "escaping": _tar_gz(tmp_path / "d" / sdist, [*good, ("../x", b"")]),
        "two-tops": _tar_gz(tmp_path / "e" / sdist, [*good, ("other/x", b"")]),
        "no-pkg-info": _tar_gz(tmp_path / "f" / sdist, good[1:]),
        "second-stream": _tar_gz(tmp_path / "g" / sdist, good, tail=gzip.compress(b"x")),
        "big": _tar_gz(tmp_path / "h" / sdist, [*good, ("demo-1.0/zeros", bytes(9 << 20))]),
    }
    data = shapes["good"].read_bytes()
    (tmp_path / "i").mkdir()
    (tmp_path / "i" / sdist).write_bytes(data[: len(data) // 2])
    shapes["truncated"] = tmp_path / "i" / sdist
    for name, path in shapes.items():
        fast, full = _both_tar(path, monkeypatch)
        assert fast == full, name
    assert _outcome(shapes["good"])[0] == "ok"
    with shapes["good"].open("rb") as fh:
        assert _archives._inflate_small(fh) is not None  # the fast path answers for it
    assert _outcome(shapes["trailing"])[0] == "refused"


def test_every_single_byte_corruption_of_an_sdist_gives_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _tar_gz(tmp_path / "demo-1.0.tar.gz", _sdist_members())
    original = source.read_bytes()
    target = tmp_path / "t" / source.name
    target.parent.mkdir()
    differ = []
    for offset in range(len(original)):
        corrupt = bytearray(original)
        corrupt[offset] ^= 0x01
        target.write_bytes(bytes(corrupt))
        fast, full = _both_tar(target, monkeypatch)
        if fast != full:
            differ.append((offset, fast, full))
    assert not differ, differ[:3]


def _tar_bytes(members: list[tarfile.TarInfo | tuple[str, bytes]], fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for item in members:
            if isinstance(item, tarfile.TarInfo):
                tf.addfile(item)
            else:
                info = tarfile.TarInfo(item[0])
                info.size = len(item[1])
                tf.addfile(info, io.BytesIO(item[1]))
    return buf.getvalue()


def _info(name: str, kind: bytes, **attrs: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in attrs.items():
        setattr(info, key, value)
    return info


def test_each_tar_layout_gives_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = _sdist_members()
    layouts: dict[str, bytes] = {
        "ustar": _tar_bytes(good, tarfile.USTAR_FORMAT),
        "gnu": _tar_bytes(good, tarfile.GNU_FORMAT),
        "pax": _tar_bytes(good, tarfile.PAX_FORMAT),
        "dir": _tar_bytes([_info("demo-1.0", tarfile.DIRTYPE), *good], tarfile.PAX_FORMAT),
        "long-name": _tar_bytes([*good, ("demo-1.0/" + "d/" * 70 + "x", b"y")], tarfile.PAX_FORMAT),
        "long-gnu": _tar_bytes([*good, ("demo-1.0/" + "d/" * 70 + "x", b"y")], tarfile.GNU_FORMAT),
        "prefix": _tar_bytes([*good, ("demo-1.0/" + "d/" * 60 + "x", b"y")], tarfile.USTAR_FORMAT),
        "symlink": _tar_bytes(
            [*good, _info("demo-1.0/l", tarfile.SYMTYPE, linkname="../x")], tarfile.PAX_FORMAT
        ),
        "unicode": _tar_bytes([*good, ("demo-1.0/caf\u00e9", b"")], tarfile.PAX_FORMAT),
        "empty": _tar_bytes([], tarfile.PAX_FORMAT),
    }
    plain = layouts["ustar"]
    end = plain.rindex(b"# nothing\n") + 512  # past the last member's data block
    layouts["no-end-blocks"] = plain[: end - end % 512]
    layouts["cut-in-data"] = plain[: plain.rindex(b"# nothing\n") + 3]
    aregdir = bytearray(_tar_bytes([_info("demo-1.0/sub/", tarfile.REGTYPE), *good], 0))
    aregdir[156] = 0  # an old-style directory: AREGTYPE with a trailing slash
    layouts["aregtype-dir"] = _rechecksum(bytes(aregdir), 0)
    answered = set()
    for name, tar in layouts.items():
        path = tmp_path / name / "demo-1.0.tar.gz"
        path.parent.mkdir()
        path.write_bytes(gzip.compress(tar, mtime=0))
        fast, full = _both_tar(path, monkeypatch)
        assert fast == full, name
        if _archives._PlainTar.parse(tar) is not None:
            answered.add(name)
    assert {"ustar", "gnu", "pax", "dir", "aregtype-dir", "empty"} <= answered


def _rechecksum(tar: bytes, offset: int) -> bytes:
    block = bytearray(tar[offset : offset + 512])
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return tar[:offset] + bytes(block) + tar[offset + 512 :]


def test_every_single_byte_edit_of_a_tar_header_gives_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tar = _tar_bytes(_sdist_members(), tarfile.USTAR_FORMAT)
    assert _archives._PlainTar.parse(tar) is not None
    headers = [0, 512 + 512 * -(-len(core_metadata("demo", "1.0").encode()) // 512)]
    target = tmp_path / "demo-1.0.tar.gz"
    differ = []
    for header in headers:
        for offset in range(header, header + 512):
            for flip, fix in ((0x01, False), (0x40, True)):
                edited = bytearray(tar)
                edited[offset] ^= flip
                data = bytes(edited)
                if fix and not 148 <= offset - header < 156:
                    data = _rechecksum(data, header)  # a valid checksum: the field itself is read
                target.write_bytes(gzip.compress(data, mtime=0))
                fast, full = _both_tar(target, monkeypatch)
                if fast != full:
                    differ.append((offset, flip, fast, full))
    assert not differ, differ[:3]
