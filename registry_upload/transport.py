"""HTTP only: a streaming multipart body, one POST per file, the raw response.

The body is produced chunk by chunk from disk, so memory stays constant
whatever the file size, and ``Content-Length`` is exact.  The file part comes
before the digest fields: the digests are computed *while* the file is sent
(one read of the file for both), then appended.  Registries parse the whole
form before acting on it, so the order does not matter to them.

This module knows nothing about registries' wording; see ``diagnostics``.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import logging
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, cast
from urllib.parse import urlsplit

import urllib3
from urllib3._version import __version__ as _urllib3_version
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, SSLError
from urllib3.util import Url, parse_url
from urllib3.util.wait import wait_for_read

from ._hashing import CHUNK_SIZE, Digests, StreamHasher
from ._version import __version__
from .errors import TransportError
from .repository import Origin, origin_of, without_userinfo

__all__ = [
    "DEFAULT_USER_AGENT",
    "MAX_WAIT_SECONDS",
    "MultipartBody",
    "Response",
    "Transport",
    "TransportOptions",
]

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    f"registry-upload/{__version__} urllib3/{_urllib3_version} "
    f"{sys.implementation.name}/{'.'.join(map(str, sys.version_info[:3]))}"
)
#: The longest wait any option accepts (a per-attempt deadline, a verify wait): a week.
MAX_WAIT_SECONDS = 7 * 24 * 3600.0
#: Without an explicit timeout, a small request (index page, probe, token
#: exchange) gets at most this long.
_SMALL_REQUEST_DEADLINE = 30.0
# Responses are diagnostics, not downloads: keep at most this much of a body.
_MAX_BODY = 1 << 20
# Once an answer's headers are in, its body gets at most this long.
_BODY_TIME = 30.0
# The automatic per-attempt deadline assumes the link moves at least this many bytes/s.
_MIN_RATE = 32 << 10
# Large bodies are sent in slices of this size, with a look for an early answer between two.
_SLICE = 128 << 10
# Interim (1xx) response heads longer than this are treated as a broken answer.
_MAX_HEAD = 64 << 10

ProgressCallback = Callable[[int, int], None]
# Files up to this size are sent as one buffer.
_ONE_PIECE = 1 << 20


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """Network settings.

    ``ca_cert``: a CA bundle (PEM) to trust instead of the system store.
    ``client_cert``: a PEM file with the client certificate and its key.
    ``proxy``: ``None`` reads ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``;
    ``""`` disables proxies; a URL forces one.
    ``read_timeout`` is how long to wait for the registry's answer after the
    body is sent (large files take registries a while to process), and for
    any single read or write to make progress.

    ``timeout`` is the overall deadline of one attempt, in seconds: connect,
    send the body, and read the answer.  When it passes, the connection is
    cut and the attempt fails with a ``TransportError`` (which the retry
    policy may retry).  ``None`` (the default) scales it with the body:
    ``connect_timeout + read_timeout + size / 32 KiB/s``, so a silent server
    costs about what the read timeout costs, and a multi-GB upload is never
    cut on a link faster than 256 kbit/s (a registry silent for longer than
    ``read_timeout`` after a large upload leaves the attempt ambiguous, which
    the uploader settles on the index, never by sending again blindly).  A
    small request (an index page, the probe, a token exchange) gets at most
    30 s.  Whatever the deadline, reading a response body (a diagnostic, at
    most 1 MiB is kept) takes at most 30 s.

    ``expect_threshold``: bodies larger than this are sent with
    ``Expect: 100-continue``, so a registry that refuses the request from its
    headers (bad credentials, no such project) does so before the body goes
    out; ``None`` never sends it.  ``expect_wait`` is how long to wait for
    ``100 Continue`` before sending anyway; a host that never sends it is
    remembered, and later uploads to it do not wait.
    """

    ca_cert: str | None = None
    client_cert: str | None = None
    verify: bool = True
    connect_timeout: float = 15.0
    read_timeout: float = 60.0
    proxy: str | None = None
    pool_size: int = 8
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float | None = None
    expect_threshold: int | None = 1 << 20
    expect_wait: float = 1.0

    def deadline(self, body_length: int = 0) -> float:
        """The overall deadline, in seconds, of one request carrying ``body_length`` bytes."""
        if self.timeout is not None:
            return self.timeout
        return self.connect_timeout + self.read_timeout + body_length / _MIN_RATE


@dataclass(frozen=True, slots=True)
class Response:
    """A registry's answer, with at most 1 MiB of its body.

    ``truncated`` is true when the body was cut: longer than the cap, slower
    than its deadline, or broken off; the connection is then closed, never
    drained.
    """

    status: int
    reason: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    url: str = ""
    truncated: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class MultipartBody:
    """``multipart/form-data`` with the file streamed from disk.

    Layout: text fields, the ``content`` file part, then the digest fields
    (filled in once the file has been read).  Digest hex lengths are fixed, so
    the total length is known before a byte is sent.
    """

    def __init__(
        self,
        fields: Sequence[tuple[str, str]],
        *,
        path: str | os.PathLike[str],
        filename: str,
        size: int,
        blake2: bool = False,
        md5: bool = False,
    ) -> None:
        self.boundary = "registry-upload-" + os.urandom(16).hex()
        self.path = path
        self.size = size
        self._blake2 = blake2
        self._md5 = md5
        head = bytearray()
        for name, value in fields:
            head += self._field(name, value)
        head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="content"; filename="{_quote(filename)}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._head = bytes(head)
        placeholder = Digests(
            sha256="0" * 64,
            blake2_256="0" * 64 if blake2 else None,
            md5="0" * 32 if md5 else None,
        )
        self.length = len(self._head) + size + len(self._tail(placeholder))

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _field(self, name: str, value: str) -> bytes:
        return (
            (
                f"--{self.boundary}\r\n"
                f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
            ).encode()
            + value.encode("utf-8")
            + b"\r\n"
        )

    def _tail(self, digests: Digests) -> bytes:
        out = bytearray(b"\r\n")
        for name, value in digests.form_fields():
            out += self._field(name, value)
        out += f"--{self.boundary}--\r\n".encode()
        return bytes(out)

    def chunks(
        self, state: _SendState, on_progress: ProgressCallback | None = None
    ) -> Iterator[bytes]:
        """Yield the body; ``state`` learns the digests and how far it got."""
        hasher = StreamHasher(blake2=self._blake2, md5=self._md5, threaded=self.size >= (8 << 20))
        total = self.length
        if self.size <= _ONE_PIECE:
            # Small files: one buffer, one send (fewer syscalls); memory stays bounded.
            with open(self.path, "rb") as fh:
                data = fh.read(self.size + 1)
            if len(data) != self.size:
                raise TransportError(
                    f"{self.path}: the file changed size while it was being sent "
                    f"({len(data)} instead of {self.size} bytes)",
                    hint="Do not rebuild or move files during an upload.",
                    path=str(self.path),
                )
            hasher.update(data)
            state.digests = hasher.finish()
            whole = self._head + data + self._tail(state.digests)
            yield whole
            state.sent = len(whole)
            state.complete = True
            state.completed_at = time.monotonic()
            if on_progress is not None:
                on_progress(state.sent, total)
            return
        try:
            yield self._head
            state.sent = len(self._head)
            with open(self.path, "rb", buffering=0) as fh:
                read = 0
                while read < self.size:
                    chunk = fh.read(min(CHUNK_SIZE, self.size - read))
                    if not chunk:
                        raise TransportError(
                            f"{self.path}: the file shrank while it was being sent "
                            f"({read} of {self.size} bytes)",
                            hint="Do not rebuild or move files during an upload.",
                            path=str(self.path),
                        )
                    read += len(chunk)
                    hasher.update(chunk)
                    yield chunk
                    state.sent += len(chunk)
                    if on_progress is not None:
                        on_progress(state.sent, total)
        finally:
            state.digests = hasher.finish()
        tail = self._tail(state.digests)
        yield tail
        state.sent += len(tail)
        state.complete = True
        state.completed_at = time.monotonic()
        if on_progress is not None:
            on_progress(state.sent, total)


class _SendState:
    """How far a body's sending got, and the digests of the file sent."""

    __slots__ = ("complete", "completed_at", "digests", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.complete = False
        self.completed_at = 0.0
        self.digests: Digests | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one POST produced: the response, bytes sent, the digests sent, and how
    long the registry took to answer once the body was out (``response_time``)."""

    response: Response
    bytes_sent: int
    digests: Digests
    response_time: float = 0.0


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")


class Transport:
    """A urllib3 pool shared by every upload of a batch (thread-safe).

    urllib3 provides the pooled connections (TLS, client certificates,
    proxies and CONNECT tunnels); the exchange on each connection is driven
    here, so that every attempt has an overall deadline, response bodies are
    read under a cap and a deadline (and the connection closed, never
    drained, when they are not read to the end), and large uploads can use
    ``Expect: 100-continue`` and stop as soon as the registry answers early.
    """

    def __init__(self, options: TransportOptions | None = None) -> None:
        self.options = options or TransportOptions()
        self._managers: dict[str | None, urllib3.PoolManager] = {}
        self._proxy_cache: dict[tuple[str, str], str | None] = {}
        self._lock = threading.Lock()
        self._watchdog = _Watchdog()
        # Origins that never sent "100 Continue" or refused Expect (417): no Expect for them.
        self._no_expect: set[Origin] = set()

    # -- pools -------------------------------------------------------------

    def _proxy_for(self, url: str) -> str | None:
        opt = self.options.proxy
        if opt is not None:
            return opt or None
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        try:
            return self._proxy_cache[key]
        except KeyError:
            proxy = proxy_from_environment(parts.scheme, parts.hostname or "", parts.port)
            self._proxy_cache[key] = proxy
            return proxy

    def _manager(self, url: str) -> urllib3.PoolManager:
        proxy = self._proxy_for(url)
        with self._lock:
            manager = self._managers.get(proxy)
            if manager is None:
                o = self.options
                kwargs: dict[str, Any] = {
                    "num_pools": 4,
                    "maxsize": max(1, o.pool_size),
                    "block": False,
                    "retries": False,
                    "timeout": urllib3.Timeout(connect=o.connect_timeout, read=o.read_timeout),
                    "cert_reqs": "CERT_REQUIRED" if o.verify else "CERT_NONE",
                }
                if o.ca_cert:
                    kwargs["ca_certs"] = o.ca_cert
                if o.client_cert:
                    kwargs["cert_file"] = o.client_cert
                if proxy:
                    logger.debug("using proxy %s", without_userinfo(proxy))
                    manager = urllib3.ProxyManager(proxy, **kwargs)
                else:
                    manager = urllib3.PoolManager(**kwargs)
                self._managers[proxy] = manager
        return manager

    def close(self) -> None:
        """Close every connection, cutting those in use: their requests fail at once.

        Safe to call from another thread (to abort the uploads in flight); the
        transport can still be used afterwards, with new connections.
        """
        with self._lock:
            for manager in self._managers.values():
                manager.clear()
            self._managers.clear()
        self._watchdog.cut_all()
        self._watchdog.stop()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ----------------------------------------------------------

    def post_file(
        self,
        url: str,
        body: MultipartBody,
        *,
        authorization: str | None,
        on_progress: ProgressCallback | None = None,
    ) -> SendResult:
        """Send one multipart upload; raise TransportError when no answer came.

        Bodies above ``expect_threshold`` go with ``Expect: 100-continue``; a
        final answer instead of ``100 Continue`` (401, 403, 404, 413, ...) is
        returned with the body unsent.  An answer that arrives while the body
        is going out stops the sending.  Nothing is retried here.
        """
        headers = {
            "Content-Type": body.content_type,
            "User-Agent": self.options.user_agent,
            "Accept": "application/json, text/plain;q=0.9, */*;q=0.5",
        }
        if authorization:
            headers["Authorization"] = authorization
        origin = _origin(url)
        expect = self._expects(origin, body.length)
        deadline = _Deadline(self.options.deadline(body.length))
        while True:
            state = _SendState()
            exchange = _Exchange(
                url,
                "POST",
                headers,
                partial(body.chunks, state, on_progress),
                body.length,
                path=str(body.path),
            )
            self._run(exchange, deadline, expect=expect)
            if not (expect and exchange.status == 417 and exchange.sent == 0):
                break
            logger.debug("%s refused Expect: 100-continue; sending again without it", url)
            self._no_expect.add(origin)
            expect = False
        if exchange.expect_unanswered:
            logger.debug("%s sent no 100 Continue; later uploads will not wait", url)
            self._no_expect.add(origin)
        response = exchange.response
        assert response is not None
        digests = state.digests or Digests(sha256="")  # no digests: answered before the file
        waited = exchange.answered_at - state.completed_at if state.complete else 0.0
        return SendResult(
            response=response,
            bytes_sent=exchange.sent,
            digests=digests,
            response_time=max(0.0, waited),
        )

    def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, max_body: int = _MAX_BODY
    ) -> Response:
        """GET ``url`` (redirects are returned, not followed)."""
        return self._small("GET", url, headers or {}, None, max_body)

    def post_json(self, url: str, payload: bytes, *, headers: Mapping[str, str]) -> Response:
        json_headers = {"Content-Type": "application/json", **headers}
        return self._small("POST", url, json_headers, payload, _MAX_BODY)

    def _small(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        payload: bytes | None,
        max_body: int,
    ) -> Response:
        """A small request whose body is in memory (index pages, token exchange)."""
        all_headers = {"User-Agent": self.options.user_agent, **headers}
        length = len(payload) if payload is not None else None
        chunks = (lambda: iter((payload,))) if payload else None
        exchange = _Exchange(url, method, all_headers, chunks, length, max_body=max_body)
        seconds = self.options.deadline(length or 0)
        if self.options.timeout is None:  # an index page or a token: never a long wait
            seconds = min(seconds, _SMALL_REQUEST_DEADLINE)
        self._run(exchange, _Deadline(seconds), expect=False)
        assert exchange.response is not None
        return exchange.response

    def _expects(self, origin: Origin, length: int) -> bool:
        threshold = self.options.expect_threshold
        return threshold is not None and length > threshold and origin not in self._no_expect

    # -- one exchange on one pooled connection -------------------------------

    def _run(self, ex: _Exchange, deadline: _Deadline, *, expect: bool) -> None:
        """Connect, send, read the answer into ``ex.response``; TransportError otherwise."""
        manager = self._manager(ex.url)
        u = _parse(ex.url)
        pool = manager.connection_from_host(u.host or "", port=u.port, scheme=u.scheme or "http")
        try:
            conn: Any = pool._get_conn()
        except HTTPError as exc:  # the pool was closed under us (an abort)
            raise TransportError(
                f"the connection to {ex.url} was closed: {exc}",
                url=ex.url,
                path=ex.path,
                retryable=False,
            ) from None
        reusable = False
        try:
            proxied = isinstance(manager, urllib3.ProxyManager)
            self._connect(pool, conn, ex, deadline, tunnel=proxied and u.scheme == "https")
            target = u.request_uri
            extra: dict[str, str] = {}
            if proxied and u.scheme != "https":  # plain http via a proxy: absolute-form target
                target = u._replace(fragment=None).url
                extra = dict(getattr(manager, "proxy_headers", {}))
            head = _request_head(ex, target, u.netloc or "", extra, expect=expect)
            sock = conn.sock
            assert sock is not None
            key = self._watchdog.arm(sock, deadline.at)
            try:
                reusable = self._exchange(sock, ex, head, deadline, expect=expect)
            finally:
                self._watchdog.disarm(key)
        finally:
            if not reusable:
                conn.close()
            pool._put_conn(conn)

    def _connect(
        self,
        pool: Any,
        conn: Any,
        ex: _Exchange,
        deadline: _Deadline,
        *,
        tunnel: bool,
    ) -> None:
        if not conn.is_closed:
            return  # a kept-alive connection from an earlier request
        conn.timeout = deadline.cap(self.options.connect_timeout)
        try:
            if tunnel:
                pool._prepare_proxy(conn)  # CONNECT through the proxy, then TLS
            else:
                conn.connect()
        except (OSError, HTTPError, ValueError, http.client.HTTPException) as exc:
            raise _connect_error(exc, ex, proxied=pool.proxy is not None) from None

    def _exchange(
        self,
        sock: socket.socket,
        ex: _Exchange,
        head: bytes,
        deadline: _Deadline,
        *,
        expect: bool,
    ) -> bool:
        """Send and read; True when the connection may serve another request."""
        o = self.options
        early = b""
        try:
            sock.settimeout(deadline.cap(o.read_timeout))
            if expect or ex.chunks is None:
                sock.sendall(head)
                head = b""
            if expect:
                early = self._await_continue(sock, ex, deadline)
            if not early and ex.chunks is not None:
                early = self._send_body(sock, ex, head, deadline)
        except (OSError, ValueError) as exc:
            # A registry may answer and close while the body is going out: look for it.
            early = _salvage(sock)
            if not early:
                raise self._broken(exc, ex, deadline, sending=True) from None
        try:
            sock.settimeout(deadline.cap(o.read_timeout))
            raw = http.client.HTTPResponse(
                cast(socket.socket, _PrefixedSocket(early, sock)), method=ex.method
            )
            raw.begin()
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise self._broken(exc, ex, deadline, sending=False) from None
        ex.answered_at = time.monotonic()
        body, complete = self._read_body(raw, sock, deadline, ex.max_body)
        ex.response = Response(
            status=raw.status,
            reason=raw.reason or "",
            headers={k.lower(): v for k, v in raw.getheaders()},
            body=body,
            url=ex.url,
            truncated=not complete,
        )
        finished = ex.chunks is None or ex.sent == ex.length
        return complete and finished and not raw.will_close and not deadline.expired

    def _await_continue(self, sock: socket.socket, ex: _Exchange, deadline: _Deadline) -> bytes:
        """After the headers of an Expect request: b"" to send the body, else a final answer."""
        wait = min(self.options.expect_wait, max(0.0, deadline.left()))
        while True:
            first = _poll(sock, wait)
            if first is None:
                ex.expect_unanswered = True
                return b""
            if not first:
                raise ConnectionResetError("the server closed the connection without answering")
            interim = _read_head(sock, first, deadline)
            if not _is_interim(interim):
                return interim
            if interim.split(b" ", 2)[1:2] == [b"100"]:
                return b""
            wait = max(0.0, deadline.left())  # 102/103: keep waiting for 100 or the answer

    def _send_body(
        self, sock: socket.socket, ex: _Exchange, head: bytes, deadline: _Deadline
    ) -> bytes:
        """Send ``head`` (unless already sent) and the body, watching for an early
        answer; returns it (b"" when none came).

        A small request is one write, head and body together.  A large body
        goes in slices, and between two slices a readable socket means the
        registry has answered (a 401 from the headers, say): sending stops there.
        """
        assert ex.chunks is not None
        length = ex.length or 0
        step = _SLICE if length > _ONE_PIECE else max(1, length)
        chunks = ex.chunks()
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                for start in range(0, len(view), step):
                    piece = view[start : start + step]
                    sock.settimeout(deadline.cap(self.options.read_timeout))
                    sock.sendall(head + piece if head else piece)
                    head = b""
                    ex.sent += len(piece)
                    early = _early_answer(sock, deadline) if ex.sent < length else b""
                    if early:
                        logger.debug(
                            "%s answered after %d of %d bytes; stopped sending",
                            ex.url,
                            ex.sent,
                            length,
                        )
                        return early
        finally:
            if isinstance(chunks, Generator):
                chunks.close()
        if head:  # the body was empty: the head goes alone
            sock.sendall(head)
        return b""

    def _read_body(
        self,
        raw: http.client.HTTPResponse,
        sock: socket.socket,
        deadline: _Deadline,
        cap: int,
    ) -> tuple[bytes, bool]:
        """At most ``cap`` bytes within the body deadline; (body, read to its end)."""
        until = _Deadline(min(_BODY_TIME, max(0.0, deadline.left())))
        body = bytearray()
        try:
            while not _done(raw):
                if until.expired or len(body) > cap:
                    return bytes(body[:cap]), False
                sock.settimeout(until.cap(self.options.read_timeout))
                piece = raw.read1(min(64 << 10, cap + 1 - len(body)))
                if not piece:
                    break
                body += piece
        except (OSError, ValueError, http.client.HTTPException) as exc:
            logger.debug("reading the answer from %s broke off: %s", raw, exc)
            return bytes(body[:cap]), False
        return bytes(body[:cap]), len(body) <= cap and _done(raw)

    def _broken(
        self, exc: BaseException, ex: _Exchange, deadline: _Deadline, *, sending: bool
    ) -> TransportError:
        """The connection failed after it was made: while sending, or awaiting the answer."""
        body_sent = ex.chunks is not None and ex.sent == ex.length
        if deadline.expired:
            message = f"no complete answer from {ex.url} within the {deadline.seconds:g} s deadline"
            hint = "The registry or the network is too slow; raise --timeout."
        elif isinstance(exc, TimeoutError) and not sending:
            message = f"no answer from {ex.url} within the read timeout"
            hint = "The registry may still be processing a large file; raise the read timeout."
        elif isinstance(exc, TimeoutError):
            message = f"sending to {ex.url} stalled beyond the read timeout"
            hint = "The registry stopped reading the upload."
        else:
            stage = "while sending" if sending and not body_sent else "before answering"
            message = f"connection to {ex.url} broke {stage}: {_describe(exc)}"
            hint = "The network or the registry dropped the connection."
        return TransportError(
            message,
            url=ex.url,
            path=ex.path,
            hint=hint,
            retryable=True,
            body_sent=body_sent,
            bytes_sent=ex.sent,
            connected=True,
        )


# -- the pieces of an exchange -------------------------------------------------


class _Exchange:
    """One request and what became of it."""

    __slots__ = (
        "answered_at",
        "chunks",
        "expect_unanswered",
        "headers",
        "length",
        "max_body",
        "method",
        "path",
        "response",
        "sent",
        "url",
    )

    def __init__(
        self,
        url: str,
        method: str,
        headers: Mapping[str, str],
        chunks: Callable[[], Iterator[bytes]] | None,
        length: int | None,
        *,
        max_body: int = _MAX_BODY,
        path: str | None = None,  # the file being uploaded, named in errors
    ) -> None:
        self.url = url
        self.method = method
        self.headers = headers
        self.chunks = chunks
        self.length = length
        self.max_body = max_body
        self.path = path
        self.sent = 0
        self.expect_unanswered = False
        self.answered_at = 0.0
        self.response: Response | None = None

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None


class _Deadline:
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


class _Watchdog:
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
            _cut(sock)

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
                            _cut(sock)
                    if self._armed:
                        self._wake_at = min(at for at, _ in self._armed.values())
                        self._cond.wait(self._wake_at - now)
                    else:
                        self._wake_at = now + self._IDLE
                        if not self._cond.wait(self._IDLE) and not self._armed:
                            return
            finally:
                self._thread = None


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _PrefixedSocket:
    """What ``http.client.HTTPResponse`` reads from: bytes already read, then the socket."""

    def __init__(self, prefix: bytes, sock: socket.socket) -> None:
        self._raw = _PrefixedRaw(prefix, sock)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self._raw)


class _PrefixedRaw(io.RawIOBase):
    def __init__(self, prefix: bytes, sock: socket.socket) -> None:
        self._prefix = prefix
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        return self._sock.recv_into(buffer)


def _done(raw: http.client.HTTPResponse) -> bool:
    """Whether the whole body has been read: all it declared, the last chunk, or up to EOF."""
    if raw.length is not None:
        return raw.length == 0
    return raw.isclosed()


# The origin rule's reading of a URL, once per URL (a batch posts to one URL many times).
_origin = lru_cache(maxsize=64)(origin_of)


@lru_cache(maxsize=64)
def _parse(url: str) -> Url:
    """urllib3's reading of ``url``, once per URL: a batch posts to one URL many times."""
    return parse_url(url)


def _request_head(
    ex: _Exchange, target: str, netloc: str, extra: Mapping[str, str], *, expect: bool
) -> bytes:
    host = netloc.rpartition("@")[2]
    lines = [f"{ex.method} {target} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    for name, value in {**extra, **ex.headers}.items():
        if name.lower() in ("host", "content-length", "expect", "accept-encoding"):
            continue
        if any(c in name + value for c in "\r\n\0"):
            raise TransportError(
                f"header {name!r} contains a line break",
                url=ex.url,
                path=ex.path,
                hint="Remove control characters from credentials and options.",
            )
        lines.append(f"{name}: {value}")
    if ex.length is not None:
        lines.append(f"Content-Length: {ex.length}")
    if expect:
        lines.append("Expect: 100-continue")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


def _readable(sock: socket.socket, timeout: float) -> bool:
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:  # poll() where there is one: select() fails on descriptors above 1023
        return wait_for_read(sock, timeout=max(0.0, timeout))
    except (OSError, ValueError):
        return True  # let the read report the problem


def _poll(sock: socket.socket, timeout: float) -> bytes | None:
    """The first byte of an answer if one arrives within ``timeout``; b"" if the peer closed.

    TLS records that carry no data (session tickets) make the socket readable
    without an answer: those are read and ignored.
    """
    until = time.monotonic() + timeout
    while _readable(sock, until - time.monotonic()):
        previous = sock.gettimeout()
        sock.settimeout(0.0)
        try:
            return sock.recv(1)
        except (ssl.SSLWantReadError, BlockingIOError):
            if time.monotonic() >= until:
                return None
        finally:
            sock.settimeout(previous)
    return None


def _early_answer(sock: socket.socket, deadline: _Deadline) -> bytes:
    """Between two chunks: a final answer if the server sent one (b"" otherwise)."""
    while True:
        first = _poll(sock, 0.0)
        if first is None:
            return b""
        if not first:
            raise ConnectionResetError("the server closed the connection")
        head = _read_head(sock, first, deadline)
        if not _is_interim(head):
            return head


def _salvage(sock: socket.socket) -> bytes:
    """After a failed send: whatever answer is already waiting (b"" if none)."""
    try:
        first = _poll(sock, 0.05)
    except (OSError, ValueError):
        return b""
    if not first:
        return b""
    try:
        sock.settimeout(0.5)
        return first + sock.recv(_MAX_HEAD)
    except (OSError, ValueError):
        return first


def _read_head(sock: socket.socket, first: bytes, deadline: _Deadline) -> bytes:
    """The rest of a response head (status line and headers), byte by byte.

    Byte by byte so nothing beyond the head is consumed; only interim
    answers and early verdicts are read this way, a few hundred bytes.
    """
    head = bytearray(first)
    while not head.endswith(b"\r\n\r\n") and not head.endswith(b"\n\n"):
        if len(head) > _MAX_HEAD:
            raise ConnectionError("the server sent an oversized interim answer")
        sock.settimeout(deadline.cap(30.0))
        byte = sock.recv(1)
        if not byte:
            break  # closed after (part of) a head: let the parser judge it
        head += byte
    return bytes(head)


def _is_interim(head: bytes) -> bool:
    parts = head.split(b" ", 2)
    return len(parts) > 1 and parts[1][:1] == b"1" and len(parts[1]) == 3


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "..."


def proxy_from_environment(scheme: str, host: str, port: int | None = None) -> str | None:
    """The proxy for a URL from ``<SCHEME>_PROXY``/``ALL_PROXY`` unless ``NO_PROXY`` matches.

    Lower-case names win over upper-case ones, as in curl and requests.
    ``NO_PROXY`` entries match the host or any subdomain (``example.org`` and
    ``.example.org`` both match ``a.example.org``), optionally with a port;
    ``*`` disables proxies.
    """
    env = os.environ

    def get(name: str) -> str | None:
        return env.get(name.lower()) or env.get(name.upper()) or None

    proxy = get(f"{scheme}_proxy") or get("all_proxy")
    if not proxy:
        return None
    host = host.lower().strip("[]")
    for entry in (get("no_proxy") or "").replace(" ", "").split(","):
        if not entry:
            continue
        if entry == "*":
            return None
        name, _, entry_port = entry.lower().lstrip(".").partition(":")
        if entry_port and port is not None and entry_port != str(port):
            continue
        if host == name or host.endswith("." + name):
            return None
    return proxy


def _connect_error(exc: BaseException, ex: _Exchange, *, proxied: bool) -> TransportError:
    """No connection was made: refused, unresolvable, timed out, TLS or proxy failure."""
    url = ex.url
    reason = getattr(exc, "reason", None)
    inner = reason if isinstance(reason, BaseException) else exc
    if isinstance(exc, ssl.SSLError | SSLError) or isinstance(inner, ssl.SSLError):
        detail = str(inner)
        hint = (
            "TLS verification failed. If the registry uses a private CA, pass its bundle "
            "with --cert / TransportOptions(ca_cert=...)."
            if "CERTIFICATE_VERIFY_FAILED" in detail or "certificate" in detail.lower()
            else "Check the URL's scheme and the registry's TLS setup."
        )
        return TransportError(
            f"TLS error talking to {url}: {detail}",
            url=url,
            path=ex.path,
            hint=hint,
            retryable=False,
            connected=False,
        )
    if proxied:
        message = f"proxy error for {url}: {_describe(exc)}"
        hint = "Check HTTPS_PROXY / HTTP_PROXY / NO_PROXY."
    elif isinstance(exc, NewConnectionError):
        message = f"cannot connect to {url}: {_describe(exc)}"
        hint = "Check the repository URL, and that the registry is running."
    elif isinstance(exc, ConnectTimeoutError | TimeoutError):
        message = f"timed out connecting to {url}"
        hint = "Is the host reachable?"
    else:
        message = f"cannot connect to {url}: {_describe(exc)}"
        hint = "Check the repository URL, and that the registry is running."
    return TransportError(
        message, url=url, path=ex.path, hint=hint, retryable=True, connected=False
    )
