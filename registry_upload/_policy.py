"""Detectors for registries' upload rules (private): one function per finding code.

A registry's profile lists its rules as data (``Profile.upload_rules``: code,
source, hint); each code is detected here from an opened
:class:`~registry_upload.distribution.Distribution` -- its core metadata, its
filename and its member names -- without the network.  A detector answers
``(field, message)`` pairs; ``checks.judge`` turns them into findings under
the registry's rule.  Codes the inspector or the description check already
report (``local-version``, ``description-render-failed`` ...) have no
detector here.
"""

from __future__ import annotations

import configparser
import csv
import email.utils
import functools
import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from .distribution import Distribution
from .inspect import top_directory
from .registries._pypi import METADATA_VERSIONS, valid_platform_tag

__all__ = ["DETECTORS", "FILE_SIZE_WARNING", "Detector", "Hit"]

logger = logging.getLogger(__name__)

#: A field (or None) and a message.
Hit = tuple[str | None, str]
Detector = Callable[[Distribution], list[Hit]]

#: PyPI's default per-file limit (warehouse: ``upload_limit_size``), 100 MiB.
FILE_SIZE_WARNING = 100 << 20
_SUMMARY_LIMIT = 512
_URL_LABEL_LIMIT = 32
_PLACEHOLDER = "UNKNOWN"


def _is_wheel(dist: Distribution) -> bool:
    return dist.filetype == "bdist_wheel"


def _dist_info(dist: Distribution) -> str:
    """The .dist-info directory PyPI looks in: named from the filename as it is spelt."""
    name, version, _ = dist.filename.split("-", 2)
    return f"{name}-{version}.dist-info"


def _mv_at_least(dist: Distribution, minimum: str) -> bool:
    try:
        return Version(dist.metadata_version) >= Version(minimum)
    except InvalidVersion:
        return False


def wheel_filename(dist: Distribution) -> list[Hit]:
    if not _is_wheel(dist):
        return []
    spelt = dist.filename.split("-", 1)[0]
    expected = canonicalize_name(dist.name).replace("-", "_")
    if spelt == expected:
        return []
    return [
        (
            "name",
            f"wheel filename {dist.filename!r} starts with {spelt!r}, not the normalised "
            f"project name {expected!r}",
        )
    ]


def platform_tags(dist: Distribution) -> list[Hit]:
    if not _is_wheel(dist):
        return []
    try:
        tags = parse_wheel_filename(dist.filename)[3]
    except (InvalidWheelFilename, InvalidVersion):
        return []  # the inspector refused it already
    bad = sorted({t.platform for t in tags if not valid_platform_tag(t.platform)})
    return [(None, f"platform tag {tag!r} is not one PyPI accepts") for tag in bad]


def metadata_version(dist: Distribution) -> list[Hit]:
    mv = dist.metadata_version
    if mv in METADATA_VERSIONS or mv == "2.0":  # 2.0 has its own finding
        return []
    return [("metadata-version", f"Metadata-Version {mv} is not one PyPI accepts yet")]


def direct_references(dist: Distribution) -> list[Hit]:
    hits: list[Hit] = []
    for key, field in (
        ("requires_dist", "requires-dist"),
        ("provides_dist", "provides-dist"),
        ("obsoletes_dist", "obsoletes-dist"),
    ):
        for value in dist.metadata.get(key) or []:  # type: ignore[attr-defined]
            try:
                url = Requirement(value).url
            except InvalidRequirement:
                continue  # invalid Requires-Dist is refused by the inspector
            if url is not None:
                hits.append((field, f"{value!r} is a direct reference (a URL)"))
    return hits


def license_and_expression(dist: Distribution) -> list[Hit]:
    raw = dist.metadata
    if _mv_at_least(dist, "2.4") and raw.get("license") and raw.get("license_expression"):
        return [("license", "both License and License-Expression are present")]
    return []


def license_files(dist: Distribution) -> list[Hit]:
    files = dist.metadata.get("license_files") or []
    if not files:
        return []
    if _is_wheel(dist):
        where = f"{_dist_info(dist)}/licenses"
    else:
        where = next((top_directory(n) for n in dist.members if top_directory(n)), "")
    names = {n[2:] if n.startswith("./") else n for n in dist.members}
    return [
        ("license-file", f"License-File {name!r} is not in the archive at {where}/{name}")
        for name in files
        if f"{where}/{name}" not in names
    ]


def summary_length(dist: Distribution) -> list[Hit]:
    summary = dist.metadata.get("summary") or ""
    if len(summary) <= _SUMMARY_LIMIT:
        return []
    return [("summary", f"the summary is {len(summary)} characters, over {_SUMMARY_LIMIT}")]


def url_labels(dist: Distribution) -> list[Hit]:
    urls = dist.metadata.get("project_urls") or {}
    return [
        ("project-url", f"Project-URL label {label!r} is over {_URL_LABEL_LIMIT} characters")
        for label in urls
        if len(label) > _URL_LABEL_LIMIT
    ]


def _valid_url(url: str) -> bool:
    if not url or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https")


def _bad_value(value: str, what: str) -> str:
    if value.strip() == _PLACEHOLDER:
        return f"{what} is setuptools' placeholder {_PLACEHOLDER!r}"
    return f"{what} {value!r} is not valid"


def urls(dist: Distribution) -> list[Hit]:
    raw = dist.metadata
    given = [
        (field, label, value)
        for key, field, label in (
            ("home_page", "home-page", "Home-page"),
            ("download_url", "download-url", "Download-URL"),
        )
        if (value := raw.get(key)) is not None
    ]
    given.extend(
        ("project-url", f"Project-URL {label!r}", url)
        for label, url in (raw.get("project_urls") or {}).items()
        if url
    )
    return [
        (field, _bad_value(str(value), f"{label} (an http(s) URL)"))
        for field, label, value in given
        if not _valid_url(str(value))
    ]


_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def emails(dist: Distribution) -> list[Hit]:
    hits: list[Hit] = []
    for key, field in (("author_email", "author-email"), ("maintainer_email", "maintainer-email")):
        value = dist.metadata.get(key)
        if value is None:
            continue
        _, address = email.utils.parseaddr(value)  # type: ignore[arg-type]
        if address and not _ADDRESS.fullmatch(address):
            hits.append((field, _bad_value(address, f"{field.capitalize()} (an address)")))
    return hits


@functools.cache
def _trove() -> tuple[frozenset[str], dict[str, list[str]]] | None:
    """trove-classifiers' lists, imported on first use (only PyPI's rules ask)."""
    try:
        import trove_classifiers
    except ImportError:
        return None
    return frozenset(trove_classifiers.all_classifiers), dict(
        trove_classifiers.deprecated_classifiers
    )


def unknown_classifiers(dist: Distribution) -> list[Hit]:
    given = set(dist.metadata.get("classifiers") or [])
    trove = _trove() if given else None
    if trove is None:
        return []
    return [(None, f"classifier {c!r} is not a valid classifier") for c in sorted(given - trove[0])]


def deprecated_classifiers(dist: Distribution) -> list[Hit]:
    given = set(dist.metadata.get("classifiers") or [])
    trove = _trove() if given else None
    if trove is None:
        return []
    hits: list[Hit] = []
    for c in sorted(given & trove[1].keys()):
        instead = trove[1][c]
        use = f"; use one of {instead} instead" if instead else ""
        hits.append(("classifier", f"classifier {c!r} is deprecated{use}"))
    return hits


def classifiers_unchecked(dist: Distribution) -> list[Hit]:
    if not dist.metadata.get("classifiers") or _trove() is not None:
        return []
    return [("classifier", "classifiers not checked: the trove-classifiers package is missing")]


_ENTRY_POINT_NAME = re.compile(r"[\w.-]+")


class _CaseSensitive(configparser.ConfigParser):
    def optionxform(self, optionstr: str) -> str:
        return optionstr


def entry_points(dist: Distribution) -> list[Hit]:
    if not _is_wheel(dist):
        return []
    member = f"{_dist_info(dist)}/entry_points.txt"
    data = dist.read_member(member)
    if data is None:
        return []
    try:
        text = data.decode("utf-8")
        parser = _CaseSensitive(delimiters=("=",), interpolation=None)
        parser.read_string(text)
    except UnicodeDecodeError:
        return [(None, f"{member} is not UTF-8")]
    except configparser.Error as exc:
        return [(None, f"{member} is not a valid INI file ({str(exc).splitlines()[0]})")]
    return [
        (None, f"entry point name {name!r} in [{section}] of {member} is invalid")
        for section in ("console_scripts", "gui_scripts")
        if parser.has_section(section)
        for name in parser[section]
        if not _ENTRY_POINT_NAME.fullmatch(name)
    ]


def record(dist: Distribution) -> list[Hit]:
    if not _is_wheel(dist):
        return []
    member = f"{_dist_info(dist)}/RECORD"
    if member not in dist.members:
        return [(None, f"the wheel has no {member}")]
    data = dist.read_member(member)
    if data is None:
        return []  # too large to read here: PyPI reads it, we cannot tell
    try:
        list(csv.reader(data.decode("utf-8").splitlines()))
    except (UnicodeDecodeError, csv.Error) as exc:
        return [(None, f"{member} is not a readable UTF-8 CSV file ({exc})")]
    return []


def file_size(dist: Distribution) -> list[Hit]:
    if dist.size <= FILE_SIZE_WARNING:
        return []
    return [(None, f"the file is {dist.size / (1 << 20):.1f} MiB, over PyPI's default 100 MiB")]


#: Finding code -> its detector, for every rule code not found by the inspector.
DETECTORS: dict[str, Detector] = {
    "wheel-filename-not-normalized": wheel_filename,
    "platform-tag-unsupported": platform_tags,
    "metadata-version-unsupported": metadata_version,
    "direct-reference": direct_references,
    "license-with-license-expression": license_and_expression,
    "license-file-missing": license_files,
    "summary-too-long": summary_length,
    "project-url-label-too-long": url_labels,
    "invalid-url": urls,
    "invalid-email": emails,
    "classifier-invalid": unknown_classifiers,
    "classifier-deprecated": deprecated_classifiers,
    "classifiers-unchecked": classifiers_unchecked,
    "entry-points-invalid": entry_points,
    "record-missing": record,
    "file-too-large": file_size,
}
