"""A wheel or sdist on disk, read (private): its file, its archive, its core metadata bytes.

Reads only what it needs (a wheel's central directory and ``METADATA``; an
sdist's tar headers and ``PKG-INFO``) through the bounded walks of
``_zip`` and ``_tar``, and turns every failure into a typed error naming
the file and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Container, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ..errors import (
    DistributionError,
    InvalidDistributionError,
    UnsupportedDistributionError,
)
from ..results import Finding, Severity
from . import _common
from ._common import (
    METADATA_SIZE_LIMIT,
    ArchiveRefused,
    FileType,
    WheelName,
    many_tops,
    top_directory,
)
from ._metadata import same_version
from ._tar import scan_tar
from ._zip import zip_entry_count, zip_problems

__all__ = [
    "ACCEPTED",
    "ARCHIVE_ERRORS",
    "DISTRIBUTION_SUFFIXES",
    "Read",
    "kind_of",
    "no_distributions_error",
    "open_for_reading",
    "parse_wheel_name",
    "read_sdist",
    "read_wheel",
    "refuse",
    "refuse_all",
    "stat_regular_file",
    "unreadable_error",
]

#: The filename endings of the distributions the inspector accepts.
DISTRIBUTION_SUFFIXES = (".whl", ".tar.gz", ".zip")

ACCEPTED = "a wheel (.whl) or an sdist (.tar.gz, or a legacy .zip)"

_REBUILD = "Rebuild the distribution with your build backend (python -m build) and try again."


def kind_of(filename: str) -> FileType | None:
    if filename.endswith(".whl"):
        return "bdist_wheel"
    if filename.endswith((".tar.gz", ".zip")):
        return "sdist"
    return None


def refuse(
    cls: type[DistributionError],
    path: str,
    code: str,
    message: str,
    hint: str,
    *,
    field: str | None = None,
) -> DistributionError:
    """A typed error carrying its one problem as a Finding with an explicit code."""
    finding = Finding(
        code=code, severity=Severity.ERROR, path=path, message=message, field=field, hint=hint
    )
    return cls(message, problems=[finding], hint=hint, path=path)


def refuse_all(p: Path, problems: Sequence[Finding]) -> InvalidDistributionError:
    """One InvalidDistributionError listing every archive problem found."""
    shown = str(p)
    if len(problems) == 1:
        message, hint = f"{shown}: {problems[0].message}", problems[0].hint
    else:
        message = f"{shown}: {len(problems)} problems in the archive"
        hint = (
            "The archive is malformed or unsafe (a tampered or hand-made file?); "
            + _REBUILD[0].lower()
            + _REBUILD[1:]
        )
    return InvalidDistributionError(message, problems=problems, hint=hint, path=shown)


def unreadable_error(path: str, exc: OSError) -> UnsupportedDistributionError:
    """The error for a file that exists but cannot be opened (permission, I/O, loop)."""
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        code, reason = "unreadable", "cannot be read: permission denied"
        hint = (
            "Check the file's permissions and owner (ls -l); a file written by another "
            "user or by a container may need chmod/chown."
        )
    elif exc.errno == errno.ELOOP:
        code, reason = "unreadable", "cannot be opened: symbolic link loop"
        hint = "Point at the distribution file itself, not a broken or looping link."
    else:
        code, reason = "unreadable", f"cannot be read: {exc.strerror or exc}"
        hint = "Check that the file still exists and is readable."
    error = refuse(UnsupportedDistributionError, path, code, f"{path}: {reason}", hint)
    assert isinstance(error, UnsupportedDistributionError)
    return error


def no_distributions_error(paths: object) -> UnsupportedDistributionError:
    """The error for paths that hold no distribution at all (an empty dist/ directory)."""
    if isinstance(paths, str | os.PathLike) or not isinstance(paths, Iterable):
        shown = str(paths)
    else:
        shown = ", ".join(map(str, paths))
    error = refuse(
        UnsupportedDistributionError,
        shown,
        "no-distributions",
        f"no distributions in {shown}",
        "Build first (python -m build), or pass the dist/ directory the build wrote to.",
    )
    assert isinstance(error, UnsupportedDistributionError)
    return error


def stat_regular_file(p: Path) -> int:
    shown = str(p)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise refuse(
            UnsupportedDistributionError,
            shown,
            "no-such-file",
            f"{shown}: no such file",
            "Build first (python -m build) or check the path.",
        ) from None
    except OSError as exc:  # ELOOP for a symlink loop, EACCES on a directory, ...
        raise unreadable_error(shown, exc) from None
    if not stat.S_ISREG(st.st_mode):
        raise refuse(
            UnsupportedDistributionError,
            shown,
            "not-a-regular-file",
            f"{shown}: is not a regular file; expected {ACCEPTED}",
            "Pass the distribution files, or their directory (it is expanded).",
        )
    return st.st_size


@contextlib.contextmanager
def open_for_reading(p: Path) -> Iterator[IO[bytes]]:
    """Open the file; a failure to open is "unreadable", never "damaged"."""
    try:
        fh = open(p, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise unreadable_error(str(p), exc) from None
    with fh:
        yield fh


def _too_large(p: Path, where: str, size: int) -> InvalidDistributionError:
    return refuse_all(
        p,
        [
            Finding(
                code="metadata-too-large",
                severity=Severity.ERROR,
                path=str(p),
                message=f"{where} is {size} bytes, over the {METADATA_SIZE_LIMIT}-byte limit; "
                "refusing to read it",
                hint="Core metadata is a few KiB; a huge one usually means a README embedded "
                "by mistake. " + _REBUILD,
            )
        ],
    )


def _structure(p: Path, code: str, message: str, hint: str = _REBUILD) -> InvalidDistributionError:
    """An archive that opens but does not hold what a wheel or sdist must."""
    error = refuse(InvalidDistributionError, str(p), code, f"{p}: {message}", hint)
    assert isinstance(error, InvalidDistributionError)
    return error


def _corrupt(p: Path, what: str, exc: BaseException) -> InvalidDistributionError:
    return _structure(
        p,
        "corrupt-archive",
        f"corrupt or truncated {what} ({type(exc).__name__}: {exc})",
        "The file is damaged (an interrupted copy or download?). " + _REBUILD,
    )


ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
)


@contextlib.contextmanager
def _zip_archive(p: Path, fh: IO[bytes], size: int) -> Iterator[zipfile.ZipFile]:
    """The zip, once its entry count is known to be bounded and its records check out."""
    count = zip_entry_count(fh)
    if count is not None and count > _common.MAX_MEMBERS:
        raise refuse_all(
            p,
            [
                Finding(
                    code="too-many-members",
                    severity=Severity.ERROR,
                    path=str(p),
                    message=f"the archive declares {count} members, over the "
                    f"{_common.MAX_MEMBERS} limit; refusing to read it",
                    hint="Check what the build included. " + _REBUILD,
                )
            ],
        )
    with zipfile.ZipFile(fh) as zf:
        problems = zip_problems(str(p), fh, zf, size)
        if problems:
            raise refuse_all(p, problems)
        yield zf


# What reading an archive gives: the core metadata's bytes, its member name,
# every member name, and warnings about the archive.
Read = tuple[bytes, str, frozenset[str], tuple[Finding, ...]]


def parse_wheel_name(p: Path) -> WheelName:
    try:
        return parse_wheel_filename(p.name)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise _structure(
            p,
            "invalid-wheel-filename",
            f"invalid wheel filename: {exc}",
            "Wheel filenames are {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl "
            "(PEP 427); rebuild instead of renaming the file.",
        ) from None


def read_wheel(p: Path, fh: IO[bytes], size: int, parsed: WheelName) -> Read:
    name, version = parsed[0], parsed[1]
    try:
        with _zip_archive(p, fh, size) as zf:
            names = zf.namelist()
            member = _wheel_metadata_member(p, names, zf.NameToInfo, name, version)
            data = _read_zip_member(p, zf, member)
    except InvalidDistributionError:
        raise
    except ARCHIVE_ERRORS as exc:
        raise _corrupt(p, "wheel (zip archive)", exc) from None
    return data, member, frozenset(names), ()


def _wheel_metadata_member(
    p: Path, names: list[str], members: Container[str], name: str, version: Version
) -> str:
    dist_infos = sorted(
        {
            top
            for n in names
            if n.count("/") == 1 and (top := n.split("/", 1)[0]).endswith(".dist-info")
        }
    )
    if not dist_infos:
        raise _structure(p, "no-dist-info", "no *.dist-info directory in the wheel")
    if len(dist_infos) > 1:
        raise _structure(
            p,
            "several-dist-info",
            f"{len(dist_infos)} .dist-info directories ({', '.join(dist_infos)}); "
            "a wheel has exactly one",
        )
    dist_info = dist_infos[0]
    di_name, _, di_version = dist_info[: -len(".dist-info")].partition("-")
    if canonicalize_name(di_name) != name or not same_version(di_version, version):
        raise _structure(
            p,
            "dist-info-mismatch",
            f"its {dist_info} does not match the filename ({name} {version})",
        )
    member = f"{dist_info}/METADATA"
    if member not in members:
        raise _structure(p, "no-metadata", f"{member} is missing")
    return member


def _read_zip_member(p: Path, zf: zipfile.ZipFile, member: str) -> bytes:
    info = zf.getinfo(member)
    if info.file_size > METADATA_SIZE_LIMIT:
        raise _too_large(p, member, info.file_size)
    with zf.open(info) as fh:
        data = fh.read(METADATA_SIZE_LIMIT + 1)
    if len(data) > METADATA_SIZE_LIMIT:
        raise _too_large(p, member, len(data))
    return data


def _sdist_stem(p: Path) -> str:
    return p.name[: -len(".tar.gz")] if p.name.endswith(".tar.gz") else p.name[: -len(".zip")]


def _pick_pkg_info(p: Path, candidates: list[str]) -> str:
    preferred = f"{_sdist_stem(p)}/PKG-INFO"
    if preferred in candidates:
        return preferred
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise _structure(
            p,
            "no-pkg-info",
            "no <name>-<version>/PKG-INFO in the sdist",
            "An sdist must hold PKG-INFO in its top directory. " + _REBUILD,
        )
    raise _structure(
        p, "several-pkg-info", f"several top-level PKG-INFO files ({', '.join(candidates)})"
    )


def _is_top_pkg_info(name: str) -> bool:
    parts = name.strip("/").split("/")
    return len(parts) == 2 and parts[1] == "PKG-INFO"


def read_sdist(p: Path, fh: IO[bytes], size: int) -> Read:
    zipped = p.name.endswith(".zip")
    try:
        if zipped:
            return _read_zip_sdist(p, fh, size)
        return _read_tar_sdist(p, fh)
    except InvalidDistributionError:
        raise
    except ArchiveRefused as refused:
        raise refuse_all(p, [refused.finding]) from None
    except ARCHIVE_ERRORS as exc:
        what = "sdist (zip archive)" if zipped else "sdist (gzip/tar archive)"
        raise _corrupt(p, what, exc) from None


def _read_zip_sdist(p: Path, fh: IO[bytes], size: int) -> Read:
    with _zip_archive(p, fh, size) as zf:
        names = zf.namelist()
        member = _zip_sdist_member(p, names)
        return _read_zip_member(p, zf, member), member, frozenset(names), ()


def _zip_sdist_member(p: Path, names: list[str]) -> str:
    tops = {top for n in names if (top := top_directory(n))}
    if len(tops) > 1:
        raise refuse_all(p, [many_tops(str(p), tops)])
    return _pick_pkg_info(p, [n for n in names if _is_top_pkg_info(n)])


def _read_tar_sdist(p: Path, fh: IO[bytes]) -> Read:
    problems = _zip_polyglot(p, fh)
    fh.seek(0)
    scan = scan_tar(str(p), fh, read_limit=METADATA_SIZE_LIMIT)
    problems.extend(scan.problems)
    if problems:
        raise refuse_all(p, problems)
    member = _pick_pkg_info(p, sorted(scan.pkg_infos))
    is_file, size, data = scan.pkg_infos[member]
    if not is_file:
        raise _structure(p, "pkg-info-not-a-file", f"{member} is not a regular file")
    if size > METADATA_SIZE_LIMIT or len(data) > METADATA_SIZE_LIMIT:
        raise _too_large(p, member, max(size, len(data)))
    return data, member, frozenset(scan.names), tuple(scan.warnings)


def _zip_polyglot(p: Path, fh: IO[bytes]) -> list[Finding]:
    """A .tar.gz whose tail also reads as a zip archive (cheap: reads the tail)."""
    count = zip_entry_count(fh)
    if not count or count > _common.MAX_MEMBERS:
        return []
    try:
        with zipfile.ZipFile(fh) as zf:
            if not zf.infolist():
                return []
    except ARCHIVE_ERRORS:
        return []
    return [
        Finding(
            code="zip-tar-polyglot",
            severity=Severity.ERROR,
            path=str(p),
            message="the file reads both as a tar.gz and as a zip archive",
            hint="Installers and registries could see two different sdists in it. " + _REBUILD,
        )
    ]
