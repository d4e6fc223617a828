"""Which proxy a request goes through, and how it authenticates to it.

The environment is read by the standard library (``getproxies_environment``:
lower-case names win, ``HTTP_PROXY`` is ignored in a CGI request) and host
names are matched by its ``proxy_bypass_environment``; IP addresses are
also matched against the IP and CIDR entries of ``NO_PROXY``
(``127.0.0.0/8``, ``::1``), as requests and curl do.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment  # type: ignore[attr-defined]

from .._redact import register, register_basic
from .._urls import without_userinfo
from ..errors import ConfigurationError

__all__ = ["Proxy", "proxy_from_environment"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def proxy_from_environment(scheme: str, host: str, port: int | None = None) -> str | None:
    """The proxy URL for ``scheme://host:port`` from the environment, or None.

    ``<scheme>_proxy``, else ``all_proxy``; none when ``NO_PROXY`` matches
    the host (a name, a parent domain, ``*``, an optional ``:port``), or
    holds its IP address or a CIDR range around it.
    """
    proxies = getproxies_environment()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy:
        return None
    no_proxy = proxies.get("no", "")
    return None if no_proxy and _bypassed(host, port, no_proxy) else proxy


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    bare = host.strip("[]").lower()
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        address = None
    if address is not None and any(address in net for net in _networks(no_proxy)):
        return True
    shown = f"[{bare}]" if address is not None and address.version == 6 else bare
    if port is not None and proxy_bypass_environment(f"{shown}:{port}", {"no": no_proxy}):
        return True
    return bool(proxy_bypass_environment(shown, {"no": no_proxy}))


def _networks(no_proxy: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in no_proxy.split(","):
        with contextlib.suppress(ValueError):
            networks.append(ipaddress.ip_network(entry.strip().strip("[]"), strict=False))
    return networks


class Proxy:
    """A proxy URL read once: where to connect, what to show, how to authenticate.

    Userinfo in the URL becomes a ``Proxy-Authorization: Basic`` header; the
    URL is shown with it masked, and the password is registered with the
    redactor for as long as this object lives.
    """

    __slots__ = ("__weakref__", "authorization", "host", "port", "scheme", "shown", "url")

    def __init__(self, url: str) -> None:
        self.url = url
        self.shown = without_userinfo(url)
        try:
            parts = urlsplit(url if "://" in url else "http://" + url)
            port = parts.port
        except ValueError:
            raise _bad_proxy(self.shown, "has a bad port") from None
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise _bad_proxy(self.shown, "is not an http(s) URL with a host")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = port or _DEFAULT_PORTS[parts.scheme]
        self.authorization: str | None = None
        if parts.username is not None or parts.password is not None:
            user, password = unquote(parts.username or ""), unquote(parts.password or "")
            register(password, self)
            register_basic(user, password, self)
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self.authorization = f"Basic {token}"

    def __repr__(self) -> str:
        return f"Proxy({self.shown!r})"


def _bad_proxy(shown: str, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"the proxy URL {shown!r} {why}",
        hint="Give the proxy as http://host:port (HTTPS_PROXY / HTTP_PROXY / --proxy).",
        url=shown,
    )
