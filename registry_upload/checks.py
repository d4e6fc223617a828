"""``check()``: everything that would stop an upload, found before any upload.

The library form of ``twine check``, stricter, and judged against a target
registry: archive and metadata problems (all of them, each with its code and
field), unsafe archives, filename/metadata mismatches, the long description
rendered the way PyPI renders it (readme-renderer, imported lazily on first
use), and the target registry's upload rules (``Profile.upload_rules``: for
PyPI, normalised filenames, platform tags, Metadata-Versions, direct
references, classifiers ...).  :func:`judge` is the one place a file meets a
registry's rules: ``check()`` reports what it says and the upload preflight
(:func:`refuse`) refuses on it, so both give the same verdict.  Every step is
bounded: archives by member count and unpacked size (see ``registry_upload.inspect``), the
description by size, nesting depth and a render deadline.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name, canonicalize_version, parse_sdist_filename

from . import registries
from ._paths import collect_for_check
from .distribution import Distribution, no_distributions_error
from .errors import DistributionError
from .registries import Profile
from .registries._model import UploadRule
from .results import CheckReport, Finding, Severity

if TYPE_CHECKING:
    from ._index import IndexLookup

__all__ = [
    "HTML_DEPTH_LIMIT",
    "IN_PROCESS_RENDER_LIMIT",
    "RENDER_DEPTH_LIMIT",
    "RENDER_SIZE_LIMIT",
    "RENDER_TIMEOUT",
    "RST_RENDER_SIZE_LIMIT",
    "check",
    "check_description",
    "judge",
    "refusals",
    "refuse",
    "sdist_conflicts",
    "target_profile",
]

logger = logging.getLogger(__name__)

#: Markdown and plain-text descriptions larger than this are not rendered
#: (rendering costs about 100x their size in memory); a WARNING says so.
RENDER_SIZE_LIMIT = 1 << 20
#: The same for reStructuredText, which docutils renders at about 14 s and
#: 350 MiB per MiB.
RST_RENDER_SIZE_LIMIT = 256 << 10
#: Markdown nested deeper than this (``>`` blockquotes) is refused before
#: rendering: the renderer's time grows with the cube of the depth.
RENDER_DEPTH_LIMIT = 100
#: Raw HTML in markdown nested deeper than this is refused before rendering: the
#: HTML sanitizer's time grows with the square of the depth, in native code that
#: a deadline cannot interrupt.
HTML_DEPTH_LIMIT = 1000
#: Descriptions larger than this are rendered in a child process that is killed at
#: the deadline (the renderers are native code that a thread cannot interrupt, and
#: some inputs cost them quadratic time); smaller ones render in a thread.
IN_PROCESS_RENDER_LIMIT = 64 << 10
#: Seconds a description may take to render before it is reported as too slow.
RENDER_TIMEOUT = 5.0

_RENDER_HINT = (
    "Set Description-Content-Type to match the README (text/markdown for .md), "
    "then preview it with `python -m readme_renderer README`."
)


def check(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    strict: bool = False,
    attestations: bool = True,
    registry: str | Profile | None = None,
    repository_url: str | None = None,
    on_file: Callable[[str, tuple[Finding, ...]], None] | None = None,
) -> CheckReport:
    """Inspect every file and judge it by a registry's rules; never raises for a bad file.

    ``paths`` is one path (str or PathLike; a str is never iterated) or an
    iterable of them, files or directories (expanded to the distributions in
    them, see :func:`registry_upload._paths.collect`); companion ``.asc`` and
    ``.attestation`` files are skipped.  A wrong type raises TypeError, an
    unreadable directory, or paths that hold no file at all,
    UnsupportedDistributionError (code ``no-distributions``: a CI step must
    not pass having checked nothing).

    The target registry is ``registry`` (an id from
    :class:`~registry_upload.registries.Registry`, or a profile), else the
    one ``repository_url`` is recognised as (from the URL alone), else PyPI.
    Its upload rules (:func:`judge`) are the upload preflight's: a finding
    that only the target's rules make an error ends in ``[<Registry> refuses
    it]``.  With ``strict=True`` warnings count as errors (as ``twine check
    --strict``).  ``attestations=False`` leaves attestation files unread.
    ``on_file(path, findings)`` is called as each file is done.
    """
    target = target_profile(registry, repository_url)
    shown_paths: list[str] = []
    findings: list[Finding] = []
    for shown in collect_for_check(paths):
        shown_paths.append(shown)
        # Keyed by the path as given (the inspector names ./x.whl as x.whl), so
        # report.for_path(path) finds every finding of the file.
        found = tuple(
            f if f.path == shown else dataclasses.replace(f, path=shown)
            for f in _check_one(shown, attestations, target)
        )
        if strict:
            found = tuple(_as_error(f) for f in found)
        findings.extend(found)
        if on_file is not None:
            on_file(shown, found)
    if not shown_paths:
        raise no_distributions_error(paths)
    return CheckReport(paths=tuple(shown_paths), findings=tuple(findings))


def target_profile(registry: str | Profile | None, repository_url: str | None) -> Profile:
    """The registry ``check()`` judges against: named, recognised from a URL, or PyPI."""
    if registry is not None and repository_url is not None:
        raise ValueError("give registry or repository_url, not both")
    if isinstance(registry, Profile):
        return registry
    if registry is not None:
        found = registries.profile(registry)
        if found.id != registry:
            known = ", ".join(p.id for p in registries.PROFILES)
            raise ValueError(f"unknown registry {registry!r}; one of {known}")
        return found
    if repository_url is not None:
        return registries.recognise(repository_url)
    return registries.profile(registries.Registry.PYPI)


# -- a registry's rules ---------------------------------------------------------

#: The codes of findings that only some registries refuse (PyPI's rules).
_DESCRIPTION_CODES = frozenset(
    {"description-render-failed", "description-render-timeout", "description-too-deeply-nested"}
)


def judge(
    dist: Distribution, profile: Profile, *, description: Sequence[Finding] | None = None
) -> tuple[Finding, ...]:
    """Every finding about an opened file under ``profile``'s upload rules.

    The inspector's findings (``dist.findings``) and the description's
    (``description``; when None, the README is rendered only if the registry
    has a rule about it) are kept, a finding the registry has a rule for
    becomes an ERROR (``refuse``) or a WARNING, with the rule's hint and
    source; a description failure no rule of the registry refuses becomes a
    WARNING (another registry renders nothing); then each of the registry's
    other rules is detected (``_policy.DETECTORS``).  ``check()`` reports
    this; the upload preflight (:func:`refusals`) refuses its errors.
    """
    if description is None:
        wanted = any(profile.upload_rule(code) for code in _DESCRIPTION_CODES)
        description = check_description(dist) if wanted else ()
    from ._policy import DETECTORS

    judged: list[Finding] = []
    for finding in (*dist.findings, *description):
        rule = profile.upload_rule(finding.code)
        if rule is not None:
            judged.append(_under_rule(finding, rule, profile))
        elif finding.code in _DESCRIPTION_CODES:
            judged.append(_accepted_here(finding, profile))
        else:
            judged.append(finding)
    path = str(dist.path)
    for rule in profile.upload_rules:
        detector = DETECTORS.get(rule.code)
        if detector is None:
            continue
        for field, message in detector(dist):
            finding = Finding(
                code=rule.code, severity=Severity.ERROR, path=path, message=message, field=field
            )
            judged.append(_under_rule(finding, rule, profile))
    return tuple(judged)


def _under_rule(finding: Finding, rule: UploadRule, profile: Profile) -> Finding:
    verdict = "refuses it" if rule.refuse else "warns"
    return dataclasses.replace(
        finding,
        severity=Severity.ERROR if rule.refuse else Severity.WARNING,
        message=f"{finding.message} [{profile.title} {verdict}]",
        hint=f"{rule.hint} (Rule: {rule.source}.)",
    )


def _accepted_here(finding: Finding, profile: Profile) -> Finding:
    return dataclasses.replace(
        finding,
        severity=Severity.WARNING,
        message=f"{finding.message} [PyPI refuses it; {profile.title} accepts it]",
    )


def refusals(dists: Iterable[Distribution], profile: Profile) -> list[Finding]:
    """The findings for which ``profile``'s registry would refuse these files (ERRORs of judge)."""
    return [
        finding
        for dist in dists
        for finding in judge(dist, profile)
        if finding.severity is Severity.ERROR
    ]


def refuse(
    dists: Iterable[Distribution],
    profile: Profile,
    *,
    index_lookup: Callable[[str], IndexLookup] | None = None,
) -> None:
    """The upload preflight: raise DistributionError if the registry would refuse a file.

    ``index_lookup(project)`` (see :func:`sdist_conflicts`), when given, also
    finds sdists whose release already has one on the index.  Nothing has
    been sent when it raises; the error's ``problems`` are the refusals, each
    naming its file in ``path``.  The message is one summary line;
    DistributionError lists the problems under it.
    """
    dists = list(dists)
    refused = refusals(dists, profile)
    if index_lookup is not None:
        refused.extend(sdist_conflicts(dists, index_lookup, profile))
    if not refused:
        return
    files = sorted({finding.path for finding in refused})
    raise DistributionError(
        f"{profile.title} would refuse {len(files)} file(s); nothing was sent",
        problems=refused,
        hint=refused[0].hint,
        path=files[0] if len(files) == 1 else None,
    )


def sdist_conflicts(
    dists: Iterable[Distribution],
    lookup: Callable[[str], IndexLookup],
    profile: Profile,
) -> list[Finding]:
    """Sdists the registry would refuse because their release already has another sdist.

    ``lookup(project)`` reads the project's index page (e.g.
    ``functools.partial(_index.lookup_project_files, transport, index_url)``);
    it is asked once per project, and only when ``profile`` has the rule
    (``sdist-already-in-release``).  An index that cannot be read gives no
    finding (the upload itself will say).  Two sdists of one release in the
    batch conflict too.
    """
    rule = profile.upload_rule("sdist-already-in-release")
    if rule is None:
        return []
    sdists = [d for d in dists if d.filetype == "sdist"]
    found: list[Finding] = []
    seen: dict[tuple[str, str], str] = {}
    pages: dict[str, IndexLookup] = {}
    for dist in sdists:
        release = (dist.project, canonicalize_version(dist.version))
        other = seen.setdefault(release, dist.filename)
        if other == dist.filename:
            if dist.project not in pages:
                pages[dist.project] = lookup(dist.project)
            other = _index_sdist(pages[dist.project], release, dist.filename) or ""
        if other:
            finding = Finding(
                code=rule.code,
                severity=Severity.ERROR,
                path=str(dist.path),
                message=f"release {dist.version} of {dist.project} already has the sdist {other}",
                field="version",
            )
            found.append(_under_rule(finding, rule, profile))
    return found


def _index_sdist(page: IndexLookup, release: tuple[str, str], filename: str) -> str | None:
    """Another sdist of ``release`` the index lists, if any."""
    for listed in page.files or {}:
        if listed == filename or not listed.endswith((".tar.gz", ".zip")):
            continue
        try:
            name, version = parse_sdist_filename(listed)
        except ValueError:
            continue
        if (canonicalize_name(name), canonicalize_version(version)) == release:
            return listed
    return None


def _as_error(finding: Finding) -> Finding:
    if finding.severity is Severity.ERROR:
        return finding
    return dataclasses.replace(finding, severity=Severity.ERROR)


def _check_one(path: str, attestations: bool, target: Profile) -> list[Finding]:
    try:
        dist = Distribution.open(path, attestations=attestations)
    except DistributionError as exc:
        return list(exc.problems) or [_untyped(path, exc)]
    found = list(judge(dist, target, description=check_description(dist)))
    logger.debug("checked %s against %s: %d finding(s)", path, target, len(found))
    return found


def _untyped(path: str, exc: DistributionError) -> Finding:
    """A DistributionError raised without problems (none is, today): still one finding."""
    return Finding(
        code="invalid-distribution",
        severity=Severity.ERROR,
        path=path,
        message=exc.message,
        hint=exc.hint,
    )


def check_description(dist: Distribution) -> list[Finding]:
    """Render the long description as PyPI would and report what goes wrong."""
    path = str(dist.path)
    description = dist.metadata.get("description")
    content_type = dist.metadata.get("description_content_type")
    found: list[Finding] = []
    if not description or not description.strip() or description.strip() == "UNKNOWN":
        found.append(_no_description(path, description))
        return found
    if not content_type:
        found.append(
            Finding(
                code="missing-content-type",
                severity=Severity.WARNING,
                path=path,
                field="description_content_type",
                message="Description-Content-Type is missing; PyPI assumes text/x-rst",
                hint="Declare the README's type (pyproject's `readme` does it for you).",
            )
        )
    mime, params = _parse_content_type(content_type or "text/x-rst")
    refused = _too_costly(path, description, mime)
    if refused is not None:
        found.append(refused)
        return found
    try:
        rendered, warnings = _render_bounded(description, mime, params, RENDER_TIMEOUT)
    except TimeoutError:
        found.append(
            _description_error(
                path,
                "description-render-timeout",
                f"the long description ({mime}) did not render within {RENDER_TIMEOUT:g} s",
                "PyPI renders it on upload and would time out too; simplify the README "
                "(deep nesting, huge tables) and preview it with "
                "`python -m readme_renderer README`.",
            )
        )
        return found
    if rendered is None:
        detail = "; ".join(warnings[:5]) if warnings else "no detail from the renderer"
        found.append(
            Finding(
                code="description-render-failed",
                severity=Severity.ERROR,
                path=path,
                field="description",
                message=f"the long description ({mime}) failed to render: {detail}",
                hint=_RENDER_HINT,
            )
        )
    else:
        found.extend(
            Finding(
                code="description-warning",
                severity=Severity.WARNING,
                path=path,
                field="description",
                message=w,
                hint=_RENDER_HINT,
            )
            for w in warnings
        )
    return found


def _no_description(path: str, description: str | None) -> Finding:
    """A missing long description, or setuptools' placeholder for one."""
    placeholder = bool(description and description.strip())
    return Finding(
        code="description-placeholder" if placeholder else "missing-description",
        severity=Severity.WARNING,
        path=path,
        field="description",
        message="the long description is setuptools' placeholder 'UNKNOWN'"
        if placeholder
        else "no long description: the project page will be empty",
        hint='Set `readme = "README.md"` in [project] of pyproject.toml'
        + (" (or long_description= in setup.py)." if placeholder else "."),
    )


def _description_error(path: str, code: str, message: str, hint: str) -> Finding:
    return Finding(
        code=code,
        severity=Severity.ERROR,
        path=path,
        field="description",
        message=message,
        hint=hint,
    )


_QUOTE_PREFIX = re.compile(r"^[ \t]{0,3}((?:>[ \t]?)+)", re.MULTILINE)


def _too_costly(path: str, text: str, mime: str) -> Finding | None:
    """A finding when rendering would cost too much, found without rendering."""
    size = len(text.encode("utf-8", "surrogatepass"))
    limit = RENDER_SIZE_LIMIT if mime in ("text/markdown", "text/plain") else RST_RENDER_SIZE_LIMIT
    if size > limit:
        return Finding(
            code="description-too-large-to-render",
            severity=Severity.WARNING,
            path=path,
            field="description",
            message=f"the long description ({mime}) is {size} bytes; not rendered (over the "
            f"{limit}-byte limit of this check), so it is unchecked",
            hint="Preview it with `python -m readme_renderer README`; a README this large is "
            "usually generated content that belongs in the documentation.",
        )
    if mime == "text/markdown":
        quotes = max((m.group(1).count(">") for m in _QUOTE_PREFIX.finditer(text)), default=0)
        html = _html_depth(text)
        for what, depth, limit in (
            ("block quotes", quotes, RENDER_DEPTH_LIMIT),
            ("HTML elements", html, HTML_DEPTH_LIMIT),
        ):
            if depth > limit:
                return _description_error(
                    path,
                    "description-too-deeply-nested",
                    f"the long description nests {what} {depth} deep (the limit is {limit}); "
                    "rendering it would take minutes",
                    "PyPI renders it on upload and would time out; remove the nesting.",
                )
    return None


_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^<>]*?(/?)>")
# Elements that never nest: void ones, and those a following sibling closes implicitly.
_FLAT = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr", "p", "li", "dt", "dd", "option", "tr", "td", "th"}
)


def _html_depth(text: str) -> int:
    """The deepest nesting of raw HTML elements (tags the sanitizer would have to stack)."""
    depth = deepest = 0
    for match in _TAG.finditer(text):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _FLAT:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


def _render_bounded(
    text: str, mime: str, params: dict[str, str], timeout: float
) -> tuple[str | None, list[str]]:
    """Render under a deadline: TimeoutError when it takes longer than ``timeout``."""
    if mime == "text/plain" or len(text) <= IN_PROCESS_RENDER_LIMIT or not sys.executable:
        return _render_with_deadline(text, mime, params, timeout)
    return _render_in_child(text, mime, params, timeout)


_CHILD_RENDER = """\
import json, sys
sys.path.insert(0, sys.argv[1])
from registry_upload.checks import _render
job = json.loads(sys.stdin.buffer.read())
html, warnings = _render(job["text"], job["mime"], job["params"])
sys.stdout.write(json.dumps({"ok": html is not None, "warnings": warnings}))
"""


def _render_in_child(
    text: str, mime: str, params: dict[str, str], timeout: float
) -> tuple[str | None, list[str]]:
    """Render in ``python -I`` (killed at the deadline); only the verdict comes back."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    job = json.dumps({"text": text, "mime": mime, "params": params}).encode()
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD_RENDER, package_parent],
            input=job,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TimeoutError from None
    if proc.returncode != 0:
        last = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        return None, [f"the renderer failed: {last[0] if last else proc.returncode}"]
    verdict = json.loads(proc.stdout)
    return ("" if verdict["ok"] else None), list(verdict["warnings"])


def _render_with_deadline(
    text: str, mime: str, params: dict[str, str], timeout: float
) -> tuple[str | None, list[str]]:
    """Render in a daemon thread; TimeoutError when it takes longer than ``timeout``.

    A render that overruns cannot be interrupted: its thread finishes in the
    background (bounded by RENDER_SIZE_LIMIT and the nesting pre-scans).  The
    deadline only holds for renderer code that releases the GIL (Python code
    does; the HTML sanitizer, native, does not: the pre-scans cover it).
    """
    outcome: list[tuple[str | None, list[str]]] = []

    def work() -> None:
        try:
            outcome.append(_render(text, mime, params))
        except Exception as exc:  # a renderer crash (RecursionError on deep rst) is a failure
            outcome.append((None, [f"the renderer failed: {type(exc).__name__}"]))

    worker = threading.Thread(target=work, name="registry-upload-render", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive() or not outcome:
        raise TimeoutError
    return outcome[0]


def _parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    mime, *rest = (part.strip() for part in value.split(";"))
    params = {}
    for item in rest:
        key, _, val = item.partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return mime.lower(), params


def _render(text: str, mime: str, params: dict[str, str]) -> tuple[str | None, list[str]]:
    """Render with readme-renderer (imported here, never at package import)."""
    if mime == "text/plain":
        import readme_renderer.txt

        return readme_renderer.txt.render(text), []
    if mime == "text/markdown":
        import readme_renderer.markdown

        variant = params.get("variant", "GFM")
        return readme_renderer.markdown.render(text, variant=variant), []
    import readme_renderer.rst

    stream = io.StringIO()
    rendered = readme_renderer.rst.render(text, stream=stream)
    warnings = [
        line.strip()
        for line in stream.getvalue().splitlines()
        if line.strip() and "No directive entry for" not in line
    ]
    return rendered, warnings
