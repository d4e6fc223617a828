"""``status()``: what a half-finished release still needs, read from the index.

For each local distribution: whether the index lists it with the same
sha256 (uploaded), with other bytes (a different file under that name: it
can never be replaced), without a hash, or not at all (still to upload).
For PyPI and TestPyPI, also how long each release still accepts new files:
warehouse closes a release to new files 14 days after it was created
(``forklift/legacy.py``, ``MAXIMUM_AGE_FOR_NEW_UPLOADS_DAYS``), read from the
JSON API's upload times (``/pypi/<project>/<version>/json``).  Nothing is
uploaded; one index page per project and one JSON page per release are read.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ._hashing import hash_file
from ._index import IndexLookup, lookup_project_files
from ._paths import collect
from .distribution import Distribution, no_distributions_error, unreadable_error
from .errors import TransportError
from .transport import Transport, TransportOptions

__all__ = [
    "RELEASE_WINDOW_DAYS",
    "IndexState",
    "IndexedFile",
    "ReleaseWindow",
    "StatusReport",
    "json_api_for",
    "status",
]

logger = logging.getLogger(__name__)

#: Days after its creation that PyPI lets a release take new files (since July 2026).
RELEASE_WINDOW_DAYS = 14
_JSON_LIMIT = 8 << 20
_JSON_APIS = {"pypi.org": "https://pypi.org/pypi", "test.pypi.org": "https://test.pypi.org/pypi"}


class IndexState(str, enum.Enum):
    """Where a local file stands on the index."""

    UPLOADED = "uploaded"  # listed with the same sha256
    DIFFERENT = "different"  # listed with another sha256: other bytes under this name
    LISTED = "listed"  # listed without a hash: the bytes cannot be compared
    MISSING = "missing"  # not listed: still to upload
    UNKNOWN = "unknown"  # the index could not be read

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class IndexedFile:
    """One local file and what the index says about it."""

    path: str
    filename: str
    project: str
    version: str
    sha256: str
    state: IndexState
    index_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "filename": self.filename,
            "project": self.project,
            "version": self.version,
            "sha256": self.sha256,
            "state": self.state.value,
            "index_sha256": self.index_sha256,
        }


@dataclass(frozen=True, slots=True)
class ReleaseWindow:
    """How long a release still takes new files (PyPI and TestPyPI).

    ``created`` is the first upload time the JSON API gives (None: the
    release does not exist yet, so the window starts with its first file);
    ``closes`` is ``created`` + 14 days; ``days_left`` is whole days left
    (rounded down); ``closed`` once ``closes`` has passed.  ``problem`` says
    why the window is unknown.
    """

    project: str
    version: str
    created: _dt.datetime | None
    closes: _dt.datetime | None
    days_left: int | None
    closed: bool = False
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "version": self.version,
            "created": self.created.isoformat() if self.created else None,
            "closes": self.closes.isoformat() if self.closes else None,
            "days_left": self.days_left,
            "closed": self.closed,
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Every local file against the index, and each release's window (if known)."""

    index_url: str
    files: tuple[IndexedFile, ...]
    releases: tuple[ReleaseWindow, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def missing(self) -> tuple[IndexedFile, ...]:
        """The files still to upload."""
        return tuple(f for f in self.files if f.state is IndexState.MISSING)

    @property
    def conflicts(self) -> tuple[IndexedFile, ...]:
        """Files whose name the index holds with other bytes."""
        return tuple(f for f in self.files if f.state is IndexState.DIFFERENT)

    @property
    def complete(self) -> bool:
        """Every local file is on the index with the same bytes."""
        return all(f.state is IndexState.UPLOADED for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index_url": self.index_url,
            "complete": self.complete,
            "files": [f.to_dict() for f in self.files],
            "releases": [r.to_dict() for r in self.releases],
            "problems": list(self.problems),
        }


def json_api_for(index_url: str) -> str | None:
    """PyPI's or TestPyPI's JSON API for their simple index URL (None for other indexes)."""
    return _JSON_APIS.get((urlsplit(index_url).hostname or "").lower())


def status(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    index_url: str,
    *,
    transport: Transport | None = None,
    authorization: str | None = None,
    json_api_url: str | None = None,
    now: _dt.datetime | None = None,
) -> StatusReport:
    """Compare local distributions with what ``index_url`` (a simple index) lists.

    ``paths`` as for :func:`~registry_upload.upload` (directories expand);
    no file at all raises UnsupportedDistributionError.  ``authorization``
    (an Authorization header value) is sent to the index alone.
    ``json_api_url`` (e.g. ``https://pypi.org/pypi``; found by itself for
    PyPI's and TestPyPI's index) gives each release's window; ``now``
    (aware) is for tests.  Network failures do not raise: the files' state
    is UNKNOWN and ``problems`` says why.
    """
    dists = _open(paths)
    api = json_api_url if json_api_url is not None else json_api_for(index_url)
    owned = transport is None
    client = transport if transport is not None else Transport(TransportOptions())
    try:
        pages: dict[str, IndexLookup] = {}
        for dist in dists:
            if dist.project not in pages:
                pages[dist.project] = lookup_project_files(
                    client, index_url, dist.project, authorization=authorization, no_cache=True
                )
        files = tuple(_indexed(dist, pages[dist.project]) for dist in dists)
        releases = _windows(client, api, dists, now) if api else ()
    finally:
        if owned:
            client.close()
    problems = tuple(dict.fromkeys(p.problem for p in pages.values() if p.problem))
    return StatusReport(index_url=index_url, files=files, releases=releases, problems=problems)


def _open(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Distribution]:
    found = collect(paths).paths
    if not found:
        raise no_distributions_error(paths)
    return [Distribution.open(p, attestations=False) for p in found]


def _indexed(dist: Distribution, page: IndexLookup) -> IndexedFile:
    try:
        sha256 = hash_file(dist.path, blake2=False).sha256
    except OSError as exc:
        raise unreadable_error(str(dist.path), exc) from exc
    listed = page.files
    if listed is None:
        state, theirs = IndexState.UNKNOWN, None
    elif dist.filename not in listed:
        state, theirs = IndexState.MISSING, None
    else:
        theirs = listed[dist.filename]
        if theirs is None:
            state = IndexState.LISTED
        else:
            state = IndexState.UPLOADED if theirs.lower() == sha256 else IndexState.DIFFERENT
    return IndexedFile(
        path=str(dist.path),
        filename=dist.filename,
        project=dist.project,
        version=dist.version,
        sha256=sha256,
        state=state,
        index_sha256=theirs,
    )


def _windows(
    client: Transport, api: str, dists: list[Distribution], now: _dt.datetime | None
) -> tuple[ReleaseWindow, ...]:
    moment = now or _dt.datetime.now(_dt.timezone.utc)
    releases = dict.fromkeys((d.project, d.version) for d in dists)
    return tuple(_window(client, api, project, version, moment) for project, version in releases)


def _window(
    client: Transport, api: str, project: str, version: str, now: _dt.datetime
) -> ReleaseWindow:
    url = f"{api.rstrip('/')}/{project}/{version}/json"
    try:
        response = client.get(url, headers={"Accept": "application/json"}, max_body=_JSON_LIMIT)
    except TransportError as exc:
        return ReleaseWindow(
            project, version, None, None, None, problem=f"cannot read {url}: {exc.message}"
        )
    if response.status == 404:  # no such release yet: its window opens with its first file
        return ReleaseWindow(project, version, None, None, RELEASE_WINDOW_DAYS)
    try:
        if response.status != 200 or response.truncated:
            raise ValueError(f"answered {response.status}")
        created = _first_upload(json.loads(response.body))
    except (ValueError, KeyError, TypeError) as exc:
        return ReleaseWindow(project, version, None, None, None, problem=f"cannot use {url}: {exc}")
    if created is None:
        return ReleaseWindow(project, version, None, None, RELEASE_WINDOW_DAYS)
    closes = created + _dt.timedelta(days=RELEASE_WINDOW_DAYS)
    left = max((closes - now) // _dt.timedelta(days=1), 0)
    return ReleaseWindow(project, version, created, closes, left, closed=closes <= now)


def _first_upload(page: dict[str, Any]) -> _dt.datetime | None:
    """The earliest upload time of the release's files (its creation, near enough)."""
    times = [
        _dt.datetime.fromisoformat(f["upload_time_iso_8601"].replace("Z", "+00:00"))
        for f in page.get("urls") or []
        if f.get("upload_time_iso_8601")
    ]
    return min(times) if times else None
