"""A static index on a full disk: every file is written fully or not at all.

Two ways to fill the disk: a write function with a fault at a chosen byte or
call (any machine), and a real 300 KiB tmpfs in a private mount namespace
(root on Linux; skipped with the reason elsewhere).  After each failure the
tree is byte for byte what it was -- no truncated file under a final name, no
temporary file left -- and once space is back a re-run stores the file.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from registry_upload.distribution import Distribution
from registry_upload.errors import ConfigurationError, UploadError
from registry_upload.static_index import LOCK_NAME, STATE_DIR, PublishStatus, StaticIndex
from registry_upload.testing import make_sdist, make_wheel

Write = Callable[[int, memoryview], int]
ROOT = Path(__file__).resolve().parents[1]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file in the tree but the lock, by relative path."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p != root / LOCK_NAME
    }


class FailAtCall:
    """The ``n``-th write (0-based) fails with ENOSPC after writing half its bytes."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def __call__(self, fd: int, data: memoryview) -> int:
        self.calls += 1
        if self.calls - 1 == self.n:
            os.write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(fd, data)


class Room:
    """A file system with ``room`` bytes left: a short write, then ENOSPC, as the kernel
    does; ``most`` caps every write (short writes with room to spare)."""

    def __init__(self, room: int = 1 << 62, most: int = 1 << 62) -> None:
        self.room = room
        self.most = most

    def __call__(self, fd: int, data: memoryview) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        done = os.write(fd, data[: min(len(data), self.room, self.most)])
        self.room -= done
        return done


def stuck(fd: int, data: memoryview) -> int:
    return 0  # a file system that takes nothing and says nothing


def lying(fd: int, data: memoryview) -> int:
    """Drops the last byte of every write but reports it written."""
    os.write(fd, data[:-1])
    return len(data)


@pytest.fixture
def new_wheel(tmp_path: Path) -> Path:
    return make_wheel(tmp_path / "new", "Demo", "2.0", payload_size=1_200_000)


def published_index(root: Path, tmp_path: Path) -> StaticIndex:
    root.parent.mkdir(parents=True, exist_ok=True)
    index = StaticIndex(root)
    out = tmp_path / "old"
    for path in (make_wheel(out, "Demo", "1.0"), make_sdist(out, "Demo", "1.0")):
        assert index.publish(path).status is PublishStatus.STORED
    return index


def assert_recovers(root: Path, wheel: Path, before: dict[str, bytes]) -> None:
    """The tree is as it was (nothing new, nothing partial, nothing temporary); with
    space back, the file goes in, then counts as existing."""
    assert snapshot(root) == before
    assert sorted(p.name for p in (root / STATE_DIR).iterdir()) == ["lock"]
    index = StaticIndex(root)
    stored = index.publish(wheel)
    assert stored.status is PublishStatus.STORED
    assert sha256_of(stored.path) == sha256_of(wheel)
    assert index.publish(wheel).status is PublishStatus.EXISTS  # what skip-existing sees
    assert index.files("demo")[wheel.name] == sha256_of(wheel)


def count_writes(tmp_path: Path, wheel: Path, project_exists: bool) -> int:
    counter = FailAtCall(-1)
    root = tmp_path / "count"
    if project_exists:
        published_index(root, tmp_path)
    StaticIndex(root, write=counter).publish(wheel)
    return counter.calls


@pytest.mark.parametrize("project_exists", [True, False])
def test_a_full_disk_at_every_write_leaves_the_tree_as_it_was(
    tmp_path: Path, new_wheel: Path, project_exists: bool
) -> None:
    calls = count_writes(tmp_path, new_wheel, project_exists)
    # the metadata, the wheel in three chunks, the project's two pages (spliced: in parts),
    # and for a new project the root's two
    assert calls == (12 if project_exists else 8)
    for n in range(calls):
        root = tmp_path / f"fail-{n}" / "simple"
        if project_exists:
            published_index(root, tmp_path)
        else:
            root.mkdir(parents=True)
        before = snapshot(root)
        with pytest.raises(UploadError) as info:
            StaticIndex(root, write=FailAtCall(n)).publish(new_wheel)
        assert "No space left on device" in info.value.message
        assert "skip-existing" in (info.value.hint or "")
        if project_exists:
            assert_recovers(root, new_wheel, before)
        else:
            assert not (root / "demo" / new_wheel.name).exists()
            assert snapshot(root) == before


_ROOM: dict[str, Callable[[int], int]] = {
    "none": lambda wheel: 0,
    "one byte": lambda wheel: 1,
    "a page": lambda wheel: 4096,
    "half the wheel": lambda wheel: wheel // 2,
    "all but the wheel's last byte": lambda wheel: wheel - 1,  # + its metadata file
    "the wheel but not the pages": lambda wheel: wheel + 400,
}


@pytest.mark.parametrize("room", list(_ROOM))
def test_a_disk_that_fills_up_mid_file_leaves_nothing(
    tmp_path: Path, new_wheel: Path, room: str
) -> None:
    root = tmp_path / "simple"
    index = published_index(root, tmp_path)
    before = snapshot(root)
    with pytest.raises(UploadError) as info:
        StaticIndex(root, write=Room(_ROOM[room](new_wheel.stat().st_size))).publish(new_wheel)
    assert "No space left on device" in info.value.message
    assert not (root / "demo" / new_wheel.name).exists()
    assert new_wheel.name not in index.files("demo")
    assert_recovers(root, new_wheel, before)


def test_short_writes_are_continued(tmp_path: Path, new_wheel: Path) -> None:
    index = StaticIndex(tmp_path / "simple", write=Room(most=4093))
    result = index.publish(new_wheel)
    assert result.status is PublishStatus.STORED
    assert result.path.read_bytes() == new_wheel.read_bytes()
    assert result.sha256 == sha256_of(new_wheel) == index.files("demo")[new_wheel.name]
    page = json.loads((result.path.parent / "index.json").read_bytes())
    assert [f["size"] for f in page["files"]] == [new_wheel.stat().st_size]


@pytest.mark.parametrize(
    ("write", "said"),
    [(stuck, "No space left on device"), (lying, "reads back different")],
)
def test_a_write_that_makes_no_progress_or_lies_is_refused(
    tmp_path: Path, new_wheel: Path, write: Write, said: str
) -> None:
    root = tmp_path / "simple"
    published_index(root, tmp_path)
    before = snapshot(root)
    with pytest.raises(UploadError) as info:
        StaticIndex(root, write=write).publish(new_wheel)
    assert said in info.value.message and info.value.hint
    assert_recovers(root, new_wheel, before)


# -- a killed run ------------------------------------------------------------------

_KILLED = """
import os, signal, sys
from registry_upload.static_index import StaticIndex

def write(fd, data):  # half the first chunk is on disk when the run dies
    os.write(fd, data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)
    return 0

StaticIndex(sys.argv[1], write=write).publish(sys.argv[2])
"""


def test_a_killed_run_leaves_a_temporary_file_the_next_run_removes(
    tmp_path: Path, new_wheel: Path
) -> None:
    root = tmp_path / "simple"
    published_index(root, tmp_path)
    before = snapshot(root)
    killed = subprocess.run([sys.executable, "-c", _KILLED, str(root), str(new_wheel)],
                            timeout=60, check=False)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    left = [p for p in (root / STATE_DIR).iterdir() if p.name != "lock"]
    assert len(left) == 1 and left[0].name.startswith("tmp-"), left
    assert {k: v for k, v in snapshot(root).items() if not k.startswith(STATE_DIR)} == before
    assert StaticIndex(root).publish(new_wheel).status is PublishStatus.STORED
    assert sorted(p.name for p in (root / STATE_DIR).iterdir()) == ["lock"]
    assert (root / "demo" / new_wheel.name).read_bytes() == new_wheel.read_bytes()


def test_an_older_releases_leftovers_go_when_its_pages_are_taken_over(
    tmp_path: Path, new_wheel: Path
) -> None:
    """Releases before this one left ``.<name>.<random>.tmp`` beside the files; the first
    publish into a project (or a root) they wrote removes them, and only them."""
    root = tmp_path / "simple"
    (root / "demo").mkdir(parents=True)
    page = {"meta": {"api-version": "1.1"}, "name": "demo", "versions": [], "files": []}
    (root / "demo" / "index.json").write_text(json.dumps(page, indent=1))
    (root / "index.json").write_text(
        json.dumps({"meta": {"api-version": "1.1"}, "projects": []}, indent=1)
    )
    leftovers = [
        root / "demo" / ".Pillow-9.0.0.tar.gz.k2x_9abc.tmp",
        root / ".index.html.a1b2c3d4.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"\0" * (512 << 10))
    kept = [root / "demo" / ".well-known", root / "demo" / ".notes.tmp", root / ".htaccess"]
    for path in kept:
        path.write_text("not ours")
    assert StaticIndex(root).publish(new_wheel).status is PublishStatus.STORED
    assert [p.exists() for p in leftovers] == [False, False]
    assert [p.read_text() for p in kept] == ["not ours"] * 3


# -- the preflight --------------------------------------------------------------------


def test_preflight_probes_each_project_directory_and_leaves_nothing(
    tmp_path: Path, new_wheel: Path
) -> None:
    root = tmp_path / "simple"
    index = published_index(root, tmp_path)
    before = snapshot(root)
    other = make_wheel(tmp_path / "other", "Other", "1.0")
    index.preflight([Distribution.open(new_wheel), Distribution.open(other)])
    index.preflight()
    assert snapshot(root) == before
    assert sorted(p.name for p in (root / STATE_DIR).iterdir()) == ["lock"]
    StaticIndex(tmp_path / "fresh").preflight([Distribution.open(new_wheel)])
    assert not (tmp_path / "fresh").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "old", "other", "simple"]


@pytest.mark.skipif(not hasattr(os, "statvfs"), reason="no statvfs on this platform")
def test_preflight_refuses_a_batch_larger_than_the_free_space(tmp_path: Path) -> None:
    """A sparse file as large as the free space stands for a huge wheel: its size is all
    the preflight reads (Distribution.size), so no disk is filled."""
    fs = os.statvfs(tmp_path)
    free = fs.f_bavail * fs.f_frsize
    wheel = make_wheel(tmp_path / "dist", "Demo", "1.0")
    dist = Distribution.open(wheel)
    huge = Distribution(
        path=dist.path,
        filename=dist.filename,
        filetype=dist.filetype,
        pyversion=dist.pyversion,
        size=free + (1 << 30),
        metadata=dist.metadata,
    )
    index = StaticIndex(tmp_path / "simple")
    with pytest.raises(ConfigurationError) as info:
        index.preflight([dist, huge])
    assert str(tmp_path) in info.value.message and "bytes free" in info.value.message
    assert "nothing has been sent" in (info.value.hint or "")
    assert not (tmp_path / "simple").exists()


# -- a real full disk: a 300 KiB tmpfs --------------------------------------------------

_ON_TMPFS = r"""
import json, subprocess, sys
from pathlib import Path
from registry_upload.distribution import Distribution
from registry_upload.errors import ConfigurationError, UploadError
from registry_upload.static_index import StaticIndex

mount, small, big = sys.argv[1:]
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", mount]).returncode:
    sys.exit(77)
root = Path(mount) / "simple"
index = StaticIndex(root)
out = {"small": index.publish(small).status.value}
big_dist = Distribution.open(big)
try:
    index.preflight([big_dist])
    out["preflight"] = "passed"
except ConfigurationError as exc:
    out["preflight"] = exc.message
try:
    index.publish(big_dist)
    out["publish"] = "stored"
except UploadError as exc:
    out["publish"] = exc.message
out["after_failure"] = sorted(
    str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
)
out["listed_after_failure"] = sorted(index.files("demo"))
subprocess.run(["mount", "-o", "remount,size=4m", mount], check=True)
index.preflight([big_dist])
out["retry"] = index.publish(big_dist).status.value
out["again"] = index.publish(big_dist).status.value
out["listed"] = index.files("demo")
out["stored_sha256"] = __import__("hashlib").sha256((root / "demo" / Path(big).name).read_bytes()).hexdigest()
print(json.dumps(out))
"""


def _private_mount_namespace() -> str | None:
    """Why a private mount namespace cannot be had here (None: it can)."""
    if sys.platform != "linux":
        return "tmpfs in a private mount namespace needs Linux"
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root (run the suite as root to test a real full disk)"
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "the unshare and mount commands are not installed"
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode:
        return f"unshare -m is not allowed here: {probe.stderr.strip()}"
    return None


def test_a_real_full_disk(tmp_path: Path) -> None:
    """The report's case: a 401,055-byte wheel into a tmpfs with ~300 KiB free."""
    reason = _private_mount_namespace()
    if reason:
        pytest.skip(reason)
    small = make_wheel(tmp_path / "dist", "Demo", "1.0")
    big = make_wheel(tmp_path / "dist", "Demo", "2.0", payload_size=400_000)
    mount = tmp_path / "mnt"
    mount.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", sys.executable, "-c", _ON_TMPFS,
         str(mount), str(small), str(big)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    if done.returncode == 77:
        pytest.skip("cannot mount a tmpfs in the private mount namespace")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["small"] == "stored"
    assert "bytes free" in out["preflight"], "the preflight sees the full disk"
    assert "No space left on device" in out["publish"]
    assert out["after_failure"] == sorted(
        [f"{STATE_DIR}/lock", "index.html", "index.json", "demo/index.html", "demo/index.json",
         f"demo/{small.name}", f"demo/{small.name}.metadata"]
    )  # fmt: skip
    assert out["listed_after_failure"] == [small.name]
    assert out["retry"] == "stored" and out["again"] == "exists"
    assert out["listed"] == {small.name: sha256_of(small), big.name: sha256_of(big)}
    assert out["stored_sha256"] == sha256_of(big)
    assert big.stat().st_size > 300 << 10
