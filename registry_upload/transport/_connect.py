"""Connections: the name resolved within the deadline, then urllib3 dials, tunnels, does TLS.

The one module that opens connections and the one that imports urllib3 (its
public ``urllib3.connection`` classes; see ``tests/test_urllib3_contract.py``).
Resolution runs in a helper thread, so a slow resolver costs at most the time
left to connect; the address found is dialled with the host name kept for SNI
and the certificate check, against the system trust store (``truststore``)
unless a CA bundle is given.  h11 frames requests on the socket.  Idle
keep-alive connections wait in a small pool per (origin, proxy).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import select
import socket
import ssl
import threading
from functools import partial
from typing import TYPE_CHECKING, Any

import h11

from .._urls import Origin
from ..errors import ConfigurationError
from ._deadlines import Deadline, Watchdog, cut
from ._proxies import Proxy
from ._records import TransportOptions

if TYPE_CHECKING:
    from urllib3.connection import HTTPConnection

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
    """The proxy answered CONNECT with something other than 200."""


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
    *,
    connect_timeout: float,
    watchdog: Watchdog,
) -> Connection:
    """A connection to ``origin`` (through ``proxy`` if given), TLS set up for https.

    The first resolved address that takes the TCP connection is used; the
    watchdog cuts a tunnel or a handshake that outlasts the deadline.
    Raises OSError (``ResolveTimeout``, ``ProxyRefusal``, ``ssl.SSLError``,
    ...) or ValueError.
    """
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    scheme, host, port = origin
    if proxy is not None and proxy.scheme == "https" and scheme == "https":
        raise ProxyRefusal(
            f"TLS to the registry inside TLS to the proxy {proxy.shown} is not supported; "
            "give the proxy's http:// URL (the tunnel carries TLS end to end)"
        )
    hop = (host, port) if proxy is None else (proxy.host, proxy.port)
    error: OSError = OSError(f"no address for {hop[0]}")
    for address in _resolve(*hop, deadline.cap(connect_timeout)):
        conn = _unconnected((address, hop[1]), origin, proxy, tls, deadline.cap(connect_timeout))
        armed = watchdog.arm(partial(_cut_late, conn), deadline.at)
        try:
            conn.connect()
        except (ConnectTimeoutError, NewConnectionError) as exc:  # no TCP connection: next address
            error = exc.__cause__ if isinstance(exc.__cause__, OSError) else OSError(str(exc))
            continue
        except (OSError, ValueError, http.client.HTTPException) as exc:  # tunnel or handshake
            conn.close()
            raise _failed(exc, deadline) from None
        finally:
            watchdog.disarm(armed)
        if deadline.expired or _without_handshake(conn.sock):
            conn.close()  # cut (deadline, close()): ssl does not shake hands on a cut socket
            raise _failed(ConnectionAbortedError("cut before the TLS handshake"), deadline)
        forward = proxy is not None and scheme == "http"
        return Connection(
            conn.sock,
            forward=forward,
            proxy_authorization=proxy.authorization if forward and proxy else None,
        )
    raise error


def _unconnected(
    address: tuple[str, int],
    origin: Origin,
    proxy: Proxy | None,
    tls: ssl.SSLContext | None,
    timeout: float,
) -> HTTPConnection:
    """A urllib3 connection to ``address``, not yet made; TLS checks the name it goes to."""
    from urllib3.connection import HTTPConnection, HTTPSConnection

    scheme, host, port = origin
    name = host if scheme == "https" else proxy.host if proxy and proxy.scheme == "https" else None
    if name is None:
        return HTTPConnection(*address, timeout=timeout)
    assert tls is not None, "TLS needs our context (never urllib3's default)"
    conn = HTTPSConnection(*address, timeout=timeout, ssl_context=tls, server_hostname=name)
    if proxy is not None and scheme == "https":
        headers = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else None
        conn.set_tunnel(host, port, headers=headers)
    return conn


def _cut_late(conn: HTTPConnection) -> None:
    """Cut what urllib3 has connected so far (it sets ``sock`` before tunnel and TLS)."""
    if conn.sock is not None:
        cut(conn.sock)


def _without_handshake(sock: socket.socket) -> bool:
    return isinstance(sock, ssl.SSLSocket) and sock.version() is None


def _failed(exc: Exception, deadline: Deadline) -> Exception:
    """A failure after the TCP connection, as ``connect_error`` reads it."""
    text = str(exc)
    if deadline.expired:  # the watchdog cut it
        return TimeoutError(
            f"the tunnel or TLS handshake outlasted the {deadline.seconds:g} s deadline"
        )
    if isinstance(exc, http.client.HTTPException) and not isinstance(exc, OSError):
        return OSError(f"the proxy's answer to CONNECT is not HTTP ({type(exc).__name__}: {text})")
    if type(exc) is OSError and exc.errno is None and text.startswith("Tunnel connection failed"):
        return ProxyRefusal(f"the proxy answered CONNECT with {text.partition(': ')[2]}")
    return exc


def _resolve(host: str, port: int, seconds: float) -> list[str]:
    """The addresses of ``host`` for a TCP connection, given up after ``seconds``.

    The lookup runs in a daemon thread: a resolver that hangs keeps that
    thread until the system gives up, never the attempt.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # a literal address: nothing to look up, no resolver asked
        return [host]
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
    return [str(info[4][0]) for info in outcome[0]]


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
