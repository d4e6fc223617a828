"""_paths.collect: one path or many, directories expanded, companions placed, typed errors."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from registry_upload import UnsupportedDistributionError
from registry_upload._paths import Collected, collect, unlistable_error
from registry_upload.testing import make_sdist, make_wheel


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    d = tmp_path / "dist"
    d.mkdir()
    make_wheel(d, "pkg", "1.0")
    make_sdist(d, "pkg", "1.0")
    (d / "README.txt").write_text("not a distribution")
    return d


def test_a_str_is_one_path_never_iterated(dist: Path) -> None:
    wheel = str(dist / "pkg-1.0-py3-none-any.whl")
    assert collect(wheel) == Collected(paths=(wheel,))
    assert collect(Path(wheel)).paths == (wheel,)


def test_directory_expands_to_its_distributions_sorted(dist: Path) -> None:
    found = collect(dist)
    assert found.paths == (
        str(dist / "pkg-1.0-py3-none-any.whl"),
        str(dist / "pkg-1.0.tar.gz"),
    )
    assert found.notes == ()  # other files in a directory are ignored silently


def test_duplicates_removed_order_kept(dist: Path) -> None:
    wheel, sdist = dist / "pkg-1.0-py3-none-any.whl", dist / "pkg-1.0.tar.gz"
    found = collect([sdist, str(wheel), dist, f"{dist}/./pkg-1.0.tar.gz"])
    assert found.paths == (str(sdist), str(wheel))


def test_companions_of_distributions_in_the_batch(dist: Path) -> None:
    wheel = dist / "pkg-1.0-py3-none-any.whl"
    asc = Path(f"{wheel}.asc")
    att = Path(f"{wheel}.publish.attestation")
    asc.write_text("sig")
    att.write_text("{}")
    found = collect([wheel, asc, att])  # what `dist/*` expands to
    assert found.paths == (str(wheel),)
    assert [(p, r.split(":")[0]) for p, r in found.notes] == [
        (str(asc), "signature skipped"),
        (str(att), "attestation"),
    ]
    assert "PyPI no longer accepts" in found.notes[0][1]
    # order of naming does not matter
    assert collect([asc, wheel]).paths == (str(wheel),)


def test_companions_found_in_a_directory_get_their_note(dist: Path) -> None:
    wheel = dist / "pkg-1.0-py3-none-any.whl"
    asc = Path(f"{wheel}.asc")
    att = Path(f"{wheel}.publish.attestation")
    stray = dist / "gone-1.0.tar.gz.asc"  # its distribution is not in the directory
    for path in (asc, att, stray):
        path.write_text("x")
    found = collect(dist)
    assert str(wheel) in found.paths and not any(p.endswith(".asc") for p in found.paths)
    notes = dict(found.notes)
    assert notes[str(asc)].startswith("signature skipped")
    assert notes[str(att)].startswith("attestation")
    assert str(stray) not in notes  # ignored, like any other file in a directory
    # named and found: one note
    assert [p for p, _ in collect([dist, asc]).notes].count(str(asc)) == 1


def test_companion_without_its_distribution_is_a_usage_error(dist: Path) -> None:
    lonely = dist / "gone-1.0.tar.gz.asc"
    lonely.write_text("sig")
    with pytest.raises(UnsupportedDistributionError) as info:
        collect([dist / "pkg-1.0.tar.gz", lonely])
    assert str(lonely) in info.value.message


def test_other_files_named_explicitly_are_all_listed(dist: Path) -> None:
    other = dist / "notes.md"
    other.write_text("x")
    with pytest.raises(UnsupportedDistributionError) as info:
        collect([dist / "README.txt", dist / "pkg-1.0.tar.gz", other])
    error = info.value
    assert str(dist / "README.txt") in error.message and str(other) in error.message
    assert [p.code for p in error.problems] == ["not-a-distribution"] * 2
    assert error.hint


@pytest.mark.parametrize("bad", [42, None, b"dist", [b"dist/x.whl"], ["ok.whl", 3]])
def test_wrong_types_raise_type_error_naming_what_is_accepted(bad: object) -> None:
    with pytest.raises(TypeError, match="str or os.PathLike|iterable of paths|text"):
        collect(bad)  # type: ignore[arg-type]


def test_unlistable_directory_is_a_typed_error() -> None:
    error = unlistable_error("dist", PermissionError(errno.EACCES, "Permission denied"))
    assert isinstance(error, UnsupportedDistributionError)
    assert "cannot list the directory: permission denied" in error.message
    assert [p.code for p in error.problems] == ["unreadable-directory"]
    assert error.hint


def test_missing_distribution_path_is_kept_for_open_to_report(tmp_path: Path) -> None:
    gone = str(tmp_path / "gone-1.0-py3-none-any.whl")
    assert collect(gone).paths == (gone,)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to an unprivileged user")
def test_unlistable_directory_as_an_unprivileged_user() -> None:
    shared = Path(tempfile.mkdtemp(prefix="ru-unlistable-"))
    try:
        locked = shared / "dist"
        locked.mkdir(mode=0o700)
        shared.chmod(0o755)
        code = (
            "import os, sys, json\n"
            "from registry_upload import UnsupportedDistributionError\n"
            "from registry_upload._paths import collect\n"
            "os.setgid(65534); os.setuid(65534)  # after the imports: stdlib may be root-only\n"
            "try:\n"
            "    collect(sys.argv[1])\n"
            "except UnsupportedDistributionError as exc:\n"
            "    print(json.dumps([exc.message, [p.code for p in exc.problems]]))\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, str(locked)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        message, codes = json.loads(proc.stdout)
        assert message == f"{locked}: cannot list the directory: permission denied"
        assert codes == ["unreadable-directory"]
    finally:
        shutil.rmtree(shared)
