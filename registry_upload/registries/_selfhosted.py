"""devpi and pypiserver: the self-hosted registries the test suite runs for real.

Neither is recognisable from its URL; both give themselves away in headers
or on the upload URL's own page.
"""

from __future__ import annotations

from urllib.parse import SplitResult

from ..errors import (
    AuthenticationError,
    FileExistsOnRegistryError,
    PermissionDeniedError,
    RepositoryNotFoundError,
)
from ._hints import BUMP, SAME_FILE
from ._model import Profile, Rule

__all__ = ["DEVPI", "PYPISERVER"]


def _devpi_index(parts: SplitResult) -> str:
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/+simple/"


# fmt: off
R = Rule
DEVPI = Profile(
    id="devpi",
    title="devpi",
    headers=(("x-devpi-api-version", None), ("x-devpi-server-version", None)),
    page=r"devpi",
    index_url=_devpi_index,
    rules=(
        R((409,), ("already exists",), FileExistsOnRegistryError,
          "the file already exists in a non-volatile index", BUMP + SAME_FILE, exists=True),
        R((404,), ("cannot submit to mirror", "mirror"), RepositoryNotFoundError,
          "the index is a mirror", "Upload to a stage index (user/index), not to root/pypi."),
        R((401,), (), AuthenticationError, "the credentials were rejected",
          "Check the user name and password (devpi-client: devpi login USER)."),
        R((403,), (), PermissionDeniedError, "no permission to submit to this index",
          "Log in as a user in the index's acl_upload, or ask its owner to add you "
          "(devpi index USER/INDEX acl_upload+=YOU)."),
        R((404,), (), RepositoryNotFoundError, "no such index",
          "Check the user/index part of the URL."),
    ),
)

PYPISERVER = Profile(
    id="pypiserver",
    title="pypiserver",
    headers=(("www-authenticate", r'realm="pypi"'),),
    page=r"pypiserver|--overwrite",
    rules=(
        R((400, 409), ("already exists",), FileExistsOnRegistryError,
          "the file already exists (the server runs without --overwrite)", BUMP + SAME_FILE,
          exists=True),
        R((401,), (), AuthenticationError, "credentials are required",
          "Pass a username and password that are in the server's htpasswd file."),
        R((403,), (), AuthenticationError, "the credentials were rejected",
          "Check the username and password against the server's htpasswd file."),
    ),
)
del R
# fmt: on
