"""The inspector: a wheel or sdist on disk, read once and checked, without the network.

:func:`inspect_file` reads only what it needs -- a wheel's central directory
and ``METADATA``, an sdist's tar headers and ``PKG-INFO`` -- through bounded
walks that refuse hostile archives, and reports *every* metadata problem at
once in an :class:`~registry_upload.errors.InvalidMetadataError`.  Its parts:

- ``_read``: the file and its archive, to the core metadata's bytes and the
  member names; every failure a typed error naming the file and the fix;
- ``_zip``: zip framing, as PyPI checks it;
- ``_tar``: the sdist's tar walk (extension headers bounded, links resolved);
- ``_metadata``: core metadata parsed, validated, checked against the filename;
- ``_attestations``: PEP 740 attestation files beside the distribution;
- ``_common``: the bounds, findings and name rules they share.

:class:`registry_upload.distribution.Distribution` is the public face.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from packaging.metadata import RawMetadata

from ..errors import InvalidMetadataError, UnsupportedDistributionError
from ..results import Finding
from ._attestations import (
    ATTESTATION_SIZE_LIMIT,
    attestations_in,
    read_attestation,
    read_attestations,
)
from ._common import (
    BOMB_MIN_SIZE,
    BOMB_RATIO,
    EXTENSION_HEADER_LIMIT,
    MAX_MEMBERS,
    MAX_UNPACKED,
    METADATA_SIZE_LIMIT,
    FileType,
    LinkTree,
    top_directory,
)
from ._metadata import METADATA_HINT, cross_check, metadata_warnings, parse_metadata
from ._read import (
    ACCEPTED,
    ARCHIVE_ERRORS,
    DISTRIBUTION_SUFFIXES,
    kind_of,
    no_distributions_error,
    open_for_reading,
    parse_wheel_name,
    read_sdist,
    read_wheel,
    refuse,
    stat_regular_file,
    unreadable_error,
)

__all__ = [
    "ARCHIVE_ERRORS",
    "ATTESTATION_SIZE_LIMIT",
    "BOMB_MIN_SIZE",
    "BOMB_RATIO",
    "DISTRIBUTION_SUFFIXES",
    "EXTENSION_HEADER_LIMIT",
    "MAX_MEMBERS",
    "MAX_UNPACKED",
    "METADATA_SIZE_LIMIT",
    "FileType",
    "Inspected",
    "LinkTree",
    "attestations_in",
    "inspect_file",
    "no_distributions_error",
    "read_attestation",
    "top_directory",
    "unreadable_error",
]

logger = logging.getLogger(__name__)


class Inspected:
    """What inspecting one file found (the fields of a Distribution)."""

    __slots__ = (
        "attestations",
        "core_metadata",
        "filetype",
        "findings",
        "members",
        "metadata",
        "path",
        "pyversion",
        "size",
    )

    def __init__(
        self,
        *,
        path: Path,
        filetype: FileType,
        pyversion: str,
        size: int,
        metadata: RawMetadata,
        core_metadata: bytes,
        findings: tuple[Finding, ...],
        members: frozenset[str],
        attestations: tuple[Any, ...],
    ) -> None:
        self.path, self.filetype, self.pyversion, self.size = path, filetype, pyversion, size
        self.metadata, self.core_metadata, self.findings = metadata, core_metadata, findings
        self.members, self.attestations = members, attestations


def inspect_file(path: str | os.PathLike[str], *, attestations: bool = True) -> Inspected:
    """Inspect ``path``; raise a DistributionError subclass if it cannot be uploaded.

    Every problem found is in the error's ``problems``; warnings (a
    non-normalised sdist filename, a local version, Metadata-Version 2.0, a
    sparse tar member) are in ``findings``.  ``attestations=False`` leaves
    ``<file>.*.attestation`` files beside it unread.
    """
    p = Path(path)
    shown = str(p)
    kind = kind_of(p.name)
    if kind is None:
        raise refuse(
            UnsupportedDistributionError,
            shown,
            "not-a-distribution",
            f"{shown}: not a distribution file; expected {ACCEPTED}",
            "Pass the files from your dist/ directory, e.g. dist/*.whl dist/*.tar.gz.",
        )
    size = stat_regular_file(p)
    wheel_name = parse_wheel_name(p) if kind == "bdist_wheel" else None
    with open_for_reading(p) as fh:
        if wheel_name is not None:
            data, where, members, archive_warnings = read_wheel(p, fh, size, wheel_name)
            pyversion = p.name[: -len(".whl")].split("-")[-3]
        else:
            data, where, members, archive_warnings = read_sdist(p, fh, size)
            pyversion = "source"
    raw, problems, findings = parse_metadata(data, where, shown)
    problems.extend(cross_check(shown, p.name, kind, raw, wheel_name))
    if problems:
        raise InvalidMetadataError(
            f"{shown}: {len(problems)} problem(s) in {where}",
            problems=problems,
            hint=METADATA_HINT,
            path=shown,
        )
    findings.extend(metadata_warnings(p, kind, raw))
    findings.extend(archive_warnings)
    loaded = read_attestations(p) if attestations else ()
    logger.debug("inspected %s (%s, %d bytes)", shown, kind, size)
    return Inspected(
        path=p,
        filetype=kind,
        pyversion=pyversion,
        size=size,
        metadata=raw,
        core_metadata=data,
        findings=tuple(findings),
        members=members,
        attestations=loaded,
    )
