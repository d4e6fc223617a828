"""The origin rule: credentials go only to the origin they were resolved for, never in clear to a remote host; credentials written into URLs are used and never shown."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from registry_upload import (
    ConfigurationError,
    InsecureTransportError,
    Uploader,
    upload,
)
from registry_upload.repository import Repository
from registry_upload.testing import FakeRegistry

from .conftest import CANARY, assert_no_canary
from .support import BASIC, CREDS, auth_headers, cli


def test_index_on_another_origin_never_gets_the_credentials(wheel: Path) -> None:
    with FakeRegistry() as registry, FakeRegistry() as other_index:
        report = upload(
            [wheel],
            registry.url,
            credentials=CREDS,
            skip_existing=True,
            index_url=other_index.index_url,  # same host, another port: another origin
        )
    assert report.ok
    assert [r.method for r in other_index.requests] == ["GET"]  # the index was read ...
    assert auth_headers(other_index, "GET") == [None]  # ... without credentials
    assert auth_headers(registry, "POST") == [f"Basic {BASIC}"]


def test_credentials_in_the_index_url_serve_that_index_alone(wheel: Path) -> None:
    """``--index-url https://user:token@index/simple/``: the index gets those, the
    registry its own; the token is shown nowhere, -v included."""
    index_secret = CANARY[::-1]
    with FakeRegistry() as registry, FakeRegistry() as index:
        index_url = index.index_url.replace("://", f"://reader:{index_secret}@")
        out = cli(
            "upload", "-v", "--skip-existing", "--repository-url", registry.url,
            "-u", "alice", "-p", CANARY, "--index-url", index_url, str(wheel),
        )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    reader = base64.b64encode(f"reader:{index_secret}".encode()).decode()
    assert auth_headers(index, "GET") == [f"Basic {reader}"]
    assert auth_headers(registry, "POST") == [f"Basic {BASIC}"]
    assert index_secret not in out.stdout + out.stderr
    assert_no_canary(out.stdout, out.stderr)


def test_credentials_in_a_plain_http_index_url_are_refused_first(wheel: Path) -> None:
    repo = Repository(
        "https://upload.example.org/legacy/",
        index_url=f"http://reader:{CANARY}@index.example.org/simple/",
    )
    assert repo.index_url == "http://index.example.org/simple/"
    assert CANARY not in repr(repo)
    with pytest.raises(InsecureTransportError) as info:
        Uploader(repo.url, index_url=f"http://reader:{CANARY}@index.example.org/simple/")
    assert "index URL" in info.value.message and info.value.hint
    assert_no_canary(str(info.value), repr(info.value))


def test_index_on_the_same_origin_gets_the_credentials(wheel: Path) -> None:
    with FakeRegistry() as registry:
        upload([wheel], registry.url, credentials=CREDS, skip_existing=True)
    gets = auth_headers(registry, "GET")
    assert gets and all(value == f"Basic {BASIC}" for value in gets)


def test_origin_rule_compares_scheme_host_and_port() -> None:
    from registry_upload.repository import origin_of

    assert origin_of("https://h.example/legacy/") == ("https", "h.example", 443)
    assert origin_of("https://H.example:443/x") == origin_of("https://h.example/y")
    assert origin_of("http://h.example/") != origin_of("https://h.example/")
    assert origin_of("https://h.example:8443/") != origin_of("https://h.example/")


def test_plain_http_to_a_remote_host_is_refused_before_any_connection(wheel: Path) -> None:
    from registry_upload import InsecureTransportError

    # 192.0.2.1 is TEST-NET-1: nothing is there, and the refusal comes before any connect.
    with pytest.raises(InsecureTransportError, match="plain http"):
        upload([wheel], "http://192.0.2.1/legacy/", credentials=CREDS)


def test_credentials_in_the_url_are_used_and_never_shown(wheel: Path) -> None:
    with FakeRegistry() as registry:
        url = registry.url.replace("://", f"://alice:{CANARY}@")
        report = upload([wheel], url)
    assert report.ok and report.credential_source == "url"
    assert auth_headers(registry, "POST") == [f"Basic {BASIC}"]
    assert_no_canary(report.repository_url, json.dumps(report.to_dict()), repr(report))


def test_url_credentials_with_a_bad_url_are_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Repository(f"https://alice:{CANARY}@[::1/legacy/")
    assert_no_canary(raised.value, raised.value.to_dict())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/",  # port out of range
        "https://[::1/legacy/",  # malformed IPv6 literal
        "ftp://example.org/",
        "upload.pypi.org/legacy/",
    ],
)
def test_bad_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Repository(url)
    assert raised.value.hint


def test_surrounding_white_space_is_stripped(wheel: Path) -> None:
    with FakeRegistry() as registry:
        report = upload([wheel], f"  {registry.url} \n", credentials=CREDS)
    assert report.ok
    assert [r.path for r in registry.posts] == ["/"]  # not /%20


def test_url_credentials_serve_publish_and_auth_too(wheel: Path) -> None:
    with FakeRegistry() as registry:
        url = registry.url.replace("://", f"://alice:{CANARY}@")
        published = cli(
            "upload", "--repository-url", url, "--verify", "--verify-timeout", "5", str(wheel)
        )
        auth = cli("auth", url, "--json")
    assert published.returncode == 0, published.stdout + published.stderr
    assert auth_headers(registry, "POST") == [f"Basic {BASIC}"]
    assert auth.returncode == 0, auth.stderr
    assert json.loads(auth.stdout)["source"] == "url"
    assert_no_canary(published.stdout, published.stderr, auth.stdout, auth.stderr)
