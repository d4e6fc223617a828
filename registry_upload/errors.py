"""The exception tree of registry_upload.

Every error the library raises on purpose derives from one root, so a caller
can catch everything with a single ``except RegistryUploadError``::

    RegistryUploadError                  root; .hint, .path, .url, .registry, .status
    ├── DistributionError                a file on disk cannot be uploaded
    │   ├── UnsupportedDistributionError   not a wheel or an sdist, missing, unreadable
    │   ├── InvalidDistributionError       corrupt or unsafe archive, metadata missing
    │   └── InvalidMetadataError           core metadata invalid
    │      (every DistributionError: .problems, one Finding per problem)
    ├── CredentialError                  no usable username/password
    │   ├── NoCredentialsError             no provider answered
    │   ├── InsecureTransportError         credentials over plain http to a remote host
    │   └── TrustedPublishingError         OIDC token exchange failed: .code, .claims
    ├── ConfigurationError               bad .pypirc, unknown repository name, bad option
    ├── UploadError                      the registry or the network said no
    │   ├── TransportError                 connection, TLS, timeout (no HTTP status)
    │   ├── RedirectError                  the POST was redirected: .location
    │   ├── AuthenticationError            401 / 403 on credentials
    │   ├── PermissionDeniedError          403 for rights, policy or allowlist
    │   ├── RepositoryNotFoundError        404: wrong URL, or the credential cannot see it
    │   ├── FileExistsOnRegistryError      the filename is taken by other bytes
    │   ├── RejectedError                  400 / 422: metadata, filename, size rules
    │   ├── RateLimitedError               429 after the retry budget
    │   ├── ServerError                    5xx after the retry budget
    │   └── UploadFailedError              one or more files of a batch failed: .report

    KeyboardInterrupt
    └── UploadInterrupted                Ctrl-C stopped a batch: .report (not an error)

Constructors take the message positionally and every structured field by
keyword.  ``str(error)`` is the message on one line (a log record stays one
record); the hint is the ``hint`` attribute, which the CLI prints on a line
of its own.  Every text an error carries is passed through the secret
redactor and made safe for a terminal when the error is built (control
characters become spaces, invisible ones are dropped, and every field but a
``DistributionError``'s message list is one line), so a registry that echoes
a token or sends escape sequences cannot make an error show them.  Errors
survive a pickle round trip (a process pool), ``report`` included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._redact import shown

if TYPE_CHECKING:
    from .results import Finding, UploadReport

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "CredentialError",
    "DistributionError",
    "FileExistsOnRegistryError",
    "InsecureTransportError",
    "InvalidDistributionError",
    "InvalidMetadataError",
    "NoCredentialsError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RedirectError",
    "RegistryUploadError",
    "RejectedError",
    "RepositoryNotFoundError",
    "ServerError",
    "TransportError",
    "TrustedPublishingError",
    "UnsupportedDistributionError",
    "UploadError",
    "UploadFailedError",
    "UploadInterrupted",
]


def _shown_or_none(text: str | None) -> str | None:
    return shown(text) if text else text


def _one_line(message: str) -> str:
    """A message whose further lines list items (``"  - item"``) as one line."""
    first, *rest = message.split("\n")
    items = [line.strip().removeprefix("- ") for line in rest if line.strip()]
    if not items:
        return first
    return f"{first.rstrip(':')}: {'; '.join(items)}"


def _restore(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Unpickle an error without running its constructor (the state is already safe)."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class RegistryUploadError(Exception):
    """Root of every error raised by registry_upload."""

    #: Whether ``message`` may hold line breaks (a list of problems under a summary).
    multiline_message = False

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: str | None = None,
        url: str | None = None,
        registry: str | None = None,
        status: int | None = None,
    ) -> None:
        message = shown(message, multiline=self.multiline_message)
        super().__init__(message)
        self.message = message
        self.hint = _shown_or_none(hint)
        self.path = path
        self.url = _shown_or_none(url)
        self.registry = registry
        self.status = status

    def __str__(self) -> str:
        return _one_line(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: class name, message and the structured fields."""
        data: dict[str, Any] = {"type": type(self).__name__, "message": self.message}
        for key in ("hint", "path", "url", "registry", "status"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


# --- distributions -----------------------------------------------------------


class DistributionError(RegistryUploadError):
    """A file on disk cannot be uploaded as it is.

    ``problems`` holds one :class:`~registry_upload.results.Finding` (severity
    ERROR, each with an explicit ``code``) per problem found, so a caller sees
    every problem of the file at once.
    """

    multiline_message = True

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[Finding] = (),
        hint: str | None = None,
        path: str | None = None,
    ) -> None:
        self.problems = tuple(problems)
        if len(self.problems) > 1:
            message = message + "".join(f"\n  - {_problem_line(p)}" for p in self.problems)
        super().__init__(message, hint=hint, path=path)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if self.problems:
            data["problems"] = [p.to_dict() for p in self.problems]
        return data


def _problem_line(problem: Finding) -> str:
    return f"{problem.field}: {problem.message}" if problem.field else problem.message


class UnsupportedDistributionError(DistributionError):
    """The path is not a wheel or sdist (wrong extension, a directory, missing, unreadable)."""


class InvalidDistributionError(DistributionError):
    """The archive is corrupt, unsafe, or lacks readable core metadata."""


class InvalidMetadataError(DistributionError):
    """The core metadata is invalid; ``problems`` holds every problem found."""

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[Finding] = (),
        hint: str | None = None,
        path: str | None = None,
    ) -> None:
        problems = tuple(problems)
        if len(problems) == 1:  # one problem: still listed under the summary line
            message = message + f"\n  - {_problem_line(problems[0])}"
        super().__init__(message, problems=problems, hint=hint, path=path)


# --- credentials -------------------------------------------------------------


class CredentialError(RegistryUploadError):
    """No usable credentials for the repository."""


class NoCredentialsError(CredentialError):
    """Every provider in the chain declined."""


class InsecureTransportError(CredentialError):
    """Credentials would be sent in clear text to a host that is not loopback."""


class TrustedPublishingError(CredentialError):
    """The trusted-publishing (OIDC) token exchange failed."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        claims: dict[str, str] | None = None,
        hint: str | None = None,
        url: str | None = None,
        status: int | None = None,
    ) -> None:
        self.code = _shown_or_none(code)
        self.claims = {shown(k): shown(v) for k, v in (claims or {}).items()}
        if self.claims:
            listed = ", ".join(f"{k}={v!r}" for k, v in sorted(self.claims.items()))
            message = f"{message} (token claims: {listed})"
        super().__init__(message, hint=hint, url=url, status=status)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if self.code:
            data["code"] = self.code
        if self.claims:
            data["claims"] = dict(self.claims)
        return data


class ConfigurationError(RegistryUploadError):
    """Bad configuration: .pypirc, repository name, options."""


# --- uploads -----------------------------------------------------------------


class UploadError(RegistryUploadError):
    """The registry or the network refused an upload.

    ``server_message`` is the registry's own words (body, JSON ``message`` or
    reason phrase), kept apart from our summary in ``message``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        registry: str | None = None,
        server_message: str | None = None,
        hint: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, path=path, url=url, registry=registry, status=status)
        self.server_message = _shown_or_none(server_message)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if self.server_message:
            data["server_message"] = self.server_message
        return data


class TransportError(UploadError):
    """Connection refused or reset, TLS failure, timeout: no HTTP answer.

    ``retryable`` says whether trying again could help (a reset may, a TLS
    verification failure will not); ``body_sent`` whether the whole upload
    body had gone out, which makes the outcome ambiguous: the registry may
    have stored the file.  ``bytes_sent`` is how much of the body went out
    before the attempt ended, and ``connected`` is false when no connection
    to the registry (or its proxy) was ever made: refused, unresolvable,
    unreachable within the connect timeout, or failed in the TLS handshake;
    a batch may stop early then, as every other file would fail the same way.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        body_sent: bool = False,
        bytes_sent: int = 0,
        connected: bool = True,
        **fields: Any,
    ) -> None:
        super().__init__(message, **fields)
        self.retryable = retryable
        self.body_sent = body_sent
        self.bytes_sent = bytes_sent
        self.connected = connected


class RedirectError(UploadError):
    """The upload POST was redirected; it is never followed silently."""

    def __init__(self, message: str, *, location: str | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.location = _shown_or_none(location)


class AuthenticationError(UploadError):
    """The registry did not accept the credentials (401, or 403 on the credential)."""


class PermissionDeniedError(UploadError):
    """The credential is valid but may not upload here (role, policy, allowlist)."""


class RepositoryNotFoundError(UploadError):
    """404: the URL is wrong, or the credential cannot see the project."""


class FileExistsOnRegistryError(UploadError):
    """The filename is already on the registry with different content."""


class RejectedError(UploadError):
    """The registry rejected the file or its metadata (400, 422)."""


class RateLimitedError(UploadError):
    """429 Too Many Requests after the retry budget was spent."""


class ServerError(UploadError):
    """5xx from the registry after the retry budget was spent."""


class UploadFailedError(UploadError):
    """Raised by ``UploadReport.raise_for_failures()`` (and ``upload(..., raise_on_failure=True)``)
    when a file of the batch failed; ``report`` has every file's outcome."""

    def __init__(
        self,
        message: str,
        *,
        report: UploadReport,
        hint: str | None = None,
        status: int | None = None,
        url: str | None = None,
        registry: str | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(
            message,
            hint=hint,
            status=status,
            url=url,
            registry=registry,
            server_message=server_message,
        )
        self.report = report


class UploadInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a batch; ``report`` says what became of every file.

    A ``KeyboardInterrupt`` (so ``except Exception`` does not swallow it, and
    an unhandled one still stops the program), raised by ``Uploader.upload()``
    once no upload thread is left running.  Files that were not started are
    ``not-started``; files in flight when it stopped are ``interrupted`` (the
    registry may or may not have kept them: a re-run with skip-existing is
    safe).
    """

    def __init__(self, report: UploadReport) -> None:
        super().__init__("upload interrupted")
        self.report = report

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))
