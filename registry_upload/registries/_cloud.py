"""The cloud registries: AWS CodeArtifact, Google Artifact Registry, Azure Artifacts.

Each URL names what its credential provider needs (a CodeArtifact domain,
owner and region; a Google project; an Azure organisation and feed), so the
parsers live here beside the profiles, and ``credentials`` asks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from ..errors import AuthenticationError, FileExistsOnRegistryError, RepositoryNotFoundError
from ._hints import BUMP, SAME_FILE
from ._model import Profile, Rule

__all__ = [
    "AZURE",
    "CODEARTIFACT",
    "GOOGLE",
    "ArtifactRegistryRepository",
    "AzureArtifactsFeed",
    "CodeArtifactRepository",
    "parse_artifact_registry_url",
    "parse_azure_artifacts_url",
    "parse_codeartifact_url",
]

# -- AWS CodeArtifact ------------------------------------------------------------

_CA_HOST = re.compile(
    r"^(?P<domain>[a-z0-9][a-z0-9-]*)-(?P<owner>\d{12})"
    r"\.d\.codeartifact\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$"
)
_CA_PATH = re.compile(r"^/pypi/(?P<repository>[^/]+)(?:/.*)?$")


@dataclass(frozen=True, slots=True)
class CodeArtifactRepository:
    """The parts of a CodeArtifact repository URL."""

    domain: str
    owner: str
    region: str
    repository: str


def parse_codeartifact_url(url: str) -> CodeArtifactRepository | None:
    """``https://<domain>-<owner>.d.codeartifact.<region>.amazonaws.com/pypi/<repo>/``."""
    parts = urlsplit(url)
    host = _CA_HOST.match((parts.hostname or "").lower())
    path = _CA_PATH.match(parts.path)
    if host is None or path is None:
        return None
    return CodeArtifactRepository(
        domain=host["domain"],
        owner=host["owner"],
        region=host["region"],
        repository=path["repository"],
    )


# -- Google Artifact Registry ----------------------------------------------------

_AR_HOST = re.compile(r"^(?P<location>[a-z0-9-]+)-python\.pkg\.dev$")
_AR_PATH = re.compile(r"^/(?P<project>[^/]+)/(?P<repository>[^/]+)(?:/.*)?$")


@dataclass(frozen=True, slots=True)
class ArtifactRegistryRepository:
    """The parts of an Artifact Registry Python repository URL."""

    location: str
    project: str
    repository: str


def parse_artifact_registry_url(url: str) -> ArtifactRegistryRepository | None:
    """``https://<location>-python.pkg.dev/<project>/<repository>/``."""
    parts = urlsplit(url)
    host = _AR_HOST.match((parts.hostname or "").lower())
    path = _AR_PATH.match(parts.path)
    if host is None or path is None:
        return None
    return ArtifactRegistryRepository(
        location=host["location"], project=path["project"], repository=path["repository"]
    )


# -- Azure Artifacts --------------------------------------------------------------

_AZ_PATH = re.compile(
    r"^/(?:(?P<org>[^/]+)/)?(?:(?P<project>[^/_][^/]*)/)?_packaging/(?P<feed>[^/]+)(?:/.*)?$"
)
_VS_HOST = re.compile(r"^(?P<org>[a-z0-9][a-z0-9-]*)\.pkgs\.visualstudio\.com$")


@dataclass(frozen=True, slots=True)
class AzureArtifactsFeed:
    """The parts of an Azure Artifacts feed URL (``project`` is None for org feeds)."""

    organization: str
    project: str | None
    feed: str


def parse_azure_artifacts_url(url: str) -> AzureArtifactsFeed | None:
    """``pkgs.dev.azure.com/<org>/[<project>/]_packaging/<feed>/...`` or
    ``<org>.pkgs.visualstudio.com/[<project>/]_packaging/<feed>/...``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = _AZ_PATH.match(parts.path)
    if path is None:
        return None
    if host == "pkgs.dev.azure.com":
        if not path["org"]:
            return None
        return AzureArtifactsFeed(path["org"], path["project"], path["feed"])
    vs = _VS_HOST.match(host)
    if vs is None:
        return None
    # On <org>.pkgs.visualstudio.com the first segment, if any, is the project.
    project = path["project"] or path["org"]
    return AzureArtifactsFeed(vs["org"], project, path["feed"])


# -- the profiles ---------------------------------------------------------------------

# fmt: off
R = Rule
def _azure_index(parts: SplitResult) -> str:
    path = re.sub(r"/upload/?$", "", parts.path.rstrip("/"))
    return f"{parts.scheme}://{parts.netloc}{path}/simple/"


AZURE = Profile(
    id="azure-artifacts",
    title="Azure Artifacts",
    urls=((r"^pkgs\.dev\.azure\.com$", _AZ_PATH.pattern), (_VS_HOST.pattern, _AZ_PATH.pattern)),
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
    urls=((_AR_HOST.pattern, None),),
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
    # Any CodeArtifact host is recognised; only well-formed ones can be parsed for a token.
    urls=((r"\.codeartifact\.[a-z0-9-]+\.amazonaws\.com$", None),),
        rules=(
        R((401, 403), (), AuthenticationError, "credentials rejected",
          "Use the username aws and a fresh token from `aws codeartifact "
          "get-authorization-token` (they expire after 12 hours by default)."),
    ),
)
del R
# fmt: on
