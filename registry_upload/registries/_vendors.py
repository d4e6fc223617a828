"""Artifactory, Nexus, Azure Artifacts, Google Artifact Registry, AWS CodeArtifact.

Rows from each vendor's documentation and its users' reports; the wording
changes between versions, so texts match as lower-case substrings.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult

from ..errors import (
    AuthenticationError,
    FileExistsOnRegistryError,
    RepositoryNotFoundError,
)
from ._hints import BUMP, SAME_FILE
from ._model import Profile, Rule, beside_upload_url

__all__ = ["ARTIFACTORY", "AZURE", "CODEARTIFACT", "GOOGLE", "NEXUS"]

# fmt: off
R = Rule
ARTIFACTORY = Profile(
    id="artifactory",
    title="JFrog Artifactory",
    urls=((None, r"/artifactory/api/pypi/[^/]+"),),
    headers=(("x-artifactory-id", None), ("x-jfrog-version", None), ("server", r"artifactory")),
    rules=(
        R((403,), ("delete/overwrite", "overwrite artifact"), FileExistsOnRegistryError,
          "the file exists and may not be overwritten",
          BUMP + " (or grant the Delete/Overwrite permission)" + SAME_FILE, exists=True),
        R((401,), (), AuthenticationError, "credentials rejected",
          "With an access token the username must be the user the token was issued to."),
        # Artifactory hides repositories from users who may not see them.
        R((404,), (), RepositoryNotFoundError,
          "no such repository, or the credentials may not see it",
          "Artifactory answers 404 to users without read access: check the repository key in "
          "the URL, then the credentials and the user's permissions on that repository."),
    ),
)

NEXUS = Profile(
    id="nexus",
    title="Sonatype Nexus",
    urls=((None, r"^/repository/[^/]+/?$"),),
    headers=(("server", r"nexus"),),
    rules=(
        R((400,), ("does not allow updating assets", "cannot be updated"),
          FileExistsOnRegistryError, "the repository does not allow redeploying a file",
          BUMP + SAME_FILE, exists=True),
    ),
)


def _azure_index(parts: SplitResult) -> str:
    path = re.sub(r"/upload/?$", "", parts.path.rstrip("/"))
    return f"{parts.scheme}://{parts.netloc}{path}/simple/"


AZURE = Profile(
    id="azure-artifacts",
    title="Azure Artifacts",
    urls=((r"^pkgs\.dev\.azure\.com$|\.pkgs\.visualstudio\.com$", r"/_packaging/"),),
    headers=(("x-vss-e2eid", None), ("x-tfs-session", None)),
    index_url=_azure_index,
    rules=(
        R((409,), ("already contains file", "already exists", "packagealreadyexistsexception"),
          FileExistsOnRegistryError, "the feed already has this file",
          BUMP + " Azure feeds are immutable." + SAME_FILE, exists=True),
        R((404, 405), (), RepositoryNotFoundError, "not the upload URL",
          "Azure upload URLs end in /pypi/upload/, not /simple/."),
    ),
)

GOOGLE = Profile(
    id="google-artifact-registry",
    title="Google Artifact Registry",
    urls=((r"-python\.pkg\.dev$", None),),
    rules=(
        R((400, 409), ("already exist",), FileExistsOnRegistryError,
          "the file already exists", BUMP + SAME_FILE, exists=True),
        R((401, 403), (), AuthenticationError, "credentials rejected",
          "Use the username oauth2accesstoken with `gcloud auth print-access-token`, or "
          "_json_key_base64 with a base64 service-account key."),
    ),
)

CODEARTIFACT = Profile(
    id="aws-codeartifact",
    title="AWS CodeArtifact",
    urls=((r"\.codeartifact\.[a-z0-9-]+\.amazonaws\.com$", None),),
    index_url=beside_upload_url,
    rules=(
        R((401, 403), (), AuthenticationError, "credentials rejected",
          "Use the username aws and a fresh token from `aws codeartifact "
          "get-authorization-token` (they expire after 12 hours by default)."),
    ),
)
del R
# fmt: on
