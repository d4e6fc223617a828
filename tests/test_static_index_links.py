"""Symbolic links planted inside a static index are refused, never followed.

Each attack is set up as the report found it, and the test checks both the
typed error and that nothing outside the index was read, written or listed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from registry_upload.distribution import Distribution
from registry_upload.errors import ConfigurationError
from registry_upload.static_index import LOCK_NAME, STATE_DIR, PublishStatus, StaticIndex
from registry_upload.testing import make_sdist, make_wheel

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges there")


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside the index, with a page a link would overwrite."""
    place = tmp_path / "outside"
    place.mkdir()
    (place / "index.html").write_text("someone else's page\n")
    (place / "secret.txt").write_text("private\n")
    return place


@pytest.fixture
def index(tmp_path: Path) -> StaticIndex:
    index = StaticIndex(tmp_path / "simple")
    assert index.publish(make_wheel(tmp_path / "dist", "Demo", "1.0")).status.value == "stored"
    return index


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return make_wheel(tmp_path / "dist", "Demo", "2.0")


def refused(error: ConfigurationError, link: Path) -> None:
    assert f"{link}: is a symbolic link inside the static index" in error.message
    assert "Replace the link" in (error.hint or "") and error.path == str(link)


def test_a_project_directory_that_is_a_link_is_refused(
    index: StaticIndex, outside: Path, tmp_path: Path
) -> None:
    link = index.root / "other"
    link.symlink_to(outside, target_is_directory=True)
    before = tree(outside)
    dist = Distribution.open(make_wheel(tmp_path / "dist", "Other", "1.0"))
    with pytest.raises(ConfigurationError) as early:
        index.preflight([dist])
    refused(early.value, link)
    with pytest.raises(ConfigurationError) as info:
        index.publish(dist)
    refused(info.value, link)
    assert tree(outside) == before, "nothing written outside the index"
    index.refresh()  # a full rebuild leaves the link out of the root page
    assert [
        p["name"] for p in json.loads((index.root / "index.json").read_bytes())["projects"]
    ] == ["demo"]
    assert tree(outside) == before


def test_a_dangling_lock_link_creates_nothing_outside(
    index: StaticIndex, wheel: Path, tmp_path: Path
) -> None:
    lock = index.root / LOCK_NAME
    lock.unlink()
    target = tmp_path / "created-outside"
    lock.symlink_to(target)
    with pytest.raises(ConfigurationError) as early:
        index.preflight([Distribution.open(wheel)])
    refused(early.value, lock)
    with pytest.raises(ConfigurationError) as info:
        index.publish(wheel)
    refused(info.value, lock)
    assert not target.exists() and not (index.root / "demo" / wheel.name).exists()


def test_a_state_directory_that_is_a_link_is_refused(
    index: StaticIndex, wheel: Path, outside: Path
) -> None:
    state = index.root / STATE_DIR
    (state / "lock").unlink()
    state.rmdir()
    state.symlink_to(outside, target_is_directory=True)
    before = tree(outside)
    with pytest.raises(ConfigurationError) as info:
        index.publish(wheel)
    refused(info.value, state)
    assert tree(outside) == before


def test_a_linked_sdist_pointing_at_a_private_file_is_never_listed(
    index: StaticIndex, outside: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = index.root / "demo"
    planted = project / "demo-3.0.tar.gz"
    planted.symlink_to(outside / "secret.txt")
    caplog.set_level("WARNING")
    index.refresh()
    index.publish(make_sdist(tmp_path / "dist", "Demo", "2.0"))
    for page in ("index.json", "index.html"):
        assert planted.name not in (project / page).read_text()
    assert planted.name not in index.files("demo")
    assert f"{planted}: a symbolic link inside the index: not listed" in caplog.text
    # publishing a real file under the link's name is refused, and the link is left alone
    real = make_sdist(tmp_path / "dist", "Demo", "3.0")
    with pytest.raises(ConfigurationError) as info:
        index.publish(real)
    refused(info.value, planted)
    assert (outside / "secret.txt").read_text() == "private\n" and planted.is_symlink()


@pytest.mark.parametrize("name", ["index.json", "index.html", "demo-1.0-py3-none-any.whl"])
def test_a_linked_page_or_file_in_a_project_is_refused(
    index: StaticIndex, wheel: Path, outside: Path, tmp_path: Path, name: str
) -> None:
    path = index.root / "demo" / name
    path.unlink()
    path.symlink_to(outside / "index.html")
    before = tree(outside)
    # a new file reads the pages; the same file again compares the stored one
    again = name.endswith(".whl")
    with pytest.raises(ConfigurationError) as info:
        index.publish(tmp_path / "dist" / name if again else wheel)
    refused(info.value, path)
    assert tree(outside) == before


def test_a_root_reached_through_a_link_is_used(tmp_path: Path, wheel: Path) -> None:
    """Links on the way *to* the root are the user's choice; only those inside are refused."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "served").symlink_to(real, target_is_directory=True)
    result = StaticIndex(tmp_path / "served").publish(wheel)
    assert result.status is PublishStatus.STORED
    stored = real / "demo" / wheel.name
    assert (
        hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(wheel.read_bytes()).digest()
    )
