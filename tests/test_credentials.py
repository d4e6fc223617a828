"""The credential chain: each provider alone, precedence, OIDC and GitLab flows, no leaks."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from registry_upload import (
    ConfigurationError,
    CredentialKind,
    Credentials,
    NoCredentialsError,
    Secret,
    Target,
    TrustedPublishingError,
    Uploader,
)
from registry_upload.credentials import (
    CredentialChain,
    CredentialProvider,
    EnvProvider,
    ExplicitProvider,
    GitLabJobTokenProvider,
    KeyringProvider,
    NetrcProvider,
    PromptProvider,
    PypircProvider,
    Skip,
    TrustedPublishingProvider,
    load_pypirc,
)
from registry_upload.repository import PYPI_UPLOAD_URL, TESTPYPI_UPLOAD_URL

from .conftest import CANARY, assert_no_canary

GITLAB_URL = "https://gitlab.example.com/api/v4/projects/42/packages/pypi"


def _ask(provider: Any, url: str = "https://upload.example.org/legacy/", **kw: Any) -> Credentials:
    found = provider.provide(Target(url=url, **kw))
    assert found is not None
    return found


def _skip_reason(provider: Any, url: str = "https://upload.example.org/", **kw: Any) -> str:
    with pytest.raises(Skip) as info:
        provider.provide(Target(url=url, **kw))
    return info.value.reason


# --- Secret and Credentials --------------------------------------------------


def test_secret_masks_itself_everywhere() -> None:
    secret = Secret(CANARY)
    creds = Credentials(username="u", password=secret, source="explicit")
    assert secret.reveal() == CANARY
    assert_no_canary(secret, repr(secret), f"{secret}", f"{secret!r}", creds, repr(creds))
    assert_no_canary(creds.to_dict(), json.dumps(creds.to_dict()))
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    with pytest.raises(TypeError):
        __import__("pickle").dumps(secret)
    assert base64.b64decode(creds.authorization_header().split()[1]).decode() == f"u:{CANARY}"


def test_token_username_sets_the_kind() -> None:
    assert Credentials.of("__token__", "pypi-x").kind is CredentialKind.API_TOKEN


# --- providers alone ----------------------------------------------------------


def test_explicit_provider() -> None:
    creds = _ask(ExplicitProvider("alice", CANARY))
    assert (creds.username, creds.password.reveal(), creds.source) == ("alice", CANARY, "explicit")
    assert _ask(ExplicitProvider(None, "tok")).username == "__token__"
    assert "no username" in _skip_reason(ExplicitProvider())
    assert_no_canary(repr(ExplicitProvider("alice", CANARY)))


def test_env_provider_precedence_and_token_default() -> None:
    env = {
        "REGISTRY_UPLOAD_PASSWORD": "ours",
        "TWINE_USERNAME": "twine-user",
        "TWINE_PASSWORD": "theirs",
    }
    creds = _ask(EnvProvider(env))
    assert (creds.username, creds.password.reveal()) == ("__token__", "ours")
    assert creds.source == "env:REGISTRY_UPLOAD_PASSWORD"
    creds = _ask(EnvProvider({"TWINE_USERNAME": "t", "TWINE_PASSWORD": "p"}))
    assert (creds.username, creds.source) == ("t", "env:TWINE_PASSWORD")
    assert "not set" in _skip_reason(EnvProvider({}))


PYPIRC = """\
[distutils]
index-servers =
    pypi
    private
    nopass

[pypi]
username = __token__
password = pypi-token

[private]
repository = https://registry.example.org/upload/
username = bob
password = {canary}
ca_cert = /etc/private-ca.pem

[nopass]
repository = https://nopass.example.org/
username = carol
"""


@pytest.fixture
def pypirc(tmp_path: Path) -> Path:
    path = tmp_path / ".pypirc"
    path.write_text(PYPIRC.format(canary=CANARY))
    return path


def test_pypirc_reads_like_twine(pypirc: Path) -> None:
    sections = load_pypirc(pypirc)
    assert set(sections) == {"pypi", "private", "nopass"}  # testpypi not in index-servers
    assert sections["pypi"].repository == PYPI_UPLOAD_URL
    assert sections["private"].ca_cert == "/etc/private-ca.pem"
    assert_no_canary(sections, repr(sections["private"]))


def test_pypirc_builtin_testpypi_and_distutils_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rc"
    path.write_text("[distutils]\nusername = dflt\npassword = dpass\n")
    sections = load_pypirc(path)
    assert sections["testpypi"].repository == TESTPYPI_UPLOAD_URL
    assert sections["testpypi"].username == "dflt"
    creds = _ask(PypircProvider(path), url=TESTPYPI_UPLOAD_URL)
    assert (creds.username, creds.source) == ("dflt", "pypirc:testpypi")


def test_pypirc_lookup_by_name_and_by_url(pypirc: Path) -> None:
    by_name = _ask(PypircProvider(pypirc), url="https://anything/", name="private")
    assert (by_name.username, by_name.password.reveal()) == ("bob", CANARY)
    by_url = _ask(PypircProvider(pypirc), url="https://registry.example.org/upload")
    assert by_url.source == "pypirc:private"
    partial = _ask(PypircProvider(pypirc), url="https://nopass.example.org/")
    assert (partial.username, partial.password.reveal()) == ("carol", "")
    assert "no .pypirc section" in _skip_reason(PypircProvider(pypirc), url="https://other/")


def test_pypirc_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such .pypirc"):
        load_pypirc(tmp_path / "absent")
    bad = tmp_path / "bad"
    bad.write_text("not an ini file\n[[[")
    with pytest.raises(ConfigurationError, match="cannot be parsed") as info:
        load_pypirc(bad)
    assert info.value.hint


def test_netrc_provider(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text(f"machine registry.example.org login nina password {CANARY}\n")
    path.chmod(0o600)
    creds = _ask(NetrcProvider(path), url="https://registry.example.org/upload/")
    assert (creds.username, creds.password.reveal(), creds.source) == (
        "nina",
        CANARY,
        "netrc:registry.example.org",
    )
    assert "no machine" in _skip_reason(NetrcProvider(path), url="https://elsewhere.org/")
    assert "no netrc file" in _skip_reason(NetrcProvider(tmp_path / "none"))


class _MemoryKeyring:
    priority = 1

    def __init__(self, store: dict[tuple[str, str], str]) -> None:
        self.store = store

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def get_credential(self, service: str, username: str | None) -> Any:
        from keyring.credentials import SimpleCredential

        for (svc, user), pw in self.store.items():
            if svc == service and (username is None or user == username):
                return SimpleCredential(user, pw)
        return None


def test_keyring_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring = pytest.importorskip("keyring")
    url = "https://registry.example.org/upload/"
    backend = _MemoryKeyring({(url, "kim"): CANARY})
    monkeypatch.setattr(keyring, "get_credential", backend.get_credential)
    monkeypatch.setattr(keyring, "get_password", backend.get_password)
    creds = _ask(KeyringProvider(), url=url)
    assert (creds.username, creds.password.reveal()) == ("kim", CANARY)
    assert _ask(KeyringProvider(), url=url, username="kim").source == f"keyring:{url}"
    assert "no entry" in _skip_reason(KeyringProvider(), url="https://other/")

    def broken(*a: Any) -> None:
        raise RuntimeError(f"backend exploded reading {CANARY}")

    monkeypatch.setattr(keyring, "get_credential", broken)
    reason = _skip_reason(KeyringProvider(), url=url)
    assert "RuntimeError" in reason and "exploded" not in reason  # never the backend's words


def test_keyring_absent_is_not_mine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    assert "not installed" in _skip_reason(KeyringProvider())


def test_gitlab_job_token_provider() -> None:
    env = {
        "GITLAB_CI": "true",
        "CI_JOB_TOKEN": CANARY,
        "CI_SERVER_URL": "https://gitlab.example.com",
    }
    creds = _ask(GitLabJobTokenProvider(env), url=GITLAB_URL)
    assert creds.username == "gitlab-ci-token"
    assert creds.kind is CredentialKind.GITLAB_JOB_TOKEN
    assert creds.source == "gitlab-ci-job-token"
    assert "not running in GitLab CI" in _skip_reason(GitLabJobTokenProvider({}), url=GITLAB_URL)
    other = GITLAB_URL.replace("gitlab.example.com", "gitlab.com")
    assert "not on this job's GitLab" in _skip_reason(GitLabJobTokenProvider(env), url=other)
    group = "https://gitlab.example.com/api/v4/groups/7/-/packages/pypi"
    assert "not a project package registry" in _skip_reason(GitLabJobTokenProvider(env), url=group)


def test_prompt_provider_only_when_allowed_and_on_a_tty() -> None:
    assert "prompting is off" in _skip_reason(PromptProvider())
    assert "not a terminal" in _skip_reason(PromptProvider(allowed=True))


# --- trusted publishing against a loopback index -------------------------------


def _jwt(claims: dict[str, str]) -> str:
    def enc(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'RS256'})}.{enc(claims)}.signature"


class _OIDC:
    def __init__(self) -> None:
        self.mint_status = 200
        self.audience_status = 200
        self.minted = 0
        self.seen_tokens: list[str] = []
        self.jwt = _jwt(
            {
                "sub": "repo:acme/pkg:ref:refs/heads/main",
                "repository": "acme/pkg",
                "ref": "refs/heads/main",
                "secret_claim": "hidden",
            }
        )


@pytest.fixture
def oidc() -> Iterator[tuple[_OIDC, str]]:
    state = _OIDC()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def _json(self, status: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/_/oidc/audience":
                self._json(state.audience_status, {"audience": "testpypi"})
            elif self.path.startswith("/github-token?"):
                assert self.headers["Authorization"] == "bearer gh-request-token"
                assert "audience=testpypi" in self.path
                self._json(200, {"value": state.jwt})
            else:
                self._json(404, {})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.seen_tokens.append(body["token"])
            if state.mint_status == 200:
                state.minted += 1
                self._json(
                    200,
                    {
                        "success": True,
                        "token": f"{CANARY}-{state.minted}",
                        "expires": int(time.time()) + 900,
                    },
                )
            else:
                self._json(
                    422,
                    {
                        "message": "Token request failed",
                        "errors": [
                            {
                                "code": "invalid-publisher",
                                "description": "valid token, but no corresponding publisher",
                            }
                        ],
                    },
                )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _github_env(base: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{base}/github-token?x=1",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token",
    }


def test_trusted_publishing_github_flow(oidc: tuple[_OIDC, str]) -> None:
    state, base = oidc
    provider = TrustedPublishingProvider(env=_github_env(base), index_url=base)
    creds = _ask(provider, url=f"{base}/legacy/")
    assert creds.username == "__token__"
    assert creds.password.reveal() == f"{CANARY}-1"
    assert creds.kind is CredentialKind.TRUSTED_PUBLISHING
    assert creds.source == "trusted-publishing:github"
    assert creds.expires_at and creds.expires_at > time.time() + 800
    assert state.seen_tokens == [state.jwt]


def test_trusted_publishing_gitlab_flow(oidc: tuple[_OIDC, str]) -> None:
    state, base = oidc
    env = {"GITLAB_CI": "true", "TESTPYPI_ID_TOKEN": state.jwt}
    creds = _ask(TrustedPublishingProvider(env=env, index_url=base), url=f"{base}/legacy/")
    assert creds.source == "trusted-publishing:gitlab"
    missing = TrustedPublishingProvider(env={"GITLAB_CI": "true"}, index_url=base)
    with pytest.raises(TrustedPublishingError) as info:
        missing.provide(Target(url=f"{base}/legacy/"))
    assert "TESTPYPI_ID_TOKEN" in str(info.value) and "id_tokens" in (info.value.hint or "")


def test_trusted_publishing_422_shows_claims_and_fix(oidc: tuple[_OIDC, str]) -> None:
    state, base = oidc
    state.mint_status = 422
    provider = TrustedPublishingProvider(env=_github_env(base), index_url=base)
    with pytest.raises(TrustedPublishingError) as info:
        provider.provide(Target(url=f"{base}/legacy/"))
    error = info.value
    assert error.code == "invalid-publisher"
    assert error.claims == {
        "sub": "repo:acme/pkg:ref:refs/heads/main",
        "repository": "acme/pkg",
        "ref": "refs/heads/main",
    }
    assert "acme/pkg" in str(error) and "secret_claim" not in str(error)
    assert "workflow" in (error.hint or "")


def test_trusted_publishing_needs_id_token_permission(oidc: tuple[_OIDC, str]) -> None:
    _, base = oidc
    provider = TrustedPublishingProvider(env={"GITHUB_ACTIONS": "true"}, index_url=base)
    with pytest.raises(TrustedPublishingError) as info:
        provider.provide(Target(url=f"{base}/legacy/"))
    assert info.value.code == "missing-id-token-permission"
    assert "id-token: write" in (info.value.hint or "")


def test_trusted_publishing_disabled_index(oidc: tuple[_OIDC, str]) -> None:
    state, base = oidc
    state.audience_status = 403
    provider = TrustedPublishingProvider(env=_github_env(base), index_url=base)
    with pytest.raises(TrustedPublishingError, match="disabled"):
        provider.provide(Target(url=f"{base}/legacy/"))


def test_trusted_publishing_only_for_pypi_hosts() -> None:
    provider = TrustedPublishingProvider(env={"GITHUB_ACTIONS": "true"})
    assert "only for PyPI" in _skip_reason(provider, url="https://registry.example.org/")
    assert "not in GitHub Actions" in _skip_reason(TrustedPublishingProvider(env={}))


def test_uploader_remints_before_expiry(oidc: tuple[_OIDC, str]) -> None:
    state, base = oidc
    provider = TrustedPublishingProvider(env=_github_env(base), index_url=base)
    chain = CredentialChain([provider])
    uploader = Uploader(f"{base}/legacy/", credentials=chain)
    first = uploader.credentials()
    assert first is not None and state.minted == 1
    assert uploader.credentials() is first  # still fresh: no new exchange
    uploader.session._credentials = Credentials(  # pretend the token is about to expire
        username=first.username,
        password=first.password,
        source=first.source,
        kind=first.kind,
        expires_at=time.time() + 30,
    )
    second = uploader.credentials()
    assert state.minted == 2
    assert second is not None and second.password.reveal() == f"{CANARY}-2"
    uploader.close()


# --- the chain ------------------------------------------------------------------


def test_deferred_providers_are_the_real_ones_when_asked(tmp_path: Path) -> None:
    """The default chain imports most providers on first use; each deferred one
    carries its provider's own name and answers as that provider."""
    empty = tmp_path / ".pypirc"
    empty.write_text("", encoding="utf-8")
    chain = CredentialChain.default(env={}, pypirc=empty)
    for entry in chain.providers:
        real = getattr(entry, "provider", entry)
        assert real.name == entry.name
        assert isinstance(real, CredentialProvider)
    for machine_state in ("netrc", "keyring"):  # this machine's own files and keyring
        chain.remove(machine_state)
    target = Target(url="https://upload.example.org/legacy/")
    resolution = chain.resolve(target)
    assert resolution.credentials is None
    assert [o.provider for o in resolution.trail] == [p.name for p in chain.providers]


def test_a_plain_upload_imports_no_cloud_oidc_or_helper_code() -> None:
    code = (
        "import sys, registry_upload.cli, registry_upload.uploader\n"
        "from registry_upload.credentials import CredentialChain\n"
        "chain = CredentialChain.default(username='u', password='p' * 16)\n"
        "chain.resolve('https://upload.example.org/legacy/').require()\n"
        "print(sorted(m for m in sys.modules if m.startswith('registry_upload.credentials.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.strip()
    for module in ("_aws", "_azure", "_google", "_gitlab", "_helper", "_keyring", "_oidc"):
        assert f"credentials.{module}'" not in loaded


def test_default_order_is_documented() -> None:
    names = [p.name for p in CredentialChain.default().providers]
    assert names == [
        "explicit",
        "env",
        "pypirc",
        "netrc",
        "keyring",
        "credential-helper",
        "aws-codeartifact",
        "google-artifact-registry",
        "azure-artifacts",
        "gitlab-ci-job-token",
        "trusted-publishing",
        "prompt",
    ]


def test_precedence_explicit_env_pypirc(pypirc: Path) -> None:
    target = Target(url="https://registry.example.org/upload/")
    env = {"TWINE_PASSWORD": "from-env"}
    chain = CredentialChain.default(username="me", password="explicit", env=env, pypirc=pypirc)
    assert chain.resolve(target).source == "explicit"
    chain = CredentialChain.default(env=env, pypirc=pypirc)
    assert chain.resolve(target).source == "env:TWINE_PASSWORD"
    chain = CredentialChain.default(env={}, pypirc=pypirc)
    resolution = chain.resolve(target)
    assert resolution.source == "pypirc:private"
    assert [o.provider for o in resolution.trail] == ["explicit", "env", "pypirc"]
    assert not resolution.trail[0].answered and resolution.trail[2].answered


def test_username_from_pypirc_password_from_a_later_provider(pypirc: Path) -> None:
    class Vault:
        name = "vault"

        def provide(self, target: Target) -> Credentials | None:
            assert target.username == "carol"
            return Credentials.of(target.username, "vault-pw", source="vault")

    chain = CredentialChain([PypircProvider(pypirc), Vault()])
    resolution = chain.resolve("https://nopass.example.org/")
    creds = resolution.require()
    assert (creds.username, creds.password.reveal(), creds.source) == ("carol", "vault-pw", "vault")
    assert resolution.trail[0].partial


def test_chain_reorder_extend_and_nothing_found() -> None:
    chain = CredentialChain.default(env={})
    chain.remove("keyring")
    chain.remove("netrc")

    class Custom:
        name = "custom"

        def provide(self, target: Target) -> Credentials | None:
            return None

    chain.insert_before("env", Custom())
    assert [p.name for p in chain.providers][:3] == ["explicit", "custom", "env"]
    resolution = chain.resolve(Target(url="https://nowhere.example.org/", name=None))
    assert resolution.credentials is None
    with pytest.raises(NoCredentialsError) as info:
        resolution.require()
    assert "custom: skipped (no answer)" in str(info.value)
    assert "TWINE_PASSWORD" in str(info.value)


def test_canary_in_every_provider_never_leaks(
    pypirc: Path, tmp_path: Path, canary_logs: pytest.LogCaptureFixture, oidc: tuple[_OIDC, str]
) -> None:
    _, base = oidc
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine registry.example.org login n password {CANARY}\n")
    netrc.chmod(0o600)
    gitlab_env = {
        "GITLAB_CI": "true",
        "CI_JOB_TOKEN": CANARY,
        "CI_SERVER_URL": "https://gitlab.example.com",
    }
    cases: list[tuple[Any, str]] = [
        (ExplicitProvider("u", CANARY), "https://registry.example.org/upload/"),
        (EnvProvider({"TWINE_PASSWORD": CANARY}), "https://registry.example.org/upload/"),
        (PypircProvider(pypirc), "https://registry.example.org/upload/"),
        (NetrcProvider(netrc), "https://registry.example.org/upload/"),
        (GitLabJobTokenProvider(gitlab_env), GITLAB_URL),
        (TrustedPublishingProvider(env=_github_env(base), index_url=base), f"{base}/legacy/"),
    ]
    seen: list[object] = []
    for provider, url in cases:
        chain = CredentialChain([provider])
        resolution = chain.resolve(url)
        creds = resolution.require()
        assert CANARY in creds.password.reveal()
        seen += [
            resolution,
            repr(resolution),
            resolution.describe(),
            creds,
            repr(creds),
            creds.to_dict(),
            chain,
            provider.__dict__ if not hasattr(provider, "_env") else "",
        ]
    logging.getLogger("registry_upload").debug("done")
    assert_no_canary(*seen, *(r.getMessage() for r in canary_logs.records))
