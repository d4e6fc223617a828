"""Turn a registry's answer into an outcome, or a typed error with a hint.

All registry knowledge is data: :data:`RULES` is a table of (registry,
statuses, text to find, error class, meaning, hint), tried in order; the
first match wins.  Rows come from ``registry-responses.md`` (warehouse
forklift, GitLab ``pypi_packages.rb``, pypiserver, devpi, vendor docs).
Registries change their wording, so texts match case-insensitively as
substrings, and the registry's own message is always shown as well.
"""

from __future__ import annotations

import http
import json
import re
from dataclasses import dataclass

from .credentials._types import CredentialKind
from .errors import (
    AuthenticationError,
    FileExistsOnRegistryError,
    PermissionDeniedError,
    RateLimitedError,
    RedirectError,
    RejectedError,
    RepositoryNotFoundError,
    ServerError,
    UploadError,
)
from .repository import Registry, detect_registry
from .transport import Response

__all__ = ["RULES", "Diagnosis", "Rule", "classify", "server_message"]

ANY = "*"
_PYPIS = (Registry.PYPI, Registry.TESTPYPI)

_TOKEN_HINT = (
    "Use the username __token__ with an API token as the password; "
    "PyPI and TestPyPI tokens are different."
)
_BUMP = "Bump the version and rebuild: a filename can never be uploaded twice with other content."
_ALLOWLIST = (
    "With a CI job token this usually means the source project is not on the target "
    "project's job-token allowlist: in the target project open Settings > CI/CD > "
    "Job token permissions and add the project this pipeline runs in."
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the diagnostics table.

    ``registries``: registry ids it applies to, or ``("*",)``.
    ``statuses``: HTTP statuses, empty for any.  ``text``: lower-case
    substrings of which one must occur in the message (empty: no text needed).
    ``job_token``: the row only applies when the password is a GitLab job token.
    ``exists``: the row means "this filename is already there".
    """

    registries: tuple[str, ...]
    statuses: tuple[int, ...]
    text: tuple[str, ...]
    error: type[UploadError]
    meaning: str
    hint: str | None
    job_token: bool = False
    exists: bool = False

    def matches(self, registry: str, status: int, message: str, kind: CredentialKind) -> bool:
        if ANY not in self.registries and registry not in self.registries:
            return False
        if self.statuses and status not in self.statuses:
            return False
        if self.job_token and kind is not CredentialKind.GITLAB_JOB_TOKEN:
            return False
        return not self.text or any(t in message for t in self.text)


# fmt: off
R = Rule
RULES: tuple[Rule, ...] = (
    # --- PyPI / TestPyPI (warehouse forklift) ---
    R(_PYPIS, (403,), ("invalid or non-existent authentication",), AuthenticationError,
      "the token is wrong, deleted or missing", _TOKEN_HINT),
    R(_PYPIS, (403,), ("username/password authentication is no longer supported",),
      AuthenticationError, "password login is disabled",
      "Use an API token (username __token__) or trusted publishing."),
    R(_PYPIS, (403,), ("project-scoped token is not valid", "token is expired", "expired"),
      AuthenticationError, "the token's scope or lifetime does not cover this upload",
      "Use a token scoped to this project, or a fresh one; trusted-publishing tokens live 900 s."),
    R(_PYPIS, (403,), ("isn't allowed to upload to project",), PermissionDeniedError,
      "the project name belongs to someone else",
      "Check the normalised project name; ask an owner to add you, or rename the project."),
    R(_PYPIS, (403,), ("verified primary email", "two-factor", "2fa"), PermissionDeniedError,
      "the account lacks a prerequisite",
      "Verify the account's primary email address and enable two-factor authentication."),
    R(_PYPIS, (403, 503), ("read-only mode", "temporarily disabled"), ServerError,
      "the index is in read-only mode", "Temporary: try again later."),
    R(_PYPIS, (400, 409), ("file already exists",), FileExistsOnRegistryError,
      "the filename is already used", _BUMP + " Use skip-existing if the file is identical.",
      exists=True),
    R(_PYPIS, (400,), ("previously used by a file that has since been deleted",),
      FileExistsOnRegistryError, "filenames can never be reused", _BUMP),
    R(_PYPIS, (400,), ("only one sdist may be uploaded per release",), RejectedError,
      "the release already has an sdist", "Upload one sdist per release."),
    R(_PYPIS, (429,), ("too many new projects",), RateLimitedError,
      "too many new projects created", "Wait before creating more projects."),
    R(_PYPIS, (400,), ("description failed to render",), RejectedError,
      "the long description does not render",
      "Set Description-Content-Type to match the README and run `registry-upload check`."),
    R(_PYPIS, (400,), ("should be", "start filename for", "unsupported platform tag"),
      RejectedError, "the filename breaks the index's rules",
      "Rebuild with a current build backend; repair Linux wheels with auditwheel."),
    R(_PYPIS, (400,), ("is an invalid value for", "is not a valid metadata version",
                       "local versions", "classifier"),
      RejectedError, "the index rejected the metadata",
      "Fix the metadata and rebuild; upgrading the build backend fixes most cases."),
    # after the filename and metadata rows: "is invalid" also appears in theirs
    R(_PYPIS, (400, 409), ("is invalid", "isn't allowed", "too similar to an existing project",
                           "conflicts with an existing project"),
      RejectedError, "the project name breaks the index's rules", "Pick another project name."),
    R(_PYPIS, (400,), ("file too large", "project size too large"), RejectedError,
      "a size quota was exceeded", "Request a file or project size limit increase from PyPI."),
    R(_PYPIS, (400,), ("digest supplied does not match", "invalid distribution file"),
      RejectedError, "the file arrived corrupt or changed", "Rebuild the file and retry."),
    R(_PYPIS, (400,), ("non-user identities cannot create new projects",), RejectedError,
      "the pending publisher's project name does not match",
      "Make the pending publisher's project name match the distribution name exactly."),
    R(_PYPIS, (405,), (), RepositoryNotFoundError, "that URL does not accept uploads",
      "Use PyPI's upload endpoint (https://upload.pypi.org/legacy/), not the /simple/ URL."),
    R(_PYPIS, (410,), (), RepositoryNotFoundError, "the endpoint is retired",
      "Use PyPI's upload endpoint (https://upload.pypi.org/legacy/)."),
    # --- GitLab ---
    R((Registry.GITLAB,), (403,), ("job token not allowed from", "ci/cd job token not allowed"),
      PermissionDeniedError, "the CI job token may not reach the target project",
      "Add the source project to the target's job-token allowlist: target project > "
      "Settings > CI/CD > Job token permissions."),
    R((Registry.GITLAB,), (403,), ("admin_packages",), PermissionDeniedError,
      "the job-token allowlist entry lacks package permissions",
      "Grant Packages read and write on that allowlist entry (fine-grained job-token policy)."),
    R((Registry.GITLAB,), (404,), (), RepositoryNotFoundError,
      "the project was not found, or the credential cannot see it", _ALLOWLIST, job_token=True),
    R((Registry.GITLAB,), (404,), (), RepositoryNotFoundError,
      "the project was not found, or the credential cannot see it",
      "Check the project id in the URL (URL-encode a path like group%2Fproject) and that the "
      "token can see the project; group URLs are read-only."),
    R((Registry.GITLAB,), (401,), (), AuthenticationError, "credentials missing or wrong",
      "A personal/project/group access token needs the api scope; a deploy token needs "
      "write_package_registry; a CI job token uses the username gitlab-ci-token."),
    R((Registry.GITLAB,), (403,), ("package protected", "protected"), PermissionDeniedError,
      "a package protection rule blocks this upload",
      "Adjust the project's package protection rules or use a role allowed to push."),
    R((Registry.GITLAB,), (403,), (), PermissionDeniedError, "the role is too low to publish",
      "Publishing needs the Developer role or higher on the target project."),
    R((Registry.GITLAB,), (400, 409), ("has already been taken",), FileExistsOnRegistryError,
      "that file already exists in this version", _BUMP, exists=True),
    R((Registry.GITLAB,), (400, 413), ("too large",), RejectedError, "the file is too large",
      "Ask the instance administrator for a larger package size limit."),
    R((Registry.GITLAB,), (422,), (), RejectedError, "the upload form is incomplete",
      "The sha256 digest is required on FIPS instances; registry_upload always sends it."),
    # --- Artifactory, Nexus, Azure, Google, CodeArtifact ---
    R((Registry.ARTIFACTORY,), (403,), ("delete/overwrite", "overwrite artifact"),
      FileExistsOnRegistryError, "the file exists and may not be overwritten",
      _BUMP + " (or grant the Delete permission)", exists=True),
    R((Registry.ARTIFACTORY,), (401,), (), AuthenticationError, "credentials rejected",
      "With an access token the username must be the user the token was issued to."),
    R((Registry.NEXUS,), (400,), ("does not allow updating assets", "cannot be updated"),
      FileExistsOnRegistryError, "the repository does not allow redeploying a file", _BUMP,
      exists=True),
    R((Registry.AZURE,), (409,), ("already contains file", "already exists"),
      FileExistsOnRegistryError, "the feed already has this file",
      _BUMP + " Azure feeds are immutable.", exists=True),
    R((Registry.AZURE,), (404, 405), (), RepositoryNotFoundError, "not the upload URL",
      "Azure upload URLs end in /pypi/upload/, not /simple/."),
    R((Registry.GOOGLE,), (400, 409), ("already exist",), FileExistsOnRegistryError,
      "the file already exists", _BUMP, exists=True),
    R((Registry.GOOGLE,), (401, 403), (), AuthenticationError, "credentials rejected",
      "Use the username oauth2accesstoken with `gcloud auth print-access-token`, or "
      "_json_key_base64 with a base64 service-account key."),
    R((Registry.CODEARTIFACT,), (401, 403), (), AuthenticationError, "credentials rejected",
      "Use the username aws and a fresh token from `aws codeartifact get-authorization-token` "
      "(they expire after 12 hours by default)."),
    # --- pypiserver ---
    R((Registry.PYPISERVER,), (400, 409), ("already exists",), FileExistsOnRegistryError,
      "the file already exists (the server runs without --overwrite)", _BUMP, exists=True),
    R((Registry.PYPISERVER,), (401,), (), AuthenticationError, "credentials are required",
      "Pass a username and password that are in the server's htpasswd file."),
    R((Registry.PYPISERVER,), (403,), (), AuthenticationError, "the credentials were rejected",
      "Check the username and password against the server's htpasswd file."),
    # --- devpi ---
    R((Registry.DEVPI,), (409,), ("already exists",), FileExistsOnRegistryError,
      "the file already exists in a non-volatile index", _BUMP, exists=True),
    R((Registry.DEVPI,), (404,), ("cannot submit to mirror", "mirror"), RepositoryNotFoundError,
      "the index is a mirror", "Upload to a stage index (user/index), not to root/pypi."),
    R((Registry.DEVPI,), (401, 403), (), AuthenticationError,
      "no permission to submit to this index",
      "Log in with a user in the index's acl_upload (devpi-client: devpi login)."),
    R((Registry.DEVPI,), (404,), (), RepositoryNotFoundError, "no such index",
      "Check the user/index part of the URL."),
    # --- any registry ---
    R((ANY,), (409,), ("exist",), FileExistsOnRegistryError, "the file already exists", _BUMP,
      exists=True),
    R((ANY,), (400, 403), ("already exist", "file exists"), FileExistsOnRegistryError,
      "the file already exists", _BUMP, exists=True),
    R((ANY,), (301, 302, 303, 307, 308), (), RedirectError, "the upload was redirected",
      None),
    R((ANY,), (401,), (), AuthenticationError, "credentials missing or rejected",
      "Check the username and password (or token) for this repository."),
    R((ANY,), (403,), (), AuthenticationError, "the registry refused the credentials",
      "Check the credentials and that they may upload to this repository."),
    R((ANY,), (404,), (), RepositoryNotFoundError, "nothing accepts uploads at this URL",
      "Check the repository URL: it must be the upload endpoint, not the simple index."),
    R((ANY,), (405,), (), RepositoryNotFoundError, "this URL does not accept uploads",
      "Check the repository URL: it must be the upload endpoint, not the simple index."),
    R((ANY,), (413,), (), RejectedError, "the request is too large for the server",
      "The registry (or a proxy before it) limits upload size; ask its administrator."),
    R((ANY,), (500, 502, 503, 504), (), ServerError, "the registry failed or is unavailable",
      "Usually temporary: try again later (the retry budget is already spent)."),
    R((ANY,), (429,), (), RateLimitedError, "rate limited",
      "Wait and try again later, or upload fewer files at a time (--jobs)."),
    R((ANY,), (), (), RejectedError, "the registry rejected the upload", None),
)
del R
# fmt: on


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The classification of one non-success answer."""

    error: UploadError
    registry: str
    exists: bool = False


def server_message(response: Response) -> str:
    """The registry's own words: JSON message, readable body text, or reason phrase."""
    text = response.text().strip()
    message = ""
    ctype = response.header("content-type") or ""
    if text and ("json" in ctype or text[:1] in "{["):
        message = _json_message(text)
    if not message and text:
        if "<" in text and ">" in text:
            import html

            text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", text)
            text = html.unescape(re.sub(r"<[^>]+>", " ", text))
        message = " ".join(text.split())
    reason = response.reason.strip()
    standard = _standard_phrase(response.status)
    if reason and reason.lower() != standard.lower() and reason.lower() not in message.lower():
        # warehouse puts its message in the reason phrase (absent over HTTP/2).
        message = f"{reason} {message}".strip() if message else reason
    if not message:
        message = f"{response.status} {reason or standard}".strip()
    return message[:2000]


def _json_message(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    if isinstance(data, dict):
        parts = []
        for key in ("message", "error", "detail", "title", "errors"):
            value = data.get(key)
            if isinstance(value, str) and value:
                parts.append(value)
            elif isinstance(value, list | dict) and value:
                parts.append(json.dumps(value, ensure_ascii=False))
        return " ".join(dict.fromkeys(parts))
    return ""


def _standard_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def classify(
    response: Response,
    *,
    url: str,
    filename: str,
    registry: str | None = None,
    credential_kind: CredentialKind = CredentialKind.PASSWORD,
) -> Diagnosis:
    """Classify a non-2xx answer (2xx is success and never reaches here)."""
    registry = registry if registry and registry != Registry.UNKNOWN else None
    registry = registry or detect_registry(url, response.headers)
    message = server_message(response)
    lowered = message.lower()
    status = response.status
    rule = next(r for r in RULES if r.matches(registry, status, lowered, credential_kind))
    summary = f"{filename}: {registry} answered {status}: {rule.meaning}"
    fields = {
        "status": status,
        "url": url,
        "registry": registry,
        "server_message": message,
        "hint": rule.hint,
    }
    if rule.error is RedirectError:
        location = response.header("location") or ""
        hint = (
            f"Use the URL with the trailing slash: {location}"
            if location and location.rstrip("/") == url.rstrip("/")
            else f"The registry moved the endpoint to {location or '(no Location given)'}; "
            "use that URL if you trust it."
        )
        error: UploadError = RedirectError(
            f"{summary} to {location or '(no Location given)'}; a redirected upload is "
            "never followed",
            location=location or None,
            **{**fields, "hint": hint},
        )
    else:
        error = rule.error(f"{summary}: {message}", **fields)  # type: ignore[arg-type]
    return Diagnosis(error=error, registry=registry, exists=rule.exists)
