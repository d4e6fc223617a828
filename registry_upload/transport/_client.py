"""``Transport``: the HTTP client every request of a batch goes through (thread-safe)."""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Mapping
from functools import lru_cache, partial
from typing import Protocol
from urllib.parse import quote, urlsplit

import h11

from .._hashing import Digests
from .._urls import Origin, origin_of
from ..errors import ConfigurationError, TransportError
from ._connect import Connection, IdlePool, open_connection, tls_context
from ._deadlines import Deadline, Watchdog
from ._errors import connect_error
from ._exchange import Exchange, request_head, run
from ._multipart import MultipartBody, SendState
from ._proxies import Proxy, proxy_from_environment
from ._records import MAX_BODY, ProgressCallback, Response, SendResult, TransportOptions

__all__ = ["Transport", "TransportProtocol"]

logger = logging.getLogger("registry_upload.transport")

#: Without an explicit timeout, a small request (index page, probe, token
#: exchange) gets at most this long.
_SMALL_REQUEST_DEADLINE = 30.0


class TransportProtocol(Protocol):
    """What the uploader needs from a transport; :class:`Transport` is the real one,
    :class:`registry_upload.testing.MockTransport` a scripted one."""

    def post_file(
        self,
        url: str,
        body: MultipartBody,
        *,
        authorization: str | None,
        on_progress: ProgressCallback | None = None,
    ) -> SendResult: ...

    def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, max_body: int = MAX_BODY
    ) -> Response: ...

    def post_json(self, url: str, payload: bytes, *, headers: Mapping[str, str]) -> Response: ...

    def proxied_in_clear(self, url: str) -> bool: ...

    def close(self) -> None: ...


class Transport:
    """Connections shared by every request of a batch (thread-safe).

    Every request has an overall deadline (resolution, connect, send, answer);
    response bodies are read under a cap and a deadline, and the connection
    closed, never drained, when they are not read to the end; large uploads
    can use ``Expect: 100-continue`` and stop as soon as the registry answers
    early.  Nothing is retried here.
    """

    def __init__(self, options: TransportOptions | None = None) -> None:
        self.options = options or TransportOptions()
        self._pool = IdlePool(self.options.pool_size)
        self._routes: dict[tuple[str, str, int], Proxy | None] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        if self.options.proxy:
            Proxy(self.options.proxy)  # a bad proxy URL given is refused now
        if self.options.ca_cert or self.options.client_cert:
            self._tls = tls_context(self.options)  # a bad PEM file is refused now
        self._watchdog = Watchdog()
        # Origins that never sent "100 Continue" or refused Expect (417): no Expect for them.
        self._no_expect: set[Origin] = set()

    # -- routes ------------------------------------------------------------

    def _route(self, origin: Origin) -> Proxy | None:
        """The proxy for ``origin`` (None: direct), read once per origin."""
        with self._lock:
            if origin in self._routes:
                return self._routes[origin]
        chosen = self.options.proxy
        if chosen is None:
            scheme, host, port = origin
            chosen = proxy_from_environment(scheme, host, port)
        try:
            route = Proxy(chosen) if chosen else None
        except ConfigurationError as exc:  # from the environment: fails this request only
            raise TransportError(
                f"{exc.message} (from the environment)",
                url=exc.url,
                hint=exc.hint,
                connected=False,
            ) from None
        if route is not None:
            logger.debug("using proxy %s for %s://%s:%d", route.shown, *origin)
        with self._lock:
            return self._routes.setdefault(origin, route)

    def _proxy_for(self, url: str) -> str | None:
        route = self._route(_origin(url))
        return route.url if route is not None else None

    def proxied_in_clear(self, url: str) -> bool:
        """Whether a request to ``url`` crosses a proxy unencrypted (plain http, proxied).

        The proxy, and every network between it and the registry, would see
        the request's credentials: the caller refuses to send any unless the
        user allowed insecure transport.  A loopback registry is no exception
        (it is the hop that is in clear).
        """
        origin = _origin(url)
        return origin[0] == "http" and self._route(origin) is not None

    def _tls_context(self) -> ssl.SSLContext:
        with self._lock:
            if self._tls is None:
                self._tls = tls_context(self.options)
            return self._tls

    def close(self) -> None:
        """Close every connection, cutting those in use: their requests fail at once.

        Safe to call from another thread (to abort the uploads in flight); the
        transport can still be used afterwards, with new connections.
        """
        self._pool.clear()
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
        """Send one multipart upload; raise TransportError when no final answer came.

        Bodies above ``expect_threshold`` go with ``Expect: 100-continue``; a
        final answer instead of ``100 Continue`` (401, 403, 404, 413, ...) is
        returned with the body unsent.  An answer that arrives while the body
        is going out stops the sending (``SendResult.body_complete`` is then
        false, whatever the status).  Interim answers are skipped.
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
        deadline = Deadline(self.options.deadline(body.length))
        while True:
            state = SendState()
            exchange = Exchange(
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
        assert exchange.response is not None
        complete = state.complete and exchange.body_complete
        waited = exchange.answered_at - exchange.body_sent_at if complete else 0.0
        return SendResult(
            response=exchange.response,
            bytes_sent=exchange.sent,
            digests=state.digests or Digests(sha256=""),  # none: answered before the file
            response_time=max(0.0, waited),
            body_complete=complete,
        )

    def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, max_body: int = MAX_BODY
    ) -> Response:
        """GET ``url`` (redirects are returned, not followed)."""
        return self._small("GET", url, headers or {}, None, max_body)

    def post_json(self, url: str, payload: bytes, *, headers: Mapping[str, str]) -> Response:
        json_headers = {"Content-Type": "application/json", **headers}
        return self._small("POST", url, json_headers, payload, MAX_BODY)

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
        exchange = Exchange(url, method, all_headers, chunks, length, max_body=max_body)
        seconds = self.options.deadline(length or 0)
        if self.options.timeout is None:  # an index page or a token: never a long wait
            seconds = min(seconds, _SMALL_REQUEST_DEADLINE)
        self._run(exchange, Deadline(seconds), expect=False)
        assert exchange.response is not None
        return exchange.response

    def _expects(self, origin: Origin, length: int) -> bool:
        threshold = self.options.expect_threshold
        return threshold is not None and length > threshold and origin not in self._no_expect

    # -- one exchange on one connection ---------------------------------------

    def _run(self, ex: Exchange, deadline: Deadline, *, expect: bool) -> None:
        """Connect (or reuse), send, read the answer into ``ex.response``, or raise."""
        origin = _origin(ex.url)
        if origin[0] not in _DEFAULT_PORTS or not origin[1]:
            raise TransportError(
                f"cannot send a request to {ex.url!r}: not an http(s) URL with a host",
                url=ex.url,
                path=ex.path,
                hint="Check the URL.",
                connected=False,
            )
        proxy = self._route(origin)
        key = (origin, proxy.url if proxy is not None else None)
        conn = self._pool.take(key) or self._connect(origin, proxy, ex, deadline)
        reusable = False
        try:
            host, path = _target(ex.url)
            target = f"http://{host}{path}" if conn.forward else path
            head = request_head(conn, ex, target, host, expect=expect)
            armed = self._watchdog.arm(conn.sock, deadline.at)
            try:
                reusable = run(
                    conn,
                    ex,
                    head,
                    deadline,
                    read_timeout=self.options.read_timeout,
                    expect=expect,
                    expect_wait=self.options.expect_wait,
                )
            finally:
                self._watchdog.disarm(armed)
        finally:
            if reusable:
                conn.protocol.start_next_cycle()
                self._pool.give(key, conn)
            else:
                conn.close()

    def _connect(
        self, origin: Origin, proxy: Proxy | None, ex: Exchange, deadline: Deadline
    ) -> Connection:
        tls = (
            self._tls_context()
            if origin[0] == "https" or (proxy and proxy.scheme == "https")
            else None
        )
        try:
            return open_connection(origin, proxy, tls, deadline, self.options.connect_timeout)
        except (OSError, ValueError, h11.ProtocolError) as exc:
            shown = proxy.shown if proxy is not None else None
            raise connect_error(exc, ex.url, ex.path, proxy=shown) from None


# The origin rule's reading of a URL, once per URL (a batch posts to one URL many times).
_origin = lru_cache(maxsize=64)(origin_of)


_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 characters a path or a query may hold as they are ("%": already encoded).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@lru_cache(maxsize=64)
def _target(url: str) -> tuple[str, str]:
    """The Host header and the origin-form target of ``url``, read as ``_origin`` reads it."""
    scheme, host, port = _origin(url)
    parts = urlsplit(url)
    shown = f"[{host}]" if ":" in host else host
    authority = shown if port == _DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query = "?" + quote(parts.query, safe=_QUERY_SAFE) if parts.query else ""
    return authority, path + query
