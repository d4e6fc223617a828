"""The first step of every run: what a caller passed, opened as distributions (private).

Every file is opened and inspected before anything is sent anywhere, and all
problems are reported at once: a batch never stops half-way for a file that
could have been refused up front.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ._paths import collect
from .distribution import Distribution
from .errors import ConfigurationError, DistributionError

__all__ = ["PathInput", "PathItem", "open_distributions"]

#: One path (a ``str`` is one path, never its characters) or an iterable of paths;
#: files or directories (a directory stands for the distributions in it).  Already
#: opened :class:`Distribution` objects are taken as they are (no second inspection).
PathItem = str | os.PathLike[str] | Distribution
PathInput = PathItem | Iterable[PathItem]

Notes = tuple[tuple[str, str], ...]


def open_distributions(
    paths: PathInput, *, attestations: bool = True
) -> tuple[list[Distribution], Notes]:
    """Every distribution named by ``paths``, opened (all problems at once), and the
    notes on companion files set aside.  No files at all is an error: a release
    script must not go green having sent nothing."""
    items, notes = _collect(paths)
    dists = _open_all(items, attestations=attestations)
    if not dists:
        raise ConfigurationError(
            "no distribution files to upload" + (f" in {paths}" if _one_path(paths) else ""),
            hint="Pass the wheels and sdists to upload, e.g. dist/ or dist/* "
            "(build them first: python -m build).",
        )
    return dists, notes


def _one_path(paths: PathInput) -> bool:
    return isinstance(paths, str | os.PathLike)


def _collect(paths: PathInput) -> tuple[list[PathItem], Notes]:
    """The distributions to upload, and a note for each companion file set aside.

    Paths go through :func:`~registry_upload._paths.collect` (directories
    expand; ``.asc`` and ``.attestation`` companions are noted, other files
    refused); :class:`Distribution` objects are taken as they are.
    """
    if isinstance(paths, Distribution):
        return [paths], ()
    if isinstance(paths, str | os.PathLike) or not isinstance(paths, Iterable):
        found = collect(paths)  # raises TypeError for what is not a path
        return list(found.paths), found.notes
    items = list(paths)
    if not any(isinstance(item, Distribution) for item in items):
        found = collect(items)  # type: ignore[arg-type]
        return list(found.paths), found.notes
    out: list[PathItem] = []
    notes: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, Distribution):
            out.append(item)
        else:
            found = collect(item)
            out.extend(found.paths)
            notes.extend(found.notes)
    return out, tuple(notes)


def _open_all(paths: Iterable[PathItem], *, attestations: bool = True) -> list[Distribution]:
    dists: list[Distribution] = []
    errors: list[DistributionError] = []
    for path in paths:
        if isinstance(path, Distribution):
            dists.append(path)
            continue
        try:
            dists.append(Distribution.open(path, attestations=attestations))
        except DistributionError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise DistributionError(
            f"{len(errors)} files cannot be uploaded; nothing was sent",
            problems=[problem for error in errors for problem in error.problems],
            hint=errors[0].hint,
        )
    return dists
