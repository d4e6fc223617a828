"""The Uploader: inspect every file, resolve credentials, send, report.

Order of work for a batch:

1. preflight: open every file (nothing is sent if one is unusable);
2. resolve credentials once (the chain records which source answered);
3. with skip-existing, read each project's simple index once and skip files
   already there with the same sha256 (a different hash is a conflict);
4. send with bounded parallelism (wheels first, then sdists), each file
   under the retry policy; an ambiguous attempt (the body went out but no
   clean answer came back) is checked against the index before any resend,
   so a file is never sent twice and a stored file is never reported failed;
5. results come back in the order the paths were given.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from .credentials import (
    CredentialChain,
    CredentialKind,
    Credentials,
    Resolution,
    Target,
    load_pypirc,
)
from .distribution import Distribution
from .errors import (
    AuthenticationError,
    ConfigurationError,
    DistributionError,
    FileExistsOnRegistryError,
    InsecureTransportError,
    RegistryUploadError,
    TransportError,
    UploadError,
)
from .repository import PYPI_UPLOAD_URL, Registry, Repository, detect_registry
from .results import FileResult, FileStatus, UploadReport
from .retry import Retryable, RetryPolicy, parse_retry_after
from .transport import MultipartBody, Response, Transport, TransportOptions

if TYPE_CHECKING:
    from ._index import IndexFiles

# diagnostics and _index are imported where they are needed (a failure, an
# index lookup): the happy path of a small batch is dominated by start-up.

__all__ = ["DEFAULT_JOBS", "ProgressEvent", "Uploader", "resolve_repository", "upload"]

logger = logging.getLogger(__name__)

#: Parallel uploads by default: registries spend most of an upload's time
#: processing it, so a few files in flight hide that latency.
DEFAULT_JOBS = 8
#: A registry that takes at least this long to answer a file adds a parallel
#: worker (up to ``jobs``): its processing time is what parallelism hides.
SLOW_FILE_SECONDS = 0.02

EventKind = Literal["started", "progress", "retrying", "finished"]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Reported to ``on_event`` (from worker threads) as files move along."""

    kind: EventKind
    filename: str
    bytes_sent: int = 0
    total_bytes: int = 0
    attempt: int = 1
    result: FileResult | None = None


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
        sections = load_pypirc(pypirc)
        section = sections.get(repository)
        if section is None or not section.repository:
            known = ", ".join(sorted(sections)) or "none"
            raise ConfigurationError(
                f"repository {repository!r} is not in .pypirc (known: {known})",
                hint="Add a [name] section with repository = <upload URL>, "
                "list it in [distutils] index-servers, or pass --repository-url.",
            )
        repository_url = section.repository
        tls = {"ca_cert": section.ca_cert, "client_cert": section.client_cert}
    if repository_url is None:
        repository_url = (
            environ.get("REGISTRY_UPLOAD_REPOSITORY_URL")
            or environ.get("TWINE_REPOSITORY_URL")
            or PYPI_UPLOAD_URL
        )
    return Repository(url=repository_url, name=repository, index_url=index_url), tls


def _open_all(paths: Iterable[str | os.PathLike[str]]) -> list[Distribution]:
    dists: list[Distribution] = []
    errors: list[DistributionError] = []
    for path in paths:
        try:
            dists.append(Distribution.open(path))
        except DistributionError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        listing = "\n".join(f"- {e.message}" for e in errors)
        raise DistributionError(
            f"{len(errors)} files cannot be uploaded; nothing was sent:\n{listing}",
            hint=errors[0].hint,
        )
    return dists


class Uploader:
    """Reusable: one connection pool, one credential resolution, one policy.

    ``credentials`` may be :class:`Credentials`, a :class:`CredentialChain`,
    or ``None`` for the default chain.  ``on_event`` receives
    :class:`ProgressEvent` from worker threads.
    """

    def __init__(
        self,
        repository_url: str | None = None,
        *,
        repository: str | None = None,
        credentials: Credentials | CredentialChain | None = None,
        pypirc: str | os.PathLike[str] | None = None,
        index_url: str | None = None,
        skip_existing: bool = False,
        jobs: int = DEFAULT_JOBS,
        retry: RetryPolicy | None = None,
        transport: TransportOptions | None = None,
        allow_insecure: bool = False,
        blake2: bool = False,
        comment: str | None = None,
        dry_run: bool = False,
        on_event: Callable[[ProgressEvent], None] | None = None,
    ) -> None:
        self.repository, tls = resolve_repository(
            repository_url, repository=repository, pypirc=pypirc, index_url=index_url
        )
        options = transport or TransportOptions()
        if tls.get("ca_cert") and options.ca_cert is None:
            options = replace(options, ca_cert=tls["ca_cert"])
        if tls.get("client_cert") and options.client_cert is None:
            options = replace(options, client_cert=tls["client_cert"])
        self.jobs = max(1, jobs)
        self.options = replace(options, pool_size=max(options.pool_size, self.jobs))
        self.chain = (
            credentials
            if isinstance(credentials, CredentialChain)
            else CredentialChain.default(pypirc=pypirc)
            if credentials is None
            else None
        )
        self._fixed = credentials if isinstance(credentials, Credentials) else None
        self.skip_existing = skip_existing
        self.retry = retry or RetryPolicy()
        self.allow_insecure = allow_insecure
        self.blake2 = blake2
        self.comment = comment
        self.dry_run = dry_run
        self.on_event = on_event
        self._transport = Transport(self.options)
        self._lock = threading.Lock()
        self._credentials: Credentials | None = None
        self._resolution: Resolution | None = None
        self._resolved = False
        self._index_cache: dict[str, IndexFiles | None] = {}
        self._registry = self.repository.registry
        self._probed = False
        self._probe_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Uploader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- credentials ---------------------------------------------------------

    @property
    def resolution(self) -> Resolution | None:
        """What the credential chain said (after the first upload or :meth:`credentials`)."""
        return self._resolution

    def credentials(self) -> Credentials | None:
        """Resolve (once; again when a short-lived token is about to expire)."""
        with self._lock:
            creds = self._credentials
            if self._resolved and not (creds is not None and creds.expires_within(120)):
                return creds
            if self._fixed is not None:
                creds = self._fixed
            elif self.chain is not None:
                target = Target(url=self.repository.url, name=self.repository.name)
                self._resolution = self.chain.resolve(target)
                creds = self._resolution.credentials
            if creds is not None and not self.repository.is_secure and not self.allow_insecure:
                raise InsecureTransportError(
                    f"refusing to send credentials ({creds.source}) over plain http to "
                    f"{self.repository.host}",
                    hint="Use the https:// URL; or, for a registry you trust on a private "
                    "network, allow it explicitly (allow_insecure=True / --allow-insecure).",
                    url=self.repository.url,
                )
            self._credentials = creds
            self._resolved = True
            return creds

    def _authorization(self) -> tuple[str | None, Credentials | None]:
        creds = self.credentials()
        return (creds.authorization_header() if creds else None), creds

    # -- index ---------------------------------------------------------------

    def _identify(self, response: Response | None = None) -> str:
        """Refine an unknown registry from a response, else from one GET of the URL.

        The registry decides the index layout (devpi uses ``+simple/``) and
        which diagnostics rows apply.
        """
        if self._registry != Registry.UNKNOWN:
            return self._registry
        url = self.repository.url
        with self._probe_lock:  # one probe; other workers wait for its answer
            if response is not None and self._registry == Registry.UNKNOWN:
                self._registry = detect_registry(url, response.headers, response.text())
            if self._registry == Registry.UNKNOWN and not self._probed:
                self._probed = True
                try:
                    page = self._transport.get(url)
                    self._registry = detect_registry(url, page.headers, page.text())
                except TransportError as exc:
                    logger.debug("probe of %s failed: %s", url, exc.message)
        return self._registry

    def _index_url(self) -> str:
        if self.repository.index_url:
            return self.repository.simple_index_url()
        return self.repository.simple_index_url(self._identify())

    def _remote_files(self, project: str, *, fresh: bool = False) -> IndexFiles | None:
        index = self._index_url()
        with self._lock:
            if not fresh and project in self._index_cache:
                return self._index_cache[project]
        from ._index import fetch_project_files

        auth, _ = self._authorization()
        same_host = Repository(url=index).host == self.repository.host
        files = fetch_project_files(
            self._transport, index, project, authorization=auth if same_host else None
        )
        with self._lock:
            self._index_cache[project] = files
        return files

    def _remote_state(
        self, dist: Distribution, sha256: Callable[[], str], *, fresh: bool
    ) -> Literal["same", "different", "absent", "unknown"]:
        files = self._remote_files(dist.project, fresh=fresh)
        if files is None:
            return "unknown"
        if dist.filename not in files:
            return "absent"
        remote = files[dist.filename]
        if remote is None:
            return "unknown"
        return "same" if remote == sha256() else "different"

    # -- the batch -------------------------------------------------------------

    def upload(self, paths: Iterable[str | os.PathLike[str]]) -> UploadReport:
        """Upload every file; never raises for a single file's failure (see the report)."""
        started = time.monotonic()
        dists = _open_all(paths)
        self.credentials()
        order = sorted(range(len(dists)), key=lambda i: (dists[i].filetype != "bdist_wheel", i))
        results = self._run(dists, order)
        final = tuple(r for r in results if r is not None)
        creds = self._credentials
        return UploadReport(
            repository_url=self.repository.url,
            registry=self._registry,
            results=final,
            credential_source=creds.source if creds else None,
            elapsed=time.monotonic() - started,
        )

    def _run(self, dists: list[Distribution], order: list[int]) -> list[FileResult | None]:
        """Upload in ``order`` with adaptive parallelism; results by input index.

        Work starts on one worker; each file the registry takes at least
        :data:`SLOW_FILE_SECONDS` to answer adds a worker, up to ``jobs``.  A fast
        registry is thus served sequentially (threads would only add
        overhead), a slow one gets ``jobs`` files in flight within a few files.
        """
        results: list[FileResult | None] = [None] * len(dists)
        lock = threading.Lock()
        pending = iter(order)
        threads: list[threading.Thread] = []
        failures: list[BaseException] = []

        def take() -> int | None:
            with lock:
                return next(pending, None)

        def grow() -> None:
            with lock:
                if len(threads) + 1 >= self.jobs or len(threads) + 1 >= len(dists):
                    return
                thread = threading.Thread(target=work, name="registry-upload", daemon=True)
                threads.append(thread)
            thread.start()

        def work() -> None:
            try:
                while (i := take()) is not None:
                    result = self._upload_one(dists[i])
                    results[i] = result
                    if (result.response_time or 0.0) >= SLOW_FILE_SECONDS:
                        grow()
            except BaseException as exc:  # surfaced in the calling thread below
                failures.append(exc)

        work()
        while True:
            with lock:
                running = list(threads)
            for thread in running:
                thread.join()
            with lock:
                if len(threads) == len(running):
                    break
        if failures:
            raise failures[0]
        return results

    # -- one file --------------------------------------------------------------

    def _emit(self, event: ProgressEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _upload_one(self, dist: Distribution) -> FileResult:
        started = time.monotonic()
        self._emit(ProgressEvent("started", dist.filename, total_bytes=dist.size))
        result = self._attempts(dist, started)
        self._emit(
            ProgressEvent(
                "finished",
                dist.filename,
                bytes_sent=result.bytes_sent,
                total_bytes=dist.size,
                attempt=result.attempts,
                result=result,
            )
        )
        level = logging.INFO if result.ok else logging.ERROR
        logger.log(level, "%s: %s (%d attempt(s))", dist.filename, result.status, result.attempts)
        return result

    def _attempts(self, dist: Distribution, started: float) -> FileResult:
        url = self.repository.url
        local_sha: list[str] = []

        def sha256() -> str:
            if not local_sha:
                local_sha.append(dist.digests(blake2=False).sha256)
            return local_sha[0]

        def result(status: FileStatus, **fields: object) -> FileResult:
            return FileResult(
                path=str(dist.path),
                filename=dist.filename,
                status=status,
                url=url,
                registry=self._registry,
                elapsed=time.monotonic() - started,
                **fields,  # type: ignore[arg-type]
            )

        if self.dry_run:
            return result(FileStatus.DRY_RUN, reason="dry run: inspected, nothing sent")

        if self.skip_existing:
            state = self._remote_state(dist, sha256, fresh=False)
            if state == "same":
                return result(
                    FileStatus.SKIPPED,
                    sha256=sha256(),
                    verified=True,
                    reason="already on the index with the same sha256",
                )
            if state == "different":
                return result(
                    FileStatus.FAILED,
                    sha256=sha256(),
                    error=self._conflict(dist, url),
                )

        fields = dist.form_fields(comment=self.comment)
        n = 0
        ambiguous = False
        sent_bytes = 0

        def attempt() -> FileResult:
            nonlocal n, ambiguous, sent_bytes
            n += 1
            if n > 1:
                self._emit(ProgressEvent("retrying", dist.filename, attempt=n))
            auth, creds = self._authorization()
            body = MultipartBody(
                fields, path=dist.path, filename=dist.filename, size=dist.size, blake2=self.blake2
            )

            def progress(sent: int, total: int) -> None:
                self._emit(ProgressEvent("progress", dist.filename, sent, total, n))

            try:
                sent = self._transport.post_file(
                    url,
                    body,
                    authorization=auth,
                    on_progress=progress if self.on_event is not None else None,
                )
            except TransportError as exc:
                exc.path = str(dist.path)
                if not exc.retryable:
                    return result(FileStatus.FAILED, attempts=n, error=exc)
                if exc.body_sent:
                    ambiguous = True
                    if self._remote_state(dist, sha256, fresh=True) == "same":
                        return self._verified(result, n, body.length, sha256())
                raise Retryable(exc) from None
            sent_bytes = sent.bytes_sent
            response = sent.response
            status = response.status
            if 200 <= status < 300:
                return result(
                    FileStatus.UPLOADED,
                    http_status=status,
                    attempts=n,
                    bytes_sent=sent.bytes_sent,
                    response_time=sent.response_time,
                    sha256=sent.digests.sha256 or None,
                )
            from .diagnostics import classify

            diagnosis = classify(
                response,
                url=url,
                filename=dist.filename,
                registry=self._identify(response),
                credential_kind=creds.kind if creds else CredentialKind.PASSWORD,
            )
            error = diagnosis.error
            error.path = str(dist.path)
            if status in self.retry.retry_statuses:
                if status >= 500:
                    ambiguous = True
                    if self._remote_state(dist, sha256, fresh=True) == "same":
                        return self._verified(result, n, sent.bytes_sent, sha256())
                raise Retryable(
                    error, retry_after=parse_retry_after(response.header("retry-after"))
                )
            if diagnosis.exists and (ambiguous or self.skip_existing):
                state = self._remote_state(dist, sha256, fresh=True)
                if state == "same" and ambiguous:
                    return self._verified(result, n, sent.bytes_sent, sha256())
                # An index may lag (PyPI's is cached): with skip-existing the registry's own
                # "exists" wins unless the index shows other content.
                if state == "same" or (state != "different" and self.skip_existing):
                    return result(
                        FileStatus.SKIPPED,
                        http_status=status,
                        attempts=n,
                        bytes_sent=sent.bytes_sent,
                        sha256=sha256() if state == "same" else None,
                        verified=state == "same",
                        reason=f"the registry says the file exists: {error.server_message}",
                    )
                if state == "different":
                    error = self._conflict(dist, url, status=status)
                elif ambiguous:
                    error.hint = (
                        "An earlier attempt may have stored this file before its connection "
                        "failed, but the index did not confirm it: check the project's files."
                    )
            if isinstance(error, AuthenticationError) and creds is None:
                error.hint = (error.hint or "") + self._no_credentials_note()
            return result(
                FileStatus.FAILED,
                http_status=status,
                attempts=n,
                bytes_sent=sent.bytes_sent,
                response_time=sent.response_time,
                error=error,
            )

        try:
            return self.retry.call(attempt, label=dist.filename)
        except Retryable as exc:
            return result(
                FileStatus.FAILED,
                http_status=exc.error.status,
                attempts=n,
                bytes_sent=sent_bytes,
                error=exc.error,
            )
        except RegistryUploadError as exc:  # e.g. credentials refresh failed mid-batch
            return result(FileStatus.FAILED, attempts=n, error=exc)

    def _no_credentials_note(self) -> str:
        trail = self._resolution.describe() if self._resolution else "none were given"
        return f" No credentials were sent: {trail}."

    @staticmethod
    def _verified(
        result: Callable[..., FileResult], attempts: int, sent: int, sha256: str
    ) -> FileResult:
        logger.warning(
            "an attempt ended ambiguously, but the index has the file with the same sha256"
        )
        return result(
            FileStatus.UPLOADED,
            attempts=attempts,
            bytes_sent=sent,
            sha256=sha256,
            verified=True,
            reason="the connection failed after the file was sent; the index has it with "
            "the same sha256, so it was not sent again",
        )

    def _conflict(self, dist: Distribution, url: str, status: int | None = None) -> UploadError:
        return FileExistsOnRegistryError(
            f"{dist.filename}: the registry already has a file with this name but "
            "different content (sha256 differs)",
            status=status,
            url=url,
            registry=self._registry,
            path=str(dist.path),
            hint="Bump the version and rebuild: a released filename never changes content.",
        )


def upload(
    paths: Sequence[str | os.PathLike[str]] | Iterable[str | os.PathLike[str]],
    repository_url: str | None = None,
    **options: object,
) -> UploadReport:
    """Upload files in one call; options are :class:`Uploader`'s keyword arguments.

    Raises only for problems found before anything is sent (unusable files,
    bad configuration, credentials that would travel in clear text); per-file
    failures are in the report (``report.raise_for_failures()`` to raise).
    """
    with Uploader(repository_url, **options) as uploader:  # type: ignore[arg-type]
        return uploader.upload(paths)
