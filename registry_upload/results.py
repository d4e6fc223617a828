"""Frozen, typed results: check findings, per-file upload results, batch reports.

Every result serialises to plain JSON-ready data with ``to_dict()``; none of
them ever holds a secret.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import RegistryUploadError, UploadFailedError

__all__ = [
    "CheckReport",
    "EventKind",
    "FileResult",
    "FileStatus",
    "Finding",
    "ProgressEvent",
    "Severity",
    "UploadReport",
]


class Severity(str, enum.Enum):
    """How bad a finding is: errors stop an upload, warnings do not."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing ``check()`` found about one file."""

    code: str
    severity: Severity
    path: str
    message: str
    field: str | None = None
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": self.path,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        text = f"{self.severity.value.upper()} {self.code}{where}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The findings for a set of files; ``ok`` when none is an error."""

    paths: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "failed"
        return (
            f"check {verdict}: {len(self.paths)} file(s), {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s)"
        )

    def for_path(self, path: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.path == path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "paths": list(self.paths),
            "findings": [f.to_dict() for f in self.findings],
        }


class FileStatus(str, enum.Enum):
    """What became of one file.

    ``NOT_STARTED``: the batch stopped (Ctrl-C, an unreachable registry)
    before this file was sent.  ``INTERRUPTED``: the file was being sent when
    the batch was interrupted; whether the registry kept it is unknown.
    ``UNCONFIRMED``: the whole file went out but no clean answer came back (a
    broken connection, a gateway error, a success before the body ended), and
    the index could not tell within the wait whether the registry kept it; it
    was not sent again, so it is stored at most once.  Not ok: check the
    project's files, or re-run with skip-existing.
    """

    UPLOADED = "uploaded"
    SKIPPED = "skipped"
    FAILED = "failed"
    DRY_RUN = "dry-run"
    NOT_STARTED = "not-started"
    INTERRUPTED = "interrupted"
    UNCONFIRMED = "unconfirmed"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"FileStatus.{self.name}"

    @property
    def ok(self) -> bool:
        return self in _OK_STATUSES


_OK_STATUSES = frozenset({FileStatus.UPLOADED, FileStatus.SKIPPED, FileStatus.DRY_RUN})


@dataclass(frozen=True, slots=True)
class FileResult:
    """The outcome of one file's upload.

    ``verified`` is true when the file's presence on the registry was
    confirmed from the index (after an ambiguous attempt, or for a skip).
    ``response_time`` is how long the registry took to answer the last
    attempt once its body was sent (its processing time plus one round trip).
    """

    path: str
    filename: str
    status: FileStatus
    url: str
    registry: str
    http_status: int | None = None
    bytes_sent: int = 0
    attempts: int = 0
    elapsed: float = 0.0
    response_time: float | None = None
    sha256: str | None = None
    verified: bool = False
    reason: str | None = None
    error: RegistryUploadError | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.status.ok

    @property
    def hint(self) -> str | None:
        return self.error.hint if self.error is not None else None

    def __str__(self) -> str:
        detail = f"HTTP {self.http_status}, " if self.http_status else ""
        line = f"{self.status}: {self.filename} ({detail}{self.attempts} attempt(s))"
        if self.error is not None:
            line += f": {self.error.message}"
        elif self.reason:
            line += f": {self.reason}"
        return line

    def __repr__(self) -> str:
        fields = [f"{self.filename!r}", f"status={self.status!r}"]
        if self.http_status is not None:
            fields.append(f"http_status={self.http_status}")
        fields.append(f"attempts={self.attempts}")
        if self.verified:
            fields.append("verified=True")
        if self.error is not None:
            fields.append(f"error={self.error!r}")
        return f"FileResult({', '.join(fields)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "filename": self.filename,
            "status": self.status.value,
            "url": self.url,
            "registry": self.registry,
            "http_status": self.http_status,
            "bytes_sent": self.bytes_sent,
            "attempts": self.attempts,
            "elapsed": round(self.elapsed, 6),
            "response_time": (
                round(self.response_time, 6) if self.response_time is not None else None
            ),
            "sha256": self.sha256,
            "verified": self.verified,
            "reason": self.reason,
            "error": self.error.to_dict() if self.error is not None else None,
        }


@dataclass(frozen=True, slots=True)
class UploadReport:
    """The outcome of a batch, in the order the files were given."""

    repository_url: str
    registry: str
    results: tuple[FileResult, ...]
    credential_source: str | None = None
    elapsed: float = 0.0
    #: The batch was stopped by Ctrl-C: some files are ``not-started`` or ``interrupted``.
    interrupted: bool = False
    #: ``(path, reason)`` for each file set aside before the upload (a ``.asc``
    #: signature skipped, an attestation attached to its distribution).
    notes: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in self.counts().items() if n)
        return f"{self.registry} {self.repository_url}: {counts or 'no files'}"

    def __repr__(self) -> str:
        return (
            f"UploadReport({self.repository_url!r}, registry={self.registry!r}, "
            f"ok={self.ok}, {len(self.results)} file(s))"
        )

    def counts(self) -> dict[str, int]:
        """How many files ended in each status, every status listed."""
        return {status.value: self._count(status) for status in FileStatus}

    def __iter__(self) -> Iterator[FileResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def _count(self, status: FileStatus) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def uploaded(self) -> int:
        return self._count(FileStatus.UPLOADED)

    @property
    def skipped(self) -> int:
        return self._count(FileStatus.SKIPPED)

    @property
    def failed(self) -> int:
        return self._count(FileStatus.FAILED)

    @property
    def unconfirmed(self) -> int:
        """Files whose outcome the registry never told and the index could not confirm."""
        return self._count(FileStatus.UNCONFIRMED)

    @property
    def failures(self) -> tuple[FileResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    def raise_for_failures(self) -> None:
        """Raise :class:`UploadFailedError` if any file failed."""
        failures = self.failures
        if not failures:
            return
        first = failures[0]
        names = ", ".join(r.filename for r in failures)
        error = first.error
        raise UploadFailedError(
            f"{len(failures)} of {len(self.results)} file(s) failed to upload: {names}",
            report=self,
            hint=first.hint,
            status=first.http_status,
            url=self.repository_url,
            registry=self.registry,
            server_message=getattr(error, "server_message", None),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "repository_url": self.repository_url,
            "registry": self.registry,
            "credential_source": self.credential_source,
            "elapsed": round(self.elapsed, 6),
            "interrupted": self.interrupted,
            "notes": [{"path": path, "reason": reason} for path, reason in self.notes],
            "counts": {**self.counts(), "total": len(self.results)},
            "results": [r.to_dict() for r in self.results],
        }


EventKind = Literal["started", "progress", "retrying", "finished"]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Reported to ``on_event`` (from worker threads) as files move along.

    ``bytes_sent`` and ``total_bytes`` count the file's bytes (its size is
    the total in every event of that file); ``result`` comes with ``finished``.
    """

    kind: EventKind
    filename: str
    bytes_sent: int = 0
    total_bytes: int = 0
    attempt: int = 1
    result: FileResult | None = None
