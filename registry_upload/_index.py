"""Read a project's file list from a simple index (PEP 691 JSON, PEP 503 HTML).

:func:`read_listing` is the one question every part of an upload asks the
index (skip-existing, the check after an attempt whose outcome is unknown,
verify): is this file listed with this sha256, with other bytes, not at all
-- or can the index not tell?  Every read asks caches for a fresh copy
(``Cache-Control: max-age=0``, as pip does for index pages).

Pages are server text: the HTML is scanned in one linear pass (a regular
expression over a page of unclosed tags, or :mod:`html.parser`, takes
minutes on a 1 MiB page), and a JSON page nested too deeply is a page that
cannot be read, not a ``RecursionError``.
"""

from __future__ import annotations

import enum
import html
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from .errors import TransportError
from .transport import Response, Transport

__all__ = [
    "IndexFiles",
    "IndexLookup",
    "Listed",
    "Listing",
    "listing_of",
    "lookup_project_files",
    "parse_simple_page",
    "project_page_url",
    "read_listing",
]

logger = logging.getLogger(__name__)

#: The largest project page read (PyPI's biggest JSON pages are a few MiB).
INDEX_PAGE_LIMIT = 16 << 20

#: filename -> sha256 hex (or None when the index gives no hash)
IndexFiles = dict[str, str | None]

_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.2"
_FRESH = "max-age=0"
_A_OPEN = re.compile(r"<a\s", re.I)
_A_CLOSE = re.compile(r"</a\s*>", re.I)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_SHA256 = re.compile(r"sha256=([0-9a-fA-F]{64})")


@dataclass(frozen=True, slots=True)
class IndexLookup:
    """One read of a project's index page.

    ``files`` is ``{}`` when the index does not know the project (404) and
    ``None`` when the page could not be read; ``problem`` then says why.
    """

    url: str
    files: IndexFiles | None
    status: int | None = None
    problem: str | None = None


class Listed(str, enum.Enum):
    """What the index says about one file."""

    SAME = "same"  # listed with this sha256
    OTHER = "other"  # listed with other bytes
    NO_HASH = "no-hash"  # listed, but the index shows no sha256 to compare
    ABSENT = "absent"  # the index answered, and does not list it
    UNKNOWN = "unknown"  # the index could not be read: it cannot tell

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Listing:
    """One answer of :func:`read_listing`: the verdict, the sha256 the index
    shows for the file (if any), and the read it came from."""

    listed: Listed
    lookup: IndexLookup
    listed_sha256: str | None = None


def read_listing(
    transport: Transport,
    index_url: str,
    project: str,
    filename: str,
    sha256: str | Callable[[], str],
    *,
    authorization: str | None = None,
) -> Listing:
    """Read the project's page (fresh) and place ``filename`` with ``sha256`` on it."""
    lookup = lookup_project_files(
        transport, index_url, project, authorization=authorization, no_cache=True
    )
    return listing_of(lookup, filename, sha256)


def listing_of(lookup: IndexLookup, filename: str, sha256: str | Callable[[], str]) -> Listing:
    """Place ``filename`` on a page already read; ``sha256`` may be a function,
    called only when the page lists the file with a hash."""
    files = lookup.files
    if files is None:
        return Listing(Listed.UNKNOWN, lookup)
    if filename not in files:
        return Listing(Listed.ABSENT, lookup)
    remote = files[filename]
    if remote is None:
        return Listing(Listed.NO_HASH, lookup)
    ours = sha256 if isinstance(sha256, str) else sha256()
    verdict = Listed.SAME if remote == ours.lower() else Listed.OTHER
    return Listing(verdict, lookup, remote)


# -- parsing -----------------------------------------------------------------------


def parse_simple_page(response: Response) -> IndexFiles:
    """The files a project page lists; ``ValueError`` for a page that cannot be read."""
    ctype = response.header("content-type") or ""
    if "json" in ctype:
        return _parse_json(response.body)
    files: IndexFiles = {}
    for href, label in _anchors(response.text()):
        try:
            url, _, fragment = html.unescape(href).partition("#")
            name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        except ValueError:  # not a URL: not a file link
            continue
        filename = name or html.unescape(label).strip()
        m = _SHA256.search(fragment)
        files[filename] = m.group(1).lower() if m else None
    return files


def _parse_json(body: bytes) -> IndexFiles:
    try:
        data: Any = json.loads(body)
    except RecursionError:
        raise ValueError("the JSON page is nested too deeply") from None
    entries = data.get("files") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError('the JSON page has no "files" list')
    files: IndexFiles = {}
    for entry in entries:
        name = entry.get("filename") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            raise ValueError("a file entry has no filename")
        hashes = entry.get("hashes")
        sha = hashes.get("sha256") if isinstance(hashes, dict) else None
        files[name] = sha.lower() if isinstance(sha, str) else None
    return files


def _anchors(text: str) -> Iterator[tuple[str, str]]:
    """``(href, label)`` of each ``<a href=...>label</a>``, in one linear pass.

    A tag runs to the next ``>``; its label to ``</a>`` or the next ``<a``.
    A tag never closed ends the page: nothing after it is a link.
    """
    opened = _A_OPEN.search(text)
    while opened is not None:
        end = text.find(">", opened.end())
        if end < 0:
            return
        following = _A_OPEN.search(text, end + 1)
        stop = following.start() if following is not None else len(text)
        closed = _A_CLOSE.search(text, end + 1, stop)
        href = _HREF.search(text, opened.end() - 1, end)
        if href is not None:
            label = text[end + 1 : closed.start() if closed is not None else stop]
            yield next(g for g in href.groups() if g is not None), label
        opened = following


def project_page_url(index_url: str, project: str) -> str:
    """The project's page under a simple index: ``<index>/<normalized name>/``."""
    return f"{index_url.rstrip('/')}/{canonicalize_name(project)}/"


def lookup_project_files(
    transport: Transport,
    index_url: str,
    project: str,
    *,
    authorization: str | None = None,
    no_cache: bool = False,
) -> IndexLookup:
    """Read the project's page once; never raises for network or parse failures.

    ``no_cache`` asks caches in between for a fresh copy (``Cache-Control:
    max-age=0``, as pip sends for index pages); every read of an upload does.
    """
    url = project_page_url(index_url, project)
    headers = {"Accept": _ACCEPT}
    if no_cache:
        headers["Cache-Control"] = _FRESH
    if authorization:
        headers["Authorization"] = authorization
    try:
        response = transport.get(url, headers=headers, max_body=INDEX_PAGE_LIMIT)
    except TransportError as exc:
        return IndexLookup(url, None, problem=f"cannot read the index at {url}: {exc.message}")
    if response.truncated:  # a cut page could omit the very file asked about
        return IndexLookup(
            url,
            None,
            status=response.status,
            problem=f"the index page {url} is larger than {INDEX_PAGE_LIMIT} bytes",
        )
    if response.status == 404:
        return IndexLookup(url, {}, status=404)
    if response.status != 200:
        return IndexLookup(
            url, None, status=response.status, problem=f"index {url} answered {response.status}"
        )
    try:
        return IndexLookup(url, parse_simple_page(response), status=200)
    except ValueError as exc:
        return IndexLookup(
            url, None, status=200, problem=f"cannot parse the index page {url}: {exc}"
        )
