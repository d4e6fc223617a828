"""``MockTransport`` and the ``TransportProtocol`` both transports satisfy."""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import pytest

from registry_upload import TransportError
from registry_upload._index import lookup_project_files
from registry_upload.distribution import Distribution
from registry_upload.testing import MockRequest, MockTransport, make_wheel
from registry_upload.transport import (
    MultipartBody,
    Response,
    SendResult,
    Transport,
    TransportProtocol,
)


def _body(tmp_path: Path) -> MultipartBody:
    wheel = make_wheel(tmp_path, "mocked", "1.0")
    dist = Distribution.open(wheel)
    return MultipartBody(dist.form_fields(), path=wheel, filename=wheel.name, size=dist.size)


def test_both_transports_have_the_protocols_methods() -> None:
    def check(transport: TransportProtocol) -> None:  # mypy checks the assignment
        for name in ("post_file", "get", "post_json", "proxied_in_clear", "close"):
            real = inspect.signature(getattr(Transport, name))
            mock = inspect.signature(getattr(MockTransport, name))
            assert list(real.parameters) == list(mock.parameters), name
            assert callable(getattr(transport, name))

    check(Transport())
    check(MockTransport(lambda request: Response(200, "OK", {}, b"")))


def test_an_upload_reaches_the_handler_as_it_would_be_sent(tmp_path: Path) -> None:
    body = _body(tmp_path)
    seen: list[MockRequest] = []

    def handler(request: MockRequest) -> Response:
        seen.append(request)
        return Response(201, "Created", {"x-id": "7"}, b"stored")

    progress: list[int] = []
    with MockTransport(handler) as transport:
        result = transport.post_file(
            "https://registry.example/legacy/",
            body,
            authorization="Basic dXNlcjpwdw==",
            on_progress=lambda sent, total: progress.append(sent),
        )
    assert transport.closed
    assert isinstance(result, SendResult) and result.body_complete
    assert result.response.status == 201 and result.response.text() == "stored"
    assert result.response.url == "https://registry.example/legacy/"
    (request,) = seen
    assert request.method == "POST" and request.filename == Path(body.path).name
    assert request.header("Authorization") == "Basic dXNlcjpwdw=="
    assert request.header("content-type") == body.content_type
    assert len(request.body) == body.length == result.bytes_sent == progress[-1]
    sha = hashlib.sha256(Path(body.path).read_bytes()).hexdigest()
    assert result.digests.sha256 == sha and sha.encode() in request.body
    assert transport.requests == seen


def test_gets_json_bodies_caps_and_failures() -> None:
    def handler(request: MockRequest) -> Response:
        if request.url.endswith("/down/"):
            raise TransportError("connection refused", connected=False, retryable=True)
        if request.method == "POST":
            return Response(200, "OK", {}, json.dumps({"echo": request.json()}).encode())
        return Response(200, "OK", {"content-type": "text/html"}, b"x" * 100)

    transport = MockTransport(handler)
    page = transport.get(
        "https://i.example/simple/a/", headers={"Accept": "text/html"}, max_body=10
    )
    assert page.truncated and page.body == b"x" * 10
    assert transport.requests[0].header("accept") == "text/html"
    answer = transport.post_json("https://i.example/token", b'{"a": 1}', headers={})
    assert json.loads(answer.body) == {"echo": {"a": 1}}
    assert transport.requests[1].header("content-type") == "application/json"
    with pytest.raises(TransportError):
        transport.get("https://i.example/down/")


def test_code_taking_a_transport_runs_on_the_mock() -> None:
    page = b'<a href="demo-1.0.tar.gz#sha256=' + b"0" * 64 + b'">demo-1.0.tar.gz</a>'
    transport = MockTransport(lambda request: Response(200, "OK", {}, page))
    lookup = lookup_project_files(transport, "https://i.example/simple/", "Demo", no_cache=True)  # type: ignore[arg-type]
    assert lookup.problem is None and lookup.files is not None
    assert "demo-1.0.tar.gz" in lookup.files
    assert transport.requests[0].url == "https://i.example/simple/demo/"
