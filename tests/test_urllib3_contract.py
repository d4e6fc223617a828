"""The urllib3 contract: exactly the names and behaviours ``transport/_connect.py`` relies on.

The transport opens every connection with urllib3's public connection classes
(pinned ``urllib3>=2,<3``) and frames requests itself with h11.  A urllib3
release that renames a keyword, wraps an error differently or stops setting
``sock`` before the tunnel fails here first, on loopback, in well under a
second.  Run it against the oldest and newest 2.x when the pin moves:

    pip install --target /tmp/u3 "urllib3==2.0.0"
    PYTHONPATH=/tmp/u3:. python -m pytest tests/test_urllib3_contract.py
"""

from __future__ import annotations

import inspect
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
import trustme
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from registry_upload.testing import hostile
from registry_upload.transport import TransportOptions
from registry_upload.transport._connect import tls_context

PROXY_AUTH = "Basic YWdlbnQ6c2VjcmV0"


def test_the_pinned_major_version_is_installed() -> None:
    assert int(urllib3.__version__.split(".")[0]) == 2, urllib3.__version__


def test_the_constructors_take_the_keywords_the_transport_passes() -> None:
    ctx = ssl.create_default_context()
    inspect.signature(HTTPConnection).bind("127.0.0.1", 80, timeout=1.0)
    inspect.signature(HTTPSConnection).bind(
        "127.0.0.1", 443, timeout=1.0, ssl_context=ctx, server_hostname="registry.test"
    )
    conn = HTTPSConnection("127.0.0.1", 443, timeout=1.0, ssl_context=ctx)
    inspect.signature(conn.set_tunnel).bind("registry.test", 443, headers={"A": "b"})
    assert conn.sock is None and callable(conn.connect) and callable(conn.close)
    assert issubclass(NewConnectionError, Exception) and issubclass(ConnectTimeoutError, Exception)


def test_a_refused_tcp_connection_is_wrapped_with_the_os_error_as_cause() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    conn = HTTPConnection("127.0.0.1", port, timeout=2.0)
    with pytest.raises((NewConnectionError, ConnectTimeoutError)) as info:
        conn.connect()
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context for ``registry.test``, the transport's client context trusting it)."""
    ca = trustme.CA()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("registry.test").configure_cert(server)
    bundle = Path(tmp_path_factory.mktemp("ca")) / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return server, tls_context(TransportOptions(ca_cert=str(bundle)))


def _tls_server(server_ctx: ssl.SSLContext) -> hostile.HostileServer:
    return hostile.HostileServer(lambda conn: conn.hold(), ssl_context=server_ctx, lifetime=5.0)


def test_tls_to_an_address_checks_the_name_given_and_keeps_our_context(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, client_ctx = tls
    with _tls_server(server_ctx) as server:
        good = HTTPSConnection(
            "127.0.0.1",
            server.port,
            timeout=5.0,
            ssl_context=client_ctx,
            server_hostname="registry.test",
        )
        good.connect()
        assert isinstance(good.sock, ssl.SSLSocket)
        assert good.sock.version() in ("TLSv1.2", "TLSv1.3")
        good.close()
        wrong = HTTPSConnection(
            "127.0.0.1", server.port, timeout=5.0, ssl_context=client_ctx, server_hostname="x.test"
        )
        with pytest.raises(ssl.SSLCertVerificationError):  # raised as it is, not wrapped
            wrong.connect()
    # The shared context is used as given: verification, hostname check, TLS 1.2 minimum.
    assert client_ctx.verify_mode is ssl.CERT_REQUIRED and client_ctx.check_hostname
    assert client_ctx.minimum_version is ssl.TLSVersion.TLSv1_2


def _proxy(answer: bytes, release: threading.Event) -> hostile.HostileServer:
    def behaviour(conn: hostile.Connection) -> None:
        if conn.read_request() is not None and release.wait(5.0):
            conn.send(answer)

    return hostile.HostileServer(behaviour, name="contract-proxy", lifetime=5.0)


def test_a_tunnel_sets_sock_first_sends_the_headers_and_reports_a_refusal() -> None:
    """``sock`` exists while CONNECT awaits its answer (the watchdog cuts it there); a
    refusal is a plain OSError, "Tunnel connection failed: <status> <reason>"."""
    release = threading.Event()
    answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
    outcome: list[BaseException] = []
    with _proxy(answer, release) as proxy:
        conn = HTTPSConnection(
            "127.0.0.1", proxy.port, timeout=5.0, ssl_context=ssl.create_default_context()
        )
        conn.set_tunnel("registry.test", 8443, headers={"Proxy-Authorization": PROXY_AUTH})

        def connect() -> None:
            try:
                conn.connect()
            except BaseException as exc:  # handed to the test
                outcome.append(exc)

        worker = threading.Thread(target=connect, daemon=True)
        worker.start()
        limit = time.monotonic() + 5.0
        while not proxy.requests and time.monotonic() < limit:
            time.sleep(0.01)
        sock_while_waiting = conn.sock
        release.set()
        worker.join(5.0)
        (request,) = proxy.requests
    assert isinstance(sock_while_waiting, socket.socket)
    assert request.method == "CONNECT" and request.path == "registry.test:8443"
    assert request.header("proxy-authorization") == PROXY_AUTH
    (error,) = outcome
    assert type(error) is OSError and error.errno is None
    assert str(error).startswith("Tunnel connection failed: 407"), error
