"""Bounded, hostile-input-aware reading of wheel (zip) and sdist (tar.gz) archives (private).

Every walk here is bounded by member count, unpacked bytes and compression
ratio, so a hostile archive costs at most a few seconds and a few tens of MiB.
The zip checks follow what PyPI's upload endpoint refuses (warehouse's
``forklift`` and ``utils/zipfiles``): duplicate names, local headers that
disagree with the central directory, data before or after the archive,
compression methods other than stored/deflate, decompression bombs.  The tar
checks refuse what would be dangerous to unpack: ``..`` or absolute member
paths, links pointing outside the tree, device and FIFO members.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import os
import posixpath
import re
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Any

from .results import Finding, Severity

__all__ = [
    "BOMB_MIN_SIZE",
    "BOMB_RATIO",
    "EXTENSION_HEADER_LIMIT",
    "MAX_MEMBERS",
    "MAX_UNPACKED",
    "ArchiveRefused",
    "LinkTree",
    "PlainZip",
    "TarScan",
    "many_tops",
    "plain_zip",
    "scan_tar",
    "top_directory",
    "unsafe_name",
    "zip_entry_count",
    "zip_problems",
]

#: An archive with more members than this is refused (real sdists and wheels hold
#: a few thousand at most; walking this many takes about a second).
MAX_MEMBERS = 50_000
#: A gzip stream unpacking to more than this is refused.
MAX_UNPACKED = 1 << 30
#: A tar extension header (pax, GNU long name or link) declaring more than this
#: is refused before it is read (real ones hold a few hundred bytes; tarfile
#: would read the whole declared size into memory).
EXTENSION_HEADER_LIMIT = 1 << 20
#: Past this many unpacked bytes, a compression ratio above BOMB_RATIO is a bomb
#: (the same rule as PyPI's for zip files).
BOMB_MIN_SIZE = 64 << 20
BOMB_RATIO = 50

_REBUILD = "Rebuild the distribution with your build backend (python -m build)."
_ARCHIVES_DOC = "PyPI refuses such archives (https://docs.pypi.org/archives). "
_CHUNK = 1 << 16


class ArchiveRefused(Exception):
    """Raised by the readers when a bound is crossed; carries the finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def _error(path: str, code: str, message: str, hint: str) -> Finding:
    return Finding(code=code, severity=Severity.ERROR, path=path, message=message, hint=hint)


# -- member names -------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def unsafe_name(name: str) -> str | None:
    """Why a member name is unsafe to unpack, or None."""
    if _CONTROL.search(name):
        return "holds control characters"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm):
        return "is an absolute path"
    if ".." in norm and ".." in norm.split("/"):
        return "has a '..' component"
    return None


def _name_findings(path: str, names: Iterable[str]) -> list[Finding]:
    bad = [(n, why) for n in names if (why := unsafe_name(n)) is not None]
    if not bad:
        return []
    shown = "; ".join(f"{n!r} {why}" for n, why in bad[:5])
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    return [
        _error(
            path,
            "unsafe-member-path",
            f"{len(bad)} member(s) would unpack outside the target directory: {shown}{more}",
            "A crafted or broken archive; unpacking it could overwrite files elsewhere. "
            + _REBUILD,
        )
    ]


def _duplicates(path: str, names: Iterable[str]) -> list[Finding]:
    dupes = sorted(n for n, c in collections.Counter(names).items() if c > 1)
    if not dupes:
        return []
    return [
        _error(
            path,
            "duplicate-member",
            f"{len(dupes)} name(s) appear more than once in the archive: "
            + ", ".join(repr(n) for n in dupes[:5]),
            "Tools disagree about which copy wins (one could carry another project's "
            "metadata). " + _ARCHIVES_DOC + _REBUILD,
        )
    ]


# -- zip ----------------------------------------------------------------------


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
    if unpacked > BOMB_MIN_SIZE and unpacked > BOMB_RATIO * max(size, 1):
        found.append(_bomb(path, unpacked, size))
    framing = _ZipFraming(path, fh, infos, size).walk()
    found.extend(framing)
    if not framing and not methods:  # members readable: look at the links' targets
        found.extend(_zip_links(path, zf))
    return found


def _bomb(path: str, unpacked: int, packed: int) -> Finding:
    return _error(
        path,
        "decompression-bomb",
        f"unpacks to {unpacked} bytes from {packed} (over {BOMB_RATIO}x past "
        f"{BOMB_MIN_SIZE >> 20} MiB)",
        "A decompression bomb, or an archive of highly repetitive data; PyPI refuses a "
        f"compression ratio over {BOMB_RATIO}. " + _REBUILD,
    )


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
        for _ in range(2 * MAX_MEMBERS + 8):
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


# -- the fast path: a plain zip held in memory ----------------------------------

# Flag bits a plain archive may use: deflate options (1, 2) and UTF-8 names (11).
_PLAIN_FLAGS = 0x0806
# zipfile refuses members needing a later version (MAX_EXTRACT_VERSION).
_MAX_EXTRACT_VERSION = 63
_LOCAL_FULL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_FULL = struct.Struct("<4sBBBBHHHHIIIHHHHHII")
_EOCD_FULL = struct.Struct("<4sHHHHIIH")


# A member of a plain zip: (data offset, method, compressed size, size, CRC-32).
_Member = tuple[int, int, int, int, int]


class PlainZip:
    """A zip read from memory by :func:`plain_zip`: names in archive order, members by name."""

    __slots__ = ("_data", "_members", "names")

    def __init__(self, data: bytes, members: dict[str, _Member]) -> None:
        self._data = data
        self._members = members
        self.names = list(members)

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def file_size(self, name: str) -> int:
        return self._members[name][3]

    def read(self, name: str) -> bytes | None:
        """The member's bytes; None if they do not check out (the full reader decides)."""
        offset, method, compress_size, file_size, crc = self._members[name]
        raw = self._data[offset : offset + compress_size]
        if method == zipfile.ZIP_STORED:
            out = raw
        else:
            z = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                out = z.decompress(raw, file_size + 1)
            except zlib.error:
                return None
            if not z.eof or z.unconsumed_tail or z.unused_data:
                return None
        if len(out) != file_size or zlib.crc32(out) != crc:
            return None
        return out


def plain_zip(data: bytes) -> PlainZip | None:
    """The members of a plain, well-formed zip held in memory, or None.

    A fast path for the common case (a small wheel): one pass over local
    headers, central directory and end record.  It answers only for archives
    laid out the simple way -- local records back to back from offset 0, then
    the central directory agreeing with them entry by entry, then an end record
    without comment ending the file -- whose names are safe and unique, with
    stored or deflated members and no zip64 or encryption.  Every such archive
    passes :func:`zip_problems` and reads the same through :mod:`zipfile`.  For
    anything else (including every archive the checks would refuse) it returns
    None, and the caller takes the full path, which finds and names every problem.
    """
    try:
        return _plain_zip(data)
    except (struct.error, UnicodeDecodeError):
        return None


def _plain_zip(data: bytes) -> PlainZip | None:
    size = len(data)
    eocd = size - _EOCD_FULL.size
    if eocd < 0:
        return None
    sig, disk, cd_disk, on_disk, total, cd_size, cd_offset, comment = _EOCD_FULL.unpack_from(
        data, eocd
    )
    if sig != _EOCD or disk or cd_disk or comment or on_disk != total:
        return None
    if not 0 < total <= MAX_MEMBERS or cd_offset + cd_size != eocd:
        return None
    if eocd >= 20 and data[eocd - 20 : eocd - 16] == _EOCD64_LOCATOR:
        return None  # zip64 end records: the full path
    locals_ = _plain_locals(data, cd_offset, total)
    if locals_ is None:
        return None
    members = _plain_central(data, cd_offset, eocd, locals_)
    if members is None or len(members) != total:
        return None  # includes duplicate names
    if _name_findings("", members):
        return None
    unpacked = sum(m[3] for m in members.values())
    if unpacked > BOMB_MIN_SIZE and unpacked > BOMB_RATIO * max(size, 1):
        return None
    return PlainZip(data, members)


# One local record: (offset, header fields, raw name).
_Local = tuple[int, tuple[Any, ...], bytes]


def _plain_locals(data: bytes, end: int, total: int) -> list[_Local] | None:
    found: list[_Local] = []
    pos = 0
    while pos < end:
        if len(found) == total:
            return None
        fields = _LOCAL_FULL.unpack_from(data, pos)
        sig, _v, flags, method, _t, _d, _crc, csize, usize, nlen, elen = fields
        if sig != _LOCAL or flags & ~_PLAIN_FLAGS or method not in _PLAIN_METHODS:
            return None
        if 0xFFFFFFFF in (csize, usize):
            return None
        start = pos + _LOCAL_FULL.size
        if not _plain_extra(data[start + nlen : start + nlen + elen]):
            return None
        found.append((pos, fields, data[start : start + nlen]))
        pos = start + nlen + elen + csize
    return found if pos == end and len(found) == total else None


def _plain_central(
    data: bytes, pos: int, end: int, locals_: list[_Local]
) -> dict[str, _Member] | None:
    members: dict[str, _Member] = {}
    for offset, local, raw_name in locals_:
        c = _CENTRAL_FULL.unpack_from(data, pos)
        (sig, _cv, _cs, extract, _r, flags, method, _t, _d, crc, csize, usize) = c[:12]
        nlen, elen, clen, external, header_offset = c[12], c[13], c[14], c[17], c[18]
        start = pos + _CENTRAL_FULL.size
        if (
            (external >> 16) & 0o170000 == 0o120000  # a symlink: the full path checks it
            or sig != _CENTRAL
            or extract > _MAX_EXTRACT_VERSION
            or clen
            or header_offset != offset
            or (flags, method, crc, csize, usize) != local[2:4] + local[6:9]
            or data[start : start + nlen] != raw_name
            or not _plain_extra(data[start + nlen : start + nlen + elen])
        ):
            return None
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        if os.sep != "/":  # pragma: no cover - as zipfile names members on Windows
            name = name.replace(os.sep, "/")
        data_offset = offset + _LOCAL_FULL.size + nlen + local[10]
        members[name] = (data_offset, method, csize, usize, crc)
        pos = start + nlen + elen
    return members if pos == end else None


_PLAIN_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _plain_extra(extra: bytes) -> bool:
    """Well-formed extra fields without zip64 sizes or a Unicode path (which zipfile reads)."""
    while len(extra) >= 4:
        tag, length = struct.unpack_from("<HH", extra)
        if length + 4 > len(extra) or tag in (0x0001, 0x7075):
            return False
        extra = extra[4 + length :]
    return not extra


# -- tar.gz -------------------------------------------------------------------


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
        if self.unpacked > MAX_UNPACKED or (
            self.unpacked > BOMB_MIN_SIZE and self.unpacked > BOMB_RATIO * max(self.consumed, 1)
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


class _Inflated:
    """A whole gzip stream inflated in memory, read like :class:`_Gunzip`."""

    def __init__(self, data: bytes, *, trailing: bool) -> None:
        self.data = data
        self._buf = io.BytesIO(data)
        self.trailing = trailing

    def read(self, n: int = -1) -> bytes:
        return self._buf.read(_CHUNK if n < 0 else n)

    def drain(self) -> None:
        pass


# A .tar.gz up to this size whose stream inflates to at most _INFLATE_LIMIT is
# inflated in one call (the fast path for small sdists); memory stays bounded.
_INFLATE_SIZE = 1 << 20
_INFLATE_LIMIT = 8 << 20


def _inflate_small(fh: IO[bytes]) -> _Inflated | None:
    """The gzip stream inflated at once, when it is small and complete; else None.

    A stream this small can cross no bound of :class:`_Gunzip` (those start at
    BOMB_MIN_SIZE unpacked bytes), and what follows it is checked the same way,
    so the walk finds what the streaming walk would; a truncated or corrupt
    stream returns None and the streaming walk reports it.
    """
    start = fh.tell()
    data = fh.read(_INFLATE_SIZE + 1)
    if len(data) <= _INFLATE_SIZE:
        z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = z.decompress(data, _INFLATE_LIMIT + 1)
        except zlib.error:
            out = b""
        if z.eof and len(out) <= _INFLATE_LIMIT:
            return _Inflated(out, trailing=bool(z.unused_data.strip(b"\0")))
    fh.seek(start)
    return None


def scan_tar(path: str, fh: IO[bytes], *, read_limit: int) -> TarScan:
    """Walk every tar header once (bounded), checking each member; read PKG-INFO on the way."""
    inflated = _inflate_small(fh)
    if inflated is not None and (plain := _PlainTar.parse(inflated.data)) is not None:
        return _walk(path, plain, iter(plain.members), inflated, read_limit)
    gz: _Gunzip | _Inflated = inflated or _Gunzip(path, fh)
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
        if self.type in _EXTENSION_TYPES and self.size > EXTENSION_HEADER_LIMIT:
            raise ArchiveRefused(
                _error(
                    "",  # the walk names the file
                    "oversized-extension-header",
                    f"a tar extension header (type {self.type!r}) declares {self.size} bytes, "
                    f"over the {EXTENSION_HEADER_LIMIT}-byte limit; refusing to read it",
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
    gz: _Gunzip | _Inflated,
    read_limit: int,
) -> TarScan:
    scan = TarScan()
    tops: set[str] = set()
    bad_names: list[str] = []
    for member in members:
        scan.members += 1
        if scan.members > MAX_MEMBERS:
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


_BLOCK = tarfile.BLOCKSIZE
_ZERO_BLOCK = bytes(_BLOCK)
# Numeric header fields tarfile parses (and refuses when malformed): mode, uid,
# gid, size, mtime, checksum, devmajor, devminor.
_NUMERIC = (
    (100, 108),
    (108, 116),
    (116, 124),
    (124, 136),
    (136, 148),
    (148, 156),
    (329, 337),
    (337, 345),
)


class _PlainTar:
    """A plain ustar archive in memory: regular files and directories, nothing else.

    :meth:`parse` answers only for archives tarfile reads the simple way --
    headers with valid octal fields and checksum, types regular file or
    directory, no name prefix, no extended (pax/GNU) headers, every member's
    data inside the buffer, ended by a zero block -- and builds the same
    TarInfo names, types and sizes tarfile would; for anything else it
    returns None and tarfile walks the archive.
    """

    def __init__(self, data: bytes, members: list[tarfile.TarInfo]) -> None:
        self.data = data
        self.members = members

    def extractfile(self, member: tarfile.TarInfo) -> IO[bytes]:
        start = member.offset_data
        return io.BytesIO(self.data[start : start + member.size])

    @classmethod
    def parse(cls, data: bytes) -> _PlainTar | None:
        members: list[tarfile.TarInfo] = []
        pos = 0
        while pos + _BLOCK <= len(data) and len(members) <= MAX_MEMBERS:
            block = data[pos : pos + _BLOCK]
            if block == _ZERO_BLOCK:
                return cls(data, members)
            member = _plain_member(block)
            if member is None:
                return None
            member.offset, member.offset_data = pos, pos + _BLOCK
            if member.offset_data + member.size > len(data):
                return None
            pos = member.offset_data + -(-member.size // _BLOCK) * _BLOCK
            members.append(member)
        return None


def _plain_member(block: bytes) -> tarfile.TarInfo | None:
    kind = block[156:157]
    if kind not in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE) or block[345:500].strip(
        b"\0"
    ):
        return None
    try:
        mode, _uid, _gid, size, _mtime, chksum, _maj, _min = (
            _octal(block[a:b]) for a, b in _NUMERIC
        )
        name = block[:100].split(b"\0", 1)[0].decode(tarfile.ENCODING)
    except (ValueError, LookupError):
        return None
    if chksum != 256 + sum(block[:148]) + sum(block[156:]):
        return None
    if kind == tarfile.AREGTYPE and name.endswith("/"):
        kind = tarfile.DIRTYPE
    if kind == tarfile.DIRTYPE:
        if size:
            return None  # tarfile would read its data as the next header
        name = name.rstrip("/")
    member = tarfile.TarInfo(name)
    member.type, member.size, member.mode = kind, size, mode
    return member


def _octal(field: bytes) -> int:
    """A numeric header field as tarfile reads it (base-256 values: ValueError, decline)."""
    if field[:1] in (b"\x80", b"\xff"):
        raise ValueError("base-256 number")
    return int(field.split(b"\0", 1)[0].decode("ascii").strip() or "0", 8)


def top_directory(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return parts[0] if parts else ""


def _too_many(path: str) -> Finding:
    return _error(
        path,
        "too-many-members",
        f"more than {MAX_MEMBERS} members; stopped reading",
        "Real sdists hold a few thousand files at most; check what the build included "
        "(MANIFEST.in, [tool.*.sdist] excludes). " + _REBUILD,
    )


def _gzip_trailing(path: str) -> Finding:
    return _error(
        path,
        "trailing-data",
        "other data follows the gzip stream (a tar/zip polyglot or a concatenated file)",
        "Two tools could read two different archives from this file. " + _REBUILD,
    )


def many_tops(path: str, tops: set[str]) -> Finding:
    shown = ", ".join(repr(t) for t in sorted(tops)[:5])
    return _error(
        path,
        "multiple-top-level-directories",
        f"members are not under one top-level directory ({shown})",
        "An sdist unpacks into one {name}-{version}/ directory; PyPI refuses others. " + _REBUILD,
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


def _link_outside(path: str, kind: str, name: str, target: str) -> Finding:
    return _error(
        path,
        "link-outside-archive",
        f"{kind} {name!r} points outside the archive ({target!r})",
        "Unpacking it could read or overwrite files elsewhere. " + _REBUILD,
    )


def _through_link(path: str, name: str) -> Finding:
    return _error(
        path,
        "link-outside-archive",
        f"{name!r} would be unpacked through a symlink that leads outside the archive",
        "Unpacking it could write files elsewhere. " + _REBUILD,
    )


#: Symlinks followed while resolving one path, as the kernel's ELOOP bound.
_MAX_HOPS = 40
#: Path components walked while resolving one path (a hostile chain could ask for more).
_MAX_STEPS = 4096


class LinkTree:
    """The symlinks seen so far in an archive, to resolve later paths against them.

    A chain of links each harmless on its own (``x -> ..``, then ``x/y ->
    ..``) can lead an unpacked member outside the target directory: every
    link target and every member path is resolved through the links before
    it, as an unpacker would follow them.
    """

    __slots__ = ("_links",)

    def __init__(self) -> None:
        self._links: dict[str, list[str]] = {}

    def __bool__(self) -> bool:
        return bool(self._links)

    def resolve(self, name: str) -> str | None:
        """``name`` with the known symlinks followed; None when it leaves the tree or loops."""
        pending = _parts(name)
        pending.reverse()
        out: list[str] = []
        hops = steps = 0
        while pending:
            steps += 1
            if steps > _MAX_STEPS:
                return None
            part = pending.pop()
            if part == "..":
                if not out:
                    return None
                out.pop()
                continue
            out.append(part)
            target = self._links.get("/".join(out))
            if target is None:
                continue
            hops += 1
            if hops > _MAX_HOPS:
                return None
            out.pop()
            pending.extend(reversed(target))
        return "/".join(out)

    def leaves(self, name: str, target: str, *, symlink: bool) -> bool:
        """Whether a link ``name -> target`` leads outside the tree; records a symlink."""
        link = target.replace("\\", "/")
        if link.startswith("/") or _DRIVE.match(link):
            return True
        parent = self.resolve(posixpath.dirname(name)) if symlink else ""
        if parent is None or self.resolve(posixpath.join(parent, link)) is None:
            return True
        key = "/".join(_parts(name))
        if symlink and key:
            self._links[key] = _parts(link)
        return False


def _parts(name: str) -> list[str]:
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


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
