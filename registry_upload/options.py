"""One frozen value for how a run publishes: :class:`PublishOptions`.

Every entry point takes the same options: :func:`~registry_upload.upload`
and :class:`~registry_upload.Uploader` (one registry),
:func:`~registry_upload.publish.publish` and
:class:`~registry_upload.publish.Publisher` (several destinations), and the
CLI, which builds one from its flags and the environment.  Their keyword
arguments are these fields; ``options=PublishOptions(...)`` passes them
whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypedDict

from ._verify import VerifyPolicy
from .errors import ConfigurationError
from .retry import RetryPolicy
from .transport import MAX_WAIT_SECONDS, TransportOptions

if TYPE_CHECKING:
    from .publish import DestinationReport
    from .results import ProgressEvent

__all__ = ["DEFAULT_JOBS", "MAX_JOBS", "OptionArgs", "PublishOptions"]

#: Parallel uploads by default: registries spend most of an upload's time
#: processing it, so a few files in flight hide that latency.
DEFAULT_JOBS = 8
#: The most files in flight (each holds a connection and a thread).
MAX_JOBS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishOptions:
    """How files are published, the same for every destination of a run.

    - ``skip_existing``: a file the index already lists with the same sha256 is
      skipped, not sent (``--skip-existing``).
    - ``dry_run``: inspect and resolve credentials; send nothing.
    - ``verify``: after a registry took the files, read its index until each is
      listed with its sha256 (at most ``verify_timeout`` seconds, or as
      ``verify_policy`` says); a static index verifies as it writes.
    - ``keep_going``: serve later destinations after one failed.
    - ``jobs``: at most this many files in flight per registry (1 to 64).
    - ``retry``: the :class:`RetryPolicy` of each file.
    - ``transport``: network settings (:class:`TransportOptions`); ``timeout``
      bounds one attempt (connect, send, answer) in seconds.
    - ``attestations``: send PEP 740 attestation files found beside the files.
    - ``interactive``: the credential prompt may ask on a terminal.
    - ``allow_insecure``: credentials may go over plain http to a host that
      is not loopback.
    - ``allow_anonymous``: publish to a registry for which no credentials
      are found (otherwise refused before anything is sent).
    - ``blake2`` (also send the blake2b-256 digest), ``comment`` (the upload
      comment).
    - ``on_event`` receives :class:`ProgressEvent` from worker threads;
      ``on_destination`` each :class:`DestinationReport` as it ends.
    """

    skip_existing: bool = False
    dry_run: bool = False
    verify: bool = False
    verify_timeout: float = 60.0
    verify_policy: VerifyPolicy | None = None
    keep_going: bool = False
    jobs: int = DEFAULT_JOBS
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    transport: TransportOptions = field(default_factory=TransportOptions)
    timeout: float | None = None
    attestations: bool = True
    interactive: bool = False
    allow_insecure: bool = False
    allow_anonymous: bool = False
    blake2: bool = False
    comment: str | None = None
    on_event: Callable[[ProgressEvent], None] | None = field(default=None, compare=False)
    on_destination: Callable[[DestinationReport], None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        jobs = self.jobs
        if not isinstance(jobs, int) or isinstance(jobs, bool) or not 1 <= jobs <= MAX_JOBS:
            raise ConfigurationError(
                f"jobs must be a whole number from 1 to {MAX_JOBS}, not {jobs!r}",
                hint="Use jobs=1 for strictly sequential uploads (--jobs 1); registries "
                "gain nothing from more than a few files in flight.",
            )
        if self.timeout is not None and not _seconds_ok(self.timeout, zero=False):
            raise ConfigurationError(
                f"timeout must be more than 0 and at most {MAX_WAIT_SECONDS:g} seconds, "
                f"not {self.timeout!r}",
                hint="Give the most seconds one attempt (connect, send, answer) may take.",
            )
        if not _seconds_ok(self.verify_timeout, zero=True):
            raise ConfigurationError(
                f"verify timeout must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}, "
                f"not {self.verify_timeout!r}",
                hint="Give the longest wait for the index to list the files, e.g. 60 "
                "(--verify-timeout 60).",
            )
        if self.retry is None:  # tolerated: "the default policy"
            object.__setattr__(self, "retry", RetryPolicy())
        if self.transport is None:
            object.__setattr__(self, "transport", TransportOptions())

    @classmethod
    def of(cls, options: PublishOptions | None = None, **changes: Any) -> PublishOptions:
        """``options`` (or the defaults) with the keyword arguments that are not ``None``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(unknown)}")
        given = {k: v for k, v in changes.items() if v is not None}
        return replace(options, **given) if options is not None else cls(**given)

    def transport_options(self) -> TransportOptions:
        """The network settings, with ``timeout`` and a pool as large as ``jobs``."""
        options = self.transport
        if self.timeout is not None:
            options = replace(options, timeout=float(self.timeout))
        return replace(options, pool_size=max(options.pool_size, self.jobs))

    def with_tls(self, *, ca_cert: str | None, client_cert: str | None) -> PublishOptions:
        """These options, with a ``.pypirc`` section's TLS files where none were given."""
        options = self.transport
        if ca_cert and options.ca_cert is None:
            options = replace(options, ca_cert=ca_cert)
        if client_cert and options.client_cert is None:
            options = replace(options, client_cert=client_cert)
        return self if options is self.transport else replace(self, transport=options)

    def verification(self) -> VerifyPolicy:
        """How long and how often ``verify`` polls the index."""
        return self.verify_policy or VerifyPolicy(timeout=float(self.verify_timeout))


def _seconds_ok(value: object, *, zero: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not math.isfinite(value) or value > MAX_WAIT_SECONDS:
        return False
    return value >= 0 if zero else value > 0


class OptionArgs(TypedDict, total=False):
    """:class:`PublishOptions`' fields, as keyword arguments of the entry points."""

    skip_existing: bool
    dry_run: bool
    verify: bool
    verify_timeout: float
    verify_policy: VerifyPolicy | None
    keep_going: bool
    jobs: int
    retry: RetryPolicy | None
    transport: TransportOptions | None
    timeout: float | None
    attestations: bool
    interactive: bool
    allow_insecure: bool
    allow_anonymous: bool
    blake2: bool
    comment: str | None
    on_event: Callable[[ProgressEvent], None] | None
    on_destination: Callable[[DestinationReport], None] | None
