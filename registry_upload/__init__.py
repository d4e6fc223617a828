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
    from .checks import check, check_description
    from .distribution import Digests, Distribution
    from .errors import (
        AuthenticationError,
        ConfigurationError,
        CredentialError,
        DistributionError,
        FileExistsOnRegistryError,
        InsecureTransportError,
        InvalidDistributionError,
        InvalidMetadataError,
        MetadataProblem,
        NoCredentialsError,
        PermissionDeniedError,
        RateLimitedError,
        RedirectError,
        RegistryUploadError,
        RejectedError,
        RepositoryNotFoundError,
        ServerError,
        TransportError,
        TrustedPublishingError,
        UnsupportedDistributionError,
        UploadError,
        UploadFailedError,
    )
    from .results import CheckReport, FileResult, FileStatus, Finding, Severity, UploadReport

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public name -> the module that defines it.
_LAZY: dict[str, str] = {
    "AuthenticationError": "errors",
    "CheckReport": "results",
    "ConfigurationError": "errors",
    "CredentialError": "errors",
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
    "MetadataProblem": "errors",
    "NoCredentialsError": "errors",
    "PermissionDeniedError": "errors",
    "RateLimitedError": "errors",
    "RedirectError": "errors",
    "RegistryUploadError": "errors",
    "RejectedError": "errors",
    "RepositoryNotFoundError": "errors",
    "ServerError": "errors",
    "Severity": "results",
    "TransportError": "errors",
    "TrustedPublishingError": "errors",
    "UnsupportedDistributionError": "errors",
    "UploadError": "errors",
    "UploadFailedError": "errors",
    "UploadReport": "results",
    "check": "checks",
    "check_description": "checks",
}

__all__ = [
    "AuthenticationError",
    "CheckReport",
    "ConfigurationError",
    "CredentialError",
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
    "MetadataProblem",
    "NoCredentialsError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RedirectError",
    "RegistryUploadError",
    "RejectedError",
    "RepositoryNotFoundError",
    "ServerError",
    "Severity",
    "TransportError",
    "TrustedPublishingError",
    "UnsupportedDistributionError",
    "UploadError",
    "UploadFailedError",
    "UploadReport",
    "__version__",
    "check",
    "check_description",
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
