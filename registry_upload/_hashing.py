"""Digests computed in one streaming pass (private).

For large files each hash runs in a helper thread fed through a short
queue, so hashing costs about the time of the slowest hash rather than the
sum, and overlaps with reading or sending (hashlib releases the GIL for
buffers larger than 2 KiB).  The same hasher is fed by the transport
while it sends, which is how an upload reads the file only once.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["CHUNK_SIZE", "Digests", "StreamHasher", "hash_file"]

CHUNK_SIZE = 512 << 10
# Files smaller than this are hashed in one thread: a thread costs more than it saves.
_THREAD_THRESHOLD = 8 << 20


@dataclass(frozen=True, slots=True)
class Digests:
    """Hex digests of a distribution file, as the upload form wants them."""

    sha256: str
    blake2_256: str | None = None
    md5: str | None = None

    def form_fields(self) -> list[tuple[str, str]]:
        fields = [("sha256_digest", self.sha256)]
        if self.blake2_256 is not None:
            fields.append(("blake2_256_digest", self.blake2_256))
        if self.md5 is not None:
            fields.append(("md5_digest", self.md5))
        return fields


def _new_blake2() -> Any:
    try:
        return hashlib.blake2b(digest_size=32)
    except ValueError:  # FIPS builds disable blake2; sha256 alone is enough
        return None


class _Worker:
    """One hash fed through a short queue by its own thread (bounded memory)."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self.thread = threading.Thread(target=self._run, name="registry-upload-hash", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            self.hasher.update(chunk)

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join()


class StreamHasher:
    """Feed chunks in order with :meth:`update`, then call :meth:`finish` once.

    ``threaded=True`` gives each hash its own thread, so the caller (reading
    the file, or sending it) never waits for hashing unless it runs ahead by
    more than a few chunks; worth it from a few MiB on.
    """

    def __init__(self, *, blake2: bool = True, md5: bool = False, threaded: bool = False) -> None:
        self._sha256 = hashlib.sha256()
        self._blake2 = _new_blake2() if blake2 else None
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 else None
        self._hashers = [h for h in (self._sha256, self._blake2, self._md5) if h is not None]
        self._workers = [_Worker(h) for h in self._hashers] if threaded else []

    def update(self, chunk: bytes) -> None:
        if self._workers:
            for worker in self._workers:
                worker.queue.put(chunk)
        else:
            for h in self._hashers:
                h.update(chunk)

    def finish(self) -> Digests:
        for worker in self._workers:
            worker.stop()
        self._workers = []
        return Digests(
            sha256=self._sha256.hexdigest(),
            blake2_256=self._blake2.hexdigest() if self._blake2 is not None else None,
            md5=self._md5.hexdigest() if self._md5 is not None else None,
        )


def hash_file(path: str | os.PathLike[str], *, blake2: bool = True, md5: bool = False) -> Digests:
    """Hash a file in one streaming read with constant memory."""
    size = os.path.getsize(path)
    hasher = StreamHasher(blake2=blake2, md5=md5, threaded=size >= _THREAD_THRESHOLD)
    try:
        with open(path, "rb", buffering=0) as fh:
            while chunk := fh.read(CHUNK_SIZE):
                hasher.update(chunk)
    finally:
        digests = hasher.finish()
    return digests
