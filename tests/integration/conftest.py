"""Real registries for integration tests: pypiserver and devpi-server on free loopback ports.

Each server is started by the fixture and stopped at the end of the session;
nothing is started by hand.  Both come from the public testing kit
(``registry_upload.testing``): ``LocalRegistry`` for pypiserver,
``server_process`` for devpi-server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import pytest

from registry_upload.testing import LocalRegistry, console_script, free_port, server_process

USER, PASSWORD = "alice", "s3cret-pw"


class Server(Protocol):
    """What the tests use of a running registry."""

    @property
    def url(self) -> str: ...

    @property
    def index_url(self) -> str: ...


@dataclass(frozen=True)
class Devpi:
    url: str
    index_url: str


@pytest.fixture(scope="session")
def pypiserver_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    root = tmp_path_factory.mktemp("pypiserver-auth")
    with LocalRegistry(root, users={USER: PASSWORD}) as registry:
        yield registry


@pytest.fixture(scope="session")
def pypiserver_open(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with LocalRegistry(tmp_path_factory.mktemp("pypiserver-open")) as registry:
        yield registry


@pytest.fixture(scope="session")
def devpi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(console_script("devpi-init")) is None:
        pytest.fail("devpi-server is not installed: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("devpi")
    serverdir, clientdir = root / "server", root / "client"
    env = {**os.environ, "DEVPI_CLIENTDIR": str(clientdir)}
    subprocess.run(
        [console_script("devpi-init"), "--serverdir", str(serverdir), "--root-passwd", "rootpw"],
        check=True,
        capture_output=True,
        env=env,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [console_script("devpi-server"), "--serverdir", str(serverdir),
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with server_process(cmd, ready_url=base + "/+api", log=root / "server.log", env=env,
                        timeout=120):  # fmt: skip
        _devpi_setup(base, env)
        yield Devpi(url=f"{base}/{USER}/dev/", index_url=f"{base}/{USER}/dev/+simple/")


def _devpi_setup(base: str, env: dict[str, str]) -> None:
    def devpi_cli(*args: str) -> None:
        subprocess.run([console_script("devpi"), *args], check=True, capture_output=True, env=env)

    devpi_cli("use", base)
    devpi_cli("user", "-c", USER, f"password={PASSWORD}", "email=a@example.org")
    devpi_cli("login", USER, "--password", PASSWORD)
    devpi_cli("index", "-c", "dev", "volatile=False", "bases=")
