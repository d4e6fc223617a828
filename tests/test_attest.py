"""registry_upload.attest end to end, offline: token -> certificate -> log entry -> attestation
-> pre-check -> verification by a second tool, against the loopback Sigstore; and the
negatives PyPI refuses (another workflow, another repository, another file's attestation,
a stale attestation, a token from an unknown issuer)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry_upload.attest import (
    ATTESTATION_SUFFIX,
    AttestationError,
    AttestationsUnavailableError,
    IdentityTokenError,
    InvalidAttestationError,
    TrustConfigError,
    attest,
    attestations_beside,
    precheck,
    token_claims,
)
from registry_upload.errors import ConfigurationError, CredentialError, DistributionError
from registry_upload.testing import make_sdist, make_wheel

sigstore_extra = pytest.mark.skipif(
    not __import__("registry_upload.attest").attest.attestations_available(),
    reason="needs the attestations extra (sigstore, pypi-attestations)",
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- without the extra ----------------------------------------------------------

_HIDE_EXTRA = """
    import sys
    class Hide:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("sigstore", "pypi_attestations"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, Hide())
"""


def test_without_the_extra_attest_says_what_to_install(tmp_path: Path):
    wheel = make_wheel(tmp_path, "octo-project", "1.0")
    result = _run(
        _HIDE_EXTRA
        + f"""
    from registry_upload.attest import attest, AttestationsUnavailableError
    from registry_upload.errors import ConfigurationError
    try:
        attest({str(wheel)!r}, identity_token="x.y.z")
    except AttestationsUnavailableError as exc:
        assert isinstance(exc, ConfigurationError)
        print(exc, exc.hint)
    """
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'registry-upload[attestations]'" in result.stdout
    assert not list(tmp_path.glob("*.attestation"))


def test_plain_import_and_precheck_never_import_sigstore():
    result = _run(
        """
    import sys, registry_upload, registry_upload.uploader, registry_upload.attest as a
    a.precheck("p-1.0.tar.gz", "0" * 64, [], {"iss": "https://gitlab.com"})
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in
                   ("sigstore", "pypi_attestations", "cryptography", "requests", "pydantic"))
    print(heavy)
    """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_errors_sit_on_the_one_tree():
    assert issubclass(AttestationsUnavailableError, ConfigurationError)
    assert issubclass(TrustConfigError, ConfigurationError)
    assert issubclass(IdentityTokenError, CredentialError)
    assert issubclass(InvalidAttestationError, DistributionError)
    with pytest.raises(IdentityTokenError, match="not a JWT"):
        token_claims("not-a-token")


# --- the loopback Sigstore --------------------------------------------------------


@pytest.fixture(scope="module")
def loopback() -> Iterator[Any]:
    if not __import__("registry_upload.attest").attest.attestations_available():
        pytest.skip("needs the attestations extra (sigstore, pypi-attestations)")
    from registry_upload.testing.sigstore import LoopbackSigstore

    with LoopbackSigstore() as instance:
        yield instance


@pytest.fixture
def trust(loopback: Any, tmp_path: Path) -> str:
    return loopback.write_trust_config(str(tmp_path / "trust.json"))


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    out.mkdir()
    make_wheel(out, "octo-project", "1.0")
    make_sdist(out, "octo-project", "1.0")
    return out


def _verify_with_pypi_attestations(
    monkeypatch: pytest.MonkeyPatch, loopback: Any, path: Path, publisher: Any
) -> str:
    """pypi-attestations' own Attestation.verify, its production Verifier swapped for ours."""
    import pypi_attestations._impl as impl
    from pypi_attestations import Attestation, Distribution
    from sigstore.models import ClientTrustConfig
    from sigstore.verify import Verifier

    root = ClientTrustConfig.from_json(json.dumps(loopback.trust_config())).trusted_root
    monkeypatch.setattr(
        impl.Verifier,
        "production",
        classmethod(lambda cls, offline=False: Verifier(trusted_root=root)),
    )
    attestation = Attestation.model_validate_json(Path(str(path) + ATTESTATION_SUFFIX).read_text())
    predicate_type, _ = attestation.verify(publisher, Distribution.from_file(path))
    return predicate_type


@sigstore_extra
def test_end_to_end_github(loopback: Any, trust: str, dist: Path, monkeypatch):
    from pypi_attestations import GitHubPublisher

    env = loopback.github_env(repository="octo-org/octo-project", workflow="release.yml")
    before = len(loopback.entries)
    report = attest(dist, trust_config=trust, env=env)  # the ambient token: GitHub's endpoint

    files = sorted(dist.glob("*.whl")) + sorted(dist.glob("*.tar.gz"))
    assert [f.status for f in report.files] == ["signed", "signed"]
    assert len(loopback.entries) == before + 2
    assert {f.log_index for f in report.files} == {before, before + 1}
    assert report.publisher is not None and report.publisher.workflow == "release.yml"
    claims = token_claims(loopback.github_token(repository="octo-org/octo-project"))
    for path in files:
        found = attestations_beside(path)
        assert list(found) == [str(path) + ATTESTATION_SUFFIX]
        assert (
            precheck(path.name, _sha256(path), found, claims, verify=True, trust_config=trust) == []
        )
        publisher = GitHubPublisher(repository="octo-org/octo-project", workflow="release.yml")
        predicate = _verify_with_pypi_attestations(monkeypatch, loopback, path, publisher)
        assert predicate == "https://docs.pypi.org/attestations/publish/v1"


@sigstore_extra
@pytest.mark.parametrize("kind", ["gitlab", "google"])
def test_gitlab_and_google_identities(loopback: Any, trust: str, dist: Path, kind: str):
    token = loopback.gitlab_token() if kind == "gitlab" else loopback.google_token()
    report = attest(dist, identity_token=token, trust_config=trust)
    assert len(report.signed) == 2
    wheel = next(dist.glob("*.whl"))
    found = attestations_beside(wheel)
    assert (
        precheck(
            wheel.name, _sha256(wheel), found, token_claims(token), verify=True, trust_config=trust
        )
        == []
    )
    other = (
        loopback.gitlab_token(project_path="someone/else")
        if kind == "gitlab"
        else (loopback.google_token(email="intruder@elsewhere.iam.example"))
    )
    [problem] = precheck(wheel.name, _sha256(wheel), found, token_claims(other))
    assert problem.code == "attestation-foreign"


@pytest.fixture
def signed(loopback: Any, trust: str, dist: Path) -> tuple[Path, dict[str, Any]]:
    """A wheel with its publish attestation from octo-org/octo-project, release.yml."""
    token = loopback.github_token(repository="octo-org/octo-project", workflow="release.yml")
    attest(dist, identity_token=token, trust_config=trust)
    wheel = next(dist.glob("*.whl"))
    return wheel, attestations_beside(wheel)


@sigstore_extra
@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"workflow": "other.yml"}, "made by https://github.com/octo-org/octo-project/.github/"),
        ({"repository": "octo-org/fork"}, "made in https://github.com/octo-org/octo-project"),
    ],
    ids=["another-workflow", "another-repository"],
)
def test_precheck_refuses_another_publisher(loopback, signed, claims, reason):
    wheel, found = signed
    run = token_claims(loopback.github_token(**claims))
    [problem] = precheck(wheel.name, _sha256(wheel), found, run)
    assert problem.code == "attestation-foreign"
    assert reason in problem.message
    assert str(wheel) + ATTESTATION_SUFFIX in problem.hint  # names the file to remove


@sigstore_extra
def test_precheck_refuses_another_files_attestation(loopback, signed, dist):
    wheel, found = signed
    sdist = next(dist.glob("*.tar.gz"))
    claims = token_claims(loopback.github_token())
    [problem] = precheck(sdist.name, _sha256(sdist), found, claims)
    assert problem.code == "attestation-other-file"
    assert wheel.name in problem.message


@sigstore_extra
def test_a_stale_attestation_stops_attest_before_signing(loopback, trust, signed):
    wheel, found = signed
    wheel.write_bytes(wheel.read_bytes() + b"\0")  # rebuilt: same name, other bytes
    claims = token_claims(loopback.github_token())
    [problem] = precheck(wheel.name, _sha256(wheel), found, claims)
    assert problem.code == "attestation-stale"
    before = len(loopback.entries)
    with pytest.raises(InvalidAttestationError) as caught:
        attest(wheel.parent, identity_token=loopback.github_token(), trust_config=trust)
    assert caught.value.problems[0].code == "attestation-stale"
    assert len(loopback.entries) == before  # nothing was signed
    report = attest(
        wheel, identity_token=loopback.github_token(), trust_config=trust, overwrite=True
    )
    assert [f.status for f in report.files] == ["signed"]
    assert precheck(wheel.name, _sha256(wheel), attestations_beside(wheel), claims) == []


@sigstore_extra
def test_a_valid_attestation_is_kept(loopback, trust, signed):
    wheel, _ = signed
    before = len(loopback.entries)
    report = attest(wheel, identity_token=loopback.github_token(), trust_config=trust)
    assert [(f.status, f.log_index) for f in report.files] == [("kept", None)]
    assert len(loopback.entries) == before


@sigstore_extra
def test_types_and_counts(loopback, signed):
    wheel, found = signed
    [(source, attestation)] = found.items()
    claims = token_claims(loopback.github_token())
    twice = {source: attestation, source + ".copy": attestation}
    [problem] = precheck(wheel.name, _sha256(wheel), twice, claims)
    assert problem.code == "attestation-duplicate-type"
    broken = {source: {**attestation, "version": 2}}
    [problem] = precheck(wheel.name, _sha256(wheel), broken, claims)
    assert problem.code == "attestation-malformed"
    [problem] = precheck(wheel.name, _sha256(wheel), [attestation], {"iss": "https://x.invalid"})
    assert problem.code == "attestation-no-publisher"


@sigstore_extra
def test_a_token_from_an_unknown_issuer_is_refused(loopback, trust, dist):
    from registry_upload.testing.sigstore import LoopbackSigstore

    with LoopbackSigstore() as elsewhere:
        foreign = elsewhere.github_token()
    with pytest.raises(AttestationError, match="refused a signing certificate: 401") as caught:
        attest(dist, identity_token=foreign, trust_config=trust)
    assert foreign not in str(caught.value)
    assert not list(dist.glob("*.attestation"))


@sigstore_extra
def test_identity_and_configuration_errors(loopback, trust, dist, tmp_path):
    with pytest.raises(IdentityTokenError, match="not in GitHub Actions"):
        attest(dist, trust_config=trust, env={})
    with pytest.raises(IdentityTokenError) as caught:
        attest(dist, identity_token=loopback.github_token(audience="pypi"), trust_config=trust)
    assert "audience `sigstore`" in (caught.value.hint or "")  # the hint is an attribute
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(TrustConfigError, match="not a usable Sigstore trust config"):
        attest(dist, identity_token=loopback.github_token(), trust_config=bad)
    env = {
        "REGISTRY_UPLOAD_SIGSTORE_TRUST_CONFIG": trust,
        "GITLAB_CI": "true",
        "SIGSTORE_ID_TOKEN": loopback.gitlab_token(),
    }
    assert len(attest(dist, env=env).signed) == 2


@sigstore_extra
def test_the_production_root_refuses_loopback_attestations(signed):
    store = Path(__import__("sigstore").__file__).parent / "_store"
    production = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": json.loads(
            (store / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev" / "trusted_root.json").read_text()
        ),
        "signingConfig": json.loads(
            (
                store / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev" / "signing_config.v0.2.json"
            ).read_text()
        ),
    }
    wheel, found = signed
    path = wheel.parent.parent / "production.json"
    path.write_text(json.dumps(production))
    from registry_upload.testing.sigstore import github_claims

    claims = github_claims(repository="octo-org/octo-project", workflow="release.yml")
    [problem] = precheck(wheel.name, _sha256(wheel), found, claims, verify=True, trust_config=path)
    assert problem.code == "attestation-signature"
    assert "certificate chain" in problem.message
