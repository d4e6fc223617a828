"""GitLab CI job token: ``gitlab-ci-token`` + ``$CI_JOB_TOKEN`` for that instance's registry."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from ..registries._gitlab import is_project_registry_path
from ._types import CredentialKind, Credentials, Secret, Skip, Target

__all__ = ["GitLabJobTokenProvider"]


def _origin(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port, parts.path.rstrip("/"))


class GitLabJobTokenProvider:
    """Inside GitLab CI, answer for project package registries on the same instance.

    The credentials are marked :attr:`CredentialKind.GITLAB_JOB_TOKEN`, so a
    404/403 can be explained (the job-token allowlist).
    """

    name = "gitlab-ci-job-token"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = env

    def provide(self, target: Target) -> Credentials | None:
        env = os.environ if self._env is None else self._env
        if env.get("GITLAB_CI") != "true":
            raise Skip("not running in GitLab CI (GITLAB_CI is not 'true')")
        token = env.get("CI_JOB_TOKEN")
        server = env.get("CI_SERVER_URL")
        if not token or not server:
            raise Skip("CI_JOB_TOKEN or CI_SERVER_URL is not set")
        scheme, host, port, prefix = _origin(server)
        t_scheme, t_host, t_port, t_path = _origin(target.url)
        if (scheme, host, port) != (t_scheme, t_host, t_port) or not t_path.startswith(prefix):
            raise Skip(f"{target.url} is not on this job's GitLab instance ({server})")
        if not is_project_registry_path(t_path):
            raise Skip(f"{target.url} is not a project package registry URL")
        return Credentials(
            username="gitlab-ci-token",
            password=Secret(token),
            source=self.name,
            kind=CredentialKind.GITLAB_JOB_TOKEN,
        )
