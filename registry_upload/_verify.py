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
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._index import Listed, Listing, project_page_url, read_listing
from ._retrying import Again, Schedule, Waits, keep_trying, tries_within
from .errors import FileExistsOnRegistryError, UploadError
from .transport import MAX_WAIT_SECONDS, Transport

__all__ = ["VerifyOutcome", "VerifyPolicy", "VerifyStatus", "verify_listed", "watch_index"]

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
    fake clock to observe the polls without waiting); ``sleep=None`` waits in
    real time."""

    timeout: float = 60.0
    initial_delay: float = 1.0
    max_delay: float = 10.0
    factor: float = 2.0
    sleep: Callable[[float], None] | None = field(default=None, compare=False, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    def __post_init__(self) -> None:
        values = (self.timeout, self.initial_delay, self.max_delay, self.factor)
        if not all(math.isfinite(v) for v in values) or self.timeout > MAX_WAIT_SECONDS:
            raise ValueError("VerifyPolicy: every value must be a finite number (a week at most)")
        if self.timeout < 0 or self.initial_delay <= 0 or self.max_delay <= 0:
            raise ValueError("VerifyPolicy: delays must be positive and the timeout >= 0")
        if self.factor < 1:
            raise ValueError("VerifyPolicy: factor must be at least 1")

    def delay(self, poll: int) -> float:
        """The wait after poll number ``poll`` (1-based)."""
        first, cap = self.initial_delay, self.max_delay
        if first >= cap:
            return cap
        if self.factor > 1 and poll - 1 >= math.log(cap / first, self.factor):
            return cap
        return min(cap, first * self.factor ** (poll - 1))

    def schedule(self, budget: float | None = None) -> Schedule:
        """Polls for ``budget`` seconds (default: the timeout), the last wait cut short.

        The number of polls is bounded too, so a ``sleep`` that does not wait
        (in tests) cannot turn the budget into a busy loop."""
        seconds = self.timeout if budget is None else max(0.0, budget)
        polls = tries_within(seconds, self.delay)
        return Schedule(attempts=polls, budget=seconds, delay=self.delay, clip=True)


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


@dataclass(frozen=True, slots=True)
class Watched:
    """What :func:`watch_index` saw last, after how many polls."""

    last: Listing
    polls: int


def watch_index(
    read: Callable[[], Listing],
    settled: Callable[[Listing], bool],
    schedule: Schedule,
    waits: Waits,
    *,
    start: float | None = None,
) -> Watched:
    """Read the index on ``schedule`` until an answer is ``settled``, or the
    schedule (or the stop event) ends; the page is always read at least once."""
    polls = 0

    def poll(number: int) -> Listing | Again[Listing]:
        nonlocal polls
        polls = number
        listing = read()
        lookup = listing.lookup
        logger.debug(
            "index poll %d of %s: %s", number, lookup.url, lookup.problem or listing.listed
        )
        return listing if settled(listing) else Again(listing)

    outcome = keep_trying(poll, schedule, waits, start=start)
    return Watched(outcome.outcome if isinstance(outcome, Again) else outcome, polls)


def _listed(listing: Listing) -> bool:
    return listing.listed in (Listed.SAME, Listed.NO_HASH)


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
    stop: threading.Event | None = None,
) -> VerifyOutcome:
    """Poll ``index_url`` until ``filename`` is listed under ``project`` with ``sha256``.

    ``authorization`` is sent as the ``Authorization`` header of every poll
    (for private indexes); the caller decides whether this index may see it.
    Never raises for network or index failures: they end as ``not-listed``.
    ``sleep``/``clock`` default to the policy's.  ``since`` is the ``clock()``
    time the wait began (default: now): the files of one upload share one wait.
    ``stop`` ends the wait early.  The page is always read at least once.
    """
    policy = policy or VerifyPolicy()
    waits = Waits(sleep=sleep or policy.sleep, clock=clock or policy.clock, stop=stop)
    start = waits.now() if since is None else since
    sha256 = sha256.lower()

    def read() -> Listing:
        return read_listing(
            transport, index_url, project, filename, sha256, authorization=authorization
        )

    watched = watch_index(read, _listed, policy.schedule(), waits, start=start)
    url = project_page_url(index_url, project)
    outcome = _outcome(watched, project, filename, sha256, url=url, waited=waits.now() - start)
    logger.debug("verify %s: %s after %d poll(s)", filename, outcome.status, outcome.polls)
    return outcome


_STATUS = {
    Listed.SAME: VerifyStatus.VERIFIED,
    Listed.NO_HASH: VerifyStatus.LISTED,
    Listed.OTHER: VerifyStatus.MISMATCH,
}


def _outcome(
    watched: Watched, project: str, filename: str, sha256: str, *, url: str, waited: float
) -> VerifyOutcome:
    last = watched.last
    status = _STATUS.get(last.listed, VerifyStatus.NOT_LISTED)
    error: UploadError | None = None
    if status is VerifyStatus.VERIFIED:
        reason = f"listed on {url} with the same sha256"
    elif status is VerifyStatus.LISTED:
        reason = f"listed on {url}, which shows no sha256 to compare"
    elif status is VerifyStatus.MISMATCH:
        error = _mismatch_error(filename, last.listed_sha256, sha256, url, waited)
    else:
        error = _not_listed_error(filename, last, watched.polls, url, waited)
    if error is not None:
        reason = error.message
    return VerifyOutcome(
        status=status,
        filename=filename,
        project=project,
        url=url,
        sha256=sha256,
        polls=watched.polls,
        waited=waited,
        listed_sha256=last.listed_sha256,
        reason=reason,
        error=error,
    )


def _mismatch_error(
    filename: str, listed: str | None, sha256: str, url: str, waited: float
) -> FileExistsOnRegistryError:
    return FileExistsOnRegistryError(
        f"{filename}: the index lists it with sha256 {listed}, "
        f"not {sha256} (the file sent), after {waited:.0f} s",
        url=url,
        hint="The registry serves other bytes under this name (an earlier upload, or one "
        "that overwrote it): compare the file on the index with yours; to publish new "
        "content, bump the version and rebuild.",
    )


def _not_listed_error(
    filename: str, last: Listing, polls: int, url: str, waited: float
) -> UploadError:
    message = f"{filename}: not listed on {url} after {waited:.0f} s ({polls} polls)"
    status = None
    if last.lookup.problem:
        message += f"; last poll: {last.lookup.problem}"
        status = last.lookup.status
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
