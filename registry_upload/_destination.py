"""What a destination names: a registry (URL or .pypirc name) or a static index (private).

Kept apart from :mod:`static_index` so that the CLI can classify its
destinations without importing the index writer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import ConfigurationError

__all__ = ["is_static_destination", "root_from_destination"]


def root_from_destination(destination: str | os.PathLike[str]) -> Path | None:
    """The directory a destination names, or ``None`` when it is not a static index."""
    if isinstance(destination, os.PathLike):
        return Path(destination)
    if destination[:5].lower() == "file:":
        return _checked(destination, Path(_file_url_path(destination)))
    if "://" in destination:
        return None
    separators = tuple(s for s in (os.sep, os.altsep) if s)
    if destination.startswith((".", "~")) or any(s in destination for s in separators):
        return _checked(destination, _expand_user(destination))
    return None


def is_static_destination(destination: str | os.PathLike[str]) -> bool:
    """True for a ``file:`` URL or a directory path; false for http(s) URLs and bare names."""
    return root_from_destination(destination) is not None


def _file_url_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc.lower() not in ("", "localhost"):
        raise ConfigurationError(
            f"{url}: a file: URL for a static index must name a local directory",
            hint="Write file:///path/to/simple/ (three slashes) or a plain directory path.",
            url=url,
        )
    if os.name == "nt":  # drive letters and backslashes: urllib.request knows them
        from urllib.request import url2pathname

        return url2pathname(parts.path)
    # %-escapes are the path's bytes, as the file system encodes them (not always UTF-8)
    return unquote(
        parts.path, encoding=sys.getfilesystemencoding(), errors=sys.getfilesystemencodeerrors()
    )


def _expand_user(destination: str) -> Path:
    try:
        return Path(destination).expanduser()
    except RuntimeError:  # ~name of a user this system does not know
        raise ConfigurationError(
            f"{destination}: no such user's home directory",
            hint="Write the static index's directory as an absolute path.",
        ) from None


def _checked(destination: str, path: Path) -> Path:
    if "\0" in str(path):
        raise ConfigurationError(
            f"{destination!r}: a static index path cannot contain a NUL character",
            hint="Check the destination; %00 in a file: URL is a NUL.",
        )
    return path
