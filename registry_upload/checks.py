"""``check()``: everything that would stop an upload, found before any upload.

The library form of ``twine check``, stricter: archive and metadata problems
(all of them, each with its field), filename/metadata mismatches, PEP 625
sdist names, local versions, and the long description rendered the way PyPI
renders it (readme-renderer, imported lazily on first use).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterable

from .distribution import Distribution
from .errors import DistributionError, InvalidMetadataError
from .results import CheckReport, Finding, Severity

__all__ = ["check", "check_description"]

logger = logging.getLogger(__name__)

_RENDER_HINT = (
    "Set Description-Content-Type to match the README (text/markdown for .md), "
    "then preview it with `python -m readme_renderer README`."
)


def check(
    paths: Iterable[str | os.PathLike[str]],
    *,
    strict: bool = False,
    on_file: Callable[[str, tuple[Finding, ...]], None] | None = None,
) -> CheckReport:
    """Inspect every file and collect findings; never raises for a bad file.

    With ``strict=True`` warnings count as errors (as ``twine check --strict``).
    ``on_file(path, findings)`` is called as each file is done.
    """
    shown_paths: list[str] = []
    findings: list[Finding] = []
    for path in paths:
        shown = str(path)
        shown_paths.append(shown)
        found = tuple(_check_one(shown))
        if strict:
            found = tuple(_as_error(f) for f in found)
        findings.extend(found)
        if on_file is not None:
            on_file(shown, found)
    return CheckReport(paths=tuple(shown_paths), findings=tuple(findings))


def _as_error(finding: Finding) -> Finding:
    if finding.severity is Severity.ERROR:
        return finding
    return Finding(
        code=finding.code,
        severity=Severity.ERROR,
        path=finding.path,
        message=finding.message,
        field=finding.field,
        hint=finding.hint,
    )


def _check_one(path: str) -> list[Finding]:
    try:
        dist = Distribution.open(path)
    except InvalidMetadataError as exc:
        return [
            Finding(
                code=p.code,
                severity=Severity.ERROR,
                path=path,
                field=p.field,
                message=p.message,
                hint=exc.hint,
            )
            for p in exc.problems
        ]
    except DistributionError as exc:
        code = type(exc).__name__.removesuffix("Error")
        return [
            Finding(
                code=_kebab(code),
                severity=Severity.ERROR,
                path=path,
                message=exc.message,
                hint=exc.hint,
            )
        ]
    found = list(dist.findings)
    found.extend(check_description(dist))
    logger.debug("checked %s: %d finding(s)", path, len(found))
    return found


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def check_description(dist: Distribution) -> list[Finding]:
    """Render the long description as PyPI would and report what goes wrong."""
    path = str(dist.path)
    description = dist.metadata.get("description")
    content_type = dist.metadata.get("description_content_type")
    found: list[Finding] = []
    if not description or not description.strip():
        found.append(
            Finding(
                code="missing-description",
                severity=Severity.WARNING,
                path=path,
                field="description",
                message="no long description: the project page will be empty",
                hint='Set `readme = "README.md"` in [project] of pyproject.toml.',
            )
        )
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
    rendered, warnings = _render(description, mime, params)
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
