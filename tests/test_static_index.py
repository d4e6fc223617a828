"""The static index destination, read back by pip itself and by a plain HTTP server."""

from __future__ import annotations

import errno
import fcntl
import functools
import hashlib
import html
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from registry_upload.distribution import Distribution
from registry_upload.errors import (
    ConfigurationError,
    DistributionError,
    FileExistsOnRegistryError,
    PermissionDeniedError,
    UploadError,
)
from registry_upload.static_index import (
    JSON_CONTENT_TYPE,
    LOCK_NAME,
    STATE_DIR,
    PublishStatus,
    StaticIndex,
    is_static_destination,
    wheel_metadata,
)
from registry_upload.testing import make_sdist, make_wheel

REQUIRES = "Requires-Python: >=3.8, <4"


def assert_clean(root: Path) -> None:
    """Nothing temporary left behind: no hidden file in any project, the lock alone in the
    state directory."""
    assert sorted(p.name for p in (root / STATE_DIR).iterdir()) == ["lock"]
    assert (root / LOCK_NAME).is_file()
    hidden = [p for p in root.rglob("*") if p.name.startswith(".") and p.parent != root]
    assert [p for p in hidden if STATE_DIR not in p.parts] == []


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(path: Path) -> Any:
    return json.loads(path.read_bytes())


@pytest.fixture
def dists(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "dist"
    out.mkdir()
    wheel = make_wheel(out, "Demo.Pkg", "1.0", metadata_extra=REQUIRES)
    sdist = make_sdist(out, "Demo.Pkg", "1.0", metadata_extra=REQUIRES)
    return wheel, sdist


@pytest.fixture
def index(tmp_path: Path) -> StaticIndex:
    return StaticIndex(tmp_path / "simple")


@pytest.fixture
def published(index: StaticIndex, dists: tuple[Path, Path]) -> StaticIndex:
    for path in dists:
        assert index.publish(path).status is PublishStatus.STORED
    return index


# -- PEP 691 shape -------------------------------------------------------------

_HEX = re.compile(r"[0-9a-f]+")


def check_hashes(hashes: object) -> None:
    assert isinstance(hashes, dict)
    for algorithm, value in hashes.items():
        assert algorithm in hashlib.algorithms_guaranteed and isinstance(value, str)
        assert _HEX.fullmatch(value), "hash values are lower-case hex"


def check_meta(page: dict[str, Any]) -> tuple[int, int]:
    version = page["meta"]["api-version"]
    assert isinstance(version, str) and re.fullmatch(r"\d+\.\d+", version)
    major, minor = map(int, version.split("."))
    assert major == 1
    return major, minor


def check_root_page(page: dict[str, Any]) -> list[str]:
    check_meta(page)
    assert isinstance(page["projects"], list)
    names = []
    for project in page["projects"]:
        assert isinstance(project, dict) and isinstance(project["name"], str)
        names.append(project["name"])
    return names


def check_project_page(page: dict[str, Any]) -> None:
    """PEP 691 (and, for api-version 1.1, PEP 700) project page; PEP 714 key names."""
    _, minor = check_meta(page)
    assert page["name"] == canonicalize_name(page["name"]), "name is normalised"
    assert isinstance(page["files"], list)
    if minor >= 1:
        assert isinstance(page["versions"], list)
        assert all(isinstance(v, str) for v in page["versions"])
    for entry in page["files"]:
        assert isinstance(entry["filename"], str) and "/" not in entry["filename"]
        assert isinstance(entry["url"], str) and entry["url"]
        check_hashes(entry["hashes"])
        if "requires-python" in entry:
            assert isinstance(entry["requires-python"], str)
        for key in ("core-metadata", "dist-info-metadata"):
            if key in entry and not isinstance(entry[key], bool):
                check_hashes(entry[key])
        if "yanked" in entry:
            assert isinstance(entry["yanked"], (bool, str))
        if minor >= 1:
            assert isinstance(entry["size"], int) and entry["size"] >= 0
            if "upload-time" in entry:
                assert re.fullmatch(
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", entry["upload-time"]
                )


# -- layout and pages ----------------------------------------------------------


def test_files_and_pages_are_laid_out(published: StaticIndex, dists: tuple[Path, Path]) -> None:
    wheel, sdist = dists
    root = published.root
    project = root / "demo-pkg"
    assert sha256_of(project / wheel.name) == sha256_of(wheel)
    assert sha256_of(project / sdist.name) == sha256_of(sdist)
    for page in (root / "index.html", root / "index.json", project / "index.html"):
        assert page.stat().st_mode & 0o777 == 0o644, f"{page} must be readable by a server"
    # PEP 658: the wheel's METADATA, byte for byte, beside the wheel; none for the sdist
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read("demo_pkg-1.0.dist-info/METADATA")
    assert (project / f"{wheel.name}.metadata").read_bytes() == metadata
    assert not (project / f"{sdist.name}.metadata").exists()
    assert_clean(root)


def test_html_pages(published: StaticIndex, dists: tuple[Path, Path]) -> None:
    wheel, sdist = dists
    root_html = (published.root / "index.html").read_text()
    assert '<a href="demo-pkg/">demo-pkg</a>' in root_html
    page = (published.root / "demo-pkg" / "index.html").read_text()
    assert '<meta name="pypi:repository-version" content="1.1">' in page
    anchors = dict(re.findall(r'<a href="([^"#]+)#([^"]+)"', page))
    assert set(anchors) == {wheel.name, sdist.name}
    assert anchors[wheel.name] == f"sha256={sha256_of(wheel)}"
    attrs = re.search(rf'<a href="{re.escape(wheel.name)}[^>]*>', page)
    assert attrs is not None
    tag = attrs.group(0)
    assert 'data-requires-python="&gt;=3.8, &lt;4"' in tag
    meta_sha = sha256_of(published.root / "demo-pkg" / f"{wheel.name}.metadata")
    assert f'data-core-metadata="sha256={meta_sha}"' in tag
    assert f'data-dist-info-metadata="sha256={meta_sha}"' in tag
    sdist_tag = re.search(rf'<a href="{re.escape(sdist.name)}[^>]*>', page)
    assert sdist_tag is not None and "core-metadata" not in sdist_tag.group(0)
    assert html.unescape("&gt;=3.8, &lt;4") == REQUIRES.split(": ")[1]


def test_json_pages_have_pep_691_shape(published: StaticIndex, dists: tuple[Path, Path]) -> None:
    wheel, sdist = dists
    assert check_root_page(load(published.root / "index.json")) == ["demo-pkg"]
    page = load(published.root / "demo-pkg" / "index.json")
    check_project_page(page)
    assert page["name"] == "demo-pkg" and page["versions"] == ["1.0"]
    files = {f["filename"]: f for f in page["files"]}
    assert set(files) == {wheel.name, sdist.name}
    w = files[wheel.name]
    assert w["hashes"] == {"sha256": sha256_of(wheel)} and w["size"] == wheel.stat().st_size
    assert w["requires-python"] == ">=3.8, <4"
    meta_sha = sha256_of(published.root / "demo-pkg" / f"{wheel.name}.metadata")
    assert w["core-metadata"] == w["dist-info-metadata"] == {"sha256": meta_sha}
    assert "core-metadata" not in files[sdist.name]
    assert published.files("Demo_Pkg") == {
        wheel.name: sha256_of(wheel),
        sdist.name: sha256_of(sdist),
    }


def test_publish_result(index: StaticIndex, dists: tuple[Path, Path]) -> None:
    wheel, _ = dists
    result = index.publish(Distribution.open(wheel))
    assert result.ok and result.status is PublishStatus.STORED
    assert result.project == "demo-pkg" and result.filename == wheel.name
    assert result.path == index.root / "demo-pkg" / wheel.name
    assert result.url == result.path.as_uri() and result.sha256 == sha256_of(wheel)
    assert result.metadata_sha256 == sha256_of(result.path.with_name(wheel.name + ".metadata"))
    assert result.to_dict()["status"] == "stored" and result.to_dict()["error"] is None


# -- identical and different files ------------------------------------------------


def test_identical_file_counts_as_existing(
    published: StaticIndex, dists: tuple[Path, Path]
) -> None:
    pages = {p: p.read_bytes() for p in published.root.rglob("index.*")}
    mtimes = {p: p.stat().st_mtime_ns for p in pages}
    result = published.publish(dists[0])
    assert result.status is PublishStatus.EXISTS and result.ok and result.error is None
    assert {p: p.read_bytes() for p in pages} == pages
    assert {p: p.stat().st_mtime_ns for p in pages} == mtimes, "unchanged pages are not rewritten"


def test_other_bytes_under_an_existing_name_are_refused(
    published: StaticIndex, dists: tuple[Path, Path], tmp_path: Path
) -> None:
    wheel, _ = dists
    other_dir = tmp_path / "rebuilt"
    other_dir.mkdir()
    rebuilt = make_wheel(other_dir, "Demo.Pkg", "1.0", metadata_extra=REQUIRES, payload_size=10)
    assert rebuilt.name == wheel.name and sha256_of(rebuilt) != sha256_of(wheel)
    before = (published.root / "demo-pkg" / "index.json").read_bytes()
    result = published.publish(rebuilt)
    assert result.status is PublishStatus.CONFLICT and not result.ok
    assert result.existing_sha256 == sha256_of(wheel) and result.sha256 == sha256_of(rebuilt)
    assert isinstance(result.error, FileExistsOnRegistryError)
    assert "Bump the version" in (result.error.hint or "")
    assert result.error.path == str(rebuilt)
    stored = published.root / "demo-pkg" / wheel.name
    assert sha256_of(stored) == sha256_of(wheel), "the stored file is never replaced"
    assert (published.root / "demo-pkg" / "index.json").read_bytes() == before
    assert result.to_dict()["error"]["type"] == "FileExistsOnRegistryError"


@pytest.mark.parametrize("same", [True, False])
def test_a_file_stored_but_not_listed_is_compared_and_listed(
    published: StaticIndex, tmp_path: Path, same: bool
) -> None:
    """A run killed between storing the file and writing the pages: the next one compares
    the stored bytes and, when they are the same, lists the file."""
    ours = make_wheel(tmp_path, "Demo.Pkg", "1.1")
    theirs_dir = tmp_path / "theirs"
    theirs_dir.mkdir()
    theirs = ours if same else make_wheel(theirs_dir, "Demo.Pkg", "1.1", payload_size=5)
    project = published.root / "demo-pkg"
    (project / ours.name).write_bytes(theirs.read_bytes())  # stored, never listed
    result = StaticIndex(published.root, lock_timeout=2).publish(ours)
    assert result.status is (PublishStatus.EXISTS if same else PublishStatus.CONFLICT)
    assert sha256_of(project / ours.name) == sha256_of(theirs)
    assert_clean(published.root)
    listed = published.files("demo-pkg")
    if same:
        assert listed[ours.name] == sha256_of(ours)
        assert (project / f"{ours.name}.metadata").read_bytes() == wheel_metadata(ours)
        assert result.metadata_sha256 == sha256_of(project / f"{ours.name}.metadata")
    else:
        assert ours.name not in listed, "a conflict leaves the pages as they are"
    assert published.files("unknown") == {}


def test_invalid_file_is_refused_before_anything_is_written(
    index: StaticIndex, tmp_path: Path
) -> None:
    bad = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DistributionError) as info:
        index.publish(bad)
    assert info.value.path == str(bad) and info.value.hint
    assert not index.root.exists()


# -- refresh -----------------------------------------------------------------------


def test_refresh_lists_files_added_by_hand_and_writes_their_metadata(
    published: StaticIndex, tmp_path: Path
) -> None:
    project = published.root / "demo-pkg"
    by_hand = make_wheel(project, "Demo.Pkg", "2.0", metadata_extra="Requires-Python: >=3.10")
    (published.root / "other").mkdir()
    make_wheel(published.root / "other", "Other", "0.1")  # a new project, copied by hand
    published.refresh()
    page = load(project / "index.json")
    check_project_page(page)
    entry = {f["filename"]: f for f in page["files"]}[by_hand.name]
    assert entry["requires-python"] == ">=3.10" and page["versions"] == ["1.0", "2.0"]
    sidecar = project / f"{by_hand.name}.metadata"
    assert sidecar.read_bytes() == wheel_metadata(by_hand)
    assert entry["core-metadata"] == {"sha256": sha256_of(sidecar)}
    assert check_root_page(load(published.root / "index.json")) == ["demo-pkg", "other"]


def test_refresh_does_not_rehash_unchanged_files(
    published: StaticIndex, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="registry_upload.static_index")
    published.refresh("Demo.Pkg")
    assert "hashing" not in caplog.text
    # a file whose size changed behind our back is hashed again
    sdist = next((published.root / "demo-pkg").glob("*.tar.gz"))
    with open(sdist, "ab") as fh:
        fh.write(b"\0")
    published.refresh("demo-pkg")
    assert f"hashing {sdist}" in caplog.text
    entry = {f["filename"]: f for f in load(sdist.parent / "index.json")["files"]}[sdist.name]
    assert entry["hashes"]["sha256"] == sha256_of(sdist)


# -- concurrency -----------------------------------------------------------------

_PUBLISHER = """
import sys
from registry_upload.static_index import StaticIndex
index = StaticIndex(sys.argv[1])
for path in sys.argv[2:]:
    result = index.publish(path)
    assert result.status.value == "stored", result
"""


def test_two_concurrent_publishers_leave_every_file_listed(
    index: StaticIndex, tmp_path: Path
) -> None:
    batches: list[list[str]] = []
    for label, versions in (("a", range(0, 8)), ("b", range(8, 16))):
        out = tmp_path / label
        out.mkdir()
        batch = []
        for v in versions:
            batch.append(str(make_wheel(out, "Demo.Pkg", f"1.{v}")))
            batch.append(str(make_sdist(out, "Demo.Pkg", f"1.{v}")))
        batches.append(batch)
    procs = [
        subprocess.Popen([sys.executable, "-c", _PUBLISHER, str(index.root), *batch])
        for batch in batches
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    expected = {Path(p).name for batch in batches for p in batch}
    project = index.root / "demo-pkg"
    page = load(project / "index.json")
    check_project_page(page)
    assert {f["filename"] for f in page["files"]} == expected
    assert len(page["versions"]) == 16
    links = set(re.findall(r'<a href="([^"#]+)#', (project / "index.html").read_text()))
    assert links == expected
    assert_clean(index.root)


_SLOW_SCANNER = """
import sys, time
from pathlib import Path
from registry_upload import static_index
from registry_upload._static import pages
root, wheel, scanned, other_done = sys.argv[1:]
add_file = pages.add_file

def slow_add_file(*args, **kwargs):
    updated = add_file(*args, **kwargs)
    Path(scanned).touch()  # the pages are read; the new ones are not written yet
    deadline = time.monotonic() + 1.0  # the other run could store a file now
    while not Path(other_done).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return updated

pages.add_file = slow_add_file
assert static_index.StaticIndex(root).publish(wheel).status.value == "stored"
"""

_WAITING_PUBLISHER = """
import sys, time
from pathlib import Path
from registry_upload.static_index import StaticIndex
root, wheel, scanned, done = sys.argv[1:]
deadline = time.monotonic() + 60
while not Path(scanned).exists() and time.monotonic() < deadline:
    time.sleep(0.01)
assert StaticIndex(root).publish(wheel).status.value == "stored"
Path(done).touch()
"""


def test_a_run_that_stores_while_another_refreshes_is_not_lost(
    index: StaticIndex, tmp_path: Path
) -> None:
    """Run A reads the directory and, before it writes the pages, run B stores a file and
    writes its pages: without the lock A's stale pages would win and hide B's file."""
    a = make_wheel(tmp_path, "Demo.Pkg", "1.0")
    b = make_wheel(tmp_path, "Demo.Pkg", "2.0")
    scanned, b_done = str(tmp_path / "a-scanned"), str(tmp_path / "b-done")
    run_a = subprocess.Popen([sys.executable, "-c", _SLOW_SCANNER, str(index.root), str(a),
                              scanned, b_done])  # fmt: skip
    run_b = subprocess.Popen([sys.executable, "-c", _WAITING_PUBLISHER, str(index.root), str(b),
                              scanned, b_done])  # fmt: skip
    assert [run_a.wait(timeout=120), run_b.wait(timeout=120)] == [0, 0]
    project = index.root / "demo-pkg"
    assert {f["filename"] for f in load(project / "index.json")["files"]} == {a.name, b.name}
    assert set(re.findall(r'<a href="([^"#]+)#', (project / "index.html").read_text())) == {
        a.name,
        b.name,
    }


def test_a_held_lock_is_waited_for_then_refused(
    published: StaticIndex, dists: tuple[Path, Path], tmp_path: Path
) -> None:
    newer = make_wheel(tmp_path, "Demo.Pkg", "1.1")
    index = StaticIndex(published.root, lock_timeout=0.2)
    fd = os.open(published.root / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another run is updating the project
        with pytest.raises(UploadError) as info:
            index.publish(newer)
    finally:
        os.close(fd)
    assert "another run" in info.value.message and info.value.hint
    project = published.root / "demo-pkg"
    assert not (project / newer.name).exists()
    assert_clean(published.root)
    assert index.publish(newer).status is PublishStatus.STORED  # lock released: it goes in


# -- destinations and failures ------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "static"),
    [
        ("file:///srv/simple/", True),
        ("file://localhost/srv/simple", True),
        ("FILE:///srv/simple", True),
        ("file://LocalHost/srv/simple", True),
        ("/srv/simple", True),
        ("./public/simple", True),
        ("../simple", True),
        ("~/simple", True),
        ("public/simple", True),
        ("pypi", False),
        ("testpypi", False),
        ("https://upload.pypi.org/legacy/", False),
        ("http://127.0.0.1:8080/", False),
    ],
)
def test_which_destinations_are_static(destination: str, static: bool) -> None:
    assert is_static_destination(destination) is static


@pytest.mark.parametrize(
    ("destination", "said"),
    [
        ("~no-such-user-registry-upload/simple", "no such user"),
        ("file:///srv/a%00b/simple/", "NUL"),
    ],
)
def test_destinations_that_cannot_name_a_directory_are_typed_errors(
    destination: str, said: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        is_static_destination(destination)
    assert said in info.value.message and info.value.hint


def test_file_urls_and_paths_name_the_same_index(tmp_path: Path) -> None:
    by_url = StaticIndex((tmp_path / "simple").as_uri() + "/")
    by_path = StaticIndex(tmp_path / "simple")
    assert by_url.root == by_path.root == tmp_path / "simple"
    assert by_url.url == by_path.url == (tmp_path / "simple").as_uri() + "/"
    with pytest.raises(ConfigurationError) as info:
        StaticIndex("file://fileserver/share/simple/")
    assert "local directory" in info.value.message and info.value.hint


def test_missing_parent_directory_is_an_error(tmp_path: Path, dists: tuple[Path, Path]) -> None:
    index = StaticIndex(tmp_path / "typo" / "simple")
    with pytest.raises(UploadError) as preflight:
        index.preflight()
    with pytest.raises(UploadError) as info:
        index.publish(dists[0])
    for error in (preflight.value, info.value):
        assert f"{tmp_path / 'typo'} does not exist" in error.message and error.hint
    assert not (tmp_path / "typo").exists()


def test_preflight(tmp_path: Path) -> None:
    StaticIndex(tmp_path / "new").preflight()  # created on the first publish
    assert not (tmp_path / "new").exists(), "preflight writes nothing"
    (tmp_path / "file").write_text("")
    with pytest.raises(UploadError) as info:
        StaticIndex(tmp_path / "file").preflight()
    assert "is not a directory" in info.value.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_index_is_a_permission_error(published: StaticIndex, tmp_path: Path) -> None:
    newer = make_wheel(tmp_path, "Demo.Pkg", "1.1")
    project = published.root / "demo-pkg"
    project.chmod(0o555)
    try:
        with pytest.raises(PermissionDeniedError) as info:
            published.publish(newer)
    finally:
        project.chmod(0o755)
    assert "cannot write" in info.value.message and "permissions" in (info.value.hint or "")


def test_a_failing_write_is_an_upload_error(published: StaticIndex, tmp_path: Path) -> None:
    (published.root / "other").write_text("a file where a project directory should be")
    with pytest.raises(UploadError) as info:
        published.publish(make_wheel(tmp_path, "Other", "1.0"))
    assert str(published.root / "other") in info.value.message
    assert "cannot update the static index" in info.value.message and info.value.hint


def test_permission_errors_are_typed(tmp_path: Path) -> None:
    from registry_upload.static_index import _os_errors

    where = tmp_path / "simple"
    with pytest.raises(PermissionDeniedError) as info, _os_errors(where):
        raise PermissionError(errno.EACCES, "Permission denied", str(where / "x"))
    assert info.value.message.startswith(str(where / "x"))
    assert "permissions" in (info.value.hint or "") and info.value.url == where.as_uri()


# -- read back by real clients ------------------------------------------------------


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    """pip with no configuration, no cache and no proxy: it sees only the index given."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("PIP_", "HTTP"))}
    env = {k: v for k, v in env.items() if "proxy" not in k.lower()}
    env["PIP_CONFIG_FILE"] = os.devnull
    cmd = [sys.executable, "-m", "pip", *args, "--no-cache-dir", "--disable-pip-version-check"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)


def _pip_version() -> tuple[int, ...]:
    from importlib.metadata import version

    return tuple(int(part) for part in version("pip").split(".")[:2] if part.isdigit())


#: pip before 23.1 compares the name in a PEP 658 .metadata file with the requested
#: name without normalising either ("Demo.Pkg" against "demo.pkg") and discards the
#: file; Python 3.10's bundled pip is 23.0.1 (.ci/run upgrades pip in its venvs).
needs_current_pip = pytest.mark.skipif(
    _pip_version() < (23, 1), reason="pip < 23.1 does not normalise PEP 658 metadata names"
)


@needs_current_pip
def test_pip_installs_from_the_file_index(published: StaticIndex, tmp_path: Path) -> None:
    target = tmp_path / "target"
    done = pip("install", "--index-url", published.url, "--no-deps", "--only-binary", ":all:",
               "--target", str(target), "demo.pkg==1.0")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "demo_pkg" / "__init__.py").read_text() == '__version__ = "1.0"\n'
    assert (target / "demo_pkg-1.0.dist-info" / "METADATA").exists()


@needs_current_pip
def test_pip_download_fetches_the_metadata_file(published: StaticIndex, tmp_path: Path) -> None:
    wheel_name = "demo_pkg-1.0-py3-none-any.whl"
    done = pip("download", "-v", "--index-url", published.url, "--no-deps",
               "--only-binary", ":all:", "--dest", str(tmp_path / "dl"), "demo-pkg")  # fmt: skip
    assert done.returncode == 0, done.stderr
    metadata_url = f"{published.url}demo-pkg/{wheel_name}.metadata"
    assert f"Obtaining dependency information for demo-pkg from {metadata_url}" in done.stdout
    assert (tmp_path / "dl" / wheel_name).exists()
    # and pip checks it against the page's sha256: a tampered .metadata is refused
    sidecar = published.root / "demo-pkg" / f"{wheel_name}.metadata"
    listed = sha256_of(sidecar)
    sidecar.write_bytes(sidecar.read_bytes() + b"Summary: tampered\n")
    refused = pip("download", "--index-url", published.url, "--no-deps", "--only-binary",
                  ":all:", "--dest", str(tmp_path / "dl2"), "demo-pkg")  # fmt: skip
    assert refused.returncode != 0
    assert "DO NOT MATCH THE HASHES" in refused.stderr
    assert f"Expected sha256 {listed}" in refused.stderr
    assert f"Got        {sha256_of(sidecar)}" in refused.stderr


class _Quiet(http.server.SimpleHTTPRequestHandler):
    served: list[str] = []

    def log_message(self, *args: object) -> None:
        pass


class _Negotiating(_Quiet):
    """What the module docstring's nginx snippet does: index.json for PEP 691 clients."""

    def send_head(self):  # type: ignore[no-untyped-def]
        if self.path.endswith("/") and JSON_CONTENT_TYPE in self.headers.get("Accept", ""):
            self.path += "index.json"
            self.served.append(self.path)
        return super().send_head()

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return JSON_CONTENT_TYPE if str(path).endswith(".json") else super().guess_type(path)


@contextmanager
def serve(root: Path, handler: type[_Quiet]) -> Iterator[str]:
    """``root`` behind Python's static file server on loopback, stopped on exit."""
    factory = functools.partial(handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_root(published: StaticIndex) -> Iterator[str]:
    with serve(published.root, _Quiet) as url:
        yield url


@pytest.mark.parametrize("negotiating", [False, True])
def test_verify_reads_a_served_static_index(
    published: StaticIndex, dists: tuple[Path, Path], negotiating: bool
) -> None:
    from registry_upload._verify import VerifyStatus, verify_listed
    from registry_upload.transport import Transport, TransportOptions

    _Negotiating.served = []
    with (
        serve(published.root, _Negotiating if negotiating else _Quiet) as url,
        Transport(TransportOptions(proxy="")) as transport,
    ):
        outcome = verify_listed(
            transport, url, "Demo.Pkg", dists[1].name, sha256_of(dists[1]), sleep=lambda s: None
        )
    assert outcome.status is VerifyStatus.VERIFIED and outcome.polls == 1
    assert _Negotiating.served == (["/demo-pkg/index.json"] if negotiating else [])


@needs_current_pip
def test_a_plain_static_server_serves_it_to_pip(http_root: str, tmp_path: Path) -> None:
    target = tmp_path / "target"
    done = pip("install", "-v", "--index-url", http_root, "--no-deps", "--only-binary", ":all:",
               "--target", str(target), "Demo_Pkg")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "demo_pkg-1.0-py3-none-any.whl.metadata" in done.stdout
    assert (target / "demo_pkg" / "__init__.py").exists()


def test_json_content_type_is_the_pep_691_one() -> None:
    assert JSON_CONTENT_TYPE == "application/vnd.pypi.simple.v1+json"
