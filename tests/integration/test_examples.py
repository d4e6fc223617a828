"""Every example runs against a real local registry (pypiserver with a password)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from registry_upload.testing import pip_download

from .conftest import PASSWORD, USER, Server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _env(server: Server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "REGISTRY_UPLOAD_"))}
    env.update(
        REGISTRY_UPLOAD_REPOSITORY_URL=server.url,
        REGISTRY_UPLOAD_USERNAME=USER,
        REGISTRY_UPLOAD_PASSWORD=PASSWORD,
        HOME="/nonexistent",
        # As in an activated virtual environment: this interpreter's scripts come first.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        # The tox example installs registry-upload from this checkout.
        REGISTRY_UPLOAD_SPEC=str(ROOT),
    )
    return env


def _fresh_examples(tmp_path: Path, version: str) -> Path:
    """A copy of examples/ whose sample project has its own version (no clashes)."""
    copy = Path(shutil.copytree(EXAMPLES, tmp_path / "examples"))
    for rel in ("sample-project/pyproject.toml", "sample-project/sample_release/__init__.py"):
        path = copy / rel
        path.write_text(path.read_text().replace("0.1.0", version))
    return copy


def test_build_script(pypiserver_auth: Server, tmp_path: Path) -> None:
    examples = _fresh_examples(tmp_path, "1.0.1")
    out = subprocess.run(
        [sys.executable, str(examples / "build_and_upload.py"), str(examples / "sample-project")],
        capture_output=True,
        text=True,
        env=_env(pypiserver_auth),
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("uploaded: ") == 2
    assert "credentials from: env:REGISTRY_UPLOAD_PASSWORD" in out.stdout
    files = pip_download(pypiserver_auth.index_url, "sample-release==1.0.1", tmp_path / "got")
    assert [p.name for p in files] == ["sample_release-1.0.1-py3-none-any.whl"]


def test_ci_script_publishes_and_fails_loudly_on_an_empty_build(
    pypiserver_auth: Server, tmp_path: Path
) -> None:
    examples = _fresh_examples(tmp_path, "1.0.7")
    script = str(examples / "ci_publish.sh")
    env = {**_env(pypiserver_auth), "PROJECT_DIR": str(examples / "sample-project")}
    out = subprocess.run(
        ["bash", script, str(tmp_path / "dist")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 uploaded" in out.stdout and "verified" in out.stdout
    # a build that produces nothing (python stubbed out): the job fails, nothing is sent
    stub = f"python() {{ :; }}; export -f python; bash {script} {tmp_path}/none"
    nothing = subprocess.run(
        ["bash", "-c", stub],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert nothing.returncode == 2, nothing.stdout + nothing.stderr
    assert "no wheel or sdist" in nothing.stderr


def test_release_tool_with_its_own_provider(pypiserver_auth: Server, tmp_path: Path) -> None:
    from registry_upload.testing import make_sdist, make_wheel

    files = [make_wheel(tmp_path, "released", "2.0"), make_sdist(tmp_path, "released", "2.0")]
    token = tmp_path / "token"
    token.write_text(f"{USER}\n{PASSWORD}\n")
    env = {k: v for k, v in _env(pypiserver_auth).items() if not k.startswith("REGISTRY_UPLOAD_")}
    out = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "release_tool.py"),
            pypiserver_auth.url,
            str(token),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"credentials: token-file:{token}" in out.stdout
    assert out.stdout.count(": uploaded (") == 2
    assert PASSWORD not in out.stdout + out.stderr


def test_nox_session(pypiserver_auth: Server, tmp_path: Path) -> None:
    examples = _fresh_examples(tmp_path, "1.0.2")
    out = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(examples / "noxfile.py"), "-s", "publish"],
        capture_output=True,
        text=True,
        env=_env(pypiserver_auth),
        timeout=300,
        cwd=examples,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    combined = out.stdout + out.stderr
    assert "2 uploaded, 0 skipped, 0 failed" in combined
    assert pip_download(pypiserver_auth.index_url, "sample-release==1.0.2", tmp_path / "got")


def test_tox_env(pypiserver_auth: Server, tmp_path: Path) -> None:
    examples = _fresh_examples(tmp_path, "1.0.3")
    out = subprocess.run(
        [sys.executable, "-m", "tox", "-c", str(examples / "tox.ini"), "-e", "publish"],
        capture_output=True,
        text=True,
        env=_env(pypiserver_auth),
        timeout=600,
        cwd=examples,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 uploaded, 0 skipped, 0 failed" in out.stdout + out.stderr
    assert pip_download(pypiserver_auth.index_url, "sample-release==1.0.3", tmp_path / "got")


def test_readme_demo_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "registry_upload", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "pip download: 2 file(s), sha256 identical" in out.stdout
    assert "hint: The registry already has this very file" in out.stdout
    assert "demo: all steps as expected" in out.stdout
