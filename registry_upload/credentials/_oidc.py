"""Trusted publishing (OIDC) for PyPI and TestPyPI.

It is asked only when every earlier provider declined, so in CI a missing
OIDC token is an error with the fix, not a silent skip.

1. ``GET <index>/_/oidc/audience`` gives the audience.
2. The CI gives an OIDC token for it: GitHub Actions through
   ``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``; GitLab CI through
   ``<AUDIENCE>_ID_TOKEN``; Google Cloud through the metadata server's
   ``instance/service-accounts/default/identity`` (only asked when something
   says we run on Google Cloud: ``GCE_METADATA_HOST``, Cloud Run/Functions
   variables, or the machine's DMI product name, so it never waits elsewhere).
3. ``POST <index>/_/oidc/mint-token`` exchanges it for an upload token valid
   900 s; the uploader asks again before it expires.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import RegistryUploadError, TrustedPublishingError
from ..registries._pypi import warehouse_site
from ..transport import Response, Transport, TransportOptions
from ._types import CredentialKind, Credentials, Secret, Skip, Target

__all__ = ["TrustedPublishingProvider", "decode_claims"]

logger = logging.getLogger(__name__)

_SHOWN_CLAIMS = (
    "sub",
    "repository",
    "ref",
    "job_workflow_ref",
    "environment",
    "project_path",
    "email",
)
_GCE_PRODUCT_FILE = "/sys/class/dmi/id/product_name"
_GCE_PRODUCT_NAMES = {"Google", "Google Compute Engine"}
_GCE_RUNTIME_SIGNALS = ("K_SERVICE", "CLOUD_RUN_JOB", "FUNCTION_TARGET")
_GCE_ENV_SIGNALS = ("GCE_METADATA_HOST", *_GCE_RUNTIME_SIGNALS)
_GCE_DEFAULT_HOST = "metadata.google.internal"
_GCE_IDENTITY_PATH = "/computeMetadata/v1/instance/service-accounts/default/identity"
_CODE_HINTS = {
    "invalid-publisher": "No trusted publisher on the index matches this workflow: check the "
    "owner, repository, workflow file name and environment in the project's Publishing settings.",
    "invalid-pending-publisher": "The pending publisher does not match: check the project name "
    "and the workflow details you registered.",
    "invalid-token": "The OIDC token was rejected (wrong audience or expired): request it for "
    "the audience the index reports.",
    "invalid-payload": "The index could not read the token request.",
    "not-enabled": "Trusted publishing is disabled on this index right now.",
    "invalid-reuse-token": "This OIDC token was already used: request a new one per exchange.",
}


def decode_claims(jwt: str) -> dict[str, str]:
    """The shown claims of a JWT, decoded but not verified (for diagnostics only)."""
    try:
        payload = jwt.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        data = json.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(data[k]) for k in _SHOWN_CLAIMS if k in data}


def _json(response: Response) -> Any:
    try:
        return json.loads(response.body)
    except ValueError:
        return None


class TrustedPublishingProvider:
    """Mint a short-lived PyPI/TestPyPI upload token from the CI's OIDC identity.

    ``index_url`` overrides where ``/_/oidc/*`` lives (for other
    warehouse-compatible indexes and for tests); the provider then answers
    for targets under that host.
    """

    name = "trusted-publishing"

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        transport: Transport | None = None,
        index_url: str | None = None,
        gce_product_file: str = _GCE_PRODUCT_FILE,
    ) -> None:
        self._env = env
        self._transport = transport
        self._index_url = index_url.rstrip("/") if index_url else None
        self._gce_product_file = gce_product_file

    def _index_for(self, target: Target) -> str:
        if self._index_url:
            if urlsplit(self._index_url).netloc != urlsplit(target.url).netloc:
                raise Skip(f"{target.url} is not on {self._index_url}")
            return self._index_url
        index = warehouse_site(urlsplit(target.url).hostname or "")
        if index is None:
            raise Skip("trusted publishing is only for PyPI and TestPyPI")
        return index

    def _where(self, env: Mapping[str, str]) -> str | None:
        """``github``, ``gitlab``, ``google-cloud`` or ``None``."""
        if env.get("GITHUB_ACTIONS") == "true":
            return "github"
        if env.get("GITLAB_CI") == "true":
            return "gitlab"
        if any(env.get(name) for name in _GCE_ENV_SIGNALS) or self._on_gce():
            return "google-cloud"
        return None

    def _on_gce(self) -> bool:
        try:
            with open(self._gce_product_file, encoding="utf-8") as fh:
                return fh.read(256).strip() in _GCE_PRODUCT_NAMES
        except OSError:
            return False

    def provide(self, target: Target) -> Credentials | None:
        env = os.environ if self._env is None else self._env
        where = self._where(env)
        if where is None:
            raise Skip("not in GitHub Actions, GitLab CI or on Google Cloud")
        index = self._index_for(target)
        transport = self._transport or Transport()
        try:
            audience = self._audience(transport, index)
            if where == "google-cloud":
                # Only a Google-run runtime (Cloud Run, Functions) surely has an identity;
                # on a VM found by its DMI name or GCE_METADATA_HOST (someone's workstation,
                # a container without metadata access) a missing one is "not mine".
                required = any(env.get(name) for name in _GCE_RUNTIME_SIGNALS)
                jwt = _google_identity(env, audience, required=required)
            else:
                jwt = self._oidc_token(transport, env, audience, in_github=where == "github")
            return self._mint(transport, index, jwt, where)
        finally:
            if self._transport is None:
                transport.close()

    def _audience(self, transport: Transport, index: str) -> str:
        url = f"{index}/_/oidc/audience"
        response = transport.get(url)
        if response.status == 403:
            raise TrustedPublishingError(
                "trusted publishing is disabled on this index",
                code="not-enabled",
                url=url,
                status=403,
                hint="Temporary on the index's side; use an API token meanwhile.",
            )
        if response.status == 404:
            raise Skip(f"{index} does not support trusted publishing")
        data = _json(response)
        if response.status != 200 or not isinstance(data, dict) or "audience" not in data:
            raise TrustedPublishingError(
                f"unexpected answer from {url}: {response.status}",
                url=url,
                status=response.status,
                hint="Retry later; the index may be having trouble.",
            )
        return str(data["audience"])

    def _oidc_token(
        self, transport: Transport, env: Mapping[str, str], audience: str, *, in_github: bool
    ) -> str:
        if in_github:
            req_url = env.get("ACTIONS_ID_TOKEN_REQUEST_URL")
            req_token = env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
            if not req_url or not req_token:
                # Every earlier provider declined, so this is the last way to authenticate.
                raise TrustedPublishingError(
                    "GitHub Actions did not provide an OIDC token "
                    "(ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set)",
                    code="missing-id-token-permission",
                    hint="Give the publishing job `permissions: id-token: write` (forked pull "
                    "requests never get one), or provide an API token instead.",
                )
            sep = "&" if "?" in req_url else "?"
            response = transport.get(
                f"{req_url}{sep}audience={audience}",
                headers={"Authorization": f"bearer {req_token}"},
            )
            data = _json(response)
            if response.status != 200 or not isinstance(data, dict) or "value" not in data:
                raise TrustedPublishingError(
                    f"GitHub Actions refused an OIDC token ({response.status})",
                    status=response.status,
                    hint="Check `permissions: id-token: write` on the publishing job.",
                )
            return str(data["value"])
        var = re.sub(r"[^A-Z0-9_]", "_", audience.upper()) + "_ID_TOKEN"
        token = env.get(var)
        if not token:
            raise TrustedPublishingError(
                f"GitLab CI did not provide ${var}",
                code="missing-id-token",
                hint=f"Declare it in the publishing job: `id_tokens: {var}: {{aud: {audience}}}`, "
                "or provide an API token instead.",
            )
        return token

    def _mint(self, transport: Transport, index: str, jwt: str, where: str) -> Credentials:
        url = f"{index}/_/oidc/mint-token"
        response = transport.post_json(url, json.dumps({"token": jwt}).encode(), headers={})
        data = _json(response)
        if response.status == 200 and isinstance(data, dict) and data.get("success"):
            expires = data.get("expires")
            if not isinstance(expires, int | float):
                expires = time.time() + 900
            logger.debug("minted a trusted-publishing token at %s", index)
            return Credentials(
                username="__token__",
                password=Secret(str(data["token"])),
                source=f"{self.name}:{where}",
                kind=CredentialKind.TRUSTED_PUBLISHING,
                expires_at=float(expires)
                if isinstance(expires, int | float)
                else time.time() + 900,
            )
        errors = data.get("errors") if isinstance(data, dict) else None
        first = errors[0] if isinstance(errors, list) and errors else {}
        code = first.get("code") if isinstance(first, dict) else None
        description = first.get("description") if isinstance(first, dict) else None
        message = (
            data.get("message") if isinstance(data, dict) else None
        ) or "token exchange failed"
        raise TrustedPublishingError(
            f"{index} refused the token exchange ({response.status}): {message}"
            + (f": [{code}] {description}" if code else ""),
            code=code,
            claims=decode_claims(jwt),
            url=url,
            status=response.status,
            hint=_CODE_HINTS.get(
                code or "",
                "Check the trusted publisher configured for this project on the index.",
            ),
        )


def _google_identity(env: Mapping[str, str], audience: str, *, required: bool) -> str:
    """An identity token for ``audience`` from the Google Cloud metadata server.

    ``GCE_METADATA_HOST`` (as google-auth reads it) overrides the host; short
    timeouts, no proxy.  Unless ``required``, a failure is a :class:`Skip`.
    """
    host = env.get("GCE_METADATA_HOST") or _GCE_DEFAULT_HOST
    url = f"http://{host}{_GCE_IDENTITY_PATH}?audience={quote(audience, safe='')}&format=full"
    hint = (
        "Run on a Google Cloud resource with a service account attached (Compute Engine, "
        "Cloud Run, Cloud Build, GKE with Workload Identity), and register that service "
        "account as the project's trusted publisher."
    )
    options = TransportOptions(connect_timeout=3.0, read_timeout=10.0, proxy="")
    with Transport(options) as metadata:
        try:
            response = metadata.get(url, headers={"Metadata-Flavor": "Google"})
        except RegistryUploadError as exc:
            if not required:
                reason = f"the Google Cloud metadata server did not answer: {exc.message}"
                raise Skip(reason) from None
            raise TrustedPublishingError(
                f"the Google Cloud metadata server did not answer: {exc.message}",
                code="missing-id-token",
                url=url,
                hint=hint,
            ) from None
    token = response.text().strip()
    if response.status != 200 or token.count(".") != 2:
        if not required:
            raise Skip(
                f"no identity token from the Google Cloud metadata server ({response.status})"
            )
        raise TrustedPublishingError(
            f"the Google Cloud metadata server gave no identity token ({response.status})",
            code="missing-id-token",
            url=url,
            status=response.status,
            hint=hint,
        )
    logger.debug("identity token from the Google Cloud metadata server at %s", host)
    return token
