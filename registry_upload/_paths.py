"""Turn what a caller passes (paths, directories) into the distributions to handle (private).

``collect`` is shared by ``check()``, ``upload()`` and the CLI (which expands
globs itself, then calls it), so every entry point accepts the same inputs:

* one ``str`` or ``os.PathLike`` (a str is ONE path, never iterated), or an
  iterable of them; anything else raises TypeError naming what is accepted;
* a directory expands to the distributions in it (sorted; other files ignored);
* companion files of a distribution in the batch are fine: ``*.attestation``
  files are attached by ``Distribution.open`` anyway, and ``.asc`` signatures
  are skipped (PyPI no longer accepts them); each leaves a note, whether it was
  named or found in a directory (one found beside no distribution of the
  batch is ignored like any other file there);
* any other file named explicitly is a usage error listing all of them;
* duplicates are dropped, order kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from .distribution import DISTRIBUTION_SUFFIXES
from .errors import UnsupportedDistributionError
from .results import Finding, Severity

__all__ = ["Collected", "collect", "collect_for_check"]

PathInput = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]

_ACCEPTED = "a path (str or os.PathLike) or an iterable of paths"
_SIGNATURE_NOTE = "signature skipped: PyPI no longer accepts PGP signatures"
_ATTESTATION_NOTE = "attestation: attached to {dist} when it is opened"


@dataclass(frozen=True, slots=True)
class Collected:
    """The distributions to handle, in order, and a note for each file set aside.

    ``notes`` holds ``(path, reason)`` pairs: a skipped ``.asc`` signature, an
    attestation that travels with its distribution.
    """

    paths: tuple[str, ...]
    notes: tuple[tuple[str, str], ...] = ()


def collect(paths: PathInput) -> Collected:
    """The distributions named by ``paths`` (files or directories), with notes.

    Raises TypeError for a wrong type, UnsupportedDistributionError for an
    unreadable directory or for files that are not distributions (all listed).
    """
    return _collect(paths, keep_others=False)


def collect_for_check(paths: PathInput) -> tuple[str, ...]:
    """As :func:`collect`, but other files stay in the list, so ``check()`` reports each."""
    return _collect(paths, keep_others=True).paths


def _collect(paths: PathInput, *, keep_others: bool) -> Collected:
    items = _as_path_list(paths)
    found: dict[str, None] = {}  # insertion-ordered set of normalised paths
    shown: dict[str, str] = {}
    companions: list[str] = []
    listed_companions: list[str] = []
    others: list[str] = []
    for item in items:
        if os.path.isdir(item):
            entries = _list_directory(item)
            for entry in entries:
                if _is_distribution(entry):
                    _add(found, shown, entry)
                else:
                    listed_companions.append(entry)
        elif _is_distribution(item):
            _add(found, shown, item)
        elif _companion_of(item) is not None:
            companions.append(item)
        else:
            others.append(item)
    notes, strays = _place_companions(companions, found)
    others.extend(strays)
    notes += _place_companions(listed_companions, found)[0]  # strays in a directory: ignored
    if others and keep_others:
        for item in others:
            _add(found, shown, item)
    elif others:
        raise _not_distributions(others)
    return Collected(paths=tuple(shown[k] for k in found), notes=tuple(dict.fromkeys(notes)))


def _as_path_list(paths: object) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        return [_fspath(paths)]
    if isinstance(paths, bytes | bytearray) or not isinstance(paths, Iterable):
        raise TypeError(f"paths must be {_ACCEPTED}, not {type(paths).__name__}")
    out = []
    for item in paths:
        if not isinstance(item, str | os.PathLike):
            raise TypeError(f"each path must be a str or os.PathLike, not {type(item).__name__}")
        out.append(_fspath(item))
    return out


def _fspath(item: str | os.PathLike[str]) -> str:
    value = os.fspath(item)
    if not isinstance(value, str):
        raise TypeError(f"paths must be text, not {type(value).__name__}")
    return value


def _add(found: dict[str, None], shown: dict[str, str], path: str) -> None:
    key = os.path.normpath(path)
    if key not in found:
        found[key] = None
        shown[key] = path


def _is_distribution(path: str) -> bool:
    return os.path.basename(path).endswith(DISTRIBUTION_SUFFIXES)


def _companion_of(path: str) -> str | None:
    """The distribution a ``.asc`` or ``<dist>.<kind>.attestation`` file belongs to."""
    if path.endswith(".asc"):
        dist = path[: -len(".asc")]
    elif path.endswith(".attestation"):
        dist = path[: -len(".attestation")].rpartition(".")[0]
    else:
        return None
    return dist if _is_distribution(dist) else None


def _place_companions(
    companions: list[str], found: dict[str, None]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Notes for companions of a distribution in the batch; the others are strays."""
    notes: list[tuple[str, str]] = []
    strays: list[str] = []
    for item in companions:
        dist = _companion_of(item)
        assert dist is not None
        if os.path.normpath(dist) not in found:
            strays.append(item)
        elif item.endswith(".asc"):
            notes.append((item, _SIGNATURE_NOTE))
        else:
            notes.append((item, _ATTESTATION_NOTE.format(dist=os.path.basename(dist))))
    return notes, strays


def _list_directory(directory: str) -> list[str]:
    """The distributions and their companion files in ``directory``, sorted by name."""
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise unlistable_error(directory, exc) from None
    return [
        os.path.join(directory, n)
        for n in names
        if (_is_distribution(n) or _companion_of(n) is not None)
        and os.path.isfile(os.path.join(directory, n))
    ]


def unlistable_error(directory: str, exc: OSError) -> UnsupportedDistributionError:
    """The error for a directory that cannot be listed (permission denied, I/O error)."""
    reason = "permission denied" if isinstance(exc, PermissionError) else exc.strerror or str(exc)
    message = f"{directory}: cannot list the directory: {reason}"
    hint = "Check the directory's permissions (ls -ld), or pass the distribution files."
    return UnsupportedDistributionError(
        message,
        problems=[_finding(directory, "unreadable-directory", message, hint)],
        hint=hint,
        path=directory,
    )


def _not_distributions(others: list[str]) -> UnsupportedDistributionError:
    missing = [o for o in others if not os.path.lexists(o)]
    if missing:
        return _missing(missing)
    shown = ", ".join(others[:10]) + (f" (and {len(others) - 10} more)" if len(others) > 10 else "")
    message = f"not distribution files: {shown}; expected wheels (.whl) and sdists (.tar.gz, .zip)"
    hint = (
        "Pass the files from your dist/ directory (dist/*.whl dist/*.tar.gz) or the directory "
        "itself; .asc and .attestation files are accepted beside their distribution."
    )
    return UnsupportedDistributionError(
        message,
        problems=[
            _finding(o, "not-a-distribution", f"{o}: not a distribution file", hint) for o in others
        ],
        hint=hint,
        path=others[0],
    )


def _missing(paths: list[str]) -> UnsupportedDistributionError:
    shown = ", ".join(paths[:10]) + (f" (and {len(paths) - 10} more)" if len(paths) > 10 else "")
    hint = "Build first (python -m build) or check the path."
    return UnsupportedDistributionError(
        f"no such file or directory: {shown}",
        problems=[
            _finding(p, "no-such-file", f"{p}: no such file or directory", hint) for p in paths
        ],
        hint=hint,
        path=paths[0],
    )


def _finding(path: str, code: str, message: str, hint: str) -> Finding:
    return Finding(code=code, severity=Severity.ERROR, path=path, message=message, hint=hint)
