"""PyPI and TestPyPI (warehouse), and any other warehouse instance.

Rows from warehouse ``forklift/legacy.py``: warehouse answers in the HTTP
reason phrase (and the body), 400 for bad files and metadata, 403 for
credentials and rights.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import SplitResult

from ..errors import (
    AuthenticationError,
    FileExistsOnRegistryError,
    PermissionDeniedError,
    RateLimitedError,
    RejectedError,
    RepositoryNotFoundError,
    ServerError,
)
from ._hints import BUMP, SAME_FILE
from ._model import Profile, Rule, UploadRule

__all__ = [
    "METADATA_VERSIONS",
    "PYPI",
    "TESTPYPI",
    "TEST_UPLOAD_URL",
    "UPLOAD_RULES",
    "UPLOAD_URL",
    "valid_platform_tag",
    "warehouse_site",
]

UPLOAD_URL = "https://upload.pypi.org/legacy/"
TEST_UPLOAD_URL = "https://test.pypi.org/legacy/"

_TOKEN = (
    "Use the username __token__ with an API token as the password; "
    "PyPI and TestPyPI tokens are different."
)
_UPLOAD_ENDPOINT = "Use PyPI's upload endpoint (https://upload.pypi.org/legacy/)"


#: Upload host -> the site that serves its index and trusted publishing (/_/oidc/).
_SITES = {"upload.pypi.org": "https://pypi.org", "test.pypi.org": "https://test.pypi.org"}


def warehouse_site(upload_host: str) -> str | None:
    """PyPI's or TestPyPI's site for an upload host (``None`` for any other host)."""
    return _SITES.get(upload_host.lower())


def _index_url(parts: SplitResult) -> str:
    host = "pypi.org" if parts.hostname == "upload.pypi.org" else parts.netloc
    return f"{parts.scheme}://{host}/simple/"


#: The Metadata-Versions warehouse accepts (forklift/metadata.py SUPPORTED_METADATA_VERSIONS).
METADATA_VERSIONS = frozenset({"1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"})

# Wheel platform tags warehouse accepts (forklift/legacy.py _valid_platform_tag).
_PLATFORMS = frozenset(
    {"any", "win32", "win_arm64", "win_amd64", "win_ia64", "linux_armv6l", "linux_armv7l"}
    | {f"manylinux1_{a}" for a in ("x86_64", "i686")}
    | {f"manylinux2010_{a}" for a in ("x86_64", "i686")}
    | {
        f"manylinux2014_{a}"
        for a in ("x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x")
    }
)
_LINUX_ARCHES = frozenset({"x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64"})
_MACOS_ARCHES = "ppc|ppc64|i386|x86_64|arm64|intel|fat|fat3|fat64|universal|universal2"
_PLATFORM_PATTERNS = (
    rf"macosx_10_\d+_(?:{_MACOS_ARCHES})",
    rf"macosx_(?:11|12|13|14|15|26)_0_(?:{_MACOS_ARCHES})",
    r"manylinux_\d+_\d+_(?:{})".format("|".join(sorted(_LINUX_ARCHES | {"ppc64"}))),
    r"musllinux_\d+_\d+_(?:{})".format("|".join(sorted(_LINUX_ARCHES))),
    r"ios_\d+_\d+_(?:arm64|x86_64)_(?:iphoneos|iphonesimulator)",
    r"android_\d+_(?:armeabi_v7a|arm64_v8a|x86|x86_64)",
    r"pyemscripten_\d+_\d+_wasm32",
)


@functools.cache
def _platform_re() -> re.Pattern[str]:
    """The patterns, compiled on first use (every upload imports this module)."""
    return re.compile("|".join(f"(?:{p})" for p in _PLATFORM_PATTERNS))


def valid_platform_tag(platform: str) -> bool:
    """Whether PyPI accepts a wheel's platform tag (``linux_x86_64``, ``pyodide_*``: no)."""
    return platform in _PLATFORMS or _platform_re().fullmatch(platform) is not None


_LEGACY = "warehouse forklift/legacy.py"
_META = "warehouse forklift/metadata.py (_validate_metadata)"
_WHEEL = "warehouse utils/wheel.py"
_REBUILD = "Upgrade the build backend and rebuild"

#: PyPI's upload rules: what warehouse answers with a 400 (or warns about),
#: each detected before anything is sent (``registry_upload.checks``).
UPLOAD_RULES = (
    UploadRule(
        "wheel-filename-not-normalized",
        f"{_LEGACY} file_upload (PEP 427 / PEP 503: enforcement of project name "
        "normalization, since October 2025)",
        f"{_REBUILD} (current setuptools, hatchling, flit-core, pdm-backend, poetry-core and "
        "maturin write normalised names). Renaming the file is not enough: PyPI then looks "
        "for <normalised name>-<version>.dist-info/RECORD inside it.",
    ),
    UploadRule(
        "sdist-filename-not-normalized",
        f"{_LEGACY} file_upload (PEP 625: enforcement of source distribution filename "
        "normalization)",
        f"{_REBUILD}: the sdist must be named <normalised_name>-<version>.tar.gz.",
    ),
    UploadRule(
        "platform-tag-unsupported",
        f"{_LEGACY} _valid_platform_tag",
        "PyPI accepts manylinux/musllinux, macOS, Windows, iOS, Android and pyemscripten "
        "wheels. Repair a linux_* wheel with auditwheel (`auditwheel repair`) or build it "
        "with cibuildwheel; a pyodide_* wheel is published as pyemscripten_* or elsewhere.",
    ),
    UploadRule(
        "metadata-version-2.0",
        f"{_META} SUPPORTED_METADATA_VERSIONS",
        f"{_REBUILD}: current backends write Metadata-Version 2.1 or later.",
    ),
    UploadRule(
        "metadata-version-unsupported",
        f"{_META} SUPPORTED_METADATA_VERSIONS (1.0, 1.1, 1.2, 2.1-2.5)",
        "PyPI does not accept this Metadata-Version yet (packaging writes 2.6, which PyPI "
        "refuses until warehouse supports it): pin the build backend to one that writes "
        "2.5 or earlier, or wait for PyPI.",
    ),
    UploadRule(
        "local-version",
        f"{_META} (local versions)",
        "Drop the +local label for PyPI: local versions are for private indexes.",
    ),
    UploadRule(
        "direct-reference",
        f'{_META} ("Can\'t have direct dependency")',
        "Depend on a released version from the index (`foo >= 1.2`); a direct reference "
        "(`foo @ git+https://...` or a URL) is allowed only on private indexes.",
    ),
    UploadRule(
        "license-with-license-expression",
        f"{_META} (PEP 639: License is deprecated when License-Expression is present)",
        'Keep only `license = "<SPDX expression>"` in [project] of pyproject.toml; remove '
        "the old License field (the `license = {text = ...}` table or a setup.py license=).",
    ),
    UploadRule(
        "license-file-missing",
        f"{_LEGACY} file_upload (PEP 639: every License-File exists in the distribution)",
        "List only files that exist (`license-files` in pyproject.toml), and let the "
        "backend copy them: a wheel holds them in <name>-<version>.dist-info/licenses/, an "
        "sdist beside PKG-INFO.",
    ),
    UploadRule(
        "summary-too-long",
        f"{_META} (_LENGTH_LIMITS: summary 512 characters)",
        "Shorten `description` in [project] (the one-line Summary) to 512 characters; "
        "longer text belongs in the README.",
    ),
    UploadRule(
        "project-url-label-too-long",
        f"{_META} (Project-URL labels: 32 characters or less)",
        "Shorten the key under [project.urls] to 32 characters or less.",
    ),
    UploadRule(
        "invalid-url",
        f"{_META} (Home-page, Download-URL and Project-URL must be valid http(s) URLs)",
        "Set real http(s) URLs under [project.urls], or leave them out; setuptools writes the "
        "placeholder UNKNOWN when url= is missing in old setup.py files.",
    ),
    UploadRule(
        "invalid-email",
        f"{_META} (Author-email and Maintainer-email must be valid addresses)",
        'Give a real address (`authors = [{name = "...", email = "..."}]`) or leave '
        "the email out; setuptools writes the placeholder UNKNOWN.",
    ),
    UploadRule(
        "classifier-invalid",
        f"{_META} (classifiers from the trove-classifiers package)",
        "Use classifiers listed at https://pypi.org/classifiers/ (the trove-classifiers "
        "package); check spelling and spacing.",
    ),
    UploadRule(
        "classifier-deprecated",
        f"{_META} (deprecated_classifiers from the trove-classifiers package)",
        "Replace the deprecated classifier (the message names its successor); license "
        "classifiers give way to a License-Expression (PEP 639).",
    ),
    UploadRule(
        "classifiers-unchecked",
        f"{_META} (classifiers from the trove-classifiers package)",
        "Install trove-classifiers (pip install trove-classifiers) to check classifiers "
        "as PyPI does.",
        refuse=False,
    ),
    UploadRule(
        "entry-points-invalid",
        f"{_WHEEL} validate_entrypoints",
        "Fix [project.scripts] / [project.entry-points]: entry_points.txt must be UTF-8 INI "
        "with `name = module:attr` lines, and script names only letters, digits, '_', '.', "
        "'-'.",
    ),
    UploadRule(
        "record-missing",
        f"{_WHEEL} validate_record",
        f"{_REBUILD}: a wheel needs <name>-<version>.dist-info/RECORD (UTF-8 CSV), named as "
        "its filename is.",
    ),
    UploadRule(
        "tar-sparse-member",
        f"{_LEGACY} _is_valid_dist_file (sparse members are not allowed)",
        "Rebuild the sdist with the build backend (python -m build): GNU tar's --sparse "
        "writes sparse members.",
    ),
    UploadRule(
        "file-too-large",
        f"{_LEGACY} file_upload (upload_limit_size, 100 MiB unless raised for the project)",
        "PyPI refuses files over the project's limit (100 MiB by default): ask for a higher "
        "limit before uploading (https://github.com/pypi/support, 'File size limit "
        "request'; see https://docs.pypi.org/project-management/storage-limits/), or "
        "shrink the file.",
        refuse=False,
    ),
    UploadRule(
        "description-render-failed",
        f"{_LEGACY} file_upload (readme.render(..., use_fallback=False))",
        "Set Description-Content-Type to match the README (text/markdown for .md) and "
        "preview it with `python -m readme_renderer README`.",
    ),
    UploadRule(
        "description-render-timeout",
        f"{_LEGACY} file_upload (readme.render)",
        "Simplify the README (deep nesting, huge tables); PyPI renders it on upload.",
    ),
    UploadRule(
        "description-too-deeply-nested",
        f"{_LEGACY} file_upload (readme.render)",
        "Remove the deep nesting from the README; PyPI renders it on upload.",
    ),
    UploadRule(
        "sdist-already-in-release",
        f'{_LEGACY} file_upload ("Only one sdist may be uploaded per release.")',
        "A release holds one sdist: upload the wheels alone, or publish a new version.",
    ),
)


def _refused(code: str, texts: tuple[str, ...], meaning: str) -> Rule:
    """A diagnostics row for PyPI's answer to a file that breaks upload rule ``code``."""
    (rule,) = (r for r in UPLOAD_RULES if r.code == code)
    return Rule((400,), texts, RejectedError, meaning, rule.hint)


#: PyPI's 400 answers for its upload rules (lower-case text), tried before the
#: general filename and metadata rows below.
_RULE_ANSWERS = (
    _refused(
        "wheel-filename-not-normalized",
        ("should contain the normalized project name",),
        "the wheel's filename does not start with the normalised project name",
    ),
    _refused(
        "platform-tag-unsupported",
        ("unsupported platform tag",),
        "PyPI does not accept the wheel's platform tag",
    ),
    _refused(
        "direct-reference",
        ("can't have direct dependency",),
        "a dependency is a direct reference (a URL)",
    ),
    _refused(
        "license-with-license-expression",
        ("license is deprecated when license-expression is present",),
        "License and License-Expression are both present",
    ),
    _refused(
        "license-file-missing",
        ("does not exist in distribution file",),
        "a License-File is missing from the archive",
    ),
    _refused(
        "record-missing", ("does not contain the required record file",), "the wheel has no RECORD"
    ),
    _refused(
        "entry-points-invalid",
        ("has invalid entry points",),
        "the wheel's entry_points.txt is invalid",
    ),
    _refused(
        "tar-sparse-member",
        ("sparse members are not allowed",),
        "the sdist holds sparse tar members",
    ),
    _refused(
        "classifier-deprecated",
        ("has been deprecated, use", "has been deprecated."),
        "a classifier is deprecated",
    ),
    _refused("classifier-invalid", ("is not a valid classifier",), "a classifier is unknown"),
    _refused("summary-too-long", ("'summary' field must be",), "the summary is too long"),
    _refused(
        "project-url-label-too-long",
        ("must be 32 characters or less",),
        "a Project-URL label is too long",
    ),
    _refused("invalid-email", ("is not a valid email address",), "an email address is invalid"),
    _refused("invalid-url", ("is not a valid url",), "a URL is invalid"),
    _refused(
        "metadata-version-unsupported",
        ("is not a valid metadata version",),
        "PyPI does not accept this Metadata-Version",
    ),
    _refused("local-version", ("use of local versions",), "the version has a local label"),
)

# fmt: off
R = Rule
RULES = (
    R((403,), ("invalid or non-existent authentication",), AuthenticationError,
      "the token is wrong, deleted or missing", _TOKEN),
    R((403,), ("username/password authentication is no longer supported",),
      AuthenticationError, "password login is disabled",
      "Use an API token (username __token__) or trusted publishing."),
    R((403,), ("project-scoped token is not valid", "token is expired", "expired"),
      AuthenticationError, "the token's scope or lifetime does not cover this upload",
      "Use a token scoped to this project, or a fresh one; trusted-publishing tokens live 900 s."),
    R((403,), ("isn't allowed to upload to project",), PermissionDeniedError,
      "the project name belongs to someone else",
      "Check the normalised project name; ask an owner to add you, or rename the project."),
    R((403,), ("verified primary email", "two-factor", "2fa"), PermissionDeniedError,
      "the account lacks a prerequisite",
      "Verify the account's primary email address and enable two-factor authentication."),
    R((403, 503), ("read-only mode", "temporarily disabled"), ServerError,
      "the index is in read-only mode", "Temporary: try again later."),
    R((400, 409), ("file already exists",), FileExistsOnRegistryError,
      "the filename is already used", BUMP + SAME_FILE, exists=True),
    R((400,), ("previously used by a file that has since been deleted",),
      FileExistsOnRegistryError, "filenames can never be reused", BUMP),
    R((400,), ("only one sdist may be uploaded per release",), RejectedError,
      "the release already has an sdist", "Upload one sdist per release."),
    # Releases close to new files some days after they are created.
    R((400,), ("release is closed", "release has been closed", "older than", "no longer accepting"),
      RejectedError, "the release no longer accepts new files",
      "Files can only be added to a recent release: publish the missing files as a new version "
      "(a post-release such as 1.0.post1)."),
    *_RULE_ANSWERS,
    R((429,), ("too many new projects",), RateLimitedError,
      "too many new projects created in a short time",
      "Wait (about an hour) before creating more projects, or create them one at a time."),
    R((400,), ("description failed to render",), RejectedError,
      "the long description does not render",
      "Set Description-Content-Type to match the README and run `registry-upload check`."),
    R((400,), ("should be", "start filename for", "unsupported platform tag"),
      RejectedError, "the filename breaks the index's rules",
      "Rebuild with a current build backend; repair Linux wheels with auditwheel."),
    R((400,), ("is an invalid value for", "is not a valid metadata version",
               "local versions", "classifier"),
      RejectedError, "the index rejected the metadata",
      "Fix the metadata and rebuild; upgrading the build backend fixes most cases."),
    # after the filename and metadata rows: "is invalid" also appears in theirs
    R((400, 409), ("is invalid", "isn't allowed", "too similar to an existing project",
                   "conflicts with an existing project"),
      RejectedError, "the project name breaks the index's rules", "Pick another project name."),
    R((400,), ("file too large", "project size too large"), RejectedError,
      "a size quota was exceeded",
      "PyPI limits file and project size: request a higher limit for this project on PyPI's "
      "support tracker (https://github.com/pypi/support, 'File size limit request' or "
      "'Project size limit request'), or shrink the file."),
    R((400,), ("digest supplied does not match", "invalid distribution file"),
      RejectedError, "the file arrived corrupt or changed", "Rebuild the file and retry."),
    R((400,), ("non-user identities cannot create new projects",), RejectedError,
      "the pending publisher's project name does not match",
      "Make the pending publisher's project name match the distribution name exactly."),
    R((405,), (), RepositoryNotFoundError, "that URL does not accept uploads",
      _UPLOAD_ENDPOINT + ", not the /simple/ URL."),
    R((410,), (), RepositoryNotFoundError, "the endpoint is retired", _UPLOAD_ENDPOINT + "."),
)
del R
# fmt: on

PYPI = Profile(
    id="pypi",
    title="PyPI",
    urls=((r"^upload\.pypi\.org$|^pypi\.org$", None),),
    # Any other warehouse instance (self-hosted, staging) uploads to /legacy/.
    fallback_urls=((None, r"^/legacy/?$"),),
    index_url=_index_url,
    rules=RULES,
    upload_rules=UPLOAD_RULES,
)

TESTPYPI = Profile(
    id="testpypi",
    title="TestPyPI",
    urls=((r"^test\.pypi\.org$", None),),
    index_url=_index_url,
    rules=RULES,
    upload_rules=UPLOAD_RULES,
)
