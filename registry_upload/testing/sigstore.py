"""A Sigstore on a loopback port, for signing and verifying attestations offline.

``LoopbackSigstore`` is one small HTTP server on 127.0.0.1 that plays every
part the real ``sigstore`` client talks to when it signs:

- a **token issuer** that mints OIDC identity tokens with the claims GitHub
  Actions, GitLab CI or Google Cloud would put in them (``github_token``,
  ``gitlab_token``, ``google_token``), and serves GitHub's token endpoint
  (``github_env()`` gives ``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``);
- a **Fulcio** (``POST /api/v2/signingCert``) that checks the token's
  signature, issuer, audience and lifetime and the CSR's proof of possession,
  then issues a 10-minute certificate from a local CA with Fulcio's identity
  extensions (OIDs 1.3.6.1.4.1.57264.1.*) and an embedded SCT from a local CT key;
- a **Rekor v1** (``POST /api/v1/log/entries``, ``dsse`` entries) that checks
  the envelope's signature, appends the entry to a real RFC 6962 Merkle log
  and answers with an inclusion proof, a signed checkpoint and a signed entry
  timestamp.

``trust_config()`` is the sigstore ``ClientTrustConfig`` JSON naming it (as
``sigstore --trust-config`` and ``attest(..., trust_config=...)`` read), and
``trust_config_path`` a file holding it while the instance runs;
``warehouse_check()`` answers as PyPI does to an upload's attestations.  All
keys are made fresh in memory for each instance and never written anywhere,
and the CA names itself a test CA: nothing it signs can chain to the
production Sigstore root (``tests/test_attest_loopback.py`` checks that).

Built on ``cryptography`` alone (which ``sigstore`` installs); the client
side needs the ``attestations`` extra.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import struct
import tempfile
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .._attest._check import GITHUB_ISSUER, GITLAB_ISSUER, GOOGLE_ISSUER

__all__ = [
    "GITHUB_ISSUER",
    "GITLAB_ISSUER",
    "GOOGLE_ISSUER",
    "LoopbackSigstore",
    "github_claims",
    "gitlab_claims",
    "google_claims",
    "inclusion_path",
    "merkle_root",
]

_KINDS = {GITHUB_ISSUER: "github", GITLAB_ISSUER: "gitlab", GOOGLE_ISSUER: "google"}
_FULCIO_OID = "1.3.6.1.4.1.57264.1."
_SCT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
_CERT_LIFETIME = dt.timedelta(minutes=10)
_DER = serialization.Encoding.DER
_Identity = tuple[x509.GeneralName, dict[int, str]]  # SAN, Fulcio extensions by last arc
_MAX_REQUEST = 1 << 20  # bytes of a request body (a CSR or a dsse entry is a few KiB)
_START = "2020-01-01T00:00:00Z"  # validFor.start of every service and key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_id(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The RFC 6962 key ID: SHA-256 of the DER SubjectPublicKeyInfo."""
    return hashlib.sha256(_spki(key)).digest()


def _sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def _canonical(value: Mapping[str, Any]) -> bytes:
    """RFC 8785 JSON for what is signed here (ASCII strings and integers only)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jwt_encode(claims: Mapping[str, Any], key: ec.EllipticCurvePrivateKey) -> str:
    """An ES256 JWT (RFC 7515/7518: the signature is r || s, 32 bytes each)."""
    header = _b64url(_canonical({"alg": "ES256", "kid": "loopback", "typ": "JWT"}))
    signing_input = f"{header}.{_b64url(_canonical(claims))}"
    r, s = decode_dss_signature(_sign(key, signing_input.encode()))
    return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _jwt_payload(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified; ValueError if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    claims = json.loads(_unb64url(parts[1]))
    if not isinstance(claims, dict):
        raise ValueError("the JWT payload is not an object")
    return claims


def _jwt_verified(token: str, key: ec.EllipticCurvePublicKey) -> None:
    header, payload, signature = token.split(".")
    raw = _unb64url(signature)
    if len(raw) != 64:
        raise ValueError("not an ES256 signature")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("the signature is not the issuer's") from None


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


# --- the Merkle log (RFC 6962 section 2.1) -----------------------------------


def _leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def inclusion_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf ``index``, bottom level first."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_path(index, leaves[:k]), merkle_root(leaves[k:])]
    return [*inclusion_path(index - k, leaves[k:]), merkle_root(leaves[:k])]


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LoopbackSigstore:
    """Token issuer, Fulcio and Rekor v1 on one loopback port (a context manager)."""

    def __init__(self, *, cert_lifetime: dt.timedelta = _CERT_LIFETIME) -> None:
        self._cert_lifetime = cert_lifetime
        self._issuer_key = ec.generate_private_key(ec.SECP256R1())
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        self._ct_key = ec.generate_private_key(ec.SECP256R1())
        self._rekor_key = ec.generate_private_key(ec.SECP256R1())
        self._ca = _make_ca(self._ca_key)
        self._lock = threading.Lock()
        self._leaves: list[bytes] = []
        self.entries: list[dict[str, Any]] = []  #: every log entry, in log order
        self.refusals: list[tuple[str, int, str]] = []  #: (path, status, reason) refused
        self._request_tokens: dict[str, dict[str, Any]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.trust_config_path = ""  #: the trust config, written at start()

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self) -> LoopbackSigstore:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        owner = self

        class Handler(_Handler):
            sigstore = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._dir = tempfile.TemporaryDirectory(prefix="loopback-sigstore-")
        self.trust_config_path = self.write_trust_config(os.path.join(self._dir.name, "trust.json"))

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("LoopbackSigstore is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- identity tokens -------------------------------------------------------

    def token(self, claims: Mapping[str, Any], *, audience: str = "sigstore") -> str:
        """A signed JWT with ``claims`` (``iss`` required), valid 5 minutes."""
        now = int(time.time())
        payload = {"aud": audience, "iat": now, "nbf": now, "exp": now + 300, **claims}
        return _jwt_encode(payload, self._issuer_key)

    def github_token(self, *, audience: str = "sigstore", **overrides: Any) -> str:
        """A GitHub Actions token; ``repository``, ``workflow``, ``ref`` etc. override."""
        return self.token(github_claims(**overrides), audience=audience)

    def gitlab_token(self, *, audience: str = "sigstore", **overrides: Any) -> str:
        return self.token(gitlab_claims(**overrides), audience=audience)

    def google_token(self, *, audience: str = "sigstore", **overrides: Any) -> str:
        return self.token(google_claims(**overrides), audience=audience)

    def github_env(self, **overrides: Any) -> dict[str, str]:
        """The variables GitHub Actions sets for a job with ``id-token: write``."""
        request_token = secrets.token_urlsafe(16)
        self._request_tokens[request_token] = github_claims(**overrides)
        return {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": request_token,
        }

    # -- trust configuration -----------------------------------------------------

    def trust_config(self) -> dict[str, Any]:
        """sigstore's ClientTrustConfig (v0.1) naming this instance."""

        def service(url: str) -> dict[str, Any]:
            return {
                "url": url,
                "majorApiVersion": 1,
                "validFor": {"start": _START},
                "operator": "registry-upload-loopback",
            }

        def log(key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, Any]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": _b64(_spki(key)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": _START},
                },
                "logId": {"keyId": _b64(_key_id(key))},
            }

        return {
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": {
                "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                "tlogs": [log(self._rekor_key, self.url)],
                "certificateAuthorities": [
                    {
                        "subject": {"organization": "registry-upload", "commonName": "loopback"},
                        "uri": self.url,
                        "certChain": {
                            "certificates": [
                                {
                                    "rawBytes": _b64(
                                        self._ca.public_bytes(serialization.Encoding.DER)
                                    )
                                }
                            ]
                        },
                        "validFor": {"start": _START},
                    }
                ],
                "ctlogs": [log(self._ct_key, f"{self.url}/ct")],
                "timestampAuthorities": [],
            },
            "signingConfig": {
                "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls": [service(self.url)],
                "oidcUrls": [service(self.url)],
                "rekorTlogUrls": [service(self.url)],
                "tsaUrls": [],
                "rekorTlogConfig": {"selector": "ANY"},
                "tsaConfig": {"selector": "ANY"},
            },
        }

    def write_trust_config(self, path: str) -> str:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.trust_config(), fh, indent=1)
        return path

    def warehouse_check(
        self, filename: str, content: bytes, field: str, claims: Mapping[str, Any]
    ) -> list[str]:
        """What PyPI finds wrong with an upload's ``attestations`` form field (``[]``: none).

        As warehouse: a non-empty JSON array, each attestation for this file's
        name and sha256, of a known predicate type at most once, signed by the
        trusted publisher of ``claims`` and verifying against this instance's root.
        For a fake registry that wants to answer ``400 Invalid attestations``.
        """
        from ..attest import precheck

        try:
            attestations = json.loads(field)
        except ValueError:
            return ["the attestations field is not JSON"]
        if not isinstance(attestations, list) or not attestations:
            return ["the attestations field is not a non-empty JSON array"]
        if not all(isinstance(a, dict) for a in attestations):
            return ["an attestation is not a JSON object"]
        digest = hashlib.sha256(content).hexdigest()
        problems = precheck(
            filename, digest, attestations, claims, verify=True, trust_config=self.trust_config_path
        )
        return [f"{p.path}: {p.message}" for p in problems]

    # -- Fulcio ------------------------------------------------------------------

    def _claims_of(self, token: str) -> dict[str, Any]:
        """The token's claims once its issuer, signature, audience and lifetime check out."""
        try:
            claims = _jwt_payload(token)
            if claims.get("iss") not in _KINDS:
                raise _Refused(401, f"unknown OIDC issuer {claims.get('iss')!r}")
            _jwt_verified(token, self._issuer_key.public_key())
        except ValueError as exc:
            raise _Refused(401, f"invalid identity token: {exc}") from None
        missing = [c for c in ("iss", "sub", "aud", "exp", "iat") if c not in claims]
        if missing:
            raise _Refused(401, f"the identity token lacks {', '.join(missing)}")
        if claims["aud"] != "sigstore":
            raise _Refused(401, f"the identity token's audience is {claims['aud']!r}, not sigstore")
        if not claims.get("nbf", 0) - 60 <= time.time() < claims["exp"]:
            raise _Refused(401, "the identity token has expired or is not valid yet")
        return claims

    def issue_certificate(self, token: str, csr_pem: bytes) -> list[str]:
        """Fulcio's signingCert: the chain [leaf, CA] as PEM, or ``_Refused``."""
        claims = self._claims_of(token)
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError:
            raise _Refused(400, "malformed certificate signing request") from None
        if not csr.is_signature_valid:
            raise _Refused(400, "the CSR is not signed by its own key")
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise _Refused(400, "only ECDSA keys are issued here")
        builder = self._leaf_builder(public_key, _identity(claims))
        leaf = self._with_sct(builder)
        return [
            leaf.public_bytes(serialization.Encoding.PEM).decode(),
            self._ca.public_bytes(serialization.Encoding.PEM).decode(),
        ]

    def _leaf_builder(
        self,
        public_key: ec.EllipticCurvePublicKey,
        identity: tuple[x509.GeneralName, dict[int, str]],
    ) -> x509.CertificateBuilder:
        san, extensions = identity
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self._ca.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + self._cert_lifetime)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                False,
            )
            .add_extension(x509.SubjectAlternativeName([san]), critical=True)
        )
        for number, value in sorted(extensions.items()):
            oid = x509.ObjectIdentifier(f"{_FULCIO_OID}{number}")
            # .1 (issuer, deprecated) is the raw string; .8 onwards a DER UTF8String
            raw = value.encode() if number == 1 else _der(0x0C, value.encode())
            builder = builder.add_extension(x509.UnrecognizedExtension(oid, raw), False)
        return builder

    def _with_sct(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        """Sign the precertificate's TBS into an SCT, then issue with the SCT embedded."""
        precert = builder.sign(self._ca_key, hashes.SHA256())
        timestamp = int(time.time() * 1000)
        tbs = precert.tbs_certificate_bytes
        issuer_key_hash = hashlib.sha256(_spki(self._ca_key)).digest()
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp, 1)  # v1, certificate_timestamp, precert_entry
            + issuer_key_hash
            + len(tbs).to_bytes(3, "big")
            + tbs
            + struct.pack("!H", 0)  # no extensions
        )
        signature = _sign(self._ct_key, signed)
        sct = (
            struct.pack("!B", 0)
            + _key_id(self._ct_key)
            + struct.pack("!QH", timestamp, 0)
            + struct.pack("!BBH", 4, 3, len(signature))  # sha256, ecdsa
            + signature
        )
        sct_list = struct.pack("!HH", len(sct) + 2, len(sct)) + sct
        extension = x509.UnrecognizedExtension(_SCT_OID, _der(0x04, sct_list))
        return builder.add_extension(extension, False).sign(self._ca_key, hashes.SHA256())

    # -- Rekor v1 ---------------------------------------------------------------

    def log_entry(self, proposed: Mapping[str, Any]) -> dict[str, Any]:
        """Rekor's POST /api/v1/log/entries for a ``dsse`` entry."""
        body = _dsse_body(proposed)
        with self._lock:
            index = len(self._leaves)
            self._leaves.append(_leaf_hash(body))
            leaves = list(self._leaves)
        integrated = int(time.time())
        log_id = _key_id(self._rekor_key).hex()
        root = merkle_root(leaves)
        encoded = _b64(body)
        timestamp_payload = _canonical(
            {"body": encoded, "integratedTime": integrated, "logID": log_id, "logIndex": index}
        )
        entry = {
            "body": encoded,
            "integratedTime": integrated,
            "logID": log_id,
            "logIndex": index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": self._checkpoint(len(leaves), root),
                    "hashes": [h.hex() for h in inclusion_path(index, leaves)],
                    "logIndex": index,
                    "rootHash": root.hex(),
                    "treeSize": len(leaves),
                },
                "signedEntryTimestamp": _b64(_sign(self._rekor_key, timestamp_payload)),
            },
        }
        with self._lock:
            self.entries.append(entry)
        return {leaves[index].hex(): entry}

    def _checkpoint(self, size: int, root: bytes) -> str:
        note = f"127.0.0.1 - loopback\n{size}\n{_b64(root)}\n"
        signature = _key_id(self._rekor_key)[:4] + _sign(self._rekor_key, note.encode())
        return f"{note}\n\u2014 loopback {_b64(signature)}\n"


def _make_ca(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "registry-upload testing"),
            x509.NameAttribute(NameOID.COMMON_NAME, "loopback Sigstore CA - TEST ONLY"),
        ]
    )
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )


def _identity(claims: Mapping[str, Any]) -> _Identity:
    """The SAN and Fulcio extensions (by last OID arc) for the token's issuer."""
    issuer = str(claims["iss"])
    kind = _KINDS[issuer]
    base = {1: issuer, 8: issuer}
    try:
        if kind == "google":
            return x509.RFC822Name(str(claims["email"])), base
        if kind == "gitlab":
            config = f"https://{claims['ci_config_ref_uri']}"
            ref_kind = "tags" if claims.get("ref_type") == "tag" else "heads"
            return x509.UniformResourceIdentifier(config), {
                **base,
                9: config,
                12: f"https://gitlab.com/{claims['project_path']}",
                13: str(claims["sha"]),
                14: f"refs/{ref_kind}/{claims['ref']}",
                18: config,
                19: str(claims.get("ci_config_sha", claims["sha"])),
            }
        gh = "https://github.com/"
        return x509.UniformResourceIdentifier(gh + str(claims["job_workflow_ref"])), {
            **base,
            9: gh + str(claims["job_workflow_ref"]),
            10: str(claims["job_workflow_sha"]),
            11: str(claims["runner_environment"]),
            12: gh + str(claims["repository"]),
            13: str(claims["sha"]),
            14: str(claims["ref"]),
            15: str(claims["repository_id"]),
            16: gh + str(claims["repository_owner"]),
            17: str(claims["repository_owner_id"]),
            18: gh + str(claims["workflow_ref"]),
            19: str(claims["workflow_sha"]),
            20: str(claims["event_name"]),
            21: f"{gh}{claims['repository']}/actions/runs/{claims['run_id']}/attempts/1",
            22: str(claims["repository_visibility"]),
        }
    except KeyError as exc:
        raise _Refused(400, f"the token lacks the {exc.args[0]!r} claim") from None


def github_claims(
    *,
    repository: str = "octo-org/octo-project",
    workflow: str = "release.yml",
    ref: str = "refs/tags/v1.0.0",
    sha: str = "a" * 40,
    **extra: Any,
) -> dict[str, Any]:
    """The claims of a GitHub Actions OIDC token (a run of ``workflow`` at ``ref``)."""
    workflow_ref = f"{repository}/.github/workflows/{workflow}@{ref}"
    owner = repository.split("/", maxsplit=1)[0]
    return {
        "iss": GITHUB_ISSUER,
        "sub": f"repo:{repository}:ref:{ref}",
        "repository": repository,
        "repository_owner": owner,
        "repository_id": "1001",
        "repository_owner_id": "2002",
        "repository_visibility": "public",
        "ref": ref,
        "sha": sha,
        "workflow_ref": workflow_ref,
        "workflow_sha": sha,
        "job_workflow_ref": workflow_ref,
        "job_workflow_sha": sha,
        "event_name": "push",
        "run_id": "4242",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
        **extra,
    }


def gitlab_claims(
    *,
    project_path: str = "octo-group/octo-project",
    ci_file: str = ".gitlab-ci.yml",
    ref: str = "main",
    sha: str = "b" * 40,
    **extra: Any,
) -> dict[str, Any]:
    """The claims of a GitLab CI ``id_tokens`` token (``ref`` is a branch)."""
    return {
        "iss": GITLAB_ISSUER,
        "sub": f"project_path:{project_path}:ref_type:branch:ref:{ref}",
        "project_path": project_path,
        "namespace_path": project_path.rpartition("/")[0],
        "ref": ref,
        "ref_type": "branch",
        "sha": sha,
        "ci_config_ref_uri": f"gitlab.com/{project_path}//{ci_file}@refs/heads/{ref}",
        "ci_config_sha": sha,
        "runner_environment": "gitlab-hosted",
        **extra,
    }


def google_claims(
    *, email: str = "publisher@octo-project.iam.gserviceaccount.com", **extra: Any
) -> dict[str, Any]:
    """The claims of a Google Cloud service account's identity token."""
    return {
        "iss": GOOGLE_ISSUER,
        "sub": "112233445566778899",
        "email": email,
        "email_verified": True,
        **extra,
    }


def _dsse_body(proposed: Mapping[str, Any]) -> bytes:
    """Rekor's canonical body for a proposed dsse entry, after checking its signature."""
    try:
        if proposed.get("kind") != "dsse":
            raise _Refused(400, f"entry kind {proposed.get('kind')!r} is not served here")
        content = proposed["spec"]["proposedContent"]
        envelope_text = str(content["envelope"])
        envelope = json.loads(envelope_text)
        verifier_pem = base64.b64decode(content["verifiers"][0])
        cert = x509.load_pem_x509_certificate(verifier_pem)
        payload = base64.b64decode(envelope["payload"])
        payload_type = str(envelope["payloadType"])
        signatures = envelope["signatures"]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise _Refused(400, f"malformed dsse entry: {exc}") from None
    pae = b"DSSEv1 %d %s %d %s" % (
        len(payload_type),
        payload_type.encode(),
        len(payload),
        payload,
    )
    public_key = cert.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise _Refused(400, "the verifier is not an ECDSA key")
    for signature in signatures:
        try:
            public_key.verify(base64.b64decode(signature["sig"]), pae, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, KeyError, ValueError):
            raise _Refused(400, "the envelope's signature does not verify") from None
    body = {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {
                "algorithm": "sha256",
                "value": hashlib.sha256(envelope_text.encode()).hexdigest(),
            },
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": [
                {"signature": s["sig"], "verifier": _b64(verifier_pem)} for s in signatures
            ],
        },
    }
    return _canonical(body)


class _Handler(BaseHTTPRequestHandler):
    sigstore: LoopbackSigstore
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes on a kept-alive link

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/token":
            self._reply(404, {"message": "not found"})
            return
        request_token = self.headers.get("Authorization", "").partition(" ")[2]
        claims = self.sigstore._request_tokens.get(request_token)
        if claims is None:
            self._refuse(401, "unknown request token")
            return
        audience = parse_qs(parts.query).get("audience", ["sigstore"])[0]
        self._reply(200, {"value": self.sigstore.token(claims, audience=audience)})

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= _MAX_REQUEST:
                raise _Refused(413, f"a request body of {length} bytes is not taken here")
            data = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/api/v2/signingCert":
                token = self.headers.get("Authorization", "").partition(" ")[2]
                csr = base64.b64decode(data["certificateSigningRequest"])
                chain = self.sigstore.issue_certificate(token, csr)
                answer = {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}
                self._reply(201, answer)
            elif self.path == "/api/v1/log/entries":
                self._reply(201, self.sigstore.log_entry(data))
            else:
                self._reply(404, {"message": "not found"})
        except _Refused as exc:
            self._refuse(exc.status, str(exc))
        except (KeyError, TypeError, ValueError) as exc:
            self._refuse(400, f"malformed request: {exc}")

    def _refuse(self, status: int, message: str) -> None:
        self.sigstore.refusals.append((self.path, status, message))
        self._reply(status, {"code": status, "message": message})

    def _reply(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
