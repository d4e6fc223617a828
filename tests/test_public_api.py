"""The package root: every public name listed once at run time, the same names for
type checkers, each importable, and nothing heavy imported by ``import registry_upload``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import registry_upload
import registry_upload.credentials

INIT = Path(registry_upload.__file__)


def _type_checking_names(init: Path = INIT) -> dict[str, set[str]]:
    tree = ast.parse(init.read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    names: dict[str, set[str]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module
        names.setdefault(node.module, set()).update(a.asname or a.name for a in node.names)
    return names


def test_the_runtime_table_and_the_type_checking_imports_agree() -> None:
    runtime = {module: set(names) for module, names in registry_upload._EXPORTS.items()}
    assert _type_checking_names() == runtime


def test_every_public_name_resolves_to_its_module() -> None:
    for module, names in registry_upload._EXPORTS.items():
        for name in names:
            value = getattr(registry_upload, name)
            assert value is getattr(__import__(f"registry_upload.{module}", fromlist=[name]), name)
    assert sorted(registry_upload.__all__) == sorted(
        ["__version__", *(n for names in registry_upload._EXPORTS.values() for n in names)]
    )


def test_credentials_lazy_names_agree_with_type_checking_and_all() -> None:
    """``credentials`` imports most providers on first use: its table, the names
    type checkers see and ``__all__`` list the same names, each importable."""
    package = registry_upload.credentials
    lazy = {module: set(names) for module, names in package._LAZY.items()}
    assert _type_checking_names(Path(package.__file__)) == lazy
    for module, names in package._LAZY.items():
        for name in names:
            assert name in package.__all__
            real = __import__(f"registry_upload.credentials.{module}", fromlist=[name])
            assert getattr(package, name) is getattr(real, name)


def test_provider_authors_and_results_readers_find_what_they_need() -> None:
    from registry_upload import CredentialProvider, Registry, Skip, UploadError, UploadFailedError

    assert issubclass(UploadFailedError, UploadError)
    assert Registry.PYPI == "pypi" and Registry.DEVPI == "devpi"
    assert issubclass(Skip, Exception) and hasattr(CredentialProvider, "provide")


def test_import_is_cheap() -> None:
    code = (
        "import sys, registry_upload\n"
        "heavy = [m for m in ('urllib3', 'readme_renderer', 'docutils', 'packaging.metadata')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
