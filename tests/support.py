"""Helpers shared by the tests: one CLI runner, the request log's headers, sample folders."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from registry_upload import Credentials, RetryPolicy
from registry_upload.testing import FakeRegistry, make_sdist, make_wheel

from .conftest import CANARY

CREDS = Credentials.of("alice", CANARY, source="test")
BASIC = base64.b64encode(f"alice:{CANARY}".encode()).decode()
NO_WAIT = RetryPolicy(attempts=3, sleep=lambda seconds: None)
#: Variables a CLI run under test must not inherit from the developer's shell.
FOREIGN = ("TWINE_", "REGISTRY_UPLOAD_", "UV_", "REQUESTS_CA")


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env["HOME"] = "/nonexistent"
    env.update(extra or {})
    return env


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m registry_upload ARGS`` in a clean environment, no terminal."""
    return subprocess.run(
        [sys.executable, "-m", "registry_upload", *args],
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


def passwords_seen(registry: FakeRegistry) -> set[str]:
    """Every password the registry received, decoded from Basic authorization."""
    seen = set()
    for request in registry.requests:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            seen.add(base64.b64decode(header[6:]).decode().partition(":")[2])
    return seen


def auth_headers(reg: FakeRegistry, method: str) -> list[str | None]:
    return [
        {k.lower(): v for k, v in r.headers.items()}.get("authorization")
        for r in reg.requests
        if r.method == method
    ]


def dist_folder(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = make_wheel(dist, "companions", "1.0")
    make_sdist(dist, "companions", "1.0")
    Path(f"{wheel}.asc").write_text("-----BEGIN PGP SIGNATURE-----\n")
    Path(f"{wheel}.publish.attestation").write_text(json.dumps({"version": 1, "envelope": {}}))
    return dist


def many_wheels(tmp_path: Path, count: int) -> list[Path]:
    return [make_wheel(tmp_path, f"many{i}", "1.0") for i in range(count)]


def upload_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "registry-upload" and t.is_alive()]
