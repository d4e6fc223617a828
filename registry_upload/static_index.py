"""A static simple index on disk, used as an upload destination.

A destination written as a ``file:`` URL (``file:///srv/simple/``) or as a
directory path (``/srv/simple``, ``./public/simple``; a bare word is a
repository name, not a path) is a tree of plain files that any static web
server or bucket can serve::

    <root>/
      index.html                  PEP 503 root page: one link per project
      index.json                  PEP 691 root page (api-version 1.1)
      <project>/                  the PEP 503-normalised project name
        index.html                PEP 503 page: sha256 fragments, data-requires-python,
                                  data-core-metadata / data-dist-info-metadata (PEP 658/714)
        index.json                PEP 691 page: hashes, requires-python, core-metadata,
                                  size, upload-time, versions (PEP 700)
        demo-1.0-py3-none-any.whl
        demo-1.0-py3-none-any.whl.metadata    the wheel's METADATA, byte for byte (PEP 658)
        demo-1.0.tar.gz

Use::

    index = StaticIndex("file:///srv/simple/")
    index.preflight()                       # before anything is sent anywhere
    result = index.publish("dist/demo-1.0-py3-none-any.whl")
    result.status                           # stored | exists (same bytes) | conflict

Serving it: pip and uv read ``--index-url file:///srv/simple/`` directly (pip
opens ``index.html`` in a ``file:`` directory).  Over HTTP, serve ``<root>`` as
``/simple/``: a server that answers a directory with its ``index.html`` gives
installers the PEP 503 HTML API, which is all they need.  A static server cannot
negotiate content types, so the PEP 691 JSON lives beside it as ``index.json``;
to offer it to clients that ask for it, pick the file from the ``Accept`` header
and send it as ``application/vnd.pypi.simple.v1+json`` (nginx)::

    map $http_accept $simple_page {
        default                                      index.html;
        "~application/vnd\\.pypi\\.simple\\.v1\\+json"  index.json;
    }
    location /simple/ {
        types { application/vnd.pypi.simple.v1+json json; text/html html; }
        index $simple_page;
        add_header Vary Accept;
    }

Publishing is safe to repeat and to run concurrently: every file is written to a
temporary name in its final directory and renamed into place, and each project
update (and the root page) happens under an ``fcntl.flock`` lock on
``.registry-upload.lock`` (a local file system is needed: NFS locks depend on
the mount).  The pages list every distribution file in the project directory,
so a refresh is idempotent and files added by another run are kept.  A file
name that is already present with the same bytes counts as existing; with other
bytes it is refused with :class:`~registry_upload.errors.FileExistsOnRegistryError`,
as a registry would.
"""

from __future__ import annotations

import enum
import errno
import html
import json
import logging
import os
import re
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from packaging.metadata import parse_email
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ._destination import is_static_destination, root_from_destination
from ._hashing import CHUNK_SIZE, hash_file
from .distribution import METADATA_SIZE_LIMIT, Distribution
from .errors import (
    DistributionError,
    FileExistsOnRegistryError,
    InvalidDistributionError,
    PermissionDeniedError,
    UploadError,
)

__all__ = [
    "HTML_PAGE",
    "JSON_CONTENT_TYPE",
    "JSON_PAGE",
    "LOCK_NAME",
    "PublishResult",
    "PublishStatus",
    "StaticIndex",
    "is_static_destination",
    "wheel_metadata",
]

logger = logging.getLogger(__name__)

#: The page a static server returns for ``<project>/`` (PEP 503 HTML).
HTML_PAGE = "index.html"
#: The PEP 691 JSON page beside it.
JSON_PAGE = "index.json"
#: The media type to serve ``index.json`` with.
JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
API_VERSION = "1.1"
#: The lock file in the root and in each project directory.
LOCK_NAME = ".registry-upload.lock"
_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")
_FILE_MODE = 0o644
_REGISTRY = "static index"


# -- destinations ----------------------------------------------------------------


# -- results -------------------------------------------------------------------


class PublishStatus(str, enum.Enum):
    """What :meth:`StaticIndex.publish` did with one file."""

    STORED = "stored"
    EXISTS = "exists"  # the same bytes were already there
    CONFLICT = "conflict"  # other bytes under this filename: refused

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class PublishResult:
    """The outcome of publishing one file into a static index.

    ``path``/``url`` is where the file lives in the index; ``metadata_sha256``
    is the sha256 of the PEP 658 ``.metadata`` file beside a wheel.  On a
    conflict ``existing_sha256`` is what the index holds and ``error`` is the
    :class:`FileExistsOnRegistryError` a registry would have answered.
    """

    filename: str
    project: str
    status: PublishStatus
    path: Path
    url: str
    sha256: str
    metadata_sha256: str | None = None
    existing_sha256: str | None = None
    error: FileExistsOnRegistryError | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.status is not PublishStatus.CONFLICT

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "project": self.project,
            "status": self.status.value,
            "path": str(self.path),
            "url": self.url,
            "sha256": self.sha256,
            "metadata_sha256": self.metadata_sha256,
            "existing_sha256": self.existing_sha256,
            "error": self.error.to_dict() if self.error is not None else None,
        }


# -- the index -------------------------------------------------------------------


class StaticIndex:
    """A PEP 503 / PEP 691 simple index in a local directory.

    ``root`` is a directory path or a ``file:`` URL; the directory is created on
    the first publish if its parent exists.  ``lock_timeout`` bounds the wait
    for another run's lock (seconds).
    """

    def __init__(self, root: str | os.PathLike[str], *, lock_timeout: float = 300.0) -> None:
        path = root_from_destination(root)
        if path is None:  # a bare word: take it as a relative directory
            path = Path(root)
        self.root = path.absolute()
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"StaticIndex({str(self.root)!r})"

    @property
    def url(self) -> str:
        """The index URL for installers: ``file:///.../`` with a trailing slash."""
        return self.root.as_uri().rstrip("/") + "/"

    def project_dir(self, project: str) -> Path:
        return self.root / canonicalize_name(project)

    # -- publishing ------------------------------------------------------------

    def publish(self, dist: Distribution | str | os.PathLike[str]) -> PublishResult:
        """Store one wheel or sdist and refresh its project's pages and the root page.

        Raises :class:`DistributionError` for a file that is not a valid
        distribution and :class:`UploadError` when the tree cannot be written;
        a name taken by other bytes is a ``CONFLICT`` result, not an exception.
        """
        if not isinstance(dist, Distribution):
            dist = Distribution.open(dist)
        project = dist.project
        directory = self.project_dir(project)
        with _os_errors(directory):
            self._make_dirs(directory)
            result = self._place(dist, directory)
            self._refresh_root()
        logger.debug("%s: %s in %s", dist.filename, result.status, directory)
        return result

    def refresh(self, project: str | None = None) -> None:
        """Rewrite the pages of one project (or of every project) and the root page."""
        projects = [canonicalize_name(project)] if project else self._projects()
        for name in projects:
            directory = self.root / name
            with _os_errors(directory), self._locked(directory):
                _refresh_project(directory)
        with _os_errors(self.root):
            self._refresh_root()

    def files(self, project: str) -> dict[str, str]:
        """The project's files as its JSON page lists them (what installers see):
        filename -> sha256 hex; ``{}`` for a project the index does not have."""
        entries = _previous_entries(self.project_dir(project) / JSON_PAGE)
        return {name: entry.sha256 for name, entry in entries.items()}

    # -- steps -----------------------------------------------------------------

    def preflight(self) -> None:
        """Raise now if publishing cannot work, before anything goes anywhere: the root
        (or, before the first publish, its parent) must be a writable directory.
        Writes nothing."""
        where = self.root if self.root.exists() else self.root.parent
        if not where.is_dir():
            state = "is not a directory" if where.exists() else "does not exist"
            raise UploadError(
                f"{self.root}: cannot use it as a static index: {where} {state}",
                hint="Check the destination path; the index directory is created on the "
                "first publish, but its parent must exist.",
                url=self.url,
                registry=_REGISTRY,
            )
        if not os.access(where, os.W_OK | os.X_OK):
            raise PermissionDeniedError(
                f"{where}: cannot write to the static index: permission denied",
                hint="Check the directory's owner and permissions (the publishing user "
                "must be able to create files in it).",
                url=self.url,
                registry=_REGISTRY,
            )

    def _make_dirs(self, directory: Path) -> None:
        if not self.root.is_dir():
            self.preflight()
            self.root.mkdir(exist_ok=True)
        directory.mkdir(exist_ok=True)

    def _place(self, dist: Distribution, directory: Path) -> PublishResult:
        target = directory / dist.filename
        if target.exists():  # the common skip-existing case: compared without a copy
            result = self._compare(dist, target, hash_file(dist.path, blake2=False).sha256)
            with self._locked(directory):
                _refresh_project(directory)  # repairs pages a killed run left stale
            return result
        staged = _Staged.create(dist, directory)
        try:
            with self._locked(directory):
                just_stored = None
                if target.exists():  # another run stored it while we copied
                    result = self._compare(dist, target, staged.sha256)
                else:
                    staged.commit(target)
                    just_stored = _known_entry(dist, target, staged.sha256)
                    result = self._result(dist, target, PublishStatus.STORED, staged.sha256)
                _refresh_project(directory, just_stored)
        finally:
            staged.discard()
        return result

    def _compare(self, dist: Distribution, target: Path, sha256: str) -> PublishResult:
        existing = hash_file(target, blake2=False).sha256
        if existing == sha256:
            return self._result(dist, target, PublishStatus.EXISTS, sha256)
        error = FileExistsOnRegistryError(
            f"{dist.filename}: the static index already has a file with this name but "
            "different content (sha256 differs)",
            url=target.as_uri(),
            registry=_REGISTRY,
            path=str(dist.path),
            hint="Bump the version and rebuild: a released filename never changes content.",
        )
        return self._result(
            dist, target, PublishStatus.CONFLICT, sha256, existing=existing, error=error
        )

    def _result(
        self,
        dist: Distribution,
        target: Path,
        status: PublishStatus,
        sha256: str,
        *,
        existing: str | None = None,
        error: FileExistsOnRegistryError | None = None,
    ) -> PublishResult:
        sidecar = _metadata_path(target)
        metadata_sha256 = None
        if status is not PublishStatus.CONFLICT and sidecar.exists():
            metadata_sha256 = hash_file(sidecar, blake2=False).sha256
        return PublishResult(
            filename=dist.filename,
            project=dist.project,
            status=status,
            path=target,
            url=target.as_uri(),
            sha256=sha256,
            metadata_sha256=metadata_sha256,
            existing_sha256=existing,
            error=error,
        )

    def _projects(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    def _refresh_root(self) -> None:
        with self._locked(self.root):
            listed = [name for name in self._projects() if (self.root / name / HTML_PAGE).exists()]
            _write_atomic(self.root / HTML_PAGE, _root_html(listed))
            _write_atomic(self.root / JSON_PAGE, _root_json(listed))

    @contextmanager
    def _locked(self, directory: Path) -> Iterator[None]:
        with _flock(directory / LOCK_NAME, self.lock_timeout, self.url):
            yield


# -- staging a file ------------------------------------------------------------


@dataclass(slots=True)
class _Staged:
    """A distribution (and its PEP 658 metadata) copied under hidden temporary names."""

    temp: Path
    sha256: str
    metadata_temp: Path | None

    @classmethod
    def create(cls, dist: Distribution, directory: Path) -> _Staged:
        metadata_temp = None
        if dist.filetype == "bdist_wheel":
            metadata_temp = _temp_file(directory, dist.filename + ".metadata")
            _write_fd(metadata_temp, wheel_metadata(dist.path))
        temp = _temp_file(directory, dist.filename)
        sha256 = _copy_hashing(dist.path, temp)
        return cls(temp=temp, sha256=sha256, metadata_temp=metadata_temp)

    def commit(self, target: Path) -> None:
        """The metadata goes in first, so the wheel never appears without it."""
        if self.metadata_temp is not None:
            os.replace(self.metadata_temp, _metadata_path(target))
            self.metadata_temp = None
        os.replace(self.temp, target)
        _fsync_dir(target.parent)

    def discard(self) -> None:
        for temp in (self.temp, self.metadata_temp):
            if temp is not None:
                temp.unlink(missing_ok=True)


def _temp_file(directory: Path, name: str) -> Path:
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(temp, _FILE_MODE)  # mkstemp makes 0600: the web server must read it
    return Path(temp)


def _copy_hashing(source: Path, temp: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(source, "rb", buffering=0) as src, open(temp, "wb", buffering=0) as dst:
        while chunk := src.read(CHUNK_SIZE):
            digest.update(chunk)
            dst.write(chunk)
        os.fsync(dst.fileno())
    return digest.hexdigest()


def _write_fd(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _write_atomic(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` unless it already holds exactly that; True if written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    temp = _temp_file(path.parent, path.name)
    try:
        _write_fd(temp, data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    logger.debug("wrote %s", path)
    return True


def _fsync_dir(directory: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- wheel metadata (PEP 658) --------------------------------------------------

_METADATA_MEMBER = re.compile(r"[^/]+\.dist-info/METADATA")


def wheel_metadata(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the wheel's ``*.dist-info/METADATA``, as PEP 658 serves them."""
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as zf:
            members = [n for n in zf.namelist() if _METADATA_MEMBER.fullmatch(n)]
            if len(members) != 1:
                raise InvalidDistributionError(
                    f"{p}: expected one *.dist-info/METADATA, found {len(members)}",
                    hint="Rebuild the wheel with an up-to-date build backend.",
                    path=str(p),
                )
            info = zf.getinfo(members[0])
            if info.file_size > METADATA_SIZE_LIMIT:
                raise InvalidDistributionError(
                    f"{p}: {members[0]} is larger than {METADATA_SIZE_LIMIT} bytes",
                    hint="Shorten the long description (README) and rebuild.",
                    path=str(p),
                )
            return zf.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InvalidDistributionError(
            f"{p}: cannot read the wheel: {exc}",
            hint="The file is damaged: rebuild it.",
            path=str(p),
        ) from None


def _metadata_path(dist_path: Path) -> Path:
    return dist_path.with_name(dist_path.name + ".metadata")


# -- scanning a project directory -----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One distribution file as the pages list it."""

    filename: str
    size: int
    upload_time: str
    sha256: str
    requires_python: str | None
    metadata_sha256: str | None
    version: str | None


def _is_distribution(name: str) -> bool:
    return not name.startswith(".") and name.endswith(_DIST_SUFFIXES)


def _scan(directory: Path, just_stored: _Entry | None = None) -> list[_Entry]:
    """Every distribution file in the directory; hashes reused from index.json when the
    file's size and modification time are unchanged (a refresh does not rehash gigabytes)."""
    known = _previous_entries(directory / JSON_PAGE)
    if just_stored is not None:
        known[just_stored.filename] = just_stored
    entries = []
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        if not _is_distribution(path.name) or not path.is_file():
            continue
        entries.append(_entry(path, known.get(path.name)))
    return entries


def _entry(path: Path, known: _Entry | None) -> _Entry:
    stat = path.stat()
    upload_time = _iso_time(stat.st_mtime_ns)
    metadata_sha256 = _ensure_metadata(path) if path.name.endswith(".whl") else None
    if known is not None and known.size == stat.st_size and known.upload_time == upload_time:
        sha256, requires_python = known.sha256, known.requires_python
    else:
        logger.debug("hashing %s", path)
        sha256 = hash_file(path, blake2=False).sha256
        requires_python = _requires_python(path)
    return _Entry(
        filename=path.name,
        size=stat.st_size,
        upload_time=upload_time,
        sha256=sha256,
        requires_python=requires_python,
        metadata_sha256=metadata_sha256,
        version=_version_of(path.name),
    )


def _known_entry(dist: Distribution, target: Path, sha256: str) -> _Entry:
    """What a refresh needs to know about a file this run just stored (no rehash)."""
    stat = target.stat()
    return _Entry(
        filename=target.name,
        size=stat.st_size,
        upload_time=_iso_time(stat.st_mtime_ns),
        sha256=sha256,
        requires_python=dist.metadata.get("requires_python"),
        metadata_sha256=None,
        version=dist.version,
    )


def _ensure_metadata(wheel: Path) -> str | None:
    """The sha256 of the wheel's ``.metadata`` file, written first if it is missing."""
    sidecar = _metadata_path(wheel)
    if not sidecar.exists():
        try:
            _write_atomic(sidecar, wheel_metadata(wheel))
        except DistributionError as exc:
            logger.warning("%s: no PEP 658 metadata file: %s", wheel, exc.message)
            return None
    return hash_file(sidecar, blake2=False).sha256


def _requires_python(path: Path) -> str | None:
    try:
        if path.name.endswith(".whl"):
            sidecar = _metadata_path(path)
            data = sidecar.read_bytes() if sidecar.exists() else wheel_metadata(path)
            raw, _ = parse_email(data)
            return raw.get("requires_python")
        return Distribution.open(path).metadata.get("requires_python")
    except (DistributionError, ValueError, OSError) as exc:
        logger.warning("%s: requires-python unknown: %s", path, exc)
        return None


def _version_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def _iso_time(mtime_ns: int) -> str:
    moment = datetime.fromtimestamp(mtime_ns / 1e9, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _previous_entries(json_page: Path) -> dict[str, _Entry]:
    try:
        data = json.loads(json_page.read_bytes())
        return {e.filename: e for e in map(_entry_from_json, data["files"]) if e is not None}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _entry_from_json(item: dict[str, Any]) -> _Entry | None:
    try:
        metadata = item.get("core-metadata")
        return _Entry(
            filename=str(item["filename"]),
            size=int(item["size"]),
            upload_time=str(item["upload-time"]),
            sha256=str(item["hashes"]["sha256"]),
            requires_python=item.get("requires-python"),
            metadata_sha256=metadata.get("sha256") if isinstance(metadata, dict) else None,
            version=None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def _refresh_project(directory: Path, just_stored: _Entry | None = None) -> None:
    """Rewrite the project's two pages from what is in the directory (under its lock)."""
    entries = _scan(directory, just_stored)
    name = directory.name
    _write_atomic(directory / JSON_PAGE, _project_json(name, entries))
    _write_atomic(directory / HTML_PAGE, _project_html(name, entries))


# -- pages -----------------------------------------------------------------------


def _html_page(title: str, links: list[str]) -> bytes:
    body = "\n".join(f"    {link}<br>" for link in links)
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{body}\n  </body>\n</html>\n"
    ).encode()


def _json_page(data: dict[str, Any]) -> bytes:
    return (json.dumps({"meta": {"api-version": API_VERSION}, **data}, indent=1) + "\n").encode()


def _root_html(projects: list[str]) -> bytes:
    links = [f'<a href="{quote(n)}/">{html.escape(n)}</a>' for n in projects]
    return _html_page("Simple index", links)


def _root_json(projects: list[str]) -> bytes:
    return _json_page({"projects": [{"name": n} for n in projects]})


def _anchor(entry: _Entry) -> str:
    attrs = [f'href="{quote(entry.filename)}#sha256={entry.sha256}"']
    if entry.requires_python:
        attrs.append(f'data-requires-python="{html.escape(entry.requires_python)}"')
    if entry.metadata_sha256:
        value = f"sha256={entry.metadata_sha256}"
        attrs += [f'data-dist-info-metadata="{value}"', f'data-core-metadata="{value}"']
    return f"<a {' '.join(attrs)}>{html.escape(entry.filename)}</a>"


def _project_html(name: str, entries: list[_Entry]) -> bytes:
    return _html_page(f"Links for {name}", [_anchor(e) for e in entries])


def _file_json(entry: _Entry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "filename": entry.filename,
        "url": quote(entry.filename),
        "hashes": {"sha256": entry.sha256},
        "size": entry.size,
        "upload-time": entry.upload_time,
    }
    if entry.requires_python:
        item["requires-python"] = entry.requires_python
    if entry.metadata_sha256:
        item["core-metadata"] = {"sha256": entry.metadata_sha256}
        item["dist-info-metadata"] = {"sha256": entry.metadata_sha256}
    return item


def _project_json(name: str, entries: list[_Entry]) -> bytes:
    versions = {e.version for e in entries if e.version}
    return _json_page(
        {
            "name": name,
            "versions": sorted(versions, key=Version),
            "files": [_file_json(e) for e in entries],
        }
    )


# -- locks and OS errors -------------------------------------------------------


@contextmanager
def _flock(path: Path, timeout: float, url: str) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if needed), waited for at most
    ``timeout`` seconds; flock locks belong to the open file, so threads are covered too."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
    try:
        _acquire(fd, path, timeout, url)
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


@contextmanager
def _os_errors(where: Path) -> Iterator[None]:
    """Turn a failing write into an UploadError that names the place and the fix."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        shown = exc.filename or where
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise PermissionDeniedError(
                f"{shown}: cannot write to the static index: {reason}",
                hint="Check the directory's owner and permissions (the publishing user "
                "must be able to create files in it).",
                url=where.as_uri(),
                registry=_REGISTRY,
            ) from None
        raise UploadError(
            f"{shown}: cannot update the static index: {reason}",
            hint="Check the destination path and the free disk space.",
            url=where.as_uri(),
            registry=_REGISTRY,
        ) from None
