"""Where files go: a registry or a static index, behind one :class:`Destination` protocol.

A destination is built for one run's :class:`~registry_upload.options.PublishOptions`
and answers four questions, in this order::

    preflight(dists)   may these files go there?  (nothing is sent)
    send(dists)        send them; an UploadReport, interrupted=True after Ctrl-C
    close()            release connections

:func:`registry_upload.publish.publish` is a loop over destinations;
:func:`registry_upload.upload` is publishing to one registry destination.

A registry destination owns its :class:`~registry_upload._session.Session`:
its own credentials (resolved for its URL alone), its transport and its
index.  A static index destination writes files into a directory tree.
Both build their per-file results with :func:`file_result`.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ._attempt import IN_FLIGHT, AttemptOptions, FileUpload, unreachable
from ._index import IndexLookup, lookup_project_files
from ._pool import Pool, PoolRun
from ._session import Session, SessionOptions
from ._verify import VerifyOutcome, VerifyStatus, verify_listed
from .checks import refuse
from .credentials import (
    RUN_WIDE_PROVIDERS,
    CredentialChain,
    CredentialKind,
    CredentialProvider,
    Credentials,
    FixedProvider,
    Target as CredentialTarget,
)
from .distribution import Distribution
from .errors import (
    ConfigurationError,
    FileExistsOnRegistryError,
    RegistryUploadError,
)
from .options import PublishOptions
from .repository import Repository
from .results import FileResult, FileStatus, ProgressEvent, UploadReport
from .transport import Transport

if TYPE_CHECKING:
    from .registries import Profile
    from .static_index import PublishResult, StaticIndex

__all__ = [
    "STATIC_INDEX",
    "CredentialsInput",
    "Destination",
    "DestinationKind",
    "RegistryDestination",
    "StaticIndexDestination",
    "file_result",
]

logger = logging.getLogger(__name__)

#: The registry id a static index destination reports.
STATIC_INDEX = "static-index"
#: A registry that takes at least this long to answer a file adds a parallel
#: worker (up to ``jobs``): its processing time is what parallelism hides.
SLOW_FILE_SECONDS = 0.02

CredentialsInput = Credentials | CredentialChain | CredentialProvider | None

_BATCH_INTERRUPTED = "not started: the batch was interrupted"


class DestinationKind(str, enum.Enum):
    REGISTRY = "registry"
    STATIC_INDEX = STATIC_INDEX

    def __str__(self) -> str:
        return self.value


@runtime_checkable
class Destination(Protocol):
    """What a run publishes to.  ``name`` is the destination as given (a URL
    without any credentials written into it); ``url`` the upload URL or the
    static index's ``file:`` URL; ``registry`` the registry's id."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> DestinationKind: ...

    @property
    def url(self) -> str: ...

    @property
    def registry(self) -> str: ...

    def preflight(self, dists: Sequence[Distribution]) -> None:
        """Raise what would stop these files before anything is sent."""

    def send(self, dists: Sequence[Distribution]) -> UploadReport:
        """Publish the files; per-file failures are in the report, Ctrl-C sets
        ``interrupted`` on it."""

    def close(self) -> None: ...


# -- one builder of per-file results ------------------------------------------------


def file_result(
    dist: Distribution, dest: Destination, status: FileStatus, **fields: object
) -> FileResult:
    """A file's result at a destination: the file and the destination filled in."""
    return FileResult(
        path=str(dist.path),
        filename=dist.filename,
        status=status,
        url=dest.url,
        registry=dest.registry,
        **fields,  # type: ignore[arg-type]
    )


def not_started(
    dists: Sequence[Distribution], dest: Destination, reason: str, *, elapsed: float = 0.0
) -> UploadReport:
    """The report of a destination none of whose files was started."""
    return UploadReport(
        repository_url=dest.url,
        registry=dest.registry,
        results=tuple(file_result(d, dest, FileStatus.NOT_STARTED, reason=reason) for d in dists),
        elapsed=elapsed,
    )


# -- a registry ----------------------------------------------------------------------


class RegistryDestination:
    """A package registry's upload URL, with its own credentials, transport and index.

    ``credentials``: fixed :class:`Credentials`, a :class:`CredentialChain`, one
    :class:`CredentialProvider`, or ``None`` for the default chain (headed by
    ``username``/``password`` when given).  Credentials written into the URL
    head the chain as source ``url``.
    """

    kind = DestinationKind.REGISTRY

    def __init__(
        self,
        repository: Repository,
        options: PublishOptions,
        *,
        credentials: CredentialsInput = None,
        username: str | None = None,
        password: str | None = None,
        pypirc: str | None = None,
        name: str | None = None,
        target_source: str = "--repository-url",
    ) -> None:
        self.repository = repository
        self.options = options
        self.name = name or repository.name or repository.url
        #: Where the choice of this registry came from (an argument, a variable, the default).
        self.target_source = target_source
        fixed, chain = credential_source(
            credentials,
            username,
            password,
            repository.url_credentials,
            lambda user, secret: CredentialChain.default(
                username=user, password=secret, pypirc=pypirc, interactive=options.interactive
            ),
        )
        self.transport = Transport(options.transport_options())
        self.session = Session(
            repository,
            self.transport,
            fixed=fixed,
            chain=chain,
            options=SessionOptions(allow_insecure=options.allow_insecure),
        )
        self._closed = False
        self._ready: dict[int, Distribution] = {}
        #: (path, note) about this destination's files, set by the preflight.
        self.notes: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"RegistryDestination({self.name!r}, {self.url!r})"

    @property
    def url(self) -> str:
        return self.repository.url

    @property
    def registry(self) -> str:
        return self.session.profile.id

    @property
    def profile(self) -> Profile:
        return self.session.profile

    def close(self) -> None:
        self._closed = True
        self.transport.close()

    def credentials(self) -> Credentials | None:
        """Resolve this destination's credentials (once; again before a token expires)."""
        self._check_open()
        return self.session.credentials()

    def scoped_source(self) -> str:
        """Where this registry's credentials come from without any run-wide secret
        (``-u/-p``, the environment), without prompting."""
        chain = self.session.chain
        if chain is None:
            return "the credentials given for it"
        scoped = chain.without(*RUN_WIDE_PROVIDERS, "prompt")
        resolution = scoped.resolve(
            CredentialTarget(url=self.url, name=self.repository.name, transport=self.transport),
            record_errors=True,
        )
        if resolution.error is not None:
            return f"none ({resolution.error.message})"
        return resolution.source or "none found"

    # -- the protocol ------------------------------------------------------------

    def preflight(self, dists: Sequence[Distribution]) -> None:
        """Files this registry would refuse stop the run; credentials are resolved now,
        and so are the PEP 740 attestations it takes (signed now where they can be)."""
        self._check_open()
        refuse(dists, self.session.profile, index_lookup=self._lookup)
        creds = self.session.credentials()
        self._ready = self._with_attestations(dists, creds)

    def _with_attestations(
        self, dists: Sequence[Distribution], creds: Credentials | None
    ) -> dict[int, Distribution]:
        """Each file as this registry gets it.

        PyPI and TestPyPI take PEP 740 attestations on a trusted-publishing upload
        only: then files without one are signed now and every attestation is
        pre-checked as warehouse will.  A registry known not to take them (PyPI
        with an API token, GitLab, devpi...) gets none, with a note.  An
        unrecognised registry gets what was found beside the files, as twine and
        uv send it.
        """
        self.notes = []
        registry = self.profile.id
        if registry in ("pypi", "testpypi") and _trusted_publishing(creds):
            from .attest import prepare_for_upload

            prepared = prepare_for_upload(dists, transport=self.transport)
            self.notes = [("", note) for note in prepared.notes]
            return {id(d): p for d, p in zip(dists, prepared.dists, strict=True)}
        carried = [d for d in dists if d.attestations]
        if registry == "unknown" or not carried:
            return {}
        pypi = registry in ("pypi", "testpypi")
        why = "but on a trusted-publishing upload" if pypi else "(PyPI and TestPyPI do)"
        self.notes = [
            (str(d.path), f"attestations left out: {self.profile.title} does not take them {why}")
            for d in carried
        ]
        return {id(d): replace(d, attestations=()) for d in carried}

    def send(self, dists: Sequence[Distribution]) -> UploadReport:
        self._check_open()
        dists = [self._ready.get(id(d), d) for d in dists]
        started = time.monotonic()
        pool = Pool(
            self.options.jobs, slow_seconds=SLOW_FILE_SECONDS, on_abort=self.transport.close
        )
        attempt = AttemptOptions(
            retry=self.options.retry,
            skip_existing=self.options.skip_existing,
            blake2=self.options.blake2,
            comment=self.options.comment,
            dry_run=self.options.dry_run,
        )
        order = sorted(range(len(dists)), key=lambda i: (dists[i].filetype != "bdist_wheel", i))

        def work(index: int) -> FileResult:
            upload = FileUpload(
                self.session, dists[index], attempt, emit=self.options.on_event, stop=pool.stop
            )
            return upload.run()

        run = pool.run(order, work, halt_reason=unreachable)
        results = self._settle(dists, run)
        if self.options.verify and not self.options.dry_run and not run.interrupted:
            results, interrupted = self._verify(dists, results)
        else:
            interrupted = run.interrupted
        return self._report(results, time.monotonic() - started, interrupted)

    # -- helpers -------------------------------------------------------------------

    def _lookup(self, project: str) -> IndexLookup:
        """The project's page on this registry's index (read by the preflight's
        one-sdist-per-release rule, for registries that have it)."""
        index = self.session.index_url()
        authorization = self.session.index_authorization(index)
        return lookup_project_files(self.transport, index, project, authorization=authorization)

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError(
                f"the destination {self.name} is closed",
                hint="Create a new Uploader (or Publisher) for another batch after close().",
                url=self.url,
            )

    def _settle(self, dists: Sequence[Distribution], run: PoolRun) -> list[FileResult]:
        """Every file's result: what the pool returned, or why it has none."""
        out: list[FileResult] = []
        for i, (dist, got) in enumerate(zip(dists, run.results, strict=True)):
            if got is None:
                started = i in run.started
                status = FileStatus.INTERRUPTED if started else FileStatus.NOT_STARTED
                reason = IN_FLIGHT if started else (run.halted or _BATCH_INTERRUPTED)
                got = file_result(dist, self, status, reason=reason)  # noqa: PLW2901
            elif i in run.aborted and got.status is FileStatus.FAILED:
                # Ctrl-C cut its connection: the error is of our making, the outcome unknown.
                got = replace(got, status=FileStatus.INTERRUPTED, reason=IN_FLIGHT)  # noqa: PLW2901
            out.append(got)
        return out

    def _report(self, results: list[FileResult], elapsed: float, interrupted: bool) -> UploadReport:
        if any(r.attempts for r in results):
            self.session.identify()  # name the registry in the report
        creds = self.session.credentials() if not interrupted else None
        registry = self.session.profile.id
        return UploadReport(
            repository_url=self.url,
            registry=registry,
            results=tuple(replace(r, registry=registry) for r in results),
            credential_source=creds.source if creds else None,
            elapsed=elapsed,
            interrupted=interrupted,
            notes=tuple(self.notes),
        )

    def _verify(
        self, dists: Sequence[Distribution], results: list[FileResult]
    ) -> tuple[list[FileResult], bool]:
        """Read the index until each uploaded file is listed; one bounded wait for all."""
        policy = self.options.verification()
        since = policy.clock()
        index_url = self.session.index_url()
        authorization = self.session.index_authorization(index_url)
        out = list(results)
        try:
            for i, (dist, result) in enumerate(zip(dists, results, strict=True)):
                if not _wants_verify(result):
                    continue
                outcome = verify_listed(
                    self.transport,
                    index_url,
                    dist.project,
                    dist.filename,
                    result.sha256 or dist.digests(blake2=False).sha256,
                    authorization=authorization,
                    policy=policy,
                    since=since,
                )
                out[i] = _with_outcome(result, outcome)
        except KeyboardInterrupt:
            return out, True
        return out, False


def _trusted_publishing(creds: Credentials | None) -> bool:
    return creds is not None and creds.kind is CredentialKind.TRUSTED_PUBLISHING


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


def credential_source(
    credentials: object,
    username: str | None,
    password: str | None,
    from_url: Credentials | None,
    default_chain: Callable[[str | None, str | None], CredentialChain],
) -> tuple[Credentials | None, CredentialChain | None]:
    """(fixed credentials, chain): exactly one of them is used.

    Without ``credentials``, the default chain answers, headed by ``username``
    and ``password`` (or the ones written into the URL)."""
    if credentials is not None and (username is not None or password is not None):
        raise TypeError(
            "pass either credentials=... or username=/password=, not both "
            "(username= and password= head the default chain)"
        )
    if isinstance(credentials, Credentials):
        return credentials, None
    if isinstance(credentials, CredentialProvider) and not isinstance(credentials, CredentialChain):
        credentials = CredentialChain([credentials])
    if credentials is None:
        if username is None and from_url is not None and not from_url.password:
            username = from_url.username  # a username alone in the URL heads the chain
        credentials = default_chain(username, password)
    if isinstance(credentials, CredentialChain):
        if from_url is not None and from_url.password and username is None and password is None:
            # What the user wrote into the URL answers first, as source "url".
            return None, credentials.headed_by(FixedProvider(from_url))
        return None, credentials
    raise TypeError(
        f"credentials must be Credentials, a CredentialChain, a CredentialProvider or None, "
        f"not {type(credentials).__name__}; for a username and password pass "
        "username=... and password=... (or Credentials.of(username, password))"
    )


# -- a static index ----------------------------------------------------------------------


class StaticIndexDestination:
    """A PEP 503/691 index in a directory (see :mod:`registry_upload.static_index`)."""

    kind = DestinationKind.STATIC_INDEX
    registry = STATIC_INDEX

    def __init__(self, index: StaticIndex, options: PublishOptions, *, name: str) -> None:
        self.index = index
        self.options = options
        self.name = name

    def __repr__(self) -> str:
        return f"StaticIndexDestination({self.name!r})"

    @property
    def url(self) -> str:
        return self.index.url

    def close(self) -> None:
        pass

    def preflight(self, dists: Sequence[Distribution]) -> None:
        """The index must be writable, with room for the batch (probed by writing)."""
        self.index.preflight(dists)

    def send(self, dists: Sequence[Distribution]) -> UploadReport:
        started = time.monotonic()
        results: list[FileResult] = []
        interrupted = False
        for dist in dists:
            if interrupted:
                results.append(
                    file_result(dist, self, FileStatus.NOT_STARTED, reason=_BATCH_INTERRUPTED)
                )
                continue
            try:
                results.append(self._store(dist))
            except KeyboardInterrupt:
                interrupted = True
                reason = (
                    "interrupted while being stored: re-run with skip-existing to finish "
                    "(an identical file counts as existing)"
                )
                results.append(file_result(dist, self, FileStatus.INTERRUPTED, reason=reason))
        return UploadReport(
            repository_url=self.url,
            registry=STATIC_INDEX,
            results=tuple(results),
            elapsed=time.monotonic() - started,
            interrupted=interrupted,
        )

    def _store(self, dist: Distribution) -> FileResult:
        self._emit(ProgressEvent("started", dist.filename, total_bytes=dist.size))
        started = time.monotonic()
        if self.options.dry_run:
            result = file_result(
                dist, self, FileStatus.DRY_RUN, reason="dry run: inspected, nothing written"
            )
        else:
            try:
                stored = self.index.publish(dist)
            except RegistryUploadError as exc:
                result = file_result(dist, self, FileStatus.FAILED, error=exc, attempts=1)
            else:
                result = self._stored(dist, stored)
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

    def _stored(self, dist: Distribution, stored: PublishResult) -> FileResult:
        """The index's answer, as a registry's would read."""
        from .static_index import PublishStatus

        done = {"attempts": 1, "sha256": stored.sha256}
        if stored.status is PublishStatus.STORED:
            return file_result(
                dist, self, FileStatus.UPLOADED, **done,
                bytes_sent=dist.size, verified=True, reason=f"stored as {stored.path}",
            )  # fmt: skip
        if stored.status is PublishStatus.CONFLICT:
            return file_result(dist, self, FileStatus.FAILED, **done, error=stored.error)
        if self.options.skip_existing:
            return file_result(
                dist, self, FileStatus.SKIPPED, **done,
                verified=True, reason="already in the static index with the same sha256",
            )  # fmt: skip
        error = FileExistsOnRegistryError(
            f"{dist.filename}: the static index already has this file",
            url=stored.url,
            registry=STATIC_INDEX,
            path=str(dist.path),
            hint="The index already has this very file (same sha256): nothing is lost. "
            "Re-run with skip-existing (skip_existing=True / --skip-existing) to treat files "
            "already there as done.",
        )
        return file_result(dist, self, FileStatus.FAILED, **done, error=error)

    def _emit(self, event: ProgressEvent) -> None:
        if self.options.on_event is not None:
            self.options.on_event(event)
