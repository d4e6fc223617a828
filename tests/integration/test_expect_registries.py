"""Expect: 100-continue against real pypiserver and devpi-server.

Both serve through waitress, which answers ``100 Continue`` as soon as the
headers arrive, before the application judges them: the body is never held
back by a 401 there, and uploads pay no wait (the 100 comes at once).
"""

from __future__ import annotations

import base64
import hashlib
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from registry_upload import AuthenticationError, Credentials, FileStatus, RetryPolicy, Uploader
from registry_upload.testing import make_wheel, pip_download

from .conftest import PASSWORD, USER, Server

pytestmark = pytest.mark.integration


def first_answer(url: str, password: str) -> bytes:
    """What the server says right after the headers of an Expect request (3 s at most)."""
    parts = urlsplit(url)
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 2000000\r\n"
        f"Authorization: Basic {auth}\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=3) as sock:
        sock.sendall(head.encode())
        try:
            return sock.recv(200)
        except TimeoutError:
            return b""


def roundtrip_large(server: Server, tmp_path: Path, name: str) -> None:
    wheel = make_wheel(tmp_path, name, "1.0", payload_size=3 << 20)
    assert wheel.stat().st_size > 1 << 20  # above the Expect threshold
    creds = Credentials.of(USER, PASSWORD, source="test")
    with Uploader(server.url, credentials=creds, retry=RetryPolicy(attempts=1)) as uploader:
        wrong = Uploader(
            server.url, credentials=Credentials.of(USER, "wrong"), retry=RetryPolicy(attempts=1)
        )
        with wrong:
            (refused,) = wrong.upload([wheel]).results
        (result,) = uploader.upload([wheel]).results
        assert result.status is FileStatus.UPLOADED, result.error
        # The 100 came: the transport did not mark the host as one to send to without waiting.
        assert not uploader.destination.transport._no_expect
    assert isinstance(refused.error, AuthenticationError)
    (got,) = pip_download(server.index_url, f"{name}==1.0", tmp_path / "got")
    assert (
        hashlib.sha256(got.read_bytes()).hexdigest()
        == hashlib.sha256(wheel.read_bytes()).hexdigest()
    )


def test_pypiserver_and_expect(pypiserver_auth: Server, tmp_path: Path) -> None:
    # waitress sends 100 Continue before pypiserver checks the password
    assert first_answer(pypiserver_auth.url, "wrong").startswith(b"HTTP/1.1 100 ")
    roundtrip_large(pypiserver_auth, tmp_path, "expect-pypiserver")


def test_devpi_and_expect(devpi: Server, tmp_path: Path) -> None:
    assert first_answer(devpi.url, "wrong").startswith(b"HTTP/1.1 100 ")
    roundtrip_large(devpi, tmp_path, "expect-devpi")
