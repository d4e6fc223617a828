"""What a destination names: a registry (URL or .pypirc name) or a static index (private).

Kept apart from :mod:`static_index` so that the CLI can classify its
destinations without importing the index writer.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import ConfigurationError

__all__ = ["is_static_destination", "root_from_destination"]


def root_from_destination(destination: str | os.PathLike[str]) -> Path | None:
    """The directory a destination names, or ``None`` when it is not a static index."""
    if isinstance(destination, os.PathLike):
        return Path(destination)
    if destination.startswith("file:"):
        parts = urlsplit(destination)
        if parts.netloc not in ("", "localhost"):
            raise ConfigurationError(
                f"{destination}: a file: URL for a static index must name a local directory",
                hint="Write file:///path/to/simple/ (three slashes) or a plain directory path.",
                url=destination,
            )
        return Path(_url_path(parts.path))
    if "://" in destination:
        return None
    separators = tuple(s for s in (os.sep, os.altsep) if s)
    if destination.startswith((".", "~")) or any(s in destination for s in separators):
        return Path(destination).expanduser()
    return None


def is_static_destination(destination: str | os.PathLike[str]) -> bool:
    """True for a ``file:`` URL or a directory path; false for http(s) URLs and bare names."""
    return root_from_destination(destination) is not None


def _url_path(path: str) -> str:
    if os.name == "nt":  # drive letters and backslashes: urllib.request knows them
        from urllib.request import url2pathname

        return url2pathname(path)
    return unquote(path)  # what url2pathname does on POSIX
