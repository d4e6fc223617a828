"""The transport's records: its options, a registry's answer, what one upload produced."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .._hashing import Digests
from .._version import __version__
from ..errors import ConfigurationError

__all__ = [
    "DEFAULT_USER_AGENT",
    "MAX_BODY",
    "MAX_WAIT_SECONDS",
    "ProgressCallback",
    "Response",
    "SendResult",
    "TransportOptions",
]

DEFAULT_USER_AGENT = (
    f"registry-upload/{__version__} "
    f"{sys.implementation.name}/{'.'.join(map(str, sys.version_info[:3]))}"
)
#: The longest wait any option accepts (a per-attempt deadline, a verify wait): a week.
MAX_WAIT_SECONDS = 7 * 24 * 3600.0
#: Responses are diagnostics, not downloads: at most this much of a body is kept.
MAX_BODY = 1 << 20
# The automatic per-attempt deadline assumes the link moves at least this many bytes/s.
_MIN_RATE = 32 << 10
# A PEM bundle larger than this is not a certificate file (the system bundle is ~200 KiB).
_MAX_PEM = 16 << 20

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """Network settings.

    ``ca_cert``: a CA bundle (PEM) to trust instead of the system's trust
    store (by default the operating system's store is used, through
    ``truststore``).  ``client_cert``: a PEM file with the client certificate
    and its key.  Both must be regular files of at most 16 MiB: anything
    else is a :class:`~registry_upload.ConfigurationError` naming the file,
    raised when the options are built, before anything is sent.

    ``proxy``: ``None`` reads ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/
    ``NO_PROXY`` (``NO_PROXY`` takes host names, domains, ``*``, IP
    addresses and CIDR ranges); ``""`` disables proxies; a URL forces one.
    Credentials written into a proxy URL (``http://user:pw@proxy:3128``) are
    sent to the proxy as ``Proxy-Authorization`` and never shown.

    ``read_timeout`` is how long to wait for the registry's answer after the
    body is sent (large files take registries a while to process), and for
    any single read or write to make progress.

    ``timeout`` is the overall deadline of one attempt, in seconds: resolve
    the host name, connect, send the body, and read the answer.  When it
    passes, the connection is cut and the attempt fails with a
    ``TransportError`` (which the retry policy may retry).  ``None`` (the
    default) scales it with the body: ``connect_timeout + read_timeout +
    size / 32 KiB/s``, so a silent server costs about what the read timeout
    costs, and a multi-GB upload is never cut on a link faster than 256
    kbit/s.  A small request (an index page, the probe, a token exchange)
    gets at most 30 s.  Whatever the deadline, reading a response body (a
    diagnostic, at most 1 MiB is kept) takes at most 30 s.

    ``expect_threshold``: bodies larger than this are sent with
    ``Expect: 100-continue``, so a registry that refuses the request from its
    headers (bad credentials, no such project) does so before the body goes
    out; ``None`` never sends it.  ``expect_wait`` is how long to wait for
    ``100 Continue`` before sending anyway; a host that never sends it is
    remembered, and later uploads to it do not wait.
    """

    ca_cert: str | None = None
    client_cert: str | None = None
    verify: bool = True
    connect_timeout: float = 15.0
    read_timeout: float = 60.0
    proxy: str | None = None
    pool_size: int = 8
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float | None = None
    expect_threshold: int | None = 1 << 20
    expect_wait: float = 1.0

    def __post_init__(self) -> None:
        check_pem_file(self.ca_cert, "CA bundle", "--cert / TransportOptions(ca_cert=...)")
        check_pem_file(
            self.client_cert,
            "client certificate",
            "--client-cert / TransportOptions(client_cert=...)",
        )

    def deadline(self, body_length: int = 0) -> float:
        """The overall deadline, in seconds, of one request carrying ``body_length`` bytes."""
        if self.timeout is not None:
            return self.timeout
        return self.connect_timeout + self.read_timeout + body_length / _MIN_RATE


def check_pem_file(path: str | None, what: str, option: str) -> None:
    """A ConfigurationError unless ``path`` is None or a regular file of a PEM's size.

    Checked with ``stat`` alone, so a FIFO or a device is refused without
    ever being opened (opening a FIFO blocks; ``/dev/zero`` never ends).
    """
    if path is None:
        return
    try:
        info = os.stat(path)
    except OSError as exc:
        problem = (
            "does not exist"
            if isinstance(exc, FileNotFoundError)
            else f"cannot be read: {exc.strerror}"
        )
    else:
        if not stat.S_ISREG(info.st_mode):
            problem = "is not a regular file"
        elif info.st_size > _MAX_PEM:
            problem = f"is {info.st_size} bytes, too large for a PEM file"
        else:
            return
    raise ConfigurationError(
        f"the {what} {path!r} {problem}",
        hint=f"Give the path of a PEM file with {option}.",
        path=str(path),
    )


@dataclass(frozen=True, slots=True)
class Response:
    """A registry's answer, with at most 1 MiB of its body.

    ``truncated`` is true when the body was cut: longer than the cap, slower
    than its deadline, or broken off; the connection is then closed, never
    drained.
    """

    status: int
    reason: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    url: str = ""
    truncated: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one POST produced.

    ``response``: the final answer (interim 1xx answers are skipped);
    ``bytes_sent``: how much of the body went out; ``digests``: those of the
    file as it was sent; ``response_time``: the registry's think time, from
    the end of the body to the first byte of its answer (0 when it answered
    before the body was all out); ``body_complete``: whether the whole body
    went out before the answer came.  An answer that came early (a 2xx
    included) says nothing about a file the registry never received whole.
    """

    response: Response
    bytes_sent: int
    digests: Digests
    response_time: float = 0.0
    body_complete: bool = True
