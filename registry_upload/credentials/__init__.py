"""Where the username and password come from: an ordered, pluggable chain.

Default order (:meth:`CredentialChain.default`)::

    explicit -> env -> pypirc -> netrc -> keyring -> credential-helper
             -> aws-codeartifact -> google-artifact-registry -> azure-artifacts
             -> gitlab-ci-job-token -> trusted-publishing
             -> prompt (only when allowed and on a TTY)

Values the user wrote down (explicit, env, files, keyring, a helper they
configured) come before anything derived from ambient identity; the cloud
providers answer only for their own registry's URLs, so their place among
themselves does not matter; trusted publishing stays last but one, because
in CI its absence is reported as an error with the fix.

The first provider that answers with a password wins; a provider that knows
only a username passes it on to the next ones (keyring, prompt).  The
:class:`Resolution` records what each provider said, for diagnostics, and
never holds a secret in clear.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_attributes
from ..errors import NoCredentialsError, RegistryUploadError
from ._simple import (
    EnvProvider,
    ExplicitProvider,
    FixedProvider,
    NetrcProvider,
    PromptProvider,
)
from ._types import CredentialKind, CredentialProvider, Credentials, Secret, Skip, Target

if TYPE_CHECKING:
    from ._aws import CodeArtifactProvider, CodeArtifactRepository, parse_codeartifact_url
    from ._azure import AzureArtifactsFeed, AzureArtifactsProvider, parse_azure_artifacts_url
    from ._gitlab import GitLabJobTokenProvider
    from ._google import (
        ArtifactRegistryProvider,
        ArtifactRegistryRepository,
        parse_artifact_registry_url,
    )
    from ._helper import CredentialHelperProvider
    from ._keyring import KeyringProvider
    from ._oidc import TrustedPublishingProvider, decode_claims
    from ._pypirc import PypircProvider, PypircSection, default_pypirc_path, load_pypirc

__all__ = [
    "ArtifactRegistryProvider",
    "ArtifactRegistryRepository",
    "AzureArtifactsFeed",
    "AzureArtifactsProvider",
    "CodeArtifactProvider",
    "CodeArtifactRepository",
    "CredentialChain",
    "CredentialHelperProvider",
    "CredentialKind",
    "CredentialProvider",
    "Credentials",
    "EnvProvider",
    "ExplicitProvider",
    "FixedProvider",
    "GitLabJobTokenProvider",
    "KeyringProvider",
    "NetrcProvider",
    "PromptProvider",
    "ProviderOutcome",
    "PypircProvider",
    "PypircSection",
    "Resolution",
    "Secret",
    "Skip",
    "Target",
    "TrustedPublishingProvider",
    "decode_claims",
    "default_pypirc_path",
    "is_run_wide",
    "load_pypirc",
    "parse_artifact_registry_url",
    "parse_azure_artifacts_url",
    "parse_codeartifact_url",
]

logger = logging.getLogger(__name__)

# Imported on first use: a batch that -u/-p or the environment answers never
# needs the cloud, OIDC, helper or .pypirc code (the default chain defers
# those providers too).
_LAZY = {
    "_aws": ("CodeArtifactProvider", "CodeArtifactRepository", "parse_codeartifact_url"),
    "_azure": ("AzureArtifactsFeed", "AzureArtifactsProvider", "parse_azure_artifacts_url"),
    "_gitlab": ("GitLabJobTokenProvider",),
    "_google": (
        "ArtifactRegistryProvider",
        "ArtifactRegistryRepository",
        "parse_artifact_registry_url",
    ),
    "_helper": ("CredentialHelperProvider",),
    "_keyring": ("KeyringProvider",),
    "_oidc": ("TrustedPublishingProvider", "decode_claims"),
    "_pypirc": ("PypircProvider", "PypircSection", "default_pypirc_path", "load_pypirc"),
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())


#: Providers whose secret is given for a whole run, not for one registry.
RUN_WIDE_PROVIDERS = ("explicit", "env")


def is_run_wide(source: str) -> bool:
    """Whether credentials from ``source`` were given for the whole run (``-u/-p``,
    ``username=``/``password=``, ``Credentials.of``, an environment variable) rather
    than for one registry (its ``.pypirc`` section, URL, keyring entry, cloud...)."""
    return source == "explicit" or source.startswith("env:")


class _Deferred:
    """A provider of the default chain, imported and built when the chain first asks it."""

    _building = threading.Lock()

    def __init__(self, name: str, module: str, cls: str, *args: Any, **kwargs: Any) -> None:
        self.name = name
        self._where = (module, cls)
        self._args = args
        self._kwargs = kwargs
        self._provider: CredentialProvider | None = None

    @property
    def provider(self) -> CredentialProvider:
        """The real provider (built once, also when several threads ask at once)."""
        with _Deferred._building:  # a class attribute: a chain still pickles and copies
            if self._provider is None:
                module, cls = self._where
                make = getattr(importlib.import_module(f".{module}", __name__), cls)
                self._provider = make(*self._args, **self._kwargs)
            return self._provider

    def provide(self, target: Target) -> Credentials | None:
        return self.provider.provide(target)

    def __repr__(self) -> str:
        return f"<deferred {self.name} provider>"


@dataclass(frozen=True, slots=True)
class ProviderOutcome:
    """What one provider said: ``answered``, ``partial`` (username only),
    ``failed`` (raised an error) or skipped."""

    provider: str
    answered: bool
    reason: str
    partial: bool = False
    failed: bool = False

    @property
    def state(self) -> str:
        if self.answered:
            return "answered"
        if self.partial:
            return "username only"
        return "failed" if self.failed else "skipped"

    def __str__(self) -> str:
        return f"{self.provider}: {self.state} ({self.reason})"

    def to_dict(self) -> dict[str, str]:
        return {"provider": self.provider, "state": self.state, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Resolution:
    """The chain's answer and the trail of every provider asked.

    ``error`` is the error a provider raised, when :meth:`CredentialChain.resolve`
    was asked to record errors instead of raising them.
    """

    target: Target
    credentials: Credentials | None
    trail: tuple[ProviderOutcome, ...]
    error: RegistryUploadError | None = None

    @property
    def source(self) -> str | None:
        return self.credentials.source if self.credentials else None

    @property
    def provider(self) -> str | None:
        """The name of the provider that answered."""
        return self.trail[-1].provider if self.credentials is not None and self.trail else None

    def describe(self) -> str:
        return "; ".join(str(o) for o in self.trail)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, without the secret: who answered, as whom, until when, and the trail."""
        creds = self.credentials
        expires_at = creds.expires_at if creds else None
        return {
            "url": self.target.url,
            "name": self.target.name,
            "answered": creds is not None,
            "provider": self.provider,
            "source": creds.source if creds else None,
            "username": creds.username if creds else None,
            "kind": creds.kind.value if creds else None,
            "expires_at": expires_at,
            "expires_in": round(expires_at - time.time()) if expires_at is not None else None,
            "details": dict(creds.details) if creds else {},
            "trail": [outcome.to_dict() for outcome in self.trail],
            "error": self.error.to_dict() if self.error else None,
        }

    def require(self) -> Credentials:
        if self.error is not None:
            raise self.error
        if self.credentials is None:
            raise NoCredentialsError(
                f"no credentials for {self.target.name or self.target.url}: {self.describe()}",
                hint="Set REGISTRY_UPLOAD_PASSWORD (or TWINE_PASSWORD) to an API token, pass "
                "-u/-p, or add the repository to ~/.pypirc.",
                url=self.target.url,
            )
        return self.credentials


class CredentialChain:
    """Ask providers in order; reorder, extend or replace them freely."""

    def __init__(self, providers: Iterable[CredentialProvider]) -> None:
        self.providers: list[CredentialProvider] = list(providers)

    @classmethod
    def default(
        cls,
        *,
        username: str | None = None,
        password: str | Secret | None = None,
        pypirc: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        interactive: bool = False,
        extra: Sequence[CredentialProvider] = (),
    ) -> CredentialChain:
        """The documented default order; ``extra`` providers go before the prompt."""
        d = _Deferred
        providers: list[CredentialProvider] = [
            ExplicitProvider(username, password),
            EnvProvider(env),
            d("pypirc", "_pypirc", "PypircProvider", pypirc),
            NetrcProvider(),
            d("keyring", "_keyring", "KeyringProvider"),
            d("credential-helper", "_helper", "CredentialHelperProvider", pypirc=pypirc, env=env),
            d("aws-codeartifact", "_aws", "CodeArtifactProvider", env),
            d("google-artifact-registry", "_google", "ArtifactRegistryProvider", env),
            d("azure-artifacts", "_azure", "AzureArtifactsProvider", env),
            d("gitlab-ci-job-token", "_gitlab", "GitLabJobTokenProvider", env),
            d("trusted-publishing", "_oidc", "TrustedPublishingProvider", env=env),
            *extra,
            PromptProvider(allowed=interactive),
        ]
        return cls(providers)

    def __repr__(self) -> str:
        return f"CredentialChain([{', '.join(p.name for p in self.providers)}])"

    def insert_before(self, name: str, provider: CredentialProvider) -> None:
        index = next((i for i, p in enumerate(self.providers) if p.name == name), None)
        if index is None:
            raise ValueError(f"no provider named {name!r} in {self!r}")
        self.providers.insert(index, provider)

    def headed_by(self, provider: CredentialProvider) -> CredentialChain:
        """A new chain asking ``provider`` first, then these providers."""
        return CredentialChain([provider, *self.providers])

    def remove(self, name: str) -> None:
        self.providers = [p for p in self.providers if p.name != name]

    def without(self, *names: str) -> CredentialChain:
        """A new chain without the providers of these names."""
        return CredentialChain(p for p in self.providers if p.name not in names)

    def resolve(self, target: Target | str, *, record_errors: bool = False) -> Resolution:
        """Ask each provider in turn; errors of a provider's own (bad .pypirc,
        a cloud CLI that failed, trusted-publishing exchange refused) propagate
        as typed errors, or with ``record_errors`` end the resolution with
        :attr:`Resolution.error` set and the trail kept (``registry-upload auth``)."""
        if isinstance(target, str):
            target = Target(url=target)
        asked = target
        partial: Credentials | None = None
        trail: list[ProviderOutcome] = []
        for provider in self.providers:
            try:
                found = provider.provide(asked)
            except Skip as skip:
                trail.append(ProviderOutcome(provider.name, False, skip.reason))
                continue
            except RegistryUploadError as error:
                if not record_errors:
                    raise
                trail.append(ProviderOutcome(provider.name, False, error.message, failed=True))
                return Resolution(target=target, credentials=None, trail=tuple(trail), error=error)
            if found is None:
                trail.append(ProviderOutcome(provider.name, False, "no answer"))
                continue
            if not found.password:
                partial = found
                asked = replace(asked, username=found.username)
                trail.append(
                    ProviderOutcome(
                        provider.name, False, f"username {found.username!r}", partial=True
                    )
                )
                continue
            if partial is not None and not found.username:
                # A password for the username an earlier provider chose.
                found = replace(found, username=partial.username)
            trail.append(ProviderOutcome(provider.name, True, found.source))
            logger.debug("credentials for %s from %s", target.url, found.source)
            return Resolution(target=target, credentials=found, trail=tuple(trail))
        logger.debug("no credentials for %s", target.url)
        return Resolution(target=target, credentials=None, trail=tuple(trail))
