"""The CLI: exit codes, per-file lines, hints, --json, --dry-run, no secrets, no noise."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from registry_upload.cli import expand, main
from registry_upload.cli._printer import Progress as _Progress
from registry_upload.testing import Action, FakeRegistry, Reply, make_sdist, make_wheel
from registry_upload.uploader import ProgressEvent

from .conftest import CANARY, assert_no_canary
from .support import cli as run


@pytest.fixture
def dist_dir(tmp_path: Path) -> Path:
    d = tmp_path / "dist"
    d.mkdir()
    make_wheel(
        d,
        "clipkg",
        "1.0",
        metadata_extra="Description-Content-Type: text/markdown",
        description="# hi\n",
    )
    make_sdist(
        d,
        "clipkg",
        "1.0",
        metadata_extra="Description-Content-Type: text/markdown",
        description="# hi\n",
    )
    (d / "notes.txt").write_text("ignored by directory expansion")
    return d


def test_upload_ok_then_duplicate_fails_with_message_and_hint(dist_dir: Path) -> None:
    env = {"REGISTRY_UPLOAD_USERNAME": "u", "REGISTRY_UPLOAD_PASSWORD": CANARY}
    with FakeRegistry() as reg:
        ok = run("upload", "--repository-url", reg.url, str(dist_dir), "-v", env=env)
        assert ok.returncode == 0, ok.stderr
        assert "UPLOADED    clipkg-1.0-py3-none-any.whl" in ok.stdout
        assert "UPLOADED    clipkg-1.0.tar.gz" in ok.stdout
        assert "Credentials: env:REGISTRY_UPLOAD_PASSWORD" in ok.stdout
        assert "2 uploaded, 0 skipped, 0 failed" in ok.stdout
        assert "\r" not in ok.stderr  # no progress bar outside a terminal
        reg.default = Action("reply", Reply(400, "File already exists ('clipkg-1.0.tar.gz')."))
        dup = run(
            "upload",
            "--repository-url",
            reg.url,
            "--attempts",
            "1",
            str(dist_dir / "*.tar.gz"),
            env=env,
        )
    assert dup.returncode == 1
    assert "FAILED" in dup.stdout
    assert "File already exists" in dup.stdout
    # The very same file is already there: the hint says so and points to skip-existing.
    assert "hint: The registry already has this very file" in dup.stdout
    assert "--skip-existing" in dup.stdout
    assert_no_canary(ok.stdout, ok.stderr, dup.stdout, dup.stderr)


def test_json_report_and_skip_existing(dist_dir: Path) -> None:
    with FakeRegistry() as reg:
        args = ("upload", "--repository-url", reg.url, "-u", "u", "-p", CANARY, str(dist_dir))
        assert run(*args).returncode == 0
        again = run(*args, "--skip-existing", "--json")
    assert again.returncode == 0
    data = json.loads(again.stdout)
    counts = {k: v for k, v in data["counts"].items() if v}
    assert counts == {"skipped": 2, "total": 2}
    assert all(r["verified"] for r in data["results"])
    assert_no_canary(again.stdout, again.stderr)


def test_dry_run_sends_nothing(dist_dir: Path) -> None:
    with FakeRegistry() as reg:
        out = run("upload", "--repository-url", reg.url, "-p", "tok", "--dry-run", str(dist_dir))
        assert reg.posts == []
    assert out.returncode == 0
    assert out.stdout.count("DRY-RUN") == 2


def test_bad_input_exits_2_with_hint(tmp_path: Path) -> None:
    bad = tmp_path / "broken-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    out = run("upload", "--repository-url", "https://example.invalid/", str(bad))
    assert out.returncode == 2
    assert "corrupt or truncated" in out.stderr and "hint:" in out.stderr
    assert "Traceback" not in out.stderr
    none = run("upload", str(tmp_path / "*.whl.nothing"))
    assert none.returncode == 2 and "no distribution files" in none.stderr


def test_unknown_pypirc_repository_is_a_usage_error(tmp_path: Path) -> None:
    rc = tmp_path / "pypirc"
    rc.write_text("[distutils]\nindex-servers = pypi\n")
    wheel = make_wheel(tmp_path, "x", "1.0")
    out = run("upload", "-r", "nope", "--config-file", str(rc), str(wheel))
    assert out.returncode == 2
    assert "'nope' is not in .pypirc" in out.stderr


def test_insecure_credentials_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "x", "1.0")
    out = run(
        "upload", "--repository-url", "http://registry.example.invalid/", "-p", CANARY, str(wheel)
    )
    assert out.returncode == 2
    assert "plain http" in out.stderr
    assert_no_canary(out.stdout, out.stderr)


def test_check_command(dist_dir: Path, tmp_path: Path) -> None:
    ok = run("check", str(dist_dir))
    assert ok.returncode == 0 and ok.stdout.count("PASSED") == 2
    bad = make_sdist(
        tmp_path,
        "badmeta",
        "1.0",
        metadata="Metadata-Version: 2.1\nName: badmeta\nVersion: 1.0\nRequires-Dist: ???\n",
    )
    out = run("check", "--json", str(bad))
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["ok"] is False
    assert data["findings"][0]["field"] == "requires-dist"
    assert "FAILED" in out.stderr


def test_progress_bar_only_on_a_tty() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = _Progress(stream, 1, 100)
        bar(ProgressEvent("started", "a.whl", 0, 100))
        bar(ProgressEvent("progress", "a.whl", 100, 100))
        bar(ProgressEvent("finished", "a.whl", 100, 100))
        bar.close()
    assert "100%" in tty.getvalue() and "1/1 files" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_expand_dirs_and_globs(dist_dir: Path) -> None:
    found = expand([str(dist_dir), str(dist_dir / "*.whl")])
    assert [Path(p).name for p in found] == ["clipkg-1.0-py3-none-any.whl", "clipkg-1.0.tar.gz"]


def test_main_in_process_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no dist/ here: uv's default dist/* finds nothing
    assert main(["upload"]) == 2
    assert "no distribution files" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["upload", "--jobs", "0"])
    assert info.value.code == 2


def test_tls_cert_flag(tmp_path: Path) -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    wheel = make_wheel(tmp_path, "tlscli", "1.0")
    with FakeRegistry(ssl_context=ctx) as reg:
        refused = run(
            "upload", "--repository-url", reg.url, "-p", CANARY, "--attempts", "1", str(wheel)
        )
        assert refused.returncode == 1
        assert "TLS error" in refused.stdout and "--cert" in refused.stdout
        accepted = run(
            "upload", "--repository-url", reg.url, "-p", CANARY, "--cert", str(bundle), str(wheel)
        )
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr
        assert list(reg.stored) == [wheel.name]
    assert_no_canary(refused.stdout, refused.stderr, accepted.stdout, accepted.stderr)


def test_gitlab_job_token_404_explained_on_the_terminal(dist_dir: Path) -> None:
    """Inside GitLab CI the job token answers; GitLab's 404 is explained as the allowlist."""
    reply = Reply(404, '{"message":"404 Project Not Found"}', {"Content-Type": "application/json"})
    with FakeRegistry(
        path="/api/v4/projects/42/packages/pypi", default=Action("reply", reply)
    ) as reg:
        env = {"GITLAB_CI": "true", "CI_JOB_TOKEN": CANARY, "CI_SERVER_URL": reg.base}
        out = run(
            "upload",
            "--repository-url",
            reg.url,
            "--attempts",
            "1",
            "-v",
            str(dist_dir / "*.whl"),
            env=env,
        )
    assert out.returncode == 1
    assert "Credentials: gitlab-ci-job-token" in out.stdout
    assert "gitlab answered 404" in out.stdout
    assert "404 Project Not Found" in out.stdout
    assert "job-token allowlist" in out.stdout
    assert "Settings > CI/CD > Job token permissions" in out.stdout
    assert_no_canary(out.stdout, out.stderr)


def test_only_the_program_freezes_its_imports(dist_dir: Path, tmp_path: Path) -> None:
    """``run()`` (the script, ``python -m``) tells the collector its modules are permanent;
    ``main()`` in a caller's process leaves the collector as it was."""
    import gc

    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: sys.stderr.write(f'frozen={gc.get_freeze_count()}\\n'))\n"
        "from registry_upload.cli import run\n"
        "sys.argv[1:] = ['check', sys.argv[1]]\n"
        "run()\n"
    )
    wheel = next(dist_dir.glob("*.whl"))
    out = subprocess.run(
        [sys.executable, "-c", probe, str(wheel)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    frozen = int(out.stderr.rsplit("frozen=", 1)[1])
    assert frozen > 10_000  # the imported modules' objects
    before = gc.get_freeze_count()
    assert main(["check", str(wheel)]) == 0
    assert gc.get_freeze_count() == before
