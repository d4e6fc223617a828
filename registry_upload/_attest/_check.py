"""The pre-check of PEP 740 attestations, as PyPI (warehouse) will check them.

For each attestation of one file: the shape (version 1, a certificate, a log
entry, an envelope holding an in-toto statement), exactly one subject whose
name is the file's and whose sha256 is the file's, a predicate type PyPI
knows and at most one attestation per type, and the publisher identity in
the signing certificate (Fulcio's extensions) against the claims of this
run's OIDC token.  Nothing here imports sigstore; the certificate is read
with ``cryptography`` when it is installed (it comes with the extra).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from ..results import Finding, Severity

__all__ = [
    "GITHUB_ISSUER",
    "GITLAB_ISSUER",
    "GOOGLE_ISSUER",
    "PREDICATE_TYPES",
    "PUBLISH_V1",
    "SLSA_PROVENANCE_V1",
    "UNCHECKED_IDENTITY",
    "PublisherIdentity",
    "check_file",
]

PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
PREDICATE_TYPES = (PUBLISH_V1, SLSA_PROVENANCE_V1)
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
GOOGLE_ISSUER = "https://accounts.google.com"
_STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
_OID = "1.3.6.1.4.1.57264.1."  # Fulcio's extensions
_REMOVE = (
    "Remove {path} (a leftover or foreign attestation), sign again in this run "
    "(registry-upload attest), or upload without attestations (--no-attestations)."
)


@dataclass(frozen=True, slots=True)
class PublisherIdentity:
    """Who publishes, as PyPI's trusted publisher sees it (from the token's claims).

    ``kind`` is ``github``, ``gitlab`` or ``google``; GitHub and GitLab have
    ``repository`` (owner/name, GitLab's project path) and ``workflow`` (the
    workflow file name, GitLab's CI file path); Google has ``email``.
    """

    kind: str
    repository: str | None = None
    workflow: str | None = None
    email: str | None = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> PublisherIdentity | None:
        """The identity of a GitHub, GitLab or Google token; ``None`` for another issuer."""
        issuer = claims.get("iss")
        try:
            if issuer == GITHUB_ISSUER:
                ref = str(claims["job_workflow_ref"]).rpartition("@")[0]
                return cls("github", str(claims["repository"]), ref.rpartition("/")[2])
            if issuer == GITLAB_ISSUER:
                config = str(claims["ci_config_ref_uri"]).rpartition("@")[0]
                return cls("gitlab", str(claims["project_path"]), config.partition("//")[2])
            if issuer == GOOGLE_ISSUER:
                return cls("google", email=str(claims["email"]))
        except KeyError:
            return None
        return None

    def describe(self) -> str:
        if self.kind == "google":
            return f"Google service account {self.email}"
        where = "GitHub repository" if self.kind == "github" else "GitLab project"
        return f"{where} {self.repository}, workflow {self.workflow}"

    def mismatch(self, cert: Mapping[str, str]) -> str | None:
        """Why a certificate's identity (``_cert_identity``) is not this one, or ``None``."""
        issuer = {"github": GITHUB_ISSUER, "gitlab": GITLAB_ISSUER, "google": GOOGLE_ISSUER}
        if cert.get("issuer") != issuer[self.kind]:
            return f"it was signed with a token from {cert.get('issuer') or 'an unknown issuer'}"
        if self.kind == "google":
            return None if cert.get("email") == self.email else f"it was signed by {cert['san']}"
        host = "https://github.com/" if self.kind == "github" else "https://gitlab.com/"
        if cert.get("repository") != f"{host}{self.repository}":
            return f"it was made in {cert.get('repository')}"
        sep = "/.github/workflows/" if self.kind == "github" else "//"
        wanted = {f"{host}{self.repository}{sep}{self.workflow}@{cert.get(k)}" for k in _AT}
        if cert.get("build_config") not in wanted:
            return f"it was made by {cert.get('build_config')}"
        return None


_AT = ("sha", "ref")
#: Pass as the publisher to skip the identity check (when no token says who publishes).
UNCHECKED_IDENTITY = PublisherIdentity("unchecked")


def check_file(
    dist_filename: str,
    sha256: str,
    attestations: Mapping[str, Mapping[str, Any]],
    publisher: PublisherIdentity | None,
) -> list[Finding]:
    """Every problem warehouse would find with these attestations of one file."""
    problems: list[Finding] = []
    seen: dict[str, str] = {}
    for source, attestation in attestations.items():
        found = _check_one(dist_filename, sha256, source, attestation, publisher)
        if isinstance(found, Finding):
            problems.append(found)
            continue
        if found in seen:
            problems.append(
                _problem(
                    "attestation-duplicate-type",
                    source,
                    f"a second {found} attestation for {dist_filename} (the first is "
                    f"{seen[found]}); PyPI takes at most one per predicate type",
                    f"Keep one: remove {source}.",
                )
            )
        seen.setdefault(found, source)
    return problems


def _check_one(
    dist_filename: str,
    sha256: str,
    source: str,
    attestation: Mapping[str, Any],
    publisher: PublisherIdentity | None,
) -> Finding | str:
    """A problem, or the predicate type of a good attestation."""
    try:
        statement, cert_der = _parse(attestation)
        subjects = statement["subject"]
        if statement.get("_type") != _STATEMENT_TYPE or not isinstance(subjects, list):
            raise ValueError("not an in-toto v1 statement")
        if len(subjects) != 1:
            raise ValueError(f"{len(subjects)} subjects, PyPI takes exactly one")
        name = str(subjects[0]["name"])
        digest = subjects[0]["digest"].get("sha256")
        predicate_type = str(statement["predicateType"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        return _problem(
            "attestation-malformed",
            source,
            f"not a PEP 740 attestation: {exc}",
            _REMOVE.format(path=source),
        )
    if not _same_distribution(name, dist_filename):
        return _problem(
            "attestation-other-file",
            source,
            f"it attests {name}, not {dist_filename}",
            f"Remove {source}, or put it beside {name}.",
        )
    if digest != sha256.lower():
        return _problem(
            "attestation-stale",
            source,
            f"it attests other contents of {dist_filename} (sha256 {digest}, the file's is "
            f"{sha256.lower()}): an attestation left from an earlier build",
            _REMOVE.format(path=source),
        )
    if predicate_type not in PREDICATE_TYPES:
        return _problem(
            "attestation-unknown-type",
            source,
            f"predicate type {predicate_type} is not one PyPI accepts "
            f"({', '.join(PREDICATE_TYPES)})",
            f"Remove {source}.",
        )
    identity_problem = _identity_problem(source, cert_der, publisher)
    return identity_problem or predicate_type


def _identity_problem(
    source: str, cert_der: bytes, publisher: PublisherIdentity | None
) -> Finding | None:
    if publisher is UNCHECKED_IDENTITY:
        return None
    if publisher is None:
        return _problem(
            "attestation-no-publisher",
            source,
            "PyPI accepts attestations only on a trusted-publishing upload from GitHub "
            "Actions, GitLab CI or Google Cloud, and this run's token is none of them",
            "Upload without attestations (--no-attestations), or from such a trusted publisher.",
        )
    try:
        cert = _cert_identity(cert_der)
    except ImportError:
        return _problem(
            "attestation-unchecked",
            source,
            "the publisher identity was not checked (cryptography is not installed)",
            "pip install 'registry-upload[attestations]'",
            severity=Severity.WARNING,
        )
    except ValueError as exc:
        return _problem("attestation-malformed", source, str(exc), _REMOVE.format(path=source))
    why = publisher.mismatch(cert)
    if why is None:
        return None
    return _problem(
        "attestation-foreign",
        source,
        f"it was not made by this upload's trusted publisher ({publisher.describe()}): {why}",
        _REMOVE.format(path=source),
    )


def _parse(attestation: Mapping[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The in-toto statement and the DER certificate of an attestation; ValueError if bad."""
    if attestation.get("version") != 1:
        raise ValueError(f"version {attestation.get('version')!r}, not 1")
    material = attestation["verification_material"]
    if not material.get("transparency_entries"):
        raise ValueError("no transparency log entry")
    try:
        cert_der = base64.b64decode(material["certificate"], validate=True)
        statement = json.loads(base64.b64decode(attestation["envelope"]["statement"]))
        base64.b64decode(attestation["envelope"]["signature"], validate=True)
    except binascii.Error as exc:
        raise ValueError(f"bad base64 ({exc})") from None
    if not isinstance(statement, dict):
        raise ValueError("the statement is not a JSON object")
    return statement, cert_der


def _same_distribution(a: str, b: str) -> bool:
    """Equal file names, or names that parse to the same distribution (as pypi-attestations)."""
    if a == b:
        return True
    try:
        if a.endswith(".whl") and b.endswith(".whl"):
            return parse_wheel_filename(a) == parse_wheel_filename(b)
        if a.endswith((".tar.gz", ".zip")) and b.endswith((".tar.gz", ".zip")):
            return a.endswith(".zip") == b.endswith(".zip") and (
                parse_sdist_filename(a) == parse_sdist_filename(b)
            )
    except (InvalidWheelFilename, InvalidSdistFilename):
        return False
    return False


def _cert_identity(cert_der: bytes) -> dict[str, str]:
    """The identity a Fulcio certificate records: issuer, SAN, repository, build config, ref."""
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(cert_der)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound) as exc:
        raise ValueError(f"unreadable signing certificate ({exc})") from None
    found: dict[str, str] = {}
    emails = sans.get_values_for_type(x509.RFC822Name)
    uris = sans.get_values_for_type(x509.UniformResourceIdentifier)
    found["san"] = (emails or uris or ["no identity"])[0]
    if emails:
        found["email"] = emails[0]
    names = {"8": "issuer", "12": "repository", "13": "sha", "14": "ref", "18": "build_config"}
    for ext in cert.extensions:
        arc = ext.oid.dotted_string.removeprefix(_OID)
        if arc in names and isinstance(ext.value, x509.UnrecognizedExtension):
            found[names[arc]] = _utf8_string(ext.value.value)
    return found


def _utf8_string(der: bytes) -> str:
    """The text of a DER UTF8String (tag 0x0C), as Fulcio's .8 onward extensions hold."""
    if len(der) < 2 or der[0] != 0x0C:
        raise ValueError("a Fulcio extension is not a UTF8String")
    length, start = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(der[2 : 2 + count], "big"), 2 + count
    return der[start : start + length].decode("utf-8", "replace")


def _problem(
    code: str, source: str, message: str, hint: str, *, severity: Severity = Severity.ERROR
) -> Finding:
    return Finding(code=code, severity=severity, path=source, message=message, hint=hint)
