"""A loopback HTTP/1.1 sink for throughput measurements.

``DiscardSink`` reads each request body, discards it and answers 200 to a
POST (404 to anything else), so an upload tool's own cost can be measured
without a registry's storage.  Deliberately minimal, like many small
servers: keep-alive, ``Content-Length`` bodies read in 64 KiB pieces, an
optional ``delay`` before each upload's answer to play a registry's
processing time.  ``expect_100`` (default on) answers ``Expect:
100-continue`` with ``100 Continue`` at once, as waitress (pypiserver, devpi)
and nginx do; ``expect_100=False`` plays the small servers that never do, so
a client that asks waits for its own timeout.  The repository's benchmarks
(``benchmarks/run.py``) measure against it.
"""

from __future__ import annotations

import socket
import threading
import time

__all__ = ["DiscardSink"]


class DiscardSink:
    """Use it as ``with DiscardSink(delay=0.05) as sink:``; POST to ``sink.url``."""

    def __init__(self, *, delay: float = 0.0, expect_100: bool = True) -> None:
        self.delay = delay
        self.expect_100 = expect_100
        self.post_count = 0  # POSTs answered so far
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(256)
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/"

    def __enter__(self) -> DiscardSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                method = lines[0].split(b" ", 1)[0]
                length = 0
                close = expect = False
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    lname = name.strip().lower()
                    if lname == b"content-length":
                        length = int(value)
                    elif lname == b"connection" and value.strip().lower() == b"close":
                        close = True
                    elif lname == b"expect" and value.strip().lower() == b"100-continue":
                        expect = True
                if expect and self.expect_100:
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                remaining = length - len(buf)
                buf = buf[length:] if remaining <= 0 else b""
                while remaining > 0:
                    data = conn.recv(min(65536, remaining))
                    if not data:
                        return
                    remaining -= len(data)
                if method == b"POST":
                    with self._lock:
                        self.post_count += 1
                    if self.delay:
                        time.sleep(self.delay)
                    body = b"OK"
                else:
                    body = b"<html><body>sink</body></html>"
                status = b"200 OK" if method == b"POST" else b"404 Not Found"
                conn.sendall(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                if close:
                    return
        except OSError:
            return
        finally:
            conn.close()
