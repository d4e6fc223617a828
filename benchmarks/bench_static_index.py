"""One publish into a static-index project of 10, 1,000 and 10,000 files.

    python benchmarks/bench_static_index.py                 # the three sizes, 15 publishes each
    python benchmarks/bench_static_index.py --smoke         # tiny sizes, no target (CI)
    python benchmarks/bench_static_index.py --dir DIR       # build the indexes under DIR

Target: a publish costs about the same whatever the project's size -- the
median at 10,000 files is at most 2x the median at 10 files.

Each project is built cheaply: N small files (1 KiB, each with a
``.metadata`` beside it) written straight into the project directory, and
the project's pages rendered once from their real sha256s -- the state N
publishes would have left.  Then a fresh small wheel is published into it,
``repeat`` times (each a new version), and every publish is timed whole:
``StaticIndex.publish(path)`` opens and inspects the wheel, copies it, writes
its ``.metadata`` and both pages, syncs every file and directory.  The
script prints a table and "met" / "NOT MET", writes JSON with ``--output``,
and exits 1 if the target is missed (never with ``--smoke``).  The sizes are
measured in turn, one publish each per round, so that a busy moment of a
shared machine does not land on one size only.

The pages must list every file, and a page is replaced whole (a reader never
sees half of one), so their bytes are the one cost that grows with the
project: "pages floor" is what writing, syncing and renaming the two pages
alone costs on this disk, and "above floor" is everything else a publish
does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from registry_upload._static import pages  # noqa: E402
from registry_upload.static_index import PublishStatus, StaticIndex  # noqa: E402
from registry_upload.testing import make_wheel  # noqa: E402

TARGET_RATIO = 2.0
PROJECT = "bench"


def seed_project(root: Path, count: int) -> None:
    """The state ``count`` publishes leave, written directly (seconds, not minutes)."""
    index = StaticIndex(root)
    first = make_wheel(root.parent / "seed", PROJECT, "0.0.0")
    index.publish(first)  # the root pages, the state directory, the lock
    project = root / PROJECT
    items = pages.listed_items((project / pages.JSON_PAGE).read_bytes())
    for n in range(1, count):
        name = f"{PROJECT}-0.0.{n}-py3-none-any.whl"
        data = n.to_bytes(4, "little") * 256
        metadata = f"Metadata-Version: 2.4\nName: {PROJECT}\nVersion: 0.0.{n}\n".encode()
        (project / name).write_bytes(data)
        (project / f"{name}.metadata").write_bytes(metadata)
        items.append(
            pages.file_item(
                name,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                upload_time=pages.iso_time(time.time_ns()),
                requires_python=">=3.8",
                metadata_sha256=hashlib.sha256(metadata).hexdigest(),
            )
        )
    json_page, html_page = pages.project_pages(PROJECT, items)
    (project / pages.JSON_PAGE).write_bytes(json_page)
    (project / pages.HTML_PAGE).write_bytes(html_page)


def floor_once(project: Path) -> float:
    """The least any publish must do with the pages: write both again under a new name,
    sync them and rename them into place (what their bytes cost on this disk)."""
    started = time.perf_counter()
    for name in (pages.JSON_PAGE, pages.HTML_PAGE):
        data = (project / name).read_bytes()
        temp = project.parent / f".floor-{name}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, project / name)
    return time.perf_counter() - started


def publish_once(root: Path, wheel: Path) -> float:
    started = time.perf_counter()
    result = StaticIndex(root).publish(wheel)
    elapsed = time.perf_counter() - started
    assert result.status is PublishStatus.STORED, result
    return elapsed


def measure(base: Path, sizes: tuple[int, ...], repeat: int) -> list[dict[str, Any]]:
    """Round-robin over the sizes, so that a busy moment of the machine hits them alike."""
    roots, times, floors = {}, {n: [] for n in sizes}, {n: [] for n in sizes}
    for n in sizes:
        roots[n] = base / f"n{n}" / "simple"
        roots[n].parent.mkdir(parents=True)
        seed_project(roots[n], n)
    wheels = [make_wheel(base / "dist", PROJECT, f"1.{i}") for i in range(repeat)]
    for wheel in wheels:
        for n in sizes:
            times[n].append(publish_once(roots[n], wheel))
            floors[n].append(floor_once(roots[n] / PROJECT))
    rows = []
    for n in sizes:
        listed = StaticIndex(roots[n]).files(PROJECT)
        assert len(listed) == n + repeat, (len(listed), n + repeat)
        project = roots[n] / PROJECT
        rows.append(
            {
                "files": n,
                "median_ms": statistics.median(times[n]) * 1000,
                "min_ms": min(times[n]) * 1000,
                "max_ms": max(times[n]) * 1000,
                "floor_ms": statistics.median(floors[n]) * 1000,
                "page_bytes": sum(
                    (project / p).stat().st_size for p in (pages.JSON_PAGE, pages.HTML_PAGE)
                ),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; no target")
    parser.add_argument("--repeat", type=int, default=None, help="publishes per size (15)")
    parser.add_argument("--dir", type=Path, default=None, help="where to build the indexes")
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    sizes = (10, 100) if args.smoke else (10, 1_000, 10_000)
    repeat = args.repeat or (2 if args.smoke else 15)
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-static-") as base:
        rows = measure(Path(base), sizes, repeat)
    ratio = rows[-1]["median_ms"] / rows[0]["median_ms"]
    above = [max(r["median_ms"] - r["floor_ms"], 0.0) for r in rows]
    met = ratio <= TARGET_RATIO
    print(f"{'files':>7} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'page bytes':>11} "
          f"{'pages floor ms':>15} {'above floor ms':>15}")  # fmt: skip
    for row, extra in zip(rows, above, strict=True):
        print(f"{row['files']:>7,} {row['median_ms']:>10.2f} {row['min_ms']:>8.2f} "
              f"{row['max_ms']:>8.2f} {row['page_bytes']:>11,} {row['floor_ms']:>15.2f} "
              f"{extra:>15.2f}")  # fmt: skip
    verdict = "met" if met else "NOT MET"
    print(f"{rows[-1]['files']:,} vs {rows[0]['files']:,} files: {ratio:.2f}x "
          f"(target <= {TARGET_RATIO:.0f}x): {verdict}")  # fmt: skip
    if args.output:
        data = {"rows": rows, "ratio": ratio, "above_floor_ms": above, "met": met}
        args.output.write_text(json.dumps(data, indent=1))
    return 0 if met or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
