"""registry_upload: upload wheels and sdists to Python package registries.

Public names are imported lazily (PEP 562), so ``import registry_upload`` is
cheap and never pulls in the transport or readme-renderer until used.  The table
:data:`_EXPORTS` is the list of public names, by defining module; the
``TYPE_CHECKING`` imports below repeat it for type checkers only (a test
keeps the two equal).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ._lazy import lazy_attributes
from ._version import __version__

if TYPE_CHECKING:
    from .checks import (
        check as check,
        check_description as check_description,
    )
    from .credentials import (
        CredentialChain as CredentialChain,
        CredentialKind as CredentialKind,
        CredentialProvider as CredentialProvider,
        Credentials as Credentials,
        Resolution as Resolution,
        Secret as Secret,
        Skip as Skip,
        Target as Target,
    )
    from .destinations import (
        Destination as Destination,
        RegistryDestination as RegistryDestination,
        StaticIndexDestination as StaticIndexDestination,
    )
    from .distribution import (
        Digests as Digests,
        Distribution as Distribution,
    )
    from .errors import (
        AuthenticationError as AuthenticationError,
        ConfigurationError as ConfigurationError,
        CredentialError as CredentialError,
        DistributionError as DistributionError,
        FileExistsOnRegistryError as FileExistsOnRegistryError,
        InsecureTransportError as InsecureTransportError,
        InvalidDistributionError as InvalidDistributionError,
        InvalidMetadataError as InvalidMetadataError,
        NoCredentialsError as NoCredentialsError,
        PermissionDeniedError as PermissionDeniedError,
        RateLimitedError as RateLimitedError,
        RedirectError as RedirectError,
        RegistryUploadError as RegistryUploadError,
        RejectedError as RejectedError,
        RepositoryNotFoundError as RepositoryNotFoundError,
        ServerError as ServerError,
        TransportError as TransportError,
        TrustedPublishingError as TrustedPublishingError,
        UnsupportedDistributionError as UnsupportedDistributionError,
        UploadError as UploadError,
        UploadFailedError as UploadFailedError,
        UploadInterrupted as UploadInterrupted,
    )
    from .options import (
        PublishOptions as PublishOptions,
    )
    from .publish import (
        DestinationKind as DestinationKind,
        DestinationReport as DestinationReport,
        DestinationStatus as DestinationStatus,
        Publisher as Publisher,
        PublishFailedError as PublishFailedError,
        PublishInterrupted as PublishInterrupted,
        PublishReport as PublishReport,
        VerifyPolicy as VerifyPolicy,
    )
    from .registries import (
        Profile as Profile,
        Registry as Registry,
    )
    from .repository import (
        Repository as Repository,
    )
    from .results import (
        CheckReport as CheckReport,
        EventKind as EventKind,
        FileResult as FileResult,
        FileStatus as FileStatus,
        Finding as Finding,
        ProgressEvent as ProgressEvent,
        Severity as Severity,
        UploadReport as UploadReport,
    )
    from .retry import (
        RetryPolicy as RetryPolicy,
    )
    from .status import (
        IndexState as IndexState,
        StatusReport as StatusReport,
    )
    from .transport import (
        TransportOptions as TransportOptions,
    )
    from .uploader import (
        Uploader as Uploader,
        resolve_repository as resolve_repository,
        upload as upload,
    )

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: Every public name, by the module that defines it.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "checks": (
        "check",
        "check_description",
    ),
    "credentials": (
        "CredentialChain",
        "CredentialKind",
        "CredentialProvider",
        "Credentials",
        "Resolution",
        "Secret",
        "Skip",
        "Target",
    ),
    "destinations": (
        "Destination",
        "RegistryDestination",
        "StaticIndexDestination",
    ),
    "distribution": (
        "Digests",
        "Distribution",
    ),
    "errors": (
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
    ),
    "options": ("PublishOptions",),
    # ``publish()`` itself stays in registry_upload.publish: the name is the module's.
    "publish": (
        "DestinationKind",
        "DestinationReport",
        "DestinationStatus",
        "PublishFailedError",
        "PublishInterrupted",
        "PublishReport",
        "Publisher",
        "VerifyPolicy",
    ),
    "registries": (
        "Profile",
        "Registry",
    ),
    "repository": ("Repository",),
    "results": (
        "CheckReport",
        "EventKind",
        "FileResult",
        "FileStatus",
        "Finding",
        "ProgressEvent",
        "Severity",
        "UploadReport",
    ),
    "retry": ("RetryPolicy",),
    # ``status()`` itself stays in registry_upload.status: the name is the module's.
    "status": ("IndexState", "StatusReport"),
    "transport": ("TransportOptions",),
    "uploader": (
        "Uploader",
        "resolve_repository",
        "upload",
    ),
}
__all__ = [  # noqa: PLE0604
    "__version__",
    *sorted(name for names in _EXPORTS.values() for name in names),
]
__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS, globals())
