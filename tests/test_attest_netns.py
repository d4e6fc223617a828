"""The whole chain where only loopback exists: in a private network namespace (``unshare -rn``,
where the machine allows it; otherwise skipped with the reason), a GitHub-style job gets its
token from the token endpoint, signs with real sigstore, writes the attestations, pre-checks,
uploads them, and the registry side verifies them as warehouse does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from registry_upload.attest import attestations_available

SCRIPT = textwrap.dedent(
    """
    import socket, sys
    from registry_upload import Credentials, upload
    from registry_upload.attest import attest, precheck_files, token_claims
    from registry_upload.testing import FakeRegistry, make_sdist, make_wheel
    from registry_upload.testing.sigstore import LoopbackSigstore

    try:  # nothing but loopback here
        socket.create_connection(("192.0.2.1", 443), timeout=1)
        sys.exit("a route out exists")
    except OSError:
        pass
    dist = sys.argv[1]
    make_wheel(dist, "octo-project", "1.0")
    make_sdist(dist, "octo-project", "1.0")
    with LoopbackSigstore() as sigstore, FakeRegistry() as registry:
        env = {**sigstore.github_env(), "REGISTRY_UPLOAD_SIGSTORE_TRUST_CONFIG":
               sigstore.trust_config_path}
        report = attest(dist, env=env)
        claims = token_claims(sigstore.github_token(audience="pypi"))
        assert precheck_files(dist, claims) == []
        assert upload(dist, registry.url, credentials=Credentials.of("__token__", "t")).ok
        for name, stored in registry.stored.items():
            [field] = stored.form["attestations"]
            assert sigstore.warehouse_check(name, stored.data, field, claims) == [], name
        print(len(report.signed), len(sigstore.entries), len(registry.stored))
    """
)


def _namespace_reason() -> str | None:
    if (
        not sys.platform.startswith("linux")
        or not shutil.which("unshare")
        or not shutil.which("ip")
    ):
        return "needs Linux with unshare and ip"
    probe = subprocess.run(
        ["unshare", "-rn", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10
    )
    if probe.returncode != 0:
        return f"no private network namespace here: {probe.stderr.decode().strip()}"
    return None


@pytest.mark.skipif(not attestations_available(), reason="needs the attestations extra")
def test_token_to_registry_verification_with_only_loopback(tmp_path: Path):
    reason = _namespace_reason()
    if reason:
        pytest.skip(reason)
    result = subprocess.run(
        [
            "unshare",
            "-rn",
            "sh",
            "-c",
            'ip link set lo up && exec "$@"',
            "sh",
            sys.executable,
            "-c",
            SCRIPT,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["2", "2", "2"]
