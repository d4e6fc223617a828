"""RetryPolicy: what is retried, how often, how long to wait.

Retried: connection failures and timeouts, 5xx, 429 (``Retry-After``
honoured, up to a cap).  Never retried blindly: an attempt that may have
reached the registry (the whole body went out, or a 5xx came back) is first
checked against the index by the uploader, so a file is never sent twice.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import UploadError

__all__ = ["RetryPolicy", "parse_retry_after"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How to retry one file's upload.

    ``attempts`` counts every try (1 = never retry); ``total_timeout`` bounds
    the time spent on one file across attempts; waits grow exponentially from
    ``initial_backoff`` to ``max_backoff`` with up to ``jitter`` seconds of
    random jitter.  A ``Retry-After`` above ``max_retry_after`` is capped.
    """

    attempts: int = 4
    total_timeout: float = 900.0
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    jitter: float = 1.0
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({429, 500, 502, 503, 504})
    )
    #: How to wait (swap in a recorder to observe waits without spending them).
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    @classmethod
    def never(cls) -> RetryPolicy:
        return cls(attempts=1)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter after failed attempt number ``attempt``."""
        base: float = min(self.max_backoff, self.initial_backoff * 2.0 ** max(0, attempt - 1))
        return base + random.uniform(0, self.jitter)

    def delay(
        self, attempt: int, *, retry_after: float | None = None, elapsed: float = 0.0
    ) -> float | None:
        """Seconds to wait after failed attempt number ``attempt``, or ``None`` to give up.

        ``elapsed`` is the time spent on this file so far (``total_timeout``
        bounds it); a server's ``Retry-After`` wins over the backoff, capped at
        ``max_retry_after``.
        """
        if attempt >= self.attempts or elapsed >= self.total_timeout:
            return None
        if retry_after is not None:
            return float(min(retry_after, self.max_retry_after))
        return self.backoff(attempt)

    def call(self, fn: Callable[[], T], *, label: str) -> T:
        """Run ``fn`` until it returns; it raises :class:`Retryable` to ask for another go.

        The uploader runs its own per-file state machine on :meth:`delay`; this
        is the same policy for callers with a plain function.
        """
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except Retryable as exc:
                wait = self.delay(
                    attempt, retry_after=exc.retry_after, elapsed=time.monotonic() - started
                )
                if wait is None:
                    raise
                logger.debug(
                    "%s: attempt %d of %d failed (%s); retrying in %.1f s",
                    label,
                    attempt,
                    self.attempts,
                    exc.error.message,
                    wait,
                )
                self.sleep(wait)


class Retryable(Exception):
    """Raised inside an attempt to ask for another; carries the attempt's error."""

    def __init__(self, error: UploadError, *, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))
