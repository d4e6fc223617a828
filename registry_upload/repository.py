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

from ._urls import (
    DEFAULT_PORTS,
    Origin,
    is_loopback_host,
    is_secure_url,
    origin_of,
    without_userinfo,
)
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
    "check_url",
    "detect_registry",
    "is_loopback_host",
    "origin_of",
    "without_userinfo",
]


def detect_registry(
    url: str, headers: Mapping[str, str] | None = None, body: str | None = None
) -> str:
    """The registry id behind ``url``, refined by response ``headers`` and page ``body``."""
    return recognise(url, headers, body).id


def check_url(url: str, what: str) -> str:
    """``url`` stripped, or a ConfigurationError naming ``what`` is wrong with it.

    Refused: not http(s), no host, a bad port or IPv6 literal, white space or
    control characters inside, and any URL that two parsers read as different
    hosts (a backslash in the authority): credentials follow the host.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid(url, what, "has a bad port or IPv6 address") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _invalid(url, what, "is not an http(s) URL")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url) or "\\" in url:
        raise _invalid(url, what, "contains white space, a backslash or a control character")
    if port == 0:
        raise _invalid(url, what, "has port 0")
    host = parts.hostname.lower().strip("[]")
    if origin_of(url)[1:] != (host, port or DEFAULT_PORTS[parts.scheme]):
        raise _invalid(url, what, "names its host ambiguously")
    return url


def _invalid(url: str, what: str, why: str) -> ConfigurationError:
    shown = without_userinfo(url)  # never echo credentials written into a URL
    return ConfigurationError(
        f"{what} {shown!r} {why}",
        hint="Use the registry's upload URL, e.g. " + PYPI_UPLOAD_URL
        if what == "repository URL"
        else "Give the simple index's http(s) URL, e.g. https://pypi.org/simple/",
        url=shown,
    )


@dataclass(frozen=True, slots=True)
class Repository:
    """Where files go: the upload URL and (optionally) its .pypirc name.

    Surrounding white space is stripped.  Credentials written into the URL
    (``https://user:token@host/``) are taken out of it: the URL never shows
    them again, and they are used as explicit credentials
    (:attr:`url_credentials`, source ``"url"``).  Credentials written into
    ``index_url`` are taken out the same way and used for the index's origin
    only (:attr:`index_credentials`, source ``"index URL"``).
    """

    url: str
    name: str | None = None
    index_url: str | None = None
    url_credentials: Credentials | None = field(default=None, repr=False, compare=False)
    index_credentials: Credentials | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        url, creds = _split_userinfo(check_url(self.url, "repository URL"), "url")
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "url_credentials", creds)
        if self.index_url is not None:
            index, creds = _split_userinfo(check_url(self.index_url, "index URL"), "index URL")
            object.__setattr__(self, "index_url", index)
            object.__setattr__(self, "index_credentials", creds)

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


def _split_userinfo(url: str, source: str) -> tuple[str, Credentials | None]:
    """``url`` without credentials written into it, and those credentials."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    from .credentials import Credentials

    port = parts.port
    host = parts.hostname or ""
    host = host if ":" not in host else f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    username = unquote(parts.username or "")
    password = unquote(parts.password or "")
    # A username alone (https://alice@host/) is passed on to the chain (keyring, prompt).
    creds = Credentials.of(username, password, source=source)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), creds
