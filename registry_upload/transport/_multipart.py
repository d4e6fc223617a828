"""A ``multipart/form-data`` upload body streamed from disk.

The body is produced chunk by chunk, so memory stays constant whatever the
file size, and ``Content-Length`` is exact.  The file part comes before the
digest fields: the digests are computed *while* the file is sent (one read
of the file for both), then appended.  Registries parse the whole form
before acting on it, so the order does not matter to them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from .._hashing import CHUNK_SIZE, Digests, StreamHasher
from ..errors import TransportError
from ._records import ProgressCallback

__all__ = ["MultipartBody", "SendState"]


class MultipartBody:
    """``multipart/form-data`` with the file streamed from disk.

    Layout: text fields, the ``content`` file part, then the digest fields
    (filled in once the file has been read).  Digest hex lengths are fixed, so
    the total length is known before a byte is sent.
    """

    def __init__(
        self,
        fields: Sequence[tuple[str, str]],
        *,
        path: str | os.PathLike[str],
        filename: str,
        size: int,
        blake2: bool = False,
        md5: bool = False,
    ) -> None:
        self.boundary = "registry-upload-" + os.urandom(16).hex()
        self.path = path
        self.size = size
        self._blake2 = blake2
        self._md5 = md5
        head = bytearray()
        for name, value in fields:
            head += self._field(name, value)
        head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="content"; filename="{_quote(filename)}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._head = bytes(head)
        placeholder = Digests(
            sha256="0" * 64,
            blake2_256="0" * 64 if blake2 else None,
            md5="0" * 32 if md5 else None,
        )
        self.length = len(self._head) + size + len(self._tail(placeholder))

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _field(self, name: str, value: str) -> bytes:
        return (
            (
                f"--{self.boundary}\r\n"
                f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
            ).encode()
            + value.encode("utf-8")
            + b"\r\n"
        )

    def _tail(self, digests: Digests) -> bytes:
        out = bytearray(b"\r\n")
        for name, value in digests.form_fields():
            out += self._field(name, value)
        out += f"--{self.boundary}--\r\n".encode()
        return bytes(out)

    def chunks(
        self, state: SendState, on_progress: ProgressCallback | None = None
    ) -> Iterator[bytes]:
        """Yield the body; ``state`` learns the digests and how far it got."""
        hasher = StreamHasher(blake2=self._blake2, md5=self._md5, threaded=self.size >= (8 << 20))
        total = self.length
        try:
            yield self._head
            state.sent = len(self._head)
            with open(self.path, "rb", buffering=0) as fh:
                read = 0
                while read < self.size:
                    chunk = fh.read(min(CHUNK_SIZE, self.size - read))
                    if not chunk:
                        raise _changed(
                            self.path,
                            f"shrank to {read} of {self.size} bytes",
                        )
                    read += len(chunk)
                    hasher.update(chunk)
                    yield chunk
                    state.sent += len(chunk)
                    if on_progress is not None:
                        on_progress(state.sent, total)
                if fh.read(1):  # the tail is never sent: the registry gets a broken form
                    raise _changed(self.path, f"grew beyond {self.size} bytes")
        finally:
            state.digests = hasher.finish()
        tail = self._tail(state.digests)
        yield tail
        state.sent += len(tail)
        state.complete = True
        if on_progress is not None:
            on_progress(state.sent, total)


class SendState:
    """How far a body's sending got, and the digests of the file sent."""

    __slots__ = ("complete", "digests", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.complete = False
        self.digests: Digests | None = None


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")


def _changed(path: str | os.PathLike[str], what: str) -> TransportError:
    return TransportError(
        f"{path}: the file changed size while it was being sent: it {what}",
        hint="Do not rebuild or move files during an upload.",
        path=str(path),
    )
