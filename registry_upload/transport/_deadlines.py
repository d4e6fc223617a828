"""Deadlines: what is left of an attempt's time, and the thread that enforces it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

__all__ = ["Deadline", "Watchdog", "cut"]


class Deadline:
    __slots__ = ("at", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.left() <= 0

    def cap(self, seconds: float) -> float:
        """``seconds``, or what is left of the deadline when that is less (never 0)."""
        return max(0.001, min(seconds, self.left()))


class Watchdog:
    """Cuts connections whose deadline has passed (one thread, only while some are armed).

    Per-operation socket timeouts bound each read; this bounds the whole
    exchange, so a server trickling its status line or chunk sizes cannot
    hold an attempt beyond its deadline.
    """

    _IDLE = 5.0

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, socket.socket]] = {}
        self._next = 0
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._wake_at = 0.0  # when the thread wakes next on its own

    def arm(self, sock: socket.socket, at: float) -> int:
        with self._cond:
            self._next += 1
            self._armed[self._next] = (at, sock)
            self._stopping = False
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="registry-upload-deadlines", daemon=True
                )
                self._thread.start()
            elif at < self._wake_at:
                # Only a deadline earlier than the next wake-up needs the thread now: a
                # thread switch per request is a good share of a small upload's cost.
                self._cond.notify()
            return self._next

    def disarm(self, key: int) -> None:
        with self._cond:
            self._armed.pop(key, None)

    def cut_all(self) -> None:
        """Cut every armed connection now (an abort)."""
        with self._cond:
            armed = list(self._armed.values())
            self._armed.clear()
        for _, sock in armed:
            cut(sock)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def _run(self) -> None:
        with self._cond:
            try:
                while not self._stopping:
                    now = time.monotonic()
                    for key, (at, sock) in list(self._armed.items()):
                        if at <= now:
                            del self._armed[key]
                            cut(sock)
                    if self._armed:
                        self._wake_at = min(at for at, _ in self._armed.values())
                        self._cond.wait(self._wake_at - now)
                    else:
                        self._wake_at = now + self._IDLE
                        if not self._cond.wait(self._IDLE) and not self._armed:
                            return
            finally:
                self._thread = None


def cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
