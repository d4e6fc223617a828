"""One release, several destinations: publish the same files to each, in order.

A *destination* is where files are published: a registry (an upload URL or a
``.pypirc`` repository name) or a static index on disk (a ``file:`` URL or a
directory path, see :mod:`registry_upload.static_index`)::

    from registry_upload.publish import publish

    report = publish(
        "dist/",
        ["testpypi", "pypi", "file:///srv/simple/"],
        verify=True,                 # wait until each registry's index lists the files
    )
    for dest in report:              # one DestinationReport per destination, in order
        print(dest.name, dest.status, dest.report.counts())
    report.raise_for_failures()      # PublishFailedError if any file failed anywhere

Read top-down, a run is:

1. **preflight**: every file is opened once (nothing is sent if one is
   unusable); every destination is checked: a static index must be writable,
   and a registry's credentials are resolved (a prompt happens now, not
   between destinations); a registry without usable credentials stops the
   run (unless ``allow_anonymous``).  Nothing has been sent yet.
2. **destinations in the order given**: each registry gets its own
   :class:`~registry_upload.Uploader` (pool, retries, skip-existing) fed the
   already-opened files; a static index stores them one by one.  When a
   destination ends with a failed file, the later ones are not started
   (their files are ``not-started``, with the reason) unless ``keep_going``:
   publishing to PyPI after TestPyPI failed is what nobody wants.
3. **verify** (``verify=True``): after a registry took the files, its simple
   index is read until each file is listed with its sha256 (bounded wait,
   backing off, see :class:`VerifyPolicy`); a file that never shows up, or
   shows up with other bytes, fails with that cause.  Credentials are sent
   to the index only under the origin rule.  Files stored in a static index
   are verified as they are written.

Ctrl-C raises :class:`PublishInterrupted` (a
:class:`~registry_upload.errors.UploadInterrupted`) once nothing is in flight:
``exc.publish_report`` is the partial :class:`PublishReport` (the destination
that was running is ``interrupted``, later ones ``not-started``) and
``exc.report`` that destination's :class:`~registry_upload.UploadReport`.
"""

from __future__ import annotations

import enum
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ._verify import VerifyOutcome, VerifyPolicy, VerifyStatus, verify_listed
from .credentials import CredentialChain, CredentialProvider, Credentials
from .distribution import Distribution
from .errors import (
    ConfigurationError,
    FileExistsOnRegistryError,
    NoCredentialsError,
    RegistryUploadError,
    UploadFailedError,
    UploadInterrupted,
)
from .results import FileResult, FileStatus, ProgressEvent, UploadReport
from .retry import RetryPolicy
from .static_index import PublishResult, PublishStatus, StaticIndex, is_static_destination
from .transport import TransportOptions
from .uploader import DEFAULT_JOBS, PathInput, Uploader, open_distributions, refuse_for_registry

__all__ = [
    "STATIC_INDEX",
    "DestinationInput",
    "DestinationKind",
    "DestinationReport",
    "DestinationStatus",
    "PublishFailedError",
    "PublishInterrupted",
    "PublishReport",
    "Publisher",
    "VerifyPolicy",
    "publish",
]

logger = logging.getLogger(__name__)

#: The registry id a static index destination reports.
STATIC_INDEX = "static-index"

#: An upload URL, a .pypirc repository name, a ``file:`` URL or a directory path.
DestinationInput = str | os.PathLike[str]
CredentialsInput = Credentials | CredentialChain | CredentialProvider | None


class DestinationKind(str, enum.Enum):
    REGISTRY = "registry"
    STATIC_INDEX = STATIC_INDEX

    def __str__(self) -> str:
        return self.value


class DestinationStatus(str, enum.Enum):
    """How a destination ended: ``ok`` (every file uploaded, skipped or dry-run),
    ``failed`` (some file failed), ``not-started`` (an earlier destination failed
    and ``keep_going`` was off, or the run was interrupted before it),
    ``interrupted`` (Ctrl-C while it ran)."""

    OK = "ok"
    FAILED = "failed"
    NOT_STARTED = "not-started"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return self.value


# -- reports -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DestinationReport:
    """One destination's outcome: its name, what it is, and its files' results.

    ``name`` is the destination as given (a URL without any credentials in
    it); ``report`` is an :class:`UploadReport` for registries and static
    indexes alike (``registry`` is ``"static-index"`` for the latter).
    """

    name: str
    kind: DestinationKind
    status: DestinationStatus
    report: UploadReport
    reason: str | None = None

    @property
    def url(self) -> str:
        """The upload URL, or the static index's ``file:`` URL."""
        return self.report.repository_url

    @property
    def registry(self) -> str:
        return self.report.registry

    @property
    def results(self) -> tuple[FileResult, ...]:
        return self.report.results

    @property
    def ok(self) -> bool:
        return self.status is DestinationStatus.OK

    def __iter__(self) -> Iterator[FileResult]:
        return iter(self.report.results)

    def __str__(self) -> str:
        return f"{self.name} ({self.registry}): {self.status}"

    def to_dict(self) -> dict[str, Any]:
        data = self.report.to_dict()
        return {
            "destination": self.name,
            "kind": self.kind.value,
            "status": self.status.value,
            "reason": self.reason,
            **data,
        }


@dataclass(frozen=True, slots=True)
class PublishReport:
    """Every destination's outcome, in the order served; ``files`` are the paths given."""

    destinations: tuple[DestinationReport, ...]
    files: tuple[str, ...]
    elapsed: float = 0.0
    interrupted: bool = False
    dry_run: bool = False
    verify: bool = False

    def __iter__(self) -> Iterator[DestinationReport]:
        return iter(self.destinations)

    def __len__(self) -> int:
        return len(self.destinations)

    def __str__(self) -> str:
        return "; ".join(str(d) for d in self.destinations) or "no destinations"

    def __repr__(self) -> str:
        return (
            f"PublishReport(ok={self.ok}, {len(self.destinations)} destination(s), "
            f"{len(self.files)} file(s))"
        )

    @property
    def ok(self) -> bool:
        return bool(self.destinations) and all(d.ok for d in self.destinations)

    def destination(self, name: str) -> DestinationReport:
        """The report of the destination named ``name`` (as given, or its URL)."""
        for dest in self.destinations:
            if name in (dest.name, dest.url):
                return dest
        raise KeyError(name)

    @property
    def results(self) -> tuple[FileResult, ...]:
        """Every file's result at every destination, destination by destination."""
        return tuple(r for d in self.destinations for r in d.results)

    @property
    def failures(self) -> tuple[FileResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    def counts(self) -> dict[str, int]:
        """How many (file, destination) pairs ended in each status, every status listed."""
        return {s.value: sum(1 for r in self.results if r.status is s) for s in FileStatus}

    def for_file(self, path_or_filename: str) -> tuple[tuple[str, FileResult], ...]:
        """(destination name, result) for one file, in destination order."""
        return tuple(
            (d.name, r)
            for d in self.destinations
            for r in d.results
            if path_or_filename in (r.path, r.filename)
        )

    def raise_for_failures(self) -> None:
        """Raise :class:`PublishFailedError` if any file failed at any destination."""
        failed = [d for d in self.destinations if not d.ok]
        if not failed:
            return
        first = failed[0]
        failures = first.report.failures
        hint = failures[0].hint if failures else None
        names = ", ".join(f"{d.name} ({d.status})" for d in failed)
        raise PublishFailedError(
            f"publishing failed at {len(failed)} of {len(self.destinations)} destination(s): "
            f"{names}",
            report=first.report,
            publish_report=self,
            hint=hint or first.reason,
            url=first.url,
            registry=first.registry,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "interrupted": self.interrupted,
            "dry_run": self.dry_run,
            "verify": self.verify,
            "elapsed": round(self.elapsed, 6),
            "counts": {**self.counts(), "total": len(self.results)},
            "destinations": [d.to_dict() for d in self.destinations],
            "files": [self._file_dict(path) for path in self.files],
        }

    def _file_dict(self, path: str) -> dict[str, Any]:
        pairs = self.for_file(path)
        sha256 = next((r.sha256 for _, r in pairs if r.sha256), None)
        return {
            "path": path,
            "filename": os.path.basename(path),
            "sha256": sha256,
            "ok": bool(pairs) and all(r.ok for _, r in pairs),
            "destinations": [
                {"destination": name, "status": r.status.value, "verified": r.verified}
                for name, r in pairs
            ],
        }


class PublishFailedError(UploadFailedError):
    """Raised by :meth:`PublishReport.raise_for_failures`: ``publish_report`` has
    every destination; ``report`` is the first failed destination's report."""

    def __init__(
        self,
        message: str,
        *,
        report: UploadReport,
        publish_report: PublishReport,
        hint: str | None = None,
        url: str | None = None,
        registry: str | None = None,
    ) -> None:
        super().__init__(message, report=report, hint=hint, url=url, registry=registry)
        self.publish_report = publish_report


class PublishInterrupted(UploadInterrupted):
    """Ctrl-C stopped a publish run: ``publish_report`` is the partial
    :class:`PublishReport`; ``report`` the interrupted destination's report."""

    def __init__(self, publish_report: PublishReport) -> None:
        running = [
            d for d in publish_report.destinations if d.status is DestinationStatus.INTERRUPTED
        ]
        chosen = running[0] if running else publish_report.destinations[-1]
        super().__init__(chosen.report)
        self.publish_report = publish_report


# -- destinations ------------------------------------------------------------------


@dataclass(slots=True)
class _Destination:
    """A destination ready to receive files: an Uploader or a StaticIndex."""

    name: str
    uploader: Uploader | None = None
    index: StaticIndex | None = None

    @property
    def kind(self) -> DestinationKind:
        if self.uploader is not None:
            return DestinationKind.REGISTRY
        return DestinationKind.STATIC_INDEX

    @property
    def url(self) -> str:
        if self.uploader is not None:
            return self.uploader.repository.url
        assert self.index is not None
        return self.index.url

    @property
    def registry(self) -> str:
        return self.uploader.profile.id if self.uploader is not None else STATIC_INDEX

    def close(self) -> None:
        if self.uploader is not None:
            self.uploader.close()


@dataclass(frozen=True, slots=True)
class _Options:
    keep_going: bool
    verify: bool
    verify_policy: VerifyPolicy
    skip_existing: bool
    dry_run: bool
    allow_anonymous: bool


def _as_destinations(destinations: DestinationInput | Iterable[DestinationInput]) -> list[str]:
    if isinstance(destinations, str | os.PathLike):
        items: list[DestinationInput] = [destinations]
    else:
        items = list(destinations)
    out = []
    for item in items:
        if not isinstance(item, str | os.PathLike):
            raise TypeError(
                f"each destination must be a URL, a repository name or a path, "
                f"not {type(item).__name__}"
            )
        out.append(os.fspath(item))
    if not out:
        raise ConfigurationError(
            "no destinations to publish to",
            hint="Give at least one upload URL, .pypirc repository name or index directory.",
        )
    return out


class Publisher:
    """Publish the same files to several destinations; reusable, close it when done.

    ``credentials`` is one source for every registry destination (``None``:
    the default chain, asked per destination), or a mapping from a
    destination (as given) to its source.  ``index_urls`` maps a destination
    to the simple index that checks existing files and verifies (default: the
    registry's own).  The other keywords are :class:`~registry_upload.Uploader`'s,
    applied to every registry destination.  ``on_destination`` is called with
    each :class:`DestinationReport` as soon as that destination is done.
    """

    def __init__(
        self,
        destinations: DestinationInput | Iterable[DestinationInput],
        *,
        credentials: CredentialsInput | Mapping[str, CredentialsInput] = None,
        username: str | None = None,
        password: str | None = None,
        pypirc: str | os.PathLike[str] | None = None,
        index_urls: Mapping[str, str] | None = None,
        keep_going: bool = False,
        verify: bool = False,
        verify_timeout: float = 60.0,
        verify_policy: VerifyPolicy | None = None,
        skip_existing: bool = False,
        jobs: int = DEFAULT_JOBS,
        retry: RetryPolicy | None = None,
        transport: TransportOptions | None = None,
        allow_insecure: bool = False,
        allow_anonymous: bool = False,
        blake2: bool = False,
        comment: str | None = None,
        dry_run: bool = False,
        on_event: Callable[[ProgressEvent], None] | None = None,
        on_destination: Callable[[DestinationReport], None] | None = None,
    ) -> None:
        self.options = _Options(
            keep_going=keep_going,
            verify=verify,
            verify_policy=verify_policy or _verify_policy(verify_timeout),
            skip_existing=skip_existing,
            dry_run=dry_run,
            allow_anonymous=allow_anonymous,
        )
        self.on_event = on_event
        self.on_destination = on_destination
        #: The last run's report, also when it was interrupted.
        self.report: PublishReport | None = None
        uploader_kw: dict[str, Any] = {
            "username": username,
            "password": password,
            "pypirc": pypirc,
            "skip_existing": skip_existing,
            "jobs": jobs,
            "retry": retry,
            "transport": transport,
            "allow_insecure": allow_insecure,
            "blake2": blake2,
            "comment": comment,
            "dry_run": dry_run,
            "on_event": on_event,
        }
        self.destinations: list[_Destination] = []
        try:
            for name in _as_destinations(destinations):
                self.destinations.append(
                    _open_destination(name, credentials, index_urls or {}, uploader_kw)
                )
            _refuse_duplicates(self.destinations)
        except BaseException:
            self.close()
            raise

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        for dest in self.destinations:
            dest.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- preflight -------------------------------------------------------------

    def preflight(self) -> None:
        """Check every destination before anything is sent anywhere.

        A static index must be (or be creatable as) a writable directory; a
        registry's credentials are resolved now (once, kept for the upload).
        Raises the first problem: a :class:`~registry_upload.errors.NoCredentialsError`
        for a registry with no credentials (unless ``allow_anonymous``), the
        provider's own error, an insecure-transport refusal, an unwritable index.
        """
        for dest in self.destinations:
            if dest.index is not None:
                dest.index.preflight()
                continue
            assert dest.uploader is not None
            creds = dest.uploader.credentials()
            if creds is None and not self.options.allow_anonymous:
                raise _no_credentials(dest)
            logger.debug("%s: credentials from %s", dest.name, creds.source if creds else "nowhere")

    # -- the run -----------------------------------------------------------------

    def publish(self, paths: PathInput) -> PublishReport:
        """Publish every file to every destination, in order; see the module docstring.

        Raises only before anything is sent (an unusable file, a destination
        that cannot work); per-file failures are in the report.  Ctrl-C raises
        :class:`PublishInterrupted` with the partial report.
        """
        started = time.monotonic()
        dists, _notes = open_distributions(paths)
        if not dists:
            raise ConfigurationError(
                "no distribution files to publish",
                hint="Pass the wheels and sdists to publish, e.g. dist/*.",
            )
        self.preflight()
        for dest in self.destinations:  # what a registry would refuse stops the run now
            if dest.uploader is not None:
                refuse_for_registry(dists, dest.uploader.profile)
        done: list[DestinationReport] = []
        stop_reason: str | None = None
        interrupted = False
        for dest in self.destinations:
            if stop_reason is not None:
                entry = _not_started(dest, dists, stop_reason)
            else:
                entry = self._serve(dest, dists)
                if entry.status is DestinationStatus.INTERRUPTED:
                    interrupted = True
                    stop_reason = "not started: the run was interrupted"
                elif entry.status is DestinationStatus.FAILED and not self.options.keep_going:
                    stop_reason = (
                        f"not started: {dest.name} failed; later destinations are only "
                        "served with keep_going (--keep-going)"
                    )
            done.append(entry)
            if self.on_destination is not None:
                self.on_destination(entry)
        self.report = PublishReport(
            destinations=tuple(done),
            files=tuple(str(d.path) for d in dists),
            elapsed=time.monotonic() - started,
            interrupted=interrupted,
            dry_run=self.options.dry_run,
            verify=self.options.verify,
        )
        if interrupted:
            raise PublishInterrupted(self.report)
        return self.report

    def _serve(self, dest: _Destination, dists: list[Distribution]) -> DestinationReport:
        logger.debug("publishing %d file(s) to %s", len(dists), dest.name)
        if dest.uploader is not None:
            report = self._to_registry(dest.uploader, dists)
        else:
            assert dest.index is not None
            report = self._to_static(dest.index, dists)
        return _entry(dest, report)

    # -- a registry ----------------------------------------------------------------

    def _to_registry(self, uploader: Uploader, dists: list[Distribution]) -> UploadReport:
        try:
            report = uploader.upload(dists)
        except UploadInterrupted as exc:
            return exc.report
        except RegistryUploadError as exc:  # found after the preflight: every file failed
            return _all_failed(uploader, dists, exc)
        if not self.options.verify or self.options.dry_run:
            return report
        return self._verify(uploader, dists, report)

    def _verify(
        self, uploader: Uploader, dists: list[Distribution], report: UploadReport
    ) -> UploadReport:
        """Read the index until each uploaded file is listed; one bounded wait for all."""
        policy = self.options.verify_policy
        since, started = policy.clock(), time.monotonic()
        session = uploader.session
        index_url = session.index_url()
        authorization = session.authorization_for(index_url)
        results = list(report.results)
        try:
            for i, (dist, result) in enumerate(zip(dists, report.results, strict=True)):
                if not _wants_verify(result):
                    continue
                outcome = verify_listed(
                    session.transport,
                    index_url,
                    dist.project,
                    dist.filename,
                    result.sha256 or dist.digests(blake2=False).sha256,
                    authorization=authorization,
                    policy=policy,
                    since=since,
                )
                results[i] = _with_outcome(result, outcome)
        except KeyboardInterrupt:
            interrupted = True
        else:
            interrupted = False
        elapsed = report.elapsed + time.monotonic() - started
        return replace(report, results=tuple(results), elapsed=elapsed, interrupted=interrupted)

    # -- a static index --------------------------------------------------------------

    def _to_static(self, index: StaticIndex, dists: list[Distribution]) -> UploadReport:
        started = time.monotonic()
        results: list[FileResult] = []
        interrupted = False
        for dist in dists:
            if interrupted:
                results.append(
                    _file_result(
                        dist,
                        index.url,
                        FileStatus.NOT_STARTED,
                        reason="not started: the batch was interrupted",
                    )
                )
                continue
            try:
                results.append(self._store(index, dist))
            except KeyboardInterrupt:
                interrupted = True
                results.append(
                    _file_result(
                        dist,
                        index.url,
                        FileStatus.INTERRUPTED,
                        reason="interrupted while being stored: re-run with skip-existing "
                        "to finish (an identical file counts as existing)",
                    )
                )
        return UploadReport(
            repository_url=index.url,
            registry=STATIC_INDEX,
            results=tuple(results),
            elapsed=time.monotonic() - started,
            interrupted=interrupted,
        )

    def _store(self, index: StaticIndex, dist: Distribution) -> FileResult:
        self._emit(ProgressEvent("started", dist.filename, total_bytes=dist.size))
        started = time.monotonic()
        if self.options.dry_run:
            result = _file_result(
                dist, index.url, FileStatus.DRY_RUN, reason="dry run: inspected, nothing written"
            )
        else:
            try:
                stored = index.publish(dist)
            except RegistryUploadError as exc:
                result = _file_result(dist, index.url, FileStatus.FAILED, error=exc, attempts=1)
            else:
                result = _static_result(dist, index.url, stored, self.options.skip_existing)
        result = replace(result, elapsed=time.monotonic() - started)
        self._emit(
            ProgressEvent(
                "finished",
                dist.filename,
                bytes_sent=result.bytes_sent,
                total_bytes=dist.size,
                result=result,
            )
        )
        return result

    def _emit(self, event: ProgressEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)


# -- helpers -------------------------------------------------------------------------


def _open_destination(
    name: str,
    credentials: CredentialsInput | Mapping[str, CredentialsInput],
    index_urls: Mapping[str, str],
    uploader_kw: dict[str, Any],
) -> _Destination:
    if is_static_destination(name):
        return _Destination(name=name, index=StaticIndex(name))
    source = credentials.get(name) if isinstance(credentials, Mapping) else credentials
    url, repository = (name, None) if "://" in name else (None, name)
    uploader = Uploader(
        url,
        repository=repository,
        credentials=source,
        index_url=index_urls.get(name),
        **uploader_kw,
    )
    # A URL is shown without any credentials written into it.
    return _Destination(name=repository or uploader.repository.url, uploader=uploader)


def _verify_policy(timeout: float) -> VerifyPolicy:
    try:
        return VerifyPolicy(timeout=float(timeout))
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"verify timeout must be a number of seconds of at least 0, not {timeout!r}",
            hint="Give the longest wait for the index to list the files, e.g. 60 "
            "(--verify-timeout 60).",
        ) from None


def _refuse_duplicates(destinations: Sequence[_Destination]) -> None:
    seen: dict[str, str] = {}
    for dest in destinations:
        key = dest.url.rstrip("/")
        if key in seen:
            raise ConfigurationError(
                f"destination {dest.name} is given twice (as {seen[key]} and {dest.name}: "
                f"both are {dest.url})",
                hint="List each destination once.",
                url=dest.url,
            )
        seen[key] = dest.name


def _no_credentials(dest: _Destination) -> NoCredentialsError:
    assert dest.uploader is not None
    resolution = dest.uploader.resolution
    trail = resolution.describe() if resolution is not None else ""
    where = dest.name if dest.name == dest.url else f"{dest.name} ({dest.url})"
    return NoCredentialsError(
        f"no credentials for {where}: {trail or 'no credential provider was asked'}; "
        "nothing was sent anywhere",
        hint="Every registry destination needs credentials before a publish starts: set "
        "them for this one (REGISTRY_UPLOAD_PASSWORD, ~/.pypirc, a keyring, a credential "
        "helper), or allow uploads without credentials (allow_anonymous=True / "
        "--allow-anonymous) for a registry that needs none.",
        url=dest.url,
    )


def _entry(dest: _Destination, report: UploadReport) -> DestinationReport:
    if report.interrupted:
        status = DestinationStatus.INTERRUPTED
    elif report.ok:
        status = DestinationStatus.OK
    else:
        status = DestinationStatus.FAILED
    return DestinationReport(
        name=dest.name, kind=dest.kind, status=status, report=report, reason=None
    )


def _not_started(dest: _Destination, dists: list[Distribution], reason: str) -> DestinationReport:
    report = UploadReport(
        repository_url=dest.url,
        registry=dest.registry,
        results=tuple(
            _file_result(d, dest.url, FileStatus.NOT_STARTED, registry=dest.registry, reason=reason)
            for d in dists
        ),
    )
    return DestinationReport(
        name=dest.name,
        kind=dest.kind,
        status=DestinationStatus.NOT_STARTED,
        report=report,
        reason=reason,
    )


def _all_failed(
    uploader: Uploader, dists: list[Distribution], error: RegistryUploadError
) -> UploadReport:
    registry = uploader.profile.id
    return UploadReport(
        repository_url=uploader.repository.url,
        registry=registry,
        results=tuple(
            _file_result(
                d, uploader.repository.url, FileStatus.FAILED, registry=registry, error=error
            )
            for d in dists
        ),
    )


def _file_result(
    dist: Distribution,
    url: str,
    status: FileStatus,
    *,
    registry: str = STATIC_INDEX,
    reason: str | None = None,
    error: RegistryUploadError | None = None,
    attempts: int = 0,
) -> FileResult:
    return FileResult(
        path=str(dist.path),
        filename=dist.filename,
        status=status,
        url=url,
        registry=registry,
        attempts=attempts,
        reason=reason,
        error=error,
    )


def _static_result(
    dist: Distribution, url: str, stored: PublishResult, skip_existing: bool
) -> FileResult:
    """A static index's answer, as a registry's would read."""
    base = FileResult(
        path=str(dist.path),
        filename=dist.filename,
        status=FileStatus.UPLOADED,
        url=url,
        registry=STATIC_INDEX,
        attempts=1,
        sha256=stored.sha256,
    )
    if stored.status is PublishStatus.STORED:
        return replace(base, bytes_sent=dist.size, verified=True, reason=f"stored as {stored.path}")
    if stored.status is PublishStatus.CONFLICT:
        return replace(base, status=FileStatus.FAILED, verified=False, error=stored.error)
    if skip_existing:
        return replace(
            base,
            status=FileStatus.SKIPPED,
            verified=True,
            reason="already in the static index with the same sha256",
        )
    error = FileExistsOnRegistryError(
        f"{dist.filename}: the static index already has this file",
        url=stored.url,
        registry=STATIC_INDEX,
        path=str(dist.path),
        hint="The index already has this very file (same sha256): nothing is lost. "
        "Re-run with skip-existing (skip_existing=True / --skip-existing) to treat files "
        "already there as done.",
    )
    return replace(base, status=FileStatus.FAILED, error=error)


def _wants_verify(result: FileResult) -> bool:
    """Uploaded or skipped, and not yet confirmed by the index."""
    return result.status in (FileStatus.UPLOADED, FileStatus.SKIPPED) and not result.verified


def _with_outcome(result: FileResult, outcome: VerifyOutcome) -> FileResult:
    if outcome.status is VerifyStatus.VERIFIED:
        return replace(result, verified=True, sha256=outcome.sha256)
    if outcome.status is VerifyStatus.LISTED:
        return replace(result, reason=outcome.reason)
    return replace(
        result, status=FileStatus.FAILED, verified=False, reason=outcome.reason,
        error=outcome.error,
    )  # fmt: skip


def publish(
    paths: PathInput,
    destinations: DestinationInput | Iterable[DestinationInput],
    *,
    credentials: CredentialsInput | Mapping[str, CredentialsInput] = None,
    username: str | None = None,
    password: str | None = None,
    pypirc: str | os.PathLike[str] | None = None,
    index_urls: Mapping[str, str] | None = None,
    keep_going: bool = False,
    verify: bool = False,
    verify_timeout: float = 60.0,
    verify_policy: VerifyPolicy | None = None,
    skip_existing: bool = False,
    jobs: int = DEFAULT_JOBS,
    retry: RetryPolicy | None = None,
    transport: TransportOptions | None = None,
    allow_insecure: bool = False,
    allow_anonymous: bool = False,
    blake2: bool = False,
    comment: str | None = None,
    dry_run: bool = False,
    on_event: Callable[[ProgressEvent], None] | None = None,
    on_destination: Callable[[DestinationReport], None] | None = None,
    raise_on_failure: bool = False,
) -> PublishReport:
    """Publish ``paths`` to every destination in one call; the keywords are
    :class:`Publisher`'s.  ``raise_on_failure=True`` raises
    :class:`PublishFailedError` (with the report) if any file failed anywhere.
    """
    with Publisher(
        destinations,
        credentials=credentials,
        username=username,
        password=password,
        pypirc=pypirc,
        index_urls=index_urls,
        keep_going=keep_going,
        verify=verify,
        verify_timeout=verify_timeout,
        verify_policy=verify_policy,
        skip_existing=skip_existing,
        jobs=jobs,
        retry=retry,
        transport=transport,
        allow_insecure=allow_insecure,
        allow_anonymous=allow_anonymous,
        blake2=blake2,
        comment=comment,
        dry_run=dry_run,
        on_event=on_event,
        on_destination=on_destination,
    ) as publisher:
        report = publisher.publish(paths)
    if raise_on_failure:
        report.raise_for_failures()
    return report
