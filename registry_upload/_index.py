"""Read a project's file list from a simple index (PEP 691 JSON, PEP 503 HTML)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from .errors import TransportError
from .transport import Response, Transport

__all__ = [
    "IndexFiles",
    "IndexLookup",
    "fetch_project_files",
    "lookup_project_files",
    "parse_simple_page",
    "project_page_url",
]

logger = logging.getLogger(__name__)

#: The largest project page read (PyPI's biggest JSON pages are a few MiB).
INDEX_PAGE_LIMIT = 16 << 20

#: filename -> sha256 hex (or None when the index gives no hash)
IndexFiles = dict[str, str | None]

_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.2"
_ANCHOR = r"<a\s[^>]*?href\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a>"


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


def parse_simple_page(response: Response) -> IndexFiles:
    ctype = response.header("content-type") or ""
    files: IndexFiles = {}
    if "json" in ctype:
        data = json.loads(response.body)
        for entry in data.get("files", []):
            hashes = entry.get("hashes") or {}
            files[entry["filename"]] = hashes.get("sha256")
        return files
    import html

    for raw_href, text in re.findall(_ANCHOR, response.text(), re.I | re.S):
        url, _, fragment = html.unescape(raw_href).partition("#")
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or html.unescape(text).strip()
        m = re.search(r"sha256=([0-9a-fA-F]{64})", fragment)
        files[filename] = m.group(1).lower() if m else None
    return files


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
    max-age=0``, as pip sends for index pages).
    """
    url = project_page_url(index_url, project)
    headers = {"Accept": _ACCEPT}
    if no_cache:
        headers["Cache-Control"] = "max-age=0"
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
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return IndexLookup(
            url, None, status=200, problem=f"cannot parse the index page {url}: {exc}"
        )


def fetch_project_files(
    transport: Transport,
    index_url: str,
    project: str,
    *,
    authorization: str | None = None,
) -> IndexFiles | None:
    """The project's files, ``{}`` if the index does not know it, ``None`` if unreadable."""
    lookup = lookup_project_files(transport, index_url, project, authorization=authorization)
    if lookup.problem:
        if lookup.status is not None and lookup.status != 200:
            logger.warning("%s; cannot check for existing files", lookup.problem)
        else:
            logger.warning("%s", lookup.problem)
    return lookup.files
