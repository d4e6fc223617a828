"""Hint sentences shared by several registries' rows (private)."""

from __future__ import annotations

BUMP = "Bump the version and rebuild: a filename can never be uploaded twice with other content."
SAME_FILE = (
    " If the file on the registry is this very file, skip-existing (--skip-existing) treats "
    "it as done."
)
UPLOAD_ENDPOINT = "Check the repository URL: it must be the upload endpoint, not the simple index."
