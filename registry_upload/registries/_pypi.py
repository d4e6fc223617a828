"""PyPI and TestPyPI (warehouse), and any other warehouse instance.

Rows from warehouse ``forklift/legacy.py``: warehouse answers in the HTTP
reason phrase (and the body), 400 for bad files and metadata, 403 for
credentials and rights.
"""

from __future__ import annotations

from urllib.parse import SplitResult

from ..errors import (
    AuthenticationError,
    FileExistsOnRegistryError,
    PermissionDeniedError,
    RateLimitedError,
    RejectedError,
    RepositoryNotFoundError,
    ServerError,
)
from ._hints import BUMP, SAME_FILE
from ._model import Profile, Rule

__all__ = ["PYPI", "TESTPYPI", "TEST_UPLOAD_URL", "UPLOAD_URL", "warehouse_site"]

UPLOAD_URL = "https://upload.pypi.org/legacy/"
TEST_UPLOAD_URL = "https://test.pypi.org/legacy/"

_TOKEN = (
    "Use the username __token__ with an API token as the password; "
    "PyPI and TestPyPI tokens are different."
)
_UPLOAD_ENDPOINT = "Use PyPI's upload endpoint (https://upload.pypi.org/legacy/)"


#: Upload host -> the site that serves its index and trusted publishing (/_/oidc/).
_SITES = {"upload.pypi.org": "https://pypi.org", "test.pypi.org": "https://test.pypi.org"}


def warehouse_site(upload_host: str) -> str | None:
    """PyPI's or TestPyPI's site for an upload host (``None`` for any other host)."""
    return _SITES.get(upload_host.lower())


def _index_url(parts: SplitResult) -> str:
    host = "pypi.org" if parts.hostname == "upload.pypi.org" else parts.netloc
    return f"{parts.scheme}://{host}/simple/"


#: Inspection warnings that warehouse turns into a 400: the never-standardised
#: Metadata-Version 2.0, a non-PEP 625 sdist filename ("should be ..."), and a
#: local version label.
_REFUSES = frozenset({"metadata-version-2.0", "sdist-filename-not-normalized", "local-version"})

# fmt: off
R = Rule
RULES = (
    R((403,), ("invalid or non-existent authentication",), AuthenticationError,
      "the token is wrong, deleted or missing", _TOKEN),
    R((403,), ("username/password authentication is no longer supported",),
      AuthenticationError, "password login is disabled",
      "Use an API token (username __token__) or trusted publishing."),
    R((403,), ("project-scoped token is not valid", "token is expired", "expired"),
      AuthenticationError, "the token's scope or lifetime does not cover this upload",
      "Use a token scoped to this project, or a fresh one; trusted-publishing tokens live 900 s."),
    R((403,), ("isn't allowed to upload to project",), PermissionDeniedError,
      "the project name belongs to someone else",
      "Check the normalised project name; ask an owner to add you, or rename the project."),
    R((403,), ("verified primary email", "two-factor", "2fa"), PermissionDeniedError,
      "the account lacks a prerequisite",
      "Verify the account's primary email address and enable two-factor authentication."),
    R((403, 503), ("read-only mode", "temporarily disabled"), ServerError,
      "the index is in read-only mode", "Temporary: try again later."),
    R((400, 409), ("file already exists",), FileExistsOnRegistryError,
      "the filename is already used", BUMP + SAME_FILE, exists=True),
    R((400,), ("previously used by a file that has since been deleted",),
      FileExistsOnRegistryError, "filenames can never be reused", BUMP),
    R((400,), ("only one sdist may be uploaded per release",), RejectedError,
      "the release already has an sdist", "Upload one sdist per release."),
    # Releases close to new files some days after they are created.
    R((400,), ("release is closed", "release has been closed", "older than", "no longer accepting"),
      RejectedError, "the release no longer accepts new files",
      "Files can only be added to a recent release: publish the missing files as a new version "
      "(a post-release such as 1.0.post1)."),
    R((429,), ("too many new projects",), RateLimitedError,
      "too many new projects created in a short time",
      "Wait (about an hour) before creating more projects, or create them one at a time."),
    R((400,), ("description failed to render",), RejectedError,
      "the long description does not render",
      "Set Description-Content-Type to match the README and run `registry-upload check`."),
    R((400,), ("should be", "start filename for", "unsupported platform tag"),
      RejectedError, "the filename breaks the index's rules",
      "Rebuild with a current build backend; repair Linux wheels with auditwheel."),
    R((400,), ("is an invalid value for", "is not a valid metadata version",
               "local versions", "classifier"),
      RejectedError, "the index rejected the metadata",
      "Fix the metadata and rebuild; upgrading the build backend fixes most cases."),
    # after the filename and metadata rows: "is invalid" also appears in theirs
    R((400, 409), ("is invalid", "isn't allowed", "too similar to an existing project",
                   "conflicts with an existing project"),
      RejectedError, "the project name breaks the index's rules", "Pick another project name."),
    R((400,), ("file too large", "project size too large"), RejectedError,
      "a size quota was exceeded",
      "PyPI limits file and project size: request a higher limit for this project on PyPI's "
      "support tracker (https://github.com/pypi/support, 'File size limit request' or "
      "'Project size limit request'), or shrink the file."),
    R((400,), ("digest supplied does not match", "invalid distribution file"),
      RejectedError, "the file arrived corrupt or changed", "Rebuild the file and retry."),
    R((400,), ("non-user identities cannot create new projects",), RejectedError,
      "the pending publisher's project name does not match",
      "Make the pending publisher's project name match the distribution name exactly."),
    R((405,), (), RepositoryNotFoundError, "that URL does not accept uploads",
      _UPLOAD_ENDPOINT + ", not the /simple/ URL."),
    R((410,), (), RepositoryNotFoundError, "the endpoint is retired", _UPLOAD_ENDPOINT + "."),
)
del R
# fmt: on

PYPI = Profile(
    id="pypi",
    title="PyPI",
    urls=((r"^upload\.pypi\.org$|^pypi\.org$", None),),
    # Any other warehouse instance (self-hosted, staging) uploads to /legacy/.
    fallback_urls=((None, r"^/legacy/?$"),),
    index_url=_index_url,
    rules=RULES,
    refuses=_REFUSES,
)

TESTPYPI = Profile(
    id="testpypi",
    title="TestPyPI",
    urls=((r"^test\.pypi\.org$", None),),
    index_url=_index_url,
    rules=RULES,
    refuses=_REFUSES,
)
