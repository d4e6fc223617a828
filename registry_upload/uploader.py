"""Upload to one registry: :func:`upload` and its reusable form, :class:`Uploader`.

Uploading is publishing to one registry destination: both go through
:class:`~registry_upload.publish.Publisher`'s one path::

    open every file       nothing is sent if one is unusable (``_plan``)
    preflight             what the registry would refuse, credentials (``destinations``)
    send                  pool → attempt → transport (``_pool``, ``_attempt``, ``transport``)
    verify                optional: the index lists each file with its sha256

Shared by every file, the destination's
:class:`~registry_upload._session.Session`: the registry's profile,
credentials under the origin rule, the index.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from ._plan import PathInput
from ._target import resolve_target
from .destinations import CredentialsInput, RegistryDestination
from .errors import UploadInterrupted
from .options import DEFAULT_JOBS, MAX_JOBS, PublishOptions
from .publish import Publisher, PublishInterrupted
from .results import ProgressEvent, UploadReport

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._session import Session
    from .credentials import Credentials, Resolution
    from .options import OptionArgs
    from .registries import Profile
    from .repository import Repository
    from .retry import RetryPolicy

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


def resolve_repository(
    repository_url: str | None = None,
    *,
    repository: str | None = None,
    pypirc: str | os.PathLike[str] | None = None,
    index_url: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[Repository, dict[str, str | None]]:
    """Pick the upload URL: an explicit URL, a .pypirc name, the environment
    (``REGISTRY_UPLOAD_*``, then ``TWINE_*``, then ``UV_PUBLISH_URL``), or PyPI.

    Returns the repository and the .pypirc section's TLS settings (if any).
    """
    target = resolve_target(
        repository_url, repository=repository, pypirc=pypirc, index_url=index_url, env=env
    )
    tls = {"ca_cert": target.ca_cert, "client_cert": target.client_cert}
    return target.repository, {k: v for k, v in tls.items() if v}


class Uploader:
    """Upload batches to one registry: one connection pool, one credential resolution.

    The registry: ``repository_url``, or ``repository`` (a ``.pypirc`` name),
    or else the environment (``REGISTRY_UPLOAD_REPOSITORY_URL``/``_REPOSITORY``,
    ``TWINE_REPOSITORY_URL``/``TWINE_REPOSITORY``, ``UV_PUBLISH_URL``), or else
    PyPI.  ``credentials``: :class:`Credentials`, a :class:`CredentialChain`,
    one :class:`CredentialProvider`, or ``None`` for the default chain (which
    ``username``/``password`` head, as ``-u``/``-p`` do).  ``index_url``: the
    simple index skip-existing and verify read (credentials written into it
    serve index reads only).  Every other keyword is a
    :class:`~registry_upload.options.PublishOptions` field (``skip_existing``,
    ``dry_run``, ``verify``, ``jobs``, ``retry``, ``transport``, ``timeout``,
    ``attestations``, ``interactive``, ``allow_insecure``, ``blake2``,
    ``comment``, ``on_event``...), or pass ``options=`` whole.

    Use it from one thread at a time (its batches run their own worker
    threads); close it when done — it raises
    :class:`~registry_upload.errors.ConfigurationError` once closed.
    """

    def __init__(
        self,
        repository_url: str | None = None,
        *,
        repository: str | None = None,
        credentials: CredentialsInput = None,
        username: str | None = None,
        password: str | None = None,
        pypirc: str | os.PathLike[str] | None = None,
        index_url: str | None = None,
        options: PublishOptions | None = None,
        **option_args: Unpack[OptionArgs],
    ) -> None:
        if options is None:  # one registry: without credentials, let the registry answer
            option_args.setdefault("allow_anonymous", True)
        self.options = PublishOptions.of(options, **option_args)
        target = resolve_target(
            repository_url, repository=repository, pypirc=pypirc, index_url=index_url
        )
        self.destination = RegistryDestination(
            target.repository,
            self.options.with_tls(ca_cert=target.ca_cert, client_cert=target.client_cert),
            credentials=credentials,
            username=username,
            password=password,
            pypirc=None if pypirc is None else os.fspath(pypirc),
            target_source=target.source,
        )
        self._publisher = Publisher([self.destination], options=self.options)
        #: The last batch's report, also when it was interrupted.
        self.report: UploadReport | None = None

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        self._publisher.close()

    def __enter__(self) -> Uploader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what it uploads to ------------------------------------------------------

    @property
    def repository(self) -> Repository:
        return self.destination.repository

    @property
    def session(self) -> Session:
        return self.destination.session

    @property
    def jobs(self) -> int:
        return self.options.jobs

    @property
    def retry(self) -> RetryPolicy:
        return self.options.retry

    @property
    def skip_existing(self) -> bool:
        return self.options.skip_existing

    @property
    def dry_run(self) -> bool:
        return self.options.dry_run

    @property
    def profile(self) -> Profile:
        """The registry's profile, as recognised so far."""
        return self.destination.profile

    @property
    def resolution(self) -> Resolution | None:
        """What the credential chain said (after the first upload or :meth:`credentials`)."""
        return self.session.resolution

    def credentials(self) -> Credentials | None:
        """Resolve (once; again when a short-lived token is about to expire)."""
        return self.destination.credentials()

    # -- the batch -------------------------------------------------------------

    def upload(self, paths: PathInput) -> UploadReport:
        """Upload every file; never raises for a single file's failure (see the report).

        Raises only for what is found before anything is sent (no files, an
        unusable file, a file the registry would refuse, credentials that
        would travel in clear text).  Ctrl-C raises
        :class:`~registry_upload.errors.UploadInterrupted` once no upload
        thread is left; its ``.report`` (and :attr:`report`) has every file.
        """
        try:
            published = self._publisher.publish(paths)
        except PublishInterrupted as stopped:
            self.report = stopped.report
            raise UploadInterrupted(stopped.report) from None
        self.report = published.destinations[0].report
        return self.report


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
    options: PublishOptions | None = None,
    raise_on_failure: bool = False,
    **option_args: Unpack[OptionArgs],
) -> UploadReport:
    """Upload files to one registry in one call.

    ``paths``: one path or many, files or directories (``dist/``), or opened
    :class:`~registry_upload.Distribution` objects.  The registry, credentials
    and ``index_url`` are chosen as for :class:`Uploader` (default: the
    environment's target, else PyPI); every other keyword is a
    :class:`~registry_upload.options.PublishOptions` field: ``skip_existing``,
    ``dry_run``, ``verify``, ``verify_timeout``, ``jobs`` (1 to 64, default 8),
    ``retry`` (:class:`RetryPolicy`), ``transport`` (:class:`TransportOptions`),
    ``timeout`` (seconds per attempt), ``attestations``, ``interactive``,
    ``allow_insecure``, ``blake2``, ``comment``, ``on_event``.

    Raises before anything is sent: :class:`~registry_upload.errors.ConfigurationError`
    (no files, bad options, an unknown repository name),
    :class:`~registry_upload.errors.DistributionError` (an unusable file, or
    one the registry would refuse), :class:`~registry_upload.errors.InsecureTransportError`
    (credentials over plain http).  Per-file failures are in the returned
    :class:`UploadReport`; ``raise_on_failure=True`` raises
    :class:`~registry_upload.errors.UploadFailedError` (with the report) if any
    file failed.  Ctrl-C raises :class:`~registry_upload.errors.UploadInterrupted`.
    """
    with Uploader(
        repository_url,
        repository=repository,
        credentials=credentials,
        username=username,
        password=password,
        pypirc=pypirc,
        index_url=index_url,
        options=options,
        **option_args,
    ) as uploader:
        report = uploader.upload(paths)
    if raise_on_failure:
        report.raise_for_failures()
    return report
