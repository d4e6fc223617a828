"""Tar extension headers bounded before they are read; symlink chains resolved against the tree."""

from __future__ import annotations

import gzip
import io
import tarfile
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from registry_upload import Distribution, InvalidDistributionError, check
from registry_upload.inspect import EXTENSION_HEADER_LIMIT, LinkTree
from registry_upload.testing import core_metadata


def _extension_bomb(tmp_path: Path, kind: bytes, declared: int) -> Path:
    """An sdist whose first header is a pax / GNU long-name header declaring ``declared`` bytes
    (its first 150 MiB present, as zeros: the stream is small, the header huge)."""
    path = tmp_path / "bomb-1.0.tar.gz"
    header = tarfile.TarInfo("././@LongLink" if kind == tarfile.GNUTYPE_LONGNAME else "pax")
    header.type = kind
    header.size = declared
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    with path.open("wb") as out:
        out.write(compressor.compress(header.tobuf(format=tarfile.GNU_FORMAT)))
        for _ in range(min(declared >> 20, 150)):
            out.write(compressor.compress(zeros))
        out.write(compressor.flush())
    return path


@pytest.mark.parametrize(
    ("kind", "mib"),
    [(tarfile.XHDTYPE, 150), (tarfile.GNUTYPE_LONGNAME, 150), (tarfile.XGLTYPE, 900)],
)
def test_oversized_extension_header_is_refused_before_it_is_read(
    tmp_path: Path, kind: bytes, mib: int
) -> None:
    path = _extension_bomb(tmp_path, kind, mib << 20)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(InvalidDistributionError) as raised:
            Distribution.open(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2
    assert peak < 32 << 20, peak  # the declared size was never read (small-sdist buffers only)
    (problem,) = raised.value.problems
    assert problem.code == "oversized-extension-header"
    assert problem.path == str(path) and str(mib << 20) in problem.message
    assert [f.code for f in check(path).errors] == ["oversized-extension-header"]


def test_ordinary_long_names_and_pax_headers_pass(tmp_path: Path) -> None:
    path = tmp_path / "long-1.0.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        meta = core_metadata("long", "1.0").encode()
        for name, data in (
            ("long-1.0/PKG-INFO", meta),
            ("long-1.0/" + "d/" * 200 + "x.py", b"# deep\n"),
            ("long-1.0/ünïcode-" + "n" * 300 + ".txt", b"hi\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    assert Distribution.open(path).version == "1.0"
    assert EXTENSION_HEADER_LIMIT >= 64 << 10


def _sdist_with(tmp_path: Path, members: list[tuple[str, str | None]]) -> Path:
    """An sdist with PKG-INFO plus ``members``: (name, symlink target or None for a file)."""
    path = tmp_path / "chain-1.0.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        meta = core_metadata("chain", "1.0").encode()
        info = tarfile.TarInfo("chain-1.0/PKG-INFO")
        info.size = len(meta)
        tf.addfile(info, io.BytesIO(meta))
        for name, target in members:
            info = tarfile.TarInfo(name)
            if target is None:
                info.size = 3
                tf.addfile(info, io.BytesIO(b"hi\n"))
            else:
                info.type, info.linkname = tarfile.SYMTYPE, target
                tf.addfile(info)
    path.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    return path


def test_a_chain_of_symlinks_leading_out_is_refused(tmp_path: Path) -> None:
    path = _sdist_with(
        tmp_path,
        [("chain-1.0/x", ".."), ("chain-1.0/x/y", ".."), ("chain-1.0/x/y/escaped.txt", None)],
    )
    with pytest.raises(InvalidDistributionError) as raised:
        Distribution.open(path)
    codes = {p.code for p in raised.value.problems}
    assert codes == {"link-outside-archive"}
    assert any("chain-1.0/x/y" in p.message for p in raised.value.problems)


def test_a_file_written_through_a_link_that_leads_out_is_refused(tmp_path: Path) -> None:
    path = _sdist_with(tmp_path, [("chain-1.0/up", ".."), ("chain-1.0/up/up2", "../..")])
    with pytest.raises(InvalidDistributionError):
        Distribution.open(path)


def test_links_inside_the_tree_pass(tmp_path: Path) -> None:
    path = _sdist_with(
        tmp_path,
        [
            ("chain-1.0/src/mod.py", None),
            ("chain-1.0/docs", "src"),
            ("chain-1.0/docs/here", "mod.py"),
            ("chain-1.0/self", "."),
            ("chain-1.0/self/again.txt", None),
        ],
    )
    assert Distribution.open(path).version == "1.0"


def test_link_tree_resolution() -> None:
    tree = LinkTree()
    assert not tree.leaves("a/x", "..", symlink=True)  # a/x -> a/.. = the root
    assert tree.resolve("a/x/b") == "b"
    assert tree.leaves("a/x/y", "..", symlink=True)  # resolves to the root's parent
    assert not tree.leaves("a/loop", "loop2", symlink=True)
    assert not tree.leaves("a/loop2", "loop", symlink=True)
    assert tree.resolve("a/loop/f") is None  # a loop never resolves
    assert tree.leaves("a/abs", "/etc", symlink=True)
    assert tree.leaves("a/hard", "../../x", symlink=False)
