"""A testing kit for people who build release tooling on registry_upload.

Everything here runs on this machine, on loopback ports only:

- ``LocalRegistry``: a real pypiserver on a free port (context manager),
  needs the ``testing`` extra: ``pip install 'registry-upload[testing]'``;
- ``FakeRegistry``: a scriptable registry that replays what cannot run here
  (statuses, bodies, headers, delays, connection resets, hangs) and logs
  every request (``Action``, ``Reply``, ``RecordedRequest``, ``StoredFile``);
- ``make_wheel`` / ``make_sdist``: valid distributions without a build backend;
- ``DiscardSink``: a server that reads and discards uploads, for benchmarks;
- ``MockTransport``: a transport that sends nothing and answers each request
  (a ``MockRequest``) with a function, for unit tests of code taking a transport;
- ``pip_download``: fetch a release back with pip from an index.

pytest fixtures (``local_registry``, ``fake_registry``) come with the plugin
``registry_upload.testing.pytest_plugin``; enable it in your ``conftest.py``::

    pytest_plugins = ["registry_upload.testing.pytest_plugin"]

Importing this package imports neither pytest, pypiserver nor urllib3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .builders import core_metadata, make_sdist, make_wheel
from .fake import (
    Action,
    ActionKind,
    FakeRegistry,
    FormValue,
    RecordedRequest,
    Reply,
    StoredFile,
)
from .local import (
    LocalRegistry,
    LocalRegistryError,
    console_script,
    free_port,
    pip_download,
    server_process,
)
from .sink import DiscardSink

if TYPE_CHECKING:
    from .mock import MockRequest, MockTransport

__all__ = [
    "Action",
    "ActionKind",
    "DiscardSink",
    "FakeRegistry",
    "FormValue",
    "LocalRegistry",
    "LocalRegistryError",
    "MockRequest",
    "MockTransport",
    "RecordedRequest",
    "Reply",
    "StoredFile",
    "console_script",
    "core_metadata",
    "free_port",
    "make_sdist",
    "make_wheel",
    "pip_download",
    "server_process",
]


def __getattr__(name: str) -> Any:
    """``MockTransport`` and ``MockRequest`` on first use (they import the transport)."""
    if name in {"MockRequest", "MockTransport"}:
        from . import mock

        return getattr(mock, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
