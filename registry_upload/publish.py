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

Read top-down, a run is the one path every entry point takes
(:func:`~registry_upload.upload` is publishing to one registry destination):

1. **open**: every file is opened once (nothing is sent if one is unusable;
   no files at all is an error).
2. **preflight**, once: each :class:`~registry_upload.destinations.Destination`
   checks what would stop it — a static index must be writable with room for
   the batch; a registry resolves *its own* credentials (a prompt happens now,
   not between destinations) and refuses files it would refuse.  A secret
   given for the whole run is refused when the run has several registries,
   and so is a registry without credentials (unless ``allow_anonymous``).
   Nothing has been sent yet.
3. **destinations in the order given**: each sends the files
   (``Destination.send``).  When one ends with a failed file, the later ones
   are not started (their files are ``not-started``, with the reason) unless
   ``keep_going``: publishing to PyPI after TestPyPI failed is what nobody
   wants.  With ``verify=True`` a registry's simple index is read until each
   file is listed with its sha256 (bounded, backing off); a static index
   verifies as it writes.

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ._destination import is_static_destination
from ._plan import PathInput, open_distributions
from ._target import ResolvedTarget, resolve_target
from ._urls import without_userinfo
from ._verify import VerifyPolicy
from .credentials import Credentials, is_run_wide
from .destinations import (
    STATIC_INDEX,
    CredentialsInput,
    Destination,
    DestinationKind,
    RegistryDestination,
    StaticIndexDestination,
    not_started,
)
from .distribution import Distribution
from .errors import (
    ConfigurationError,
    NoCredentialsError,
    UploadFailedError,
    UploadInterrupted,
)
from .options import PublishOptions
from .results import FileResult, FileStatus, UploadReport

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .options import OptionArgs

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

#: An upload URL, a .pypirc repository name, a ``file:`` URL, a directory path, or a
#: :class:`~registry_upload.destinations.Destination` object.
DestinationInput = str | os.PathLike[str] | Destination


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
        served = [d for d in failed if d.status is not DestinationStatus.NOT_STARTED]
        message = (
            f"publishing failed at {len(served)} of {len(self.destinations)} destination(s): "
            + ", ".join(f"{d.name} ({d.status})" for d in served)
            if served
            else "publishing did not start"
        )
        waiting = len(failed) - len(served)
        if waiting:
            message += f"; {waiting} not started"
        raise PublishFailedError(
            message,
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
            "results": [r.to_dict() for r in self.results],
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


# -- the run -------------------------------------------------------------------------


class Publisher:
    """Publish the same files to several destinations; reusable, close it when done.

    ``destinations``: upload URLs, ``.pypirc`` repository names, ``file:`` URLs
    or directory paths (static indexes), served in the order given.

    **Credentials belong to a destination.**  Each registry resolves its own,
    from sources scoped to it: credentials written into its URL, its
    ``.pypirc`` section, netrc/keyring/a credential helper for its host, its
    cloud provider, trusted publishing (PyPI, TestPyPI), the GitLab job token
    for its instance.  ``credentials`` may map destinations (as given, by
    URL with or without its trailing slash, or by repository name) to their
    own source; a key that matches no destination is an error.  A secret for
    the whole run (``username``/``password``, one :class:`Credentials`, or
    an environment variable such as ``TWINE_PASSWORD``) is used only when
    the run has exactly one registry destination: with several, the
    preflight stops before anything is sent and says, per destination, where
    its credentials would come from.

    ``index_urls`` maps a destination to the simple index that checks existing
    files and verifies (default: the registry's own); credentials written into
    an index URL serve that index's reads only, never an upload.  Every other
    keyword is a :class:`~registry_upload.options.PublishOptions` field
    (or pass ``options=`` whole).
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
        options: PublishOptions | None = None,
        **option_args: Unpack[OptionArgs],
    ) -> None:
        self.options = PublishOptions.of(options, **option_args)
        #: The last run's report, also when it was interrupted.
        self.report: PublishReport | None = None
        self.destinations: list[Destination] = []
        self._preflighted: list[int] | None = None
        try:
            self.destinations = open_destinations(
                _as_destinations(destinations),
                self.options,
                credentials=credentials,
                username=username,
                password=password,
                pypirc=pypirc,
                index_urls=index_urls or {},
            )
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

    # -- the run ---------------------------------------------------------------

    def preflight(self, dists: Sequence[Distribution] = ()) -> None:
        """Check every destination before anything is sent anywhere.

        A static index must be (or be creatable as) a writable directory; a
        registry's credentials are resolved now (once, kept for the upload),
        and files it would refuse stop the run; so does a registry without
        credentials (unless ``allow_anonymous``), and a run-wide secret with
        several registries (see the class docstring).
        """
        for dest in self.destinations:
            dest.preflight(dists)
        self._preflighted = [id(d) for d in dists]
        registries = [d for d in self.destinations if isinstance(d, RegistryDestination)]
        _refuse_shared_secrets(registries)
        for dest in registries:
            creds = dest.credentials()
            logger.debug("%s: credentials from %s", dest.name, creds.source if creds else "nowhere")
            if creds is None and not self.options.allow_anonymous:
                raise _no_credentials(dest)

    def publish(self, paths: PathInput) -> PublishReport:
        """Publish every file to every destination, in order; see the module docstring.

        Raises only before anything is sent (an unusable file, a destination
        that cannot work); per-file failures are in the report.  Ctrl-C raises
        :class:`PublishInterrupted` with the partial report.
        """
        started = time.monotonic()
        dists, notes = open_distributions(paths, attestations=self.options.attestations)
        if self._preflighted != [id(d) for d in dists]:  # once per run, also when called first
            self.preflight(dists)
        self._preflighted = None
        done: list[DestinationReport] = []
        stop_reason: str | None = None
        for dest in self.destinations:
            if stop_reason is not None:
                entry = _entry(dest, not_started(dists, dest, stop_reason), stop_reason)
            else:
                entry = self._serve(dest, dists, notes)
                stop_reason = self._stop_reason(entry)
            done.append(entry)
            if self.options.on_destination is not None:
                self.options.on_destination(entry)
        interrupted = any(d.status is DestinationStatus.INTERRUPTED for d in done)
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

    def _serve(
        self, dest: Destination, dists: list[Distribution], notes: tuple[tuple[str, str], ...]
    ) -> DestinationReport:
        logger.debug("publishing %d file(s) to %s", len(dists), dest.name)
        started = time.monotonic()
        report = dest.send(dists)
        elapsed = time.monotonic() - started
        return _entry(dest, replace(report, notes=(*notes, *report.notes), elapsed=elapsed))

    def _stop_reason(self, entry: DestinationReport) -> str | None:
        if entry.status is DestinationStatus.INTERRUPTED:
            return "not started: the run was interrupted"
        if entry.status is DestinationStatus.FAILED and not self.options.keep_going:
            return (
                f"not started: {entry.name} failed; later destinations are only "
                "served with keep_going (--keep-going)"
            )
        return None


def open_destinations(
    names: Sequence[str | Destination],
    options: PublishOptions,
    *,
    credentials: CredentialsInput | Mapping[str, CredentialsInput] = None,
    username: str | None = None,
    password: str | None = None,
    pypirc: str | os.PathLike[str] | None = None,
    index_urls: Mapping[str, str] | None = None,
) -> list[Destination]:
    """Each destination, opened with its own credentials source.

    A destination given twice, a ``credentials`` mapping key that names no
    destination, or one :class:`Credentials` for several registries is an error.
    """
    index_urls = index_urls or {}
    targets = {
        name: resolve_target(name, index_url=index_urls.get(name))
        if "://" in name
        else resolve_target(repository=name, pypirc=pypirc, index_url=index_urls.get(name))
        for name in names
        if isinstance(name, str) and not is_static_destination(name)
    }
    sources = _credentials_by_destination(credentials, targets)
    opened: list[Destination] = []
    try:
        for name in names:
            if not isinstance(name, str):  # a Destination object, taken as it is
                opened.append(name)
                continue
            target = targets.get(name)
            if target is None:
                opened.append(_static(name, options))
                continue
            repo = target.repository
            opened.append(
                RegistryDestination(
                    repo,
                    options.with_tls(ca_cert=target.ca_cert, client_cert=target.client_cert),
                    credentials=sources.get(name),
                    username=username,
                    password=password,
                    pypirc=None if pypirc is None else os.fspath(pypirc),
                    name=repo.name or repo.url,
                    target_source=target.source,
                )
            )
        _refuse_duplicates(opened)
        if isinstance(credentials, Credentials) and len(targets) > 1:
            raise ConfigurationError(
                f"one set of credentials ({credentials.source}) for {len(targets)} registries; "
                "nothing was sent",
                hint="Credentials belong to a destination: pass a mapping, "
                "credentials={destination: Credentials.of(...), ...}.",
            )
    except BaseException:
        for dest in opened:
            dest.close()
        raise
    return opened


def _static(name: str, options: PublishOptions) -> Destination:
    from .static_index import StaticIndex

    return StaticIndexDestination(StaticIndex(name), options, name=name)


def _credentials_by_destination(
    credentials: CredentialsInput | Mapping[str, CredentialsInput],
    targets: Mapping[str, ResolvedTarget],
) -> dict[str, CredentialsInput]:
    """Each registry destination's own credentials source (absent: the default chain)."""
    if not isinstance(credentials, Mapping):
        return dict.fromkeys(targets, credentials) if credentials is not None else {}
    out: dict[str, CredentialsInput] = {}
    for key, source in credentials.items():
        matches = [name for name, target in targets.items() if _names(key, name, target)]
        if not matches:
            raise ConfigurationError(
                f"credentials were given for {without_userinfo(str(key))!r}, which is not a "
                f"registry destination of this run ({', '.join(map(str, targets)) or 'none'})",
                hint="Key the credentials mapping by a destination as given, its upload URL "
                "or its .pypirc repository name.",
            )
        for name in matches:
            out[name] = source
    return out


def _names(key: object, name: str, target: ResolvedTarget) -> bool:
    """Whether a credentials mapping key names this destination."""
    if not isinstance(key, str):
        return False
    wanted = key.rstrip("/")
    repo = target.repository
    return wanted in {name.rstrip("/"), repo.url.rstrip("/"), repo.name or ""}


def _refuse_shared_secrets(registries: Sequence[RegistryDestination]) -> None:
    """A secret given for the whole run never goes to several registries."""
    if len(registries) < 2:
        return
    shared = [
        c.source
        for d in registries
        if d.session.chain is not None  # fixed credentials were given for this one alone
        and (c := d.credentials())
        and is_run_wide(c.source)
    ]
    if not shared:
        return
    source = shared[0]
    lines = "; ".join(f"{d.name}: {d.scoped_source()}" for d in registries)
    raise NoCredentialsError(
        f"{source} is a secret for the whole run, and this run has {len(registries)} "
        f"registry destinations; nothing was sent. Without it, each would use: {lines}",
        hint="Credentials belong to a destination: give each registry its own (a .pypirc "
        "section per repository, a keyring or credential-helper entry per host, trusted "
        "publishing, or publish(credentials={destination: ...})), or publish to one "
        "registry per run with -u/-p or the *_PASSWORD variables.",
    )


def _no_credentials(dest: RegistryDestination) -> NoCredentialsError:
    resolution = dest.session.resolution
    trail = resolution.describe() if resolution is not None else ""
    where = dest.name if dest.name == dest.url else f"{dest.name} ({dest.url})"
    return NoCredentialsError(
        f"no credentials for {where}: {trail or 'no credential provider was asked'}; "
        "nothing was sent anywhere",
        hint="Every registry of a publish run needs credentials before it starts: set "
        "them for this one (~/.pypirc, a keyring, a credential helper), "
        "or allow uploads without credentials (allow_anonymous=True / --allow-anonymous) "
        "for a registry that needs none.",
        url=dest.url,
    )


def _as_destinations(
    destinations: DestinationInput | Iterable[DestinationInput],
) -> list[str | Destination]:
    if isinstance(destinations, str | os.PathLike | Destination):
        items: list[DestinationInput] = [destinations]
    else:
        items = list(destinations)
    out: list[str | Destination] = []
    for item in items:
        if isinstance(item, Destination):
            out.append(item)
        elif isinstance(item, str | os.PathLike):
            out.append(os.fspath(item))
        else:
            raise TypeError(
                f"each destination must be a URL, a repository name, a path or a "
                f"Destination, not {type(item).__name__}"
            )
    if not out:
        raise ConfigurationError(
            "no destinations to publish to",
            hint="Give at least one upload URL, .pypirc repository name or index directory.",
        )
    return out


def _refuse_duplicates(destinations: Sequence[Destination]) -> None:
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


def _entry(dest: Destination, report: UploadReport, reason: str | None = None) -> DestinationReport:
    if reason is not None:
        status = DestinationStatus.NOT_STARTED
    elif report.interrupted:
        status = DestinationStatus.INTERRUPTED
    elif report.ok:
        status = DestinationStatus.OK
    else:
        status = DestinationStatus.FAILED
    return DestinationReport(
        name=dest.name, kind=dest.kind, status=status, report=report, reason=reason
    )


def publish(
    paths: PathInput,
    destinations: DestinationInput | Iterable[DestinationInput],
    *,
    credentials: CredentialsInput | Mapping[str, CredentialsInput] = None,
    username: str | None = None,
    password: str | None = None,
    pypirc: str | os.PathLike[str] | None = None,
    index_urls: Mapping[str, str] | None = None,
    options: PublishOptions | None = None,
    raise_on_failure: bool = False,
    **option_args: Unpack[OptionArgs],
) -> PublishReport:
    """Publish ``paths`` to every destination, in order, in one call.

    The keywords are :class:`Publisher`'s (credentials per destination) and the
    fields of :class:`~registry_upload.options.PublishOptions` (``skip_existing``,
    ``dry_run``, ``verify``, ``verify_timeout``, ``keep_going``, ``jobs``,
    ``retry``, ``transport``, ``timeout``, ``attestations``, ``interactive``,
    ``allow_insecure``, ``allow_anonymous``, ``blake2``, ``comment``,
    ``on_event``, ``on_destination``).  Raises before anything is sent for
    unusable files or destinations (:class:`~registry_upload.errors.ConfigurationError`,
    :class:`~registry_upload.errors.DistributionError`,
    :class:`~registry_upload.errors.NoCredentialsError`...);
    :class:`PublishInterrupted` on Ctrl-C; with ``raise_on_failure=True``,
    :class:`PublishFailedError` if any file failed anywhere.
    """
    with Publisher(
        destinations,
        credentials=credentials,
        username=username,
        password=password,
        pypirc=pypirc,
        index_urls=index_urls,
        options=options,
        **option_args,
    ) as publisher:
        report = publisher.publish(paths)
    if raise_on_failure:
        report.raise_for_failures()
    return report
