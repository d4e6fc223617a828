"""A loopback HTTP registry for tests and benchmarks.

It plays what cannot run here (PyPI, GitLab, Artifactory, ...) by replaying
their documented answers, injects faults (connection reset mid-body or after
the file was stored, 5xx, 429, slowness, redirects), and keeps what it stored
so tests can assert that every file was stored exactly once.  In ``sink``
mode it reads and discards bodies (for benchmarks).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Action", "FakeRegistry", "Reply"]


@dataclass
class Reply:
    """A canned HTTP answer."""

    status: int = 200
    body: bytes | str = b"OK"
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass
class Action:
    """What to do with one POST.

    kind: ``store`` (store, answer ``reply`` or 200), ``reply`` (do not store,
    answer ``reply``), ``reset_mid_body`` (read half the body, then reset),
    ``reset_after_store`` (read all, store, reset without answering),
    ``hang`` (read all, store, sleep ``delay`` before answering).
    """

    kind: str = "store"
    reply: Reply | None = None
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    registry: FakeRegistry


def _parse_multipart(body: bytes, content_type: str) -> dict[str, list[Any]]:
    m = re.search(r"boundary=([^;]+)", content_type)
    if not m:
        return {}
    boundary = m.group(1).strip('"').encode()
    form: dict[str, list[Any]] = {}
    for part in body.split(b"--" + boundary):
        if not part or part.startswith(b"--"):
            continue
        head, _, value = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        value = value[:-2] if value.endswith(b"\r\n") else value
        disp = re.search(rb'name="([^"]*)"(?:; filename="([^"]*)")?', head)
        if not disp:
            continue
        name = disp.group(1).decode()
        if disp.group(2) is not None:
            form.setdefault(name, []).append((disp.group(2).decode(), value))
        else:
            form.setdefault(name, []).append(value.decode("utf-8"))
    return form


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, reply: Reply) -> None:
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        self.send_response(reply.status, reply.reason)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if not any(k.lower() == "content-type" for k in reply.headers):
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST.
        self.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        self.close_connection = True
        self.connection.close()

    def do_POST(self) -> None:
        reg = self.server.registry
        reg.record_request(self)
        with reg._lock:
            reg.in_flight += 1
            reg.max_in_flight = max(reg.max_in_flight, reg.in_flight)
        try:
            self._post(reg)
        finally:
            with reg._lock:
                reg.in_flight -= 1

    def _post(self, reg: FakeRegistry) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        action = reg.next_action()
        if reg.sink:
            remaining = length
            while remaining > 0:
                chunk = self.rfile.read(min(1 << 20, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
            if reg.delay:
                time.sleep(reg.delay)
            self._send(Reply(200, b"OK"))
            return
        if action.kind == "reset_mid_body":
            self.rfile.read(length // 2)
            self._reset()
            return
        body = self.rfile.read(length)
        if reg.delay:
            time.sleep(reg.delay)
        if action.kind == "reply":
            assert action.reply is not None
            self._send(action.reply)
            return
        form = _parse_multipart(body, self.headers.get("Content-Type", ""))
        reply = reg.store(form, self.headers.get("User-Agent", ""))
        if action.kind == "reset_after_store":
            self._reset()
            return
        if action.kind == "hang":
            time.sleep(action.delay)
        self._send(action.reply or reply)

    def do_GET(self) -> None:
        reg = self.server.registry
        reg.record_request(self)
        m = re.match(r"^(?P<base>.*)/(\+?simple)/(?P<project>[^/]+)/?$", self.path)
        if not m:
            self._send(Reply(200 if self.path.rstrip("/") in ("", "/simple") else 404, b""))
            return
        project = m.group("project")
        files = reg.files_for(project)
        if not files:
            self._send(Reply(404, b"Not Found"))
            return
        if "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", "") and reg.json:
            payload = {
                "meta": {"api-version": "1.1"},
                "name": project,
                "files": [
                    {"filename": fn, "url": f"/files/{fn}", "hashes": {"sha256": h}}
                    for fn, h in files
                ],
            }
            self._send(
                Reply(
                    200,
                    json.dumps(payload),
                    {"Content-Type": "application/vnd.pypi.simple.v1+json"},
                )
            )
            return
        links = "".join(f'<a href="/files/{fn}#sha256={h}">{fn}</a><br/>\n' for fn, h in files)
        self._send(Reply(200, f"<html><body>{links}</body></html>", {"Content-Type": "text/html"}))


class FakeRegistry:
    """Start with ``with FakeRegistry(...) as reg:``; ``reg.url`` is the upload URL."""

    def __init__(
        self,
        *,
        actions: list[Action] | None = None,
        default: Action | None = None,
        sink: bool = False,
        delay: float = 0.0,
        json: bool = True,
        path: str = "/",
        exists_reply: Reply | None = None,
        ssl_context: Any = None,
    ) -> None:
        self.ssl_context = ssl_context
        self.actions = list(actions or [])
        self.default = default or Action("store")
        self.sink = sink
        self.delay = delay
        self.json = json
        self.path = path
        self.exists_reply = exists_reply or Reply(409, "File already exists")
        self.stored: dict[str, tuple[bytes, dict[str, list[Any]]]] = {}
        self.store_count: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.on_request: Callable[[BaseHTTPRequestHandler], None] | None = None

    # -- server lifecycle --------------------------------------------------

    def __enter__(self) -> FakeRegistry:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.registry = self
        if self.ssl_context is not None:
            self._server.socket = self.ssl_context.wrap_socket(
                self._server.socket, server_side=True
            )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        host = "localhost" if self.ssl_context is not None else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base + self.path

    # -- behaviour ---------------------------------------------------------

    def next_action(self) -> Action:
        with self._lock:
            return self.actions.pop(0) if self.actions else self.default

    def record_request(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append(
                {
                    "method": handler.command,
                    "path": handler.path,
                    "headers": dict(handler.headers.items()),
                }
            )
        if self.on_request is not None:
            self.on_request(handler)

    def store(self, form: dict[str, list[Any]], user_agent: str) -> Reply:
        content = form.get("content", [None])[0]
        if content is None:
            return Reply(400, "no content part")
        filename, data = content
        digest = hashlib.sha256(data).hexdigest()
        claimed = form.get("sha256_digest", [None])[0]
        if claimed is not None and claimed != digest:
            return Reply(400, "digest supplied does not match the file")
        with self._lock:
            if filename in self.stored:
                if hashlib.sha256(self.stored[filename][0]).hexdigest() == digest:
                    return Reply(200, "OK (identical file)")
                return self.exists_reply
            self.stored[filename] = (data, form)
            self.store_count[filename] = self.store_count.get(filename, 0) + 1
        return Reply(200, "OK")

    def files_for(self, project: str) -> list[tuple[str, str]]:
        def norm(s: str) -> str:
            return re.sub(r"[-_.]+", "-", s).lower()

        with self._lock:
            return [
                (fn, hashlib.sha256(data).hexdigest())
                for fn, (data, form) in self.stored.items()
                if norm(form.get("name", [""])[0]) == norm(project)
            ]

    @property
    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]
