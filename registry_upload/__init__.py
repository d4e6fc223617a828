"""registry_upload: upload wheels and sdists to Python package registries.

Public names are imported lazily (PEP 562), so ``import registry_upload`` is
cheap and never pulls in urllib3, tenacity or readme-renderer until used.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .checks import (
        check as check,
    )
    from .checks import (
        check_description as check_description,
    )
    from .credentials import (
        CredentialChain as CredentialChain,
    )
    from .credentials import (
        CredentialKind as CredentialKind,
    )
    from .credentials import (
        Credentials as Credentials,
    )
    from .credentials import (
        Resolution as Resolution,
    )
    from .credentials import (
        Secret as Secret,
    )
    from .credentials import (
        Target as Target,
    )
    from .distribution import (
        Digests as Digests,
    )
    from .distribution import (
        Distribution as Distribution,
    )
    from .errors import (
        AuthenticationError as AuthenticationError,
    )
    from .errors import (
        ConfigurationError as ConfigurationError,
    )
    from .errors import (
        CredentialError as CredentialError,
    )
    from .errors import (
        DistributionError as DistributionError,
    )
    from .errors import (
        FileExistsOnRegistryError as FileExistsOnRegistryError,
    )
    from .errors import (
        InsecureTransportError as InsecureTransportError,
    )
    from .errors import (
        InvalidDistributionError as InvalidDistributionError,
    )
    from .errors import (
        InvalidMetadataError as InvalidMetadataError,
    )
    from .errors import (
        NoCredentialsError as NoCredentialsError,
    )
    from .errors import (
        PermissionDeniedError as PermissionDeniedError,
    )
    from .errors import (
        RateLimitedError as RateLimitedError,
    )
    from .errors import (
        RedirectError as RedirectError,
    )
    from .errors import (
        RegistryUploadError as RegistryUploadError,
    )
    from .errors import (
        RejectedError as RejectedError,
    )
    from .errors import (
        RepositoryNotFoundError as RepositoryNotFoundError,
    )
    from .errors import (
        ServerError as ServerError,
    )
    from .errors import (
        TransportError as TransportError,
    )
    from .errors import (
        TrustedPublishingError as TrustedPublishingError,
    )
    from .errors import (
        UnsupportedDistributionError as UnsupportedDistributionError,
    )
    from .errors import (
        UploadError as UploadError,
    )
    from .errors import (
        UploadFailedError as UploadFailedError,
    )
    from .repository import (
        Repository as Repository,
    )
    from .results import (
        CheckReport as CheckReport,
    )
    from .results import (
        FileResult as FileResult,
    )
    from .results import (
        FileStatus as FileStatus,
    )
    from .results import (
        Finding as Finding,
    )
    from .results import (
        Severity as Severity,
    )
    from .results import (
        UploadReport as UploadReport,
    )
    from .retry import (
        RetryPolicy as RetryPolicy,
    )
    from .transport import (
        TransportOptions as TransportOptions,
    )
    from .uploader import (
        ProgressEvent as ProgressEvent,
    )
    from .uploader import (
        Uploader as Uploader,
    )
    from .uploader import (
        resolve_repository as resolve_repository,
    )
    from .uploader import (
        upload as upload,
    )

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public name -> the module that defines it.
_LAZY: dict[str, str] = {
    "AuthenticationError": "errors",
    "CheckReport": "results",
    "ConfigurationError": "errors",
    "CredentialChain": "credentials",
    "CredentialError": "errors",
    "CredentialKind": "credentials",
    "Credentials": "credentials",
    "Digests": "distribution",
    "Distribution": "distribution",
    "DistributionError": "errors",
    "FileExistsOnRegistryError": "errors",
    "FileResult": "results",
    "FileStatus": "results",
    "Finding": "results",
    "InsecureTransportError": "errors",
    "InvalidDistributionError": "errors",
    "InvalidMetadataError": "errors",
    "NoCredentialsError": "errors",
    "PermissionDeniedError": "errors",
    "ProgressEvent": "uploader",
    "RateLimitedError": "errors",
    "RedirectError": "errors",
    "RegistryUploadError": "errors",
    "RejectedError": "errors",
    "Repository": "repository",
    "RepositoryNotFoundError": "errors",
    "Resolution": "credentials",
    "RetryPolicy": "retry",
    "Secret": "credentials",
    "ServerError": "errors",
    "Severity": "results",
    "Target": "credentials",
    "TransportError": "errors",
    "TransportOptions": "transport",
    "TrustedPublishingError": "errors",
    "UnsupportedDistributionError": "errors",
    "UploadError": "errors",
    "UploadFailedError": "errors",
    "UploadReport": "results",
    "Uploader": "uploader",
    "check": "checks",
    "check_description": "checks",
    "resolve_repository": "uploader",
    "upload": "uploader",
}

__all__ = [
    "AuthenticationError",
    "CheckReport",
    "ConfigurationError",
    "CredentialChain",
    "CredentialError",
    "CredentialKind",
    "Credentials",
    "Digests",
    "Distribution",
    "DistributionError",
    "FileExistsOnRegistryError",
    "FileResult",
    "FileStatus",
    "Finding",
    "InsecureTransportError",
    "InvalidDistributionError",
    "InvalidMetadataError",
    "NoCredentialsError",
    "PermissionDeniedError",
    "ProgressEvent",
    "RateLimitedError",
    "RedirectError",
    "RegistryUploadError",
    "RejectedError",
    "Repository",
    "RepositoryNotFoundError",
    "Resolution",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "Severity",
    "Target",
    "TransportError",
    "TransportOptions",
    "TrustedPublishingError",
    "UnsupportedDistributionError",
    "UploadError",
    "UploadFailedError",
    "UploadReport",
    "Uploader",
    "__version__",
    "check",
    "check_description",
    "resolve_repository",
    "upload",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
