"""Open a wheel or sdist, validate its core metadata, and build its upload form.

:meth:`Distribution.open` reads only what it needs (a wheel's central
directory and ``METADATA``; an sdist's tar headers and ``PKG-INFO``), never
touches the network, and reports *every* metadata problem at once in an
:class:`~registry_upload.errors.InvalidMetadataError`.  Small archives (the
common case) are read whole and, when laid out the plain way, checked in one
pass over memory; anything else -- including everything the checks refuse --
goes through zipfile/tarfile and the full checks, which name every problem.  Digests come from
:meth:`Distribution.digests` (one streaming read), or from the transport while
it sends the file, so an upload reads the file once.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import packaging.metadata
from packaging.metadata import ExceptionGroup, Metadata, RawMetadata, parse_email
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from . import _archives
from ._hashing import Digests, hash_file
from .errors import (
    DistributionError,
    InvalidDistributionError,
    InvalidMetadataError,
    UnsupportedDistributionError,
)
from .results import Finding, Severity

__all__ = [
    "ATTESTATION_SIZE_LIMIT",
    "DISTRIBUTION_SUFFIXES",
    "METADATA_SIZE_LIMIT",
    "Digests",
    "Distribution",
    "FileType",
]

logger = logging.getLogger(__name__)

#: Core metadata larger than this is refused without being read.
METADATA_SIZE_LIMIT = 10 * 1024 * 1024
#: A PEP 740 attestation (a Sigstore bundle: certificate, transparency-log entry,
#: DSSE envelope) is a few KiB; anything over 1 MiB is not one, and is refused
#: without being read.
ATTESTATION_SIZE_LIMIT = 1 << 20
#: The filename endings of the distributions the inspector accepts.
DISTRIBUTION_SUFFIXES = (".whl", ".tar.gz", ".zip")

FileType = Literal["bdist_wheel", "sdist"]

_ACCEPTED = "a wheel (.whl) or an sdist (.tar.gz, or a legacy .zip)"
_REBUILD = "Rebuild the distribution with your build backend (python -m build) and try again."

# RawMetadata keys sent under another form-field name.
_FORM_NAME = {
    "platforms": "platform",
    "supported_platforms": "supported_platform",
    "license_files": "license_file",
    "import_names": "import_name",
    "import_namespaces": "import_namespace",
}
# Fields only sent when the metadata declares at least this version.
_MIN_METADATA_VERSION = {
    "license_expression": Version("2.4"),
    "license_files": Version("2.4"),
    "import_names": Version("2.5"),
    "import_namespaces": Version("2.5"),
}


_METADATA_HINT = (
    "Fix the project metadata (pyproject.toml) and rebuild; "
    "upgrading the build backend fixes most generated-metadata problems."
)


def _problem(path: str, field: str | None, message: str, code: str = "invalid-metadata") -> Finding:
    """An ERROR finding about the core metadata."""
    return Finding(
        code=code,
        severity=Severity.ERROR,
        path=path,
        field=field,
        message=message,
        hint=_METADATA_HINT,
    )


@dataclass(frozen=True, slots=True)
class Distribution:
    """A wheel or sdist on disk with its validated core metadata."""

    path: Path
    filename: str
    filetype: FileType
    pyversion: str
    size: int
    metadata: RawMetadata = field(compare=False, repr=False)
    findings: tuple[Finding, ...] = ()
    attestations: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    #: Every member name in the archive (as the archive spells it).
    members: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    # -- construction ------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, attestations: bool = True) -> Distribution:
        """Inspect ``path``; raise a :class:`DistributionError` subclass if unusable.

        Every problem found is in the error's ``problems`` (Findings with
        codes).  Warnings (a non-normalised sdist filename, a local version,
        Metadata-Version 2.0) do not raise; they are in :attr:`findings`.
        ``attestations=False`` leaves ``<file>.*.attestation`` files beside it
        unread.
        """
        p = Path(path)
        shown = str(p)
        kind = _kind_of(p.name)
        if kind is None:
            raise _refuse(
                UnsupportedDistributionError,
                shown,
                "not-a-distribution",
                f"{shown}: not a distribution file; expected {_ACCEPTED}",
                "Pass the files from your dist/ directory, e.g. dist/*.whl dist/*.tar.gz.",
            )
        size = _stat_regular_file(p)
        wheel_name = _parse_wheel_name(p) if kind == "bdist_wheel" else None
        with _open_for_reading(p) as fh:
            if wheel_name is not None:
                read = _read_wheel(p, fh, size, wheel_name)
                pyversion = p.name[: -len(".whl")].split("-")[-3]
            else:
                read = _read_sdist(p, fh, size)
                pyversion = "source"
        data, where, members, archive_warnings = read
        raw, problems, findings = _parse_metadata(data, where, shown)
        problems.extend(_cross_check(shown, p.name, kind, raw, wheel_name))
        if problems:
            raise InvalidMetadataError(
                f"{shown}: {len(problems)} problem(s) in {where}",
                problems=problems,
                hint=_METADATA_HINT,
                path=shown,
            )
        findings.extend(_warnings(p, kind, raw))
        findings.extend(archive_warnings)
        loaded = _read_attestations(p) if attestations else ()
        logger.debug("opened %s (%s, %d bytes)", shown, kind, size)
        return cls(
            path=p,
            filename=p.name,
            filetype=kind,
            pyversion=pyversion,
            size=size,
            metadata=raw,
            findings=tuple(findings),
            attestations=loaded,
            members=members,
        )

    # -- properties --------------------------------------------------------

    @property
    def name(self) -> str:
        return self.metadata["name"]

    @property
    def version(self) -> str:
        return self.metadata["version"]

    @property
    def metadata_version(self) -> str:
        return self.metadata["metadata_version"]

    @property
    def project(self) -> str:
        """The normalised project name (PEP 503), as indexes key it."""
        return canonicalize_name(self.name)

    def read_member(self, name: str) -> bytes | None:
        """A wheel member's bytes (at most METADATA_SIZE_LIMIT), None if absent or larger.

        The archive was checked when it was opened; this reads it again.
        """
        if self.filetype != "bdist_wheel" or name not in self.members:
            return None
        try:
            with zipfile.ZipFile(self.path) as zf:
                info = zf.getinfo(name)
                if info.file_size > METADATA_SIZE_LIMIT:
                    return None
                with zf.open(info) as fh:
                    data = fh.read(METADATA_SIZE_LIMIT + 1)
        except (KeyError, *_ARCHIVE_ERRORS):
            return None
        return data if len(data) <= METADATA_SIZE_LIMIT else None

    # -- digests and form --------------------------------------------------

    def digests(self, *, blake2: bool = True, md5: bool = False) -> Digests:
        """sha256 (and blake2b-256, md5 if asked) in one streaming read."""
        try:
            return hash_file(self.path, blake2=blake2, md5=md5)
        except OSError as exc:
            raise unreadable_error(str(self.path), exc) from exc

    def form_fields(
        self, digests: Digests | None = None, *, comment: str | None = None
    ) -> list[tuple[str, str]]:
        """The legacy upload API's form fields, without the file part.

        Digests, when given, come last: the transport computes them while it
        streams the file and appends them after the ``content`` part.
        """
        fields: list[tuple[str, str]] = [(":action", "file_upload"), ("protocol_version", "1")]
        fields.extend(_metadata_form_fields(self.metadata))
        fields.append(("filetype", self.filetype))
        fields.append(("pyversion", self.pyversion))
        if comment is not None:
            fields.append(("comment", comment))
        if self.attestations:
            fields.append(("attestations", json.dumps(list(self.attestations))))
        if digests is not None:
            fields.extend(digests.form_fields())
        return fields


# -- helpers -----------------------------------------------------------------


def _kind_of(filename: str) -> FileType | None:
    if filename.endswith(".whl"):
        return "bdist_wheel"
    if filename.endswith((".tar.gz", ".zip")):
        return "sdist"
    return None


def _refuse(
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


def _refuse_all(p: Path, problems: Sequence[Finding]) -> InvalidDistributionError:
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
    error = _refuse(UnsupportedDistributionError, path, code, f"{path}: {reason}", hint)
    assert isinstance(error, UnsupportedDistributionError)
    return error


def no_distributions_error(paths: object) -> UnsupportedDistributionError:
    """The error for paths that hold no distribution at all (an empty dist/ directory)."""
    if isinstance(paths, str | os.PathLike) or not isinstance(paths, Iterable):
        shown = str(paths)
    else:
        shown = ", ".join(map(str, paths))
    error = _refuse(
        UnsupportedDistributionError,
        shown,
        "no-distributions",
        f"no distributions in {shown}",
        "Build first (python -m build), or pass the dist/ directory the build wrote to.",
    )
    assert isinstance(error, UnsupportedDistributionError)
    return error


def _stat_regular_file(p: Path) -> int:
    shown = str(p)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise _refuse(
            UnsupportedDistributionError,
            shown,
            "no-such-file",
            f"{shown}: no such file",
            "Build first (python -m build) or check the path.",
        ) from None
    except OSError as exc:  # ELOOP for a symlink loop, EACCES on a directory, ...
        raise unreadable_error(shown, exc) from None
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(
            UnsupportedDistributionError,
            shown,
            "not-a-regular-file",
            f"{shown}: is not a regular file; expected {_ACCEPTED}",
            "Pass the distribution files, or their directory (it is expanded).",
        )
    return st.st_size


@contextlib.contextmanager
def _open_for_reading(p: Path) -> Iterator[IO[bytes]]:
    """Open the file; a failure to open is "unreadable", never "damaged"."""
    try:
        fh = open(p, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise unreadable_error(str(p), exc) from None
    with fh:
        yield fh


def _too_large(p: Path, where: str, size: int) -> InvalidDistributionError:
    return _refuse_all(
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
    error = _refuse(InvalidDistributionError, str(p), code, f"{p}: {message}", hint)
    assert isinstance(error, InvalidDistributionError)
    return error


def _corrupt(p: Path, what: str, exc: BaseException) -> InvalidDistributionError:
    return _structure(
        p,
        "corrupt-archive",
        f"corrupt or truncated {what} ({type(exc).__name__}: {exc})",
        "The file is damaged (an interrupted copy or download?). " + _REBUILD,
    )


_ARCHIVE_ERRORS = (
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
    count = _archives.zip_entry_count(fh)
    if count is not None and count > _archives.MAX_MEMBERS:
        raise _refuse_all(
            p,
            [
                Finding(
                    code="too-many-members",
                    severity=Severity.ERROR,
                    path=str(p),
                    message=f"the archive declares {count} members, over the "
                    f"{_archives.MAX_MEMBERS} limit; refusing to read it",
                    hint="Check what the build included. " + _REBUILD,
                )
            ],
        )
    with zipfile.ZipFile(fh) as zf:
        problems = _archives.zip_problems(str(p), fh, zf, size)
        if problems:
            raise _refuse_all(p, problems)
        yield zf


# Zips up to this size are read whole and, when plain, checked in one pass over memory.
_IN_MEMORY = 4 << 20

_WheelName = tuple[NormalizedName, Version, Any, frozenset[Tag]]
# What reading an archive gives: the core metadata's bytes, its member name,
# every member name, and warnings about the archive.
_Read = tuple[bytes, str, frozenset[str], tuple[Finding, ...]]


def _parse_wheel_name(p: Path) -> _WheelName:
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


def _plain_zip(fh: IO[bytes], size: int) -> _archives.PlainZip | None:
    """The archive read whole when it is small and plain (the fast path), else None."""
    if size > _IN_MEMORY:
        return None
    data = fh.read(size + 1)
    plain = _archives.plain_zip(data) if len(data) == size else None
    if plain is None:
        fh.seek(0)
    return plain


def _read_wheel(p: Path, fh: IO[bytes], size: int, parsed: _WheelName) -> _Read:
    name, version = parsed[0], parsed[1]
    try:
        plain = _plain_zip(fh, size)
        if plain is not None:
            member = _wheel_metadata_member(p, plain.names, plain, name, version)
            data = _read_plain_member(p, plain, member)
            if data is not None:
                return data, member, frozenset(plain.names), ()
            fh.seek(0)  # the member did not check out: the full reader says why
        with _zip_archive(p, fh, size) as zf:
            names = zf.namelist()
            member = _wheel_metadata_member(p, names, zf.NameToInfo, name, version)
            data = _read_zip_member(p, zf, member)
    except InvalidDistributionError:
        raise
    except _ARCHIVE_ERRORS as exc:
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
    if canonicalize_name(di_name) != name or not _same_version(di_version, version):
        raise _structure(
            p,
            "dist-info-mismatch",
            f"its {dist_info} does not match the filename ({name} {version})",
        )
    member = f"{dist_info}/METADATA"
    if member not in members:
        raise _structure(p, "no-metadata", f"{member} is missing")
    return member


def _read_plain_member(p: Path, plain: _archives.PlainZip, member: str) -> bytes | None:
    """The member's bytes (None: they do not check out, the full reader decides)."""
    size = plain.file_size(member)
    if size > METADATA_SIZE_LIMIT:
        raise _too_large(p, member, size)
    return plain.read(member)


def _read_zip_member(p: Path, zf: zipfile.ZipFile, member: str) -> bytes:
    info = zf.getinfo(member)
    if info.file_size > METADATA_SIZE_LIMIT:
        raise _too_large(p, member, info.file_size)
    with zf.open(info) as fh:
        data = fh.read(METADATA_SIZE_LIMIT + 1)
    if len(data) > METADATA_SIZE_LIMIT:
        raise _too_large(p, member, len(data))
    return data


def _same_version(a: str, b: str | Version) -> bool:
    try:
        return Version(a) == (b if isinstance(b, Version) else Version(b))
    except InvalidVersion:
        return a == str(b)


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


def _read_sdist(p: Path, fh: IO[bytes], size: int) -> _Read:
    zipped = p.name.endswith(".zip")
    try:
        if zipped:
            return _read_zip_sdist(p, fh, size)
        return _read_tar_sdist(p, fh)
    except InvalidDistributionError:
        raise
    except _archives.ArchiveRefused as refused:
        raise _refuse_all(p, [refused.finding]) from None
    except _ARCHIVE_ERRORS as exc:
        what = "sdist (zip archive)" if zipped else "sdist (gzip/tar archive)"
        raise _corrupt(p, what, exc) from None


def _read_zip_sdist(p: Path, fh: IO[bytes], size: int) -> _Read:
    plain = _plain_zip(fh, size)
    if plain is not None:
        member = _zip_sdist_member(p, plain.names)
        data = _read_plain_member(p, plain, member)
        if data is not None:
            return data, member, frozenset(plain.names), ()
        fh.seek(0)  # the member did not check out: the full reader says why
    with _zip_archive(p, fh, size) as zf:
        names = zf.namelist()
        member = _zip_sdist_member(p, names)
        return _read_zip_member(p, zf, member), member, frozenset(names), ()


def _zip_sdist_member(p: Path, names: list[str]) -> str:
    tops = {top for n in names if (top := _archives.top_directory(n))}
    if len(tops) > 1:
        raise _refuse_all(p, [_archives.many_tops(str(p), tops)])
    return _pick_pkg_info(p, [n for n in names if _is_top_pkg_info(n)])


def _read_tar_sdist(p: Path, fh: IO[bytes]) -> _Read:
    problems = _zip_polyglot(p, fh)
    fh.seek(0)
    scan = _archives.scan_tar(str(p), fh, read_limit=METADATA_SIZE_LIMIT)
    problems.extend(scan.problems)
    if problems:
        raise _refuse_all(p, problems)
    member = _pick_pkg_info(p, sorted(scan.pkg_infos))
    is_file, size, data = scan.pkg_infos[member]
    if not is_file:
        raise _structure(p, "pkg-info-not-a-file", f"{member} is not a regular file")
    if size > METADATA_SIZE_LIMIT or len(data) > METADATA_SIZE_LIMIT:
        raise _too_large(p, member, max(size, len(data)))
    return data, member, frozenset(scan.names), tuple(scan.warnings)


def _zip_polyglot(p: Path, fh: IO[bytes]) -> list[Finding]:
    """A .tar.gz whose tail also reads as a zip archive (cheap: reads the tail)."""
    count = _archives.zip_entry_count(fh)
    if not count or count > _archives.MAX_MEMBERS:
        return []
    try:
        with zipfile.ZipFile(fh) as zf:
            if not zf.infolist():
                return []
    except _ARCHIVE_ERRORS:
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


def _parse_metadata(
    data: bytes, where: str, path: str
) -> tuple[RawMetadata, list[Finding], list[Finding]]:
    """The raw metadata, its problems (ERROR findings) and its warnings."""
    problems: list[Finding] = []
    warnings: list[Finding] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            _problem(
                path,
                None,
                f"{where} is not valid UTF-8 (byte {exc.start}, line {line})",
                code="metadata-not-utf8",
            )
        )
        return RawMetadata(), problems, warnings
    raw, unparsed = _parse_email_plain(text) or parse_email(text)
    mv = raw.get("metadata_version")
    if mv is None:
        problems.append(
            _problem(
                path,
                "metadata-version",
                f"{where} has no Metadata-Version field",
                code="missing-metadata-version",
            )
        )
    elif not _version_at_least(mv, "2.4"):
        # setuptools writes License-File under 2.1; like twine, drop it rather than fail.
        raw.pop("license_files", None)
        unparsed.pop("license-file", None)
    problems.extend(
        _problem(path, key, f"unrecognised or malformed field {key!r}", code="unparsed-field")
        for key in sorted(unparsed)
    )
    to_validate = raw
    if mv == "2.0":
        warnings.append(_metadata_20_warning(path))
        # packaging refuses 2.0 itself; what bdist_wheel labelled 2.0 is 2.1 without
        # Description-Content-Type, so the other fields are checked by 2.1's rules.
        to_validate = RawMetadata(**{**raw, "metadata_version": "2.1"})
    problems.extend(_validation_problems(to_validate, path))
    return raw, problems, warnings


# packaging's own tables, so the fast parser maps fields exactly as parse_email does.
_EMAIL_TO_RAW: dict[str, str] | None = getattr(packaging.metadata, "_EMAIL_TO_RAW_MAPPING", None)
_STRING_FIELDS: set[str] | None = getattr(packaging.metadata, "_STRING_FIELDS", None)
_LIST_FIELDS: set[str] | None = getattr(packaging.metadata, "_LIST_FIELDS", None)
_parse_keywords: Any = getattr(packaging.metadata, "_parse_keywords", None)
_parse_project_urls: Any = getattr(packaging.metadata, "_parse_project_urls", None)
# Fields whose parsing has special cases: the body can hold the description; an
# empty Import-Name means "none" (packaging >= 26).
_NOT_PLAIN_FIELDS = frozenset({"description"})
_EMPTY_MEANS_NONE = frozenset({"import_names", "import_namespaces"})
# Line boundaries other than "\n" that some email parsers honour (str.splitlines').
_ODD_BREAK = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# A header line as email.feedparser reads it: printable ASCII name, a colon.
_HEADER = re.compile(r"([!-9;-~]+):(.*)", re.DOTALL)


def _parse_email_plain(text: str) -> tuple[RawMetadata, dict[str, list[str]]] | None:
    """``parse_email(text)`` for plain metadata, quickly; None for anything else.

    Plain: "Name: value" lines (continuation lines allowed) up to the first
    blank line, the body after it, no line boundary but "\n" in the headers,
    and only fields packaging maps without special cases, each used as the
    specification allows.  The values are built exactly as the email parser
    (compat32 policy) and packaging build them; anything else -- including
    all that parse_email would leave unparsed -- returns None, and
    parse_email itself answers.
    """
    if _EMAIL_TO_RAW is None or _STRING_FIELDS is None or _LIST_FIELDS is None:
        return None  # pragma: no cover - another packaging than the tested ones
    head, blank, body = text.partition("\n\n")
    if not blank and head.endswith("\n"):
        head = head[:-1]
    lines = head.split("\n")
    if "" in lines or _ODD_BREAK.search(head):
        return None
    headers = _plain_headers(lines)
    if headers is None:
        return None
    raw: dict[str, Any] = {}
    for name, values in headers.items():
        key = _EMAIL_TO_RAW.get(name)
        if key is None or key in _NOT_PLAIN_FIELDS or (key in _EMPTY_MEANS_NONE and "" in values):
            return None
        if key in _STRING_FIELDS and len(values) == 1:
            raw[key] = values[0]
        elif key in _LIST_FIELDS:
            raw[key] = values
        elif key == "keywords" and len(values) == 1 and _parse_keywords is not None:
            raw[key] = _parse_keywords(values[0])
        elif key == "project_urls" and _parse_project_urls is not None:
            try:
                raw[key] = _parse_project_urls(values)
            except KeyError:
                return None
        else:
            return None
    if body:
        raw["description"] = body
    return RawMetadata(**raw), {}  # type: ignore[typeddict-item]


def _plain_headers(lines: list[str]) -> dict[str, list[str]] | None:
    """Header values by lower-cased name, in order; None at the first line that is not plain."""
    headers: dict[str, list[str]] = {}
    name, first, more = "", "", []  # the header being read
    for line in [*lines, ""]:
        if line[:1] in (" ", "\t"):
            if not name:
                return None
            more.append(line)
            continue
        if name:
            # email's compat32 policy: strip blanks after the colon, keep continuation
            # lines with their line ends, strip the final line end.
            value = (first + "\n").lstrip(" \t") + "".join(m + "\n" for m in more)
            headers.setdefault(name, []).append(value.rstrip("\r\n"))
        if not line:
            break
        match = _HEADER.fullmatch(line)
        if match is None:
            return None
        name, first, more = match.group(1).lower(), match.group(2), []
    return headers


def _metadata_20_warning(path: str) -> Finding:
    return Finding(
        code="metadata-version-2.0",
        severity=Severity.WARNING,
        path=path,
        field="metadata-version",
        message="Metadata-Version 2.0 was never a published standard; PyPI and TestPyPI "
        "refuse it, other registries (pypiserver, devpi, ...) accept it",
        hint="Upgrade the build backend (setuptools/wheel) and rebuild: current backends "
        "write Metadata-Version 2.1 or later.",
    )


def _validation_problems(raw: RawMetadata, path: str) -> list[Finding]:
    try:
        Metadata.from_raw(raw)
    except ExceptionGroup as group:
        return [
            _problem(path, getattr(invalid, "field", None), str(invalid))
            for invalid in group.exceptions
        ]
    return []


@functools.lru_cache(maxsize=64)
def _version_at_least(value: str, minimum: str) -> bool:
    try:
        return Version(value) >= Version(minimum)
    except InvalidVersion:
        return False


def _cross_check(
    path: str,
    filename: str,
    kind: FileType,
    raw: RawMetadata,
    wheel_name: _WheelName | None = None,
) -> list[Finding]:
    """Filename name/version against the metadata (after normalisation)."""
    meta_name, meta_version = raw.get("name"), raw.get("version")
    if meta_name is None or meta_version is None:
        return []
    try:
        if wheel_name is not None:
            fn_name, fn_version = wheel_name[0], wheel_name[1]
        elif kind == "bdist_wheel":
            fn_name, fn_version, *_ = parse_wheel_filename(filename)
        else:
            fn_name, fn_version = parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidWheelFilename, InvalidVersion):
        # An unparsable sdist filename is reported below as a filename problem.
        base = filename.rsplit(".tar.gz", 1)[0].rsplit(".zip", 1)[0]
        fn_raw_name, _, fn_raw_version = base.rpartition("-")
        if canonicalize_name(fn_raw_name or base) != canonicalize_name(meta_name):
            return [
                _problem(
                    path,
                    "name",
                    f"filename {filename!r} does not start with the project name {meta_name!r}",
                    code="name-mismatch",
                )
            ]
        return [
            _problem(
                path,
                "version",
                f"filename {filename!r} has an unparsable version {fn_raw_version!r}",
                code="version-mismatch",
            )
        ]
    problems = []
    if fn_name != canonicalize_name(meta_name):
        problems.append(
            _problem(
                path,
                "name",
                f"filename says {fn_name!r} but the metadata says {meta_name!r}",
                code="name-mismatch",
            )
        )
    if not _same_version(meta_version, fn_version):
        problems.append(
            _problem(
                path,
                "version",
                f"filename says {fn_version} but the metadata says {meta_version}",
                code="version-mismatch",
            )
        )
    return problems


def _warnings(p: Path, kind: FileType, raw: RawMetadata) -> list[Finding]:
    shown = str(p)
    found: list[Finding] = []
    name, version = raw["name"], raw["version"]
    if kind == "sdist":
        expected = (
            f"{canonicalize_name(name).replace('-', '_')}-"
            f"{canonicalize_version(version, strip_trailing_zero=False)}.tar.gz"
        )
        if p.name != expected:
            found.append(
                Finding(
                    code="sdist-filename-not-normalized",
                    severity=Severity.WARNING,
                    path=shown,
                    field="name",
                    message=f"sdist filename {p.name!r} is not the PEP 625 form {expected!r}",
                    hint='PyPI now refuses such uploads (400 "Filename ... is invalid, should '
                    'be ..."; it sent deprecation e-mails before enforcing PEP 625); other '
                    "registries accept them. Upgrade the build backend and rebuild.",
                )
            )
    if Version(version).local is not None:
        found.append(
            Finding(
                code="local-version",
                severity=Severity.WARNING,
                path=shown,
                field="version",
                message=f"version {version} has a local label (+{Version(version).local})",
                hint="PyPI and TestPyPI reject local versions; drop the +label for a public index.",
            )
        )
    return found


def _read_attestations(p: Path) -> tuple[Any, ...]:
    """PEP 740 attestations from ``<file>.*.attestation`` beside the file."""
    prefix = p.name + "."
    found = sorted(p.parent / n for n in _attestations_in(str(p.parent)) if n.startswith(prefix))
    return tuple(_read_attestation(p, att) for att in found)


def _read_attestation(p: Path, att: Path) -> Any:
    """One attestation: a regular file, at most ATTESTATION_SIZE_LIMIT, a JSON object."""
    try:
        data = _read_capped_regular_file(att, ATTESTATION_SIZE_LIMIT)
        value = json.loads(data.decode("utf-8"))
        if not isinstance(value, dict):
            raise ValueError(f"a JSON {type(value).__name__}, not an object")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _refuse(
            InvalidDistributionError,
            str(p),
            "invalid-attestation",
            f"{att}: not a usable attestation ({exc})",
            "Regenerate the attestation, remove it, or leave attestations out "
            "(attestations=False, --no-attestations).",
        ) from None
    return value


def _read_capped_regular_file(path: Path, limit: int) -> bytes:
    """Read a regular file of at most ``limit`` bytes; never blocks on a FIFO or a device."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb", buffering=0) as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        if st.st_size > limit:
            raise ValueError(f"{st.st_size} bytes, over the {limit}-byte limit")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"over the {limit}-byte limit")
    return data


def _attestations_in(directory: str) -> tuple[str, ...]:
    """Attestation files in a directory, listed once per directory state."""
    try:
        mtime = os.stat(directory).st_mtime_ns
    except OSError:
        return ()
    return _attestation_listing(directory, mtime)


@functools.lru_cache(maxsize=64)
def _attestation_listing(directory: str, mtime_ns: int) -> tuple[str, ...]:
    # Keyed on the directory's mtime: adding or removing a file invalidates it.
    try:
        return tuple(n for n in os.listdir(directory) if n.endswith(".attestation"))
    except OSError:
        return ()


def _metadata_form_fields(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    mv = str(raw.get("metadata_version", "1.0"))
    fields: list[tuple[str, str]] = []
    for key, value in raw.items():
        minimum = _MIN_METADATA_VERSION.get(key)
        if minimum is not None and not _version_at_least(mv, str(minimum)):
            continue
        form_key = _FORM_NAME.get(key, key)
        if key == "name":
            fields.append((form_key, _safe_name(value)))
        elif key == "keywords":
            fields.append((form_key, ", ".join(value)))
        elif key == "project_urls":
            fields.extend((form_key, f"{label}, {url}") for label, url in value.items())
        elif isinstance(value, list):
            fields.extend((form_key, str(item)) for item in value)
        else:
            fields.append((form_key, str(value)))
    if "requires_python" not in raw:
        fields.append(("requires_python", ""))  # GitLab requires the field to be present
    return fields


_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9.]+")


def _safe_name(name: str) -> str:
    """Runs of characters other than letters, digits and '.' become '-' (as twine sends)."""
    return _UNSAFE_RUN.sub("-", name)
