"""One request on one connection: send, watch for an early answer, read the final one.

HTTP/1.1 framing is h11's: request heads, ``Content-Length`` accounting,
chunked and close-delimited bodies, keep-alive.  Interim answers (``1xx``:
``100 Continue`` asked for or not, ``102 Processing``, ``103 Early Hints``)
are skipped wherever they arrive (before the body, between two slices of
it, after it), so the final answer is the one reported and nothing is left
on the connection for the next request.  ``101`` was never asked for and
is a broken answer.

Large bodies go in slices; between two, a readable socket means the
registry is answering (a 401 from the headers, say): a final answer stops
the sending.  With ``Expect: 100-continue`` the body waits for ``100
Continue``, a final answer (then it is never sent), or ``expect_wait``.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping

import h11

from .._redact import shown
from ..errors import TransportError
from ._connect import MAX_HEAD, Connection, readable
from ._deadlines import Deadline
from ._errors import broken, clean
from ._records import MAX_BODY, Response

__all__ = ["ONE_WRITE", "Exchange", "request_head", "run"]

logger = logging.getLogger("registry_upload.transport")

# Once an answer's head is in, its body gets at most this long.
_BODY_TIME = 30.0
#: Bodies up to this size go in one write with the request head.
ONE_WRITE = 1 << 20
# Larger bodies are sent in slices of this size, with a look for an early answer between two.
_SLICE = 512 << 10
# Headers a caller may not set: the exchange writes them.
_OURS = frozenset({"host", "content-length", "expect", "accept-encoding", "transfer-encoding"})

_ProtocolErrors = (h11.RemoteProtocolError, h11.LocalProtocolError)


class Exchange:
    """One request and what became of it."""

    __slots__ = (
        "answered_at",
        "body_sent_at",
        "chunks",
        "expect_unanswered",
        "headers",
        "length",
        "max_body",
        "method",
        "path",
        "response",
        "sent",
        "url",
    )

    def __init__(
        self,
        url: str,
        method: str,
        headers: Mapping[str, str],
        chunks: Callable[[], Iterator[bytes]] | None,
        length: int | None,
        *,
        max_body: int = MAX_BODY,
        path: str | None = None,  # the file being uploaded, named in errors
    ) -> None:
        self.url = url
        self.method = method
        self.headers = headers
        self.chunks = chunks
        self.length = length
        self.max_body = max_body
        self.path = path
        self.sent = 0
        self.expect_unanswered = False
        self.answered_at = 0.0  # when the final answer's head was in
        self.body_sent_at = 0.0  # when the last byte of the body went out
        self.response: Response | None = None

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None

    @property
    def body_complete(self) -> bool:
        return self.chunks is None or self.sent == self.length

    def fail(self, exc: BaseException, deadline: Deadline, *, sending: bool) -> TransportError:
        return broken(
            exc,
            url=self.url,
            path=self.path,
            deadline=deadline,
            sending=sending,
            bytes_sent=self.sent,
            body_sent=self.chunks is not None and self.body_complete,
        )


def request_head(conn: Connection, ex: Exchange, target: str, host: str, *, expect: bool) -> bytes:
    """The request line and headers, through h11 (which checks them)."""
    headers = [("Host", host), ("Accept-Encoding", "identity")]
    if conn.proxy_authorization:
        headers.append(("Proxy-Authorization", conn.proxy_authorization))
    for name, value in ex.headers.items():
        if name.lower() in _OURS:
            continue
        if any(c in name + value for c in "\r\n\0"):
            raise TransportError(
                f"header {name!r} contains a line break",
                url=ex.url,
                path=ex.path,
                hint="Remove control characters from credentials and options.",
            )
        headers.append((name, value))
    if ex.length is not None:
        headers.append(("Content-Length", str(ex.length)))
    if expect:
        headers.append(("Expect", "100-continue"))
    encoded = [(n.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for n, v in headers]
    try:
        head = conn.protocol.send(h11.Request(method=ex.method, target=target, headers=encoded))
    except h11.LocalProtocolError as exc:
        raise TransportError(
            f"cannot send the request to {ex.url}: {clean(str(exc))}",
            url=ex.url,
            path=ex.path,
            hint="Check the URL and the headers given.",
        ) from None
    assert head is not None
    return head


def run(
    conn: Connection,
    ex: Exchange,
    head: bytes,
    deadline: Deadline,
    *,
    read_timeout: float,
    expect: bool,
    expect_wait: float,
) -> bool:
    """Send and read into ``ex.response``; True when the connection may serve another request.

    Raises TransportError when no final answer came.
    """
    sock, proto = conn.sock, conn.protocol
    final: h11.Response | None = None
    try:
        sock.settimeout(deadline.cap(read_timeout))
        if expect or ex.chunks is None:
            sock.sendall(head)
            head = b""
        if expect:
            final = _await_continue(conn, ex, deadline, expect_wait)
        if final is None and ex.chunks is not None:
            final = _send_body(conn, ex, head, deadline, read_timeout)
        elif ex.chunks is None:
            proto.send(h11.EndOfMessage())
    except (OSError, ValueError, *_ProtocolErrors) as exc:
        # A registry may answer and close while the body is going out: look for it.
        final = _salvage(conn)
        if final is None:
            raise ex.fail(exc, deadline, sending=True) from None
    try:
        if final is None:
            final = _final_answer(conn, deadline, read_timeout)
    except (OSError, ValueError, *_ProtocolErrors) as exc:
        raise ex.fail(exc, deadline, sending=False) from None
    ex.answered_at = time.monotonic()
    body, complete = _read_body(conn, deadline, read_timeout, ex.max_body)
    ex.response = Response(
        status=final.status_code,
        # masked before it is cleaned: cleaning first could split a secret's mojibake
        reason=shown(final.reason.decode("latin-1", "replace"))[:200],
        headers=_headers(final.headers),
        body=body,
        url=ex.url,
        truncated=not complete,
    )
    return (
        complete
        and proto.our_state is h11.DONE
        and proto.their_state is h11.DONE
        and not deadline.expired
    )


def _headers(items: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in items:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


# -- reading answers ---------------------------------------------------------------


def _buffered_event(proto: h11.Connection) -> object:
    """The next event already received, skipping interim answers; None when more is needed."""
    while True:
        event = proto.next_event()
        if event is h11.NEED_DATA or event is h11.PAUSED:
            return None
        if isinstance(event, h11.InformationalResponse):
            _skip(event)
            continue
        return event


def _skip(event: h11.InformationalResponse) -> None:
    logger.debug("skipped an interim answer: %d", event.status_code)


def _receive(conn: Connection, wait: float) -> bool:
    """Feed h11 whatever arrives within ``wait`` (the end of the stream included)."""
    if not readable(conn.sock, wait):
        return False
    previous = conn.sock.gettimeout()
    conn.sock.settimeout(0.0)
    try:
        data = conn.sock.recv(MAX_HEAD)
    except (ssl.SSLWantReadError, BlockingIOError):
        return True  # a TLS record without data (a session ticket)
    finally:
        conn.sock.settimeout(previous)
    _feed(conn, data)
    return True


def _feed(conn: Connection, data: bytes) -> None:
    """Give h11 what arrived; the end of the stream before any answer is a reset
    (h11 would call it a protocol error), so the caller knows nothing was answered."""
    if not data and conn.protocol.their_state is h11.SEND_RESPONSE:
        raise ConnectionResetError("the server closed the connection without answering")
    conn.protocol.receive_data(data)


def _as_final(event: object) -> h11.Response:
    if isinstance(event, h11.Response):
        return event
    if isinstance(event, h11.ConnectionClosed):
        raise ConnectionResetError("the server closed the connection without answering")
    raise h11.RemoteProtocolError(f"unexpected {type(event).__name__} before an answer")


def _final_answer(conn: Connection, deadline: Deadline, read_timeout: float) -> h11.Response:
    """The next final answer, blocking (within the deadline) until it is in."""
    proto = conn.protocol
    while (event := _buffered_event(proto)) is None:
        conn.sock.settimeout(deadline.cap(read_timeout))
        _feed(conn, conn.sock.recv(MAX_HEAD))
    return _as_final(event)


def _early_answer(conn: Connection) -> h11.Response | None:
    """Between two slices: a final answer if the registry sent one (interims skipped)."""
    while _receive(conn, 0.0):
        event = _buffered_event(conn.protocol)
        if event is not None:
            return _as_final(event)
    return None


def _salvage(conn: Connection) -> h11.Response | None:
    """After a failed send: a final answer already waiting, if there is one."""
    try:
        wait = 0.05
        while _receive(conn, wait):
            wait = 0.5
            event = _buffered_event(conn.protocol)
            if isinstance(event, h11.Response):
                return event
            if event is not None:
                return None
    except (OSError, ValueError, *_ProtocolErrors):
        return None
    return None


def _await_continue(
    conn: Connection, ex: Exchange, deadline: Deadline, expect_wait: float
) -> h11.Response | None:
    """After the head of an Expect request: None to send the body, or a final answer.

    Interim answers other than 100 (102, 103) show the registry is alive:
    each one starts the wait for 100 again.
    """
    proto = conn.protocol
    until = time.monotonic() + min(expect_wait, max(0.0, deadline.left()))
    while True:
        event = proto.next_event()
        if isinstance(event, h11.InformationalResponse):
            if event.status_code == 100:
                return None
            _skip(event)
            until = time.monotonic() + min(expect_wait, max(0.0, deadline.left()))
        elif event is h11.NEED_DATA:
            if not _receive(conn, until - time.monotonic()):
                ex.expect_unanswered = True
                return None
        else:
            return _as_final(event)


def _read_body(
    conn: Connection, deadline: Deadline, read_timeout: float, cap: int
) -> tuple[bytes, bool]:
    """At most ``cap`` bytes within the body deadline; (body, read to its end)."""
    until = Deadline(min(_BODY_TIME, max(0.0, deadline.left())))
    proto = conn.protocol
    body = bytearray()
    try:
        while len(body) <= cap and not until.expired:
            event = proto.next_event()
            if event is h11.NEED_DATA:
                conn.sock.settimeout(until.cap(read_timeout))
                proto.receive_data(conn.sock.recv(64 << 10))
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return bytes(body), True
            else:
                break
    except (OSError, ValueError, *_ProtocolErrors) as exc:
        logger.debug("reading the answer broke off: %s", exc)
    return bytes(body[:cap]), False


# -- sending -------------------------------------------------------------------------


def _send_body(
    conn: Connection, ex: Exchange, head: bytes, deadline: Deadline, read_timeout: float
) -> h11.Response | None:
    """Send ``head`` (unless already sent) and the body; an early final answer stops it.

    A body up to ``ONE_WRITE`` bytes goes in one write with the head (one
    packet for the registry to read); a larger one in slices, with a look
    for an early answer between two.
    """
    assert ex.chunks is not None
    sock, proto = conn.sock, conn.protocol
    length = ex.length or 0
    chunks = ex.chunks()
    try:
        if length <= ONE_WRITE:
            whole = b"".join([head, *(b"".join(_slices(proto, c, max(1, length))) for c in chunks)])
            sock.settimeout(deadline.cap(read_timeout))
            sock.sendall(whole)
            ex.sent = len(whole) - len(head)
            head = b""
        else:
            for chunk in chunks:
                for piece in _slices(proto, chunk, _SLICE):
                    sock.settimeout(deadline.cap(read_timeout))
                    sock.sendall(head + piece if head else piece)
                    head = b""
                    ex.sent += len(piece)
                    early = _early_answer(conn) if ex.sent < length else None
                    if early is not None:
                        logger.debug(
                            "%s answered after %d of %d bytes; stopped sending",
                            ex.url,
                            ex.sent,
                            length,
                        )
                        return early
    finally:
        if isinstance(chunks, Generator):
            chunks.close()
    end = proto.send(h11.EndOfMessage()) or b""
    if head or end:  # an empty body: the head goes alone
        sock.sendall(head + end)
    ex.body_sent_at = time.monotonic()
    return None


def _slices(proto: h11.Connection, chunk: bytes, step: int) -> Iterator[memoryview]:
    """``chunk`` as h11 frames it, in slices of ``step`` bytes (views, no copies)."""
    for framed in proto.send_with_data_passthrough(h11.Data(data=chunk)) or ():
        view = memoryview(framed)
        for start in range(0, len(view), step):
            yield view[start : start + step]
