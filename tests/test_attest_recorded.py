"""Regression against real material: attestations made by GitHub Actions and GitLab CI on the
production Sigstore (recorded in pypi-attestations' test assets, tests/data/attestations/NOTICE)
pass the pre-check for their own publisher and verify offline against the production root;
another publisher, another file, or the loopback root refuse them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry_upload.attest import attestations_available, attestations_beside, precheck_files
from registry_upload.testing.sigstore import GITHUB_ISSUER, GITLAB_ISSUER

DATA = Path(__file__).parent / "data" / "attestations"
GITHUB_SDIST = DATA / "pypi_attestations-0.0.19.tar.gz"
GITLAB_SDIST = DATA / "gitlab_oidc_project-0.0.3.tar.gz"
GITHUB_RUN = {
    "iss": GITHUB_ISSUER,
    "repository": "trailofbits/pypi-attestations",
    "job_workflow_ref": "trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
}
GITLAB_RUN = {
    "iss": GITLAB_ISSUER,
    "project_path": "facutuesca/gitlab-oidc-project",
    "ci_config_ref_uri": "gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main",
}
needs_extra = pytest.mark.skipif(
    not attestations_available(), reason="needs the attestations extra"
)


@pytest.mark.parametrize(
    ("sdist", "claims"), [(GITHUB_SDIST, GITHUB_RUN), (GITLAB_SDIST, GITLAB_RUN)]
)
def test_real_attestations_pass_for_their_own_publisher(sdist: Path, claims: dict[str, str]):
    assert len(attestations_beside(sdist)) == (2 if sdist == GITHUB_SDIST else 1)
    assert precheck_files(sdist, claims) == []


def test_real_attestations_refused_for_another_publisher():
    fork = {**GITHUB_RUN, "repository": "someone/pypi-attestations"}
    problems = precheck_files(GITHUB_SDIST, fork)
    assert [p.code for p in problems] == ["attestation-foreign", "attestation-foreign"]
    assert {p.path for p in problems} == set(attestations_beside(GITHUB_SDIST))
    [problem] = precheck_files(GITLAB_SDIST, GITHUB_RUN)
    assert "signed with a token from https://gitlab.com" in problem.message


def _production_trust_config(tmp_path: Path) -> Path:
    store = Path(__import__("sigstore").__file__).parent / "_store"
    tuf = store / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    config = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": json.loads((tuf / "trusted_root.json").read_text()),
        "signingConfig": json.loads((tuf / "signing_config.v0.2.json").read_text()),
    }
    path = tmp_path / "production.json"
    path.write_text(json.dumps(config))
    return path


@needs_extra
@pytest.mark.parametrize(
    ("sdist", "claims"), [(GITHUB_SDIST, GITHUB_RUN), (GITLAB_SDIST, GITLAB_RUN)]
)
def test_real_attestations_verify_offline_against_production(tmp_path, sdist, claims):
    from registry_upload.attest import precheck

    digest = __import__("hashlib").sha256(sdist.read_bytes()).hexdigest()
    found = attestations_beside(sdist)
    production = _production_trust_config(tmp_path)
    assert precheck(sdist.name, digest, found, claims, verify=True, trust_config=production) == []

    from registry_upload.testing.sigstore import LoopbackSigstore

    with LoopbackSigstore() as loopback:
        problems = precheck(
            sdist.name, digest, found, claims, verify=True, trust_config=loopback.trust_config_path
        )
    assert {p.code for p in problems} == {"attestation-signature"}
