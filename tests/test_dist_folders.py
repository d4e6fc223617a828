"""What real dist/ folders hold: signatures, attestations, files PyPI would refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry_upload import (
    upload,
)
from registry_upload.testing import FakeRegistry, make_wheel

from .conftest import CANARY
from .support import CREDS, cli, dist_folder


def test_cli_uploads_a_dist_folder_with_signatures_and_attestations(tmp_path: Path) -> None:
    dist = dist_folder(tmp_path)
    env = {"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY}
    with FakeRegistry() as registry:
        out = cli("upload", "--repository-url", registry.url, *map(str, dist.iterdir()), env=env)
        plain = cli(
            "upload",
            "--repository-url",
            registry.url,
            "--no-attestations",
            "--skip-existing",
            str(dist),
            env=env,
        )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 uploaded" in out.stdout
    assert "signature skipped" in out.stderr  # the .asc: one line, not an error
    (wheel_form,) = [f.form for n, f in registry.stored.items() if n.endswith(".whl")]
    # an unrecognised registry gets the attestations found beside the files, as twine sends
    assert json.loads(str(wheel_form["attestations"][0])) == [{"version": 1, "envelope": {}}]
    assert plain.returncode == 0 and "2 skipped" in plain.stdout


def test_metadata_2_0_is_refused_for_pypi_before_anything_is_sent(tmp_path: Path) -> None:
    from registry_upload import DistributionError

    old = make_wheel(tmp_path, "oldmeta", "1.0", metadata=None, metadata_extra="")
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    old = _rewrite_metadata_version(old, legacy, "2.0")
    # PyPI: refused in the plan, before credentials or any connection.
    with pytest.raises(DistributionError) as raised:
        upload([old], "https://upload.pypi.org/legacy/", credentials=CREDS)
    assert [p.code for p in raised.value.problems] == ["metadata-version-2.0"]
    assert "PyPI would refuse" in raised.value.message
    # Registries that accept it get it (with the warning kept on the distribution).
    with FakeRegistry() as registry:
        report = upload([old], registry.url, credentials=CREDS)
    assert report.ok and list(registry.stored) == [old.name]


def _rewrite_metadata_version(wheel: Path, into: Path, version: str) -> Path:
    import zipfile

    target = into / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".dist-info/METADATA"):
                data = data.replace(
                    b"Metadata-Version: 2.4", f"Metadata-Version: {version}".encode()
                )
            dst.writestr(info, data)
    return target
