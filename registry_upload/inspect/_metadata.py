"""Core metadata (private): parsed, validated, checked against the filename.

Every problem is an ERROR finding with a code and field; warnings (a
non-PEP 625 sdist name, a local version, Metadata-Version 2.0) are kept
apart, for the registries that refuse them.
"""

from __future__ import annotations

import functools
from pathlib import Path

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

from ..results import Finding, Severity
from ._common import FileType, WheelName

__all__ = [
    "METADATA_HINT",
    "cross_check",
    "metadata_warnings",
    "parse_metadata",
    "same_version",
    "version_at_least",
]

METADATA_HINT = (
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
        hint=METADATA_HINT,
    )


def parse_metadata(
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
    raw, unparsed = parse_email(text)
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
    elif not version_at_least(mv, "2.4"):
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
def version_at_least(value: str, minimum: str) -> bool:
    try:
        return Version(value) >= Version(minimum)
    except InvalidVersion:
        return False


def cross_check(
    path: str,
    filename: str,
    kind: FileType,
    raw: RawMetadata,
    wheel_name: WheelName | None = None,
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
    if not same_version(meta_version, fn_version):
        problems.append(
            _problem(
                path,
                "version",
                f"filename says {fn_version} but the metadata says {meta_version}",
                code="version-mismatch",
            )
        )
    return problems


def metadata_warnings(p: Path, kind: FileType, raw: RawMetadata) -> list[Finding]:
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


def same_version(a: str, b: str | Version) -> bool:
    try:
        return Version(a) == (b if isinstance(b, Version) else Version(b))
    except InvalidVersion:
        return a == str(b)
