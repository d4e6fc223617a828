"""check(): the long description rendered as PyPI renders it, findings typed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from registry_upload import Severity, check, checks
from registry_upload.checks import RENDER_SIZE_LIMIT
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
    assert finding.code == "corrupt-archive"
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


# --- bounds: pathological descriptions are findings, not hangs -------------------


def test_deeply_nested_markdown_is_refused_before_rendering(tmp_path: Path) -> None:
    path = _wheel(tmp_path, "text/markdown", ">" * 65536 + " deep\n")
    (error,) = check(path).errors
    assert error.code == "description-too-deeply-nested"
    assert "65536 deep" in error.message


def test_moderate_markdown_nesting_still_renders(tmp_path: Path) -> None:
    path = _wheel(tmp_path, "text/markdown", "> > > three levels\n")
    assert check(path).ok


def test_description_over_the_render_cap_is_a_warning(tmp_path: Path) -> None:
    big = "word " * (RENDER_SIZE_LIMIT // 5 + 10)
    report = check(_wheel(tmp_path, "text/markdown", big))
    assert report.ok
    assert [f.code for f in report.warnings] == ["description-too-large-to-render"]


def test_deeply_nested_html_is_refused_before_rendering(tmp_path: Path) -> None:
    (error,) = check(_wheel(tmp_path, "text/markdown", "<div>" * 20000)).errors
    assert error.code == "description-too-deeply-nested"
    assert "HTML elements 20000 deep" in error.message


def test_large_description_renders_in_a_child_process(tmp_path: Path) -> None:
    text = "Some *markdown* and a [link](https://example.org).\n\n" * 3000
    assert len(text) > checks.IN_PROCESS_RENDER_LIMIT
    assert check(_wheel(tmp_path, "text/markdown", text)).ok


def test_slow_render_in_a_child_is_killed_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "RENDER_TIMEOUT", 0.2)
    # sibling HTML blocks: quadratic in the (native) markdown renderer, about a second
    text = "<table><tr><td>a</td><td><b>b</b></td></tr></table>\n" * 2000
    (error,) = check(_wheel(tmp_path, "text/markdown", text)).errors
    assert error.code == "description-render-timeout"


def test_slow_render_in_a_thread_is_abandoned_at_the_deadline() -> None:
    rst = "Title\n=====\n\n" + "* item with *emphasis* and ``code``\n" * 1500
    assert len(rst) < checks.IN_PROCESS_RENDER_LIMIT
    with pytest.raises(TimeoutError):
        checks._render_bounded(rst, "text/x-rst", {}, 0.0001)


def test_rst_over_its_render_cap_is_a_warning(tmp_path: Path) -> None:
    rst = "Para *one*.\n\n" * (checks.RST_RENDER_SIZE_LIMIT // 13 + 10)
    report = check(_wheel(tmp_path, "text/x-rst", rst))
    assert report.ok
    assert [f.code for f in report.warnings] == ["description-too-large-to-render"]


def test_renderer_crash_is_a_finding(tmp_path: Path) -> None:
    deep_rst = "".join(" " * i + "x\n\n" for i in range(600))  # docutils: RecursionError
    (error,) = check(_wheel(tmp_path, "text/x-rst", deep_rst)).errors
    assert error.code == "description-render-failed"
    assert "RecursionError" in error.message


# --- inputs: one path, directories, companions ------------------------------------


def test_check_takes_one_str_path_without_iterating_it(tmp_path: Path) -> None:
    path = _wheel(tmp_path, "text/markdown", "ok")
    assert check(str(path)).paths == (str(path),)
    assert check(path).paths == (str(path),)


def test_check_expands_directories_and_skips_companions(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, "text/markdown", "ok")
    Path(f"{wheel}.asc").write_text("sig")
    (tmp_path / "notes.txt").write_text("x")
    report = check([tmp_path, f"{wheel}.asc"])
    assert report.paths == (str(wheel),) and report.ok


def test_check_reports_a_named_non_distribution_as_a_finding(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("x")
    (finding,) = check(other).errors
    assert finding.code == "not-a-distribution"


def test_check_rejects_wrong_types() -> None:
    with pytest.raises(TypeError, match="iterable of paths"):
        check(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str or os.PathLike"):
        check([b"dist/x.whl"])  # type: ignore[list-item]
