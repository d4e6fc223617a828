"""Repository: an upload URL, which registry serves it, and its simple index.

Registry detection from the URL happens here; detection from response
headers (``x-gitlab-meta``, ``X-Artifactory-Id``, ...) refines it in
:func:`detect_registry`.  Both are plain data tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "PYPI_UPLOAD_URL",
    "TESTPYPI_UPLOAD_URL",
    "Registry",
    "Repository",
    "detect_registry",
    "is_loopback_host",
]

PYPI_UPLOAD_URL = "https://upload.pypi.org/legacy/"
TESTPYPI_UPLOAD_URL = "https://test.pypi.org/legacy/"


class Registry:
    """Registry identifiers (plain strings, stable in JSON reports)."""

    PYPI = "pypi"
    TESTPYPI = "testpypi"
    GITLAB = "gitlab"
    ARTIFACTORY = "artifactory"
    NEXUS = "nexus"
    AZURE = "azure-artifacts"
    CODEARTIFACT = "aws-codeartifact"
    GOOGLE = "google-artifact-registry"
    DEVPI = "devpi"
    PYPISERVER = "pypiserver"
    UNKNOWN = "unknown"


# (registry, host regex or None, path regex or None), first match wins.
_URL_RULES: tuple[tuple[str, str | None, str | None], ...] = (
    (Registry.PYPI, r"^upload\.pypi\.org$|^pypi\.org$", None),
    (Registry.TESTPYPI, r"^test\.pypi\.org$", None),
    (Registry.GITLAB, None, r"/api/v4/projects/[^/]+/packages/pypi/?$"),
    (Registry.ARTIFACTORY, None, r"/artifactory/api/pypi/[^/]+"),
    (Registry.AZURE, r"^pkgs\.dev\.azure\.com$|\.pkgs\.visualstudio\.com$", r"/_packaging/"),
    (Registry.CODEARTIFACT, r"\.codeartifact\.[a-z0-9-]+\.amazonaws\.com$", None),
    (Registry.GOOGLE, r"-python\.pkg\.dev$", None),
    (Registry.NEXUS, None, r"^/repository/[^/]+/?$"),
    # Any other warehouse instance (self-hosted, staging) uploads to /legacy/.
    (Registry.PYPI, None, r"^/legacy/?$"),
)

# (registry, header name (lower case), value regex or None)
_HEADER_RULES: tuple[tuple[str, str, str | None], ...] = (
    (Registry.GITLAB, "x-gitlab-meta", None),
    (Registry.GITLAB, "www-authenticate", r"gitlab"),
    (Registry.ARTIFACTORY, "x-artifactory-id", None),
    (Registry.ARTIFACTORY, "x-jfrog-version", None),
    (Registry.ARTIFACTORY, "server", r"artifactory"),
    (Registry.NEXUS, "server", r"nexus"),
    (Registry.AZURE, "x-vss-e2eid", None),
    (Registry.AZURE, "x-tfs-session", None),
    (Registry.DEVPI, "x-devpi-api-version", None),
    (Registry.DEVPI, "x-devpi-server-version", None),
    (Registry.PYPISERVER, "www-authenticate", r'realm="pypi"'),
)


# (registry, regex over a page's text): used on the upload URL's own page when
# neither the URL nor the headers tell (pypiserver's welcome page, devpi's JSON).
_BODY_RULES: tuple[tuple[str, str], ...] = (
    (Registry.PYPISERVER, r"pypiserver|--overwrite"),
    (Registry.DEVPI, r"devpi"),
)


def _from_url(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for registry, host_re, path_re in _URL_RULES:
        if host_re is not None and not re.search(host_re, host):
            continue
        if path_re is not None and not re.search(path_re, parts.path):
            continue
        return registry
    return Registry.UNKNOWN


def detect_registry(
    url: str, headers: Mapping[str, str] | None = None, body: str | None = None
) -> str:
    """The registry behind ``url``, refined by response ``headers`` and page ``body``."""
    by_url = _from_url(url)
    if by_url != Registry.UNKNOWN:
        return by_url
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    for registry, name, value_re in _HEADER_RULES:
        value = lowered.get(name)
        if value is None:
            continue
        if value_re is None or re.search(value_re, value, re.IGNORECASE):
            return registry
    for registry, body_re in _BODY_RULES:
        if body and re.search(body_re, body, re.IGNORECASE):
            return registry
    return Registry.UNKNOWN


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


@dataclass(frozen=True, slots=True)
class Repository:
    """Where files go: the upload URL and (optionally) its .pypirc name."""

    url: str
    name: str | None = None
    index_url: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            from .errors import ConfigurationError

            raise ConfigurationError(
                f"repository URL {self.url!r} is not an http(s) URL",
                hint="Use the registry's upload URL, e.g. " + PYPI_UPLOAD_URL,
                url=self.url,
            )
        if parts.username or parts.password:
            # Never keep credentials inside a URL: they would reach logs and reports.
            netloc = parts.hostname or ""
            if parts.port:
                netloc = f"{netloc}:{parts.port}"
            object.__setattr__(
                self, "url", urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
            )

    @property
    def registry(self) -> str:
        return _from_url(self.url)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def is_secure(self) -> bool:
        """HTTPS, or plain HTTP to this machine's loopback."""
        parts = urlsplit(self.url)
        return parts.scheme == "https" or is_loopback_host(parts.hostname)

    def simple_index_url(self, registry: str | None = None) -> str:
        """The PEP 503/691 simple index matching this upload URL.

        Known registries get their documented layout; others the common
        ``<upload URL>/simple/`` convention.  ``index_url`` overrides both.
        """
        if self.index_url:
            return _with_slash(self.index_url)
        registry = registry or self.registry
        parts = urlsplit(self.url)
        base = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.rstrip("/")
        if registry in (Registry.PYPI, Registry.TESTPYPI):
            host = "pypi.org" if parts.hostname == "upload.pypi.org" else parts.netloc
            return f"{parts.scheme}://{host}/simple/"
        if registry == Registry.DEVPI:
            return f"{base}{path}/+simple/"
        if registry == Registry.AZURE:
            return f"{base}{re.sub(r'/upload$', '', path)}/simple/"
        # GitLab, Artifactory, Nexus, pypiserver, CodeArtifact, Google and unknown ones.
        return f"{base}{path}/simple/"


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
