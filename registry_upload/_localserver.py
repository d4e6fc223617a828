"""Start a real pypiserver on a free loopback port (private).

One piece of code for the demo command, the integration tests and the
benchmarks.  Needs the ``test`` extra (pypiserver, passlib).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalServer", "free_port", "pip_download", "pypiserver", "script", "wait_until_up"]


def script(name: str) -> str:
    """A console script of this interpreter's environment.

    Looked up in the interpreter's scripts directory first: after a fresh
    ``pip install`` a version manager's shims may not be on ``PATH`` yet.
    """
    import shutil
    import sysconfig

    for directory in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name) or name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Return once ``url`` answers (any HTTP status); raise if the server died or is late."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"the server for {url} exited at start ({proc.returncode}); "
                "is the test extra installed? pip install -e '.[test]'"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {url} did not come up within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass(frozen=True, slots=True)
class LocalServer:
    """A running registry: its upload URL, simple index and package directory."""

    url: str
    index: str
    root: Path


@contextmanager
def pypiserver(
    root: Path,
    *,
    users: Mapping[str, str] | None = None,
    overwrite: bool = False,
    log: Path | None = None,
) -> Iterator[LocalServer]:
    """pypiserver serving ``root/packages``; with ``users``, uploads need a password."""
    packages = root / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pypiserver", "run", "-p", str(free_port()), "-i", "127.0.0.1",
           "--hash-algo", "sha256"]  # fmt: skip
    if users:
        from passlib.apache import HtpasswdFile  # type: ignore[import-untyped]

        htpasswd = root / "htpasswd"
        ht = HtpasswdFile(str(htpasswd), new=True)
        for user, password in users.items():
            ht.set_password(user, password)
        ht.save()
        cmd += ["-P", str(htpasswd), "-a", "update"]
    else:
        cmd += ["-P", ".", "-a", "."]
    if overwrite:
        cmd.append("--overwrite")
    cmd.append(str(packages))
    port = cmd[cmd.index("-p") + 1]
    with open(log or root / "pypiserver.log", "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base + "/", proc)
            yield LocalServer(url=base + "/", index=base + "/simple/", root=packages)
        finally:
            stop(proc)


def pip_download(index: str, requirement: str, dest: Path, *, sdist: bool = False) -> list[Path]:
    """Fetch a release back with pip itself, from ``index`` only (no pip config)."""
    import os

    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
           "--disable-pip-version-check", "--quiet", "--isolated", "--index-url", index,
           "--dest", str(dest), requirement]  # fmt: skip
    cmd += ["--no-binary", ":all:", "--no-build-isolation"] if sdist else ["--only-binary", ":all:"]
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return sorted(dest.iterdir())
