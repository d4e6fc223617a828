"""What every file of a batch shares: the registry, credentials, the index (private).

A :class:`Session` belongs to one :class:`~registry_upload.Uploader`.  It

* recognises the registry once (from the URL; else from the first answer
  that gives it away; else one GET of the upload URL) and hands out its
  :class:`~registry_upload.registries.Profile`;
* resolves credentials once, again shortly before a short-lived token
  expires, and applies **the origin rule** to every request the library
  makes: credentials go only to the origin (scheme, host, port) they were
  resolved for, and never over plain http to a host that is not loopback
  unless ``allow_insecure``;
* reads each project's simple index at most once per question, and
  answers "is this very file already there?".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._urls import is_secure_url, origin_of
from .credentials import CredentialChain, Credentials, Resolution, Target
from .errors import InsecureTransportError, TransportError
from .registries import Profile, recognise, recognise_answer
from .repository import Repository
from .transport import Response, Transport

if TYPE_CHECKING:
    from ._index import IndexLookup, Listing
    from .distribution import Distribution

__all__ = ["Session", "SessionOptions"]

logger = logging.getLogger(__name__)

#: Re-resolve credentials this long before a short-lived token expires.
REFRESH_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class SessionOptions:
    allow_insecure: bool = False


class Session:
    """Shared by every file of a batch (thread-safe)."""

    def __init__(
        self,
        repository: Repository,
        transport: Transport,
        *,
        fixed: Credentials | None,
        chain: CredentialChain | None,
        options: SessionOptions,
    ) -> None:
        self.repository = repository
        self.transport = transport
        self.options = options
        self._fixed = fixed
        self._chain = chain
        self._lock = threading.Lock()
        self._credentials: Credentials | None = None
        self._resolution: Resolution | None = None
        self._resolved = False
        self._profile = recognise(repository.url)
        self._probed = False
        self._learned = False
        self._index_cache: dict[str, IndexLookup] = {}
        self._authorizations: dict[str, tuple[Credentials, str | None]] = {}
        self._check_index_transport()

    # -- the registry ----------------------------------------------------------

    @property
    def profile(self) -> Profile:
        return self._profile

    def learn(self, response: Response) -> Profile:
        """Refine an unrecognised registry from the first answer's headers and body
        (one look: a registry that does not give itself away there will not later)."""
        if self._profile.id == "unknown" and not self._learned:
            self._learned = True
            found = recognise_answer(response.headers, response.text())
            with self._lock:
                if self._profile.id == "unknown":
                    self._profile = found
        return self._profile

    def identify(self) -> Profile:
        """The profile, after at most one GET of the upload URL if nothing told yet.

        The registry decides the index layout (devpi uses ``+simple/``), which
        diagnostics rows apply, and what the report names.
        """
        with self._lock:
            if self._profile.id != "unknown" or self._probed:
                return self._profile
            self._probed = True
        url = self.repository.url
        auth = self.authorization_for(url)
        try:
            page = self.transport.get(url, headers={"Authorization": auth} if auth else None)
        except TransportError as exc:
            logger.debug("probe of %s failed: %s", self.repository.url, exc.message)
            return self._profile
        found = recognise_answer(page.headers, page.text())
        with self._lock:
            if self._profile.id == "unknown":
                self._profile = found
        return self._profile

    # -- credentials -----------------------------------------------------------

    @property
    def resolution(self) -> Resolution | None:
        return self._resolution

    def credentials(self) -> Credentials | None:
        """Resolve once; again when a short-lived token is about to expire."""
        with self._lock:
            creds = self._credentials
            fresh = creds is None or not creds.expires_within(REFRESH_SECONDS)
            if self._resolved and fresh:
                return creds
            creds = self._resolve()
            self._check_transport(creds)
            self._credentials, self._resolved = creds, True
            return creds

    def _resolve(self) -> Credentials | None:
        if self._fixed is not None:
            return self._fixed
        if self._chain is None:
            return None
        target = Target(
            url=self.repository.url, name=self.repository.name, transport=self.transport
        )
        self._resolution = self._chain.resolve(target)
        return self._resolution.credentials

    def _check_transport(self, creds: Credentials | None) -> None:
        """Credentials never travel in clear: not over plain http to a host that is
        not loopback, and not over plain http through a proxy (the hop is in clear,
        whatever the registry's host), unless ``allow_insecure``."""
        if creds is None or self.options.allow_insecure:
            return
        url = self.repository.url
        if self.transport.proxied_in_clear(url):
            raise InsecureTransportError(
                f"refusing to send credentials ({creds.source}) over plain http through "
                f"a proxy to {self.repository.host}",
                hint="Use the registry's https:// URL (the proxy then only relays "
                "encrypted bytes), exclude the host with NO_PROXY, or allow it explicitly "
                "(allow_insecure=True / --allow-insecure).",
                url=url,
            )
        if self.repository.is_secure:
            return
        raise InsecureTransportError(
            f"refusing to send credentials ({creds.source}) over plain http to "
            f"{self.repository.host}",
            hint="Use the https:// URL; or, for a registry you trust on a private "
            "network, allow it explicitly (allow_insecure=True / --allow-insecure).",
            url=url,
        )

    @property
    def chain(self) -> CredentialChain | None:
        """The credential chain asked (``None`` when fixed credentials were given)."""
        return self._chain

    def authorization_for(self, url: str) -> str | None:
        """The upload credentials' ``Authorization`` header for ``url``, under the origin rule.

        The one place that decides whether credentials may travel: only to the
        origin they were resolved for, and over plain http only to loopback or
        with ``allow_insecure``.  (The transport never follows a redirect: it
        returns it, so a header never travels on to another origin.)
        """
        creds = self.credentials()
        if creds is None:
            return None
        cached = self._authorizations.get(url)
        if cached is not None and cached[0] is creds:  # a refreshed token is a new object
            return cached[1]
        header = self._authorization(url, creds)
        self._authorizations[url] = (creds, header)
        return header

    def index_authorization(self, url: str) -> str | None:
        """The header for *reading* the index at ``url``: credentials written into the
        index URL serve that URL's origin alone (and never an upload); without them,
        the upload credentials under the origin rule."""
        repo = self.repository
        creds = repo.index_credentials
        if creds is None or not creds.password or repo.index_url is None:
            return self.authorization_for(url)
        if origin_of(url) != origin_of(repo.index_url):
            return None
        return creds.authorization_header()  # over https or allowed: checked at the start

    def _authorization(self, url: str, creds: Credentials) -> str | None:
        if origin_of(url) != self.repository.origin:
            logger.debug("not sending credentials to %s: another origin", url)
            return None
        if not is_secure_url(url) and not self.options.allow_insecure:
            return None
        return creds.authorization_header()

    def _check_index_transport(self) -> None:
        index, creds = self.repository.index_url, self.repository.index_credentials
        if index is None or creds is None or not creds.password:
            return
        if is_secure_url(index) or self.options.allow_insecure:
            return
        raise InsecureTransportError(
            f"refusing to send the credentials written into the index URL over plain http "
            f"to {urlsplit(index).hostname}",
            hint="Use the index's https:// URL; or, for an index you trust on a private "
            "network, allow it explicitly (allow_insecure=True / --allow-insecure).",
            url=index,
        )

    def no_credentials_note(self) -> str:
        trail = self._resolution.describe() if self._resolution else "none were given"
        return f" No credentials were sent: {trail}."

    # -- the index -------------------------------------------------------------

    def index_url(self) -> str:
        if self.repository.index_url:
            return self.repository.simple_index_url()
        return self.identify().index_url(urlsplit(self.repository.url))

    def listing(
        self, dist: Distribution, sha256: str | Callable[[], str], *, fresh: bool
    ) -> Listing:
        """Where the index places this very file (see :func:`~._index.read_listing`).

        ``fresh=False`` (skip-existing) reads each project's page once per
        batch; ``fresh=True`` reads it again.  Every read asks caches for a
        fresh copy.  ``sha256`` may be a function: it is called only when the
        page lists the file with a hash."""
        from ._index import listing_of

        return listing_of(self._project_page(dist.project, fresh=fresh), dist.filename, sha256)

    def _project_page(self, project: str, *, fresh: bool) -> IndexLookup:
        with self._lock:
            cached = self._index_cache.get(project)
        if cached is not None and not fresh:
            return cached
        from ._index import lookup_project_files

        index = self.index_url()
        lookup = lookup_project_files(
            self.transport,
            index,
            project,
            authorization=self.index_authorization(index),
            no_cache=True,
        )
        if lookup.problem:
            level = logging.DEBUG if fresh else logging.WARNING
            logger.log(level, "%s; cannot tell which files it holds", lookup.problem)
        with self._lock:
            self._index_cache[project] = lookup
        return lookup
