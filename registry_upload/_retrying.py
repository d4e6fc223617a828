"""One retry loop for every wait of the library: upload attempts and index polls (private).

A try returns its final outcome, or :class:`Again` to ask for another (with
the server's ``Retry-After``, if it gave one).  :func:`keep_trying` runs
tries on a :class:`Schedule` (at most ``attempts`` tries, none started after
``budget`` seconds, waits from ``delay`` or a capped ``Retry-After``) and
returns the final outcome, or the last :class:`Again` when the schedule or a
stop ended it.

Every wait goes through one seam, :class:`Waits`: real waits end at once when
the stop event is set (Ctrl-C: the pool sets it), and tests hand in their own
``sleep`` and ``clock``.  The loop is tenacity's, imported when a first try
asks for another: a batch that never retries does not pay for the import.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Again", "Schedule", "Waits", "keep_trying", "tries_within"]

T = TypeVar("T")

#: The most tries any schedule counts (a guard against a near-zero delay).
MAX_TRIES = 10_000


@dataclass(frozen=True, slots=True)
class Again(Generic[T]):
    """A try that asks for another: what it ended with, and the server's wait."""

    outcome: T
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """At most ``attempts`` tries, none begun ``budget`` seconds after the start;
    ``delay(n)`` seconds after try ``n`` unless the server asked for a wait
    (capped at ``max_retry_after``); ``clip`` ends the last wait at the budget."""

    attempts: int
    budget: float
    delay: Callable[[int], float]
    max_retry_after: float = math.inf
    clip: bool = False


class Waits:
    """The clock and the wait of a retry loop: the seam Ctrl-C and tests share.

    ``sleep=None`` waits in real time, ended at once when ``stop`` is set; a
    custom ``sleep`` (a recorder, a fake clock) is handed every wait, and
    ``stop`` is looked at before and after it.  ``clock`` defaults to
    :func:`time.monotonic`.
    """

    __slots__ = ("_clock", "_sleep", "stop")

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self._sleep = sleep
        self._clock = clock or time.monotonic
        self.stop = stop

    def now(self) -> float:
        return self._clock()

    @property
    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Spend ``seconds``; False when the stop event ended (or preceded) the wait."""
        if self.stopped:
            return False
        if self._sleep is not None:
            self._sleep(seconds)
        elif self.stop is not None:
            return not self.stop.wait(seconds)
        else:
            time.sleep(seconds)
        return not self.stopped


class _Stopped(Exception):
    """Raised from a wait the stop event ended; caught by :func:`keep_trying`."""


def keep_trying(
    attempt: Callable[[int], T | Again[T]],
    schedule: Schedule,
    waits: Waits,
    *,
    start: float | None = None,
    before_wait: Callable[[int, Again[T], float], None] | None = None,
) -> T | Again[T]:
    """Run ``attempt(n)`` for n = 1, 2, ... until it returns a final outcome.

    Returns that outcome, or the last :class:`Again` once the schedule is
    spent or the stop event is set.  ``start`` is the ``waits.now()`` the
    budget counts from (default: now).  ``before_wait(n, again, seconds)``
    is told of each wait before it begins.  Exceptions from ``attempt``
    propagate.
    """
    begun = waits.now() if start is None else start
    first = attempt(1)
    if not isinstance(first, Again) or schedule.attempts <= 1 or waits.stopped:
        return first
    return _retry(attempt, first, schedule, waits, begun=begun, before_wait=before_wait)


def _retry(
    attempt: Callable[[int], T | Again[T]],
    first: Again[T],
    schedule: Schedule,
    waits: Waits,
    *,
    begun: float,
    before_wait: Callable[[int, Again[T], float], None] | None,
) -> T | Again[T]:
    import tenacity  # 10-15 ms more: only once a try has asked for another

    numbers = itertools.count(1)
    last: list[T | Again[T]] = [first]

    def tried() -> T | Again[T]:
        number = next(numbers)
        if number > 1:  # the first try's outcome is known already
            last[0] = attempt(number)
        return last[0]

    def left() -> float:
        return begun + schedule.budget - waits.now()

    def stop(state: Any) -> bool:
        return state.attempt_number >= schedule.attempts or waits.stopped or left() <= 0

    def wait(state: Any) -> float:
        again: Again[T] = state.outcome.result()
        if again.retry_after is not None:
            seconds = min(again.retry_after, schedule.max_retry_after)
        else:
            seconds = schedule.delay(state.attempt_number)
        return max(0.0, min(seconds, left()) if schedule.clip else seconds)

    def announce(state: Any) -> None:
        if before_wait is not None:
            before_wait(state.attempt_number, state.outcome.result(), state.next_action.sleep)

    def sleep(seconds: float) -> None:
        if not waits.wait(seconds):
            raise _Stopped

    retrying = tenacity.Retrying(
        stop=stop,
        wait=wait,
        sleep=sleep,
        retry=tenacity.retry_if_result(lambda outcome: isinstance(outcome, Again)),
        retry_error_callback=lambda state: last[0],  # the schedule is spent
        before_sleep=announce,
    )
    try:
        outcome: T | Again[T] = retrying(tried)
    except _Stopped:
        return last[0]
    return outcome


def tries_within(budget: float, delay: Callable[[int], float]) -> int:
    """How many tries fit in ``budget`` seconds when try ``n`` is followed by
    ``delay(n)`` (the last wait cut short at the budget): 1 for a budget of 0."""
    tries, spent = 1, 0.0
    while spent < budget and tries < MAX_TRIES:
        spent += max(delay(tries), 0.0)
        tries += 1
    return tries
