"""Real-world shapes through a real pypiserver: every core-metadata version from 1.0
to 2.5, zip sdists, a license expression, a namespace package, and a dist/ folder
holding signatures and attestations — each stored byte-identically, with the form
field names warehouse reads."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from registry_upload import Credentials, FileStatus, upload
from registry_upload.testing import LocalRegistry, core_metadata, make_sdist, make_wheel

pytestmark = pytest.mark.integration

# Header lines each metadata version introduced (so every version carries its own fields).
_BY_VERSION = {
    "1.0": "Summary: one-oh\nPlatform: any\nKeywords: a b",
    "1.1": "Summary: one-one\nClassifier: Programming Language :: Python\nRequires: os",
    "1.2": "Summary: one-two\nRequires-Python: >=3.8\nRequires-Dist: packaging\n"
    "Project-URL: Home, https://example.org",
    "2.1": "Summary: two-one\nDescription-Content-Type: text/markdown\nProvides-Extra: x",
    "2.2": "Summary: two-two\nDynamic: Requires-Dist",
    "2.3": "Summary: two-three\nRequires-Dist: urllib3>=2",
    "2.4": "Summary: two-four\nLicense-Expression: MIT OR Apache-2.0\nLicense-File: LICENSE",
    "2.5": "Summary: two-five\nImport-Name: shapes_two_five\nImport-Namespace: nsshape",
}


def _zip_sdist(directory: Path, name: str, version: str, metadata: str) -> Path:
    stem = f"{name}-{version}"
    path = directory / f"{stem}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{stem}/PKG-INFO", metadata)
        zf.writestr(f"{stem}/setup.py", "from setuptools import setup\nsetup()\n")
    return path


def _namespace_wheel(directory: Path) -> Path:
    """A wheel whose package is a PEP 420 namespace (no __init__.py)."""
    wheel = make_wheel(directory, "nsshape.part", "1.0", metadata_extra="Summary: ns")
    buf = io.BytesIO(wheel.read_bytes())
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("nsshape/part/module.py", "VALUE = 1\n")
    wheel.write_bytes(buf.getvalue())
    return wheel


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_shape_is_stored_byte_identically(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    files: list[Path] = []
    for version, extra in _BY_VERSION.items():
        name = f"shapes-{version.replace('.', '-')}"
        files.append(
            make_wheel(dist, name, "1.0", metadata=core_metadata(
                name, "1.0", metadata_version=version, extra=extra))
        )  # fmt: skip
        files.append(
            make_sdist(dist, name, "1.0", metadata=core_metadata(
                name, "1.0", metadata_version=version, extra=extra))
        )  # fmt: skip
    files.append(_zip_sdist(dist, "zipshape", "1.0", core_metadata("zipshape", "1.0")))
    files.append(_namespace_wheel(dist))
    # What signing and attestation workflows leave beside the files.
    Path(f"{files[0]}.asc").write_text("-----BEGIN PGP SIGNATURE-----\n")
    Path(f"{files[0]}.publish.attestation").write_text(json.dumps({"version": 1}))

    with LocalRegistry(tmp_path / "server") as registry:
        # As `dist/*` would name them: companions included.
        named = sorted(dist.iterdir())
        report = upload(named, registry.url, credentials=Credentials.of("any", "thing"))
        stored = {p.name: p for p in Path(registry.root).rglob("*") if p.is_file()}
    assert report.ok, report.to_dict()
    assert report.registry == "pypiserver"
    assert [r.status for r in report] == [FileStatus.UPLOADED] * len(files)
    assert report.notes and "signature skipped" in report.notes[0][1]
    for path in files:
        assert _sha(stored[path.name]) == _sha(path), path.name
