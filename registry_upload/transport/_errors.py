"""What went wrong on the wire, as a TransportError: no connection, or no (whole) answer.

Any text that came from the other end (an invalid status line, a proxy's
reason) is shown with its control characters removed: it goes to a terminal.
"""

from __future__ import annotations

import re
import socket
import ssl

from ..errors import TransportError
from ._connect import ProxyRefusal, ResolveTimeout
from ._deadlines import Deadline

__all__ = ["broken", "clean", "connect_error", "describe"]

# C0 and C1 control characters, DEL included (ESC starts a terminal escape).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def clean(text: str, limit: int = 200) -> str:
    """``text`` on one line, without control characters, at most ``limit`` characters."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def describe(exc: BaseException) -> str:
    return clean(str(exc) or type(exc).__name__)


def connect_error(
    exc: BaseException, url: str, path: str | None, *, proxy: str | None
) -> TransportError:
    """No connection was made: unresolvable, refused, timed out, TLS or proxy failure."""
    if isinstance(exc, ssl.SSLError):
        detail = describe(exc)
        verify = "CERTIFICATE_VERIFY_FAILED" in detail or "certificate" in detail.lower()
        hint = (
            "TLS verification failed. If the registry uses a private CA, pass its bundle "
            "with --cert / TransportOptions(ca_cert=...)."
            if verify
            else "Check the URL's scheme and the registry's TLS setup."
        )
        return TransportError(
            f"TLS error talking to {url}: {detail}",
            url=url,
            path=path,
            hint=hint,
            retryable=False,
            connected=False,
        )
    retryable = True
    if proxy is not None:
        message = f"proxy error for {url} (proxy {proxy}): {describe(exc)}"
        hint = "Check HTTPS_PROXY / HTTP_PROXY / NO_PROXY and the proxy's credentials."
        retryable = not isinstance(exc, ProxyRefusal)
    elif isinstance(exc, ResolveTimeout):
        message = f"timed out connecting to {url}: {describe(exc)}"
        hint = "The name server is slow or unreachable; check the host name and the DNS setup."
    elif isinstance(exc, socket.gaierror):
        message = f"cannot connect to {url}: cannot resolve its host ({describe(exc)})"
        hint = "Check the repository URL's host name."
    elif isinstance(exc, TimeoutError):
        message = f"timed out connecting to {url}"
        hint = "Is the host reachable?"
    else:
        message = f"cannot connect to {url}: {describe(exc)}"
        hint = "Check the repository URL, and that the registry is running."
    return TransportError(
        message, url=url, path=path, hint=hint, retryable=retryable, connected=False
    )


def broken(
    exc: BaseException,
    *,
    url: str,
    path: str | None,
    deadline: Deadline,
    sending: bool,
    bytes_sent: int,
    body_sent: bool,
) -> TransportError:
    """The connection failed after it was made: while sending, or awaiting the answer."""
    if deadline.expired:
        message = f"no complete answer from {url} within the {deadline.seconds:g} s deadline"
        hint = "The registry or the network is too slow; raise --timeout."
    elif isinstance(exc, TimeoutError) and not sending:
        message = f"no answer from {url} within the read timeout"
        hint = "The registry may still be processing a large file; raise the read timeout."
    elif isinstance(exc, TimeoutError):
        message = f"sending to {url} stalled beyond the read timeout"
        hint = "The registry stopped reading the upload."
    else:
        stage = "while sending" if sending and not body_sent else "before answering"
        message = f"connection to {url} broke {stage}: {describe(exc)}"
        hint = "The network or the registry dropped the connection."
    return TransportError(
        message,
        url=url,
        path=path,
        hint=hint,
        retryable=True,
        body_sent=body_sent,
        bytes_sent=bytes_sent,
        connected=True,
    )
