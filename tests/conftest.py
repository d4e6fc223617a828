"""Shared fixtures: distributions built by real backends, canary secrets."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

CANARY = "CANARY-7f3a9c-do-not-leak"

README = textwrap.dedent(
    """\
    # Sample project

    A *sample* with a [link](https://example.org) and code:

    ```python
    print("hi")
    ```
    """
)


def _write_project(root: Path, backend: str) -> Path:
    name = {
        "setuptools": "Sample_SetupTools",
        "hatchling": "sample.hatch",
        "flit_core": "sample_flit",
    }[backend]
    module = name.lower().replace(".", "_").replace("-", "_")
    project = root / backend
    (project / module).mkdir(parents=True)
    (project / module / "__init__.py").write_text('"""A sample module."""\n__version__ = "1.2.3"\n')
    (project / "README.md").write_text(README)
    (project / "LICENSE").write_text("MIT License\n")
    build_system = {
        "setuptools": ('["setuptools>=61"]', "setuptools.build_meta"),
        "hatchling": ('["hatchling"]', "hatchling.build"),
        "flit_core": ('["flit_core>=3.4"]', "flit_core.buildapi"),
    }[backend]
    license_line = 'license = {text = "MIT"}' if backend == "setuptools" else 'license = "MIT"'
    extra = ""
    if backend == "hatchling":
        extra = f'\n[tool.hatch.build.targets.wheel]\npackages = ["{module}"]\n'
    if backend == "flit_core":
        extra = f'\n[tool.flit.module]\nname = "{module}"\n'
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = {build_system[0]}
            build-backend = "{build_system[1]}"

            [project]
            name = "{name}"
            version = "1.2.3"
            description = "A sample project built with {backend}"
            readme = "README.md"
            requires-python = ">=3.9"
            {license_line}
            authors = [{{name = "Ada Lovelace", email = "ada@example.org"}}]
            keywords = ["sample", "upload", "test"]
            classifiers = [
                "Programming Language :: Python :: 3",
                "Operating System :: OS Independent",
            ]
            dependencies = ["packaging>=20", "urllib3[socks]>=2; python_version >= '3.9'"]

            [project.optional-dependencies]
            dev = ["pytest>=7"]

            [project.urls]
            Homepage = "https://example.org/sample"
            "Bug Tracker" = "https://example.org/sample/issues"
            """
        )
        + extra
    )
    return project


@pytest.fixture(scope="session")
def built_dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Wheels and sdists built by setuptools, hatchling and flit_core."""
    root = tmp_path_factory.mktemp("projects")
    out: dict[str, list[Path]] = {}
    for backend in ("setuptools", "hatchling", "flit_core"):
        project = _write_project(root, backend)
        outdir = root / f"dist-{backend}"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                "--no-isolation",
                "--outdir",
                str(outdir),
                str(project),
            ],
            check=True,
            capture_output=True,
        )
        out[backend] = sorted(outdir.iterdir())
    return out


@pytest.fixture
def canary_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every log record at every level, for canary scans."""
    caplog.set_level(logging.DEBUG)
    yield caplog


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A small wheel of its own for the test."""
    from registry_upload.testing import make_wheel

    return make_wheel(tmp_path, "hardened", "1.0")


def assert_no_canary(*texts: object, canaries: tuple[str, ...] = (CANARY,)) -> None:
    for text in texts:
        for canary in canaries:
            assert canary not in str(text), f"secret leaked into: {str(text)[:200]}"


@pytest.fixture(scope="session")
def have_tool() -> object:
    def check(name: str) -> bool:
        return shutil.which(name) is not None

    return check
