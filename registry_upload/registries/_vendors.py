"""JFrog Artifactory and Sonatype Nexus.

Rows from each vendor's documentation and its users' reports; the wording
changes between versions, so texts match as lower-case substrings.
"""

from __future__ import annotations

from ..errors import (
    AuthenticationError,
    FileExistsOnRegistryError,
    RepositoryNotFoundError,
)
from ._hints import BUMP, SAME_FILE
from ._model import Profile, Rule

__all__ = ["ARTIFACTORY", "NEXUS"]

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


del R
# fmt: on
