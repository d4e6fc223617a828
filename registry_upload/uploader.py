"""The Uploader: plan the batch, run the pool, report.

Read top-down, the upload path is four layers::

    Uploader.upload(paths)
      plan       expand paths, open every file (nothing is sent if one is
                 unusable), refuse what the registry would refuse, resolve
                 credentials once, order wheels before sdists
      pool       bounded adaptive workers; Ctrl-C or an unreachable registry
                 stops new files (``_pool``)
      attempt    one file's state machine: checking → sending → verifying →
                 waiting → done (``_attempt``)
      transport  HTTP only (``transport``)

Shared by all of them, the :class:`~registry_upload._session.Session`: the
registry's profile, credentials under the origin rule, the index.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from ._attempt import AttemptOptions, FileUpload, unreachable
from ._paths import collect
from ._pool import Pool, PoolRun
from ._session import Session, SessionOptions
from .credentials import (
    CredentialChain,
    CredentialProvider,
    Credentials,
    FixedProvider,
    Resolution,
)
from .distribution import Distribution
from .errors import (
    ConfigurationError,
    DistributionError,
    UploadInterrupted,
)
from .registries import PYPI_UPLOAD_URL, Profile
from .repository import Repository, without_userinfo
from .results import FileResult, FileStatus, ProgressEvent, Severity, UploadReport
from .retry import RetryPolicy
from .transport import MAX_WAIT_SECONDS, Transport, TransportOptions

__all__ = [
    "DEFAULT_JOBS",
    "MAX_JOBS",
    "PathInput",
    "ProgressEvent",
    "Uploader",
    "resolve_repository",
    "upload",
]

logger = logging.getLogger(__name__)

#: Parallel uploads by default: registries spend most of an upload's time
#: processing it, so a few files in flight hide that latency.
DEFAULT_JOBS = 8
#: The most files in flight (each holds a connection and a thread).
MAX_JOBS = 64
#: A registry that takes at least this long to answer a file adds a parallel
#: worker (up to ``jobs``): its processing time is what parallelism hides.
SLOW_FILE_SECONDS = 0.02

#: One path (a ``str`` is one path, never its characters) or an iterable of paths;
#: files or directories (a directory stands for the distributions in it).  Already
#: opened :class:`Distribution` objects are taken as they are (no second inspection).
PathItem = str | os.PathLike[str] | Distribution
PathInput = PathItem | Iterable[PathItem]
CredentialsInput = Credentials | CredentialChain | CredentialProvider | None


def resolve_repository(
    repository_url: str | None = None,
    *,
    repository: str | None = None,
    pypirc: str | os.PathLike[str] | None = None,
    index_url: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[Repository, dict[str, str | None]]:
    """Pick the upload URL: explicit URL, a .pypirc name, the environment, or PyPI.

    Returns the repository and the .pypirc section's TLS settings (if any).
    """
    environ = os.environ if env is None else env
    tls: dict[str, str | None] = {}
    if repository_url is None and repository is not None:
        from .credentials import load_pypirc

        sections = load_pypirc(pypirc)
        section = sections.get(repository)
        if section is None or not section.repository:
            raise _unknown_repository(repository, sorted(sections))
        repository_url = section.repository
        tls = {"ca_cert": section.ca_cert, "client_cert": section.client_cert}
    if repository_url is None:
        repository_url = (
            environ.get("REGISTRY_UPLOAD_REPOSITORY_URL")
            or environ.get("TWINE_REPOSITORY_URL")
            or PYPI_UPLOAD_URL
        )
    return Repository(url=repository_url, name=repository, index_url=index_url), tls


def _unknown_repository(name: str, known: list[str]) -> ConfigurationError:
    if "://" in name:  # a URL given as a name: never echo what may be credentials in it
        return ConfigurationError(
            f"-r/--repository takes a .pypirc name, not a URL ({without_userinfo(name)!r})",
            hint="Pass the URL with --repository-url (repository_url=...).",
        )
    return ConfigurationError(
        f"repository {name!r} is not in .pypirc (known: {', '.join(known) or 'none'})",
        hint="Add a [name] section with repository = <upload URL>, "
        "list it in [distutils] index-servers, or pass --repository-url.",
    )


class Uploader:
    """Reusable: one connection pool, one credential resolution, one policy.

    ``credentials``: :class:`Credentials`, a :class:`CredentialChain`, one
    :class:`CredentialProvider`, or ``None`` for the default chain (which
    ``username``/``password`` head, as ``-u``/``-p`` do; ``interactive``
    lets it prompt on a terminal).  ``timeout``: the most seconds one attempt
    (connect, send, answer) may take; by default it grows with the file
    (:meth:`TransportOptions.deadline`).  ``attestations=False`` leaves PEP
    740 attestation files beside the distributions out.  ``on_event`` receives
    :class:`ProgressEvent` from worker threads.
    """

    def __init__(
        self,
        repository_url: str | None = None,
        *,
        repository: str | None = None,
        credentials: CredentialsInput = None,
        username: str | None = None,
        password: str | None = None,
        interactive: bool = False,
        pypirc: str | os.PathLike[str] | None = None,
        index_url: str | None = None,
        skip_existing: bool = False,
        jobs: int = DEFAULT_JOBS,
        retry: RetryPolicy | None = None,
        transport: TransportOptions | None = None,
        timeout: float | None = None,
        allow_insecure: bool = False,
        blake2: bool = False,
        comment: str | None = None,
        dry_run: bool = False,
        attestations: bool = True,
        on_event: Callable[[ProgressEvent], None] | None = None,
    ) -> None:
        if not isinstance(jobs, int) or isinstance(jobs, bool) or not 1 <= jobs <= MAX_JOBS:
            raise ConfigurationError(
                f"jobs must be a whole number from 1 to {MAX_JOBS}, not {jobs!r}",
                hint="Use jobs=1 for strictly sequential uploads (--jobs 1); registries "
                "gain nothing from more than a few files in flight.",
            )
        self.repository, tls = resolve_repository(
            repository_url, repository=repository, pypirc=pypirc, index_url=index_url
        )
        self.jobs = jobs
        self.options = _transport_options(transport, tls, jobs, timeout)
        self.retry = retry or RetryPolicy()
        self.attempt_options = AttemptOptions(
            retry=self.retry,
            skip_existing=skip_existing,
            blake2=blake2,
            comment=comment,
            dry_run=dry_run,
        )
        self.on_event = on_event
        self.attestations = attestations
        fixed, chain = _credential_source(
            credentials,
            username,
            password,
            self.repository.url_credentials,
            lambda user, secret: CredentialChain.default(
                username=user, password=secret, pypirc=pypirc, interactive=interactive
            ),
        )
        self._transport = Transport(self.options)
        self.session = Session(
            self.repository,
            self._transport,
            fixed=fixed,
            chain=chain,
            options=SessionOptions(allow_insecure=allow_insecure),
        )
        #: The last batch's report, also when it was interrupted.
        self.report: UploadReport | None = None

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Uploader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def skip_existing(self) -> bool:
        return self.attempt_options.skip_existing

    @property
    def dry_run(self) -> bool:
        return self.attempt_options.dry_run

    @property
    def profile(self) -> Profile:
        """The registry's profile, as recognised so far."""
        return self.session.profile

    @property
    def resolution(self) -> Resolution | None:
        """What the credential chain said (after the first upload or :meth:`credentials`)."""
        return self.session.resolution

    def credentials(self) -> Credentials | None:
        """Resolve (once; again when a short-lived token is about to expire)."""
        return self.session.credentials()

    # -- the batch -------------------------------------------------------------

    def upload(self, paths: PathInput) -> UploadReport:
        """Upload every file; never raises for a single file's failure (see the report).

        Raises only for what is found before anything is sent (an unusable
        file, credentials that would travel in clear text).  Ctrl-C raises
        :class:`~registry_upload.errors.UploadInterrupted` once no upload
        thread is left; its ``.report`` (and :attr:`report`) has every file.
        """
        started = time.monotonic()
        dists, notes = self._plan(paths)
        pool = Pool(self.jobs, slow_seconds=SLOW_FILE_SECONDS, on_abort=self._transport.close)
        order = sorted(range(len(dists)), key=lambda i: (dists[i].filetype != "bdist_wheel", i))

        def work(index: int) -> FileResult:
            upload = FileUpload(
                self.session, dists[index], self.attempt_options, emit=self.on_event, stop=pool.stop
            )
            return upload.run()

        run = pool.run(order, work, halt_reason=_unreachable)
        self.report = self._report(dists, run, time.monotonic() - started, notes)
        if run.interrupted:
            raise UploadInterrupted(self.report)
        return self.report

    def _plan(self, paths: PathInput) -> tuple[list[Distribution], tuple[tuple[str, str], ...]]:
        """Open every file first: nothing is sent if one of them is unusable, or if
        the registry would refuse it; then resolve the credentials once."""
        dists, notes = open_distributions(paths, attestations=self.attestations)
        refuse_for_registry(dists, self.session.profile)
        self.session.credentials()
        return dists, notes

    def _report(
        self,
        dists: list[Distribution],
        run: PoolRun,
        elapsed: float,
        notes: tuple[tuple[str, str], ...],
    ) -> UploadReport:
        results = tuple(
            _settled(result, i in run.aborted)
            if result is not None
            else _not_done(dist, i in run.started, run, self)
            for i, (dist, result) in enumerate(zip(dists, run.results, strict=True))
        )
        if any(r.attempts for r in results):
            self.session.identify()  # name the registry in the report
        creds = self.session.credentials() if not run.interrupted else None
        return UploadReport(
            repository_url=self.repository.url,
            registry=self.session.profile.id,
            results=tuple(replace(r, registry=self.session.profile.id) for r in results),
            credential_source=creds.source if creds else None,
            elapsed=elapsed,
            interrupted=run.interrupted,
            notes=notes,
        )


def _unreachable(result: FileResult) -> str | None:
    """Why no further file should start: the registry could not be reached at all."""
    return unreachable(result)


_IN_FLIGHT = (
    "interrupted while in flight: the registry may or may not have kept it "
    "(a re-run with skip-existing is safe)"
)


def _settled(result: FileResult, aborted: bool) -> FileResult:
    """A file whose connection Ctrl-C cut ended with an error of our making: unknown."""
    if not aborted or result.status is not FileStatus.FAILED:
        return result
    return replace(result, status=FileStatus.INTERRUPTED, reason=_IN_FLIGHT)


def _not_done(dist: Distribution, started: bool, run: PoolRun, up: Uploader) -> FileResult:
    if started:
        status, reason = FileStatus.INTERRUPTED, _IN_FLIGHT
    else:
        status = FileStatus.NOT_STARTED
        reason = run.halted or "not started: the batch was interrupted"
    return FileResult(
        path=str(dist.path),
        filename=dist.filename,
        status=status,
        url=up.repository.url,
        registry=up.session.profile.id,
        reason=reason,
    )


def _transport_options(
    options: TransportOptions | None,
    tls: dict[str, str | None],
    jobs: int,
    timeout: float | None,
) -> TransportOptions:
    """The caller's options, completed by the .pypirc section's TLS settings."""
    options = options or TransportOptions()
    if timeout is not None:
        if not 0 < timeout <= MAX_WAIT_SECONDS:  # NaN fails this too
            raise ConfigurationError(
                f"timeout must be more than 0 and at most {MAX_WAIT_SECONDS:g} seconds, "
                f"not {timeout!r}",
                hint="Give the most seconds one attempt (connect, send, answer) may take.",
            )
        options = replace(options, timeout=float(timeout))
    if tls.get("ca_cert") and options.ca_cert is None:
        options = replace(options, ca_cert=tls["ca_cert"])
    if tls.get("client_cert") and options.client_cert is None:
        options = replace(options, client_cert=tls["client_cert"])
    return replace(options, pool_size=max(options.pool_size, jobs))


def _credential_source(
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


def open_distributions(
    paths: PathInput, *, attestations: bool = True
) -> tuple[list[Distribution], tuple[tuple[str, str], ...]]:
    """Every distribution named by ``paths``, opened (all problems at once), and the
    notes on companion files set aside.  The preflight of a batch."""
    items, notes = _collect(paths)
    return _open_all(items, attestations=attestations), notes


def _collect(paths: PathInput) -> tuple[list[PathItem], tuple[tuple[str, str], ...]]:
    """The distributions to upload, and a note for each companion file set aside.

    Paths go through :func:`~registry_upload._paths.collect` (directories
    expand; ``.asc`` and ``.attestation`` companions are noted, other files
    refused); :class:`Distribution` objects are taken as they are.
    """
    if isinstance(paths, Distribution):
        return [paths], ()
    if isinstance(paths, str | os.PathLike) or not isinstance(paths, Iterable):
        found = collect(paths)  # raises TypeError for what is not a path
        return list(found.paths), found.notes
    items = list(paths)
    if not any(isinstance(item, Distribution) for item in items):
        found = collect(items)  # type: ignore[arg-type]
        return list(found.paths), found.notes
    out: list[PathItem] = []
    notes: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, Distribution):
            out.append(item)
        else:
            found = collect(item)
            out.extend(found.paths)
            notes.extend(found.notes)
    return out, tuple(notes)


def refuse_for_registry(dists: list[Distribution], profile: Profile) -> None:
    """Warnings this registry would answer with a refusal stop the batch before it starts."""
    refused = [
        replace(finding, severity=Severity.ERROR)
        for dist in dists
        for finding in dist.findings
        if finding.code in profile.refuses
    ]
    if not refused:
        return
    files = sorted({finding.path for finding in refused})
    raise DistributionError(
        f"{profile.title} would refuse {len(files)} file(s); nothing was sent: "
        + "; ".join(f"{f.path}: {f.message}" for f in refused),
        problems=refused,
        hint=refused[0].hint
        or f"Rebuild with a current build backend before uploading to {profile.title}.",
        path=files[0] if len(files) == 1 else None,
    )


def _open_all(paths: Iterable[PathItem], *, attestations: bool = True) -> list[Distribution]:
    dists: list[Distribution] = []
    errors: list[DistributionError] = []
    for path in paths:
        if isinstance(path, Distribution):
            dists.append(path)
            continue
        try:
            dists.append(Distribution.open(path, attestations=attestations))
        except DistributionError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        listing = "\n".join(f"- {e.message}" for e in errors)
        raise DistributionError(
            f"{len(errors)} files cannot be uploaded; nothing was sent:\n{listing}",
            problems=[problem for error in errors for problem in error.problems],
            hint=errors[0].hint,
        )
    return dists


def upload(
    paths: PathInput,
    repository_url: str | None = None,
    *,
    repository: str | None = None,
    credentials: CredentialsInput = None,
    username: str | None = None,
    password: str | None = None,
    pypirc: str | os.PathLike[str] | None = None,
    index_url: str | None = None,
    skip_existing: bool = False,
    jobs: int = DEFAULT_JOBS,
    retry: RetryPolicy | None = None,
    transport: TransportOptions | None = None,
    timeout: float | None = None,
    allow_insecure: bool = False,
    blake2: bool = False,
    comment: str | None = None,
    dry_run: bool = False,
    attestations: bool = True,
    on_event: Callable[[ProgressEvent], None] | None = None,
    raise_on_failure: bool = False,
) -> UploadReport:
    """Upload files in one call; the keywords are :class:`Uploader`'s.

    Raises for problems found before anything is sent (unusable files, bad
    configuration, credentials that would travel in clear text).  Per-file
    failures are in the report; ``raise_on_failure=True`` raises
    :class:`~registry_upload.errors.UploadFailedError` (with the report) if
    any file failed.
    """
    with Uploader(
        repository_url,
        repository=repository,
        credentials=credentials,
        username=username,
        password=password,
        pypirc=pypirc,
        index_url=index_url,
        skip_existing=skip_existing,
        jobs=jobs,
        retry=retry,
        transport=transport,
        timeout=timeout,
        allow_insecure=allow_insecure,
        blake2=blake2,
        comment=comment,
        dry_run=dry_run,
        attestations=attestations,
        on_event=on_event,
    ) as uploader:
        report = uploader.upload(paths)
    if raise_on_failure:
        report.raise_for_failures()
    return report
