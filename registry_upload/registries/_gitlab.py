"""GitLab's project package registry (``lib/api/pypi_packages.rb``).

GitLab answers a bare 404 when a CI job token may not see the target
project: the founding case for the diagnostics table.
"""

from __future__ import annotations

import re

from ..errors import (
    AuthenticationError,
    FileExistsOnRegistryError,
    PermissionDeniedError,
    RejectedError,
    RepositoryNotFoundError,
)
from ._hints import BUMP, SAME_FILE
from ._model import Profile, Rule

__all__ = ["GITLAB", "PACKAGES_PATH", "is_project_registry_path"]

#: The upload path of a project's PyPI package registry.
PACKAGES_PATH = r"/api/v4/projects/[^/]+/packages/pypi/?$"

_ALLOWLIST = (
    "With a CI job token this usually means the source project is not on the target "
    "project's job-token allowlist: in the target project open Settings > CI/CD > "
    "Job token permissions and add the project this pipeline runs in."
)


def is_project_registry_path(path: str) -> bool:
    return re.search(PACKAGES_PATH, path) is not None


# fmt: off
R = Rule
RULES = (
    R((403,), ("job token not allowed from", "ci/cd job token not allowed"),
      PermissionDeniedError, "the CI job token may not reach the target project",
      "Add the source project to the target's job-token allowlist: target project > "
      "Settings > CI/CD > Job token permissions."),
    R((403,), ("admin_packages",), PermissionDeniedError,
      "the job-token allowlist entry lacks package permissions",
      "Grant Packages read and write on that allowlist entry (fine-grained job-token policy)."),
    R((404,), (), RepositoryNotFoundError,
      "the project was not found, or the credential cannot see it", _ALLOWLIST, job_token=True),
    R((404,), (), RepositoryNotFoundError,
      "the project was not found, or the credential cannot see it",
      "Check the project id in the URL (URL-encode a path like group%2Fproject) and that the "
      "token can see the project; group URLs are read-only."),
    R((401,), (), AuthenticationError, "credentials missing or wrong",
      "A personal/project/group access token needs the api scope; a deploy token needs "
      "write_package_registry; a CI job token uses the username gitlab-ci-token."),
    R((403,), ("package protected", "protected"), PermissionDeniedError,
      "a package protection rule blocks this upload",
      "Adjust the project's package protection rules or use a role allowed to push."),
    R((403,), (), PermissionDeniedError, "the role is too low to publish",
      "Publishing needs the Developer role or higher on the target project."),
    R((400, 409), ("has already been taken",), FileExistsOnRegistryError,
      "that file already exists in this version", BUMP + SAME_FILE, exists=True),
    R((400, 413), ("too large",), RejectedError, "the file is too large",
      "Ask the instance administrator for a larger package size limit."),
    R((422,), (), RejectedError, "the upload form is incomplete",
      "The sha256 digest is required on FIPS instances; registry_upload always sends it."),
)
del R
# fmt: on

GITLAB = Profile(
    id="gitlab",
    title="GitLab",
    urls=((None, PACKAGES_PATH),),
    headers=(("x-gitlab-meta", None), ("www-authenticate", r"gitlab")),
    rules=RULES,
)
