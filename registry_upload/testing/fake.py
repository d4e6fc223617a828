"""A scriptable registry on a loopback port, for what cannot run on this machine.

``FakeRegistry`` speaks the legacy upload API (multipart POST) and a simple
index (PEP 503 HTML and PEP 691 JSON), and replays whatever a real registry
(PyPI, GitLab, Artifactory, ...) would answer: each POST takes the next
scripted ``Action`` (then ``default``), which may store the file, answer a
canned ``Reply`` (status, body, headers, reason), be slow, reset the
connection mid-body or after storing, or hang.  Everything it receives is in
a request log::

    from registry_upload.testing import Action, FakeRegistry, Reply

    with FakeRegistry(actions=[Action("reply", Reply(503, "maintenance"))]) as registry:
        upload([wheel], registry.url, credentials=...)
    assert registry.upload_count == {wheel.name: 1}   # one complete upload processed
    assert len(registry.posts_for(wheel.name)) == 2    # the 503, then the upload

Counting: ``posts_for(name)`` lists every POST that carried ``name``,
whatever happened to it; ``upload_count`` counts the complete uploads the
registry processed (stored, or refused as existing), identical re-uploads
included; ``stored`` is what the registry holds.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

if TYPE_CHECKING:
    import ssl

__all__ = [
    "Action",
    "ActionKind",
    "FakeRegistry",
    "FormValue",
    "RecordedRequest",
    "Reply",
    "StoredFile",
]

ActionKind = Literal["store", "reply", "reset_mid_body", "reset_after_store", "hang"]
"""What the fake does with one POST (see ``Action``)."""

FormValue = str | tuple[str, bytes]
"""A multipart field: text, or ``(filename, bytes)`` for a file part."""

_ACTION_KINDS: tuple[str, ...] = get_args(ActionKind)
_PROCESSED: frozenset[str] = frozenset({"store", "reset_after_store", "hang"})
_FILENAME = re.compile(rb'name="content"; filename="([^"]*)"')


@dataclass(frozen=True, slots=True)
class Reply:
    """A canned HTTP answer; ``reason`` replaces the standard reason phrase."""

    status: int = 200
    body: bytes | str = b"OK"
    headers: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None

    def body_bytes(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass(frozen=True, slots=True)
class Action:
    """What to do with one POST.

    ``kind``:

    - ``store``: store the file and answer ``reply`` (default: 200, or the
      registry's ``exists_reply`` for a filename stored with other bytes);
    - ``reply``: do not store, answer ``reply``;
    - ``reset_mid_body``: read half the body, then reset the connection;
    - ``reset_after_store``: read all, store, reset without answering;
    - ``hang``: read all, store, then answer nothing until the registry stops
      (or, with ``delay``, answer after ``delay`` seconds).

    Only a complete body is stored: a POST whose client stops sending before
    ``Content-Length`` bytes (or the multipart closing boundary) arrived is
    recorded (``complete=False``) and dropped, whatever its action.
    """

    kind: ActionKind = "store"
    reply: Reply | None = None
    delay: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in _ACTION_KINDS:
            raise ValueError(f"unknown action {self.kind!r}; one of {', '.join(_ACTION_KINDS)}")
        if self.kind == "reply" and self.reply is None:
            raise ValueError("Action('reply') needs a Reply")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake received it.

    ``filename`` is the uploaded file's name for a POST whose file part
    header arrived (for ``reset_mid_body``, only if it was in the half that
    was read); ``action`` is what the fake did with a POST; ``complete`` is
    false for a POST whose body did not all arrive (never stored).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    filename: str | None = None
    action: ActionKind | None = None
    complete: bool = True


class StoredFile(NamedTuple):
    """A file the fake holds: its bytes and the whole multipart form."""

    data: bytes
    form: Mapping[str, list[FormValue]]


def _boundary(content_type: str) -> bytes | None:
    m = re.search(r"boundary=([^;]+)", content_type)
    return m.group(1).strip().strip('"').encode() if m else None


def _is_complete(body: bytes, length: int, content_type: str) -> bool:
    """Whether ``body`` is all of a ``Content-Length: length`` multipart form."""
    boundary = _boundary(content_type)
    if boundary is None or len(body) != length:
        return False
    return body.rstrip(b"\r\n").endswith(b"--" + boundary + b"--")


def parse_multipart(body: bytes, content_type: str) -> dict[str, list[FormValue]]:
    """The fields of a ``multipart/form-data`` body (enough for upload forms)."""
    boundary = _boundary(content_type)
    if boundary is None:
        return {}
    form: dict[str, list[FormValue]] = {}
    for part in body.split(b"--" + boundary):
        if not part or part.startswith(b"--"):
            continue
        head, _, value = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        value = value[:-2] if value.endswith(b"\r\n") else value
        disp = re.search(rb'name="([^"]*)"(?:; filename="([^"]*)")?', head)
        if not disp:
            continue
        name = disp.group(1).decode()
        item: FormValue = (
            (disp.group(2).decode(), value) if disp.group(2) is not None else value.decode()
        )
        form.setdefault(name, []).append(item)
    return form


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    registry: FakeRegistry

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # A client that gave up (timeout, reset) is part of the script, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send(self, reply: Reply) -> None:
        body = reply.body_bytes()
        self.send_response(reply.status, reply.reason)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if not any(k.lower() == "content-type" for k in reply.headers):
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reset(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST.
        self.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        self.close_connection = True
        self.connection.close()

    def do_POST(self) -> None:
        self.server.registry._handle_post(self)

    def do_GET(self) -> None:
        self.server.registry._handle_get(self)


class FakeRegistry:
    """A loopback registry; start it with ``with FakeRegistry(...) as registry:``.

    ``actions`` are used by the POSTs in order, then ``default`` (store).
    ``delay`` seconds pass before every POST is answered.  ``json=False``
    serves only the HTML simple index.  ``path`` is the upload path
    (``url`` = base + path).  ``exists_reply`` answers a filename that is
    stored with other bytes.  With ``ssl_context`` (a server-side
    ``ssl.SSLContext``) it serves https on ``localhost``.

    ``default`` and ``delay`` may be changed while it runs; ``script()``
    queues more actions.  What it received: ``requests``, ``posts``,
    ``posts_for(filename)``, ``upload_count``, ``stored``, and
    ``max_in_flight`` (the most POSTs it was handling at once).
    """

    def __init__(
        self,
        *,
        actions: Iterable[Action] = (),
        default: Action | None = None,
        delay: float = 0.0,
        json: bool = True,
        path: str = "/",
        exists_reply: Reply | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.default = default or Action("store")
        self.delay = delay
        self.json = json
        self.path = path
        self.exists_reply = exists_reply or Reply(409, "File already exists")
        self.ssl_context = ssl_context
        self.max_in_flight = 0
        self._actions: deque[Action] = deque(actions)
        self._stored: dict[str, StoredFile] = {}
        self._uploads: Counter[str] = Counter()
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._port: int | None = None
        self._stopping = threading.Event()

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeRegistry:
        """Listen on a free 127.0.0.1 port and serve from a thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError("this FakeRegistry is already running")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.registry = self
        self._stopping.clear()
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server, self._port = server, int(server.server_address[1])
        return self

    def stop(self) -> None:
        """Stop serving and close the port (a no-op when not running)."""
        server, self._server = self._server, None
        self._stopping.set()  # ends every hang
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> FakeRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------

    @property
    def port(self) -> int:
        """The port it listens (or listened) on."""
        if self._port is None:
            raise RuntimeError("the FakeRegistry has not been started; use it in a with block")
        return self._port

    @property
    def base(self) -> str:
        """``scheme://host:port`` without a path."""
        if self.ssl_context is not None:
            return f"https://localhost:{self.port}"
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The upload URL."""
        return self.base + self.path

    @property
    def index_url(self) -> str:
        """The simple index (``/simple/``)."""
        return self.base + "/simple/"

    # -- what it received --------------------------------------------------

    def script(self, *actions: Action) -> None:
        """Queue ``actions`` for the next POSTs (after those already queued)."""
        with self._lock:
            self._actions.extend(actions)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def posts(self) -> list[RecordedRequest]:
        """Every POST received, in order."""
        return [r for r in self.requests if r.method == "POST"]

    def posts_for(self, filename: str) -> list[RecordedRequest]:
        """Every POST that carried ``filename``, whatever the fake did with it."""
        return [r for r in self.posts if r.filename == filename]

    @property
    def upload_count(self) -> dict[str, int]:
        """Complete uploads processed per filename (stored, or refused as existing).

        An identical re-upload counts too; POSTs answered by a ``reply``
        action or cut by ``reset_mid_body`` do not (see ``posts_for``).
        """
        with self._lock:
            return dict(self._uploads)

    @property
    def stored(self) -> dict[str, StoredFile]:
        """The files the registry holds, by filename, in the order stored."""
        with self._lock:
            return dict(self._stored)

    # -- behaviour ---------------------------------------------------------

    def _next_action(self) -> Action:
        with self._lock:
            return self._actions.popleft() if self._actions else self.default

    def _record(
        self,
        handler: _Handler,
        received: bytes = b"",
        action: Action | None = None,
        complete: bool = True,
    ) -> None:
        m = _FILENAME.search(received)
        request = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers=dict(handler.headers.items()),
            filename=m.group(1).decode() if m else None,
            action=action.kind if action is not None else None,
            complete=complete,
        )
        with self._lock:
            self._requests.append(request)

    def _handle_post(self, handler: _Handler) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            self._post(handler)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _post(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        content_type = handler.headers.get("Content-Type", "")
        action = self._next_action()
        if action.kind == "reset_mid_body":
            self._record(handler, handler.rfile.read(length // 2), action, complete=False)
            handler.reset()
            return
        body = _read_body(handler, length)
        complete = _is_complete(body, length, content_type)
        self._record(handler, body, action, complete)
        if not complete and len(body) < length:  # the client gave up mid-body
            handler.close_connection = True
            return
        if self.delay:
            time.sleep(self.delay)
        if action.kind == "reply":
            assert action.reply is not None
            handler.send(action.reply)
            return
        reply = self._store(parse_multipart(body, content_type)) if complete else None
        if action.kind == "reset_after_store":
            handler.reset()
            return
        if action.kind == "hang":
            self._stopping.wait(action.delay)
            if action.delay is None:
                handler.reset()
                return
        handler.send(action.reply or reply or Reply(400, "incomplete multipart form"))

    def _store(self, form: dict[str, list[FormValue]]) -> Reply:
        content = form.get("content", [""])[0]
        if not isinstance(content, tuple):
            return Reply(400, "no content part")
        filename, data = content
        digest = hashlib.sha256(data).hexdigest()
        claimed = form.get("sha256_digest", [None])[0]
        if claimed is not None and claimed != digest:
            return Reply(400, "digest supplied does not match the file")
        with self._lock:
            self._uploads[filename] += 1
            held = self._stored.get(filename)
            if held is not None:
                if hashlib.sha256(held.data).hexdigest() == digest:
                    return Reply(200, "OK (identical file)")
                return self.exists_reply
            self._stored[filename] = StoredFile(data, form)
        return Reply(200, "OK")

    def _handle_get(self, handler: _Handler) -> None:
        self._record(handler)
        m = re.match(r"^(?P<base>.*)/(\+?simple)/(?P<project>[^/]+)/?$", handler.path)
        if not m:
            found = handler.path.rstrip("/") in ("", "/simple")
            handler.send(Reply(200 if found else 404, b""))
            return
        project = m.group("project")
        files = self._files_for(project)
        if not files:
            handler.send(Reply(404, b"Not Found"))
            return
        if self.json and "application/vnd.pypi.simple.v1+json" in handler.headers.get("Accept", ""):
            handler.send(_json_page(project, files))
            return
        links = "".join(f'<a href="/files/{fn}#sha256={h}">{fn}</a><br/>\n' for fn, h in files)
        handler.send(
            Reply(200, f"<html><body>{links}</body></html>", {"Content-Type": "text/html"})
        )

    def _files_for(self, project: str) -> list[tuple[str, str]]:
        def norm(s: str) -> str:
            return re.sub(r"[-_.]+", "-", s).lower()

        with self._lock:
            return [
                (fn, hashlib.sha256(held.data).hexdigest())
                for fn, held in self._stored.items()
                if norm(str(held.form.get("name", [""])[0])) == norm(project)
            ]

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"FakeRegistry({where}, stored={sorted(self.stored)})"


def _read_body(handler: _Handler, length: int) -> bytes:
    """Up to ``length`` bytes of the request body; fewer if the client stops sending."""
    chunks, got = [], 0
    while got < length:
        try:
            chunk = handler.rfile.read1(min(length - got, 1 << 20))
        except OSError:  # reset by the client
            break
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _json_page(project: str, files: list[tuple[str, str]]) -> Reply:
    payload = {
        "meta": {"api-version": "1.1"},
        "name": project,
        "files": [
            {"filename": fn, "url": f"/files/{fn}", "hashes": {"sha256": h}} for fn, h in files
        ],
    }
    return Reply(200, json.dumps(payload), {"Content-Type": "application/vnd.pypi.simple.v1+json"})
