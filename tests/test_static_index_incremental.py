"""A publish updates the project's pages in place: no directory scan, no re-hashing.

The project's ``index.json`` is the index's record; these tests seed it with
entries for files that are not even on disk, which a scan would drop, and
check that one publish adds exactly one line to each page.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from registry_upload.static_index import PublishStatus, StaticIndex
from registry_upload.testing import make_sdist, make_wheel

SHA = "ab" * 32


def fake_entry(n: int, **extra: Any) -> dict[str, Any]:
    name = f"demo-0.{n}.tar.gz"
    return {"filename": name, "url": name, "hashes": {"sha256": SHA}, "size": n,
            "upload-time": "2026-01-01T00:00:00.000000Z", **extra}  # fmt: skip


def seed_old_format(root: Path, count: int) -> list[dict[str, Any]]:
    """A project page as releases before this one wrote it (indented, sorted)."""
    entries = [fake_entry(n) for n in range(count)]
    entries[3]["yanked"] = "broken build"
    entries[4]["requires-python"] = ">=3.9"
    page = {"meta": {"api-version": "1.1"}, "name": "demo",
            "versions": [f"0.{n}" for n in range(count)], "files": entries}  # fmt: skip
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "index.json").write_text(json.dumps(page, indent=1) + "\n")
    return entries


def links(html_page: Path) -> list[str]:
    return re.findall(r'<a href="([^"#]+)#', html_page.read_text())


def test_an_old_page_is_taken_over_and_then_extended_one_line_at_a_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "simple"
    seeded = seed_old_format(root, 300)
    index = StaticIndex(root)
    caplog.set_level("DEBUG", logger="registry_upload")
    first = make_wheel(tmp_path / "dist", "Demo", "1.1")  # the api-version is 1.1 too
    assert index.publish(first).status is PublishStatus.STORED
    project = root / "demo"
    page = json.loads((project / "index.json").read_bytes())
    assert [f["filename"] for f in page["files"]] == [e["filename"] for e in seeded] + [first.name]
    assert page["files"][:300] == seeded, "every field kept, yanked included"
    assert page["versions"][-1] == "1.1" and len(page["versions"]) == 301
    assert links(project / "index.html") == [f["filename"] for f in page["files"]]
    html = (project / "index.html").read_text()
    assert 'data-yanked="broken build">demo-0.3.tar.gz<' in html
    assert 'data-requires-python="&gt;=3.9">demo-0.4.tar.gz<' in html

    before_json = (project / "index.json").read_bytes().splitlines()
    before_html = (project / "index.html").read_bytes().splitlines()
    second = make_sdist(tmp_path / "dist", "Demo", "1.2")
    assert index.publish(second).status is PublishStatus.STORED
    after_json = (project / "index.json").read_bytes().splitlines()
    after_html = (project / "index.html").read_bytes().splitlines()
    # one line more in each page; the JSON's first line gains the version
    assert after_json[1:-2] == before_json[1:-1] and len(after_json) == len(before_json) + 1
    assert after_json[0] == before_json[0][: -len(b'],"files":[')] + b',"1.2"],"files":['
    assert after_html[:-3] == before_html[:-2] and len(after_html) == len(before_html) + 1
    page = json.loads((project / "index.json").read_bytes())
    assert page["files"][-1]["filename"] == second.name and page["versions"][-1] == "1.2"
    assert "hashing" not in caplog.text, "no file already listed is hashed again"


def test_the_same_file_again_changes_no_page(tmp_path: Path) -> None:
    root = tmp_path / "simple"
    seed_old_format(root, 20)
    index = StaticIndex(root)
    wheel = make_wheel(tmp_path / "dist", "Demo", "1.0")
    index.publish(wheel)
    pages = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("index.*")}
    assert index.publish(wheel).status is PublishStatus.EXISTS
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in pages} == pages


def test_refresh_rebuilds_from_the_files_and_keeps_what_only_the_page_knows(
    tmp_path: Path,
) -> None:
    root = tmp_path / "simple"
    index = StaticIndex(root)
    wheel = make_wheel(tmp_path / "dist", "Demo", "1.0")
    sdist = make_sdist(tmp_path / "dist", "Demo", "1.0")
    index.publish(wheel)
    index.publish(sdist)
    page_path = root / "demo" / "index.json"
    page = json.loads(page_path.read_bytes())
    page["files"][1]["yanked"] = True  # yanked by hand
    page["files"].append(fake_entry(9))  # a file that is not there
    page_path.write_text(json.dumps(page))
    index.refresh("demo")
    page = json.loads(page_path.read_bytes())
    assert [f["filename"] for f in page["files"]] == [wheel.name, sdist.name]
    assert page["files"][1]["yanked"] is True
    assert 'data-yanked="">' in (root / "demo" / "index.html").read_text()


def test_uv_installs_from_the_file_index(tmp_path: Path) -> None:
    uv = Path(sys.executable).with_name("uv")
    if not uv.exists():
        pytest.skip("uv is not installed beside this Python")
    index = StaticIndex(tmp_path / "simple")
    seed = make_wheel(tmp_path / "dist", "Demo", "1.0", metadata_extra="Requires-Python: >=3.8")
    index.publish(seed)
    index.publish(make_sdist(tmp_path / "dist", "Demo", "1.0"))
    target = tmp_path / "target"
    done = subprocess.run(
        [str(uv), "pip", "install", "--no-config", "--no-cache", "--index-url", index.url,
         "--no-deps", "--only-binary", ":all:", "--target", str(target),
         "--python", sys.executable, "demo==1.0"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "demo" / "__init__.py").read_text() == '__version__ = "1.0"\n'


def test_the_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    """benchmarks/bench_static_index.py on tiny projects, so it cannot rot (no timing
    asserted: the script itself checks that every publish was stored and listed)."""
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_static_index.py"
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(script), "--smoke", "--dir", str(tmp_path), "--output", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(out.read_text())
    assert [row["files"] for row in data["rows"]] == [10, 100]
    assert all(row["median_ms"] > 0 and row["page_bytes"] > 0 for row in data["rows"])
    assert "target <= 2x" in done.stdout


def test_a_file_deleted_by_hand_and_published_again_with_other_bytes_is_listed_anew(
    tmp_path: Path,
) -> None:
    root = tmp_path / "simple"
    index = StaticIndex(root)
    first = make_wheel(tmp_path / "a", "Demo", "1.0")
    rebuilt = make_wheel(tmp_path / "b", "Demo", "1.0", payload_size=100)
    index.publish(make_sdist(tmp_path / "a", "Demo", "0.9"))
    index.publish(first)
    (root / "demo" / first.name).unlink()  # removed by hand; the pages still list it
    assert index.publish(rebuilt).status is PublishStatus.STORED
    page = json.loads((root / "demo" / "index.json").read_bytes())
    entries = [f for f in page["files"] if f["filename"] == rebuilt.name]
    new_sha = hashlib.sha256(rebuilt.read_bytes()).hexdigest()
    assert [e["hashes"]["sha256"] for e in entries] == [new_sha]
    assert entries[0]["size"] == rebuilt.stat().st_size
    html = (root / "demo" / "index.html").read_text()
    assert html.count(f'href="{rebuilt.name}#') == 1 and f"#sha256={new_sha}" in html
    assert links(root / "demo" / "index.html") == [f["filename"] for f in page["files"]]
