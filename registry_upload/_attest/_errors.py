"""The errors of registry_upload.attest (re-exported there), on the one error tree."""

from __future__ import annotations

from ..errors import ConfigurationError, CredentialError, DistributionError, RegistryUploadError

__all__ = [
    "AttestationError",
    "AttestationsUnavailableError",
    "IdentityTokenError",
    "InvalidAttestationError",
    "TrustConfigError",
]

#: What to install for signing and verifying (the one line every such error shows).
INSTALL_HINT = "pip install 'registry-upload[attestations]'"


class AttestationsUnavailableError(ConfigurationError):
    """Signing or verifying was asked for, but the ``attestations`` extra is not installed."""


class TrustConfigError(ConfigurationError):
    """The Sigstore trust configuration cannot be read or is not one."""


class IdentityTokenError(CredentialError):
    """No usable OIDC identity token for Sigstore (none found, malformed, expired)."""


class AttestationError(RegistryUploadError):
    """Signing failed: the Sigstore CA or transparency log refused, or could not be reached."""


class InvalidAttestationError(DistributionError):
    """An attestation PyPI would refuse (stale, foreign, malformed); ``problems`` lists each."""
