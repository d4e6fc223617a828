"""Small units: Retry-After parsing, backoff bounds, proxy rules, registry detection by page."""

from __future__ import annotations

import email.utils

import pytest

from registry_upload import RetryPolicy
from registry_upload.repository import Registry, detect_registry, is_loopback_host
from registry_upload.retry import parse_retry_after
from registry_upload.transport import proxy_from_environment


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30.0, abs=1.0)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_backoff=1.0, max_backoff=5.0, jitter=0.5)
    waits = [policy.backoff(n) for n in range(1, 7)]
    assert 1.0 <= waits[0] <= 1.5
    assert 2.0 <= waits[1] <= 2.5
    assert all(5.0 <= w <= 5.5 for w in waits[3:])


def test_proxy_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ):
        monkeypatch.delenv(var, raising=False)
    assert proxy_from_environment("https", "pypi.org") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert proxy_from_environment("https", "pypi.org") == "http://proxy.corp:3128"
    assert proxy_from_environment("http", "pypi.org") is None
    monkeypatch.setenv("https_proxy", "http://lower:1")
    assert proxy_from_environment("https", "pypi.org") == "http://lower:1"  # lower case wins
    monkeypatch.setenv("NO_PROXY", ".corp, pypi.org:443,localhost")
    assert proxy_from_environment("https", "files.corp") is None
    assert proxy_from_environment("https", "pypi.org", 443) is None
    assert proxy_from_environment("https", "pypi.org", 8443) == "http://lower:1"
    assert proxy_from_environment("https", "notpypi.org") == "http://lower:1"
    monkeypatch.setenv("NO_PROXY", "*")
    assert proxy_from_environment("https", "anything") is None


def test_registry_detected_from_its_page() -> None:
    url = "http://127.0.0.1:8080/"
    assert detect_registry(url, {}, "<h1>Welcome to pypiserver!</h1>") == Registry.PYPISERVER
    assert detect_registry(url, {"Server": "Nexus/3.61"}) == Registry.NEXUS
    assert detect_registry(url, {}, "<html>hello</html>") == Registry.UNKNOWN


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("example.org", False),
        (None, False),
    ],
)
def test_loopback_hosts(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
