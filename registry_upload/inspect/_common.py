"""What every archive walk shares (private): bounds, findings, member names, links.

Every walk is bounded by member count, unpacked bytes and compression ratio,
so a hostile archive costs at most a few seconds and a few tens of MiB.
"""

from __future__ import annotations

import collections
import posixpath
import re
from collections.abc import Iterable
from typing import Any, Literal

from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from ..results import Finding, Severity

__all__ = [
    "BOMB_MIN_SIZE",
    "BOMB_RATIO",
    "EXTENSION_HEADER_LIMIT",
    "MAX_MEMBERS",
    "MAX_UNPACKED",
    "METADATA_SIZE_LIMIT",
    "ArchiveRefused",
    "FileType",
    "LinkTree",
    "WheelName",
    "many_tops",
    "top_directory",
    "unsafe_name",
]

#: Core metadata larger than this is refused without being read.
METADATA_SIZE_LIMIT = 10 * 1024 * 1024

FileType = Literal["bdist_wheel", "sdist"]
#: A parsed wheel filename: name, version, build tag, tags.
WheelName = tuple[NormalizedName, Version, Any, frozenset[Tag]]

#: An archive with more members than this is refused (real sdists and wheels hold
#: a few thousand at most; walking this many takes about a second).
MAX_MEMBERS = 50_000

#: A gzip stream unpacking to more than this is refused.
MAX_UNPACKED = 1 << 30

#: A tar extension header (pax, GNU long name or link) declaring more than this
#: is refused before it is read (real ones hold a few hundred bytes; tarfile
#: would read the whole declared size into memory).
EXTENSION_HEADER_LIMIT = 1 << 20

#: Past this many unpacked bytes, a compression ratio above BOMB_RATIO is a bomb
#: (the same rule as PyPI's for zip files).
BOMB_MIN_SIZE = 64 << 20

BOMB_RATIO = 50

_REBUILD = "Rebuild the distribution with your build backend (python -m build)."

_ARCHIVES_DOC = "PyPI refuses such archives (https://docs.pypi.org/archives). "

_CHUNK = 1 << 16


class ArchiveRefused(Exception):
    """Raised by the readers when a bound is crossed; carries the finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def _error(path: str, code: str, message: str, hint: str) -> Finding:
    return Finding(code=code, severity=Severity.ERROR, path=path, message=message, hint=hint)


_DRIVE = re.compile(r"^[A-Za-z]:")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def unsafe_name(name: str) -> str | None:
    """Why a member name is unsafe to unpack, or None."""
    if _CONTROL.search(name):
        return "holds control characters"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm):
        return "is an absolute path"
    if ".." in norm and ".." in norm.split("/"):
        return "has a '..' component"
    return None


def _name_findings(path: str, names: Iterable[str]) -> list[Finding]:
    bad = [(n, why) for n in names if (why := unsafe_name(n)) is not None]
    if not bad:
        return []
    shown = "; ".join(f"{n!r} {why}" for n, why in bad[:5])
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    return [
        _error(
            path,
            "unsafe-member-path",
            f"{len(bad)} member(s) would unpack outside the target directory: {shown}{more}",
            "A crafted or broken archive; unpacking it could overwrite files elsewhere. "
            + _REBUILD,
        )
    ]


def _duplicates(path: str, names: Iterable[str]) -> list[Finding]:
    dupes = sorted(n for n, c in collections.Counter(names).items() if c > 1)
    if not dupes:
        return []
    return [
        _error(
            path,
            "duplicate-member",
            f"{len(dupes)} name(s) appear more than once in the archive: "
            + ", ".join(repr(n) for n in dupes[:5]),
            "Tools disagree about which copy wins (one could carry another project's "
            "metadata). " + _ARCHIVES_DOC + _REBUILD,
        )
    ]


def _bomb(path: str, unpacked: int, packed: int) -> Finding:
    return _error(
        path,
        "decompression-bomb",
        f"unpacks to {unpacked} bytes from {packed} (over {BOMB_RATIO}x past "
        f"{BOMB_MIN_SIZE >> 20} MiB)",
        "A decompression bomb, or an archive of highly repetitive data; PyPI refuses a "
        f"compression ratio over {BOMB_RATIO}. " + _REBUILD,
    )


def top_directory(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return parts[0] if parts else ""


def many_tops(path: str, tops: set[str]) -> Finding:
    shown = ", ".join(repr(t) for t in sorted(tops)[:5])
    return _error(
        path,
        "multiple-top-level-directories",
        f"members are not under one top-level directory ({shown})",
        "An sdist unpacks into one {name}-{version}/ directory; PyPI refuses others. " + _REBUILD,
    )


def _too_many(path: str) -> Finding:
    return _error(
        path,
        "too-many-members",
        f"more than {MAX_MEMBERS} members; stopped reading",
        "Real sdists hold a few thousand files at most; check what the build included "
        "(MANIFEST.in, [tool.*.sdist] excludes). " + _REBUILD,
    )


def _link_outside(path: str, kind: str, name: str, target: str) -> Finding:
    return _error(
        path,
        "link-outside-archive",
        f"{kind} {name!r} points outside the archive ({target!r})",
        "Unpacking it could read or overwrite files elsewhere. " + _REBUILD,
    )


def _through_link(path: str, name: str) -> Finding:
    return _error(
        path,
        "link-outside-archive",
        f"{name!r} would be unpacked through a symlink that leads outside the archive",
        "Unpacking it could write files elsewhere. " + _REBUILD,
    )


#: Symlinks followed while resolving one path, as the kernel's ELOOP bound.
_MAX_HOPS = 40

#: Path components walked while resolving one path (a hostile chain could ask for more).
_MAX_STEPS = 4096


class LinkTree:
    """The symlinks seen so far in an archive, to resolve later paths against them.

    A chain of links each harmless on its own (``x -> ..``, then ``x/y ->
    ..``) can lead an unpacked member outside the target directory: every
    link target and every member path is resolved through the links before
    it, as an unpacker would follow them.
    """

    __slots__ = ("_links",)

    def __init__(self) -> None:
        self._links: dict[str, list[str]] = {}

    def __bool__(self) -> bool:
        return bool(self._links)

    def resolve(self, name: str) -> str | None:
        """``name`` with the known symlinks followed; None when it leaves the tree or loops."""
        pending = _parts(name)
        pending.reverse()
        out: list[str] = []
        hops = steps = 0
        while pending:
            steps += 1
            if steps > _MAX_STEPS:
                return None
            part = pending.pop()
            if part == "..":
                if not out:
                    return None
                out.pop()
                continue
            out.append(part)
            target = self._links.get("/".join(out))
            if target is None:
                continue
            hops += 1
            if hops > _MAX_HOPS:
                return None
            out.pop()
            pending.extend(reversed(target))
        return "/".join(out)

    def leaves(self, name: str, target: str, *, symlink: bool) -> bool:
        """Whether a link ``name -> target`` leads outside the tree; records a symlink."""
        link = target.replace("\\", "/")
        if link.startswith("/") or _DRIVE.match(link):
            return True
        parent = self.resolve(posixpath.dirname(name)) if symlink else ""
        if parent is None or self.resolve(posixpath.join(parent, link)) is None:
            return True
        key = "/".join(_parts(name))
        if symlink and key:
            self._links[key] = _parts(link)
        return False


def _parts(name: str) -> list[str]:
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
