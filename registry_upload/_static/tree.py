"""The index tree on disk, reached only through directory descriptors (private).

The root is opened once (the path *to* it may go through links: that is the
user's choice); every name inside it is opened relative to its directory's
descriptor with ``O_NOFOLLOW``, so a symbolic link planted inside the index
is refused, never followed.  Every file is first written under a temporary
name in the state directory ``<root>/.registry-upload/`` -- written fully or
not at all, synced, and checked before anything is renamed into place (a
distribution is hashed as written and read back; a page is checked by its
size) -- so a final name never holds a partial file, and a failure leaves
nothing behind.  The lock (``.registry-upload/lock``) sits there too,
outside every served project page.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from .._hashing import CHUNK_SIZE
from ..errors import ConfigurationError, UploadError

__all__ = [
    "LOCK_FILE",
    "STATE_DIR",
    "TEMP_PREFIX",
    "Copied",
    "Dir",
    "Staging",
    "WriteFunction",
    "locked",
    "remove_leftovers",
]

logger = logging.getLogger(__name__)

#: The directory, at the root, that holds the lock and the temporary files.
STATE_DIR = ".registry-upload"
#: The lock file inside it.
LOCK_FILE = "lock"
#: Every temporary file this library makes is named ``tmp-<random>-<final name>``.
TEMP_PREFIX = "tmp-"
#: What earlier releases left beside the files: ``.<final name>.<8 random>.tmp``.
_LEGACY_TEMP = re.compile(
    r"\..*(\.whl|\.tar\.gz|\.zip|\.metadata|index\.html|index\.json)\.[a-z0-9_]{8}\.tmp"
)
_SYNC_THREADS = 8
_FILE_MODE = 0o644
_DIR_MODE = 0o755
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

#: ``os.write``'s shape: write some of the bytes to the descriptor, return how many.
WriteFunction = Callable[[int, memoryview], int]
_REGISTRY = "static index"


def link_refused(path: Path, url: str) -> ConfigurationError:
    return ConfigurationError(
        f"{path}: is a symbolic link inside the static index; refusing to follow it",
        hint="Replace the link with a real directory or file (or remove it): a link inside "
        "the index would let a publish write or list files outside it.",
        path=str(path),
        url=url,
    )


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """OSErrors raised by ``*at`` calls name the full path, not the bare name."""
    try:
        yield
    except OSError as exc:
        if not exc.filename or not os.path.isabs(str(exc.filename)):
            exc.filename = str(path)
        raise


class Dir:
    """A directory held open; names in it are resolved without following links."""

    def __init__(self, path: Path, fd: int, url: str) -> None:
        self.path = path
        self.fd = fd
        self.url = url

    @classmethod
    def open_root(cls, path: Path, url: str) -> Dir:
        if not _NOFOLLOW or os.open not in os.supports_dir_fd:
            raise ConfigurationError(
                f"{path}: a static index needs a POSIX system (names opened relative to "
                "their directory, without following links)",
                hint="Publish the static index from Linux, macOS or a BSD.",
                path=str(path),
                url=url,
            )
        with _naming(path):
            fd = os.open(path, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        return cls(path, fd, url)

    def __enter__(self) -> Dir:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def child(self, name: str, *, create: bool = False) -> Dir:
        """The sub-directory ``name``, made first if ``create``; a link is refused."""
        with _naming(self.path / name):
            if create:
                with suppress(FileExistsError):
                    os.mkdir(name, _DIR_MODE, dir_fd=self.fd)
            self.stat(name)  # a link is refused with its own error
            fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=self.fd)
        return Dir(self.path / name, fd, self.url)

    def stat(self, name: str) -> os.stat_result | None:
        """The entry's own stat (``None`` if absent); a symbolic link is refused."""
        with _naming(self.path / name):
            try:
                st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            except FileNotFoundError:
                return None
        if stat.S_ISLNK(st.st_mode):
            raise link_refused(self.path / name, self.url)
        return st

    @contextmanager
    def open_file(self, name: str) -> Iterator[int]:
        """A regular file opened for reading, never through a link."""
        with _naming(self.path / name):
            try:
                fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=self.fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise link_refused(self.path / name, self.url) from None
                raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EISDIR, "not a regular file", str(self.path / name))
            yield fd
        finally:
            os.close(fd)

    def read(self, name: str) -> bytes | None:
        """The whole file, or ``None`` if there is none."""
        if self.stat(name) is None:
            return None
        with self.open_file(name) as fd:
            return _read_all(fd)

    def sha256(self, name: str) -> str:
        with self.open_file(name) as fd:
            return _digest(_chunks(fd))

    def names(self) -> list[os.DirEntry[str]]:
        with os.scandir(self.fd) as entries:
            return sorted(entries, key=lambda e: e.name)

    def remove(self, name: str) -> None:
        with _naming(self.path / name):
            os.unlink(name, dir_fd=self.fd)

    def fsync(self) -> None:
        if sys.platform != "win32":
            os.fsync(self.fd)

    def probe(self, reserve: int) -> None:
        """Create, fill (``reserve`` bytes, where the file system can reserve them without
        writing) and remove a small file: what a publish will need to do here."""
        name = f"{TEMP_PREFIX}{secrets.token_hex(6)}-probe"
        with _naming(self.path / name):
            fd = os.open(name, _NEW_FILE, _FILE_MODE, dir_fd=self.fd)
            try:
                os.write(fd, b"probe\n")
                os.fsync(fd)
                _reserve(fd, reserve)
            finally:
                os.close(fd)
                os.unlink(name, dir_fd=self.fd)


_NEW_FILE = os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC


def _reserve(fd: int, size: int) -> None:
    """Allocate ``size`` bytes (a full disk or quota says so now); skipped where unsupported."""
    fallocate = getattr(os, "posix_fallocate", None)
    if fallocate is None or size <= 0:
        return
    try:
        fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            return  # EOPNOTSUPP, EINVAL: this file system cannot say
        raise


def _chunks(fd: int, offset: int = 0) -> Iterator[bytes]:
    while chunk := os.pread(fd, CHUNK_SIZE, offset):
        offset += len(chunk)
        yield chunk


def _read_all(fd: int) -> bytes:
    """The file's bytes in one read when its size holds still (a page: a few MB)."""
    size = os.fstat(fd).st_size
    data = os.pread(fd, size + 1, 0)
    if len(data) == size:
        return data
    return b"".join(_chunks(fd))  # it grew or shrank meanwhile: read to the end


def _digest(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


# -- writing ---------------------------------------------------------------------


def write_all(
    write: WriteFunction, fd: int, data: bytes | memoryview, digest: hashlib._Hash | None = None
) -> None:
    """Write every byte or raise; ``digest`` sees exactly the bytes the system took."""
    view = memoryview(data)
    while view:
        done = write(fd, view)
        if done <= 0:  # no progress: a full file system that does not say ENOSPC
            raise OSError(errno.ENOSPC, "No space left on device (the write made no progress)")
        if digest is not None:
            digest.update(view[:done])
        view = view[done:]


@dataclass(frozen=True, slots=True)
class Copied:
    """A file staged in full: its size, sha256 and modification time."""

    size: int
    sha256: str
    mtime_ns: int


@dataclass(slots=True)
class _Pending:
    """A temporary file written in full: synced and checked at commit."""

    state: Dir
    temp: str
    target: Dir
    name: str
    size: int = 0
    sha256: str | None = None  # what was written, to compare on read-back (None: a page)

    def check(self) -> None:
        """The synced file must read back as written (``EIO`` otherwise); a page, which
        :meth:`StaticIndex.refresh` can rebuild, by its size alone (it may be megabytes)."""
        with _naming(self.target.path / self.name), self.state.open_file(self.temp) as fd:
            os.fsync(fd)
            same = os.fstat(fd).st_size == self.size
            if same and self.sha256 is not None:
                same = _digest(_chunks(fd)) == self.sha256
            if not same:
                raise OSError(errno.EIO, "the written copy reads back different (file error)")


class Staging:
    """Files written under temporary names in the state directory; at :meth:`commit`
    all are synced (together) and read back, then renamed into place in the order
    they were added; on failure :meth:`discard` removes every one."""

    def __init__(self, state: Dir, write: WriteFunction) -> None:
        self.state = state
        self.write = write
        self._pending: list[_Pending] = []

    def add(self, target: Dir, name: str, chunks: Iterable[bytes]) -> Copied:
        """Stage a stream (a distribution), hashed as it is written."""
        digest = hashlib.sha256()
        with self._temp(target, name) as (pending, fd):
            for chunk in chunks:
                write_all(self.write, fd, chunk, digest)
                pending.size += len(chunk)
            mtime_ns = os.fstat(fd).st_mtime_ns
        pending.sha256 = digest.hexdigest()
        return Copied(size=pending.size, sha256=pending.sha256, mtime_ns=mtime_ns)

    def add_page(self, target: Dir, name: str, parts: Iterable[bytes | memoryview]) -> None:
        """Stage a page written from its parts (checked by its size: see
        :meth:`_Pending.check`)."""
        with self._temp(target, name) as (pending, fd):
            for part in parts:
                write_all(self.write, fd, part)
                pending.size += len(part)

    @contextmanager
    def _temp(self, target: Dir, name: str) -> Iterator[tuple[_Pending, int]]:
        temp = f"{TEMP_PREFIX}{secrets.token_hex(6)}-{name}"
        with _naming(self.state.path / temp):
            fd = os.open(temp, _NEW_FILE, _FILE_MODE, dir_fd=self.state.fd)
        pending = _Pending(self.state, temp, target, name)
        self._pending.append(pending)  # from now on discard() removes it
        try:
            with _naming(target.path / name):  # errors name what the user knows
                os.fchmod(fd, _FILE_MODE)  # whatever the umask: the web server must read it
                yield pending, fd
        finally:
            os.close(fd)

    def commit(self) -> None:
        """Sync and check every staged file, rename each into place, sync the directories."""
        _in_parallel([p.check for p in self._pending])
        targets: dict[int, Dir] = {}
        try:
            while self._pending:
                pending = self._pending[0]
                with _naming(pending.target.path / pending.name):
                    os.replace(pending.temp, pending.name, src_dir_fd=self.state.fd,
                               dst_dir_fd=pending.target.fd)  # fmt: skip
                self._pending.pop(0)
                targets[pending.target.fd] = pending.target
                logger.debug("wrote %s", pending.target.path / pending.name)
        finally:  # what was renamed is made durable, even if a later rename failed
            _in_parallel([d.fsync for d in targets.values()])

    def discard(self) -> None:
        """Remove what was not renamed (every failure path comes here)."""
        for pending in self._pending:
            try:
                os.unlink(pending.temp, dir_fd=self.state.fd)
            except FileNotFoundError:
                pass
            except OSError as exc:  # the next run's clean-up removes it
                path = self.state.path / pending.temp
                logger.warning("%s: cannot remove: %s", path, exc.strerror)
        self._pending.clear()


def _in_parallel(calls: Sequence[Callable[[], None]]) -> None:
    """Run the calls (fsyncs: the disk takes them together), raising the first error."""
    if len(calls) <= 1:
        for call in calls:
            call()
        return
    with ThreadPoolExecutor(min(len(calls), _SYNC_THREADS), "registry-upload-sync") as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()


# -- clean-up and the lock -----------------------------------------------------------


def remove_leftovers(directory: Dir, *, state: bool = False) -> list[Path]:
    """Under the lock: remove the temporary files killed runs left behind -- every
    ``tmp-*`` in the state directory (``state=True``; call it before staging), or in a
    served directory the names older releases used."""
    if state:
        stale = [e for e in directory.names() if e.name.startswith(TEMP_PREFIX)]
    else:
        stale = [
            e
            for e in directory.names()
            if _LEGACY_TEMP.fullmatch(e.name) and not e.is_dir(follow_symlinks=False)
        ]
    for entry in stale:
        directory.remove(entry.name)
        logger.info(
            "%s: removed a temporary file an interrupted run left", directory.path / entry.name
        )
    return [directory.path / e.name for e in stale]


@contextmanager
def locked(state: Dir, timeout: float) -> Iterator[None]:
    """An exclusive advisory lock on ``.registry-upload/lock``, waited for at most
    ``timeout`` seconds; flock locks belong to the open file, so threads are covered too."""
    path = state.path / LOCK_FILE
    with _naming(path):
        state.stat(LOCK_FILE)  # a planted link is refused, never created through
        fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, _FILE_MODE,
                     dir_fd=state.fd)  # fmt: skip
    try:
        _acquire(fd, path, timeout, state.url)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(fd: int, path: Path, timeout: float, url: str) -> None:
    if sys.platform == "win32":  # pragma: no cover - no flock on Windows
        import msvcrt

        def try_lock() -> None:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        def try_lock() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            try_lock()
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
        if time.monotonic() >= deadline:
            raise UploadError(
                f"{path}: another run has held this lock for over {timeout:.0f} s",
                hint="Wait for the other publish to the index to finish, or stop the stuck "
                "process that holds the lock file open.",
                url=url,
                registry=_REGISTRY,
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
