"""Credentials belong to a destination: each registry receives only its own.

Every case runs real uploads to loopback FakeRegistry servers and reads the
``Authorization`` header each server received.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from registry_upload import Credentials
from registry_upload.errors import ConfigurationError, NoCredentialsError
from registry_upload.publish import Publisher, publish
from registry_upload.testing import FakeRegistry, make_sdist, make_wheel

from .conftest import assert_no_canary
from .support import cli, passwords_seen

INTERNAL = "CANARY-internal-5b1e0c-do-not-leak"
PUBLIC = "CANARY-public-9d2f7a-do-not-leak"
READER = "CANARY-reader-3c8e11-do-not-leak"


@pytest.fixture
def dists(tmp_path: Path) -> list[Path]:
    return [make_wheel(tmp_path, "perdest", "1.0"), make_sdist(tmp_path, "perdest", "1.0")]


def pypirc(tmp_path: Path, internal: FakeRegistry, public: FakeRegistry) -> Path:
    path = tmp_path / "pypirc"
    path.write_text(
        "[distutils]\nindex-servers = internal public\n\n"
        f"[internal]\nrepository = {internal.url}\nusername = alice\npassword = {INTERNAL}\n\n"
        f"[public]\nrepository = {public.url}\nusername = __token__\npassword = {PUBLIC}\n"
    )
    return path


def test_each_registry_receives_only_its_own_pypirc_secret(
    tmp_path: Path, dists: list[Path]
) -> None:
    with FakeRegistry() as internal, FakeRegistry() as public:
        config = pypirc(tmp_path, internal, public)
        report = publish(dists, ["internal", "public"], pypirc=config)
        assert report.ok, report
        assert passwords_seen(internal) == {INTERNAL}
        assert passwords_seen(public) == {PUBLIC}
        assert len(internal.stored) == len(public.stored) == 2
        sources = [d.report.credential_source for d in report]
        assert sources == ["pypirc:internal", "pypirc:public"]


@pytest.mark.parametrize(
    "how",
    ["password", "env:TWINE_PASSWORD", "env:UV_PUBLISH_TOKEN", "env:REGISTRY_UPLOAD_PASSWORD"],
)
def test_a_run_wide_secret_never_goes_to_several_registries(
    tmp_path: Path, dists: list[Path], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    with FakeRegistry() as internal, FakeRegistry() as public:
        config = pypirc(tmp_path, internal, public)
        kwargs: dict[str, str] = {}
        if how == "password":
            kwargs["password"] = PUBLIC
        else:
            monkeypatch.setenv(how[4:], PUBLIC)
        with pytest.raises(NoCredentialsError) as caught:
            publish(dists, ["internal", "public"], pypirc=config, **kwargs)  # type: ignore[arg-type]
        message = caught.value.message
        assert "nothing was sent" in message
        # per destination, where its credentials would come from without the shared one
        assert "internal: pypirc:internal" in message and "public: pypirc:public" in message
        assert internal.requests == [] and public.requests == []
        assert_no_canary(str(caught.value), repr(caught.value), canaries=(PUBLIC, INTERNAL))


def test_one_credentials_object_for_several_registries_is_refused(dists: list[Path]) -> None:
    with FakeRegistry() as a, FakeRegistry() as b:
        with pytest.raises(ConfigurationError, match="one set of credentials"):
            Publisher([a.url, b.url], credentials=Credentials.of("u", PUBLIC))
        assert a.requests == [] and b.requests == []


def test_a_credentials_mapping_matches_destinations_however_written(dists: list[Path]) -> None:
    with FakeRegistry() as a, FakeRegistry() as b:
        mapping = {
            a.url.rstrip("/"): Credentials.of("u", INTERNAL),  # no trailing slash
            b.url: Credentials.of("u", PUBLIC),
        }
        assert publish(dists, [a.url, b.url], credentials=mapping).ok
        assert passwords_seen(a) == {INTERNAL} and passwords_seen(b) == {PUBLIC}
        with pytest.raises(ConfigurationError, match="not a registry destination"):
            Publisher([a.url], credentials={"https://elsewhere.invalid/": Credentials.of("u", "x")})


def test_index_credentials_serve_index_reads_only_never_the_upload(dists: list[Path]) -> None:
    """The index shares the upload's origin (the self-hosted case): the POST still
    carries the upload credentials, the index reads the reader's."""
    with FakeRegistry() as registry:
        index = registry.index_url.replace("http://", f"http://reader:{READER}@")
        report = publish(
            dists,
            [registry.url],
            credentials={registry.url: Credentials.of("alice", INTERNAL)},
            index_urls={registry.url: index},
            skip_existing=True,
            verify=True,
            verify_timeout=5,
        )
        assert report.ok, report
        for request in registry.requests:
            header = request.headers.get("Authorization", "")
            secret = base64.b64decode(header[6:]).decode().partition(":")[2] if header else ""
            index_read = request.method == "GET" and request.path.startswith("/simple/")
            expected = READER if index_read else INTERNAL  # the upload, and its probe
            assert secret == expected, (request.method, request.path)
        assert any(r.path.startswith("/simple/") for r in registry.requests)
        assert sum(r.method == "POST" for r in registry.requests) == 2


def test_cli_p_with_two_registries_stops_before_anything_is_sent(
    tmp_path: Path, dists: list[Path]
) -> None:
    """The founding leak: -r internal --repository-url <public> -p PUBLIC sent the public
    token to both registries."""
    with FakeRegistry() as internal, FakeRegistry() as public:
        config = pypirc(tmp_path, internal, public)
        out = cli("upload", *map(str, dists), "--config-file", str(config), "-r", "internal",
                   "--repository-url", public.url, "-p", PUBLIC)  # fmt: skip
        assert out.returncode == 2, out.stdout + out.stderr
        assert "nothing was sent" in out.stderr and "internal: pypirc:internal" in out.stderr
        assert internal.requests == [] and public.requests == []
        assert_no_canary(out.stdout, out.stderr, canaries=(PUBLIC, INTERNAL))
        # the README's "-r testpypi -r pypi" with TWINE_PASSWORD: refused the same way
        env = {"TWINE_PASSWORD": PUBLIC}
        out = cli("upload", *map(str, dists), "--config-file", str(config), "-r", "internal",
                   "-r", "public", env=env)  # fmt: skip
        assert out.returncode == 2 and "env:TWINE_PASSWORD" in out.stderr
        assert internal.requests == [] and public.requests == []
        # each with its own section: each gets its own secret, one printer for both
        out = cli("upload", *map(str, dists), "--config-file", str(config), "-r", "internal",
                   "-r", "public", "-v")  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        assert passwords_seen(internal) == {INTERNAL} and passwords_seen(public) == {PUBLIC}
        assert "credentials: pypirc:internal" in out.stdout
        assert "2 of 2 destination(s) ok" in out.stdout
        assert_no_canary(out.stdout, out.stderr, canaries=(PUBLIC, INTERNAL))
