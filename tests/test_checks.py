"""check(): the long description rendered as PyPI renders it, findings typed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from registry_upload import Severity, check
from registry_upload.testing import make_wheel


def _wheel(tmp_path: Path, ctype: str | None, description: str | None) -> Path:
    extra = f"Description-Content-Type: {ctype}" if ctype else ""
    return make_wheel(tmp_path, "readme", "1.0", metadata_extra=extra, description=description)


def test_markdown_renders(tmp_path: Path) -> None:
    report = check([_wheel(tmp_path, "text/markdown", "# Title\n\n*hello*\n")])
    assert report.ok and not report.findings


def test_markdown_variants(tmp_path: Path) -> None:
    for variant in ("GFM", "CommonMark"):
        path = _wheel(tmp_path, f"text/markdown; variant={variant}", "| a |\n|---|\n| b |\n")
        assert check([path]).ok, variant


def test_plain_text_renders(tmp_path: Path) -> None:
    assert not check([_wheel(tmp_path, "text/plain", "just text <b>")]).findings


def test_broken_rst_is_an_error_with_hint(tmp_path: Path) -> None:
    broken = "Title\n=====\n\n.. unknown-directive::\n\n`unclosed\n\n===\nBad\n"
    report = check([_wheel(tmp_path, "text/x-rst", broken)])
    assert not report.ok
    (error,) = report.errors
    assert error.code == "description-render-failed"
    assert error.field == "description"
    assert "Description-Content-Type" in (error.hint or "")


def test_missing_content_type_defaults_to_rst_with_warning(tmp_path: Path) -> None:
    report = check([_wheel(tmp_path, None, "Title\n=====\n\nGood rst.\n")])
    assert report.ok
    assert [f.code for f in report.warnings] == ["missing-content-type"]


def test_missing_description_warns_and_strict_makes_it_an_error(tmp_path: Path) -> None:
    path = _wheel(tmp_path, None, None)
    report = check([path])
    assert report.ok
    assert [f.code for f in report.warnings] == ["missing-description"]
    strict = check([path], strict=True)
    assert not strict.ok
    assert strict.errors[0].severity is Severity.ERROR


def test_check_reports_each_file_and_calls_back(tmp_path: Path) -> None:
    good = _wheel(tmp_path, "text/markdown", "ok")
    bad = tmp_path / "bad-1.0.tar.gz"
    bad.write_bytes(b"not gzip")
    seen: list[str] = []
    report = check([good, bad], on_file=lambda p, f: seen.append(p))
    assert seen == [str(good), str(bad)]
    assert report.for_path(str(good)) == ()
    (finding,) = report.for_path(str(bad))
    assert finding.code == "invalid-distribution"
    assert report.to_dict()["ok"] is False


def test_import_is_lazy() -> None:
    code = (
        "import sys, registry_upload;"
        "assert 'readme_renderer' not in sys.modules;"
        "assert 'docutils' not in sys.modules;"
        "assert 'urllib3' not in sys.modules;"
        "registry_upload.Distribution;"
        "assert 'readme_renderer' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
