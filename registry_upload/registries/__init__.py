"""The registry model: one :class:`Profile` per registry, recognised once.

Everything registry_upload knows about a registry lives in its profile
(one module per family here): how to recognise it from the upload URL, from
response headers or from the upload URL's own page; where its simple index
is; whether it takes Metadata-Version 2.0; and its diagnostics rows.  The
uploader recognises the registry once, and diagnostics, skip-existing and
verification ask the profile.  Adding a registry is adding a profile to
:data:`PROFILES` (see ARCHITECTURE.md, "Adding a registry").
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from ._cloud import AZURE, CODEARTIFACT, GOOGLE
from ._generic import GENERIC_RULES, UNKNOWN
from ._gitlab import GITLAB
from ._model import Profile, Rule
from ._pypi import PYPI, TEST_UPLOAD_URL, TESTPYPI, UPLOAD_URL
from ._selfhosted import DEVPI, PYPISERVER
from ._vendors import ARTIFACTORY, NEXUS

__all__ = [
    "GENERIC_RULES",
    "PROFILES",
    "PYPI_UPLOAD_URL",
    "TESTPYPI_UPLOAD_URL",
    "Profile",
    "Registry",
    "Rule",
    "profile",
    "recognise",
    "recognise_answer",
]

PYPI_UPLOAD_URL = UPLOAD_URL
TESTPYPI_UPLOAD_URL = TEST_UPLOAD_URL

#: Every known registry, in recognition order (first match wins).
PROFILES: tuple[Profile, ...] = (
    PYPI,
    TESTPYPI,
    GITLAB,
    ARTIFACTORY,
    AZURE,
    CODEARTIFACT,
    GOOGLE,
    NEXUS,
    DEVPI,  # before pypiserver: devpi also answers with a realm="pypi" challenge
    PYPISERVER,
)
_BY_ID = {p.id: p for p in (*PROFILES, UNKNOWN)}


class Registry:
    """Registry identifiers, as results and reports carry them (stable in JSON)."""

    PYPI = PYPI.id
    TESTPYPI = TESTPYPI.id
    GITLAB = GITLAB.id
    ARTIFACTORY = ARTIFACTORY.id
    NEXUS = NEXUS.id
    AZURE = AZURE.id
    CODEARTIFACT = CODEARTIFACT.id
    GOOGLE = GOOGLE.id
    DEVPI = DEVPI.id
    PYPISERVER = PYPISERVER.id
    UNKNOWN = UNKNOWN.id


def profile(registry_id: str) -> Profile:
    """The profile for an id from :class:`Registry` (unknown ids give the unknown profile)."""
    return _BY_ID.get(registry_id, UNKNOWN)


def recognise(
    url: str, headers: Mapping[str, str] | None = None, page: str | None = None
) -> Profile:
    """The registry behind an upload ``url``: by URL, else response ``headers``, else ``page``."""
    parts = urlsplit(url)
    for fallback in (False, True):
        for candidate in PROFILES:
            if candidate.matches_url(parts, fallback=fallback):
                return candidate
    return recognise_answer(headers, page)


def recognise_answer(headers: Mapping[str, str] | None = None, page: str | None = None) -> Profile:
    """The registry that gave an answer away by its ``headers`` or its ``page``."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    for candidate in PROFILES:
        if candidate.matches_headers(lowered):
            return candidate
    for candidate in PROFILES:
        if candidate.matches_page(page):
            return candidate
    return UNKNOWN
