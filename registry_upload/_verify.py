"""Verify after upload: read the simple index until it lists the file with its sha256.

A registry may accept a file before its index shows it: PyPI's pages are served
through a CDN, and other registries rebuild their index asynchronously.  A
pipeline that installs right after publishing races that lag, so
:func:`verify_listed` polls the project's page (PEP 691 JSON preferred, PEP 503
HTML otherwise) with exponential backoff up to a bounded wait::

    polls at  0  1  3  7  15  25  35  45  55  60 s   (defaults: 1 s doubling, 10 s cap, 60 s)

Each poll asks caches for a fresh copy (``Cache-Control: max-age=0``).  The
outcome is ``verified`` (listed with the right sha256), ``listed`` (listed, but
the index shows no sha256 to compare: not a failure, not a proof either),
``mismatch`` (listed with another sha256 until the end of the wait) or
``not-listed`` (never listed within the wait).  The last two are failures and
carry an error with a hint.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._index import IndexLookup, lookup_project_files, project_page_url
from .errors import FileExistsOnRegistryError, UploadError
from .transport import MAX_WAIT_SECONDS, Transport

__all__ = ["VerifyOutcome", "VerifyPolicy", "VerifyStatus", "verify_listed"]

logger = logging.getLogger(__name__)


class VerifyStatus(str, enum.Enum):
    """What the index showed for one uploaded file."""

    VERIFIED = "verified"
    LISTED = "listed"
    MISMATCH = "mismatch"
    NOT_LISTED = "not-listed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """How long and how often to poll: ``initial_delay`` seconds after the first poll,
    multiplied by ``factor`` each time up to ``max_delay``, for at most ``timeout``.

    ``sleep`` and ``clock`` are how the wait is spent and measured (swap in a
    fake clock to observe the polls without waiting)."""

    timeout: float = 60.0
    initial_delay: float = 1.0
    max_delay: float = 10.0
    factor: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    def __post_init__(self) -> None:
        import math

        values = (self.timeout, self.initial_delay, self.max_delay, self.factor)
        if not all(math.isfinite(v) for v in values) or self.timeout > MAX_WAIT_SECONDS:
            raise ValueError("VerifyPolicy: every value must be a finite number (a week at most)")
        if self.timeout < 0 or self.initial_delay <= 0 or self.max_delay <= 0:
            raise ValueError("VerifyPolicy: delays must be positive and the timeout >= 0")
        if self.factor < 1:
            raise ValueError("VerifyPolicy: factor must be at least 1")


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    """The result of polling the index for one file.

    ``listed_sha256`` is what the index showed last (``None`` if it was not
    listed or listed without a hash); ``polls`` how many times the page was
    read and ``waited`` the seconds spent; ``error`` is set for a failure.
    """

    status: VerifyStatus
    filename: str
    project: str
    url: str
    sha256: str
    polls: int
    waited: float
    listed_sha256: str | None = None
    reason: str | None = None
    error: UploadError | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.status in (VerifyStatus.VERIFIED, VerifyStatus.LISTED)

    @property
    def verified(self) -> bool:
        return self.status is VerifyStatus.VERIFIED

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "filename": self.filename,
            "project": self.project,
            "url": self.url,
            "sha256": self.sha256,
            "listed_sha256": self.listed_sha256,
            "polls": self.polls,
            "waited": round(self.waited, 6),
            "reason": self.reason,
            "error": self.error.to_dict() if self.error is not None else None,
        }


@dataclass(slots=True)
class _Poller:
    """The state of one verification: what was asked, what was seen so far."""

    transport: Transport
    index_url: str
    project: str
    filename: str
    sha256: str
    authorization: str | None
    polls: int = 0
    last: IndexLookup | None = None

    def poll(self) -> VerifyStatus | None:
        """Read the page once; a final status, or None to keep polling."""
        self.polls += 1
        self.last = lookup_project_files(
            self.transport,
            self.index_url,
            self.project,
            authorization=self.authorization,
            no_cache=True,
        )
        files = self.last.files
        logger.debug(
            "verify %s: poll %d of %s: %s",
            self.filename,
            self.polls,
            self.last.url,
            self.last.problem or f"{len(files or {})} file(s) listed",
        )
        if files is None or self.filename not in files:
            return None
        listed = files[self.filename]
        if listed is None:
            return VerifyStatus.LISTED
        return VerifyStatus.VERIFIED if listed.lower() == self.sha256 else None

    @property
    def listed_sha256(self) -> str | None:
        files = self.last.files if self.last is not None else None
        return (files or {}).get(self.filename)


def verify_listed(
    transport: Transport,
    index_url: str,
    project: str,
    filename: str,
    sha256: str,
    *,
    authorization: str | None = None,
    policy: VerifyPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    since: float | None = None,
) -> VerifyOutcome:
    """Poll ``index_url`` until ``filename`` is listed under ``project`` with ``sha256``.

    ``authorization`` is sent as the ``Authorization`` header of every poll
    (for private indexes); the caller decides whether this index may see it.
    Never raises for network or index failures: they end as ``not-listed``.
    ``sleep``/``clock`` default to the policy's.  ``since`` is the ``clock()``
    time the wait began (default: now): the files of one upload share one wait.
    The page is always read at least once.
    """
    policy = policy or VerifyPolicy()
    sleep = sleep or policy.sleep
    clock = clock or policy.clock
    poller = _Poller(transport, index_url, project, filename, sha256.lower(), authorization)
    start = clock() if since is None else since
    delay = policy.initial_delay
    while True:
        status = poller.poll()
        if status is not None:
            return _outcome(poller, status, clock() - start)
        remaining = start + policy.timeout - clock()
        if remaining <= 0:
            break
        sleep(min(delay, remaining))
        delay = min(delay * policy.factor, policy.max_delay)
    listed = poller.listed_sha256 is not None
    final = VerifyStatus.MISMATCH if listed else VerifyStatus.NOT_LISTED
    return _outcome(poller, final, clock() - start)


def _outcome(poller: _Poller, status: VerifyStatus, waited: float) -> VerifyOutcome:
    url = project_page_url(poller.index_url, poller.project)
    error: UploadError | None = None
    reason: str | None = None
    if status is VerifyStatus.VERIFIED:
        reason = f"listed on {url} with the same sha256"
    elif status is VerifyStatus.LISTED:
        reason = f"listed on {url}, which shows no sha256 to compare"
    elif status is VerifyStatus.MISMATCH:
        error = _mismatch_error(poller, url, waited)
    else:
        error = _not_listed_error(poller, url, waited)
    if error is not None:
        reason = error.message
    logger.debug("verify %s: %s after %d poll(s)", poller.filename, status, poller.polls)
    return VerifyOutcome(
        status=status,
        filename=poller.filename,
        project=poller.project,
        url=url,
        sha256=poller.sha256,
        polls=poller.polls,
        waited=waited,
        listed_sha256=poller.listed_sha256,
        reason=reason,
        error=error,
    )


def _mismatch_error(poller: _Poller, url: str, waited: float) -> FileExistsOnRegistryError:
    return FileExistsOnRegistryError(
        f"{poller.filename}: the index lists it with sha256 {poller.listed_sha256}, "
        f"not {poller.sha256} (the file sent), after {waited:.0f} s",
        url=url,
        hint="The registry serves other bytes under this name (an earlier upload, or one "
        "that overwrote it): compare the file on the index with yours; to publish new "
        "content, bump the version and rebuild.",
    )


def _not_listed_error(poller: _Poller, url: str, waited: float) -> UploadError:
    message = f"{poller.filename}: not listed on {url} after {waited:.0f} s ({poller.polls} polls)"
    last = poller.last
    status = None
    if last is not None and last.problem:
        message += f"; last poll: {last.problem}"
        status = last.status
    if status in (401, 403):
        hint = (
            "The index refused to be read: a private index needs credentials for reading "
            "too, so verify with an Authorization header for it."
        )
    else:
        hint = (
            "The upload was accepted, but the index does not list the file yet: indexes "
            "behind a CDN can lag. Wait longer (raise the verify timeout) or check the "
            "project page before installing from it."
        )
    return UploadError(message, url=url, status=status, hint=hint)
