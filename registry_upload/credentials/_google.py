"""Google Artifact Registry: username ``oauth2accesstoken``, an OAuth access token.

The token comes from google-auth application-default credentials when it is
importable (``registry-upload[google]``; it reports the expiry), else from
``gcloud auth print-access-token``.  gcloud does not say when the token it
prints expires and may print a cached one, so we assume a short lifetime
(:data:`GCLOUD_ASSUMED_LIFETIME`) and ask again on long batches; one more
gcloud call is cheap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from ..errors import CredentialError
from ..registries._cloud import ArtifactRegistryRepository, parse_artifact_registry_url
from ._process import DEFAULT_TIMEOUT, run_tool
from ._types import CredentialKind, Credentials, Secret, Skip, Target

__all__ = ["ArtifactRegistryProvider", "ArtifactRegistryRepository", "parse_artifact_registry_url"]

logger = logging.getLogger(__name__)

GCLOUD_ASSUMED_LIFETIME = 15 * 60.0
_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_HINT = (
    "Sign in to Google Cloud first: `gcloud auth login` (or `gcloud auth "
    "application-default login`, or GOOGLE_APPLICATION_CREDENTIALS for a service account)."
)


class ArtifactRegistryProvider:
    """Answer for ``*-python.pkg.dev`` URLs with a Google OAuth access token.

    ``use_google_auth``: ``None`` (default) uses google-auth when importable,
    ``False`` always runs gcloud.
    """

    name = "google-artifact-registry"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        use_google_auth: bool | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._env = env
        self._use_google_auth = use_google_auth
        self._timeout = timeout

    def provide(self, target: Target) -> Credentials | None:
        repo = parse_artifact_registry_url(target.url)
        if repo is None:
            raise Skip("not a Google Artifact Registry URL")
        google_auth = self._google_auth()
        if google_auth is not None:
            token, expires = _from_google_auth(google_auth, target.url)
            how = "google-auth"
        else:
            token, expires = self._from_gcloud(target.url)
            how = "gcloud"
        logger.debug(
            "Artifact Registry token for %s/%s from %s", repo.project, repo.repository, how
        )
        return Credentials(
            username="oauth2accesstoken",
            password=Secret(token),
            source=f"{self.name}:{how}",
            kind=CredentialKind.CLOUD_TOKEN,
            expires_at=expires,
            details=(("project", repo.project), ("location", repo.location)),
        )

    def _google_auth(self) -> Any:
        if self._use_google_auth is False:
            return None
        try:
            import google.auth  # type: ignore[import-not-found,import-untyped,unused-ignore]
            import google.auth.transport.requests  # type: ignore[import-not-found,import-untyped,unused-ignore]
        except ImportError:
            return None
        return google.auth

    def _from_gcloud(self, url: str) -> tuple[str, float]:
        output = run_tool(
            "gcloud",
            ["auth", "print-access-token"],
            what="gcloud CLI",
            hint=_HINT,
            env=self._env,
            timeout=self._timeout,
            url=url,
        )
        token = output.stdout.strip()
        if not token or len(token.split()) != 1:
            raise CredentialError(
                "gcloud auth print-access-token printed no single token",
                hint=_HINT,
                url=url,
            )
        return token, time.time() + GCLOUD_ASSUMED_LIFETIME


def _from_google_auth(google_auth: Any, url: str) -> tuple[str, float]:
    try:
        credentials, _project = google_auth.default(scopes=[_SCOPE])
        credentials.refresh(google_auth.transport.requests.Request())
    except Exception as exc:  # DefaultCredentialsError, RefreshError, transport errors
        raise CredentialError(
            f"google-auth could not get an access token: {type(exc).__name__}: {exc}",
            hint=_HINT,
            url=url,
        ) from None
    token = getattr(credentials, "token", None)
    if not isinstance(token, str) or not token:
        raise CredentialError("google-auth returned no access token", hint=_HINT, url=url)
    expiry = getattr(credentials, "expiry", None)  # a naive UTC datetime
    if expiry is not None and hasattr(expiry, "replace"):
        import datetime as dt

        return token, expiry.replace(tzinfo=dt.timezone.utc).timestamp()
    return token, time.time() + GCLOUD_ASSUMED_LIFETIME
