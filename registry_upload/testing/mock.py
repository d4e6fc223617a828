"""``MockTransport``: a transport that sends nothing and answers with a function.

For unit tests of code that takes a transport (index reads, verification,
the token exchange): every request becomes a :class:`MockRequest` handed
to ``handler``, whose :class:`~registry_upload.transport.Response` is the
answer; a handler that raises :class:`~registry_upload.TransportError`
plays a network failure.  Upload bodies are produced exactly as the real
transport would send them (the multipart form, digests computed while it
is read), so a handler can check the form; keep the files small, as the
whole body is held in memory.

    def handler(request: MockRequest) -> Response:
        assert request.header("authorization")
        return Response(200, "OK", {}, b"")

    transport = MockTransport(handler)
    transport.post_file(url, body, authorization="Basic ...")
    assert transport.requests[0].filename == "demo-1.0-py3-none-any.whl"

For behaviour on the wire (timeouts, resets, interim answers, TLS), use a
real server from :mod:`registry_upload.testing` instead.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..transport import MAX_BODY, MultipartBody, Response, SendResult
from ..transport._multipart import SendState
from ..transport._records import ProgressCallback

__all__ = ["Handler", "MockRequest", "MockTransport"]


@dataclass(frozen=True, slots=True)
class MockRequest:
    """One request as the transport would have sent it (header names lower-cased)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(default=b"", repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def filename(self) -> str | None:
        """The uploaded file's name, for a multipart upload."""
        found = re.search(rb'name="content"; filename="([^"]*)"', self.body[: 1 << 16])
        return found.group(1).decode("utf-8", "replace") if found else None

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[MockRequest], Response]


class MockTransport:
    """Satisfies :class:`~registry_upload.transport.TransportProtocol`; sends nothing.

    ``requests`` lists every request in order (thread-safe); ``closed`` turns
    true on :meth:`close`, after which requests are still answered (as the
    real transport reconnects).
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[MockRequest] = []
        self.closed = False
        self._lock = threading.Lock()

    def post_file(
        self,
        url: str,
        body: MultipartBody,
        *,
        authorization: str | None,
        on_progress: ProgressCallback | None = None,
    ) -> SendResult:
        state = SendState()
        data = b"".join(body.chunks(state, on_progress))
        headers = {"content-type": body.content_type, "content-length": str(len(data))}
        if authorization:
            headers["authorization"] = authorization
        response = self._answer(MockRequest("POST", url, headers, data), MAX_BODY)
        assert state.digests is not None
        return SendResult(response, bytes_sent=len(data), digests=state.digests)

    def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, max_body: int = MAX_BODY
    ) -> Response:
        return self._answer(MockRequest("GET", url, _lower(headers or {})), max_body)

    def post_json(self, url: str, payload: bytes, *, headers: Mapping[str, str]) -> Response:
        all_headers = {"content-type": "application/json", **_lower(headers)}
        return self._answer(MockRequest("POST", url, all_headers, payload), MAX_BODY)

    def proxied_in_clear(self, url: str) -> bool:
        return False

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> MockTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self, request: MockRequest, max_body: int) -> Response:
        with self._lock:
            self.requests.append(request)
        response = self.handler(request)
        changes: dict[str, Any] = {"url": response.url or request.url}
        if len(response.body) > max_body:  # cut as the real transport cuts it
            changes.update(body=response.body[:max_body], truncated=True)
        return dataclasses.replace(response, **changes)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
