"""Repository: an upload URL, checked once, with its origin and simple index.

Which registry serves a URL is the registry model's business
(:mod:`registry_upload.registries`); this module only parses and validates
the URL a user gave.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from .errors import ConfigurationError
from .registries import PYPI_UPLOAD_URL, TESTPYPI_UPLOAD_URL, Registry, profile, recognise

if TYPE_CHECKING:
    from .credentials import Credentials

__all__ = [
    "PYPI_UPLOAD_URL",
    "TESTPYPI_UPLOAD_URL",
    "Origin",
    "Registry",
    "Repository",
    "detect_registry",
    "is_loopback_host",
    "origin_of",
]

#: (scheme, host, port): where credentials may go.
Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def detect_registry(
    url: str, headers: Mapping[str, str] | None = None, body: str | None = None
) -> str:
    """The registry id behind ``url``, refined by response ``headers`` and page ``body``."""
    return recognise(url, headers, body).id


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> Origin:
    """The (scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def _invalid(url: str, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"repository URL {url!r} {why}",
        hint="Use the registry's upload URL, e.g. " + PYPI_UPLOAD_URL,
        url=url,
    )


@dataclass(frozen=True, slots=True)
class Repository:
    """Where files go: the upload URL and (optionally) its .pypirc name.

    Surrounding white space is stripped.  Credentials written into the URL
    (``https://user:token@host/``) are taken out of it: the URL never shows
    them again, and they are used as explicit credentials
    (:attr:`url_credentials`, source ``"url"``).
    """

    url: str
    name: str | None = None
    index_url: str | None = None
    url_credentials: Credentials | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        url = self.url.strip()
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:  # a bad port or IPv6 literal
            raise _invalid(_without_userinfo(url), f"is not a valid URL ({exc})") from None
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise _invalid(_without_userinfo(url), "is not an http(s) URL")
        if parts.username is not None or parts.password is not None:
            object.__setattr__(self, "url_credentials", _userinfo_credentials(parts))
            host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
            netloc = f"{host}:{port}" if port else host
            url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        object.__setattr__(self, "url", url)
        if self.index_url is not None:
            object.__setattr__(self, "index_url", self.index_url.strip())

    @property
    def registry(self) -> str:
        """The registry id recognised from the URL alone."""
        return recognise(self.url).id

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def origin(self) -> Origin:
        return origin_of(self.url)

    @property
    def is_secure(self) -> bool:
        """HTTPS, or plain HTTP to this machine's loopback."""
        return is_secure_url(self.url)

    def simple_index_url(self, registry: str | None = None) -> str:
        """The PEP 503/691 simple index matching this upload URL.

        The registry's profile knows its layout (devpi uses ``+simple/``,
        PyPI another host); ``index_url`` overrides it.
        """
        if self.index_url:
            return self.index_url if self.index_url.endswith("/") else self.index_url + "/"
        chosen = profile(registry) if registry else recognise(self.url)
        return chosen.index_url(urlsplit(self.url))


def is_secure_url(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine's loopback."""
    parts = urlsplit(url)
    return parts.scheme == "https" or is_loopback_host(parts.hostname)


def _without_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{tail}"


def _userinfo_credentials(parts: object) -> Credentials:
    from .credentials import Credentials

    username = unquote(getattr(parts, "username", None) or "")
    password = unquote(getattr(parts, "password", None) or "")
    # A username alone (https://alice@host/) is passed on to the chain (keyring, prompt).
    return Credentials.of(username, password, source="url")
