"""pytest fixtures of the testing kit.

Not registered as a pytest entry point (it would load into every pytest
session of every user); enable it in the ``conftest.py`` at your rootdir::

    pytest_plugins = ["registry_upload.testing.pytest_plugin"]

Fixtures (each test gets its own server, stopped after the test):

- ``local_registry``: a running ``LocalRegistry`` (real pypiserver) whose one
  user is ``LOCAL_USER`` / ``LOCAL_PASSWORD``; ``local_registry.credentials()``
  gives matching ``Credentials``.  Needs the ``testing`` extra.
- ``fake_registry``: a running ``FakeRegistry()`` that stores every upload;
  script it with ``fake_registry.script(Action(...))`` or set ``.default``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .fake import FakeRegistry
from .local import LocalRegistry

__all__ = ["LOCAL_PASSWORD", "LOCAL_USER", "fake_registry", "local_registry"]

LOCAL_USER = "release-bot"
LOCAL_PASSWORD = "local-registry-password"


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    """A real pypiserver on a free loopback port, with one user."""
    with LocalRegistry(tmp_path / "local-registry", users={LOCAL_USER: LOCAL_PASSWORD}) as reg:
        yield reg


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    """A scriptable loopback registry that stores every upload."""
    with FakeRegistry() as reg:
        yield reg
