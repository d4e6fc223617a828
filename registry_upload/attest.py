"""Sign PEP 740 attestations for distributions, and pre-check them as PyPI will.

:func:`attest` signs a publish/v1 attestation for each file with Sigstore
(the ``sigstore`` and ``pypi-attestations`` libraries, the ones PyPI and the
GitHub action use) and writes it beside the file as
``<file>.publish.attestation``, where :meth:`Distribution.open` and every
upload tool find it::

    from registry_upload.attest import attest

    report = attest("dist/")            # the CI's ambient OIDC identity
    for item in report.files:
        print(item.status, item.attestation_path)

:func:`precheck` finds, before anything is sent, each reason PyPI would
answer ``400 Invalid attestations supplied during upload``: a subject that is
another file, or the same name with other bytes (a stale attestation left
in ``dist/``), an unknown predicate type or two of one type, a signing
identity that is not this upload's trusted publisher.

Signing needs the ``attestations`` extra (``pip install
'registry-upload[attestations]'``); it is imported only when signing or
verifying, so a plain ``import registry_upload`` or upload does not pay for
it.  The Sigstore instance comes from a trust config: ``trust_config=``,
else ``$REGISTRY_UPLOAD_SIGSTORE_TRUST_CONFIG``, else production.

Errors (all under :class:`~registry_upload.errors.RegistryUploadError`)::

    ConfigurationError
    ├── AttestationsUnavailableError   the extra is not installed
    └── TrustConfigError               the trust config is unreadable
    CredentialError
    └── IdentityTokenError             no usable OIDC token for Sigstore
    DistributionError
    └── InvalidAttestationError        attestations PyPI would refuse: .problems
    AttestationError                   Fulcio or Rekor refused, or unreachable
"""

from __future__ import annotations

import base64
import dataclasses
import importlib.util
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._attest._check import (
    PREDICATE_TYPES,
    PUBLISH_V1,
    SLSA_PROVENANCE_V1,
    UNCHECKED_IDENTITY,
    PublisherIdentity,
    check_file,
)
from ._attest._errors import (
    INSTALL_HINT,
    AttestationError,
    AttestationsUnavailableError,
    IdentityTokenError,
    InvalidAttestationError,
    TrustConfigError,
)
from ._hashing import hash_file
from ._paths import PathInput, collect
from .credentials import Secret
from .results import Finding, Severity

if TYPE_CHECKING:
    from .distribution import Distribution
    from .transport import Transport

__all__ = [
    "ATTESTATION_SUFFIX",
    "PREDICATE_TYPES",
    "PUBLISH_V1",
    "SLSA_PROVENANCE_V1",
    "TRUST_CONFIG_ENV",
    "AttestReport",
    "AttestationError",
    "AttestationsUnavailableError",
    "AttestedFile",
    "IdentityTokenError",
    "InvalidAttestationError",
    "PublisherIdentity",
    "TrustConfigError",
    "UploadAttestations",
    "ambient_identity_token",
    "attest",
    "attestations_available",
    "attestations_beside",
    "precheck",
    "precheck_files",
    "prepare_for_upload",
    "token_claims",
    "without_attestations",
]

#: The name of a publish/v1 attestation beside its file, as PyPI's tools write it.
ATTESTATION_SUFFIX = ".publish.attestation"
#: Names a Sigstore trust config (ClientTrustConfig JSON) when ``trust_config`` is not given.
TRUST_CONFIG_ENV = "REGISTRY_UPLOAD_SIGSTORE_TRUST_CONFIG"

AttestStatus = Literal["signed", "kept"]
_EXTRA_MODULES = ("sigstore", "pypi_attestations")


@dataclass(frozen=True, slots=True)
class AttestedFile:
    """One file: ``signed`` now, or ``kept`` (it had a valid-looking attestation already)."""

    path: str
    attestation_path: str
    status: AttestStatus
    log_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "attestation_path": self.attestation_path,
            "status": self.status,
            "log_index": self.log_index,
        }


@dataclass(frozen=True, slots=True)
class AttestReport:
    """What :func:`attest` did: each file, who signed, against which Sigstore."""

    files: tuple[AttestedFile, ...]
    publisher: PublisherIdentity | None
    sigstore: str
    notes: tuple[tuple[str, str], ...] = field(default=())

    @property
    def signed(self) -> tuple[AttestedFile, ...]:
        return tuple(f for f in self.files if f.status == "signed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [f.to_dict() for f in self.files],
            "publisher": self.publisher.describe() if self.publisher else None,
            "sigstore": self.sigstore,
            "notes": [list(n) for n in self.notes],
        }


def attestations_available() -> bool:
    """Whether the ``attestations`` extra (sigstore, pypi-attestations) is installed."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in _EXTRA_MODULES)
    except (ImportError, ValueError):  # a broken or hidden install
        return False


def _require_extra() -> None:
    if not attestations_available():
        raise AttestationsUnavailableError(
            "signing attestations needs sigstore and pypi-attestations, which are not installed",
            hint=INSTALL_HINT,
        )


def attest(
    paths: PathInput,
    *,
    identity_token: str | Secret | None = None,
    trust_config: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    env: Mapping[str, str] | None = None,
    transport: Transport | None = None,
) -> AttestReport:
    """Sign a publish/v1 attestation for each distribution; write ``<file>.publish.attestation``.

    ``paths``: files or directories, as :func:`registry_upload.upload` takes.
    ``identity_token``: an OIDC token with the audience ``sigstore``; by
    default the CI's own (:func:`ambient_identity_token`).  A file that has
    an attestation already keeps it when it passes :func:`precheck` against
    this token's publisher; ``overwrite=True`` signs again.  Every existing
    attestation is checked before anything is signed: a stale or foreign one
    raises :class:`InvalidAttestationError` naming it.
    """
    _require_extra()
    collected = collect(paths)
    token = _reveal(identity_token) or ambient_identity_token(env, transport=transport)
    masked = Secret(token)  # registered while it lives: never shown in an error or a log line
    publisher = PublisherIdentity.from_claims(token_claims(token))
    kept = {} if overwrite else _check_existing(collected.paths, publisher)
    from ._attest import _sigstore

    config, name = _sigstore.load_trust_config(_trust_config_source(trust_config, env))
    to_sign = [p for p in collected.paths if p not in kept]
    signed = dict(_write_all(_sigstore.sign_files(to_sign, token, config)))
    files = tuple(
        kept[p] if p in kept else AttestedFile(p, p + ATTESTATION_SUFFIX, "signed", signed[p])
        for p in collected.paths
    )
    del masked
    return AttestReport(files, publisher, name, collected.notes)


def _reveal(token: str | Secret | None) -> str | None:
    return token.reveal() if isinstance(token, Secret) else token


def _trust_config_source(
    given: str | os.PathLike[str] | None, env: Mapping[str, str] | None
) -> str | None:
    if given is not None:
        return os.fspath(given)
    return (os.environ if env is None else env).get(TRUST_CONFIG_ENV) or None


def _check_existing(
    paths: Sequence[str], publisher: PublisherIdentity | None
) -> dict[str, AttestedFile]:
    """The files whose publish attestation passes the pre-check; raise if any fails."""
    problems = [p for p in _precheck_beside(paths, publisher) if p.severity is Severity.ERROR]
    if problems:
        raise _invalid(problems)
    return {
        path: AttestedFile(path, path + ATTESTATION_SUFFIX, "kept")
        for path in paths
        if os.path.exists(path + ATTESTATION_SUFFIX)
    }


def precheck_files(paths: PathInput, claims: Mapping[str, Any]) -> list[Finding]:
    """:func:`precheck` for the attestations found beside each distribution in ``paths``.

    What an upload runs before its first byte (it needs neither the extra
    nor the network): every ``<file>.*.attestation`` against the file's name
    and sha256 and the trusted publisher of ``claims``.
    """
    return _precheck_beside(collect(paths).paths, PublisherIdentity.from_claims(claims))


def _precheck_beside(paths: Sequence[str], publisher: PublisherIdentity | None) -> list[Finding]:
    problems: list[Finding] = []
    for path in paths:
        found = attestations_beside(path)
        if found:
            digest = hash_file(path, blake2=False).sha256
            problems.extend(check_file(os.path.basename(path), digest, found, publisher))
    return problems


def _invalid(problems: Sequence[Finding]) -> InvalidAttestationError:
    paths = sorted({p.path for p in problems})
    return InvalidAttestationError(
        f"{len(problems)} attestation(s) PyPI would refuse",
        problems=problems,
        path=paths[0] if len(paths) == 1 else None,
        hint="Remove the attestation files named above (they are left from another build or "
        "made elsewhere), then sign again; or upload with --no-attestations.",
    )


def _write_all(
    signed: Iterable[tuple[str, dict[str, Any]]],
) -> Iterable[tuple[str, int | None]]:
    for path, attestation in signed:
        _write_atomically(path + ATTESTATION_SUFFIX, json.dumps(attestation).encode())
        entries = attestation["verification_material"]["transparency_entries"]
        index = entries[0].get("logIndex") if entries else None
        yield path, int(index) if index is not None else None


def _write_atomically(target: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".attestation-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def precheck(
    dist_filename: str,
    sha256: str,
    attestations: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    claims: Mapping[str, Any],
    *,
    verify: bool = False,
    trust_config: str | os.PathLike[str] | None = None,
) -> list[Finding]:
    """Every reason PyPI would refuse these attestations of one file, as ERROR findings.

    ``dist_filename`` and ``sha256`` are the file's name and digest; ``attestations``
    its attestations (a list, or a mapping from where each came from, such as its
    file path, to the attestation); ``claims`` those of this run's OIDC token
    (:func:`token_claims`), whose trusted publisher (GitHub repository and
    workflow, GitLab project and CI file, Google service account) must have
    signed them.  An empty list means PyPI's checks will pass, except the
    cryptographic ones, which ``verify=True`` adds (needs the extra; the
    trust config as for :func:`attest`).
    """
    labelled = (
        dict(attestations)
        if isinstance(attestations, Mapping)
        else {f"{dist_filename} attestation #{i}": a for i, a in enumerate(attestations, 1)}
    )
    publisher = PublisherIdentity.from_claims(claims)
    problems = check_file(dist_filename, sha256, labelled, publisher)
    if verify and not problems:
        problems.extend(_verify_all(labelled, trust_config))
    return problems


def _verify_all(
    labelled: Mapping[str, Mapping[str, Any]], trust_config: str | os.PathLike[str] | None
) -> list[Finding]:
    _require_extra()
    from ._attest import _sigstore

    config, name = _sigstore.load_trust_config(_trust_config_source(trust_config, None))
    problems = []
    for source, attestation in labelled.items():
        why = _sigstore.verify(attestation, config)
        if why is not None:
            problems.append(
                Finding(
                    code="attestation-signature",
                    severity=Severity.ERROR,
                    path=source,
                    message=f"it does not verify against {name}: {why}",
                    hint=f"Remove {source} and sign again against the Sigstore you upload for.",
                )
            )
    return problems


def attestations_beside(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The attestations beside a distribution (``<file>.*.attestation``), by file path."""
    from .inspect import attestations_in, read_attestation

    p = os.fspath(path)
    directory, name = os.path.split(p)
    found = sorted(n for n in attestations_in(directory or ".") if n.startswith(name + "."))
    return {
        os.path.join(directory, n): read_attestation(Path(p), Path(directory, n)) for n in found
    }


def token_claims(token: str | Secret) -> dict[str, Any]:
    """Every claim of a JWT, decoded but not verified (to learn who it names)."""
    raw = _reveal(token) or ""
    try:
        payload = raw.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        claims = None
    if not isinstance(claims, dict):
        raise IdentityTokenError(
            "the identity token is not a JWT",
            hint="Pass the OIDC token itself (three base64url parts separated by dots).",
        )
    return claims


def ambient_identity_token(
    env: Mapping[str, str] | None = None, *, transport: Transport | None = None
) -> str:
    """The CI's OIDC token for the audience ``sigstore``.

    GitHub Actions: its token request URL (the job needs ``id-token: write``);
    GitLab CI: ``$SIGSTORE_ID_TOKEN`` (declare it under ``id_tokens``);
    Google Cloud: the metadata server.
    """
    from .credentials._oidc import TrustedPublishingProvider

    provider = TrustedPublishingProvider(env=os.environ if env is None else env)
    token = provider.identity_token("sigstore", transport=transport)
    if token is None:
        raise IdentityTokenError(
            "no OIDC identity to sign with: not in GitHub Actions, GitLab CI or on Google Cloud",
            hint="Sign in CI with trusted publishing, or pass identity_token= (a token with "
            "the audience `sigstore`).",
        )
    return token.reveal()


# --- the upload path ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadAttestations:
    """What :func:`prepare_for_upload` settled: the files with the attestations to send."""

    dists: tuple[Distribution, ...]
    signed: AttestReport | None = None
    notes: tuple[str, ...] = ()


def prepare_for_upload(
    dists: Sequence[Distribution],
    *,
    sign: bool = True,
    required: bool = False,
    identity_token: str | Secret | None = None,
    trust_config: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    transport: Transport | None = None,
) -> UploadAttestations:
    """Sign what lacks a publish attestation, pre-check every attestation, re-attach them.

    For an upload to PyPI or TestPyPI that authenticates by trusted publishing
    (GitHub, GitLab, Google), before its first byte.  ``sign=False`` only
    checks what is there (``--no-attestations`` should not call this at all:
    use :func:`without_attestations`).  Without the extra, or without an
    identity token for Sigstore, files stay unsigned with a note, unless
    ``required`` (``--attestations`` given), which raises instead.  Raises
    :class:`InvalidAttestationError` for anything PyPI would refuse.
    """
    notes: list[str] = []
    token = _upload_token(identity_token, env, transport, required=required, notes=notes)
    publisher = PublisherIdentity.from_claims(token_claims(token)) if token else None
    missing = [os.fspath(d.path) for d in dists if not _has_publish_attestation(d)]
    signed = None
    if sign and missing and token:
        if attestations_available() or required:
            signed = attest(missing, identity_token=token, trust_config=trust_config, env=env)
        else:
            notes.append(f"{len(missing)} file(s) not signed: {INSTALL_HINT} to attest them")
    paths = [os.fspath(d.path) for d in dists]
    problems = _precheck_beside(paths, publisher if token else UNCHECKED_IDENTITY)
    if not token:
        notes.append("attestations sent unchecked against the publisher (no identity token)")
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise _invalid(errors)
    fresh = tuple(
        dataclasses.replace(d, attestations=tuple(attestations_beside(d.path).values()))
        for d in dists
    )
    return UploadAttestations(fresh, signed, tuple(notes))


def without_attestations(dists: Sequence[Distribution]) -> tuple[Distribution, ...]:
    """The files with no attestation attached (a destination that does not take them)."""
    return tuple(dataclasses.replace(d, attestations=()) if d.attestations else d for d in dists)


def _has_publish_attestation(dist: Distribution) -> bool:
    return os.path.exists(os.fspath(dist.path) + ATTESTATION_SUFFIX)


def _upload_token(
    given: str | Secret | None,
    env: Mapping[str, str] | None,
    transport: Transport | None,
    *,
    required: bool,
    notes: list[str],
) -> str | None:
    """The Sigstore identity token; ``None`` (with a note) when optional and not to be had."""
    from .errors import CredentialError

    try:
        return _reveal(given) or ambient_identity_token(env, transport=transport)
    except CredentialError as exc:
        if required:
            raise
        notes.append(f"not signing attestations: {exc.message}")
        return None
