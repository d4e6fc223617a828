"""Zip archives (wheels, legacy .zip sdists), checked as PyPI checks them (private).

The checks follow what PyPI's upload endpoint refuses (warehouse's
``forklift`` and ``utils/zipfiles``): duplicate names, local headers that
disagree with the central directory, data before or after the archive,
comments, data descriptors, compression methods other than stored/deflate,
decompression bombs; and symlinks leading out of the tree.
"""

from __future__ import annotations

import struct
import zipfile
from typing import IO

from ..results import Finding
from . import _common
from ._common import (
    _ARCHIVES_DOC,
    _REBUILD,
    LinkTree,
    _bomb,
    _duplicates,
    _error,
    _link_outside,
    _name_findings,
    _through_link,
)

__all__ = ["zip_entry_count", "zip_problems"]


def zip_entry_count(fh: IO[bytes]) -> int | None:
    """The entry count the end-of-central-directory record declares (cheap: reads the tail)."""
    end_rec_data = getattr(zipfile, "_EndRecData", None)
    if end_rec_data is None:  # pragma: no cover - every CPython has it
        return None
    try:
        endrec = end_rec_data(fh)
    except (OSError, struct.error):
        return None
    return int(endrec[4]) if endrec else None


def zip_problems(path: str, fh: IO[bytes], zf: zipfile.ZipFile, size: int) -> list[Finding]:
    """Every reason to refuse this zip: names, duplicates, methods, ratio, framing."""
    infos = zf.infolist()
    names = [i.orig_filename for i in infos]
    found = _name_findings(path, names) + _duplicates(path, names)
    methods = {i.compress_type for i in infos} - {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
    if methods:
        found.append(
            _error(
                path,
                "unsupported-compression",
                f"members use compression method(s) {sorted(methods)}; only stored and "
                "deflate are accepted",
                _ARCHIVES_DOC + _REBUILD,
            )
        )
    unpacked = sum(i.file_size for i in infos)
    if unpacked > _common.BOMB_MIN_SIZE and unpacked > _common.BOMB_RATIO * max(size, 1):
        found.append(_bomb(path, unpacked, size))
    framing = _ZipFraming(path, fh, infos, size).walk()
    found.extend(framing)
    if not framing and not methods:  # members readable: look at the links' targets
        found.extend(_zip_links(path, zf))
    return found


_LOCAL, _CENTRAL, _EOCD = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_EOCD64, _EOCD64_LOCATOR = b"PK\x06\x06", b"PK\x06\x07"
_LOCAL_HEADER = struct.Struct("<HHHHHIIIHH")

_CENTRAL_HEADER = struct.Struct("<HHHHHHIIIHHHHHII")

_EOCD_RECORD = struct.Struct("<HHHHIIH")


class _ZipFraming:
    """Walk the zip's records front to back, as a streaming reader would.

    A zip is read two ways: from the central directory at its end (pip,
    Python's zipfile) or by streaming local headers from its start.  An
    archive the two ways read differently, or with bytes neither way
    accounts for, is refused, as PyPI does.
    """

    def __init__(self, path: str, fh: IO[bytes], infos: list[zipfile.ZipInfo], size: int):
        self.path, self.fh, self.size = path, fh, size
        self.expected: dict[str, tuple[int, int]] = {}
        for info in infos:
            self.expected.setdefault(info.orig_filename, (info.compress_size, info.file_size))
        self.local: set[str] = set()
        self.central = 0

    def walk(self) -> list[Finding]:
        self.fh.seek(0)
        for _ in range(2 * _common.MAX_MEMBERS + 8):
            offset = self.fh.tell()
            sig = self.fh.read(4)
            try:
                done = self._record(sig, offset)
            except (struct.error, ValueError, UnicodeDecodeError) as exc:
                return [self._framing(f"malformed record at offset {offset} ({exc})")]
            if isinstance(done, Finding):
                return [done]
            if done:
                break
        else:
            return [self._framing("too many zip records")]
        end = self.fh.tell()
        if end != self.size:
            return [self._framing(f"{self.size - end} byte(s) of other data after the zip archive")]
        return []

    def _framing(self, message: str) -> Finding:
        return _error(
            self.path,
            "zip-framing",
            f"zip archive not accepted: {message}",
            "Bytes outside the zip records, or records that disagree, let two tools read "
            "two different archives (a zip/tar polyglot, a renamed self-extractor). "
            + _ARCHIVES_DOC
            + _REBUILD,
        )

    def _record(self, sig: bytes, offset: int) -> bool | Finding:
        if sig == _LOCAL:
            return self._local_header()
        if sig == _CENTRAL:
            return self._central_header()
        if sig == _EOCD:
            return self._end_record()
        if sig == _EOCD64:
            (length,) = struct.unpack("<Q", self._read(8))
            self.fh.seek(length, 1)
            return False
        if sig == _EOCD64_LOCATOR:
            self._read(16)
            return False
        if offset == 0:
            return self._framing("data before the first zip record (something is prepended)")
        return self._framing(f"unknown data at offset {offset}")

    def _read(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise ValueError("the archive ends inside a record")
        return data

    def _local_header(self) -> bool | Finding:
        _v, flags, _m, _t, _d, _crc, csize, usize, nlen, elen = _LOCAL_HEADER.unpack(
            self._read(_LOCAL_HEADER.size)
        )
        raw_name, extra = self._read(nlen), self._read(elen)
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        if flags & 0x08:
            return self._framing(f"{name!r} uses a data descriptor (sizes after the data)")
        csize, usize = _zip64_sizes(extra, csize, usize)
        if name in self.local:
            return self._framing(f"{name!r} has two local headers")
        if name not in self.expected:
            return self._framing(f"{name!r} is not in the central directory (a hidden entry)")
        if self.expected[name] != (csize, usize):
            return self._framing(f"{name!r}: local header sizes differ from the central directory")
        self.local.add(name)
        self.fh.seek(csize, 1)
        return False

    def _central_header(self) -> bool | Finding:
        fields = _CENTRAL_HEADER.unpack(self._read(_CENTRAL_HEADER.size))
        flags, nlen, elen, clen = fields[2], fields[9], fields[10], fields[11]
        name = self._read(nlen).decode("utf-8" if flags & 0x800 else "cp437")
        self.fh.seek(elen + clen, 1)
        if clen:
            return self._framing(f"{name!r} has a comment in the central directory")
        if name not in self.local:
            return self._framing(f"{name!r} is in the central directory but has no local header")
        self.central += 1
        return False

    def _end_record(self) -> bool | Finding:
        _disk, _cd_disk, on_disk, total, _size, _offset, clen = _EOCD_RECORD.unpack(
            self._read(_EOCD_RECORD.size)
        )
        self.fh.seek(clen, 1)
        if on_disk != total:
            return self._framing("a multi-disk archive")
        if total not in (0xFFFF, self.central):
            return self._framing(
                f"the end record counts {total} entries, the central directory {self.central}"
            )
        return True


def _zip64_sizes(extra: bytes, csize: int, usize: int) -> tuple[int, int]:
    while len(extra) >= 4:
        tag, length = struct.unpack("<HH", extra[:4])
        if tag == 0x0001:
            values = list(struct.unpack(f"<{length // 8}Q", extra[4 : 4 + (length // 8) * 8]))
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            break
        extra = extra[4 + length :]
    return csize, usize


def _zip_is_symlink(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == 0o120000


def _zip_links(path: str, zf: zipfile.ZipFile) -> list[Finding]:
    """Symlink members (a Unix mode in the external attributes) leading out of the tree."""
    infos = zf.infolist()
    if not any(_zip_is_symlink(info) for info in infos):
        return []
    found = []
    tree = LinkTree()
    for info in infos:
        if not _zip_is_symlink(info):
            if tree and tree.resolve(info.filename) is None:
                found.append(_through_link(path, info.filename))
            continue
        target = zf.read(info)[:4096].decode("utf-8", "replace") if info.file_size < 4096 else ""
        if not target or tree.leaves(info.filename, target, symlink=True):
            found.append(_link_outside(path, "symlink", info.filename, target))
    return found
