"""Azure Artifacts: a Microsoft Entra token for Azure DevOps, or the pipeline's job token.

Azure Artifacts takes the token as the Basic-auth password and accepts any
non-empty username (Microsoft's and uv's documentation); we send ``azure``.

1. Inside Azure Pipelines (``TF_BUILD=True``) with ``SYSTEM_ACCESSTOKEN``
   mapped into the step's environment: that token.
2. Else ``az account get-access-token --resource <Azure DevOps> --output
   json``; its ``expires_on`` (POSIX, Azure CLI >= 2.54) or ``expiresOn``
   (local time) says when to ask again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from ..errors import CredentialError
from ..registries._cloud import AzureArtifactsFeed, parse_azure_artifacts_url
from ._process import DEFAULT_TIMEOUT, json_answer, run_tool, which
from ._types import CredentialKind, Credentials, Secret, Skip, Target

__all__ = ["AzureArtifactsFeed", "AzureArtifactsProvider", "parse_azure_artifacts_url"]

logger = logging.getLogger(__name__)

AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
USERNAME = "azure"
_HINT = (
    "Sign in with `az login` (the account needs access to the feed), or inside Azure "
    "Pipelines map the job token into the step: `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`."
)


class AzureArtifactsProvider:
    """Answer for Azure Artifacts feed URLs."""

    name = "azure-artifacts"

    def __init__(
        self, env: Mapping[str, str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._env = env
        self._timeout = timeout

    def provide(self, target: Target) -> Credentials | None:
        import os

        feed = parse_azure_artifacts_url(target.url)
        if feed is None:
            raise Skip("not an Azure Artifacts URL")
        env = os.environ if self._env is None else self._env
        in_pipelines = env.get("TF_BUILD", "").lower() == "true"
        job_token = env.get("SYSTEM_ACCESSTOKEN")
        details = (("organization", feed.organization), ("feed", feed.feed))
        if in_pipelines and job_token:
            return Credentials(
                username=USERNAME,
                password=Secret(job_token),
                source=f"{self.name}:SYSTEM_ACCESSTOKEN",
                kind=CredentialKind.CLOUD_TOKEN,
                details=details,
            )
        if which("az", self._env) is None:
            reason = "az CLI not found"
            if in_pipelines:
                reason += " and SYSTEM_ACCESSTOKEN is not mapped into this step"
            raise Skip(reason)
        token, expires = self._from_az(target.url)
        return Credentials(
            username=USERNAME,
            password=Secret(token),
            source=f"{self.name}:az-cli",
            kind=CredentialKind.CLOUD_TOKEN,
            expires_at=expires,
            details=details,
        )

    def _from_az(self, url: str) -> tuple[str, float | None]:
        output = run_tool(
            "az",
            [
                "account",
                "get-access-token",
                "--resource",
                AZURE_DEVOPS_RESOURCE,
                "--output",
                "json",
            ],
            what="az CLI",
            hint=_HINT,
            env=self._env,
            timeout=self._timeout,
            url=url,
        )
        answer = json_answer(output)
        token = answer.get("accessToken") if isinstance(answer, dict) else None
        if not isinstance(answer, dict) or not isinstance(token, str) or not token:
            raise CredentialError(
                "az account get-access-token gave no accessToken", hint=_HINT, url=url
            )
        return token, _expiry(answer)


def _expiry(answer: dict[str, object]) -> float | None:
    posix = answer.get("expires_on")
    if isinstance(posix, int | float) and not isinstance(posix, bool):
        return float(posix)
    if isinstance(posix, str) and posix.strip().isdigit():
        return float(posix)
    local = answer.get("expiresOn")
    if isinstance(local, str):
        try:
            return dt.datetime.fromisoformat(local.strip()).timestamp()  # naive: local time
        except ValueError:
            return None
    return None
