"""The static index's parts (private): the tree on disk and the pages.

:mod:`registry_upload.static_index` is the public façade.
"""

from __future__ import annotations

__all__: list[str] = []
