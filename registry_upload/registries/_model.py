"""The registry model: a profile per registry, and the diagnostics row (private).

A :class:`Profile` is everything registry_upload knows about one registry, as
data: how it is recognised (upload URL, response headers, the upload URL's
own page), where its simple index lives, how it accepts metadata, and its
diagnostics :class:`Rule` rows (how it says "duplicate", "bad credentials",
"no permission" ...).  Profiles are defined one per module beside this one and
collected, in recognition order, in ``registries/__init__.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult

from ..errors import UploadError

__all__ = ["Profile", "Rule", "UploadRule", "beside_upload_url"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One diagnostics row: when it applies, and what it means for the user.

    ``statuses``: HTTP statuses, empty for any.  ``text``: lower-case
    substrings of which one must occur in the registry's message (empty: no
    text needed).  ``job_token``: only when the password is a GitLab CI job
    token.  ``exists``: the row means "this filename is already there".
    """

    statuses: tuple[int, ...]
    text: tuple[str, ...]
    error: type[UploadError]
    meaning: str
    hint: str | None
    job_token: bool = False
    exists: bool = False

    def matches(self, status: int, message: str, *, job_token: bool) -> bool:
        if self.statuses and status not in self.statuses:
            return False
        if self.job_token and not job_token:
            return False
        return not self.text or any(t in message for t in self.text)


@dataclass(frozen=True, slots=True)
class UploadRule:
    """One of a registry's upload rules, as data: what it refuses (or warns about) in a file.

    ``code`` names the finding that breaks it (``registry_upload.checks``
    detects each code); ``source`` is where the registry states the rule
    (its source file and function, or its documentation); ``hint`` is what
    to do about it.  ``refuse=False``: the registry accepts the file, but
    the finding is worth a warning (a file near a size limit).
    """

    code: str
    source: str
    hint: str
    refuse: bool = True


def beside_upload_url(parts: SplitResult) -> str:
    """The common layout: the simple index is ``<upload URL>/simple/``."""
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/simple/"


# (host regex or None, path regex or None): both given ones must match.
UrlPattern = tuple[str | None, str | None]


@dataclass(frozen=True, slots=True)
class Profile:
    """What we know about one registry.

    ``urls``: patterns that recognise its upload URLs.  ``fallback_urls``:
    weaker patterns tried only after every profile's ``urls`` (a warehouse
    instance on any host uploads to ``/legacy/``).  ``headers``: response
    headers (lower-case name, value regex or None) that give it away;
    ``page``: a regex over the upload URL's own page.  ``index_url``: the
    simple index for an upload URL.  ``rules``: its diagnostics rows, tried
    before the generic ones.  ``upload_rules``: what it refuses in a file
    (or warns about), one :class:`UploadRule` per finding code; the
    uploader's preflight and ``check()`` judge files by them
    (``registry_upload.checks.judge``), so nothing is sent that the registry
    would refuse.
    """

    id: str
    title: str
    urls: tuple[UrlPattern, ...] = ()
    fallback_urls: tuple[UrlPattern, ...] = ()
    headers: tuple[tuple[str, str | None], ...] = ()
    page: str | None = None
    index_url: Callable[[SplitResult], str] = beside_upload_url
    rules: tuple[Rule, ...] = ()
    upload_rules: tuple[UploadRule, ...] = ()

    @property
    def refuses(self) -> frozenset[str]:
        """The finding codes this registry answers with a refusal."""
        return frozenset(rule.code for rule in self.upload_rules if rule.refuse)

    def upload_rule(self, code: str) -> UploadRule | None:
        """This registry's rule for a finding code, if it has one."""
        for rule in self.upload_rules:
            if rule.code == code:
                return rule
        return None

    def __repr__(self) -> str:
        return f"<Profile {self.id}>"

    def __str__(self) -> str:
        return self.id

    def matches_url(self, parts: SplitResult, *, fallback: bool = False) -> bool:
        host = (parts.hostname or "").lower()
        for host_re, path_re in self.fallback_urls if fallback else self.urls:
            if host_re is not None and not re.search(host_re, host):
                continue
            if path_re is not None and not re.search(path_re, parts.path):
                continue
            return True
        return False

    def matches_headers(self, headers: dict[str, str]) -> bool:
        for name, value_re in self.headers:
            value = headers.get(name)
            if value is not None and (value_re is None or re.search(value_re, value, re.I)):
                return True
        return False

    def matches_page(self, page: str | None) -> bool:
        return bool(page and self.page and re.search(self.page, page, re.I))
