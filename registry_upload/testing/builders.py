"""Minimal wheel and sdist writers: valid distributions without a build backend.

``make_wheel`` and ``make_sdist`` write a wheel or sdist of any name,
version, core metadata and size in a few milliseconds, for tests of tools that
upload or inspect distributions.  Payloads are deterministic and written in
chunks, so a 512 MiB wheel costs no more memory than a small one::

    wheel = make_wheel(tmp_path, "demo", "1.0", metadata_extra="Summary: a demo")
    sdist = make_sdist(tmp_path, "demo", "1.0", payload_size=10 << 20)
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from packaging.utils import canonicalize_name

__all__ = ["core_metadata", "make_sdist", "make_wheel"]

_CHUNK = 1 << 20


def core_metadata(
    name: str,
    version: str,
    *,
    metadata_version: str = "2.4",
    extra: str = "",
    description: str | None = None,
) -> str:
    """A METADATA / PKG-INFO text with the given extra header lines."""
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    if extra:
        lines.extend(line for line in extra.strip("\n").split("\n") if line)
    text = "\n".join(lines) + "\n"
    if description is not None:
        text += "\n" + description
    return text


def _chunks(size: int, seed: bytes) -> Iterator[bytes]:
    """Deterministic payload bytes, each 1 MiB chunk different (so nothing dedupes it)."""
    block = hashlib.sha256(seed).digest() * (_CHUNK // 32)
    counter = 0
    remaining = size
    while remaining > 0:
        chunk = (counter.to_bytes(8, "little") + block[8:])[:remaining]
        yield chunk
        remaining -= len(chunk)
        counter += 1


def _metadata_bytes(
    name: str, version: str, metadata: str | bytes | None, extra: str, description: str | None
) -> bytes:
    meta = (
        metadata
        if metadata is not None
        else core_metadata(name, version, extra=extra, description=description)
    )
    return meta.encode() if isinstance(meta, str) else meta


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def make_wheel(
    directory: str | os.PathLike[str],
    name: str,
    version: str,
    *,
    metadata: str | bytes | None = None,
    metadata_extra: str = "",
    description: str | None = None,
    payload_size: int = 0,
    tag: str = "py3-none-any",
) -> Path:
    """Write ``{name}-{version}-{tag}.whl`` into ``directory`` and return its path.

    ``metadata`` replaces the whole METADATA file (any bytes, to test bad
    metadata); otherwise it is built from ``name``, ``version``,
    ``metadata_extra`` (header lines) and ``description`` (the body).
    ``payload_size`` adds an incompressible file of that many bytes.
    """
    dist_name = canonicalize_name(name).replace("-", "_")
    Path(directory).mkdir(parents=True, exist_ok=True)
    path = Path(directory) / f"{dist_name}-{version}-{tag}.whl"
    dist_info = f"{dist_name}-{version}.dist-info"
    meta_bytes = _metadata_bytes(name, version, metadata, metadata_extra, description)
    wheel_text = (
        f"Wheel-Version: 1.0\nGenerator: registry-upload\nRoot-Is-Purelib: true\nTag: {tag}\n"
    )
    module = f"{dist_name}/__init__.py"
    module_text = f'__version__ = "{version}"\n'.encode()
    record = [
        f"{module},{_record_hash(module_text)},{len(module_text)}",
        f"{dist_info}/METADATA,{_record_hash(meta_bytes)},{len(meta_bytes)}",
        f"{dist_info}/WHEEL,{_record_hash(wheel_text.encode())},{len(wheel_text)}",
        f"{dist_info}/RECORD,,",
    ]
    date = (2020, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo(module, date), module_text)
        if payload_size:
            info = zipfile.ZipInfo(f"{dist_name}/payload.bin", date)
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=payload_size > (1 << 31)) as out:
                for chunk in _chunks(payload_size, name.encode()):
                    out.write(chunk)
            record.insert(1, f"{dist_name}/payload.bin,,{payload_size}")
        zf.writestr(zipfile.ZipInfo(f"{dist_info}/METADATA", date), meta_bytes)
        zf.writestr(zipfile.ZipInfo(f"{dist_info}/WHEEL", date), wheel_text)
        zf.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", date), "\n".join(record) + "\n")
    return path


def make_sdist(
    directory: str | os.PathLike[str],
    name: str,
    version: str,
    *,
    metadata: str | bytes | None = None,
    metadata_extra: str = "",
    description: str | None = None,
    payload_size: int = 0,
    filename: str | None = None,
) -> Path:
    """Write a PEP 625 ``{name}-{version}.tar.gz`` into ``directory`` and return its path.

    Arguments as for ``make_wheel``; ``filename`` overrides the file's name.
    """
    dist_name = canonicalize_name(name).replace("-", "_")
    stem = f"{dist_name}-{version}"
    Path(directory).mkdir(parents=True, exist_ok=True)
    path = Path(directory) / (filename or f"{stem}.tar.gz")
    meta_bytes = _metadata_bytes(name, version, metadata, metadata_extra, description)
    pyproject = (
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "A generated sample"\n'
        f'[tool.flit.module]\nname = "{dist_name}"\n'
        '[build-system]\nrequires = ["flit_core>=3.4"]\nbuild-backend = "flit_core.buildapi"\n'
    ).encode()
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for member, data in (
            (f"{stem}/PKG-INFO", meta_bytes),
            (f"{stem}/pyproject.toml", pyproject),
            (
                f"{stem}/{dist_name}/__init__.py",
                f'"""Sample."""\n__version__ = "{version}"\n'.encode(),
            ),
        ):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mtime = 1577836800
            tf.addfile(info, io.BytesIO(data))
        if payload_size:
            info = tarfile.TarInfo(f"{stem}/{dist_name}/payload.bin")
            info.size = payload_size
            info.mtime = 1577836800
            reader = _PayloadReader(payload_size, name.encode())
            tf.addfile(info, reader)
    return path


class _PayloadReader:
    """A read()-able view of ``_chunks`` for tarfile.addfile, made on demand."""

    def __init__(self, size: int, seed: bytes) -> None:
        self._chunks = _chunks(size, seed)
        self._pending = b""

    def read(self, n: int = -1) -> bytes:
        out = bytearray()
        while n < 0 or len(out) < n:
            if not self._pending:
                self._pending = next(self._chunks, b"")
                if not self._pending:
                    break
            take = len(self._pending) if n < 0 else min(n - len(out), len(self._pending))
            out += self._pending[:take]
            self._pending = self._pending[take:]
        return bytes(out)
