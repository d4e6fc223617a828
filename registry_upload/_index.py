"""Read a project's file list from a simple index (PEP 691 JSON, PEP 503 HTML)."""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from .errors import TransportError
from .transport import Response, Transport

__all__ = ["IndexFiles", "fetch_project_files", "parse_simple_page"]

logger = logging.getLogger(__name__)

#: filename -> sha256 hex (or None when the index gives no hash)
IndexFiles = dict[str, str | None]

_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.2"
_ANCHOR = r"<a\s[^>]*?href\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a>"


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


def fetch_project_files(
    transport: Transport,
    index_url: str,
    project: str,
    *,
    authorization: str | None = None,
) -> IndexFiles | None:
    """The project's files, ``{}`` if the index does not know it, ``None`` if unreadable."""
    url = f"{index_url.rstrip('/')}/{canonicalize_name(project)}/"
    headers = {"Accept": _ACCEPT}
    if authorization:
        headers["Authorization"] = authorization
    try:
        response = transport.get(url, headers=headers)
    except TransportError as exc:
        logger.warning("cannot read the index at %s: %s", url, exc.message)
        return None
    if response.status == 404:
        return {}
    if response.status != 200:
        logger.warning(
            "index %s answered %d; cannot check for existing files", url, response.status
        )
        return None
    try:
        return parse_simple_page(response)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.warning("cannot parse the index page %s: %s", url, exc)
        return None
