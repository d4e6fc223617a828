"""Cloud registries, the credential helper and Google Cloud trusted publishing.

Fake ``aws``, ``gcloud``, ``az`` and helper executables (written here, first
on PATH) replay the documented output of the real tools, record their argv
and stdin, and can be told to fail, hang or flood; a loopback server plays
the Google Cloud metadata server and the index's OIDC endpoints.  Every token
is the canary, scanned for in reprs, logs, errors and reports.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import textwrap
import threading
import time
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from registry_upload import CredentialError, CredentialKind, Target, TrustedPublishingError
from registry_upload.credentials import (
    ArtifactRegistryProvider,
    AzureArtifactsFeed,
    AzureArtifactsProvider,
    CodeArtifactProvider,
    CodeArtifactRepository,
    CredentialChain,
    CredentialHelperProvider,
    Credentials,
    Skip,
    TrustedPublishingProvider,
    load_pypirc,
    parse_artifact_registry_url,
    parse_azure_artifacts_url,
    parse_codeartifact_url,
)
from registry_upload.uploader import Uploader

from .conftest import CANARY, assert_no_canary

CA_URL = "https://acme-corp-123456789012.d.codeartifact.eu-west-1.amazonaws.com/pypi/internal/"
GAR_URL = "https://europe-west1-python.pkg.dev/my-project/py-repo/"
AZ_URL = "https://pkgs.dev.azure.com/contoso/web/_packaging/feed1/pypi/upload/"
AZ_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"

_FAKE = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys, time
    here = os.path.dirname(os.path.abspath(__file__))
    name = os.path.basename(sys.argv[0])
    def path(ext):
        return os.path.join(here, name + "." + ext)
    stdin = sys.stdin.read() if not sys.stdin.isatty() else ""
    with open(path("calls"), "a") as fh:
        fh.write(json.dumps({{"argv": sys.argv[1:], "stdin": stdin}}) + "\\n")
    if os.path.exists(path("sleep")):
        time.sleep(float(open(path("sleep")).read()))
    if os.path.exists(path("flood")):
        sys.stdout.write("x" * int(open(path("flood")).read()))
    if os.path.exists(path("out")):
        sys.stdout.write(open(path("out")).read())
    if os.path.exists(path("err")):
        sys.stderr.write(open(path("err")).read())
    sys.exit(int(open(path("exit")).read()) if os.path.exists(path("exit")) else 0)
    """
)


class FakeTools:
    """A directory of fake executables; each replays what its files say."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "fakebin"
        self.bin.mkdir()

    def tool(self, name: str, out: str = "", *, err: str = "", exit: int = 0) -> FakeTools:
        script = self.bin / name
        script.write_text(_FAKE.format(python=sys.executable))
        script.chmod(0o755)
        (self.bin / f"{name}.out").write_text(out)
        for ext, value in (("err", err), ("exit", str(exit) if exit else "")):
            target = self.bin / f"{name}.{ext}"
            if value:
                target.write_text(value)
            elif target.exists():
                target.unlink()
        return self

    def set(self, name: str, ext: str, value: str) -> None:
        (self.bin / f"{name}.{ext}").write_text(value)

    def calls(self, name: str) -> list[dict[str, Any]]:
        log = self.bin / f"{name}.calls"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def env(self, **extra: str) -> dict[str, str]:
        """An environment whose PATH holds only the fakes."""
        return {"PATH": str(self.bin), **extra}


@pytest.fixture
def fakes(tmp_path: Path) -> FakeTools:
    return FakeTools(tmp_path)


@pytest.fixture
def no_pypirc(tmp_path: Path) -> Path:
    path = tmp_path / "empty-pypirc"
    path.write_text("")
    return path


def aws_answer(expiration: object) -> str:
    return json.dumps({"authorizationToken": CANARY, "expiration": expiration})


def az_answer(expires_on: int) -> str:
    local = dt.datetime.fromtimestamp(expires_on).strftime("%Y-%m-%d %H:%M:%S.%f")
    return json.dumps(
        {
            "accessToken": CANARY,
            "expiresOn": local,
            "expires_on": expires_on,
            "subscription": "00000000-0000-0000-0000-000000000000",
            "tenant": "11111111-1111-1111-1111-111111111111",
            "tokenType": "Bearer",
        }
    )


def _ask(provider: Any, url: str, **kw: Any) -> Credentials:
    found: Credentials | None = provider.provide(Target(url=url, **kw))
    assert found is not None
    return found


def _skip(provider: Any, url: str) -> str:
    with pytest.raises(Skip) as info:
        provider.provide(Target(url=url))
    return info.value.reason


# --- URL parsing -------------------------------------------------------------


def test_parse_codeartifact_url() -> None:
    assert parse_codeartifact_url(CA_URL) == CodeArtifactRepository(
        domain="acme-corp", owner="123456789012", region="eu-west-1", repository="internal"
    )
    assert parse_codeartifact_url(CA_URL.rstrip("/")) is not None
    assert (
        parse_codeartifact_url("https://acme-12345.d.codeartifact.eu-west-1.amazonaws.com/pypi/x/")
        is None
    )
    assert parse_codeartifact_url(CA_URL.replace("/pypi/", "/npm/")) is None
    assert parse_codeartifact_url("https://upload.pypi.org/legacy/") is None


def test_parse_artifact_registry_url() -> None:
    repo = parse_artifact_registry_url(GAR_URL)
    assert repo is not None and (repo.location, repo.project, repo.repository) == (
        "europe-west1",
        "my-project",
        "py-repo",
    )
    assert parse_artifact_registry_url("https://us-python.pkg.dev/p/r") is not None
    assert parse_artifact_registry_url("https://us-docker.pkg.dev/p/r/") is None
    assert parse_artifact_registry_url("https://europe-west1-python.pkg.dev/only-project") is None


def test_parse_azure_artifacts_url() -> None:
    assert parse_azure_artifacts_url(AZ_URL) == AzureArtifactsFeed("contoso", "web", "feed1")
    org_feed = "https://pkgs.dev.azure.com/contoso/_packaging/feed1/pypi/upload"
    assert parse_azure_artifacts_url(org_feed) == AzureArtifactsFeed("contoso", None, "feed1")
    legacy = "https://contoso.pkgs.visualstudio.com/web/_packaging/feed1/pypi/upload"
    assert parse_azure_artifacts_url(legacy) == AzureArtifactsFeed("contoso", "web", "feed1")
    legacy_org = "https://contoso.pkgs.visualstudio.com/_packaging/feed1/pypi/upload"
    assert parse_azure_artifacts_url(legacy_org) == AzureArtifactsFeed("contoso", None, "feed1")
    assert parse_azure_artifacts_url("https://dev.azure.com/contoso/web/_packaging/f/") is None
    assert parse_azure_artifacts_url("https://pkgs.dev.azure.com/contoso/web/") is None


# --- AWS CodeArtifact ------------------------------------------------------------


def test_codeartifact_token_and_expiry_from_the_cli(fakes: FakeTools) -> None:
    fakes.tool("aws", aws_answer("2031-01-02T03:04:05+00:00"))
    creds = _ask(CodeArtifactProvider(fakes.env(), use_boto3=False), CA_URL)
    assert (creds.username, creds.password.reveal()) == ("aws", CANARY)
    assert creds.source == "aws-codeartifact:aws-cli"
    assert creds.kind is CredentialKind.CLOUD_TOKEN
    assert creds.expires_at == dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc).timestamp()
    [call] = fakes.calls("aws")
    assert call["argv"] == [
        "codeartifact",
        "get-authorization-token",
        "--domain",
        "acme-corp",
        "--domain-owner",
        "123456789012",
        "--region",
        "eu-west-1",
        "--output",
        "json",
    ]


def test_codeartifact_epoch_expiry_and_default_lifetime(fakes: FakeTools) -> None:
    fakes.tool("aws", aws_answer(1924992000.0))  # AWS CLI v1 prints epoch seconds
    assert (
        _ask(CodeArtifactProvider(fakes.env(), use_boto3=False), CA_URL).expires_at == 1924992000.0
    )
    fakes.tool("aws", json.dumps({"authorizationToken": CANARY}))
    creds = _ask(CodeArtifactProvider(fakes.env(), use_boto3=False), CA_URL)
    assert creds.expires_at is not None
    assert 11 * 3600 < creds.expires_at - time.time() <= 12 * 3600


def test_codeartifact_cli_failure_is_typed_with_the_fix(fakes: FakeTools) -> None:
    fakes.tool(
        "aws",
        err="\nError when retrieving token from sso: Token has expired and refresh failed\n",
        exit=255,
    )
    with pytest.raises(CredentialError) as info:
        CodeArtifactProvider(fakes.env(), use_boto3=False).provide(Target(url=CA_URL))
    assert "exit status 255" in info.value.message
    assert "Token has expired" in info.value.message
    assert "aws sso login" in (info.value.hint or "")


def test_codeartifact_without_the_cli_skips_and_other_urls_are_not_its(fakes: FakeTools) -> None:
    provider = CodeArtifactProvider(fakes.env(), use_boto3=False)
    assert _skip(provider, CA_URL) == "aws CLI not found"
    assert _skip(provider, GAR_URL) == "not an AWS CodeArtifact URL"
    fakes.tool("aws", aws_answer("2031-01-02T03:04:05Z"))
    assert _skip(provider, "https://upload.pypi.org/legacy/") == "not an AWS CodeArtifact URL"
    assert fakes.calls("aws") == []


def test_codeartifact_uses_boto3_when_importable(
    fakes: FakeTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: dict[str, Any] = {}

    class Client:
        def get_authorization_token(self, **kw: Any) -> dict[str, Any]:
            asked.update(kw)
            return {
                "authorizationToken": CANARY,
                "expiration": dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc),
            }

    def client(service: str, region_name: str) -> Client:
        asked.update(service=service, region=region_name)
        return Client()

    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=client))
    fakes.tool("aws", aws_answer("2031-01-02T03:04:05Z"))
    creds = _ask(CodeArtifactProvider(fakes.env()), CA_URL)
    assert creds.source == "aws-codeartifact:boto3" and creds.password.reveal() == CANARY
    assert asked == {
        "service": "codeartifact",
        "region": "eu-west-1",
        "domain": "acme-corp",
        "domainOwner": "123456789012",
    }
    assert creds.expires_at == dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    assert fakes.calls("aws") == []  # boto3 answered: the CLI was not run


# --- Google Artifact Registry ----------------------------------------------------


def test_artifact_registry_token_from_gcloud(fakes: FakeTools) -> None:
    fakes.tool("gcloud", CANARY + "\n")
    creds = _ask(ArtifactRegistryProvider(fakes.env(), use_google_auth=False), GAR_URL)
    assert (creds.username, creds.password.reveal()) == ("oauth2accesstoken", CANARY)
    assert creds.source == "google-artifact-registry:gcloud"
    assert creds.expires_at is not None and creds.expires_at > time.time()
    assert [c["argv"] for c in fakes.calls("gcloud")] == [["auth", "print-access-token"]]


def test_artifact_registry_gcloud_not_signed_in(fakes: FakeTools) -> None:
    fakes.tool(
        "gcloud",
        err="ERROR: (gcloud.auth.print-access-token) You do not currently have an active "
        "account selected.\n",
        exit=1,
    )
    provider = ArtifactRegistryProvider(fakes.env(), use_google_auth=False)
    with pytest.raises(CredentialError) as info:
        provider.provide(Target(url=GAR_URL))
    assert "active account" in info.value.message
    assert "gcloud auth login" in (info.value.hint or "")
    assert _skip(ArtifactRegistryProvider({"PATH": ""}, use_google_auth=False), GAR_URL) == (
        "gcloud CLI not found"
    )


# --- Azure Artifacts --------------------------------------------------------------


def test_azure_pipelines_job_token_needs_no_cli(fakes: FakeTools) -> None:
    env = fakes.env(TF_BUILD="True", SYSTEM_ACCESSTOKEN=CANARY)
    fakes.tool("az", az_answer(int(time.time()) + 3600))
    creds = _ask(AzureArtifactsProvider(env), AZ_URL)
    assert creds.source == "azure-artifacts:SYSTEM_ACCESSTOKEN"
    assert creds.username == "azure" and creds.password.reveal() == CANARY
    assert fakes.calls("az") == []
    reason = _skip(AzureArtifactsProvider({"PATH": "", "TF_BUILD": "True"}), AZ_URL)
    assert "az CLI not found" in reason and "SYSTEM_ACCESSTOKEN" in reason


def test_azure_token_from_az_with_expiry(fakes: FakeTools) -> None:
    expires = int(time.time()) + 3000
    fakes.tool("az", az_answer(expires))
    creds = _ask(AzureArtifactsProvider(fakes.env()), AZ_URL)
    assert creds.source == "azure-artifacts:az-cli" and creds.password.reveal() == CANARY
    assert creds.expires_at == float(expires)
    [call] = fakes.calls("az")
    assert call["argv"] == [
        "account",
        "get-access-token",
        "--resource",
        AZ_RESOURCE,
        "--output",
        "json",
    ]
    # Azure CLI before 2.54 prints only expiresOn, in local time.
    old = json.loads(az_answer(expires))
    del old["expires_on"]
    fakes.tool("az", json.dumps(old))
    creds = _ask(AzureArtifactsProvider(fakes.env()), AZ_URL)
    assert creds.expires_at is not None and abs(creds.expires_at - expires) < 1


def test_azure_not_logged_in(fakes: FakeTools) -> None:
    fakes.tool("az", err="ERROR: Please run 'az login' to setup account.\n", exit=1)
    with pytest.raises(CredentialError) as info:
        AzureArtifactsProvider(fakes.env()).provide(Target(url=AZ_URL))
    assert "az login" in info.value.message and "az login" in (info.value.hint or "")


# --- the credential helper -------------------------------------------------------


def test_helper_protocol_from_the_environment(fakes: FakeTools, no_pypirc: Path) -> None:
    fakes.tool(
        "my-helper",
        f"username=alice\npassword={CANARY}\nexpires_at=2031-01-01T00:00:00Z\nextra=ignored\n",
    )
    env = fakes.env(REGISTRY_UPLOAD_CREDENTIAL_HELPER="my-helper --profile 'ci job'")
    creds = _ask(CredentialHelperProvider(env=env, pypirc=no_pypirc), GAR_URL)
    assert (creds.username, creds.password.reveal()) == ("alice", CANARY)
    assert creds.source == "credential-helper:my-helper"
    assert creds.expires_at == dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    [call] = fakes.calls("my-helper")
    assert call["argv"] == ["--profile", "ci job", "get"]
    assert call["stdin"] == f"url={GAR_URL}\n"


def _pypirc_with_helper(tmp_path: Path, command: str) -> Path:
    path = tmp_path / "pypirc"
    path.write_text(
        "[distutils]\nindex-servers = corp\n\n"
        f"[corp]\nrepository = https://pypi.corp.example/upload/\nusername = bob\n"
        f"credential_helper = {command}\n"
    )
    return path


def test_helper_per_repository_in_pypirc(fakes: FakeTools, tmp_path: Path) -> None:
    pypirc = _pypirc_with_helper(tmp_path, "corp-helper")
    assert load_pypirc(pypirc)["corp"].credential_helper == "corp-helper"
    fakes.tool("corp-helper", f"password={CANARY}\n")
    chain = CredentialChain.default(env=fakes.env(), pypirc=pypirc)
    resolution = chain.resolve(Target(url="https://pypi.corp.example/upload/", name="corp"))
    creds = resolution.require()
    # .pypirc gave the username, the helper the password for it.
    assert (creds.username, creds.password.reveal()) == ("bob", CANARY)
    assert resolution.provider == "credential-helper"
    assert fakes.calls("corp-helper")[0]["stdin"] == (
        "url=https://pypi.corp.example/upload/\nusername=bob\n"
    )
    # Another repository has no helper configured.
    other = chain.resolve("https://elsewhere.example/upload/")
    assert "credential-helper: skipped (no credential helper configured" in other.describe()


def test_helper_without_an_answer_passes_on(fakes: FakeTools, no_pypirc: Path) -> None:
    fakes.tool("my-helper", "")
    env = fakes.env(REGISTRY_UPLOAD_CREDENTIAL_HELPER="my-helper")
    reason = _skip(CredentialHelperProvider(env=env, pypirc=no_pypirc), GAR_URL)
    assert "no credentials for" in reason


def test_helper_failure_never_quotes_what_the_helper_printed(
    fakes: FakeTools, no_pypirc: Path
) -> None:
    fakes.tool(
        "my-helper",
        f"password={CANARY}\n",
        err=f"vault: lease for {CANARY} revoked\n",
        exit=3,
    )
    env = fakes.env(REGISTRY_UPLOAD_CREDENTIAL_HELPER="my-helper")
    with pytest.raises(CredentialError) as info:
        CredentialHelperProvider(env=env, pypirc=no_pypirc).provide(Target(url=GAR_URL))
    # A helper's output is its own: it may hold the secret in any form, so none is shown;
    # the hint says how to see it.
    assert "exit status 3" in str(info.value) and "lease for" not in str(info.value)
    assert "by hand" in (info.value.hint or "")
    assert_no_canary(info.value, repr(info.value), info.value.to_dict())


def test_helper_timeout_flood_and_missing_command(fakes: FakeTools, no_pypirc: Path) -> None:
    fakes.tool("slow-helper", f"password={CANARY}\n")
    fakes.set("slow-helper", "sleep", "30")
    env = fakes.env(REGISTRY_UPLOAD_CREDENTIAL_HELPER="slow-helper")
    provider = CredentialHelperProvider(env=env, pypirc=no_pypirc, timeout=0.5)
    with pytest.raises(CredentialError, match="did not answer within 0.5 s"):
        provider.provide(Target(url=GAR_URL))

    fakes.tool("loud-helper", f"password={CANARY}\n")
    fakes.set("loud-helper", "flood", str(200_000))
    env = fakes.env(REGISTRY_UPLOAD_CREDENTIAL_HELPER="loud-helper")
    provider = CredentialHelperProvider(env=env, pypirc=no_pypirc, max_output=4096)
    with pytest.raises(CredentialError, match="more than 4096 bytes"):
        provider.provide(Target(url=GAR_URL))

    env = fakes.env(REGISTRY_UPLOAD_CREDENTIAL_HELPER="no-such-helper")
    with pytest.raises(CredentialError, match="was not found"):
        CredentialHelperProvider(env=env, pypirc=no_pypirc).provide(Target(url=GAR_URL))


# --- chain order and re-minting -----------------------------------------------------


def test_written_secrets_come_before_cloud_providers(fakes: FakeTools, no_pypirc: Path) -> None:
    fakes.tool("aws", aws_answer("2031-01-02T03:04:05Z"))
    env = fakes.env(TWINE_PASSWORD="from-env")
    chain = CredentialChain.default(env=env, pypirc=no_pypirc)
    chain.remove("keyring")
    assert chain.resolve(CA_URL).source == "env:TWINE_PASSWORD"
    assert fakes.calls("aws") == []
    chain = CredentialChain.default(env=fakes.env(), pypirc=no_pypirc)
    chain.remove("keyring")
    chain.remove("netrc")
    chain.providers[[p.name for p in chain.providers].index("aws-codeartifact")] = (
        CodeArtifactProvider(fakes.env(), use_boto3=False)
    )
    resolution = chain.resolve(CA_URL)
    assert resolution.provider == "aws-codeartifact"
    assert [o.provider for o in resolution.trail] == [
        "explicit",
        "env",
        "pypirc",
        "credential-helper",
        "aws-codeartifact",
    ]


def test_errors_are_raised_or_recorded_with_the_trail(fakes: FakeTools) -> None:
    fakes.tool("aws", err="Unable to locate credentials\n", exit=255)
    chain = CredentialChain([CodeArtifactProvider(fakes.env(), use_boto3=False)])
    with pytest.raises(CredentialError):
        chain.resolve(CA_URL)
    resolution = chain.resolve(CA_URL, record_errors=True)
    assert resolution.credentials is None and isinstance(resolution.error, CredentialError)
    assert resolution.trail[-1].failed and resolution.trail[-1].state == "failed"
    assert resolution.to_dict()["error"]["type"] == "CredentialError"  # type: ignore[index]
    with pytest.raises(CredentialError):
        resolution.require()


def test_uploader_asks_again_when_the_cloud_token_is_about_to_expire(fakes: FakeTools) -> None:
    soon = dt.datetime.fromtimestamp(time.time() + 60, tz=dt.timezone.utc).isoformat()
    fakes.tool("aws", aws_answer(soon))
    chain = CredentialChain([CodeArtifactProvider(fakes.env(), use_boto3=False)])
    with Uploader(CA_URL, credentials=chain) as uploader:
        uploader.credentials()
        uploader.credentials()
        assert len(fakes.calls("aws")) == 2  # within 120 s of expiry: minted again
    later = dt.datetime.fromtimestamp(time.time() + 7200, tz=dt.timezone.utc).isoformat()
    fakes.tool("aws", aws_answer(later))
    with Uploader(CA_URL, credentials=chain) as uploader:
        first = uploader.credentials()
        assert uploader.credentials() is first
        assert len(fakes.calls("aws")) == 3  # fresh: asked once


# --- Google Cloud trusted publishing ------------------------------------------------------


class _GoogleCloud:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        self.identity_status = 200
        self.identity = (
            "eyJhbGciOiJSUzI1NiJ9."
            + __import__("base64")
            .urlsafe_b64encode(
                json.dumps(
                    {"sub": "1234", "email": "publisher@proj.iam.gserviceaccount.com"}
                ).encode()
            )
            .rstrip(b"=")
            .decode()
            + ".sig"
        )
        self.minted_with: list[str] = []


@pytest.fixture
def google_cloud() -> Iterator[tuple[_GoogleCloud, str]]:
    state = _GoogleCloud()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            state.requests.append(("GET", self.path, self.headers.get("Metadata-Flavor")))
            if self.path == "/_/oidc/audience":
                self._send(200, json.dumps({"audience": "pypi"}).encode())
            elif self.path.startswith("/computeMetadata/v1/instance/service-accounts/default/"):
                if self.headers.get("Metadata-Flavor") != "Google":
                    self._send(403, b"Missing Metadata-Flavor:Google header.", "text/html")
                elif self.path.endswith("identity?audience=pypi&format=full"):
                    self._send(state.identity_status, state.identity.encode(), "text/html")
                else:
                    self._send(400, b"bad request", "text/html")
            else:
                self._send(404, b"{}")

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(("POST", self.path, None))
            state.minted_with.append(body["token"])
            payload = {"success": True, "token": CANARY, "expires": int(time.time()) + 900}
            self._send(200, json.dumps(payload).encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_trusted_publishing_from_google_cloud(
    google_cloud: tuple[_GoogleCloud, str], tmp_path: Path
) -> None:
    state, host = google_cloud
    base = f"http://{host}"
    provider = TrustedPublishingProvider(
        env={"GCE_METADATA_HOST": host}, index_url=base, gce_product_file=str(tmp_path / "none")
    )
    creds = _ask(provider, f"{base}/legacy/")
    assert creds.source == "trusted-publishing:google-cloud"
    assert creds.kind is CredentialKind.TRUSTED_PUBLISHING and creds.password.reveal() == CANARY
    assert creds.expires_at is not None and 800 < creds.expires_at - time.time() <= 900
    assert state.minted_with == [state.identity]
    identity_requests = [r for r in state.requests if r[1].startswith("/computeMetadata")]
    assert identity_requests == [
        (
            "GET",
            "/computeMetadata/v1/instance/service-accounts/default/identity"
            "?audience=pypi&format=full",
            "Google",
        )
    ]


def test_google_cloud_detected_from_the_dmi_product_name(
    google_cloud: tuple[_GoogleCloud, str], tmp_path: Path
) -> None:
    state, host = google_cloud
    product = tmp_path / "product_name"
    product.write_text("Standard PC (Q35 + ICH9, 2009)\n")  # a machine elsewhere
    quiet = TrustedPublishingProvider(
        env={}, index_url=f"http://{host}", gce_product_file=str(product)
    )
    assert "not in GitHub Actions, GitLab CI or on Google Cloud" in _skip(
        quiet, f"http://{host}/legacy/"
    )
    assert state.requests == []  # nothing was asked outside Google Cloud
    product.write_text("Google Compute Engine\n")
    # On a GCE VM the metadata host defaults to metadata.google.internal; the test
    # points it at the loopback server, so nothing leaves this machine.
    on_gce = TrustedPublishingProvider(
        env={"GCE_METADATA_HOST": host}, index_url=f"http://{host}", gce_product_file=str(product)
    )
    assert _ask(on_gce, f"http://{host}/legacy/").source == "trusted-publishing:google-cloud"


def test_google_cloud_without_an_identity_says_what_to_do(
    google_cloud: tuple[_GoogleCloud, str], tmp_path: Path
) -> None:
    state, host = google_cloud
    state.identity_status = 404
    provider = TrustedPublishingProvider(
        env={"K_SERVICE": "svc", "GCE_METADATA_HOST": host},
        index_url=f"http://{host}",
        gce_product_file=str(tmp_path / "none"),
    )
    with pytest.raises(TrustedPublishingError) as info:
        provider.provide(Target(url=f"http://{host}/legacy/"))
    assert info.value.status == 404 and "service account" in (info.value.hint or "")
    # A VM (found by its DMI name or GCE_METADATA_HOST) without an identity: "not mine".
    product = tmp_path / "product_name"
    product.write_text("Google\n")
    vm = TrustedPublishingProvider(
        env={"GCE_METADATA_HOST": host}, index_url=f"http://{host}", gce_product_file=str(product)
    )
    assert "no identity token from the Google Cloud metadata server (404)" in _skip(
        vm, f"http://{host}/legacy/"
    )
    assert state.minted_with == []


# --- the canary never leaks ----------------------------------------------------------------


def test_canary_never_leaks_from_cloud_providers(
    fakes: FakeTools,
    google_cloud: tuple[_GoogleCloud, str],
    tmp_path: Path,
    no_pypirc: Path,
    canary_logs: pytest.LogCaptureFixture,
) -> None:
    _, host = google_cloud
    fakes.tool("aws", aws_answer("2031-01-02T03:04:05Z"))
    fakes.tool("gcloud", CANARY + "\n")
    fakes.tool("az", az_answer(int(time.time()) + 3600))
    fakes.tool("my-helper", f"username=u\npassword={CANARY}\n")
    cases: list[tuple[Any, str]] = [
        (CodeArtifactProvider(fakes.env(), use_boto3=False), CA_URL),
        (ArtifactRegistryProvider(fakes.env(), use_google_auth=False), GAR_URL),
        (AzureArtifactsProvider(fakes.env()), AZ_URL),
        (AzureArtifactsProvider(fakes.env(TF_BUILD="True", SYSTEM_ACCESSTOKEN=CANARY)), AZ_URL),
        (
            CredentialHelperProvider(
                env=fakes.env(REGISTRY_UPLOAD_CREDENTIAL_HELPER="my-helper"),
                pypirc=no_pypirc,
            ),
            GAR_URL,
        ),
        (
            TrustedPublishingProvider(
                env={"GCE_METADATA_HOST": host},
                index_url=f"http://{host}",
                gce_product_file=str(tmp_path / "none"),
            ),
            f"http://{host}/legacy/",
        ),
    ]
    seen: list[object] = []
    for provider, url in cases:
        chain = CredentialChain([provider])
        resolution = chain.resolve(url)
        creds = resolution.require()
        assert creds.password.reveal() == CANARY
        seen += [resolution, resolution.describe(), resolution.to_dict(), creds, chain]
        seen.append(json.dumps(resolution.to_dict()))
    # Failures too: a tool that printed the token and then failed.
    fakes.tool("aws", aws_answer("x"), err=f"token {CANARY} rejected\n", exit=1)
    failed = CredentialChain([CodeArtifactProvider(fakes.env(), use_boto3=False)]).resolve(
        CA_URL, record_errors=True
    )
    seen += [failed, failed.describe(), json.dumps(failed.to_dict()), failed.error]
    logging.getLogger("registry_upload").debug("done")
    assert_no_canary(*seen, *(r.getMessage() for r in canary_logs.records))
