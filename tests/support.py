"""Helpers shared by the tests: one CLI runner, the request log's headers, sample folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from registry_upload.testing import FakeRegistry, make_sdist, make_wheel


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "REGISTRY_UPLOAD_"))}
    env["HOME"] = "/nonexistent"
    env.update(extra or {})
    return env


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry_upload", *args],
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


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
