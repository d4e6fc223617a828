"""Connections: resolve (within the deadline), connect, tunnel through a proxy, TLS.

This is the one module that opens sockets.  Host name resolution runs in a
helper thread so that a slow resolver costs at most what is left of the
attempt's connect time; TLS trusts the operating system's store (through
``truststore``) unless a CA bundle is given.  Idle keep-alive connections
wait in a small pool per (origin, proxy).
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import ssl
import threading
from typing import Any

import h11

from .._urls import Origin
from ..errors import ConfigurationError
from ._deadlines import Deadline
from ._proxies import Proxy
from ._records import TransportOptions

__all__ = [
    "Connection",
    "IdlePool",
    "ProxyRefusal",
    "ResolveTimeout",
    "open_connection",
    "readable",
    "tls_context",
]

#: The resolver (a seam: tests replace it with a slow or failing one).
getaddrinfo = socket.getaddrinfo
#: Response heads (and interim answers) longer than this are a broken answer.
MAX_HEAD = 64 << 10


class ResolveTimeout(TimeoutError):
    """The host name was not resolved within the time left to connect."""


class ProxyRefusal(OSError):
    """The proxy answered CONNECT with something other than 2xx."""


class Connection:
    """One open connection and its HTTP/1.1 state (h11), reused while both allow it."""

    __slots__ = ("forward", "protocol", "proxy_authorization", "sock")

    def __init__(self, sock: socket.socket, *, forward: bool, proxy_authorization: str | None):
        self.sock = sock
        # Plain http through a proxy: absolute-form targets, Proxy-Authorization on each request.
        self.forward = forward
        self.proxy_authorization = proxy_authorization
        self.protocol = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def open_connection(
    origin: Origin,
    proxy: Proxy | None,
    tls: ssl.SSLContext | None,
    deadline: Deadline,
    connect_timeout: float,
) -> Connection:
    """A connection to ``origin`` (through ``proxy`` if given), TLS set up for https.

    Raises OSError (``ResolveTimeout``, ``ProxyRefusal``, ``ssl.SSLError``, ...),
    ``h11.ProtocolError`` for a proxy that does not speak HTTP, or ValueError.
    """
    scheme, host, port = origin
    if proxy is None:
        sock = _dial(host, port, deadline, connect_timeout)
    else:
        if proxy.scheme == "https" and scheme == "https":
            raise ProxyRefusal(
                f"TLS to the registry inside TLS to the proxy {proxy.shown} is not supported; "
                "give the proxy's http:// URL (the tunnel carries TLS end to end)"
            )
        sock = _dial(proxy.host, proxy.port, deadline, connect_timeout)
        if proxy.scheme == "https":
            sock = _wrap(sock, tls, proxy.host, deadline, connect_timeout)
        if scheme == "https":
            _tunnel(sock, origin, proxy, deadline, connect_timeout)
    if scheme == "https":
        sock = _wrap(sock, tls, host, deadline, connect_timeout)
    forward = proxy is not None and scheme == "http"
    return Connection(
        sock,
        forward=forward,
        proxy_authorization=proxy.authorization if forward and proxy else None,
    )


def _resolve(host: str, port: int, seconds: float) -> list[Any]:
    """``getaddrinfo`` for a TCP connection, given up after ``seconds``.

    The lookup runs in a daemon thread: a resolver that hangs keeps that
    thread until the system gives up, never the attempt.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # a literal address: nothing to look up, no resolver asked
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    outcome: list[Any] = []

    def lookup() -> None:
        try:
            outcome.append(getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the waiting thread
            outcome.append(exc)

    thread = threading.Thread(target=lookup, name="registry-upload-resolve", daemon=True)
    thread.start()
    thread.join(max(0.0, seconds))
    if not outcome:
        raise ResolveTimeout(f"resolving {host} took longer than {seconds:.3g} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    result: list[Any] = outcome[0]
    return result


def _dial(host: str, port: int, deadline: Deadline, connect_timeout: float) -> socket.socket:
    """A TCP connection to the first address of ``host`` that answers."""
    infos = _resolve(host, port, deadline.cap(connect_timeout))
    error: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.cap(connect_timeout))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error


def _wrap(
    sock: socket.socket,
    tls: ssl.SSLContext | None,
    host: str,
    deadline: Deadline,
    connect_timeout: float,
) -> ssl.SSLSocket:
    assert tls is not None, "an https origin needs a TLS context"
    sock.settimeout(deadline.cap(connect_timeout))
    try:
        return tls.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def _tunnel(
    sock: socket.socket,
    origin: Origin,
    proxy: Proxy,
    deadline: Deadline,
    connect_timeout: float,
) -> None:
    """``CONNECT host:port`` through the proxy; ProxyRefusal unless it answers 2xx."""
    _, host, port = origin
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    headers = [("Host", authority)]
    if proxy.authorization:
        headers.append(("Proxy-Authorization", proxy.authorization))
    talk = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    sock.settimeout(deadline.cap(connect_timeout))
    sock.sendall(talk.send(h11.Request(method="CONNECT", target=authority, headers=headers)))
    talk.send(h11.EndOfMessage())
    while True:
        event = talk.next_event()
        if event is h11.NEED_DATA:
            sock.settimeout(deadline.cap(connect_timeout))
            talk.receive_data(sock.recv(MAX_HEAD))
        elif isinstance(event, h11.InformationalResponse):
            continue
        elif isinstance(event, h11.Response) and 200 <= event.status_code < 300:
            return
        elif isinstance(event, h11.Response):
            reason = event.reason.decode("latin-1", "replace")
            raise ProxyRefusal(f"the proxy answered CONNECT with {event.status_code} {reason}")
        else:
            raise ProxyRefusal("the proxy closed the connection instead of answering CONNECT")


def tls_context(options: TransportOptions) -> ssl.SSLContext:
    """The TLS settings of every https connection: trust, client certificate, HTTP/1.1.

    Trust: the operating system's store (``truststore``), or ``ca_cert``
    alone when it is given; no verification when ``verify`` is false.
    """
    try:
        if not options.verify:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif options.ca_cert:
            ctx = ssl.create_default_context(cafile=options.ca_cert)
        else:
            ctx = _system_context()
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise _bad_file(options.ca_cert or "", "CA bundle", "--cert", exc) from None
    if options.client_cert:
        try:
            ctx.load_cert_chain(options.client_cert)
        except (OSError, ValueError) as exc:
            raise _bad_file(
                options.client_cert, "client certificate", "--client-cert", exc
            ) from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _system_context() -> ssl.SSLContext:
    try:
        import truststore
    except ImportError:  # pragma: no cover - truststore is a dependency
        return ssl.create_default_context()
    context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return context


def _bad_file(path: str, what: str, option: str, exc: BaseException) -> ConfigurationError:
    return ConfigurationError(
        f"the {what} {path!r} is not usable: {exc}",
        hint=f"Give a PEM file with {option}"
        + (" holding the certificate and its private key." if option == "--client-cert" else "."),
        path=path,
    )


def readable(sock: socket.socket, timeout: float) -> bool:
    """Whether ``sock`` has something to read (or was closed) within ``timeout`` seconds."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        if hasattr(select, "poll"):  # select() fails on descriptors above 1023
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(max(0, int(timeout * 1000 + 0.999))))
        return bool(select.select([sock], [], [], max(0.0, timeout))[0])
    except (OSError, ValueError):
        return True  # let the read report the problem


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle connection was closed by the server (or has stray bytes on it)."""
    if not readable(sock, 0.0):
        return False
    previous = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        sock.recv(1)
    except (ssl.SSLWantReadError, BlockingIOError):
        return False  # a TLS record without data (a session ticket): still good
    except (OSError, ValueError):
        return True
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(previous)
    return True  # closed, or bytes nobody asked for: either way not reusable


class IdlePool:
    """Kept-alive connections per key, at most ``size`` each (thread-safe)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._idle: dict[object, list[Connection]] = {}
        self._lock = threading.Lock()

    def take(self, key: object) -> Connection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                conn = idle.pop() if idle else None
            if conn is None or not _dropped(conn.sock):
                return conn
            conn.close()

    def give(self, key: object, conn: Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.size:
                idle.append(conn)
                return
        conn.close()

    def clear(self) -> None:
        with self._lock:
            every = [conn for idle in self._idle.values() for conn in idle]
            self._idle.clear()
        for conn in every:
            conn.close()
