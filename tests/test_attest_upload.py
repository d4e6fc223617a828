"""Attestations from signing to the registry's verification: ``attest`` writes them, an
upload carries them (as it carries any ``<file>.*.attestation``), and the registry side checks
the form field as warehouse does; plus the ``attest`` command's terminal side."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from registry_upload import Credentials, upload
from registry_upload.attest import attest, attestations_available, precheck_files, token_claims
from registry_upload.cli._attest import EXIT_USAGE, add_attest_parser, run_attest
from registry_upload.testing import FakeRegistry, make_wheel

from . import test_attest

loopback, dist = test_attest.loopback, test_attest.dist  # the shared fixtures

pytestmark = pytest.mark.skipif(
    not attestations_available(),
    reason="needs the attestations extra (sigstore, pypi-attestations)",
)

CREDS = Credentials.of("__token__", "pypi-loopback-token", source="test")


def _uploaded_attestations(registry: FakeRegistry) -> dict[str, tuple[bytes, str]]:
    out = {}
    for name, stored in registry.stored.items():
        [field] = stored.form["attestations"]
        assert isinstance(field, str)
        out[name] = (stored.data, field)
    return out


def test_signed_uploaded_and_verified_as_warehouse_does(loopback: Any, dist: Path):
    token = loopback.github_token(repository="octo-org/octo-project", workflow="release.yml")
    attest(dist, identity_token=token, trust_config=loopback.trust_config_path)
    run_claims = token_claims(loopback.github_token(audience="pypi"))
    assert precheck_files(dist, run_claims) == []  # what an upload runs before its first byte
    with FakeRegistry() as registry:
        report = upload(dist, registry.url, credentials=CREDS)
        assert report.ok
        uploaded = _uploaded_attestations(registry)
    assert len(uploaded) == 2
    for name, (data, field) in uploaded.items():
        assert loopback.warehouse_check(name, data, field, run_claims) == []
        other_workflow = token_claims(loopback.github_token(workflow="nightly.yml"))
        [problem] = loopback.warehouse_check(name, data, field, other_workflow)
        assert "not made by this upload's trusted publisher" in problem
        [problem] = loopback.warehouse_check(name, data + b"x", field, run_claims)
        assert "other contents" in problem


def test_precheck_files_names_a_stale_file_before_upload(loopback: Any, dist: Path):
    token = loopback.gitlab_token()
    attest(dist, identity_token=token, trust_config=loopback.trust_config_path)
    wheel = next(dist.glob("*.whl"))
    make_wheel(dist, "octo-project", "1.0", payload_size=100)  # rebuilt over the signed one
    [problem] = precheck_files(dist, token_claims(token))
    assert problem.code == "attestation-stale"
    assert problem.path == f"{wheel}.publish.attestation"


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_attest_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["attest", *argv])


def test_the_attest_command(loopback: Any, dist: Path, monkeypatch, capsys):
    for name, value in loopback.github_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REGISTRY_UPLOAD_SIGSTORE_TRUST_CONFIG", loopback.trust_config_path)
    out = io.StringIO()
    assert run_attest(_args(str(dist)), [str(dist)], out) == 0
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines[:2]] == ["signed", "signed"]
    assert lines[-1].startswith("2 signed as GitHub repository octo-org/octo-project")
    out = io.StringIO()
    assert run_attest(_args("--json", str(dist)), [str(dist)], out) == 0
    assert [f["status"] for f in json.loads(out.getvalue())["files"]] == ["kept", "kept"]
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert run_attest(_args(str(dist)), [str(dist)], io.StringIO()) == EXIT_USAGE
    assert "hint: Sign in CI with trusted publishing" in capsys.readouterr().err


def _open(directory: Path) -> list[Any]:
    from registry_upload import Distribution

    return [Distribution.open(p) for p in sorted(directory.iterdir()) if p.suffix != ".attestation"]


def test_prepare_for_upload_signs_what_lacks_one_and_reattaches(loopback: Any, dist: Path):
    from registry_upload.attest import prepare_for_upload, without_attestations

    env = {
        **loopback.github_env(),
        "REGISTRY_UPLOAD_SIGSTORE_TRUST_CONFIG": loopback.trust_config_path,
    }
    wheel = next(dist.glob("*.whl"))
    attest(wheel, identity_token=loopback.github_token(), trust_config=loopback.trust_config_path)
    dists = _open(dist)
    assert [len(d.attestations) for d in dists] == [1, 0]  # the sdist has none yet
    prepared = prepare_for_upload(dists, env=env)
    assert prepared.signed is not None
    assert [f.path for f in prepared.signed.files] == [str(dists[1].path)]
    assert [len(d.attestations) for d in prepared.dists] == [1, 1]
    assert prepared.notes == ()
    assert [d.attestations for d in without_attestations(prepared.dists)] == [(), ()]


def test_prepare_for_upload_stops_on_a_foreign_attestation(loopback: Any, dist: Path):
    from registry_upload.attest import InvalidAttestationError, prepare_for_upload

    made_elsewhere = loopback.github_token(repository="someone/else")
    attest(dist, identity_token=made_elsewhere, trust_config=loopback.trust_config_path)
    env = loopback.github_env()
    with pytest.raises(InvalidAttestationError) as caught:
        prepare_for_upload(_open(dist), env=env)
    assert {p.code for p in caught.value.problems} == {"attestation-foreign"}
    assert "--no-attestations" in (caught.value.hint or "")


def test_prepare_for_upload_without_an_identity_token(dist: Path):
    from registry_upload.attest import IdentityTokenError, prepare_for_upload

    prepared = prepare_for_upload(_open(dist), env={})
    assert prepared.signed is None
    assert prepared.notes[0].startswith("not signing attestations: no OIDC identity")
    with pytest.raises(IdentityTokenError):
        prepare_for_upload(_open(dist), env={}, required=True)
