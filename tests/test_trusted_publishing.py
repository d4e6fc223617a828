"""Trusted publishing against a loopback warehouse: every documented exchange error,
any answer shape, single-use OIDC tokens, reusable workflows, the audience, secrets
masked, and the caller's transport (TLS) reaching the exchange.

The fake warehouse is a ``FakeRegistry`` that also serves ``/_/oidc/audience``, a
GitHub-style token endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL`` points at it) issuing a
fresh JWT per request, and ``/_/oidc/mint-token``, which accepts each JWT once (by its
``jti``) as warehouse does since March 2026, or replays a scripted answer.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from registry_upload import upload
from registry_upload._redact import redact
from registry_upload.credentials import (
    CredentialChain,
    Credentials,
    Target,
    TrustedPublishingProvider,
)
from registry_upload.credentials._oidc import EXCHANGE_HINTS
from registry_upload.errors import TransportError, TrustedPublishingError
from registry_upload.retry import RetryPolicy
from registry_upload.testing import FakeRegistry, Reply, make_wheel
from registry_upload.transport import Transport, TransportOptions
from registry_upload.uploader import Uploader

from .conftest import CANARY, assert_no_canary

REPO = "acme/pkg"
WORKFLOW = f"{REPO}/.github/workflows/release.yml@refs/tags/v1"
REQUEST_TOKEN = "gh-request-token-0123456789"


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def make_jwt(**claims: object) -> str:
    return f"{_b64({'alg': 'RS256'})}.{_b64(claims)}.{CANARY}-signature"


class Warehouse(FakeRegistry):
    """A FakeRegistry that is also warehouse's OIDC endpoints and a GitHub token issuer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(path="/legacy/", **kwargs)
        self.audience: Reply = Reply(200, json.dumps({"audience": "testpypi"}))
        self.claims: dict[str, object] = {
            "iss": "https://token.actions.githubusercontent.com",
            "repository": REPO,
            "ref": "refs/tags/v1",
            "sha": "c0ffee",
            "workflow_ref": WORKFLOW,
            "job_workflow_ref": WORKFLOW,
        }
        self.mint_replies: deque[Reply] = deque()
        self.github_reply: Reply | None = None  # instead of a fresh JWT
        self.expires_in = 900
        self.issued: list[str] = []  # JWTs the token endpoint gave out
        self.exchanged: list[str] = []  # JWTs posted to mint-token
        self.github_asks: list[str] = []  # paths of token requests
        self.minted = 0
        self._used: set[str] = set()
        self._oidc_lock = threading.Lock()

    def __enter__(self) -> Warehouse:
        self.start()
        return self

    # -- GET: the audience and the GitHub token endpoint ------------------------------

    def _handle_get(self, handler: Any) -> None:
        path = handler.path
        if path == "/_/oidc/audience":
            self._record(handler)
            handler.send(self.audience)
        elif path.startswith("/github-token"):
            self._record(handler)
            handler.send(self._github_token(handler))
        else:
            super()._handle_get(handler)

    def _github_token(self, handler: Any) -> Reply:
        if handler.headers.get("Authorization") != f"bearer {REQUEST_TOKEN}":
            return Reply(401, json.dumps({"message": "bad request token"}))
        if self.github_reply is not None:
            return self.github_reply
        with self._oidc_lock:
            self.github_asks.append(handler.path)
            jwt = make_jwt(**self.claims, jti=f"jti-{len(self.issued)}", aud="testpypi")
            self.issued.append(jwt)
        return Reply(200, json.dumps({"count": 1, "value": jwt}))

    # -- POST: the token exchange, else an upload -------------------------------------

    def _handle_post(self, handler: Any) -> None:
        if handler.path != "/_/oidc/mint-token":
            super()._handle_post(handler)
            return
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        self._record(handler)
        handler.send(self._mint(body))

    def _mint(self, body: bytes) -> Reply:
        jwt = json.loads(body)["token"]
        with self._oidc_lock:
            self.exchanged.append(jwt)
            if self.mint_replies:
                return self.mint_replies.popleft()
            jti = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "==")).get("jti")
            if jti in self._used:
                return refusal("invalid-reuse-token", "invalid token: already used")
            self._used.add(jti)
            self.minted += 1
            token = f"pypi-{CANARY}-{self.minted}"
        expires = int(time.time()) + self.expires_in
        return Reply(200, json.dumps({"success": True, "token": token, "expires": expires}))


def refusal(code: str, description: str) -> Reply:
    """Warehouse's 422 answer for one error code."""
    body = {
        "message": "Token request failed",
        "errors": [{"code": code, "description": description}],
    }
    return Reply(422, json.dumps(body), {"Content-Type": "application/json"})


@pytest.fixture
def warehouse() -> Iterator[Warehouse]:
    with Warehouse() as server:
        yield server


def github_env(server: FakeRegistry) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{server.base}/github-token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
    }


def provider_for(server: FakeRegistry, env: dict[str, str] | None = None, **kw: Any) -> Any:
    return TrustedPublishingProvider(env=env or github_env(server), index_url=server.base, **kw)


def ask(provider: TrustedPublishingProvider, server: FakeRegistry) -> Credentials:
    creds = provider.provide(Target(url=server.url))
    assert creds is not None
    return creds


def refused(provider: TrustedPublishingProvider, server: FakeRegistry) -> TrustedPublishingError:
    with pytest.raises(TrustedPublishingError) as info:
        provider.provide(Target(url=server.url))
    return info.value


# --- the documented error codes ------------------------------------------------------------

# (code, warehouse's description) as warehouse oidc/views.py answers them
DOCUMENTED = [
    ("not-enabled", "GitHub trusted publishing functionality not enabled"),
    ("invalid-payload", "malformed JWT"),
    ("invalid-token", "malformed or invalid token"),
    ("invalid-publisher", "valid token, but no corresponding publisher (no matching workflow)"),
    ("invalid-pending-publisher", "valid token, but project already exists"),
    ("invalid-reuse-token", "invalid token: already used"),
]


@pytest.mark.parametrize(("code", "description"), DOCUMENTED)
def test_each_exchange_error_is_typed_with_its_hint(
    warehouse: Warehouse, code: str, description: str
) -> None:
    warehouse.mint_replies.append(refusal(code, description))
    error = refused(provider_for(warehouse), warehouse)
    assert error.code == code
    assert error.status == 422
    assert error.hint == EXCHANGE_HINTS[code]
    assert f"[{code}] {description}" in error.message
    assert error.claims["repository"] == REPO  # what the index saw, to compare with settings
    assert error.url == f"{warehouse.base}/_/oidc/mint-token"
    assert len(warehouse.exchanged) == 1


def test_every_code_has_a_hint_saying_what_to_change() -> None:
    assert sorted(EXCHANGE_HINTS) == sorted(code for code, _ in DOCUMENTED)
    for hint in EXCHANGE_HINTS.values():
        assert hint.endswith(".") and len(hint) > 80


# --- any answer ends as a typed error --------------------------------------------------------

NESTED = "[" * 100_000
SHAPES = {
    "success without token": Reply(200, '{"success": true}'),
    "success with a list as token": Reply(200, '{"success": true, "token": ["a", "b"]}'),
    "success false": Reply(200, '{"success": false, "token": "x"}'),
    "token but no success": Reply(200, '{"token": "pypi-abc"}'),
    "a list as code": Reply(422, '{"errors": [{"code": ["invalid-token"], "description": 5}]}'),
    "errors not a list": Reply(422, '{"message": "bad", "errors": "invalid-token"}'),
    "error items not objects": Reply(422, '{"errors": ["invalid-token", null, 7]}'),
    "message not text": Reply(422, '{"message": {"a": [1, 2]}}'),
    "top-level list": Reply(422, "[1, 2, 3]"),
    "nested JSON": Reply(422, NESTED),
    "nested JSON with 200": Reply(200, NESTED),
    "not JSON": Reply(502, "<html><body><h1>Bad gateway</h1></body></html>"),
    "not UTF-8": Reply(422, b"\xff\xfe\x00garbage"),
    "empty": Reply(500, b""),
    "huge body": Reply(422, b'{"errors": [{"code": "x", "description": "' + b"A" * 3_000_000),
    "terminal escapes": Reply(
        422,
        json.dumps(
            {"errors": [{"code": "invalid-token", "description": "\x1b[2J\x07o\u200bk\u00ad"}]}
        ),
    ),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_any_answer_shape_ends_as_a_typed_error(warehouse: Warehouse, name: str) -> None:
    warehouse.mint_replies.append(SHAPES[name])
    error = refused(provider_for(warehouse), warehouse)
    assert isinstance(error, TrustedPublishingError)
    assert error.hint
    assert len(str(error)) < 4000
    assert not any(ch in str(error) for ch in "\x1b\x07\u200b\u00ad")
    assert error.code in EXCHANGE_HINTS or error.code == "unexpected-answer"


def test_a_list_as_code_is_not_taken_for_a_code(warehouse: Warehouse) -> None:
    warehouse.mint_replies.append(SHAPES["a list as code"])
    assert refused(provider_for(warehouse), warehouse).code == "unexpected-answer"
    warehouse.mint_replies.append(SHAPES["success without token"])
    error = refused(provider_for(warehouse), warehouse)
    assert error.code == "unexpected-answer" and "without an upload token" in error.message


def test_a_busy_index_says_retry(warehouse: Warehouse) -> None:
    warehouse.mint_replies.append(Reply(503, "maintenance"))
    error = refused(provider_for(warehouse), warehouse)
    assert error.status == 503 and "retry later" in (error.hint or "")
    assert "maintenance" in error.message


# --- the audience ----------------------------------------------------------------------------


def test_the_audience_comes_from_the_index(warehouse: Warehouse) -> None:
    warehouse.audience = Reply(200, json.dumps({"audience": "warehouse/x+y"}))
    provider = provider_for(warehouse)
    ask(provider, warehouse)
    assert warehouse.github_asks == ["/github-token?api-version=2.0&audience=warehouse%2Fx%2By"]
    ask(provider, warehouse)  # re-minting: a fresh OIDC token, the audience asked once
    audience_gets = [r for r in warehouse.requests if r.path == "/_/oidc/audience"]
    assert len(audience_gets) == 1 and len(warehouse.github_asks) == 2


def test_the_gitlab_id_token_is_named_by_the_audience(warehouse: Warehouse) -> None:
    warehouse.audience = Reply(200, json.dumps({"audience": "my-warehouse"}))
    jwt = make_jwt(iss="https://gitlab.com", project_path="acme/pkg", jti="gl-1")
    env = {"GITLAB_CI": "true", "MY_WAREHOUSE_ID_TOKEN": jwt}
    assert ask(provider_for(warehouse, env), warehouse).source == "trusted-publishing:gitlab"
    assert warehouse.exchanged == [jwt]


@pytest.mark.parametrize(
    "answer",
    [
        Reply(200, '{"audience": ["pypi"]}'),
        Reply(200, '{"audience": ""}'),
        Reply(200, '{"audience": "has space"}'),
        Reply(200, NESTED),
        Reply(200, "pypi"),
        Reply(500, "oops"),
    ],
)
def test_a_bad_audience_answer_is_typed(warehouse: Warehouse, answer: Reply) -> None:
    warehouse.audience = answer
    error = refused(provider_for(warehouse), warehouse)
    assert error.code == "unexpected-answer" and error.status == answer.status
    assert warehouse.github_asks == [] and warehouse.exchanged == []


def test_a_disabled_index_and_one_without_trusted_publishing(warehouse: Warehouse) -> None:
    warehouse.audience = Reply(403, '{"message": "Trusted publishing functionality not enabled"}')
    error = refused(provider_for(warehouse), warehouse)
    assert error.code == "not-enabled" and error.hint == EXCHANGE_HINTS["not-enabled"]
    warehouse.audience = Reply(404, "Not Found")
    resolution = CredentialChain([provider_for(warehouse)]).resolve(warehouse.url)
    assert resolution.credentials is None
    assert "does not support trusted publishing" in resolution.describe()


# --- single-use OIDC tokens -------------------------------------------------------------------


def test_github_remints_with_a_fresh_oidc_token(warehouse: Warehouse) -> None:
    provider = provider_for(warehouse)
    first, second = ask(provider, warehouse), ask(provider, warehouse)
    assert first.password != second.password
    assert warehouse.exchanged == warehouse.issued and len(set(warehouse.issued)) == 2
    assert warehouse.minted == 2  # the fake refuses any JWT it saw: none was sent twice


def test_an_uploader_remints_on_github_past_the_token_lifetime(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse.expires_in = 60  # under the 120 s refresh margin: every file asks again
    wheels = [make_wheel(tmp_path, "tp", f"1.{i}") for i in range(3)]
    chain = CredentialChain([provider_for(warehouse)])
    report = upload(wheels, warehouse.url, credentials=chain, jobs=1)
    assert report.ok and len(warehouse.stored) == 3
    assert warehouse.minted == len(warehouse.issued) >= 2
    auths = {r.headers.get("Authorization") for r in warehouse.posts if r.filename}
    assert len(auths) >= 2  # different upload tokens, each from its own OIDC token


def gitlab_setup(warehouse: Warehouse) -> tuple[str, TrustedPublishingProvider]:
    jwt = make_jwt(iss="https://gitlab.com", project_path="acme/pkg", jti="gitlab-job-1")
    env = {"GITLAB_CI": "true", "TESTPYPI_ID_TOKEN": jwt}
    return jwt, provider_for(warehouse, env)


def test_gitlab_token_is_exchanged_once_and_the_limit_is_said(
    warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    jwt, provider = gitlab_setup(warehouse)
    first = ask(provider, warehouse)
    note = dict(first.details)["single-use-id-token"]
    assert "exchanged once" in note and "UTC" in note
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    again = ask(provider, warehouse)  # a batch that outlives the token asks again
    assert again is first and warehouse.exchanged == [jwt]  # never sent twice
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cannot give this job a fresh ID token" in warnings[0]
    ask(provider, warehouse)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1  # once


def test_gitlab_token_spent_and_expired_is_a_typed_error(warehouse: Warehouse) -> None:
    warehouse.expires_in = 3  # less than the provider's margin: as good as expired
    jwt, provider = gitlab_setup(warehouse)
    ask(provider, warehouse)
    error = refused(provider, warehouse)
    assert error.code == "invalid-reuse-token"
    assert error.hint == EXCHANGE_HINTS["invalid-reuse-token"] and "GitLab" in error.hint
    assert warehouse.exchanged == [jwt]  # known to fail: not sent again


def test_gitlab_uploader_warns_when_the_batch_outlives_the_token(
    warehouse: Warehouse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse.expires_in = 60
    _, provider = gitlab_setup(warehouse)
    wheels = [make_wheel(tmp_path, "gl", f"1.{i}") for i in range(2)]
    with Uploader(warehouse.url, credentials=CredentialChain([provider]), jobs=1) as uploader:
        report = uploader.upload(wheels)
        assert report.ok and len(warehouse.stored) == 2 and warehouse.minted == 1
        assert uploader.resolution is not None and uploader.resolution.credentials is not None
        assert "single-use-id-token" in dict(uploader.resolution.credentials.details)
    assert any("outlives its upload token" in r.getMessage() for r in caplog.records)


# --- reusable GitHub workflows -------------------------------------------------------------


def test_a_reusable_workflow_of_the_same_repository_is_said_before_minting(
    warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse.claims["job_workflow_ref"] = f"{REPO}/.github/workflows/publish.yml@refs/tags/v1"
    creds = ask(provider_for(warehouse), warehouse)  # warehouse does match it, by that file
    note = dict(creds.details)["reusable-workflow"]
    assert "publish.yml" in note and "release.yml" in note
    assert any(
        r.levelno == logging.WARNING and "reusable workflow publish.yml" in r.getMessage()
        for r in caplog.records
    )
    warehouse.mint_replies.append(refusal("invalid-publisher", "valid token, but no publisher"))
    error = refused(provider_for(warehouse), warehouse)
    assert error.code == "invalid-publisher"
    assert "PyPI matches the trusted publisher against publish.yml" in (error.hint or "")
    assert error.claims["job_workflow_ref"].startswith(f"{REPO}/.github/workflows/publish.yml")


@pytest.mark.parametrize(
    "called",
    [
        "other/shared/.github/workflows/publish.yml@refs/heads/main",  # another repository
        f"{REPO}/.github/workflows/publish.yml@refs/heads/main",  # another ref
    ],
)
def test_a_reusable_workflow_pypi_cannot_match_is_refused_before_minting(
    warehouse: Warehouse, called: str
) -> None:
    warehouse.claims["job_workflow_ref"] = called
    error = refused(provider_for(warehouse), warehouse)
    assert error.code == "reusable-workflow"
    assert "release.yml" in (error.hint or "") and called in error.message
    assert warehouse.exchanged == []  # the OIDC token was not spent


# --- secrets masked ----------------------------------------------------------------------


def test_a_jwt_echoed_by_the_exchange_is_masked(
    warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    jwt = make_jwt(iss="https://gitlab.com", project_path="acme/pkg", jti="echo")
    env = {"GITLAB_CI": "true", "TESTPYPI_ID_TOKEN": jwt}
    warehouse.mint_replies.append(refusal("invalid-token", f"bad token {jwt} (first: {jwt[:60]})"))
    provider = provider_for(warehouse, env)
    error = refused(provider, warehouse)
    assert jwt not in str(error) and CANARY not in str(error)
    assert "********" in error.message
    assert_no_canary(str(error), repr(error), error.to_dict(), caplog.text)
    assert redact(f"later: {jwt}") == "later: ********"  # held while the provider lives


def test_everything_a_registry_echoes_is_masked_end_to_end(
    tmp_path: Path, canary_logs: pytest.LogCaptureFixture
) -> None:
    """An upload through trusted publishing to a registry that echoes the JWT (in the
    refused exchange) and then the minted token (in the upload's 403)."""
    wheel = make_wheel(tmp_path, "echo", "1.0")
    with Warehouse() as registry:
        provider = provider_for(registry)
        echoed_jwt = make_jwt(**registry.claims, jti="jti-0", aud="testpypi")  # the one issued
        registry.mint_replies.append(refusal("invalid-publisher", f"no publisher for {echoed_jwt}"))
        with pytest.raises(TrustedPublishingError) as info:  # before any file is sent
            upload([wheel], registry.url, credentials=CredentialChain([provider]))
        assert registry.issued == [echoed_jwt] and registry.stored == {}
        assert "no publisher for ********" in str(info.value)
        assert_no_canary(str(info.value), info.value.to_dict(), canary_logs.text)
        assert echoed_jwt not in str(info.value) + canary_logs.text

        minted = f"pypi-{CANARY}-1"
        registry.script(_refuse_upload(f"Invalid or non-existent authentication: {minted}"))
        report = upload([wheel], registry.url, credentials=CredentialChain([provider]))
        assert not report.ok and registry.minted == 1 and registry.stored == {}
        (result,) = report.results
        assert_no_canary(report.to_dict(), str(result.error), canary_logs.text)
        assert "********" in str(result.error)


def _refuse_upload(text: str) -> Any:
    from registry_upload.testing import Action

    return Action("reply", Reply(403, text, reason=text))


@pytest.mark.parametrize(
    "answer",
    [
        Reply(200, NESTED),
        Reply(200, '{"value": ["a.b.c"]}'),
        Reply(200, '{"count": 0}'),
        Reply(200, "<html>sign in</html>"),
        Reply(500, "\x1b]0;owned\x07 oops"),
    ],
)
def test_any_github_token_answer_ends_as_a_typed_error(warehouse: Warehouse, answer: Reply) -> None:
    warehouse.github_reply = answer
    error = refused(provider_for(warehouse), warehouse)
    assert error.code == "missing-id-token" and error.status == answer.status
    assert "id-token: write" in (error.hint or "") and "\x1b" not in str(error)
    assert len(str(error)) < 1000 and warehouse.exchanged == []


def test_the_github_request_token_is_masked(warehouse: Warehouse) -> None:
    env = {**github_env(warehouse), "ACTIONS_ID_TOKEN_REQUEST_TOKEN": f"req-{CANARY}"}
    error = refused(provider_for(warehouse, env), warehouse)  # the fake refuses that token
    assert error.status == 401
    assert_no_canary(str(error), error.to_dict())


# --- the caller's transport --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetWithTransport(Target):
    """What a Target carrying the session's transport looks like (``Target.transport``)."""

    transport: Transport | None = None


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_warehouse(ca: trustme.CA) -> Iterator[Warehouse]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    with Warehouse(ssl_context=ctx) as server:
        yield server


def test_the_exchange_uses_the_callers_tls_settings(
    tls_warehouse: Warehouse, ca: trustme.CA, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    alone = provider_for(tls_warehouse)  # a default transport: the private CA is unknown
    with pytest.raises(TransportError, match="TLS"):
        alone.provide(Target(url=tls_warehouse.url))
    with Transport(TransportOptions(ca_cert=str(bundle), user_agent="caller/1")) as caller:
        creds = alone.provide(TargetWithTransport(url=tls_warehouse.url, transport=caller))
        assert creds is not None and tls_warehouse.minted == 1
        given = provider_for(tls_warehouse, transport=caller)
        assert given.provide(Target(url=tls_warehouse.url)) is not None
        assert caller.get(tls_warehouse.base + "/_/oidc/audience").status == 200  # still open
    agents = {r.headers.get("User-Agent") for r in tls_warehouse.requests}
    assert agents == {"caller/1"}  # audience, GitHub token, exchange: all the caller's


def test_an_upload_with_cert_reaches_the_exchange(
    tls_warehouse: Warehouse, ca: trustme.CA, tmp_path: Path
) -> None:
    """Through the Uploader: works once the session passes its transport in the Target;
    until then the provider's own transport must at least be the caller's."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    wheel = make_wheel(tmp_path, "tls-tp", "1.0")
    options = TransportOptions(ca_cert=str(bundle))
    with Transport(options) as caller:
        chain = CredentialChain([provider_for(tls_warehouse, transport=caller)])
        report = upload(
            [wheel], tls_warehouse.url, credentials=chain, transport=options, retry=RetryPolicy()
        )
    assert report.ok and list(tls_warehouse.stored) == [wheel.name]
    assert tls_warehouse.minted == 1


def test_tokens_never_go_to_a_plain_http_host_elsewhere(warehouse: Warehouse) -> None:
    env = {**github_env(warehouse), "ACTIONS_ID_TOKEN_REQUEST_URL": "http://example.org/token"}
    error = refused(provider_for(warehouse, env), warehouse)
    assert error.code == "insecure-url" and warehouse.github_asks == []


@pytest.mark.skipif(
    "transport" not in getattr(Target, "__dataclass_fields__", {}),
    reason="needs Target.transport, which the session fills with the upload's transport",
)
def test_an_upload_with_cert_reaches_the_exchange_of_the_default_chain(
    tls_warehouse: Warehouse, ca: trustme.CA, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    wheel = make_wheel(tmp_path, "tls-session", "1.0")
    chain = CredentialChain([provider_for(tls_warehouse)])  # no transport of its own
    options = TransportOptions(ca_cert=str(bundle), user_agent="the-upload/1")
    report = upload([wheel], tls_warehouse.url, credentials=chain, transport=options)
    assert report.ok and list(tls_warehouse.stored) == [wheel.name]
    assert tls_warehouse.minted == 1
    assert {r.headers.get("User-Agent") for r in tls_warehouse.requests} == {"the-upload/1"}
