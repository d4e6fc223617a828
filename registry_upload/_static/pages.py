"""The index pages as bytes (private): rendered whole, or updated in place.

A project's PEP 691 page ``index.json`` is also the index's record of the
project: one file per line, in the order they were published, each with what
both pages show (sha256, size, upload time, requires-python, the metadata
file's sha256, yanked)::

    {"meta":{"api-version":"1.1"},"name":"demo","versions":["1.0"],"files":[
    {"filename":"demo-1.0.tar.gz","url":"demo-1.0.tar.gz","hashes":{...},...}
    ,{"filename":"demo-1.0-py3-none-any.whl",...}
    ]}

Adding a file splices one line into each page, so publishing into a project
of 10,000 files costs a copy of its pages, not a parse and a re-render of
them.  A page in any other shape (written by an older release, or edited by
hand) is read as JSON and rewritten in this one.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

__all__ = [
    "API_VERSION",
    "HTML_PAGE",
    "JSON_PAGE",
    "Item",
    "Parts",
    "add_file",
    "changed",
    "file_item",
    "is_current",
    "iso_time",
    "listed_items",
    "listed_projects",
    "project_pages",
    "root_is_current",
    "root_pages",
]

logger = logging.getLogger(__name__)

#: The page a static server returns for ``<project>/`` (PEP 503 HTML).
HTML_PAGE = "index.html"
#: The PEP 691 JSON page beside it.
JSON_PAGE = "index.json"
API_VERSION = "1.1"

Item = dict[str, Any]
#: A page as the pieces to write one after the other.
Parts = tuple[bytes | memoryview, ...]

_FILES_OPEN = b'],"files":[\n'
_JSON_TAIL = b"]}\n"
_HTML_TAIL = b"  </body>\n</html>\n"
_ROOT_HEAD = b'{"meta":{"api-version":"%s"},"projects":[' % API_VERSION.encode()


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# -- one file ----------------------------------------------------------------------


def file_item(
    filename: str,
    *,
    sha256: str,
    size: int,
    upload_time: str,
    requires_python: str | None,
    metadata_sha256: str | None,
) -> Item:
    """A file's entry in the PEP 691 page (PEP 700 fields; PEP 714 names both keys)."""
    item: Item = {
        "filename": filename,
        "url": quote(filename),
        "hashes": {"sha256": sha256},
        "size": size,
        "upload-time": upload_time,
    }
    if requires_python:
        item["requires-python"] = requires_python
    if metadata_sha256:
        item["core-metadata"] = {"sha256": metadata_sha256}
        item["dist-info-metadata"] = {"sha256": metadata_sha256}
    return item


def iso_time(mtime_ns: int) -> str:
    moment = datetime.fromtimestamp(mtime_ns / 1e9, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def _anchor(item: Mapping[str, Any]) -> str:
    filename = item["filename"]
    attrs = [f'href="{quote(filename)}#sha256={item["hashes"]["sha256"]}"']
    if item.get("requires-python"):
        attrs.append(f'data-requires-python="{html.escape(item["requires-python"])}"')
    metadata = item.get("core-metadata")
    if isinstance(metadata, dict) and metadata.get("sha256"):
        value = f"sha256={metadata['sha256']}"
        attrs += [f'data-dist-info-metadata="{value}"', f'data-core-metadata="{value}"']
    yanked = item.get("yanked")
    if yanked:
        reason = yanked if isinstance(yanked, str) else ""
        attrs.append(f'data-yanked="{html.escape(reason)}"')
    return f"    <a {' '.join(attrs)}>{html.escape(filename)}</a><br>\n"


def _json_key(filename: str) -> bytes:
    return b'{"filename":' + _dumps(filename) + b","


# -- whole pages -------------------------------------------------------------------


def _html_page(title: str, lines: Sequence[str]) -> bytes:
    head = (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n"
    )
    return (head + "".join(lines)).encode() + _HTML_TAIL


def _json_head(name: str, versions: Sequence[str]) -> bytes:
    head = _dumps({"meta": {"api-version": API_VERSION}, "name": name, "versions": versions})
    return head[: -len(b"]}")] + _FILES_OPEN


def project_pages(name: str, items: Sequence[Item]) -> tuple[bytes, bytes]:
    """The project's JSON and HTML pages, whole."""
    versions = list(dict.fromkeys(v for i in items if (v := version_of(i["filename"]))))
    lines = [_dumps(item) for item in items]
    json_page = _json_head(name, versions) + b"\n,".join(lines) + (b"\n" if lines else b"")
    html_page = _html_page(f"Links for {name}", [_anchor(i) for i in items])
    return json_page + _JSON_TAIL, html_page


def listed_items(page: bytes | None) -> list[Item]:
    """The files a JSON page lists (entries that are not well formed are left out)."""
    if page is None:
        return []
    try:
        files = json.loads(page)["files"]
    except (ValueError, KeyError, TypeError):
        logger.warning("a project page is not valid JSON: it is written anew")
        return []
    return (
        [f for f in files if isinstance(f, dict) and _well_formed(f)]
        if isinstance(files, list)
        else []
    )


def _well_formed(item: Mapping[str, Any]) -> bool:
    hashes = item.get("hashes")
    return (
        isinstance(item.get("filename"), str)
        and isinstance(hashes, dict)
        and isinstance(hashes.get("sha256"), str)
        and isinstance(item.get("size"), int)
        and isinstance(item.get("upload-time"), str)
    )


# -- adding one file in place ----------------------------------------------------------


def add_file(
    name: str, json_page: bytes | None, html_page: bytes | None, item: Item
) -> tuple[Parts | None, Parts | None]:
    """The two pages with ``item`` listed, each as the parts to write (the old page's
    bytes are not copied), or ``None`` for a page that lists it already.

    An entry for the same name with other bytes (a file deleted and published again
    by hand) is replaced; a page in another shape is rewritten whole."""
    listed = _json_listing(json_page, item) if json_page is not None else _ABSENT
    if json_page is None or not is_current(json_page, name) or listed == _OTHER:
        items = _with_item(listed_items(json_page), item)
        new_json, new_html = project_pages(name, items)
        return changed(new_json, json_page), changed(new_html, html_page)
    json_parts = None if listed == _SAME else _splice_json(json_page, item)
    shown = _html_listing(html_page, item)
    if shown == _SAME:
        return json_parts, None
    if shown == _ABSENT and html_page is not None:
        body = memoryview(html_page)[: -len(_HTML_TAIL)]
        return json_parts, (body, _anchor(item).encode(), _HTML_TAIL)
    whole = json_page if json_parts is None else b"".join(json_parts)
    return json_parts, (project_pages(name, listed_items(whole))[1],)


_ABSENT, _SAME, _OTHER = "absent", "same", "other"


def _json_listing(page: bytes, item: Item) -> str:
    """Whether the JSON page lists the file: not at all, with these bytes, or other ones."""
    at = page.find(_json_key(item["filename"]))
    if at < 0:
        return _ABSENT
    end = page.find(b"\n", at)
    line = page[at : end if end >= 0 else len(page)]
    sha256 = b'"hashes":{"sha256":' + _dumps(item["hashes"]["sha256"])
    return _SAME if sha256 in line else _OTHER


def _html_listing(page: bytes | None, item: Item) -> str:
    """The same for the HTML page (a page not in this release's shape counts as other)."""
    if page is None or not page.endswith(_HTML_TAIL):
        return _OTHER
    href = f'<a href="{quote(item["filename"])}#'
    if href.encode() not in page:
        return _ABSENT
    return _SAME if f'{href}sha256={item["hashes"]["sha256"]}"'.encode() in page else _OTHER


def _with_item(items: list[Item], item: Item) -> list[Item]:
    """``items`` with ``item`` listed: an entry for the same bytes is kept as it is (its
    upload time, yanked), one for other bytes is replaced, a new one goes last."""
    same_name = [n for n, i in enumerate(items) if i["filename"] == item["filename"]]
    if not same_name:
        return [*items, item]
    kept = items[same_name[0]]
    items[same_name[0]] = kept if kept["hashes"]["sha256"] == item["hashes"]["sha256"] else item
    return [i for n, i in enumerate(items) if n not in same_name[1:]]


def changed(new: bytes, old: bytes | None) -> Parts | None:
    """``new`` as parts to write, or ``None`` if the page holds exactly that already."""
    return None if new == old else (new,)


def is_current(page: bytes | None, name: str) -> bool:
    """Whether a project page is in this release's one-file-per-line shape."""
    return (
        page is not None
        and page.startswith(_json_head(name, [])[: -len(_FILES_OPEN)])
        and page.endswith(b"\n" + _JSON_TAIL)
        and _FILES_OPEN in page
    )


def _splice_json(page: bytes, item: Item) -> Parts:
    head_end = page.index(_FILES_OPEN)
    head = page[:head_end]
    files = memoryview(page)[head_end + len(_FILES_OPEN) : -len(_JSON_TAIL)]
    version = version_of(item["filename"])
    versions = head[head.index(b'"versions":[') :]
    if version is not None and _dumps(version) not in versions:
        head += (b"," if not head.endswith(b"[") else b"") + _dumps(version)
    line = (b"," if files else b"") + _dumps(item) + b"\n"
    return (head, _FILES_OPEN, files, line, _JSON_TAIL)


# -- the root --------------------------------------------------------------------------


def root_pages(projects: Sequence[str]) -> tuple[bytes, bytes]:
    """The root's JSON and HTML pages: one entry per project."""
    json_page = _dumps(
        {"meta": {"api-version": API_VERSION}, "projects": [{"name": n} for n in projects]}
    )
    links = [f'    <a href="{quote(n)}/">{html.escape(n)}</a><br>\n' for n in projects]
    return json_page + b"\n", _html_page("Simple index", links)


def root_is_current(page: bytes | None) -> bool:
    """Whether the root page is in this release's shape."""
    return page is not None and page.startswith(_ROOT_HEAD)


def listed_projects(page: bytes | None) -> list[str]:
    if page is None:
        return []
    try:
        projects = json.loads(page)["projects"]
        return [p["name"] for p in projects if isinstance(p.get("name"), str)]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []
