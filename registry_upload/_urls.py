"""URLs as the library reads them: origins, loopback, userinfo (private, a leaf).

It imports nothing from the package, so every layer (the transport, the
credentials, the session) reads a URL the same way: the origin a request
connects to is the origin the credentials rule checks.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_PORTS",
    "Origin",
    "is_loopback_host",
    "is_secure_url",
    "origin_of",
    "without_userinfo",
]

#: (scheme, host, port): where credentials may go.
Origin = tuple[str, str, int]
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> Origin:
    """The (scheme, host, port) a request to ``url`` connects to, default port filled in.

    The transport connects to exactly this (it reads every URL through this
    function), so an origin check sees the URL as the connection will.  A
    URL that cannot be read (a bad port or IPv6 literal) has the origin
    ``("", "", 0)``, which matches nothing and is never connected to.
    Non-ASCII host names are IDNA-encoded.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
        host = _ascii_host(parts.hostname or "")
    except ValueError:
        return "", "", 0
    scheme = parts.scheme.lower()
    return scheme, host, port or DEFAULT_PORTS.get(scheme, 0)


def _ascii_host(host: str) -> str:
    """``host`` lower-cased, without IPv6 brackets, IDNA-encoded if it is not ASCII."""
    host = host.lower().strip("[]")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"host name {host!r} cannot be encoded") from None


def is_secure_url(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine's loopback."""
    parts = urlsplit(url)
    return parts.scheme == "https" or is_loopback_host(parts.hostname)


def without_userinfo(url: str) -> str:
    """``url`` with anything before an ``@`` in its authority shown as ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    # Everything up to the last "@": a password may hold "/", "?" or "#" itself.
    _, at, after = rest.rpartition("@")
    return f"{scheme}{sep}***@{after}" if at else url
