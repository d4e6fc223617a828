"""The sdist's tar.gz walk (private): every header once, bounded, each member checked.

Refuses what would be dangerous to unpack: ``..`` or absolute member paths,
links leading outside the tree (chains of links resolved against it), device
and FIFO members, extension headers too large to read; reports sparse
members (PyPI refuses them); reads the top-level PKG-INFO on the way.
"""

from __future__ import annotations

import dataclasses
import tarfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

from ..results import Finding, Severity
from . import _common
from ._common import (
    _CHUNK,
    _REBUILD,
    ArchiveRefused,
    LinkTree,
    _bomb,
    _duplicates,
    _error,
    _link_outside,
    _name_findings,
    _through_link,
    _too_many,
    many_tops,
    top_directory,
    unsafe_name,
)

__all__ = ["TarScan", "scan_tar"]


class _Gunzip:
    """``read(n)`` over one gzip stream, bounded; checks what follows the stream.

    Raises :class:`ArchiveRefused` for a decompression bomb, EOFError for a
    truncated stream; ``trailing`` is set when non-NUL bytes follow it.
    """

    def __init__(self, path: str, fh: IO[bytes]) -> None:
        self.path, self.fh = path, fh
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.unpacked = self.consumed = 0
        self.eof = False
        self.trailing = False

    def read(self, n: int = -1) -> bytes:
        n = _CHUNK if n < 0 else n
        out = bytearray()
        while len(out) < n and not self.eof:
            data = self._z.unconsumed_tail
            if not data:
                data = self.fh.read(_CHUNK)
                self.consumed += len(data)
                if not data:
                    raise EOFError("compressed file ended before the end-of-stream marker")
            chunk = self._z.decompress(data, n - len(out))
            out += chunk
            self.unpacked += len(chunk)
            self._check_bounds()
            if self._z.eof:
                self.eof = True
                self._check_trailing(self._z.unused_data)
        return bytes(out)

    def drain(self) -> None:
        while not self.eof:
            self.read(1 << 20)

    def _check_bounds(self) -> None:
        if self.unpacked > _common.MAX_UNPACKED or (
            self.unpacked > _common.BOMB_MIN_SIZE
            and self.unpacked > _common.BOMB_RATIO * max(self.consumed, 1)
        ):
            raise ArchiveRefused(_bomb(self.path, self.unpacked, self.consumed))

    def _check_trailing(self, rest: bytes) -> None:
        while True:
            if rest.strip(b"\0"):
                self.trailing = True
                return
            rest = self.fh.read(_CHUNK)
            if not rest:
                return


class TarScan:
    """What a walk over an sdist's tar found."""

    __slots__ = ("links", "members", "names", "pkg_infos", "problems", "warnings")

    def __init__(self) -> None:
        self.problems: list[Finding] = []
        # findings some registries refuse (PyPI: sparse members)
        self.warnings: list[Finding] = []
        self.names: set[str] = set()
        self.links = LinkTree()
        # top-level PKG-INFO members: name -> (is a regular file, size, first bytes)
        self.pkg_infos: dict[str, tuple[bool, int, bytes]] = {}
        self.members = 0


def scan_tar(path: str, fh: IO[bytes], *, read_limit: int) -> TarScan:
    """Walk every tar header once (bounded), checking each member; read PKG-INFO on the way."""
    gz = _Gunzip(path, fh)
    try:
        with tarfile.open(  # type: ignore[call-overload]
            fileobj=gz, mode="r|", bufsize=_CHUNK, tarinfo=_BoundedTarInfo
        ) as tf:
            return _walk(path, tf, _stream_members(tf), gz, read_limit)
    except ArchiveRefused as refused:
        if refused.finding.path:
            raise
        raise ArchiveRefused(dataclasses.replace(refused.finding, path=path)) from None


_EXTENSION_TYPES = frozenset(
    {
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
    }
)


class _BoundedTarInfo(tarfile.TarInfo):
    """A TarInfo that refuses an oversized extension header before tarfile reads it.

    tarfile reads a pax or GNU long-name header's whole declared size into
    memory in one call; the header block (already read) says how large it is.
    """

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _EXTENSION_TYPES and self.size > _common.EXTENSION_HEADER_LIMIT:
            raise ArchiveRefused(
                _error(
                    "",  # the walk names the file
                    "oversized-extension-header",
                    f"a tar extension header (type {self.type!r}) declares {self.size} bytes, "
                    f"over the {_common.EXTENSION_HEADER_LIMIT}-byte limit; refusing to read it",
                    "Real pax and long-name headers hold a few hundred bytes; this archive "
                    "is crafted or corrupt. " + _REBUILD,
                )
            )
        member: tarfile.TarInfo = super()._proc_member(archive)  # type: ignore[misc]
        return member


def _stream_members(tf: Any) -> Iterator[tarfile.TarInfo]:
    while (member := tf.next()) is not None:
        tf.members.clear()  # stream mode needs no history: keep memory flat
        yield member


def _walk(
    path: str,
    tf: Any,
    members: Iterator[tarfile.TarInfo],
    gz: _Gunzip,
    read_limit: int,
) -> TarScan:
    scan = TarScan()
    tops: set[str] = set()
    bad_names: list[str] = []
    for member in members:
        scan.members += 1
        if scan.members > _common.MAX_MEMBERS:
            scan.problems.append(_too_many(path))
            return scan
        if unsafe_name(member.name):
            bad_names.append(member.name)
        scan.names.add(member.name)
        if top := top_directory(member.name):  # a "./" entry is no directory of its own
            tops.add(top)
        _check_member(path, member, scan)
        _maybe_pkg_info(path, tf, member, scan, read_limit)
    gz.drain()  # proves the stream complete and finds what follows it
    scan.problems[:0] = _name_findings(path, bad_names)
    if gz.trailing:
        scan.problems.append(_gzip_trailing(path))
    if len(tops) > 1:
        scan.problems.append(many_tops(path, tops))
    return scan


def _gzip_trailing(path: str) -> Finding:
    return _error(
        path,
        "trailing-data",
        "other data follows the gzip stream (a tar/zip polyglot or a concatenated file)",
        "Two tools could read two different archives from this file. " + _REBUILD,
    )


def _check_member(path: str, member: tarfile.TarInfo, scan: TarScan) -> None:
    if member.issparse():
        scan.warnings.append(
            Finding(
                code="tar-sparse-member",
                severity=Severity.WARNING,
                path=path,
                message=f"{member.name!r} is a sparse tar member (a GNU extension)",
                hint="Sparse members are not part of the sdist format; PyPI refuses them. "
                + _REBUILD,
            )
        )
    if member.ischr() or member.isblk() or member.isfifo():
        scan.problems.append(
            _error(
                path,
                "special-file-member",
                f"{member.name!r} is a device or FIFO",
                "An sdist holds regular files, directories and links only. " + _REBUILD,
            )
        )
    elif member.issym() or member.islnk():
        kind = "symlink" if member.issym() else "hard link"
        if scan.links.leaves(member.name, member.linkname, symlink=member.issym()):
            scan.problems.append(_link_outside(path, kind, member.name, member.linkname))
    elif scan.links and scan.links.resolve(member.name) is None:
        scan.problems.append(_through_link(path, member.name))


def _maybe_pkg_info(path: str, tf: Any, member: tarfile.TarInfo, scan: TarScan, limit: int) -> None:
    parts = member.name.strip("/").split("/")
    if len(parts) != 2 or parts[1] != "PKG-INFO":
        return
    key = "/".join(parts)
    if key in scan.pkg_infos:
        scan.problems.extend(_duplicates(path, [key, key]))
        return
    data = b""
    if member.isfile() and member.size <= limit:
        extracted = tf.extractfile(member)
        if extracted is not None:
            data = extracted.read(limit + 1)
    scan.pkg_infos[key] = (member.isfile(), member.size, data)
