"""Real registries for integration tests: pypiserver and devpi-server on free loopback ports.

Each server is started by the fixture and stopped at the end of the session;
nothing is started by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from registry_upload._localserver import (
    LocalServer,
    free_port,
    pypiserver,
    script,
    stop,
    wait_until_up,
)

USER, PASSWORD = "alice", "s3cret-pw"


Server = LocalServer


@pytest.fixture(scope="session")
def pypiserver_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with pypiserver(tmp_path_factory.mktemp("pypiserver-auth"), users={USER: PASSWORD}) as s:
        yield s


@pytest.fixture(scope="session")
def pypiserver_open(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with pypiserver(tmp_path_factory.mktemp("pypiserver-open")) as server:
        yield server


@pytest.fixture(scope="session")
def devpi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(script("devpi-init")) is None:
        pytest.fail("devpi-server is not installed: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("devpi")
    serverdir, clientdir = root / "server", root / "client"
    env = {**os.environ, "DEVPI_CLIENTDIR": str(clientdir)}
    subprocess.run(
        [script("devpi-init"), "--serverdir", str(serverdir), "--root-passwd", "rootpw"],
        check=True,
        capture_output=True,
        env=env,
    )
    port = free_port()
    log = open(root / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            script("devpi-server"),
            "--serverdir",
            str(serverdir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/+api", proc, timeout=120)

        def devpi_cli(*args: str) -> None:
            subprocess.run([script("devpi"), *args], check=True, capture_output=True, env=env)

        devpi_cli("use", base)
        devpi_cli("user", "-c", USER, f"password={PASSWORD}", "email=a@example.org")
        devpi_cli("login", USER, "--password", PASSWORD)
        devpi_cli("index", "-c", "dev", "volatile=False", "bases=")
        yield Server(url=f"{base}/{USER}/dev/", index=f"{base}/{USER}/dev/+simple/", root=serverdir)
    finally:
        stop(proc)
        log.close()
