"""The loopback Sigstore (registry_upload.testing.sigstore): real sigstore signs and verifies
against it, its log is a real Merkle log, its Fulcio refuses what Fulcio refuses, and nothing
it makes is accepted by the production Sigstore root."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("sigstore", reason="needs the attestations extra")
pytest.importorskip("pypi_attestations", reason="needs the attestations extra")

from pypi_attestations import Attestation, Distribution
from sigstore.models import ClientTrustConfig, TrustedRoot
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity, UnsafeNoOp

from registry_upload.testing.sigstore import (
    LoopbackSigstore,
    inclusion_path,
    merkle_root,
)


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackSigstore]:
    with LoopbackSigstore() as instance:
        yield instance


def _config(loopback: LoopbackSigstore) -> ClientTrustConfig:
    config = ClientTrustConfig.from_json(json.dumps(loopback.trust_config()))
    config.force_tlog_version = 1
    return config


def _sign(loopback: LoopbackSigstore, path: Path, token: str) -> Attestation:
    config = _config(loopback)
    with SigningContext.from_trust_config(config).signer(IdentityToken(token)) as signer:
        return Attestation.sign(signer, Distribution.from_file(path))


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    path = tmp_path / "octo_project-1.0-py3-none-any.whl"
    path.write_bytes(b"not really a wheel, but bytes to attest")
    return path


def test_real_sigstore_signs_and_verifies_against_it(loopback: LoopbackSigstore, wheel: Path):
    before = len(loopback.entries)
    attestation = _sign(loopback, wheel, loopback.google_token(email="ci@proj.iam.example"))
    assert len(loopback.entries) == before + 1
    verifier = Verifier(trusted_root=_config(loopback).trusted_root)
    policy = Identity(identity="ci@proj.iam.example", issuer="https://accounts.google.com")
    payload_type, payload = verifier.verify_dsse(attestation.to_bundle(), policy)
    assert payload_type == "application/vnd.in-toto+json"
    subject = json.loads(payload)["subject"][0]
    assert subject["digest"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_the_production_root_refuses_what_it_makes(loopback: LoopbackSigstore, wheel: Path):
    attestation = _sign(loopback, wheel, loopback.github_token())
    store = resources.files("sigstore._store") / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    production = TrustedRoot.from_file(str(store / "trusted_root.json"))
    with pytest.raises(Exception, match="certificate chain|chain"):
        Verifier(trusted_root=production).verify_dsse(attestation.to_bundle(), UnsafeNoOp())


def test_a_tampered_entry_does_not_verify(loopback: LoopbackSigstore, wheel: Path):
    attestation = _sign(loopback, wheel, loopback.github_token())
    data = attestation.model_dump(mode="json")
    entry = data["verification_material"]["transparency_entries"][0]
    entry["inclusionProof"]["rootHash"] = base64.b64encode(b"\0" * 32).decode()
    bundle = Attestation.model_validate(data).to_bundle()
    with pytest.raises(Exception, match="root hash|inclusion"):
        Verifier(trusted_root=_config(loopback).trusted_root).verify_dsse(bundle, UnsafeNoOp())


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_inclusion_paths_recompute_the_root(size: int):
    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(size)]
    root = merkle_root(leaves)
    for index in range(size):
        node, path = leaves[index], inclusion_path(index, leaves)
        # RFC 9162 2.1.3.2: walk the path bottom-up
        fn, sn = index, size - 1
        for sibling in path:
            if fn % 2 == 1 or fn == sn:
                node = hashlib.sha256(b"\x01" + sibling + node).digest()
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
            else:
                node = hashlib.sha256(b"\x01" + node + sibling).digest()
            fn, sn = fn >> 1, sn >> 1
        assert node == root


def test_fulcio_refuses_an_unknown_issuer_and_a_foreign_key(loopback: LoopbackSigstore, wheel):
    refused = len(loopback.refusals)
    with LoopbackSigstore() as other:
        foreign = other.github_token()  # right issuer name, another instance's key
    unknown = loopback.token({"iss": "https://issuer.invalid", "sub": "someone"})
    for token in (foreign, unknown):
        with pytest.raises(Exception):  # noqa: B017 - sigstore's own FulcioClientError
            _sign(loopback, wheel, token)
    reasons = [r for _, status, r in loopback.refusals[refused:] if status == 401]
    assert len(reasons) == 2
    assert "not the issuer's" in reasons[0]
    assert "unknown OIDC issuer" in reasons[1]


def test_the_github_token_endpoint_mints_for_the_audience_asked(loopback: LoopbackSigstore):
    import urllib.request

    env = loopback.github_env(repository="me/mine")
    request = urllib.request.Request(
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=pypi",
        headers={"Authorization": f"bearer {env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        token = json.load(answer)["value"]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (claims["aud"], claims["repository"]) == ("pypi", "me/mine")
