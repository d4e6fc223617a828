"""Bounded, adaptive worker threads with a clean stop (private).

Files start on one worker; each file the registry takes at least
``slow_seconds`` to answer adds a worker, up to ``jobs``: a fast registry is
served sequentially (threads would only add overhead), a slow one gets
``jobs`` files in flight within a few files.

The calling thread only coordinates, so Ctrl-C (KeyboardInterrupt, which
Python delivers to the main thread) always reaches it: it stops starting
files, gives the files in flight ``grace`` seconds to finish, then aborts
them (``on_abort`` closes their connections) and returns once every worker
has ended.  A second Ctrl-C skips the grace period.  A result that says the
registry is unreachable (``halt_reason``) also stops new files from starting.

The pool knows its workers have ended from its own count, which each worker
lowers as its last act: before Python 3.13 an interrupted ``Thread.join()``
can leave ``is_alive()`` false while the thread still runs, and a file
reported interrupted must not be stored (or reported) after the report.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from .results import FileResult

__all__ = ["Pool", "PoolRun"]

logger = logging.getLogger(__name__)

#: How often the coordinating thread wakes up to notice Ctrl-C.
_POLL = 0.1
#: After an abort, how long to wait before cutting the connections again.
_ABORT_WAIT = 1.0
#: The most a thread whose work has ended is given to finish.
_REAP_WAIT = 0.5


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
        self._spawned = 0  # workers started, ever
        self._running = 0  # workers that have not ended yet
        self._ended: queue.SimpleQueue[None] = queue.SimpleQueue()  # one item per ended worker
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
        self._reap()
        if self._failures:
            raise self._failures[0]
        return state

    # -- workers ---------------------------------------------------------------

    def _spawn(self, target: Callable[[], None], total: int) -> None:
        with self._lock:
            if self._spawned >= min(self.jobs, total) or self.stop.is_set():
                return
            self._spawned += 1
            self._running += 1
        thread = threading.Thread(
            target=self._worker, args=(target,), name="registry-upload", daemon=True
        )
        try:
            thread.start()
        except BaseException:  # (Ctrl-C inside start(): a thread that did start finds
            self._ended_one()  # the stop set at once and ends without taking a file)
            raise
        self._threads.append(thread)

    def _worker(self, target: Callable[[], None]) -> None:
        try:
            target()
        finally:
            self._ended_one()

    def _ended_one(self) -> None:
        with self._lock:
            self._running -= 1
        self._ended.put(None)

    @property
    def running(self) -> int:
        """Workers that have not ended (the pool's own count, not ``Thread.is_alive``)."""
        return self._running

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
        while self._running > 0:
            remaining = _POLL if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                return False
            # A C-level queue: an interrupted wait leaves no lock held, and short
            # waits let Python run signal handlers (Ctrl-C) between them.
            with contextlib.suppress(queue.Empty):
                self._ended.get(timeout=min(remaining, _POLL))
        return True

    def _reap(self) -> None:
        """Let the ended workers' threads finish their teardown (moments: the count
        says their work is done), so no ``registry-upload`` thread outlives the run."""
        for thread in self._threads:
            with contextlib.suppress(KeyboardInterrupt):
                thread.join(_REAP_WAIT)

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
        self._abort_until_ended()

    def _abort_until_ended(self) -> None:
        """Cut the files in flight and wait until their workers have ended.

        Once cut, a file ends within moments (its attempt fails, the stop event
        ends its waits); a further Ctrl-C cuts again and keeps waiting, so no
        worker outlives the run."""
        while True:
            try:
                if self.on_abort is not None:
                    self.on_abort()
                if self._join(_ABORT_WAIT):
                    return
                logger.debug("%d upload(s) still ending after the abort", self._running)
            except KeyboardInterrupt:
                continue
