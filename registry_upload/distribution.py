"""A wheel or sdist on disk: its validated core metadata and its upload form.

:meth:`Distribution.open` inspects the file (``registry_upload.inspect``:
bounded archive walks, core metadata, attestations), never touches the
network, and reports *every* problem at once in a typed error.  Digests come
from :meth:`Distribution.digests` (one streaming read), or from the transport
while it sends the file, so an upload reads the file once.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.metadata import RawMetadata
from packaging.utils import canonicalize_name
from packaging.version import Version

from ._hashing import Digests, hash_file
from .inspect import (
    ARCHIVE_ERRORS,
    ATTESTATION_SIZE_LIMIT,
    DISTRIBUTION_SUFFIXES,
    METADATA_SIZE_LIMIT,
    FileType,
    inspect_file,
    no_distributions_error,
    unreadable_error,
)
from .inspect._metadata import version_at_least
from .results import Finding

__all__ = [
    "ATTESTATION_SIZE_LIMIT",
    "DISTRIBUTION_SUFFIXES",
    "METADATA_SIZE_LIMIT",
    "Digests",
    "Distribution",
    "FileType",
    "Fingerprint",
    "fingerprint_of",
    "no_distributions_error",
    "unreadable_error",
]

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What identifies a file's content on disk without reading it: the bytes sent
    must be the bytes inspected."""

    size: int
    mtime_ns: int
    inode: int
    device: int


def fingerprint_of(path: str | os.PathLike[str]) -> Fingerprint | None:
    """The file's fingerprint now; ``None`` if it cannot be looked at."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return Fingerprint(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


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
    #: The core metadata file's bytes (METADATA or PKG-INFO), as inspected.
    core_metadata: bytes = field(default=b"", compare=False, repr=False)
    #: The file on disk when it was inspected (a later change fails its upload).
    fingerprint: Fingerprint | None = field(default=None, compare=False, repr=False)

    # -- construction ------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, attestations: bool = True) -> Distribution:
        """Inspect ``path``; raise a :class:`DistributionError` subclass if unusable.

        Every problem found is in the error's ``problems`` (Findings with
        codes).  Warnings (a non-normalised sdist filename, a local version,
        Metadata-Version 2.0, a sparse tar member) do not raise; they are in
        :attr:`findings`, for the registries that refuse them
        (``registry_upload.checks.judge``).
        ``attestations=False`` leaves ``<file>.*.attestation`` files beside it
        unread.
        """
        fingerprint = fingerprint_of(path)
        found = inspect_file(path, attestations=attestations)
        return cls(
            path=found.path,
            filename=found.path.name,
            filetype=found.filetype,
            pyversion=found.pyversion,
            size=found.size,
            metadata=found.metadata,
            findings=found.findings,
            attestations=found.attestations,
            members=found.members,
            core_metadata=found.core_metadata,
            fingerprint=fingerprint,
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
        except (KeyError, *ARCHIVE_ERRORS):
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


# -- the upload form -------------------------------------------------------------


def _metadata_form_fields(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    mv = str(raw.get("metadata_version", "1.0"))
    fields: list[tuple[str, str]] = []
    for key, value in raw.items():
        minimum = _MIN_METADATA_VERSION.get(key)
        if minimum is not None and not version_at_least(mv, str(minimum)):
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
