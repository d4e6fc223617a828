"""The README's first command: a real upload round trip on this machine (private).

Built on the public testing kit (``registry_upload.testing``): builds a tiny
wheel and sdist, starts a ``LocalRegistry`` (pypiserver, with a password) on a
free loopback port, uploads through the library, shows how a duplicate and a
skip-existing upload come out, downloads the files back with pip and
compares their sha256.  Lines go to ``say``; the library itself never prints.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from .checks import check
from .credentials import Credentials
from .retry import RetryPolicy
from .testing import LocalRegistry, LocalRegistryError, make_sdist, make_wheel, pip_download
from .uploader import upload

__all__ = ["run_demo"]

_USER, _PASSWORD = "demo", "demo-password"


def run_demo(say: Callable[[str], None]) -> bool:
    """Run the round trip; True when every step came out as expected."""
    with tempfile.TemporaryDirectory(prefix="registry-upload-demo-") as tmp:
        root = Path(tmp)
        dist = root / "dist"
        dist.mkdir()
        extra = "Summary: registry_upload demo\nDescription-Content-Type: text/markdown"
        files = [
            make_wheel(
                dist,
                "registry-upload-demo",
                "0.1.0",
                metadata_extra=extra,
                description="# Demo\n\nUploaded by `registry-upload demo`.\n",
            ),
            make_sdist(
                dist,
                "registry-upload-demo",
                "0.1.0",
                metadata_extra=extra,
                description="# Demo\n\nUploaded by `registry-upload demo`.\n",
            ),
        ]
        say(f"built {', '.join(p.name for p in files)}")
        report = check(files)
        say(f"check: {'passed' if report.ok else 'FAILED'} ({len(report.findings)} finding(s))")
        try:
            with LocalRegistry(root / "server", users={_USER: _PASSWORD}) as server:
                say(f"started pypiserver at {server.url} (user {_USER!r})")
                return _round_trip(server.url, files, root, report.ok, say)
        except LocalRegistryError as exc:
            say(f"error: {exc}")
            if exc.hint:
                say(f"hint: {exc.hint}")
            return False


def _round_trip(
    url: str, files: list[Path], root: Path, checked: bool, say: Callable[[str], None]
) -> bool:
    try:
        creds = Credentials.of(_USER, _PASSWORD, source="demo")
        first = upload(files, url, credentials=creds)
        for r in first:
            say(f"upload: {r.status.value} {r.filename} sha256={r.sha256}")
        second = upload(files, url, credentials=creds, retry=RetryPolicy.never())
        for r in second:
            say(f"upload again: {r.status.value} {r.filename}")
            if r.error is not None:
                say(f"  registry said: {getattr(r.error, 'server_message', '')}")
                say(f"  hint: {r.error.hint}")
        third = upload(files, url, credentials=creds, skip_existing=True)
        for r in third:
            say(f"skip-existing: {r.status.value} {r.filename} ({r.reason})")
        fetched = root / "fetched"
        for sdist in (False, True):
            pip_download(url + "simple/", "registry-upload-demo==0.1.0", fetched, sdist=sdist)
        same = all(
            hashlib.sha256((fetched / p.name).read_bytes()).hexdigest()
            == hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files
        )
        say(
            f"pip download: {len(list(fetched.iterdir()))} file(s), sha256 "
            f"{'identical' if same else 'DIFFERENT'}"
        )
        say("report of the first upload (JSON):")
        say(json.dumps(first.to_dict(), indent=2))
        ok = (
            first.ok
            and second.failed == len(files)
            and third.skipped == len(files)
            and same
            and checked
        )
        say("demo: all steps as expected" if ok else "demo: something unexpected happened")
        return ok
    except subprocess.CalledProcessError as exc:
        say(f"error: pip download failed ({exc.returncode})")
        return False
