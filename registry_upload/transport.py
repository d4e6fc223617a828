"""HTTP only: a streaming multipart body, one POST per file, the raw response.

The body is produced chunk by chunk from disk, so memory stays constant
whatever the file size, and ``Content-Length`` is exact.  The file part comes
before the digest fields: the digests are computed *while* the file is sent
(one read of the file for both), then appended.  Registries parse the whole
form before acting on it, so the order does not matter to them.

This module knows nothing about registries' wording; see ``diagnostics``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3._version import __version__ as _urllib3_version
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from ._hashing import CHUNK_SIZE, Digests, StreamHasher
from ._version import __version__
from .errors import TransportError

__all__ = [
    "DEFAULT_USER_AGENT",
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
# Responses are diagnostics, not downloads: keep at most this much of a body.
_MAX_BODY = 1 << 20

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
    body is sent (large files take registries a while to process).
    """

    ca_cert: str | None = None
    client_cert: str | None = None
    verify: bool = True
    connect_timeout: float = 30.0
    read_timeout: float = 300.0
    proxy: str | None = None
    pool_size: int = 8
    user_agent: str = DEFAULT_USER_AGENT


@dataclass(frozen=True, slots=True)
class Response:
    """A registry's answer, with at most 1 MiB of its body."""

    status: int
    reason: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    url: str = ""

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
        blake2: bool = True,
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


@dataclass(slots=True)
class _SendState:
    sent: int = 0
    complete: bool = False
    completed_at: float = 0.0
    digests: Digests | None = None


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
    """A urllib3 pool shared by every upload of a batch (thread-safe)."""

    def __init__(self, options: TransportOptions | None = None) -> None:
        self.options = options or TransportOptions()
        self._managers: dict[str | None, urllib3.PoolManager] = {}
        self._proxy_cache: dict[tuple[str, str], str | None] = {}
        self._lock = threading.Lock()

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
                    logger.debug("using proxy %s", _redact_url(proxy))
                    manager = urllib3.ProxyManager(proxy, **kwargs)
                else:
                    manager = urllib3.PoolManager(**kwargs)
                self._managers[proxy] = manager
        return manager

    def close(self) -> None:
        with self._lock:
            for manager in self._managers.values():
                manager.clear()
            self._managers.clear()

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
        """Send one multipart upload; raise TransportError when no answer came."""
        headers = {
            "Content-Type": body.content_type,
            "Content-Length": str(body.length),
            "User-Agent": self.options.user_agent,
            "Accept": "application/json, text/plain;q=0.9, */*;q=0.5",
        }
        if authorization:
            headers["Authorization"] = authorization
        state = _SendState()
        try:
            raw = self._manager(url).urlopen(
                "POST",
                url,
                body=body.chunks(state, on_progress),
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                chunked=False,
            )
        except TransportError:
            raise
        except HTTPError as exc:
            raise _transport_error(exc, url, body_sent=state.complete) from None
        answered = time.monotonic()
        response = self._read(raw, url, body_sent=state.complete)
        digests = state.digests
        if digests is None:  # the server answered before the file was read at all
            digests = Digests(sha256="")
        waited = answered - state.completed_at if state.complete else 0.0
        return SendResult(
            response=response, bytes_sent=state.sent, digests=digests, response_time=waited
        )

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response:
        return self._request("GET", url, headers=headers or {}, redirect=True)

    def post_json(self, url: str, payload: bytes, *, headers: Mapping[str, str]) -> Response:
        json_headers = {"Content-Type": "application/json", **headers}
        return self._request("POST", url, body=payload, headers=json_headers, redirect=False)

    def _request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        redirect: bool,
        body: bytes | None = None,
    ) -> Response:
        """A small request whose body is in memory (index pages, token exchange)."""
        all_headers = {"User-Agent": self.options.user_agent, **headers}
        try:
            raw = self._manager(url).urlopen(
                method,
                url,
                body=body,
                headers=all_headers,
                redirect=redirect,
                retries=False,
                preload_content=False,
            )
        except HTTPError as exc:
            raise _transport_error(exc, url, body_sent=False) from None
        return self._read(raw, url, body_sent=False)

    @staticmethod
    def _read(raw: urllib3.BaseHTTPResponse, url: str, *, body_sent: bool) -> Response:
        try:
            body = raw.read(_MAX_BODY, decode_content=True)
            raw.drain_conn()
        except HTTPError as exc:
            raise _transport_error(exc, url, body_sent=body_sent) from None
        finally:
            raw.release_conn()
        headers = {k.lower(): v for k, v in raw.headers.items()}
        return Response(
            status=raw.status,
            reason=raw.reason or "",
            headers=headers,
            body=body or b"",
            url=url,
        )


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


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password or parts.username:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return parts._replace(netloc=f"***@{host}").geturl()
    return url


# (exception class, message, hint, retryable, may have reached the registry),
# first match wins; NewConnectionError subclasses ConnectTimeoutError, so it
# comes first.  ``{url}`` and ``{inner}`` are filled in.
_TRANSPORT_RULES: tuple[tuple[type[Exception], str, str, bool, bool], ...] = (
    (ProxyError, "proxy error for {url}: {inner}",
     "Check HTTPS_PROXY / HTTP_PROXY / NO_PROXY.", True, False),
    (NewConnectionError, "cannot connect to {url}: {inner}",
     "Check the repository URL, and that the registry is running.", True, False),
    (ConnectTimeoutError, "timed out connecting to {url}",
     "Is the host reachable?", True, False),
    (ReadTimeoutError, "no answer from {url} within the read timeout",
     "The registry may still be processing a large file; raise the read timeout.", True, True),
    (ProtocolError, "connection to {url} broke: {inner}",
     "The network or the registry dropped the connection.", True, True),
)  # fmt: skip


def _transport_error(exc: HTTPError, url: str, *, body_sent: bool) -> TransportError:
    """Turn a urllib3 exception into a TransportError with a useful hint."""
    inner: BaseException = exc
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        inner = reason
    if isinstance(exc, SSLError) or isinstance(inner, SSLError):
        detail = str(inner)
        hint = (
            "TLS verification failed. If the registry uses a private CA, pass its bundle "
            "with --cert / TransportOptions(ca_cert=...)."
            if "CERTIFICATE_VERIFY_FAILED" in detail or "certificate" in detail.lower()
            else "Check the URL's scheme and the registry's TLS setup."
        )
        return TransportError(
            f"TLS error talking to {url}: {detail}", url=url, hint=hint, retryable=False
        )
    for cls, message, hint, retryable, ambiguous in _TRANSPORT_RULES:
        if isinstance(exc, cls) or isinstance(inner, cls):
            return TransportError(
                message.format(url=url, inner=inner),
                url=url,
                hint=hint,
                retryable=retryable,
                body_sent=body_sent and ambiguous,
            )
    return TransportError(f"HTTP error for {url}: {exc}", url=url, retryable=True)
