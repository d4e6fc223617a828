"""``check`` judges against a target (PyPI by default) with the upload preflight's
rules; ``status`` says what a half-finished release still needs."""

from __future__ import annotations

from pathlib import Path

from registry_upload.testing import FakeRegistry, make_sdist, make_wheel

from .support import CREDS, cli
from .test_pypi_rules import _wheel


def test_check_judges_by_pypi_unless_told_otherwise(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, "Django-5.1.5-py3-none-any.whl")
    pypi = cli("check", str(wheel))
    assert pypi.returncode == 1 and "wheel-filename-not-normalized" in pypi.stdout
    assert "[PyPI refuses it]" in pypi.stdout
    other = cli("check", str(wheel), "-r", "pypiserver")
    assert other.returncode == 0, other.stdout + other.stderr


def test_check_and_a_pypi_dry_run_agree(tmp_path: Path) -> None:
    """The same rules, the same verdict: nothing that check refuses passes the preflight."""
    wheel = _wheel(tmp_path, "MarkupSafe-3.0.2-cp313-cp313-win_amd64.whl")
    dry = cli("upload", str(wheel), "--dry-run", "-t", "pypi-token-for-a-dry-run")
    assert dry.returncode == 2, dry.stdout + dry.stderr
    assert "PyPI would refuse 1 file(s); nothing was sent" in dry.stderr
    assert "normaliz" in dry.stderr and dry.stderr.count("normalization") == 1  # once


def test_status_of_a_half_uploaded_release(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    wheel = make_wheel(dist, "halfway", "1.0")
    make_sdist(dist, "halfway", "1.0")
    from registry_upload import upload

    with FakeRegistry() as registry:
        assert upload(wheel, registry.url, credentials=CREDS).ok
        out = cli("status", str(dist), "--repository-url", registry.url)
        assert out.returncode == 1, out.stdout + out.stderr
        assert "UPLOADED  halfway-1.0-py3-none-any.whl" in out.stdout
        assert "MISSING   halfway-1.0.tar.gz" in out.stdout
        assert all(r.method == "GET" for r in registry.requests[1:])  # status sends nothing
        assert upload(dist, registry.url, credentials=CREDS, skip_existing=True).ok
        done = cli("status", str(dist), "--repository-url", registry.url, "--json")
        assert done.returncode == 0, done.stdout + done.stderr
