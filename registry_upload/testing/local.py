"""A real registry on this machine: pypiserver on a free loopback port.

``LocalRegistry`` starts pypiserver (optionally with an htpasswd file, so
uploads need a password), waits until it answers, and stops it again::

    from registry_upload import upload
    from registry_upload.testing import LocalRegistry, make_wheel

    with LocalRegistry(tmp_path / "registry", users={"alice": "s3cret"}) as registry:
        report = upload([make_wheel(tmp_path, "demo", "1.0")], registry.url,
                        credentials=registry.credentials())
        assert report.ok and registry.files() == [...]

pypiserver and passlib are not runtime dependencies of registry_upload: they
come with the ``testing`` extra (``pip install 'registry-upload[testing]'``)
and are only looked for when a server starts.  Nothing of them is imported
into the test process: the htpasswd file is written here (``{SHA}`` entries,
which pypiserver's passlib reads), and pypiserver runs with its
DeprecationWarnings ignored (passlib imports ``crypt``), so a test run under
``-W error::DeprecationWarning`` works.  The server never redirects a
project it does not hold to the public index (``--disable-fallback``): a
test's traffic stays on this machine.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RegistryUploadError

if TYPE_CHECKING:
    from ..credentials import Credentials

__all__ = [
    "INSTALL_HINT",
    "LocalRegistry",
    "LocalRegistryError",
    "console_script",
    "free_port",
    "pip_download",
    "server_process",
]

INSTALL_HINT = "Install the testing extra: pip install 'registry-upload[testing]'."


class LocalRegistryError(RegistryUploadError):
    """A local test server could not be started (missing extra, early exit, too slow)."""


def console_script(name: str) -> str:
    """The path of console script ``name`` of this interpreter's environment.

    Looked up in the interpreter's scripts directory first: after a fresh
    ``pip install`` a version manager's shims may not be on ``PATH`` yet.
    """
    for directory in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name) or name


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Return once ``url`` answers (any HTTP status); raise if the server died or is late."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LocalRegistryError(
                f"the server for {url} exited at start (exit code {proc.returncode})",
                url=url,
                hint="Read the server's log; if a module is missing: " + INSTALL_HINT,
            )
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise LocalRegistryError(
        f"the server at {url} did not answer within {timeout:.0f} s",
        url=url,
        hint="Read the server's log, or allow more time (startup_timeout=...).",
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def server_process(
    cmd: Sequence[str],
    *,
    ready_url: str,
    log: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server command (output to ``log``) until the block ends.

    The block starts once ``ready_url`` answers with any HTTP status; the
    process is terminated (then killed) on exit, whatever happened.
    """
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, env=None if env is None else dict(env)
        )
        try:
            _wait_until_up(ready_url, proc, timeout)
            yield proc
        finally:
            _stop(proc)


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise LocalRegistryError(
            f"the local registry needs {module}, which is not installed", hint=INSTALL_HINT
        )


def _write_htpasswd(path: Path, users: Mapping[str, str]) -> None:
    """An Apache htpasswd file of ``{SHA}`` entries (enough for a throw-away test server)."""
    _require("passlib")  # pypiserver reads the file with it
    lines = []
    for user, password in users.items():
        if ":" in user or "\n" in user + password:
            raise LocalRegistryError(
                f"user name {user!r} or its password cannot be written to an htpasswd file",
                hint="Use a user name without ':' and no line break in either.",
            )
        digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode("ascii")
        lines.append(f"{user}:{{SHA}}{digest}\n")
    path.write_text("".join(lines), encoding="utf-8")
    path.chmod(0o600)


class LocalRegistry:
    """pypiserver serving ``root/packages`` on a free 127.0.0.1 port.

    Use it as a context manager (or call ``start()`` and ``stop()``).  With
    ``users`` (name -> password) uploads need one of those accounts; without,
    anyone may upload.  ``overwrite=True`` lets a file be uploaded again.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        users: Mapping[str, str] | None = None,
        overwrite: bool = False,
        log: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self._base_dir = Path(root)
        self.users: Mapping[str, str] = dict(users or {})
        self.overwrite = overwrite
        self.log = Path(log) if log is not None else self._base_dir / "pypiserver.log"
        self.startup_timeout = startup_timeout
        self._port: int | None = None
        self._stack: ExitStack | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> LocalRegistry:
        """Start the server and wait until it answers; returns ``self``."""
        if self._stack is not None:
            raise LocalRegistryError("this LocalRegistry is already running", url=self.url)
        _require("pypiserver")
        self.root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        stack = ExitStack()
        stack.enter_context(
            server_process(
                self._command(port),
                ready_url=f"http://127.0.0.1:{port}/",
                log=self.log,
                timeout=self.startup_timeout,
            )
        )
        self._port, self._stack = port, stack
        return self

    def stop(self) -> None:
        """Stop the server (a no-op when it is not running)."""
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _command(self, port: int) -> list[str]:
        cmd = [sys.executable, "-W", "ignore::DeprecationWarning", "-m", "pypiserver", "run",
               "-p", str(port), "-i", "127.0.0.1", "--hash-algo", "sha256",
               "--disable-fallback"]  # fmt: skip
        if self.users:
            htpasswd = self._base_dir / "htpasswd"
            _write_htpasswd(htpasswd, self.users)
            cmd += ["-P", str(htpasswd), "-a", "update"]
        else:
            cmd += ["-P", ".", "-a", "."]
        if self.overwrite:
            cmd.append("--overwrite")
        return [*cmd, str(self.root)]

    # -- addresses and contents ---------------------------------------------

    @property
    def running(self) -> bool:
        return self._stack is not None

    @property
    def url(self) -> str:
        """The upload URL (``http://127.0.0.1:PORT/``)."""
        if self._port is None:
            raise LocalRegistryError(
                "the local registry has not been started", hint="Use it in a with block."
            )
        return f"http://127.0.0.1:{self._port}/"

    @property
    def index_url(self) -> str:
        """The PEP 503 simple index, for ``pip --index-url``."""
        return self.url + "simple/"

    @property
    def root(self) -> Path:
        """The directory the server stores uploaded files in."""
        return self._base_dir / "packages"

    def files(self) -> list[str]:
        """The names of the files stored so far, sorted."""
        return sorted(p.name for p in self.root.iterdir()) if self.root.is_dir() else []

    def credentials(self, user: str | None = None) -> Credentials:
        """``Credentials`` for ``user`` (default: the first user given)."""
        from ..credentials import Credentials

        if not self.users:
            raise LocalRegistryError(
                "this local registry has no users", hint="Pass users={name: password}."
            )
        name = user if user is not None else next(iter(self.users))
        return Credentials.of(name, self.users[name], source="local-registry")

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"LocalRegistry({where}, root={str(self.root)!r}, users={sorted(self.users)})"


def pip_download(
    index_url: str, requirement: str, dest: str | os.PathLike[str], *, sdist: bool = False
) -> list[Path]:
    """Fetch a release back with pip itself from ``index_url`` only (no pip config).

    Returns every file in ``dest`` afterwards, sorted.  Raises
    ``subprocess.CalledProcessError`` when pip fails.
    """
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
           "--disable-pip-version-check", "--quiet", "--isolated", "--index-url", index_url,
           "--dest", str(dest), requirement]  # fmt: skip
    cmd += ["--no-binary", ":all:", "--no-build-isolation"] if sdist else ["--only-binary", ":all:"]
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return sorted(Path(dest).iterdir())
