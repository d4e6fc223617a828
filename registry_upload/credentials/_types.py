"""Secret, Credentials and the provider protocol (private; re-exported by the package)."""

from __future__ import annotations

import base64
import enum
import hmac
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .._redact import MASK as _MASK, register, register_basic

if TYPE_CHECKING:
    from ..transport import Transport

__all__ = ["CredentialKind", "CredentialProvider", "Credentials", "Secret", "Skip", "Target"]


class Secret:
    """A string that never shows itself: ``repr``, ``str`` and ``format`` mask it.

    Call :meth:`reveal` at the one place the value is really needed (the
    ``Authorization`` header).
    """

    __slots__ = ("__weakref__", "_value")
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)
        register(value, self)  # while it lives, redact() masks it wherever it shows up

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("Secret values are not picklable")


class CredentialKind(str, enum.Enum):
    """What the password is, so diagnostics can explain a refusal."""

    PASSWORD = "password"
    API_TOKEN = "api-token"
    GITLAB_JOB_TOKEN = "gitlab-job-token"
    TRUSTED_PUBLISHING = "trusted-publishing"
    CLOUD_TOKEN = "cloud-token"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username and a masked password, with where they came from.

    ``source`` names the provider that answered (``"env:TWINE_PASSWORD"``,
    ``"pypirc:testpypi"``, ``"gitlab-ci-job-token"``, ...).  ``expires_at`` is
    a Unix time for short-lived tokens (trusted publishing).
    """

    username: str
    password: Secret
    source: str
    kind: CredentialKind = CredentialKind.PASSWORD
    expires_at: float | None = None
    details: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.password, Secret):
            object.__setattr__(self, "password", Secret(str(self.password)))
        if self.kind is CredentialKind.PASSWORD and self.username == "__token__":
            object.__setattr__(self, "kind", CredentialKind.API_TOKEN)
        if self.password:
            register_basic(self.username, self.password.reveal(), self.password)

    @classmethod
    def of(
        cls,
        username: str,
        password: str,
        *,
        source: str = "explicit",
        kind: CredentialKind = CredentialKind.PASSWORD,
        expires_at: float | None = None,
    ) -> Credentials:
        return cls(
            username=username,
            password=Secret(password),
            source=source,
            kind=kind,
            expires_at=expires_at,
        )

    def expires_within(self, seconds: float) -> bool:
        return self.expires_at is not None and self.expires_at - time.time() < seconds

    def authorization_header(self) -> str:
        raw = f"{self.username}:{self.password.reveal()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def to_dict(self) -> dict[str, object]:
        """Safe to log or serialise: the password is never included."""
        return {
            "username": self.username,
            "source": self.source,
            "kind": self.kind.value,
            "expires_at": self.expires_at,
        }


@dataclass(frozen=True, slots=True)
class Target:
    """What a provider is asked about.

    ``url``: the repository's upload URL; ``name``: its .pypirc name if the
    caller used one; ``username``: a username an earlier provider knew
    without a password (keyring and the prompt use it); ``transport``: the
    caller's transport, for providers that make requests (trusted publishing),
    so ``--cert``/``--client-cert`` reach them.
    """

    url: str
    name: str | None = None
    username: str | None = None
    transport: Transport | None = field(default=None, compare=False, repr=False)


class Skip(Exception):
    """Raised by a provider to decline with a reason ("not in GitLab CI", ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class CredentialProvider(Protocol):
    """Anything with a ``name`` and a ``provide(target)`` method.

    ``provide`` returns :class:`Credentials`, or ``None`` for "not mine", or
    raises :class:`Skip` to decline with a reason the chain records.  A
    result with an empty password passes on a username only.
    """

    name: str

    def provide(self, target: Target) -> Credentials | None: ...
