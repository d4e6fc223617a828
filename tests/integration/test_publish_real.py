"""One release to several real destinations: two pypiservers, devpi, a static index read by pip."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_upload import (
    AuthenticationError,
    Credentials,
    DestinationStatus,
    FileStatus,
    RetryPolicy,
    VerifyPolicy,
)
from registry_upload.publish import publish
from registry_upload.testing import LocalRegistry, make_sdist, make_wheel, pip_download

from ..conftest import CANARY, assert_no_canary
from .conftest import PASSWORD, USER, Server

pytestmark = pytest.mark.integration

GOOD = Credentials.of(USER, PASSWORD, source="test")
WRONG = Credentials.of(USER, CANARY, source="test")  # refused by the server
NO_RETRY = RetryPolicy(attempts=1)
#: A real index lists a file as soon as it is stored: a short bounded wait is plenty.
QUICK = VerifyPolicy(timeout=10, initial_delay=0.2, max_delay=1)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalRegistry, ...]]:
    """Two fresh pypiservers of this module's own: one needs a password, one does not."""
    root = tmp_path_factory.mktemp("publish-servers")
    with (
        LocalRegistry(root / "auth", users={USER: PASSWORD}) as guarded,
        LocalRegistry(root / "open") as open_,
    ):
        yield guarded, open_


def release(directory: Path, name: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [make_wheel(directory, name, "1.0"), make_sdist(directory, name, "1.0")]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_refused_credentials_stop_the_next_registry_unless_keep_going(
    servers: tuple[LocalRegistry, ...], tmp_path: Path
) -> None:
    guarded, open_ = servers
    files = release(tmp_path / "dist", "order-demo")
    creds = {guarded.url: WRONG, open_.url: GOOD}
    stopped = publish(files, [guarded.url, open_.url], credentials=creds, retry=NO_RETRY)
    assert [d.status for d in stopped] == [DestinationStatus.FAILED, DestinationStatus.NOT_STARTED]
    assert [type(r.error) for r in stopped.destinations[0]] == [AuthenticationError] * 2
    assert [r.status for r in stopped.destinations[1]] == [FileStatus.NOT_STARTED] * 2
    assert open_.files() == [] and guarded.files() == []
    assert stopped.destinations[0].registry == "pypiserver"

    going = publish(files, [guarded.url, open_.url], credentials=creds, retry=NO_RETRY,
                    keep_going=True, verify=True, verify_policy=QUICK)  # fmt: skip
    assert [d.status for d in going] == [DestinationStatus.FAILED, DestinationStatus.OK]
    assert open_.files() == sorted(p.name for p in files)
    assert all(r.verified for r in going.destinations[1]), "read back from pypiserver's index"
    assert_no_canary(repr(going), going.to_dict(), *(str(r.error) for r in going.results))


def test_registry_devpi_and_static_index_in_one_run(
    servers: tuple[LocalRegistry, ...], devpi: Server, tmp_path: Path
) -> None:
    guarded, _ = servers
    files = release(tmp_path / "dist", "everywhere-demo")
    simple = tmp_path / "simple"
    each = {guarded.url: GOOD, devpi.url: GOOD}  # credentials belong to a destination
    report = publish(files, [guarded.url, devpi.url, simple.as_uri()], credentials=each,
                     verify=True, verify_policy=QUICK)  # fmt: skip
    assert report.ok, [str(r) for r in report.failures]
    assert [d.registry for d in report] == ["pypiserver", "devpi", "static-index"]
    # verified on each registry's own index (devpi's is +simple/)
    assert all(r.verified for r in report.results)
    for i, dest in enumerate((guarded, devpi)):
        got = pip_download(dest.index_url, "everywhere-demo==1.0", tmp_path / f"dl{i}")
        assert [sha(p) for p in got] == [sha(files[0])]
    # pip installs from the static index, offline, from nothing but the file: URL
    target = tmp_path / "target"
    done = pip("install", "--index-url", simple.as_uri() + "/", "--no-deps",
               "--only-binary", ":all:", "--target", str(target), "everywhere-demo==1.0")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "everywhere_demo" / "__init__.py").exists()
    # published again with skip-existing: nothing to do anywhere
    again = publish(files, [guarded.url, devpi.url, simple], credentials=each, skip_existing=True)
    assert again.ok and again.counts()["skipped"] == 6


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    """pip with no configuration, no cache and no proxy: it sees only the index given."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("PIP_", "HTTP"))}
    env = {k: v for k, v in env.items() if "proxy" not in k.lower()}
    env["PIP_CONFIG_FILE"] = os.devnull
    cmd = [sys.executable, "-m", "pip", *args, "--no-cache-dir", "--disable-pip-version-check"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
