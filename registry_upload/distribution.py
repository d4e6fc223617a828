"""Open a wheel or sdist, validate its core metadata, and build its upload form.

:meth:`Distribution.open` reads only what it needs (a wheel's central
directory and ``METADATA``; an sdist's tar headers and ``PKG-INFO``), never
touches the network, and reports *every* metadata problem at once in an
:class:`~registry_upload.errors.InvalidMetadataError`.  Digests come from
:meth:`Distribution.digests` (one streaming read), or from the transport while
it sends the file, so an upload reads the file once.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.metadata import ExceptionGroup, Metadata, RawMetadata, parse_email
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ._hashing import Digests, hash_file
from .errors import (
    InvalidDistributionError,
    InvalidMetadataError,
    MetadataProblem,
    UnsupportedDistributionError,
)
from .results import Finding, Severity

__all__ = ["METADATA_SIZE_LIMIT", "Digests", "Distribution", "FileType"]

logger = logging.getLogger(__name__)

#: Core metadata larger than this is refused without being read.
METADATA_SIZE_LIMIT = 10 * 1024 * 1024

FileType = Literal["bdist_wheel", "sdist"]

_ACCEPTED = "a wheel (.whl) or an sdist (.tar.gz, or a legacy .zip)"
_REBUILD = "Rebuild the distribution with your build backend (python -m build) and try again."

# RawMetadata keys sent under another form-field name.
_FORM_NAME = {
    "platforms": "platform",
    "supported_platforms": "supported_platform",
    "license_files": "license_file",
}
# Fields only sent when the metadata declares at least this version.
_MIN_METADATA_VERSION = {
    "license_expression": Version("2.4"),
    "license_files": Version("2.4"),
    "import_names": Version("2.5"),
    "import_namespaces": Version("2.5"),
}


def _problem(field: str | None, message: str, code: str = "invalid-metadata") -> MetadataProblem:
    return MetadataProblem(field=field, message=message, code=code)


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

    # -- construction ------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Distribution:
        """Inspect ``path``; raise a :class:`DistributionError` subclass if unusable.

        Warnings (a non-normalised sdist filename, a local version) do not
        raise; they are in :attr:`findings`.
        """
        p = Path(path)
        shown = str(p)
        kind = _kind_of(p.name)
        if kind is None:
            raise UnsupportedDistributionError(
                f"{shown}: not a distribution file; expected {_ACCEPTED}",
                hint="Pass the files from your dist/ directory, e.g. dist/*.whl dist/*.tar.gz.",
                path=shown,
            )
        size = _stat_regular_file(p)
        if kind == "bdist_wheel":
            data, where, pyversion = _read_wheel(p)
        else:
            data, where = _read_sdist(p)
            pyversion = "source"
        raw, problems = _parse_metadata(data, where)
        problems.extend(_cross_check(p.name, kind, raw))
        if problems:
            raise InvalidMetadataError(
                f"{shown}: {len(problems)} problem(s) in {where}",
                problems=problems,
                hint="Fix the project metadata (pyproject.toml) and rebuild; "
                "upgrading the build backend fixes most generated-metadata problems.",
                path=shown,
            )
        findings = tuple(_warnings(p, kind, raw))
        attestations = _read_attestations(p)
        logger.debug("opened %s (%s, %d bytes)", shown, kind, size)
        return cls(
            path=p,
            filename=p.name,
            filetype=kind,
            pyversion=pyversion,
            size=size,
            metadata=raw,
            findings=findings,
            attestations=attestations,
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

    # -- digests and form --------------------------------------------------

    def digests(self, *, blake2: bool = True, md5: bool = False) -> Digests:
        """sha256 (and blake2b-256, md5 if asked) in one streaming read."""
        try:
            return hash_file(self.path, blake2=blake2, md5=md5)
        except OSError as exc:
            raise InvalidDistributionError(
                f"{self.path}: cannot be read: {exc.strerror or exc}",
                hint="Check that the file still exists and is readable.",
                path=str(self.path),
            ) from exc

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


def _stat_regular_file(p: Path) -> int:
    shown = str(p)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise UnsupportedDistributionError(
            f"{shown}: no such file",
            hint="Build first (python -m build) or check the path.",
            path=shown,
        ) from None
    except OSError as exc:  # ELOOP for a symlink loop, EACCES, ...
        raise UnsupportedDistributionError(
            f"{shown}: cannot be opened: {exc.strerror or exc}",
            hint="Point at the distribution file itself, not a broken or looping link.",
            path=shown,
        ) from None
    if not p.is_file():
        raise UnsupportedDistributionError(
            f"{shown}: is not a regular file; expected {_ACCEPTED}",
            hint="Pass the distribution files, or a directory to the CLI to expand.",
            path=shown,
        )
    return st.st_size


def _too_large(p: Path, where: str, size: int) -> InvalidDistributionError:
    return InvalidDistributionError(
        f"{p}: {where} is {size} bytes, over the {METADATA_SIZE_LIMIT}-byte limit; "
        "refusing to read it",
        hint="Core metadata is a few KiB; a huge one usually means a README embedded by mistake. "
        + _REBUILD,
        path=str(p),
    )


def _corrupt(p: Path, what: str, exc: BaseException) -> InvalidDistributionError:
    return InvalidDistributionError(
        f"{p}: corrupt or truncated {what} ({type(exc).__name__}: {exc})",
        hint="The file is damaged (an interrupted copy or download?). " + _REBUILD,
        path=str(p),
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


def _read_wheel(p: Path) -> tuple[bytes, str, str]:
    try:
        name, version, _build, _tags = parse_wheel_filename(p.name)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise InvalidDistributionError(
            f"{p}: invalid wheel filename: {exc}",
            hint="Wheel filenames are {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl "
            "(PEP 427); rebuild instead of renaming the file.",
            path=str(p),
        ) from None
    pyversion = p.name[: -len(".whl")].split("-")[-3]
    try:
        with zipfile.ZipFile(p) as zf:
            dist_infos = sorted(
                {
                    n.split("/", 1)[0]
                    for n in zf.namelist()
                    if n.count("/") == 1 and n.split("/", 1)[0].endswith(".dist-info")
                }
            )
            if not dist_infos:
                raise InvalidDistributionError(
                    f"{p}: no *.dist-info directory in the wheel",
                    hint=_REBUILD,
                    path=str(p),
                )
            if len(dist_infos) > 1:
                raise InvalidDistributionError(
                    f"{p}: {len(dist_infos)} .dist-info directories ({', '.join(dist_infos)}); "
                    "a wheel has exactly one",
                    hint=_REBUILD,
                    path=str(p),
                )
            dist_info = dist_infos[0]
            di_name, _, di_version = dist_info[: -len(".dist-info")].partition("-")
            if canonicalize_name(di_name) != name or not _same_version(di_version, version):
                raise InvalidDistributionError(
                    f"{p}: its {dist_info} does not match the filename ({name} {version})",
                    hint=_REBUILD,
                    path=str(p),
                )
            member = f"{dist_info}/METADATA"
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise InvalidDistributionError(
                    f"{p}: {member} is missing", hint=_REBUILD, path=str(p)
                ) from None
            if info.file_size > METADATA_SIZE_LIMIT:
                raise _too_large(p, member, info.file_size)
            with zf.open(info) as fh:
                data = fh.read(METADATA_SIZE_LIMIT + 1)
            if len(data) > METADATA_SIZE_LIMIT:
                raise _too_large(p, member, len(data))
    except InvalidDistributionError:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise _corrupt(p, "wheel (zip archive)", exc) from None
    return data, member, pyversion


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
        raise InvalidDistributionError(
            f"{p}: no <name>-<version>/PKG-INFO in the sdist",
            hint="An sdist must hold PKG-INFO in its top directory. " + _REBUILD,
            path=str(p),
        )
    raise InvalidDistributionError(
        f"{p}: several top-level PKG-INFO files ({', '.join(candidates)})",
        hint=_REBUILD,
        path=str(p),
    )


def _is_top_pkg_info(name: str) -> bool:
    parts = name.strip("/").split("/")
    return len(parts) == 2 and parts[1] == "PKG-INFO"


# Sdists up to this size are decompressed in one C call (much faster than
# tarfile's gzip layer) as long as they unpack to at most _SMALL_UNPACKED.
_SMALL_SDIST = 4 << 20
_SMALL_UNPACKED = 64 << 20


def _open_sdist_tar(p: Path) -> tuple[tarfile.TarFile, bool]:
    """The sdist's tar, and whether the whole gzip stream was already verified.

    Small sdists are inflated in one call, which proves the gzip stream is
    complete; larger ones stream through tarfile, and only a walk over every
    header proves they are not truncated.
    """
    if p.stat().st_size <= _SMALL_SDIST:
        raw = p.read_bytes()
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = inflater.decompress(raw, _SMALL_UNPACKED)
        if not inflater.unconsumed_tail:
            if not inflater.eof:
                raise EOFError("compressed file ended before the end-of-stream marker")
            if inflater.unused_data.strip(b"\0"):
                raise OSError("trailing garbage after the gzip stream")
            return tarfile.open(fileobj=io.BytesIO(data), mode="r:"), True
    return tarfile.open(p, mode="r:gz"), False


def _read_sdist(p: Path) -> tuple[bytes, str]:
    try:
        if p.name.endswith(".zip"):
            with zipfile.ZipFile(p) as zf:
                member = _pick_pkg_info(p, [n for n in zf.namelist() if _is_top_pkg_info(n)])
                info = zf.getinfo(member)
                if info.file_size > METADATA_SIZE_LIMIT:
                    raise _too_large(p, member, info.file_size)
                with zf.open(info) as fh:
                    data = fh.read(METADATA_SIZE_LIMIT + 1)
        else:
            tar, verified = _open_sdist_tar(p)
            with tar as tf:
                preferred = f"{_sdist_stem(p)}/PKG-INFO"
                members: dict[str, tarfile.TarInfo] = {}
                for m in tf:
                    if _is_top_pkg_info(m.name):
                        members[m.name.strip("/")] = m
                        if verified and m.name.strip("/") == preferred:
                            break  # the stream is known complete: no need to walk on
                # Unverified streams are walked to the end, which proves them complete.
                member = _pick_pkg_info(p, sorted(members))
                tinfo = members[member]
                if not tinfo.isfile():
                    raise InvalidDistributionError(
                        f"{p}: {member} is not a regular file", hint=_REBUILD, path=str(p)
                    )
                if tinfo.size > METADATA_SIZE_LIMIT:
                    raise _too_large(p, member, tinfo.size)
                extracted = tf.extractfile(tinfo)
                assert extracted is not None  # a regular file always extracts
                with extracted:
                    data = extracted.read(METADATA_SIZE_LIMIT + 1)
        if len(data) > METADATA_SIZE_LIMIT:
            raise _too_large(p, member, len(data))
    except InvalidDistributionError:
        raise
    except _ARCHIVE_ERRORS as exc:
        what = "sdist (zip archive)" if p.name.endswith(".zip") else "sdist (gzip/tar archive)"
        raise _corrupt(p, what, exc) from None
    return data, member


def _parse_metadata(data: bytes, where: str) -> tuple[RawMetadata, list[MetadataProblem]]:
    problems: list[MetadataProblem] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            _problem(
                None,
                f"{where} is not valid UTF-8 (byte {exc.start}, line {line})",
                code="metadata-not-utf8",
            )
        )
        return RawMetadata(), problems
    raw, unparsed = parse_email(text)
    mv = raw.get("metadata_version")
    if mv is None:
        problems.append(_problem("metadata-version", f"{where} has no Metadata-Version field"))
    elif not _version_at_least(mv, "2.4"):
        # setuptools writes License-File under 2.1; like twine, drop it rather than fail.
        raw.pop("license_files", None)
        unparsed.pop("license-file", None)
    problems.extend(
        _problem(key, f"unrecognised or malformed field {key!r}") for key in sorted(unparsed)
    )
    if mv == "2.0":
        problems.append(
            _problem(
                "metadata-version",
                "Metadata-Version 2.0 was never a published standard and registries reject it",
                code="metadata-version-2.0",
            )
        )
    try:
        Metadata.from_raw(raw)
    except ExceptionGroup as group:
        for invalid in group.exceptions:
            fld = getattr(invalid, "field", None)
            if mv == "2.0" and fld == "metadata-version":
                continue  # already explained above
            problems.append(_problem(fld, str(invalid)))
    return raw, problems


def _version_at_least(value: str, minimum: str) -> bool:
    try:
        return Version(value) >= Version(minimum)
    except InvalidVersion:
        return False


def _cross_check(filename: str, kind: FileType, raw: RawMetadata) -> list[MetadataProblem]:
    """Filename name/version against the metadata (after normalisation)."""
    meta_name, meta_version = raw.get("name"), raw.get("version")
    if meta_name is None or meta_version is None:
        return []
    try:
        if kind == "bdist_wheel":
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
                    "name",
                    f"filename {filename!r} does not start with the project name {meta_name!r}",
                    code="name-mismatch",
                )
            ]
        return [
            _problem(
                "version",
                f"filename {filename!r} has an unparsable version {fn_raw_version!r}",
                code="version-mismatch",
            )
        ]
    problems = []
    if fn_name != canonicalize_name(meta_name):
        problems.append(
            _problem(
                "name",
                f"filename says {fn_name!r} but the metadata says {meta_name!r}",
                code="name-mismatch",
            )
        )
    if not _same_version(meta_version, fn_version):
        problems.append(
            _problem(
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
                    hint="PyPI rejects non-normalised sdist names; upgrade the build backend "
                    "and rebuild.",
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
    loaded = []
    for att in found:
        try:
            loaded.append(json.loads(att.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidDistributionError(
                f"{att}: not a readable JSON attestation ({exc})",
                hint="Regenerate the attestation, or remove it to upload without one.",
                path=str(p),
            ) from None
    return tuple(loaded)


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


def _safe_name(name: str) -> str:
    """Runs of characters other than letters, digits and '.' become '-' (as twine sends)."""
    out: list[str] = []
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch == "."):
            out.append(ch)
        elif not out or out[-1] != "-":
            out.append("-")
    return "".join(out)
