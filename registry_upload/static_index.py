"""A static simple index on disk, used as an upload destination.

A destination written as a ``file:`` URL (``file:///srv/simple/``) or as a
directory path (``/srv/simple``, ``./public/simple``; a bare word is a
repository name, not a path) is a tree of plain files that any static web
server or bucket can serve::

    <root>/
      .registry-upload/           the lock and the temporary files: not to be served
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
    index.preflight([dist, ...])            # before anything is sent anywhere
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

Keep ``.registry-upload/`` out of what is served or synced: in nginx,
``location ^~ /simple/.registry-upload/ { return 404; }`` (or deny every dot
path, ``location ~ /[.] { deny all; }``); for a bucket, ``aws s3 sync <root>
s3://bucket/simple/ --exclude '.registry-upload/*'`` or ``rsync -a
--exclude=.registry-upload/``.

What a publish guarantees:

* **Nothing partial under a final name.**  Each file (the distribution, its
  ``.metadata``, each page) is written fully under a temporary name in
  ``.registry-upload/`` -- a short write is continued, a full disk is an
  error.  All of them are synced and checked (the distribution and its
  ``.metadata`` are hashed as written and read back; a page must have its
  full size) before the first is renamed into place; the directories are
  synced after.  On any failure every temporary file is removed, so after
  space is freed a re-run (or ``skip-existing``) finishes the job.
* **No link inside the index is followed.**  Every name under the root is
  opened relative to its directory with ``O_NOFOLLOW``; a project directory,
  a file, the lock or ``.registry-upload`` itself that is a symbolic link is
  refused with a :class:`~registry_upload.errors.ConfigurationError`, and a
  refresh leaves linked files out of the pages.
* **Runs exclude each other** with an ``fcntl.flock`` lock on
  ``.registry-upload/lock`` (a local file system is needed: NFS locks depend on
  the mount).  The run that takes it first removes the temporary files that
  killed runs left (``.registry-upload/tmp-*``, and ``.<name>.<random>.tmp``
  from older releases).
* **A publish does not grow with the project**, but for the pages' own bytes.
  The project's ``index.json`` is its record (one file per line, with what
  both pages show): a new file is one line spliced into each page, with no
  directory scan, no parsing and no re-hashing; :meth:`StaticIndex.refresh`
  rebuilds the pages from the files.  (The pages must list every file and are
  replaced whole, so writing them is the cost that grows: about 8 MB for
  10,000 files.)
* **The preflight sees a full disk.**  :meth:`StaticIndex.preflight` checks the
  free space against the batch's size, reserves it in a probe file (which a
  quota refuses) and creates a probe file in each project directory, all
  removed again, before anything is sent anywhere.

A file name that is already present with the same bytes counts as existing;
with other bytes it is refused with
:class:`~registry_upload.errors.FileExistsOnRegistryError`, as a registry would.
"""

from __future__ import annotations

import enum
import errno
import logging
import os
import re
import zipfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from ._destination import is_static_destination, root_from_destination
from ._hashing import CHUNK_SIZE
from ._static import pages
from ._static.pages import HTML_PAGE, JSON_PAGE, Item, Parts
from ._static.tree import (
    LOCK_FILE,
    STATE_DIR,
    Dir,
    Staging,
    WriteFunction,
    locked,
    remove_leftovers,
)
from .distribution import DISTRIBUTION_SUFFIXES, METADATA_SIZE_LIMIT, Distribution
from .errors import (
    ConfigurationError,
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
    "STATE_DIR",
    "PublishResult",
    "PublishStatus",
    "StaticIndex",
    "is_static_destination",
    "wheel_metadata",
]

logger = logging.getLogger(__name__)

#: The media type to serve ``index.json`` with.
JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
#: The lock file, relative to the root (inside :data:`STATE_DIR`).
LOCK_NAME = f"{STATE_DIR}/{LOCK_FILE}"
_REGISTRY = "static index"
#: What a batch may need beyond its files' bytes, per file: the ``.metadata`` and
#: the two pages' new lines, with room to spare.
_PER_FILE_MARGIN = 64 << 10


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
    for another run's lock (seconds).  ``write`` is the function that writes
    bytes to a file descriptor (:func:`os.write`): a seam to inject short writes
    and full disks.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        lock_timeout: float = 300.0,
        write: WriteFunction = os.write,
    ) -> None:
        path = root_from_destination(root)
        if path is None:  # a bare word: take it as a relative directory
            path = Path(root)
        self.root = path.absolute()
        self.lock_timeout = lock_timeout
        self._write = write

    def __repr__(self) -> str:
        return f"StaticIndex({str(self.root)!r})"

    @property
    def url(self) -> str:
        """The index URL for installers: ``file:///.../`` with a trailing slash."""
        return self.root.as_uri().rstrip("/") + "/"

    def project_dir(self, project: str) -> Path:
        return self.root / canonicalize_name(project)

    # -- preflight -------------------------------------------------------------

    def preflight(self, dists: Sequence[Distribution] = ()) -> None:
        """Raise now if publishing ``dists`` cannot work, before anything goes anywhere.

        The root (or, before the first publish, its parent) must be a writable
        directory with room for the batch: the free space is checked against the
        files' total size, the space is reserved in a probe file (which a quota
        refuses), and a probe file is created in each project directory; every
        probe is removed.  A symbolic link where the index keeps its files is
        refused.  Raises :class:`~registry_upload.errors.ConfigurationError` (no
        room, a link), :class:`~registry_upload.errors.PermissionDeniedError`, or
        :class:`~registry_upload.errors.UploadError` (no such directory).
        """
        where = self._existing_ancestor()
        need = sum(d.size + _PER_FILE_MARGIN for d in dists)
        with _os_errors(where, preflight=True):
            _check_free_space(where, need, len(dists), self.url)
            if where != self.root:
                with Dir.open_root(where, self.url) as parent:
                    parent.probe(need)
                return
            with Dir.open_root(self.root, self.url) as root:
                self._probe_tree(root, dists, need)

    def _existing_ancestor(self) -> Path:
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
        return where

    def _probe_tree(self, root: Dir, dists: Sequence[Distribution], need: int) -> None:
        if root.stat(STATE_DIR) is None:
            root.probe(need)
        else:
            with root.child(STATE_DIR) as state:
                state.stat(LOCK_FILE)
                state.probe(need)
        for project in sorted({d.project for d in dists}):
            if root.stat(project) is None:
                continue  # made on publish; the root's probe covered it
            with root.child(project) as directory:
                for dist in dists:
                    if dist.project == project:
                        directory.stat(dist.filename)
                directory.probe(0)

    # -- publishing ------------------------------------------------------------

    def publish(self, dist: Distribution | str | os.PathLike[str]) -> PublishResult:
        """Store one wheel or sdist and update its project's pages and the root page.

        Raises :class:`DistributionError` for a file that is not a valid
        distribution, :class:`ConfigurationError` for a symbolic link inside the
        index, and :class:`UploadError` when the tree cannot be written (nothing
        partial is left); a name taken by other bytes is a ``CONFLICT`` result,
        not an exception.
        """
        if not isinstance(dist, Distribution):
            dist = Distribution.open(dist)
        with (
            _os_errors(self.root),
            self._opened() as (root, state),
            root.child(dist.project, create=True) as project,
        ):
            result = self._place(dist, root, state, project)
        logger.debug("%s: %s in %s", dist.filename, result.status, result.path.parent)
        return result

    def refresh(self, project: str | None = None) -> None:
        """Rebuild the pages of one project (or of every project) from the files in its
        directory, and the root page; files whose size and time are unchanged are not
        hashed again.  Symbolic links are left out."""
        with _os_errors(self.root), self._opened() as (root, state):
            names = [canonicalize_name(project)] if project else _project_dirs(root)
            staging = Staging(state, self._write)
            with ExitStack() as held:  # each directory stays open until its files are in
                try:
                    for name in names:
                        directory = held.enter_context(root.child(name))
                        remove_leftovers(directory)
                        items = _rescan(directory, staging)
                        _stage_rendered(staging, directory, *pages.project_pages(name, items))
                    _stage_root(staging, root, names, rebuild=True)
                    staging.commit()
                finally:
                    staging.discard()

    def files(self, project: str) -> dict[str, str]:
        """The project's files as its JSON page lists them (what installers see):
        filename -> sha256 hex; ``{}`` for a project the index does not have."""
        name = canonicalize_name(project)
        if not self.root.is_dir():
            return {}
        with _os_errors(self.root), Dir.open_root(self.root, self.url) as root:
            if root.stat(name) is None:
                return {}
            with root.child(name) as directory:
                items = pages.listed_items(directory.read(JSON_PAGE))
        return {item["filename"]: item["hashes"]["sha256"] for item in items}

    # -- steps -----------------------------------------------------------------

    @contextmanager
    def _opened(self) -> Iterator[tuple[Dir, Dir]]:
        """The root and the state directory, under the lock, leftovers removed."""
        if not self.root.is_dir():
            self._existing_ancestor()
            self.root.mkdir(exist_ok=True)
        with (
            Dir.open_root(self.root, self.url) as root,
            root.child(STATE_DIR, create=True) as state,
            locked(state, self.lock_timeout),
        ):
            remove_leftovers(state, state=True)
            if not pages.root_is_current(root.read(JSON_PAGE)):
                remove_leftovers(root)  # last written by an older release: its temporary names
            yield root, state

    def _place(self, dist: Distribution, root: Dir, state: Dir, project: Dir) -> PublishResult:
        old_json, old_html = project.read(JSON_PAGE), project.read(HTML_PAGE)
        if not pages.is_current(old_json, project.path.name):
            remove_leftovers(project)  # last written by an older release: its temporary names
        staging = Staging(state, self._write)
        try:
            result, item = self._stage_file(dist, project, staging)
            if item is not None:
                new_json, new_html = pages.add_file(project.path.name, old_json, old_html, item)
                _stage_project(staging, project, new_json, new_html)
                _stage_root(staging, root, [project.path.name])
            staging.commit()
        finally:
            staging.discard()
        return result

    def _stage_file(
        self, dist: Distribution, project: Dir, staging: Staging
    ) -> tuple[PublishResult, Item | None]:
        """Stage the file (and its ``.metadata``) unless the name is taken; the result,
        and the page entry (``None`` for a conflict: the pages stay as they are)."""
        existing = project.stat(dist.filename)
        if existing is None:
            metadata_sha256 = _stage_metadata(dist, project, staging)
            copied = staging.add(project, dist.filename, _source_chunks(dist))
            sha256, size, mtime_ns = copied.sha256, copied.size, copied.mtime_ns
            status = PublishStatus.STORED
        else:
            sha256 = dist.digests(blake2=False).sha256
            held = project.sha256(dist.filename)
            if held != sha256:
                return _conflict(dist, project.path / dist.filename, sha256, held), None
            metadata_sha256 = _metadata_sha256(project, dist.filename)
            if metadata_sha256 is None:  # a killed run, or a copy by hand: add it now
                metadata_sha256 = _stage_metadata(dist, project, staging)
            size, mtime_ns = existing.st_size, existing.st_mtime_ns
            status = PublishStatus.EXISTS
        item = pages.file_item(
            dist.filename,
            sha256=sha256,
            size=size,
            upload_time=pages.iso_time(mtime_ns),
            requires_python=dist.metadata.get("requires_python"),
            metadata_sha256=metadata_sha256,
        )
        result = _result(dist, project.path / dist.filename, status, sha256, metadata_sha256)
        return result, item


# -- one file ----------------------------------------------------------------------


def _result(
    dist: Distribution,
    target: Path,
    status: PublishStatus,
    sha256: str,
    metadata_sha256: str | None = None,
    *,
    existing: str | None = None,
    error: FileExistsOnRegistryError | None = None,
) -> PublishResult:
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


def _conflict(dist: Distribution, target: Path, sha256: str, existing: str) -> PublishResult:
    error = FileExistsOnRegistryError(
        f"{dist.filename}: the static index already has a file with this name but "
        "different content (sha256 differs)",
        url=target.as_uri(),
        registry=_REGISTRY,
        path=str(dist.path),
        hint="Bump the version and rebuild: a released filename never changes content.",
    )
    return _result(dist, target, PublishStatus.CONFLICT, sha256, existing=existing, error=error)


def _source_chunks(dist: Distribution) -> Iterator[bytes]:
    """The distribution's bytes; a file that changed size since it was inspected stops
    the copy (its pages would describe other bytes)."""
    size = 0
    with open(dist.path, "rb", buffering=0) as fh:
        while chunk := fh.read(CHUNK_SIZE):
            size += len(chunk)
            yield chunk
    if size != dist.size:
        raise DistributionError(
            f"{dist.path}: changed while being published ({dist.size} bytes when inspected, "
            f"{size} now)",
            hint="Do not rebuild while publishing; run again to publish the new file.",
            path=str(dist.path),
        )


def _metadata_name(filename: str) -> str:
    return filename + ".metadata"


def _metadata_sha256(project: Dir, filename: str) -> str | None:
    """The sha256 of the ``.metadata`` beside a wheel; ``None`` if it has none (yet)."""
    if not filename.endswith(".whl"):
        return None
    name = _metadata_name(filename)
    return project.sha256(name) if project.stat(name) is not None else None


def _stage_metadata(dist: Distribution, project: Dir, staging: Staging) -> str | None:
    if dist.filetype != "bdist_wheel":
        return None
    data = core_metadata(dist)
    return staging.add(project, _metadata_name(dist.filename), (data,)).sha256


def core_metadata(dist: Distribution) -> bytes:
    """The wheel's ``METADATA`` bytes as the inspector read and validated them, for
    PEP 658 (read from the wheel, with the same bounds, only for a Distribution
    built without them)."""
    return dist.core_metadata or wheel_metadata(dist.path)


# -- pages -------------------------------------------------------------------------


def _stage_project(
    staging: Staging, project: Dir, new_json: Parts | None, new_html: Parts | None
) -> None:
    """Stage the pages that change: the JSON page first, which is the project's record."""
    for name, parts in ((JSON_PAGE, new_json), (HTML_PAGE, new_html)):
        if parts is not None:
            staging.add_page(project, name, parts)


def _stage_rendered(staging: Staging, directory: Dir, json_page: bytes, html_page: bytes) -> None:
    """Stage whole pages, each only if it differs from the one in place."""
    for name, new in ((JSON_PAGE, json_page), (HTML_PAGE, html_page)):
        parts = pages.changed(new, directory.read(name))
        if parts is not None:
            staging.add_page(directory, name, parts)


def _stage_root(
    staging: Staging, root: Dir, projects: Collection[str], *, rebuild: bool = False
) -> None:
    """List ``projects`` on the root pages; unchanged when they are listed already."""
    listed = pages.listed_projects(root.read(JSON_PAGE))
    if not rebuild and set(projects) <= set(listed) and root.stat(HTML_PAGE) is not None:
        return
    on_disk = {name for name in _project_dirs(root) if _has_page(root, name)}
    _stage_rendered(staging, root, *pages.root_pages(sorted(on_disk | set(projects))))


def _project_dirs(root: Dir) -> list[str]:
    """The project directories (links are left out, with a warning)."""
    names = []
    for entry in root.names():
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            logger.warning("%s: a symbolic link inside the index: left out", root.path / entry.name)
        elif entry.is_dir(follow_symlinks=False):
            names.append(entry.name)
    return names


def _has_page(root: Dir, name: str) -> bool:
    with root.child(name) as directory:
        return directory.stat(JSON_PAGE) is not None


# -- refresh -----------------------------------------------------------------------


def _rescan(directory: Dir, staging: Staging) -> list[Item]:
    """Every distribution file in the directory, in the order the JSON page had them
    (new ones after, by name); links and non-regular files are left out."""
    known = {i["filename"]: i for i in pages.listed_items(directory.read(JSON_PAGE))}
    order = {name: n for n, name in enumerate(known)}
    items = []
    for entry in directory.names():
        if entry.name.startswith(".") or not entry.name.endswith(DISTRIBUTION_SUFFIXES):
            continue
        if entry.is_symlink():
            logger.warning(
                "%s: a symbolic link inside the index: not listed", directory.path / entry.name
            )
        elif entry.is_file(follow_symlinks=False):
            items.append(_rescanned(directory, entry.name, known.get(entry.name), staging))
    return sorted(items, key=lambda i: (order.get(i["filename"], len(order)), i["filename"]))


def _rescanned(directory: Dir, name: str, known: Item | None, staging: Staging) -> Item:
    st = directory.stat(name)
    assert st is not None
    upload_time = pages.iso_time(st.st_mtime_ns)
    path = directory.path / name
    unchanged = known is not None and (known["size"], known["upload-time"]) == (
        st.st_size,
        upload_time,
    )
    metadata_sha256 = _metadata_sha256(directory, name)
    missing_metadata = metadata_sha256 is None and name.endswith(".whl")
    dist = _inspect(path) if missing_metadata or not unchanged else None
    if missing_metadata and dist is not None:
        metadata_sha256 = _stage_metadata(dist, directory, staging)
    if known is not None and unchanged:
        item = {k: v for k, v in known.items() if k not in ("core-metadata", "dist-info-metadata")}
        sha256, requires_python = known["hashes"]["sha256"], known.get("requires-python")
    else:
        logger.debug("hashing %s", path)
        sha256 = directory.sha256(name)
        requires_python = dist.metadata.get("requires_python") if dist else None
        item = {"yanked": known["yanked"]} if known and "yanked" in known else {}
    fresh = pages.file_item(
        name,
        sha256=sha256,
        size=st.st_size,
        upload_time=upload_time,
        requires_python=requires_python,
        metadata_sha256=metadata_sha256,
    )
    return {**fresh, **{k: v for k, v in item.items() if k not in fresh}}


def _inspect(path: Path) -> Distribution | None:
    try:
        return Distribution.open(path, attestations=False)
    except DistributionError as exc:
        logger.warning("%s: listed without its metadata: %s", path, exc.message)
        return None


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


# -- space and OS errors ---------------------------------------------------------

_NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


def _check_free_space(where: Path, need: int, count: int, url: str) -> None:
    if need <= 0 or not hasattr(os, "statvfs"):
        return
    fs = os.statvfs(where)
    free = fs.f_bavail * fs.f_frsize
    if free < need:
        raise _no_room(
            f"{where}: the static index needs about {need:,} bytes for {count} file(s), "
            f"but its file system has {free:,} bytes free",
            where,
            url,
        )


def _no_room(message: str, where: Path, url: str) -> ConfigurationError:
    return ConfigurationError(
        message,
        hint="Free space (or raise the quota) where the index lives, then run again; "
        "nothing has been sent anywhere yet.",
        path=str(where),
        url=url,
        registry=_REGISTRY,
    )


@contextmanager
def _os_errors(where: Path, *, preflight: bool = False) -> Iterator[None]:
    """Turn a failing write into a typed error that names the place and the fix; in the
    preflight, no room is a :class:`ConfigurationError` (nothing was sent yet)."""
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
        if exc.errno in _NO_ROOM and preflight:
            raise _no_room(
                f"{shown}: cannot reserve room: {reason}", where, where.as_uri()
            ) from None
        if exc.errno in _NO_ROOM:
            raise UploadError(
                f"{shown}: cannot update the static index: {reason}",
                hint="Free space (or raise the quota) where the index lives, then run again "
                "with skip-existing: nothing partial was left in the index.",
                url=where.as_uri(),
                registry=_REGISTRY,
            ) from None
        raise UploadError(
            f"{shown}: cannot update the static index: {reason}",
            hint="Check the destination path and the free disk space.",
            url=where.as_uri(),
            registry=_REGISTRY,
        ) from None
