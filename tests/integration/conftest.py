"""Real registries for integration tests: pypiserver and devpi-server on free loopback ports.

Each server is started by the fixture and stopped at the end of the session;
nothing is started by hand.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER, PASSWORD = "alice", "s3cret-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early ({proc.returncode}) for {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not come up in {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Server:
    url: str  # upload URL
    index: str  # simple index URL
    root: Path


def _pypiserver(root: Path, *, auth: bool) -> Iterator[Server]:
    packages = root / "packages"
    packages.mkdir(parents=True)
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "pypiserver",
        "run",
        "-p",
        str(port),
        "-i",
        "127.0.0.1",
        "--hash-algo",
        "sha256",
    ]
    if auth:
        from passlib.apache import HtpasswdFile

        htpasswd = root / "htpasswd"
        ht = HtpasswdFile(str(htpasswd), new=True)
        ht.set_password(USER, PASSWORD)
        ht.save()
        cmd += ["-P", str(htpasswd), "-a", "update"]
    else:
        cmd += ["-P", ".", "-a", "."]
    cmd.append(str(packages))
    log = open(root / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/", proc)
        yield Server(url=base + "/", index=base + "/simple/", root=packages)
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="session")
def pypiserver_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _pypiserver(tmp_path_factory.mktemp("pypiserver-auth"), auth=True)


@pytest.fixture(scope="session")
def pypiserver_open(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _pypiserver(tmp_path_factory.mktemp("pypiserver-open"), auth=False)


@pytest.fixture(scope="session")
def devpi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which("devpi-init") is None:
        pytest.fail("devpi-server is not installed: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("devpi")
    serverdir, clientdir = root / "server", root / "client"
    env = {**os.environ, "DEVPI_CLIENTDIR": str(clientdir)}
    subprocess.run(
        ["devpi-init", "--serverdir", str(serverdir), "--root-passwd", "rootpw"],
        check=True,
        capture_output=True,
        env=env,
    )
    port = free_port()
    log = open(root / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        ["devpi-server", "--serverdir", str(serverdir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/+api", proc, timeout=120)

        def devpi_cli(*args: str) -> None:
            subprocess.run(["devpi", *args], check=True, capture_output=True, env=env)

        devpi_cli("use", base)
        devpi_cli("user", "-c", USER, f"password={PASSWORD}", "email=a@example.org")
        devpi_cli("login", USER, "--password", PASSWORD)
        devpi_cli("index", "-c", "dev", "volatile=False", "bases=")
        yield Server(url=f"{base}/{USER}/dev/", index=f"{base}/{USER}/dev/+simple/", root=serverdir)
    finally:
        stop(proc)
        log.close()


def pip_download(index: str, requirement: str, dest: Path, *, sdist: bool = False) -> list[Path]:
    """Fetch files back with pip itself."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--isolated",
        "--index-url",
        index,
        "--dest",
        str(dest),
        requirement,
    ]
    cmd += ["--no-binary", ":all:", "--no-build-isolation"] if sdist else ["--only-binary", ":all:"]
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}  # only the index under test
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return sorted(dest.iterdir())
