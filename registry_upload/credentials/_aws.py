"""AWS CodeArtifact: username ``aws``, a 12-hour authorization token.

The token comes from boto3 when it is importable (``registry-upload[aws]``),
else from the AWS CLI::

    aws codeartifact get-authorization-token --domain D --domain-owner O
        --region R --output json

whose JSON answer carries both ``authorizationToken`` and ``expiration``, so
one call gives the token and when to ask again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from ..errors import CredentialError
from ..registries._cloud import CodeArtifactRepository, parse_codeartifact_url
from ._process import DEFAULT_TIMEOUT, json_answer, parse_expiry, run_tool
from ._types import CredentialKind, Credentials, Secret, Skip, Target

__all__ = ["CodeArtifactProvider", "CodeArtifactRepository", "parse_codeartifact_url"]

logger = logging.getLogger(__name__)

DEFAULT_LIFETIME = 12 * 3600.0
_HINT = (
    "Sign in to AWS first (`aws sso login`, or set AWS_PROFILE / AWS_ACCESS_KEY_ID), with "
    "codeartifact:GetAuthorizationToken and sts:GetServiceBearerToken permissions."
)


class CodeArtifactProvider:
    """Answer for CodeArtifact URLs with a token from boto3 or the AWS CLI.

    ``use_boto3``: ``None`` (default) uses boto3 when importable, ``False``
    always runs the CLI.
    """

    name = "aws-codeartifact"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        use_boto3: bool | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._env = env
        self._use_boto3 = use_boto3
        self._timeout = timeout

    def provide(self, target: Target) -> Credentials | None:
        repo = parse_codeartifact_url(target.url)
        if repo is None:
            raise Skip("not an AWS CodeArtifact URL")
        boto3 = self._boto3()
        if boto3 is not None:
            token, expires, how = *self._from_boto3(boto3, repo, target.url), "boto3"
        else:
            token, expires, how = *self._from_cli(repo, target.url), "aws-cli"
        logger.debug("CodeArtifact token for %s/%s from %s", repo.domain, repo.repository, how)
        return Credentials(
            username="aws",
            password=Secret(token),
            source=f"{self.name}:{how}",
            kind=CredentialKind.CLOUD_TOKEN,
            expires_at=expires if expires is not None else time.time() + DEFAULT_LIFETIME,
            details=(("domain", repo.domain), ("owner", repo.owner), ("region", repo.region)),
        )

    def _boto3(self) -> Any:
        if self._use_boto3 is False:
            return None
        try:
            import boto3  # type: ignore[import-not-found,import-untyped,unused-ignore]
        except ImportError:
            return None
        return boto3

    def _from_boto3(
        self, boto3: Any, repo: CodeArtifactRepository, url: str
    ) -> tuple[str, float | None]:
        try:
            client = boto3.client("codeartifact", region_name=repo.region)
            answer = client.get_authorization_token(domain=repo.domain, domainOwner=repo.owner)
        except Exception as exc:  # botocore's NoCredentialsError, ClientError, ...
            raise CredentialError(
                f"boto3 could not get a CodeArtifact token for domain {repo.domain!r}: "
                f"{type(exc).__name__}: {exc}",
                hint=_HINT,
                url=url,
            ) from None
        return _token_and_expiry(answer, url)

    def _from_cli(self, repo: CodeArtifactRepository, url: str) -> tuple[str, float | None]:
        output = run_tool(
            "aws",
            [
                "codeartifact",
                "get-authorization-token",
                "--domain",
                repo.domain,
                "--domain-owner",
                repo.owner,
                "--region",
                repo.region,
                "--output",
                "json",
            ],
            what="aws CLI",
            hint=_HINT,
            env=self._env,
            timeout=self._timeout,
            url=url,
        )
        answer = json_answer(output)
        return _token_and_expiry(answer, url)


def _token_and_expiry(answer: object, url: str) -> tuple[str, float | None]:
    token = answer.get("authorizationToken") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise CredentialError(
            "the CodeArtifact answer had no authorizationToken",
            hint="Check the AWS CLI version (v2 recommended) and that `aws codeartifact "
            "get-authorization-token --output json` works in this shell.",
            url=url,
        )
    expiration: Any = answer.get("expiration") if isinstance(answer, dict) else None
    if hasattr(expiration, "timestamp"):  # boto3 gives a datetime
        return token, float(expiration.timestamp())
    return token, parse_expiry(expiration)
