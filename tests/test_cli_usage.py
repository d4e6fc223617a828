"""Usage errors: one line and a hint, exit 2, nothing sent, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .support import cli, dist_folder


@pytest.mark.parametrize(
    "args",
    [
        ["--repository-url", "http://127.0.0.1:99999/"],
        ["--repository-url", "https://[::1/legacy/"],
        ["--jobs", "0"],
        ["--jobs", "-3"],
        ["--attempts", "0"],
    ],
)
def test_cli_usage_errors_exit_2_with_one_clear_line(wheel: Path, args: list[str]) -> None:
    out = cli("upload", *args, "--non-interactive", str(wheel))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert "error" in out.stderr


@pytest.mark.parametrize("index", ["http://[::1/", "ftp://x/", "http://127.0.0.1:1\\@127.0.0.1:2/"])
def test_a_bad_index_url_is_a_usage_error(wheel: Path, index: str) -> None:
    out = cli("upload", "--repository-url", "http://127.0.0.1:9/", "--index-url", index, str(wheel))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "index URL" in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2  # the error and its hint


def test_argument_errors_are_one_line_and_a_hint() -> None:
    out = cli("upload", "--jobs", "0", "x.whl")
    assert out.returncode == 2
    assert out.stderr.splitlines() == [
        "error: argument --jobs: must be from 1 to 64, not 0",
        "hint: see `registry-upload upload --help`",
    ]


def test_check_keys_findings_by_the_path_as_given(tmp_path: Path) -> None:
    import zipfile as zf_module

    from registry_upload import check
    from registry_upload.testing import core_metadata

    wheel = tmp_path / "evil-1.0-py3-none-any.whl"
    with zf_module.ZipFile(wheel, "w") as zf:
        zf.writestr("../escape.py", "x")
        zf.writestr("evil-1.0.dist-info/METADATA", core_metadata("evil", "1.0"))
    given = os.path.join(os.curdir, os.path.relpath(wheel))
    report = check(given)
    assert report.paths == (given,)
    assert [f.code for f in report.for_path(given)] == ["unsafe-member-path"]
    out = cli("check", given)
    assert out.returncode == 1 and "FAILED" in out.stdout and "unsafe-member-path" in out.stdout


def test_cli_refuses_other_files_named_explicitly(tmp_path: Path) -> None:
    dist = dist_folder(tmp_path)
    (dist / "README.txt").write_text("hello")
    (dist / "notes.md").write_text("hello")
    out = cli("upload", "--repository-url", "http://127.0.0.1:9/", *map(str, dist.iterdir()))
    assert out.returncode == 2
    assert "README.txt" in out.stderr and "notes.md" in out.stderr
    assert "Traceback" not in out.stderr
