"""PEP 740 attestations beside a distribution (private): bounded, never blocking."""

from __future__ import annotations

import functools
import json
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import InvalidDistributionError
from ._read import refuse

__all__ = ["ATTESTATION_SIZE_LIMIT", "attestations_in", "read_attestation", "read_attestations"]

#: A PEP 740 attestation (a Sigstore bundle: certificate, transparency-log entry,
#: DSSE envelope) is a few KiB; anything over 1 MiB is not one, and is refused
#: without being read.
ATTESTATION_SIZE_LIMIT = 1 << 20


def read_attestations(p: Path) -> tuple[Any, ...]:
    """PEP 740 attestations from ``<file>.*.attestation`` beside the file."""
    prefix = p.name + "."
    found = sorted(p.parent / n for n in attestations_in(str(p.parent)) if n.startswith(prefix))
    return tuple(read_attestation(p, att) for att in found)


def read_attestation(p: Path, att: Path) -> Any:
    """One attestation: a regular file, at most ATTESTATION_SIZE_LIMIT, a JSON object."""
    try:
        data = _read_capped_regular_file(att, ATTESTATION_SIZE_LIMIT)
        value = json.loads(data.decode("utf-8"))
        if not isinstance(value, dict):
            raise ValueError(f"a JSON {type(value).__name__}, not an object")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise refuse(
            InvalidDistributionError,
            str(p),
            "invalid-attestation",
            f"{att}: not a usable attestation ({exc})",
            "Regenerate the attestation, remove it, or leave attestations out "
            "(attestations=False, --no-attestations).",
        ) from None
    return value


def _read_capped_regular_file(path: Path, limit: int) -> bytes:
    """Read a regular file of at most ``limit`` bytes; never blocks on a FIFO or a device."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb", buffering=0) as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        if st.st_size > limit:
            raise ValueError(f"{st.st_size} bytes, over the {limit}-byte limit")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"over the {limit}-byte limit")
    return data


def attestations_in(directory: str) -> tuple[str, ...]:
    """Attestation files in a directory, listed once per directory state."""
    try:
        mtime = os.stat(directory).st_mtime_ns
    except OSError:
        return ()
    return _attestation_listing(directory, mtime)


@functools.lru_cache(maxsize=64)
def _attestation_listing(directory: str, mtime_ns: int) -> tuple[str, ...]:
    # Keyed on the directory's mtime: adding or removing a file invalidates it.
    try:
        return tuple(n for n in os.listdir(directory) if n.endswith(".attestation"))
    except OSError:
        return ()
