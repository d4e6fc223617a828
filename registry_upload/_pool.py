"""Bounded, adaptive worker threads with a clean stop (private).

Files start on one worker; each file the registry takes at least
``slow_seconds`` to answer adds a worker, up to ``jobs``: a fast registry is
served sequentially (threads would only add overhead), a slow one gets
``jobs`` files in flight within a few files.

The calling thread only coordinates, so Ctrl-C (KeyboardInterrupt, which
Python delivers to the main thread) always reaches it: it stops starting
files, gives the files in flight ``grace`` seconds to finish, then aborts
them (``on_abort`` closes their connections) and returns.  A second Ctrl-C
skips the grace period.  A result that says the registry is unreachable
(``halt_reason``) also stops new files from starting.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from .results import FileResult

__all__ = ["Pool", "PoolRun"]

logger = logging.getLogger(__name__)

#: How often the coordinating thread wakes up to notice Ctrl-C.
_POLL = 0.1


class PoolRun:
    """What a run produced: results by index, which indexes started, why it stopped early."""

    __slots__ = ("aborted", "halted", "interrupted", "results", "started")

    def __init__(self, size: int) -> None:
        self.results: list[FileResult | None] = [None] * size
        self.started: set[int] = set()
        self.interrupted = False
        self.halted: str | None = None
        #: Files in flight when their connections were cut (Ctrl-C after the grace
        #: period): whatever they ended with, their outcome on the registry is unknown.
        self.aborted: set[int] = set()


class Pool:
    def __init__(
        self,
        jobs: int,
        *,
        slow_seconds: float,
        grace: float = 2.0,
        on_abort: Callable[[], None] | None = None,
    ) -> None:
        self.jobs = max(1, jobs)
        self.slow_seconds = slow_seconds
        self.grace = grace
        self.on_abort = on_abort
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._failures: list[BaseException] = []

    def run(
        self,
        order: Sequence[int],
        work: Callable[[int], FileResult],
        *,
        halt_reason: Callable[[FileResult], str | None],
    ) -> PoolRun:
        """Run ``work(i)`` for each index in ``order``; results come back by index."""
        state = PoolRun(max(order, default=-1) + 1)
        pending = iter(order)
        try:
            self._spawn(lambda: self._work(state, pending, work, halt_reason), len(order))
            self._join(None)
        except KeyboardInterrupt:
            state.interrupted = True
            self._interrupt(state)
        if self._failures:
            raise self._failures[0]
        return state

    # -- workers ---------------------------------------------------------------

    def _spawn(self, target: Callable[[], None], total: int) -> None:
        with self._lock:
            if len(self._threads) >= min(self.jobs, total) or self.stop.is_set():
                return
            thread = threading.Thread(target=target, name="registry-upload", daemon=True)
            self._threads.append(thread)
        thread.start()

    def _work(
        self,
        state: PoolRun,
        pending: Iterator[int],
        work: Callable[[int], FileResult],
        halt_reason: Callable[[FileResult], str | None],
    ) -> None:
        try:
            while (index := self._take(state, pending)) is not None:
                result = work(index)
                state.results[index] = result
                reason = halt_reason(result)
                if reason is not None:
                    state.halted = state.halted or reason
                    self.stop.set()
                elif (result.response_time or 0.0) >= self.slow_seconds:
                    total = len(state.results)
                    self._spawn(lambda: self._work(state, pending, work, halt_reason), total)
        except BaseException as exc:  # surfaced in the calling thread
            self._failures.append(exc)
            self.stop.set()

    def _take(self, state: PoolRun, pending: Iterator[int]) -> int | None:
        with self._lock:
            if self.stop.is_set():
                return None
            index = next(pending, None)
            if index is not None:
                state.started.add(index)
            return index

    # -- waiting and stopping ----------------------------------------------------

    def _join(self, timeout: float | None) -> bool:
        """Wait for every worker (including ones added meanwhile); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                alive = [t for t in self._threads if t.is_alive()]
            if not alive:
                return True
            remaining = _POLL if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Short waits: Python runs signal handlers (Ctrl-C) only between them.
            alive[0].join(min(remaining, _POLL))

    def _interrupt(self, state: PoolRun) -> None:
        self.stop.set()
        logger.debug("interrupted: no new files; %.1f s for the files in flight", self.grace)
        try:
            finished = self._join(self.grace)
        except KeyboardInterrupt:  # a second Ctrl-C: do not wait
            finished = False
        if finished:
            return
        with self._lock:
            state.aborted = {i for i in state.started if state.results[i] is None}
        if self.on_abort is not None:
            self.on_abort()
        with contextlib.suppress(KeyboardInterrupt):
            self._join(1.0)
