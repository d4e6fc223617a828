"""Proxies: NO_PROXY as requests and curl read it (CIDR ranges, IPv6), credentials in the
proxy URL sent as Proxy-Authorization and never shown, and plain http through a proxy
known as such (``Transport.proxied_in_clear``)."""

from __future__ import annotations

import base64
import logging
import socket
import ssl
from pathlib import Path

import pytest
import trustme

from registry_upload import Credentials, TransportError, TransportOptions, upload
from registry_upload.testing import FakeRegistry, hostile, make_wheel
from registry_upload.transport import Response, Transport, proxy_from_environment

from .conftest import CANARY
from .test_hostile_servers import finishes
from .test_transport import _ConnectProxy

PROXY_PASSWORD = "pr0xy-pa55word-" + CANARY[:8]
PROXY_AUTH = "Basic " + base64.b64encode(f"agent:{PROXY_PASSWORD}".encode()).decode()
_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)


def test_no_proxy_takes_cidr_ranges_and_ipv6(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = "http://proxy.invalid:3128"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8, ::1, fd00::/8, .internal")
    assert proxy_from_environment("http", "10.1.2.3", 80) is None
    assert proxy_from_environment("http", "11.1.2.3", 80) == proxy
    assert proxy_from_environment("http", "::1", 8080) is None
    assert proxy_from_environment("http", "[::1]", 8080) is None
    assert proxy_from_environment("http", "fd12::5", None) is None
    assert proxy_from_environment("http", "::2", None) == proxy
    assert proxy_from_environment("http", "pkgs.internal", 80) is None
    monkeypatch.setenv("NO_PROXY", "127.0.0.0/8")
    assert proxy_from_environment("http", "127.0.0.1", 9) is None


def test_a_loopback_registry_skips_the_proxy_by_cidr(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy named would never answer (nothing listens there): the request goes direct."""
    with hostile.honour_expect() as registry, hostile.never_answer() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.2:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.0/8")
        with Transport(TransportOptions(timeout=5.0)) as transport:
            page = finishes(lambda: transport.get(registry.url))
            assert not transport.proxied_in_clear(registry.url)
        assert isinstance(page, Response) and page.status == 200
        assert proxy.requests == []


def test_proxy_credentials_go_to_the_proxy_and_are_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with hostile.echo_headers(200) as proxy:
        options = TransportOptions(
            proxy=f"http://agent:{PROXY_PASSWORD}@127.0.0.1:{proxy.port}", timeout=5.0
        )
        with caplog.at_level(logging.DEBUG), Transport(options) as transport:
            page = finishes(lambda: transport.get("http://127.0.0.1:9/simple/x/"))
        assert isinstance(page, Response) and page.status == 200
        (seen,) = proxy.requests
    assert seen.path == "http://127.0.0.1:9/simple/x/"  # absolute form: the proxy forwards it
    assert seen.header("proxy-authorization") == PROXY_AUTH
    assert PROXY_PASSWORD not in caplog.text and "***@127.0.0.1" in caplog.text


def test_proxy_password_is_masked_in_errors() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    options = TransportOptions(proxy=f"http://agent:{PROXY_PASSWORD}@127.0.0.1:{port}")
    with Transport(options) as transport:
        error = finishes(lambda: transport.get("http://127.0.0.1:9/simple/"))
    assert isinstance(error, TransportError) and not error.connected
    assert "proxy error" in error.message and "***@127.0.0.1" in error.message
    assert PROXY_PASSWORD not in str(error) and PROXY_PASSWORD not in repr(error.to_dict())


def test_https_through_an_authenticating_tunnel(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server_ctx)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    wheel = make_wheel(tmp_path, "tunnel-auth", "1.0")
    creds = Credentials.of("user", CANARY)
    with FakeRegistry(ssl_context=server_ctx) as registry, _ConnectProxy(PROXY_AUTH) as tun:
        good = f"http://agent:{PROXY_PASSWORD}@127.0.0.1:{tun.port}"
        report = upload(
            [wheel],
            registry.url,
            credentials=creds,
            transport=TransportOptions(ca_cert=str(bundle), proxy=good),
        )
        assert report.ok, report
        assert list(registry.stored) == [wheel.name]
        bad = TransportOptions(
            ca_cert=str(bundle), proxy=f"http://agent:wrong-one@127.0.0.1:{tun.port}"
        )
        with Transport(bad) as transport:
            error = finishes(lambda: transport.get(registry.url))
    assert tun.seen[0] == PROXY_AUTH
    assert isinstance(error, TransportError) and not error.connected and not error.retryable
    assert "407" in error.message and "wrong-one" not in str(error)


def test_plain_http_through_a_proxy_is_in_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    transport = Transport()
    assert transport.proxied_in_clear("http://127.0.0.1:8080/legacy/")  # the hop is in clear
    assert transport.proxied_in_clear("http://registry.example/legacy/")
    assert not transport.proxied_in_clear("https://registry.example/legacy/")  # a TLS tunnel
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert not Transport().proxied_in_clear("http://127.0.0.1:8080/legacy/")
    assert not Transport(TransportOptions(proxy="")).proxied_in_clear("http://x.example/")


def test_an_https_proxy_for_an_https_registry_is_refused_plainly() -> None:
    options = TransportOptions(proxy=f"https://agent:{PROXY_PASSWORD}@127.0.0.1:9")
    with Transport(options) as transport:
        error = finishes(lambda: transport.get("https://registry.example/simple/"))
    assert isinstance(error, TransportError) and not error.connected and not error.retryable
    assert "not supported" in error.message and "http://" in error.message
    assert PROXY_PASSWORD not in str(error)


def test_a_bad_proxy_url_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from registry_upload import ConfigurationError

    with pytest.raises(ConfigurationError, match="proxy URL"):
        Transport(TransportOptions(proxy="socks5://127.0.0.1:1080"))
    monkeypatch.setenv("HTTP_PROXY", f"http://agent:{PROXY_PASSWORD}@127.0.0.1:99999")
    error = finishes(lambda: Transport().get("http://registry.example/simple/"))
    assert isinstance(error, TransportError) and not error.connected and not error.retryable
    assert "proxy URL" in error.message and PROXY_PASSWORD not in str(error)


def test_credentials_never_go_in_clear_through_a_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loopback registry behind an HTTP proxy: the hop is in clear, so the upload
    stops before anything is sent unless insecure transport is allowed."""
    from registry_upload import InsecureTransportError

    wheel = make_wheel(tmp_path, "proxied", "1.0")
    with FakeRegistry() as registry, FakeRegistry() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with pytest.raises(InsecureTransportError, match="through a proxy"):
            upload(wheel, registry.url, credentials=Credentials.of("u", CANARY))
        assert proxy.requests == [] and registry.requests == []
