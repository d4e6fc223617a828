"""Rows for any registry, tried after the registry's own rows; the unknown registry."""

from __future__ import annotations

from ..errors import (
    AuthenticationError,
    FileExistsOnRegistryError,
    RateLimitedError,
    RedirectError,
    RejectedError,
    RepositoryNotFoundError,
    ServerError,
)
from ._hints import BUMP, SAME_FILE, UPLOAD_ENDPOINT
from ._model import Profile, Rule

__all__ = ["GENERIC_RULES", "UNKNOWN"]

# fmt: off
R = Rule
GENERIC_RULES = (
    R((409,), ("exist",), FileExistsOnRegistryError, "the file already exists",
      BUMP + SAME_FILE, exists=True),
    R((400, 403), ("already exist", "file exists"), FileExistsOnRegistryError,
      "the file already exists", BUMP + SAME_FILE, exists=True),
    R((301, 302, 303, 307, 308), (), RedirectError, "the upload was redirected", None),
    R((401,), (), AuthenticationError, "credentials missing or rejected",
      "Check the username and password (or token) for this repository."),
    R((403,), (), AuthenticationError, "the registry refused the credentials",
      "Check the credentials and that they may upload to this repository."),
    R((404,), (), RepositoryNotFoundError, "nothing accepts uploads at this URL",
      UPLOAD_ENDPOINT),
    R((405,), (), RepositoryNotFoundError, "this URL does not accept uploads", UPLOAD_ENDPOINT),
    R((413,), (), RejectedError, "the request is too large for the server",
      "The registry (or a proxy before it) limits upload size; ask its administrator."),
    R((500, 502, 503, 504), (), ServerError, "the registry failed or is unavailable",
      "Usually temporary: try again later (the retry budget is already spent)."),
    R((429,), (), RateLimitedError, "rate limited",
      "Wait and try again later, or upload fewer files at a time (--jobs)."),
    R((), (), RejectedError, "the registry rejected the upload", None),
)
del R
# fmt: on

UNKNOWN = Profile(id="unknown", title="an unrecognised registry")
