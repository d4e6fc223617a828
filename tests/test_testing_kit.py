"""The public testing kit (registry_upload.testing) works as documented."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from registry_upload import Credentials, FileStatus, RetryPolicy, upload
from registry_upload.testing import (
    Action,
    DiscardSink,
    FakeRegistry,
    LocalRegistry,
    LocalRegistryError,
    Reply,
    make_sdist,
    make_wheel,
    pip_download,
)

CREDS = Credentials.of("user", "password", source="test")


def test_import_pulls_in_no_test_or_network_library() -> None:
    code = (
        "import sys, registry_upload.testing; "
        "print(sorted(m for m in ('pytest', 'pypiserver', 'passlib', 'urllib3') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_is_exported() -> None:
    import registry_upload.testing as kit

    assert sorted(kit.__all__) == kit.__all__
    for name in kit.__all__:
        assert getattr(kit, name) is not None


# --- FakeRegistry ----------------------------------------------------------------


def test_fake_registry_counts_an_identical_reupload(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "twice", "1.0")
    with FakeRegistry() as reg:
        first = upload([wheel], reg.url, credentials=CREDS)
        second = upload([wheel], reg.url, credentials=CREDS)  # identical bytes: 200 again
    assert first.ok and second.ok
    assert reg.upload_count == {wheel.name: 2}
    assert [p.action for p in reg.posts_for(wheel.name)] == ["store", "store"]
    assert list(reg.stored) == [wheel.name]
    assert reg.stored[wheel.name].data == wheel.read_bytes()


def test_fake_registry_logs_scripted_replies_apart_from_uploads(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "retried", "1.0")
    policy = RetryPolicy(attempts=3, initial_backoff=0.01, jitter=0.0, sleep=lambda _s: None)
    with FakeRegistry() as reg:
        reg.script(Action("reply", Reply(503, "maintenance")))
        report = upload([wheel], reg.url, credentials=CREDS, retry=policy)
    assert report.ok
    assert [p.action for p in reg.posts_for(wheel.name)] == ["reply", "store"]
    assert reg.upload_count == {wheel.name: 1}  # the 503 was answered before processing
    assert reg.posts[0].headers["Authorization"].startswith("Basic ")


def test_fake_registry_logs_a_post_cut_mid_body(tmp_path: Path) -> None:
    # cut while sending: the unread half outgrows the loopback socket buffers
    wheel = make_wheel(tmp_path, "cut", "1.0", payload_size=24_000_000)
    policy = RetryPolicy(attempts=2, initial_backoff=0.01, jitter=0.0, sleep=lambda _s: None)
    with FakeRegistry(actions=[Action("reset_mid_body")]) as reg:
        assert upload([wheel], reg.url, credentials=CREDS, retry=policy).ok
    assert [p.action for p in reg.posts_for(wheel.name)] == ["reset_mid_body", "store"]
    assert reg.upload_count == {wheel.name: 1}


def test_fake_registry_refuses_other_bytes_under_a_stored_name(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = make_wheel(tmp_path / "a", "clash", "1.0")
    other = make_wheel(tmp_path / "b", "clash", "1.0", payload_size=10)
    with FakeRegistry() as reg:
        assert upload([one], reg.url, credentials=CREDS).ok
        clash = upload([other], reg.url, credentials=CREDS, retry=RetryPolicy(attempts=1))
    assert clash.results[0].status is FileStatus.FAILED
    assert reg.upload_count == {one.name: 2}
    assert reg.stored[one.name].data == one.read_bytes()


def test_fake_registry_serves_a_simple_index(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "Indexed.Pkg", "1.0")
    with FakeRegistry() as reg:
        assert upload([wheel], reg.url, credentials=CREDS).ok
        with urllib.request.urlopen(reg.index_url + "indexed-pkg/") as page:
            html = page.read().decode()
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f'{wheel.name}#sha256={digest}"' in html
    # One POST; the uploader's one probe of an unrecognised registry; the index read.
    assert [(r.method, r.path) for r in reg.requests] == [
        ("POST", "/"),
        ("GET", "/"),
        ("GET", "/simple/indexed-pkg/"),
    ]


def test_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        Action("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a Reply"):
        Action("reply")


def _post_raw(port: int, body: bytes, *, declared: int, boundary: str = "kit") -> None:
    """Send a multipart POST head declaring ``declared`` bytes, then ``body``, then close."""
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode() + body)


def _form(filename: str, data: bytes, boundary: str = "kit") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\ncut\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
            f'filename="{filename}"\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )


def _wait_for_posts(registry: FakeRegistry, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(registry.posts) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(registry.posts) == count


def test_fake_registry_drops_a_body_the_client_abandoned() -> None:
    form = _form("cut-1.0-py3-none-any.whl", b"x" * 50_000)
    with FakeRegistry() as registry:
        _post_raw(registry.port, form[: len(form) // 2], declared=len(form))
        _wait_for_posts(registry, 1)
        assert registry.stored == {} and registry.upload_count == {}
        post = registry.posts[0]
        assert post.filename == "cut-1.0-py3-none-any.whl" and not post.complete
        # A form cut before its closing boundary, with a Content-Length to match: dropped too.
        short = form[: len(form) // 2]
        _post_raw(registry.port, short, declared=len(short))
        _wait_for_posts(registry, 2)
        assert registry.stored == {} and not registry.posts[1].complete
        _post_raw(registry.port, form, declared=len(form))  # the whole form is stored
        _wait_for_posts(registry, 3)
        deadline = time.monotonic() + 5
        while not registry.stored and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(registry.stored) == ["cut-1.0-py3-none-any.whl"]
        assert registry.posts[2].complete


def test_fake_registry_hang_lasts_until_the_registry_stops(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "hung", "1.0")
    registry = FakeRegistry(actions=[Action("hang")]).start()
    try:
        started = time.monotonic()
        report = upload(
            [wheel], registry.url, credentials=CREDS, retry=RetryPolicy.never(), timeout=2.0
        )
        assert time.monotonic() - started >= 1.9  # no answer came: the client's timeout ended it
        assert registry.upload_count == {wheel.name: 1}  # stored, as documented
        assert [r.action for r in registry.posts] == ["hang"]
        assert report.ok  # the uploader found the file in the index
    finally:
        started = time.monotonic()
        registry.stop()
    assert time.monotonic() - started < 5.0


# --- LocalRegistry ---------------------------------------------------------------


def test_local_registry_never_redirects_off_this_machine(tmp_path: Path) -> None:
    with LocalRegistry(tmp_path / "registry") as registry:
        for path in ("/simple/not-here/", "/simple/not-here", "/packages/not-here-1.0.tar.gz"):
            port = urllib.parse.urlsplit(registry.url).port
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", path)
                answer = conn.getresponse()
                answer.read()
            finally:
                conn.close()
            location = answer.getheader("Location") or ""
            assert answer.status == 404 or location.startswith("http://127.0.0.1:"), (
                path,
                answer.status,
                location,
            )


def test_local_registry_accepts_an_upload_and_stops(tmp_path: Path) -> None:
    files = [make_wheel(tmp_path, "kit-demo", "1.0"), make_sdist(tmp_path, "kit-demo", "1.0")]
    registry = LocalRegistry(tmp_path / "registry", users={"alice": "s3cret"})
    with registry:
        assert registry.running and registry.url.startswith("http://127.0.0.1:")
        report = upload(files, registry.url, credentials=registry.credentials())
        assert report.ok, report
        assert registry.files() == sorted(p.name for p in files)
        got = pip_download(registry.index_url, "kit-demo==1.0", tmp_path / "got")
        assert [p.read_bytes() for p in got] == [files[0].read_bytes()]
        wrong = upload(
            files[:1],
            registry.url,
            credentials=Credentials.of("alice", "wrong"),
            retry=RetryPolicy(attempts=1),
        )
        assert not wrong.ok
        url = registry.url
    assert not registry.running
    with pytest.raises(OSError):  # the port is closed
        urllib.request.urlopen(url, timeout=5)


def test_local_registry_without_users_has_no_credentials(tmp_path: Path) -> None:
    with pytest.raises(LocalRegistryError, match="no users") as info:
        LocalRegistry(tmp_path).credentials()
    assert info.value.hint


def test_local_registry_names_the_extra_when_pypiserver_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def without_pypiserver(name: str, package: str | None = None) -> object:
        return None if name == "pypiserver" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_pypiserver)
    with pytest.raises(LocalRegistryError) as info:
        LocalRegistry(tmp_path).start()
    assert "pypiserver" in info.value.message
    assert "pip install 'registry-upload[testing]'" in (info.value.hint or "")
    assert not (tmp_path / "packages").exists()  # refused before anything was made


# --- DiscardSink -----------------------------------------------------------------


def test_discard_sink_answers_uploads(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "sunk", "1.0", payload_size=200_000)
    with DiscardSink() as sink:
        report = upload([wheel], sink.url, credentials=CREDS)
    assert report.ok
    assert sink.post_count == 1


# --- the pytest plugin -----------------------------------------------------------


def test_pytest_plugin_fixtures_work_in_a_downstream_project(tmp_path: Path) -> None:
    project = tmp_path / "downstream"
    project.mkdir()
    (project / "conftest.py").write_text(
        'pytest_plugins = ["registry_upload.testing.pytest_plugin"]\n'
    )
    (project / "test_release.py").write_text(
        textwrap.dedent(
            """
            from registry_upload import upload
            from registry_upload.testing import make_wheel
            from registry_upload.testing.pytest_plugin import LOCAL_USER

            def test_local(local_registry, tmp_path):
                wheel = make_wheel(tmp_path, "downstream", "1.0")
                report = upload([wheel], local_registry.url,
                                credentials=local_registry.credentials())
                assert report.ok
                assert local_registry.files() == [wheel.name]
                assert local_registry.credentials().username == LOCAL_USER

            def test_fake(fake_registry, tmp_path):
                wheel = make_wheel(tmp_path, "downstream", "1.0")
                assert upload([wheel], fake_registry.url,
                              credentials=fake_registry_credentials()).ok
                assert fake_registry.upload_count == {wheel.name: 1}

            def fake_registry_credentials():
                from registry_upload import Credentials
                return Credentials.of("u", "p")
            """
        )
    )
    # Deprecation warnings are errors, as in a strict downstream CI (passlib imports crypt).
    out = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-m", "pytest", "-q",
         "-p", "no:cacheprovider", "-W", "error::DeprecationWarning", str(project)],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"},
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "2 passed" in out.stdout
