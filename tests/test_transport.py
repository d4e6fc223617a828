"""Transport: TLS (trustme), client certificates, proxies and CONNECT tunnels, exact multipart
framing, the per-attempt deadline."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
import trustme

from registry_upload import (
    Credentials,
    FileStatus,
    RetryPolicy,
    TransportError,
    TransportOptions,
    upload,
)
from registry_upload.distribution import Distribution
from registry_upload.testing import FakeRegistry, make_wheel
from registry_upload.transport import MultipartBody, Transport

from .conftest import CANARY

CREDS = Credentials.of("user", CANARY)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA, *, client_ca: bool = False) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    if client_ca:
        ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def test_tls_verification_on_by_default(tmp_path: Path, ca: trustme.CA) -> None:
    wheel = make_wheel(tmp_path, "tls", "1.0")
    with FakeRegistry(ssl_context=_server_context(ca)) as reg:
        report = upload([wheel], reg.url, credentials=CREDS, retry=RetryPolicy(attempts=1))
        (result,) = report.results
        assert isinstance(result.error, TransportError)
        assert "TLS" in result.error.message
        assert "--cert" in (result.error.hint or "")
        assert reg.stored == {}
        bundle = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        report = upload(
            [wheel], reg.url, credentials=CREDS, transport=TransportOptions(ca_cert=str(bundle))
        )
        assert report.ok
        assert list(reg.stored) == [wheel.name]


def test_client_certificate(tmp_path: Path, ca: trustme.CA) -> None:
    wheel = make_wheel(tmp_path, "mtls", "1.0")
    bundle, client = tmp_path / "ca.pem", tmp_path / "client.pem"
    ca.cert_pem.write_to_path(str(bundle))
    ca.issue_cert("client@example.org").private_key_and_cert_chain_pem.write_to_path(str(client))
    with FakeRegistry(ssl_context=_server_context(ca, client_ca=True)) as reg:
        without = upload(
            [wheel],
            reg.url,
            credentials=CREDS,
            retry=RetryPolicy(attempts=1),
            transport=TransportOptions(ca_cert=str(bundle)),
        )
        assert not without.ok
        with_cert = upload(
            [wheel],
            reg.url,
            credentials=CREDS,
            transport=TransportOptions(ca_cert=str(bundle), client_cert=str(client)),
        )
        assert with_cert.ok


def test_http_proxy_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = make_wheel(tmp_path, "proxied", "1.0")
    with FakeRegistry() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.base)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        target = "http://127.0.0.1:9/upload/"  # nothing listens there: only the proxy answers
        report = upload([wheel], target, credentials=CREDS, allow_insecure=True)  # a proxy hop
        assert report.ok
        assert proxy.posts[0].path == target  # absolute URI: it went through the proxy
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert Transport()._proxy_for(target) is None
        assert Transport(TransportOptions(proxy=""))._proxy_for("http://example.org/") is None


def test_multipart_length_is_exact_and_digests_trail(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "frame", "1.0", payload_size=3 << 20)
    dist = Distribution.open(wheel)
    for blake2, md5 in ((False, False), (True, True)):
        body = MultipartBody(
            dist.form_fields(),
            path=wheel,
            filename=wheel.name,
            size=dist.size,
            blake2=blake2,
            md5=md5,
        )
        from registry_upload.transport._multipart import SendState as _SendState

        state = _SendState()
        data = b"".join(body.chunks(state))
        assert len(data) == body.length == state.sent
        assert state.complete
        assert state.digests is not None
        assert state.digests.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert data.endswith(f"--{body.boundary}--\r\n".encode())
        content_at = data.index(b'name="content"')
        assert data.index(b'name="sha256_digest"') > content_at
        assert (b'name="blake2_256_digest"' in data) is blake2
        assert (b'name="md5_digest"' in data) is md5


def test_file_that_shrinks_while_sending_is_an_error(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "shrink", "1.0", payload_size=1 << 20)
    dist = Distribution.open(wheel)
    with FakeRegistry() as reg:
        wheel.write_bytes(wheel.read_bytes()[:1000])  # replaced after inspection
        from registry_upload import Uploader
        from registry_upload._attempt import AttemptOptions, FileUpload

        with Uploader(reg.url, credentials=CREDS, retry=RetryPolicy(attempts=1)) as uploader:
            options = AttemptOptions(retry=RetryPolicy(attempts=1))
            result = FileUpload(uploader.session, dist, options).run()
    assert result.status is FileStatus.FAILED
    assert "shrank" in str(result.error)


class _ConnectProxy:
    """A minimal CONNECT proxy on loopback: one tunnel per connection, bytes piped both ways.

    With ``required``, a CONNECT without that ``Proxy-Authorization`` is answered 407;
    ``seen`` lists the Proxy-Authorization of each CONNECT (None when absent).
    """

    def __init__(self, required: str | None = None) -> None:
        self.required = required
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.tunnels: list[str] = []
        self.seen: list[str | None] = []
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []

    def __enter__(self) -> _ConnectProxy:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        for sock in self._socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(5)

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self._socks.append(client)
            self._spawn(self._tunnel, client)

    def _tunnel(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            data = client.recv(4096)
            if not data:
                return
            head += data
        lines = head.decode("latin-1").split("\r\n")
        method, target = lines[0].split(" ")[:2]
        assert method == "CONNECT"
        fields = (line.partition(":") for line in lines[1:])
        auth = next((v.strip() for n, _, v in fields if n.lower() == "proxy-authorization"), None)
        self.seen.append(auth)
        if self.required is not None and auth != self.required:
            client.sendall(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
            )
            return
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self._socks.append(upstream)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self._spawn(_pipe, upstream, client)
        _pipe(client, upstream)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(1 << 16):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def test_https_through_a_connect_tunnel(tmp_path: Path, ca: trustme.CA) -> None:
    """TLS to the registry inside a CONNECT tunnel; a large file goes with Expect."""
    small = make_wheel(tmp_path, "tunnelled", "1.0")
    large = make_wheel(tmp_path, "tunnelled-large", "1.0", payload_size=3 << 20)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with FakeRegistry(ssl_context=_server_context(ca)) as reg, _ConnectProxy() as proxy:
        options = TransportOptions(ca_cert=str(bundle), proxy=proxy.url)
        report = upload([small, large], reg.url, credentials=CREDS, transport=options)
        assert report.ok, report
        assert reg.stored[large.name][0] == large.read_bytes()
        assert reg.posts_for(large.name)[0].headers.get("Expect") == "100-continue"
        port = reg.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
        assert proxy.tunnels and all(t.endswith(f":{port}") for t in proxy.tunnels)


def test_overall_deadline_scales_with_the_body() -> None:
    default = TransportOptions()
    assert default.deadline(0) == default.connect_timeout + default.read_timeout
    # a 4 GiB upload is not cut on a link of 32 KiB/s or faster
    assert default.deadline(4 << 30) >= (4 << 30) / (32 << 10)
    assert TransportOptions(timeout=12.5).deadline(4 << 30) == 12.5


def test_system_trust_store_by_default_and_ca_cert_overrides_it(
    tmp_path: Path, ca: trustme.CA
) -> None:
    import truststore

    assert isinstance(Transport()._tls_context(), truststore.SSLContext)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    own = Transport(TransportOptions(ca_cert=str(bundle)))._tls_context()
    assert not isinstance(own, truststore.SSLContext)
    assert own.verify_mode is ssl.CERT_REQUIRED and own.check_hostname
    loose = Transport(TransportOptions(verify=False))._tls_context()
    assert loose.verify_mode is ssl.CERT_NONE


def test_the_transport_uses_no_urllib3() -> None:
    """No private pool methods to break with a urllib3 release: the transport does not use it."""
    import re
    import subprocess
    import sys

    import registry_upload.transport as package

    for module in Path(package.__file__).parent.glob("*.py"):
        text = module.read_text()
        assert not re.search(r"\._(get_conn|put_conn|prepare_proxy)\b|urllib3", text), module
    code = "import sys, registry_upload.uploader; print('urllib3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
