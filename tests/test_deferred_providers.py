"""The default chain builds each deferred provider once, also under racing threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from registry_upload.credentials import CredentialChain


def test_a_deferred_provider_is_built_once_when_threads_resolve_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry_upload.credentials import _gitlab

    built: list[object] = []
    real_init = _gitlab.GitLabJobTokenProvider.__init__

    def slow_init(self: object, *args: object, **kwargs: object) -> None:
        built.append(self)
        time.sleep(0.05)  # widens the window two threads share
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_gitlab.GitLabJobTokenProvider, "__init__", slow_init)
    empty = tmp_path / ".pypirc"
    empty.write_text("", encoding="utf-8")
    chain = CredentialChain.default(env={}, pypirc=empty)
    for machine_state in ("netrc", "keyring"):
        chain.remove(machine_state)
    start = threading.Barrier(4)

    def resolve() -> None:
        start.wait()
        chain.resolve("https://upload.example.org/legacy/")

    threads = [threading.Thread(target=resolve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(built) == 1
