# mypy: disable-error-code="import-not-found"
# (the attestations extra may be absent where the type check runs; it is typed where present)
"""Everything that runs sigstore and pypi-attestations (private; imported only to sign/verify).

Signing uses Rekor v1 (PEP 740 cannot carry the timestamp-authority answers
Rekor v2 needs) and no timestamp authority, whatever the signing config
lists, since an attestation would drop its answers anyway.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
import sigstore.errors
from pypi_attestations import (
    Attestation,
    AttestationError as _PypiAttestationError,
    Distribution as _Dist,
)
from sigstore._internal.fulcio.client import FulcioClientError
from sigstore._internal.rekor import RekorClientError
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityError, IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier

from ._errors import AttestationError, IdentityTokenError, TrustConfigError

__all__ = ["load_trust_config", "sign_files", "verify"]

logger = logging.getLogger(__name__)

_PRODUCTION = "the production Sigstore (public-good instance)"


def load_trust_config(source: str | None) -> tuple[ClientTrustConfig, str]:
    """The trust config at ``source`` (a ClientTrustConfig JSON file), else production."""
    if source is None:
        try:
            return ClientTrustConfig.production(), _PRODUCTION
        except (sigstore.errors.Error, OSError, requests.RequestException) as exc:
            raise TrustConfigError(
                f"cannot load the production Sigstore trust root: {exc}",
                hint="It is fetched (TUF) from tuf-repo-cdn.sigstore.dev; check the network, "
                "or name a trust config (--trust-config, REGISTRY_UPLOAD_SIGSTORE_TRUST_CONFIG).",
            ) from None
    try:
        with open(source, encoding="utf-8") as fh:
            config = ClientTrustConfig.from_json(fh.read())
        config.force_tlog_version = 1
        config.signing_config  # noqa: B018 - validated now, not in the middle of signing
        config.trusted_root  # noqa: B018
    except (OSError, ValueError, sigstore.errors.Error) as exc:
        raise TrustConfigError(
            f"{source}: not a usable Sigstore trust config ({exc})",
            path=source,
            hint="Give a ClientTrustConfig JSON file (as `sigstore --trust-config` reads) whose "
            "signing config names a Fulcio and a Rekor v1 log.",
        ) from None
    return config, source


def sign_files(
    paths: Sequence[str], token: str, config: ClientTrustConfig
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Sign a publish/v1 attestation for each file: ``(path, attestation JSON)``, in order."""
    try:
        identity = IdentityToken(token)
    except IdentityError as exc:
        raise IdentityTokenError(
            f"the OIDC identity token cannot be used for Sigstore: {exc}",
            hint="Request it with the audience `sigstore`, and use it within its lifetime.",
        ) from None
    config.force_tlog_version = 1
    signing = config.signing_config
    context = SigningContext(
        fulcio=signing.get_fulcio(),
        rekor=signing.get_tlogs()[0],
        trusted_root=config.trusted_root,
        tsa_clients=[],
    )
    with _signing_errors(signing.get_fulcio().url), context.signer(identity) as signer:
        for path in paths:
            attestation = Attestation.sign(signer, _Dist.from_file(Path(path)))
            logger.debug("signed %s", os.path.basename(path))
            yield path, attestation.model_dump(mode="json")


def verify(attestation: Mapping[str, Any], config: ClientTrustConfig) -> str | None:
    """Why the attestation's signature, certificate chain or log entry fail, or ``None``.

    The identity is checked apart (``_check``), with reasons a person can act on.
    """
    try:
        bundle = Attestation.model_validate(attestation).to_bundle()
        Verifier(trusted_root=config.trusted_root).verify_dsse(bundle, _AnyIdentity())
    except (ValueError, sigstore.errors.Error, _PypiAttestationError) as exc:
        return str(exc)
    return None


class _AnyIdentity:
    """A sigstore policy that accepts every identity (checked elsewhere, never skipped)."""

    def verify(self, cert: object) -> None:
        return None


@contextlib.contextmanager
def _signing_errors(fulcio: str) -> Iterator[None]:
    """Turn what sigstore raises while signing into this library's errors."""
    try:
        yield
    except FulcioClientError as exc:
        raise AttestationError(
            f"the Sigstore CA at {fulcio} refused a signing certificate: {_server_words(exc)}",
            url=fulcio,
            hint="Check that the identity token comes from an issuer this Sigstore "
            "instance trusts, with the audience `sigstore`, and has not expired.",
        ) from None
    except RekorClientError as exc:
        raise AttestationError(
            f"the Sigstore transparency log refused the entry: {_server_words(exc)}",
            hint="Retry; if it persists, check the trust config's Rekor URL.",
        ) from None
    except requests.RequestException as exc:
        raise AttestationError(
            f"cannot reach the Sigstore instance: {exc}",
            hint="Check the network, or the URLs in the trust config.",
        ) from None
    except (sigstore.errors.Error, _PypiAttestationError) as exc:
        raise AttestationError(
            f"signing failed: {exc}",
            hint="The certificate or log entry did not match the trust config's root.",
        ) from None


def _server_words(exc: BaseException) -> str:
    """What the server said (its JSON ``message``, else the HTTP error)."""
    cause = exc.__cause__ or (exc.args[0] if exc.args else None)
    response = getattr(cause, "response", None)
    if response is not None:
        try:
            return f"{response.status_code}: {json.loads(response.text)['message']}"
        except (ValueError, KeyError, TypeError):
            return f"{response.status_code} {response.reason}"
    return str(exc) or type(exc).__name__
