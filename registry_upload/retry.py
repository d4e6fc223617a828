"""RetryPolicy: what is retried, how often, how long to wait.

Retried: connection failures, an attempt cut before its whole body went out,
429 and 503 (``Retry-After`` honoured, up to a cap).  Never sent again: an
attempt that may have reached the registry (the whole body went out and then
the connection broke or no answer came, another 5xx, or a success answered
before the body was all sent).  Its outcome is looked for on the index for up
to ``confirm_timeout`` seconds; when the index cannot tell, the file ends
*unconfirmed* rather than risk a second copy.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ._retrying import Schedule

__all__ = ["RetryPolicy", "parse_retry_after"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How to retry one file's upload.

    ``attempts`` counts every try (1 = never retry); ``total_timeout`` bounds
    the time spent on one file across attempts; waits grow exponentially from
    ``initial_backoff`` to ``max_backoff`` with up to ``jitter`` seconds of
    random jitter.  A ``Retry-After`` above ``max_retry_after`` is capped.
    ``confirm_timeout`` is how long the index is polled, after an attempt
    whose outcome is unknown, before the file is reported unconfirmed.

    ``sleep`` is how waits are spent: ``None`` (the default) waits in real
    time and Ctrl-C ends the wait at once; a function (a recorder in tests)
    is handed each wait, and Ctrl-C is honoured before and after it.
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
    sleep: Callable[[float], None] | None = field(default=None, compare=False, repr=False)
    confirm_timeout: float = 30.0

    @classmethod
    def never(cls) -> RetryPolicy:
        return cls(attempts=1)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter after failed attempt number ``attempt``."""
        exponent = min(max(0, attempt - 1), 64)
        base: float = min(self.max_backoff, self.initial_backoff * 2.0**exponent)
        return base + random.uniform(0, self.jitter)

    def schedule(self) -> Schedule:
        """The attempts of one file, for the retry loop."""
        return Schedule(
            attempts=self.attempts,
            budget=self.total_timeout,
            delay=self.backoff,
            max_retry_after=self.max_retry_after,
        )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date);
    ``None`` for anything else (never an exception)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²" passes isdigit() alone
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (now if now is not None else time.time()))
