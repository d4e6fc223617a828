"""Replays of registries' documented answers (status + headers + body) through a real
upload to a loopback server: each must come back as the right error class and hint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from registry_upload import (
    AuthenticationError,
    CredentialKind,
    Credentials,
    FileExistsOnRegistryError,
    PermissionDeniedError,
    RateLimitedError,
    RejectedError,
    RepositoryNotFoundError,
    RetryPolicy,
    ServerError,
    upload,
)
from registry_upload.diagnostics import classify, server_message
from registry_upload.errors import UploadError
from registry_upload.registries import GENERIC_RULES, PROFILES
from registry_upload.repository import Registry, Repository, detect_registry
from registry_upload.testing import Action, FakeRegistry, Reply, make_wheel
from registry_upload.transport import Response

from .conftest import CANARY, assert_no_canary

GITLAB = "/api/v4/projects/42/packages/pypi"
JSON = {"Content-Type": "application/json"}

# (id, path, headers, status, body, reason, credential kind, error class, hint words)
REPLAYS = [
    (
        "gitlab-404-job-token",
        GITLAB,
        JSON,
        404,
        '{"message":"404 Project Not Found"}',
        None,
        CredentialKind.GITLAB_JOB_TOKEN,
        RepositoryNotFoundError,
        ["allowlist", "Settings > CI/CD > Job token permissions"],
    ),
    (
        "gitlab-404-token",
        GITLAB,
        JSON,
        404,
        '{"message":"404 Project Not Found"}',
        None,
        CredentialKind.PASSWORD,
        RepositoryNotFoundError,
        ["URL-encode"],
    ),
    (
        "gitlab-403-allowlist",
        GITLAB,
        JSON,
        403,
        '{"message":"403 Forbidden - Authentication by CI/CD job token not allowed from '
        'group/source to group/target"}',
        None,
        CredentialKind.GITLAB_JOB_TOKEN,
        PermissionDeniedError,
        ["Job token permissions"],
    ),
    (
        "gitlab-403-admin-packages",
        GITLAB,
        JSON,
        403,
        '{"message":"403 Forbidden - The following token permission is required: admin_packages"}',
        None,
        CredentialKind.GITLAB_JOB_TOKEN,
        PermissionDeniedError,
        ["Packages read and write"],
    ),
    (
        "gitlab-401",
        GITLAB,
        {"WWW-Authenticate": 'Basic realm="GitLab Packages Registry"'},
        401,
        '{"message":"401 Unauthorized"}',
        None,
        CredentialKind.PASSWORD,
        AuthenticationError,
        ["api scope", "gitlab-ci-token"],
    ),
    (
        "gitlab-taken",
        GITLAB,
        JSON,
        400,
        '{"message":"400 Bad request - File name has already been taken"}',
        None,
        CredentialKind.PASSWORD,
        FileExistsOnRegistryError,
        ["Bump the version"],
    ),
    (
        "pypi-bad-token",
        "/legacy/",
        {},
        403,
        "",
        "Invalid or non-existent authentication information.",
        CredentialKind.API_TOKEN,
        AuthenticationError,
        ["__token__"],
    ),
    (
        "pypi-exists-json",
        "/legacy/",
        JSON,
        400,
        "{\"message\": \"400 File already exists ('x.whl', with blake2_256 hash 'ab').\","
        ' "code": "400 Bad Request", "title": "Bad Request"}',
        "Bad Request",
        CredentialKind.API_TOKEN,
        FileExistsOnRegistryError,
        ["Bump the version"],
    ),
    (
        "pypi-not-owner",
        "/legacy/",
        {},
        403,
        "",
        "The user 'x' isn't allowed to upload to project 'y'.",
        CredentialKind.API_TOKEN,
        PermissionDeniedError,
        ["normalised project name"],
    ),
    (
        "pypi-render",
        "/legacy/",
        {},
        400,
        "",
        "The description failed to render for 'text/x-rst'.",
        CredentialKind.API_TOKEN,
        RejectedError,
        ["Description-Content-Type"],
    ),
    (
        "pypi-new-projects",
        "/legacy/",
        {},
        429,
        "",
        "Too many new projects created",
        CredentialKind.API_TOKEN,
        RateLimitedError,
        ["Wait"],
    ),
    (
        "artifactory-overwrite",
        "/artifactory/api/pypi/pypi-local",
        {"X-Artifactory-Id": "abc"},
        403,
        '{"errors":[{"status":403,"message":"Not enough permissions to delete/overwrite artifact"}]}',
        None,
        CredentialKind.PASSWORD,
        FileExistsOnRegistryError,
        ["Delete"],
    ),
    (
        "nexus-redeploy",
        "/repository/pypi-hosted/",
        {"Server": "Nexus/3.61.0-02 (OSS)"},
        400,
        "<html><body><h1>Repository does not allow updating assets: pypi-hosted</h1></body></html>",
        None,
        CredentialKind.PASSWORD,
        FileExistsOnRegistryError,
        ["Bump the version"],
    ),
    (
        "azure-exists",
        "/org/_packaging/feed/pypi/upload/",
        {"X-VSS-E2EID": "1"},
        409,
        "{\"message\":\"The feed already contains file 'x.whl' in package 'x 1.0'.\"}",
        None,
        CredentialKind.PASSWORD,
        FileExistsOnRegistryError,
        ["immutable"],
    ),
    (
        "devpi-exists",
        "/user/dev/",
        {"X-DEVPI-API-VERSION": "2"},
        409,
        '{"message": "demo-1.0.whl already exists in non-volatile index"}',
        None,
        CredentialKind.PASSWORD,
        FileExistsOnRegistryError,
        ["Bump the version"],
    ),
    (
        "devpi-mirror",
        "/root/pypi/",
        {"X-DEVPI-SERVER-VERSION": "6"},
        404,
        '{"message": "cannot submit to mirror index"}',
        None,
        CredentialKind.PASSWORD,
        RepositoryNotFoundError,
        ["stage index"],
    ),
    (
        "pypi-release-closed",
        "/legacy/",
        {},
        400,
        "",
        "Cannot add files to release 'demo 1.0': the release is closed to new files "
        "because it is older than 14 days.",
        CredentialKind.API_TOKEN,
        RejectedError,
        ["post-release"],
    ),
    (
        "pypi-file-too-large",
        "/legacy/",
        {},
        400,
        "",
        "File too large. Limit for project 'demo' is 100 MB. See "
        "https://docs.pypi.org/project-management/storage-limits#requesting-a-file-size-limit-increase",
        CredentialKind.API_TOKEN,
        RejectedError,
        ["File size limit request"],
    ),
    (
        "nexus-cannot-be-updated",
        "/repository/pypi-hosted/",
        {"Server": "Nexus/3.61.0-02 (OSS)"},
        400,
        "Repository does not allow updating assets: pypi-hosted",
        None,
        CredentialKind.PASSWORD,
        FileExistsOnRegistryError,
        ["Bump the version"],
    ),
    (
        "nexus-asset-cannot-be-updated",
        "/repository/pypi-hosted/",
        {},
        400,
        "Asset packages/demo/1.0/demo-1.0-py3-none-any.whl cannot be updated",
        None,
        CredentialKind.PASSWORD,
        FileExistsOnRegistryError,
        ["Bump the version"],
    ),
    (
        "artifactory-hidden-404",
        "/artifactory/api/pypi/pypi-local",
        {"X-JFrog-Version": "Artifactory/7.77.5"},
        404,
        '{"errors":[{"status":404,"message":"Not Found"}]}',
        None,
        CredentialKind.PASSWORD,
        RepositoryNotFoundError,
        ["read access"],
    ),
    (
        "azure-package-already-exists",
        "/org/_packaging/feed/pypi/upload/",
        {"X-TFS-Session": "1"},
        409,
        '{"$id":"1","innerException":null,"message":"The feed \'feed\' already contains '
        "file 'demo-1.0-py3-none-any.whl' in package 'demo 1.0'.\",\"typeName\":"
        '"Microsoft.VisualStudio.Services.Packaging.Shared.WebApi.Exceptions.'
        'PackageAlreadyExistsException"}',
        None,
        CredentialKind.PASSWORD,
        FileExistsOnRegistryError,
        ["immutable"],
    ),
    (
        "gitlab-400-taken",
        GITLAB,
        JSON,
        400,
        '{"message":"Validation failed: File name has already been taken"}',
        None,
        CredentialKind.PASSWORD,
        FileExistsOnRegistryError,
        ["Bump the version"],
    ),
    (
        "devpi-401",
        "/user/dev/",
        {"X-DEVPI-SERVER-VERSION": "6.14.0"},
        401,
        '{"message": "could not authenticate"}',
        None,
        CredentialKind.PASSWORD,
        AuthenticationError,
        ["devpi login"],
    ),
    (
        "devpi-403",
        "/user/dev/",
        {"X-DEVPI-SERVER-VERSION": "6.14.0"},
        403,
        '{"message": "user bob has no permission to upload to user/dev"}',
        None,
        CredentialKind.PASSWORD,
        PermissionDeniedError,
        ["acl_upload"],
    ),
    (
        "pypiserver-401",
        "/",
        {"WWW-Authenticate": 'Basic realm="pypi"'},
        401,
        "",
        None,
        CredentialKind.PASSWORD,
        AuthenticationError,
        ["htpasswd"],
    ),
    (
        "unknown-500",
        "/",
        {},
        500,
        "Internal Server Error",
        None,
        CredentialKind.PASSWORD,
        ServerError,
        ["temporary"],
    ),
]


def _registry_words(body: str, reason: str | None) -> str:
    """What the registry said in a replayed answer, worked out independently of the code
    under test: the first JSON "message", the text of an HTML page, the plain body, or the
    reason phrase when the body is empty."""
    if not body:
        return reason or ""
    try:
        data = json.loads(body)
    except ValueError:
        return re.sub(r"<[^>]*>", " ", body).strip()
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            if isinstance(item.get("message"), str):
                return str(item["message"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return body


@pytest.mark.parametrize("row", REPLAYS, ids=[r[0] for r in REPLAYS])
def test_replayed_answer_is_classified(tmp_path: Path, row: tuple) -> None:  # type: ignore[type-arg]
    _id, path, headers, status, body, reason, kind, error_class, hint_words = row
    wheel = make_wheel(tmp_path, "demo", "1.0")
    creds = Credentials.of("someone", CANARY, kind=kind)
    reply = Reply(status, body, dict(headers), reason=reason)
    with FakeRegistry(path=path, default=Action("reply", reply)) as reg:
        report = upload([wheel], reg.url, credentials=creds, retry=RetryPolicy(attempts=1))
    (result,) = report.results
    error = result.error
    assert isinstance(error, error_class), (type(error), error)
    assert isinstance(error, UploadError)
    assert error.status == status
    assert f"answered {status}" in error.message
    for word in hint_words:
        assert word.lower() in (error.hint or "").lower(), error.hint
    words = _registry_words(body, reason)
    if words:
        # the registry's own words are kept, and shown to the user
        assert words in (error.server_message or ""), (words, error.server_message)
        assert words in str(error), (words, str(error))
    assert_no_canary(error, repr(error), report.to_dict())


def test_gitlab_job_token_404_says_everything_the_user_needs() -> None:
    response = Response(
        404,
        "Not Found",
        {"content-type": "application/json"},
        b'{"message":"404 Project Not Found"}',
        "",
    )
    url = "https://gitlab.example.com" + GITLAB
    diagnosis = classify(response, url=url, filename="x.whl", job_token=True)
    error = diagnosis.error
    assert "\n" not in str(error)  # one line; the hint is an attribute
    text = f"{error}\nhint: {error.hint}"
    assert "answered 404" in text
    assert "404 Project Not Found" in text
    assert "job token" in text.lower() and "allowlist" in text
    assert "target project" in text and "Settings > CI/CD > Job token permissions" in text


def test_reason_phrase_is_the_message_when_body_is_empty() -> None:
    response = Response(400, "File already exists ('a.whl').", {}, b"", "")
    assert server_message(response) == "File already exists ('a.whl')."


def test_html_bodies_are_reduced_to_text() -> None:
    body = b"<html><head><title>t</title><style>x{}</style></head><body><h1>Nope</h1>&amp; more</body></html>"
    assert server_message(Response(400, "Bad Request", {}, body, "")) == "Nope & more"


def test_every_rule_has_a_meaning_and_the_table_ends_with_a_catch_all() -> None:
    rules = [rule for p in PROFILES for rule in p.rules] + list(GENERIC_RULES)
    assert all(rule.meaning for rule in rules)
    last = GENERIC_RULES[-1]
    assert not last.statuses and not last.text


@pytest.mark.parametrize(
    ("url", "headers", "expected", "index"),
    [
        ("https://upload.pypi.org/legacy/", {}, Registry.PYPI, "https://pypi.org/simple/"),
        ("https://test.pypi.org/legacy/", {}, Registry.TESTPYPI, "https://test.pypi.org/simple/"),
        (
            "https://gitlab.com/api/v4/projects/1/packages/pypi",
            {},
            Registry.GITLAB,
            "https://gitlab.com/api/v4/projects/1/packages/pypi/simple/",
        ),
        (
            "https://x.jfrog.io/artifactory/api/pypi/local",
            {},
            Registry.ARTIFACTORY,
            "https://x.jfrog.io/artifactory/api/pypi/local/simple/",
        ),
        (
            "https://pkgs.dev.azure.com/o/p/_packaging/f/pypi/upload/",
            {},
            Registry.AZURE,
            "https://pkgs.dev.azure.com/o/p/_packaging/f/pypi/simple/",
        ),
        (
            "https://d-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/r/",
            {},
            Registry.CODEARTIFACT,
            "https://d-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/r/simple/",
        ),
        (
            "https://europe-python.pkg.dev/p/r/",
            {},
            Registry.GOOGLE,
            "https://europe-python.pkg.dev/p/r/simple/",
        ),
        (
            "https://nexus.corp/repository/pypi-hosted/",
            {},
            Registry.NEXUS,
            "https://nexus.corp/repository/pypi-hosted/simple/",
        ),
        (
            "http://127.0.0.1:3141/user/dev/",
            {"X-Devpi-Server-Version": "6"},
            Registry.DEVPI,
            "http://127.0.0.1:3141/user/dev/+simple/",
        ),
        (
            "http://127.0.0.1:8080/",
            {"WWW-Authenticate": 'Basic realm="pypi"'},
            Registry.PYPISERVER,
            "http://127.0.0.1:8080/simple/",
        ),
    ],
)
def test_registry_detection_and_index(
    url: str, headers: dict[str, str], expected: str, index: str
) -> None:
    registry = detect_registry(url, headers)
    assert registry == expected
    assert Repository(url).simple_index_url(registry) == index


def test_credentials_in_a_url_are_dropped() -> None:
    repo = Repository(f"https://user:{CANARY}@example.org/legacy/")
    assert repo.url == "https://example.org/legacy/"
    assert_no_canary(repo, repr(repo))
