"""Hostile loopback HTTP servers, for testing what a client does when a registry misbehaves.

Each server is a context manager listening on ``127.0.0.1`` on a free port;
leaving the ``with`` block stops it, closes every connection and joins its
threads.  Every server is bounded: at most ``max_connections`` connections,
each held at most ``lifetime`` seconds, so a client bug cannot make a test
hang on the server side either.  Each request is recorded (method, path,
headers, bytes of body received) in ``server.requests``.

    with hostile.endless_body() as server:
        transport.get(server.url)          # must end, with a truncated Response

Behaviours (factory functions returning a started server):

==========================  =====================================================
``echo_headers(status)``    answers ``status`` with the request headers
                            (Authorization included) in the body
``endless_body()``          200 with a chunked body that never ends
``huge_content_length()``   400 declaring a 100 GB body, sends a little, stalls
``trickle(interval)``       400 whose body comes one byte every ``interval`` s
``never_answer()``          reads the request, never answers
``close_at_once()``         accepts, then closes without reading
``honour_expect()``         a good registry: ``100 Continue``, reads, 200; with
                            ``password=`` set, refuses other credentials with
                            401 from the headers (no 100)
``ignore_expect()``         never sends 100; reads the body, answers 200
``reject_then_drain()``     401 from the headers, then reads the body anyway
``reject_then_close()``     401 from the headers, then closes
``expectation_failed()``    417 to any request with Expect; 200 otherwise
``interim_answers(...)``    103/102 (and an unasked-for 100) before and after
                            each body, then the next of ``statuses``
``raw_answer(data)``        reads the request, sends ``data`` as it is, closes
``answer_early(after)``     100 Continue, ``status`` after ``after`` bytes of
                            the body, then reads the rest
==========================  =====================================================

``server.accepted`` lists the filenames of the uploads a server answered
with 2xx: what a real registry would have stored.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

__all__ = [
    "Connection",
    "HostileServer",
    "RecordedRequest",
    "answer_early",
    "close_at_once",
    "echo_headers",
    "endless_body",
    "expectation_failed",
    "honour_expect",
    "huge_content_length",
    "ignore_expect",
    "interim_answers",
    "never_answer",
    "raw_answer",
    "reject_then_close",
    "reject_then_drain",
    "trickle",
]

_MAX_HEAD = 64 << 10


@dataclass
class RecordedRequest:
    """One request as the server saw it; ``body_received`` grows while the body arrives."""

    method: str
    path: str
    headers: dict[str, str]
    body_received: int = 0
    body_sha256: str | None = None  # set once the whole declared body was read
    body_start: bytes = field(default=b"", repr=False)  # the first 64 KiB of the body
    _hash: object = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def filename(self) -> str | None:
        """The file part's filename in a multipart upload (None when there is none)."""
        found = re.search(rb'name="content"; filename="([^"]*)"', self.body_start)
        return found.group(1).decode("utf-8", "replace") if found else None

    @property
    def expects_continue(self) -> bool:
        return (self.header("expect") or "").lower() == "100-continue"

    @property
    def content_length(self) -> int:
        try:
            return int(self.header("content-length") or 0)
        except ValueError:
            return 0


class _Closed(Exception):
    """The client went away, or the server is stopping."""


class Connection:
    """The server's side of one client connection, with helpers for behaviours."""

    def __init__(self, sock: socket.socket, server: HostileServer) -> None:
        self.sock = sock
        self.server = server
        self._buffer = b""

    def read_request(self) -> RecordedRequest | None:
        """The next request's head; None when the client closed cleanly."""
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > _MAX_HEAD:
                raise _Closed
            data = self._recv(65536)
            if not data:
                if self._buffer:
                    raise _Closed
                return None
            self._buffer += data
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path = [*lines[0].split(" "), "", ""][:2]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        request = RecordedRequest(method, path, headers)
        self.server.record(request)
        return request

    def read_body(self, request: RecordedRequest, limit: int | None = None) -> None:
        """Read (and count) the declared body, or at most ``limit`` bytes of it."""
        want = request.content_length if limit is None else min(limit, request.content_length)
        digest = hashlib.sha256()
        got = 0
        while got < want:
            if self._buffer:
                data, self._buffer = self._buffer[: want - got], self._buffer[want - got :]
            else:
                data = self._recv(min(1 << 20, want - got))
                if not data:
                    raise _Closed
            got += len(data)
            digest.update(data)
            with self.server.lock:
                request.body_received += len(data)
                if len(request.body_start) < _MAX_HEAD:
                    request.body_start += data[: _MAX_HEAD - len(request.body_start)]
        if got == request.content_length:
            request.body_sha256 = digest.hexdigest()

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            raise _Closed from None

    def answer(
        self,
        status: int,
        body: bytes = b"",
        *,
        reason: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        lines = [f"HTTP/1.1 {status} {reason or _REASONS.get(status, 'Status')}"]
        all_headers = {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
        if "Content-Length" not in all_headers and "Transfer-Encoding" not in all_headers:
            all_headers["Content-Length"] = str(len(body))
        lines += [f"{k}: {v}" for k, v in all_headers.items()]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def sleep(self, seconds: float) -> None:
        """Wait, but give up as soon as the server stops or the client closes."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.server.stopping.wait(min(0.05, max(0.0, end - time.monotonic()))):
                raise _Closed
            if self._client_closed():
                raise _Closed

    def hold(self) -> None:
        """Keep the connection open, unanswered, until the client or the server gives up."""
        self.sleep(self.server.lifetime)

    def _client_closed(self) -> bool:
        previous = self.sock.gettimeout()
        self.sock.setblocking(False)
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        finally:
            self.sock.settimeout(previous)
        if not data:
            return True
        self._buffer = (self._buffer + data)[-_MAX_HEAD:]
        return False

    def _recv(self, n: int) -> bytes:
        while True:
            if self.server.stopping.is_set():
                raise _Closed
            try:
                return self.sock.recv(n)
            except TimeoutError:
                continue
            except OSError:
                raise _Closed from None


Behaviour = Callable[[Connection], None]


class HostileServer:
    """A loopback server whose connections are handled by ``behaviour``."""

    def __init__(
        self,
        behaviour: Behaviour,
        *,
        name: str = "hostile",
        max_connections: int = 32,
        lifetime: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.name = name
        self.max_connections = max_connections
        self.lifetime = lifetime
        self.ssl_context = ssl_context
        self.requests: list[RecordedRequest] = []
        self.accepted: list[str] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/legacy/"

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    @property
    def body_received(self) -> int:
        """Bytes of request bodies received so far, over all requests."""
        with self.lock:
            return sum(r.body_received for r in self.requests)

    def __enter__(self) -> HostileServer:
        acceptor = threading.Thread(target=self._accept, name=f"{self.name}-accept", daemon=True)
        self._threads.append(acceptor)
        acceptor.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self._listener.close()
        with self.lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in list(self._threads):
            thread.join(timeout=5.0)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                if self.connections >= self.max_connections:
                    sock.close()
                    continue
                self.connections += 1
                self._socks.append(sock)
            sock.settimeout(0.2)
            worker = threading.Thread(
                target=self._serve, args=(sock,), name=f"{self.name}-conn", daemon=True
            )
            with self.lock:
                self._threads.append(worker)
            worker.start()

    def _serve(self, sock: socket.socket) -> None:
        timer = threading.Timer(self.lifetime, _shutdown, (sock,))
        timer.daemon = True
        timer.start()
        try:
            if self.ssl_context is not None:
                sock.settimeout(5.0)
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
                sock.settimeout(0.2)
            self.behaviour(Connection(sock, self))
        except (_Closed, OSError):
            pass
        finally:
            timer.cancel()
            with contextlib.suppress(OSError):
                sock.close()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_REASONS = {
    100: "Continue",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    417: "Expectation Failed",
    500: "Internal Server Error",
}


def _each_request(handle: Callable[[Connection, RecordedRequest], bool]) -> Behaviour:
    """Serve requests on a connection while ``handle`` says the connection stays open."""

    def behaviour(conn: Connection) -> None:
        while True:
            request = conn.read_request()
            if request is None or not handle(conn, request):
                return

    return behaviour


def _continue_if_expected(conn: Connection, request: RecordedRequest) -> None:
    if request.expects_continue:
        conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")


def _read_whole_request(conn: Connection) -> RecordedRequest | None:
    """The next request, its body read (after 100 Continue if asked); None once closed."""
    request = conn.read_request()
    if request is not None:
        _continue_if_expected(conn, request)
        conn.read_body(request)
    return request


# -- the behaviours ---------------------------------------------------------------------


def echo_headers(status: int = 400, lifetime: float = 60.0) -> HostileServer:
    """Answers ``status`` quoting every request header, Authorization and its decoded form."""

    def handle(conn: Connection, request: RecordedRequest) -> bool:
        _continue_if_expected(conn, request)
        conn.read_body(request)
        lines = [f"{k}: {v}" for k, v in request.headers.items()]
        auth = request.header("authorization") or ""
        if auth.lower().startswith("basic "):
            with contextlib.suppress(ValueError):
                decoded = base64.b64decode(auth[6:]).decode("utf-8", "replace")
                lines.append(f"decoded credentials: {decoded}")
        conn.answer(status, ("you sent:\n" + "\n".join(lines)).encode())
        return True

    return HostileServer(_each_request(handle), name="echo", lifetime=lifetime)


def endless_body(lifetime: float = 60.0) -> HostileServer:
    """200 with a chunked body that never ends (until the client leaves)."""

    def behaviour(conn: Connection) -> None:
        if _read_whole_request(conn) is None:
            return
        conn.answer(200, headers={"Transfer-Encoding": "chunked"})
        chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
        while not conn.server.stopping.is_set():
            conn.send(chunk)

    return HostileServer(behaviour, name="endless", lifetime=lifetime)


def huge_content_length(
    status: int = 400, declared: int = 100 << 30, lifetime: float = 60.0
) -> HostileServer:
    """Declares a ``declared``-byte body, sends 1 KiB of it, then stalls."""

    def behaviour(conn: Connection) -> None:
        if _read_whole_request(conn) is None:
            return
        conn.answer(status, b"e" * 1024, headers={"Content-Length": str(declared)})
        conn.hold()

    return HostileServer(behaviour, name="huge", lifetime=lifetime)


def trickle(interval: float = 5.0, status: int = 400, lifetime: float = 60.0) -> HostileServer:
    """A 1000-byte body sent one byte every ``interval`` seconds."""

    def behaviour(conn: Connection) -> None:
        if _read_whole_request(conn) is None:
            return
        conn.answer(status, headers={"Content-Length": "1000"})
        for _ in range(1000):
            conn.send(b"t")
            conn.sleep(interval)

    return HostileServer(behaviour, name="trickle", lifetime=lifetime)


def never_answer(lifetime: float = 60.0) -> HostileServer:
    """Reads whatever comes (the body too, if it is sent), never answers."""

    def behaviour(conn: Connection) -> None:
        request = conn.read_request()
        if request is not None:
            conn.read_body(request)
        conn.hold()

    return HostileServer(behaviour, name="silent", lifetime=lifetime)


def close_at_once(lifetime: float = 60.0) -> HostileServer:
    """Closes every connection as soon as it is accepted."""

    def behaviour(conn: Connection) -> None:
        conn.server.record(RecordedRequest("", "", {}))

    return HostileServer(behaviour, name="closer", lifetime=lifetime)


def honour_expect(password: str | None = None, lifetime: float = 60.0) -> HostileServer:
    """A correct registry: judges the headers, then 100 Continue (if asked), body, 200.

    With ``password``, a request whose Basic credentials carry another
    password is answered 401 at once, without 100 and without reading the body.
    """

    def handle(conn: Connection, request: RecordedRequest) -> bool:
        if password is not None and not _has_password(request, password):
            conn.answer(401, b"invalid credentials", headers={"Connection": "close"})
            return False
        _continue_if_expected(conn, request)
        conn.read_body(request)
        conn.answer(200)
        return True

    return HostileServer(_each_request(handle), name="expect", lifetime=lifetime)


def ignore_expect(lifetime: float = 60.0) -> HostileServer:
    """Never sends 100 Continue: waits for the body (as some servers do), answers 200."""

    def handle(conn: Connection, request: RecordedRequest) -> bool:
        conn.read_body(request)
        conn.answer(200)
        return True

    return HostileServer(_each_request(handle), name="no-100", lifetime=lifetime)


def reject_then_drain(status: int = 401, lifetime: float = 60.0) -> HostileServer:
    """Answers ``status`` from the headers (no 100), then reads the whole body anyway."""

    def handle(conn: Connection, request: RecordedRequest) -> bool:
        conn.answer(status, b"invalid or non-existent authentication information")
        conn.read_body(request)
        return True

    return HostileServer(_each_request(handle), name="drain", lifetime=lifetime)


def reject_then_close(status: int = 401, lifetime: float = 60.0) -> HostileServer:
    """Answers ``status`` from the headers, then closes the connection."""

    def behaviour(conn: Connection) -> None:
        if conn.read_request() is not None:
            conn.answer(status, b"invalid credentials", headers={"Connection": "close"})

    return HostileServer(behaviour, name="reject-close", lifetime=lifetime)


def expectation_failed(lifetime: float = 60.0) -> HostileServer:
    """417 to any request carrying Expect; requests without it are read and answered 200."""

    def handle(conn: Connection, request: RecordedRequest) -> bool:
        if request.header("expect"):
            conn.answer(417, b"Expect is not supported", headers={"Connection": "close"})
            return False
        conn.read_body(request)
        conn.answer(200)
        return True

    return HostileServer(_each_request(handle), name="417", lifetime=lifetime)


def _has_password(request: RecordedRequest, password: str) -> bool:
    auth = request.header("authorization") or ""
    if not auth.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(auth[6:]).decode("utf-8")
    except ValueError:
        return False
    return decoded.partition(":")[2] == password


def interim_answers(
    statuses: Sequence[int] = (200,),
    interims: Sequence[int] = (103,),
    *,
    unasked_continue: bool = True,
    lifetime: float = 60.0,
) -> HostileServer:
    """Interim answers around every request, then the final one.

    Once a request's head is in: each of ``interims`` (``103 Early Hints``
    with a ``Link`` header, ``102 Processing``, ...), then ``100 Continue``
    (also when it was not asked for, unless ``unasked_continue`` is false);
    once the body is in, each of ``interims`` again.  Uploads (POST) are
    then answered with ``statuses`` in turn (the last one repeats), anything
    else with 404.  The connection is kept alive: an answer left unread
    would be read by the client's next request.
    """
    posts = [0]

    def handle(conn: Connection, request: RecordedRequest) -> bool:
        interim = b"".join(_interim(status) for status in interims)
        conn.send(interim)
        if request.expects_continue or unasked_continue:
            conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.read_body(request)
        conn.send(interim)
        if request.method != "POST":
            conn.answer(404, b"not found")
            return True
        with conn.server.lock:
            status = statuses[min(posts[0], len(statuses) - 1)]
            posts[0] += 1
            if 200 <= status < 300:
                conn.server.accepted.append(request.filename or "")
        conn.answer(status, f"answer {status} to upload #{posts[0]}".encode())
        return True

    return HostileServer(_each_request(handle), name="interim", lifetime=lifetime)


def _interim(status: int) -> bytes:
    link = "Link: </static/style.css>; rel=preload; as=style\r\n" if status == 103 else ""
    return f"HTTP/1.1 {status} {_REASONS.get(status, 'Interim')}\r\n{link}\r\n".encode()


def raw_answer(data: bytes, lifetime: float = 60.0) -> HostileServer:
    """Reads each request (and its body), answers with ``data`` byte for byte, closes."""

    def behaviour(conn: Connection) -> None:
        if _read_whole_request(conn) is None:
            return
        conn.send(data)

    return HostileServer(behaviour, name="raw", lifetime=lifetime)


def answer_early(after: int, status: int = 200, lifetime: float = 60.0) -> HostileServer:
    """``100 Continue`` if asked, then ``status`` once ``after`` bytes of the body are
    in (before the file is whole), then reads the rest of the body anyway."""

    def handle(conn: Connection, request: RecordedRequest) -> bool:
        _continue_if_expected(conn, request)
        conn.read_body(request, limit=after)
        conn.answer(status, b"early verdict")
        rest = request.content_length - request.body_received
        if rest > 0:
            conn.read_body(RecordedRequest("", "", {"content-length": str(rest)}))
        return True

    return HostileServer(_each_request(handle), name="early", lifetime=lifetime)
