"""Inspection bounds: hostile inputs up to 100 MB, each checked in a fresh process.

    python benchmarks/bench_inspect.py            # build the inputs, run check() on each
    python benchmarks/bench_inspect.py --keep DIR # build into DIR (reused when present)

Target: ``registry_upload.check()`` on any input up to 100 MB finishes in at
most 10 s with a peak RSS of at most 300 MiB on this machine.  Each input is
checked by a fresh ``python -c`` process that reports its own wall time and
peak RSS (VmHWM from /proc, so the parent's pages are not counted; plus the
peak of a render child process, if one ran: an upper bound).  The script
prints a table and "met" / "NOT MET" per row, and exits 1 if any row misses
the target.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from registry_upload.testing import core_metadata, make_sdist, make_wheel  # noqa: E402

TIME_TARGET_S = 10.0
RSS_TARGET_MIB = 300.0

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from registry_upload import check
report = check(sys.argv[1])
wall = time.perf_counter() - t0
import resource
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # a render child, if any
codes = sorted({f.code for f in report.findings})
print(json.dumps({"wall_s": wall, "rss_mib": (hwm + kids) / 1024, "codes": codes}))
"""


# --- hostile inputs -------------------------------------------------------------


def sdist_many_empty_members(d: Path, count: int = 2_000_000) -> Path:
    """A ~4 MB sdist holding two million empty members (headers built by hand: fast)."""
    path = d / "many-1.0.tar.gz"
    template = tarfile.TarInfo("many-1.0/f0000000")
    template.mtime = 1577836800
    block = bytearray(template.tobuf(format=tarfile.USTAR_FORMAT))
    name_at = block.index(b"f0000000")
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with path.open("wb") as out:
        head = io.BytesIO()
        with tarfile.open(fileobj=head, mode="w", format=tarfile.USTAR_FORMAT) as tf:
            data = core_metadata("many", "1.0").encode()
            info = tarfile.TarInfo("many-1.0/PKG-INFO")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        out.write(compressor.compress(head.getvalue()[: -1024 * 2]))  # drop the end marker
        batch = bytearray()
        for i in range(count):
            block[name_at : name_at + 8] = b"f%07d" % i
            block[148:156] = b"        "
            block[148:155] = b"%06o\0" % sum(block)
            batch += block
            if len(batch) >= 1 << 20:
                out.write(compressor.compress(bytes(batch)))
                batch.clear()
        out.write(compressor.compress(bytes(batch) + bytes(1024)))
        out.write(compressor.flush())
    return path


def sdist_many_small_files(d: Path, count: int = 45_000, name: str = "wide") -> Path:
    """An sdist just under the member cap, small distinct files (not a bomb): the longest walk."""
    path = d / f"{name}-1.0.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tf:
        data = core_metadata(name, "1.0").encode()
        info = tarfile.TarInfo(f"{name}-1.0/PKG-INFO")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        for i in range(count):
            body = os.urandom(200)
            info = tarfile.TarInfo(f"{name}-1.0/src/mod{i}.py")
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    return path


def sdist_over_the_member_cap(d: Path) -> Path:
    return sdist_many_small_files(d, 200_000, name="wider")


def sdist_gzip_bomb(d: Path, unpacked_gib: int = 4) -> Path:
    """A ~4 MB .tar.gz unpacking to 4 GiB of zeros."""
    path = d / "bomb-1.0.tar.gz"
    header = tarfile.TarInfo("bomb-1.0/zeros")
    header.size = unpacked_gib << 30
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(16 << 20)
    with path.open("wb") as out:
        out.write(compressor.compress(header.tobuf(format=tarfile.USTAR_FORMAT)))
        for _ in range((unpacked_gib << 30) // len(zeros)):
            out.write(compressor.compress(zeros))
        out.write(compressor.flush())
    return path


def _sdist_extension_header(d: Path, name: str, kind: bytes, mib: int) -> Path:
    """An sdist whose first header is a pax or GNU long-name header declaring ``mib`` MiB,
    the data present and only about 9x compressible (no bomb ratio to trip): tarfile
    alone would read it all into memory."""
    path = d / f"{name}-1.0.tar.gz"
    header = tarfile.TarInfo("././@LongLink" if kind == tarfile.GNUTYPE_LONGNAME else "pax")
    header.type = kind
    header.size = mib << 20
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    noise = os.urandom(100 << 10)
    with path.open("wb") as out:
        out.write(compressor.compress(header.tobuf(format=tarfile.GNU_FORMAT)))
        for i in range(mib):
            chunk = i.to_bytes(8, "little") + noise + bytes((1 << 20) - len(noise) - 8)
            out.write(compressor.compress(chunk))
        out.write(compressor.flush())
    return path


def sdist_pax_header_900m(d: Path) -> Path:
    return _sdist_extension_header(d, "pax", tarfile.XHDTYPE, 900)


def sdist_gnu_long_name_150m(d: Path) -> Path:
    return _sdist_extension_header(d, "longname", tarfile.GNUTYPE_LONGNAME, 150)


def sdist_large_normal(d: Path) -> Path:
    """A 100 MB sdist of incompressible data in 100 files: a full, honest walk."""
    path = d / "large-1.0.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tf:
        data = core_metadata("large", "1.0").encode()
        info = tarfile.TarInfo("large-1.0/PKG-INFO")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        for i in range(100):
            body = os.urandom(1 << 20)
            info = tarfile.TarInfo(f"large-1.0/data/blob{i}.bin")
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    return path


def wheel_large_normal(d: Path) -> Path:
    return make_wheel(d, "large", "1.0", payload_size=100 << 20)


def _wheel_with_readme(d: Path, name: str, readme: str, ctype: str = "text/markdown") -> Path:
    meta = core_metadata(
        name, "1.0", extra=f"Description-Content-Type: {ctype}", description=readme
    )
    return make_wheel(d, name, "1.0", metadata=meta)


def wheel_nested_quotes_64k(d: Path) -> Path:
    return _wheel_with_readme(d, "quotes", ">" * 65536 + " deep\n")


def wheel_nested_quotes_8m(d: Path) -> Path:
    return _wheel_with_readme(d, "quotes_big", ">" * (8 << 20) + " deep\n")


def wheel_10mb_markdown(d: Path) -> Path:
    line = "Some *markdown* with `code` and a [link](https://example.org).\n\n"
    return _wheel_with_readme(d, "bigreadme", line * (10_000_000 // len(line)))


def wheel_1mb_markdown(d: Path) -> Path:
    """Just under the render cap: the most rendering check() will do."""
    line = "Some *markdown* with `code` and a [link](https://example.org).\n\n"
    return _wheel_with_readme(d, "mdreadme", line * ((1 << 20) // len(line) - 10))


def wheel_slow_html(d: Path) -> Path:
    """Nested HTML in markdown: slow in the sanitizer, stopped by the render deadline."""
    return _wheel_with_readme(d, "slowhtml", "<div>" * 200_000)


def wheel_sibling_html(d: Path) -> Path:
    """Sibling HTML blocks: quadratic in the native markdown renderer; killed at the deadline."""
    return _wheel_with_readme(
        d, "sibhtml", "<table><tr><td>a</td><td><b>b</b></td></tr></table>\n" * 19000
    )


def wheel_deep_rst(d: Path) -> Path:
    """Just under the rst render cap, nested 700 deep: docutils recurses out (a finding)."""
    return _wheel_with_readme(
        d, "deeprst", "".join(" " * i + "x\n\n" for i in range(700)), "text/x-rst"
    )


def wheel_rst_under_cap(d: Path) -> Path:
    """The most reStructuredText check() renders (just under its 256 KiB cap)."""
    para = "Title\n=====\n\nSome *emphasis*, ``code`` and `a link <https://example.org>`_.\n\n"
    return _wheel_with_readme(d, "rstreadme", para * ((256 << 10) // len(para) - 5), "text/x-rst")


def wheel_zip_bomb(d: Path) -> Path:
    path = d / "zbomb-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zbomb-1.0.dist-info/METADATA", core_metadata("zbomb", "1.0"))
        with zf.open("zbomb/zeros", "w", force_zip64=True) as out:
            zeros = bytes(16 << 20)
            for _ in range(256):  # 4 GiB
                out.write(zeros)
    return path


def wheel_many_entries(d: Path, count: int = 2_000_000) -> Path:
    """A zip declaring two million entries (the cap refuses it from the end record)."""
    path = d / "wide-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("wide-1.0.dist-info/METADATA", core_metadata("wide", "1.0"))
        for i in range(count):
            zf.writestr(zipfile.ZipInfo(f"w/{i}"), b"")
    return path


def wheel_entries_under_cap(d: Path, count: int = 45_000) -> Path:
    path = d / "near-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("near-1.0.dist-info/METADATA", core_metadata("near", "1.0"))
        for i in range(count):
            zf.writestr(zipfile.ZipInfo(f"near/m{i}.py"), f"x = {i}\n")
    return path


def sdist_with_zip_appended(d: Path) -> Path:
    sdist = make_sdist(d, "poly", "1.0", payload_size=20 << 20)
    wheel = make_wheel(d / "w", "poly", "1.0", payload_size=20 << 20)
    sdist.write_bytes(sdist.read_bytes() + wheel.read_bytes())
    return sdist


INPUTS: dict[str, Callable[[Path], Path]] = {
    "sdist, 2M empty members": sdist_many_empty_members,
    "sdist, 45k small files (under the cap)": sdist_many_small_files,
    "sdist, 200k small files (over the cap)": sdist_over_the_member_cap,
    "sdist, gzip bomb (4 GiB of zeros)": sdist_gzip_bomb,
    "sdist, 100 MB normal": sdist_large_normal,
    "sdist, pax header declaring 900 MiB (~100 MB)": sdist_pax_header_900m,
    "sdist, GNU long name declaring 150 MiB": sdist_gnu_long_name_150m,
    "sdist + zip appended (polyglot, 40 MB)": sdist_with_zip_appended,
    "wheel, 100 MB normal": wheel_large_normal,
    "wheel, zip bomb (4 GiB of zeros)": wheel_zip_bomb,
    "wheel, 2M entries": wheel_many_entries,
    "wheel, 45k entries (under the cap)": wheel_entries_under_cap,
    "wheel, README 64k nested '>'": wheel_nested_quotes_64k,
    "wheel, README 8M nested '>'": wheel_nested_quotes_8m,
    "wheel, README 10 MB markdown": wheel_10mb_markdown,
    "wheel, README 1 MB markdown (rendered)": wheel_1mb_markdown,
    "wheel, README 200k nested <div>": wheel_slow_html,
    "wheel, README 1 MB sibling HTML blocks": wheel_sibling_html,
    "wheel, README rst 700 levels deep": wheel_deep_rst,
    "wheel, README 256 KB rst (rendered)": wheel_rst_under_cap,
}


def build(directory: Path) -> dict[str, Path]:
    (directory / "w").mkdir(parents=True, exist_ok=True)
    built = {}
    for label, maker in INPUTS.items():
        marker = directory / f".{maker.__name__}"
        if marker.exists():
            built[label] = Path(marker.read_text())
            continue
        start = time.perf_counter()
        path = maker(directory)
        marker.write_text(str(path))
        built[label] = path
        print(
            f"  built {path.name} ({path.stat().st_size >> 10} KiB) in "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )
    return built


def run_one(path: Path) -> dict[str, object]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )
    outer = time.perf_counter() - start
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:], "outer_s": outer}
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["outer_s"] = outer
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the inputs here and keep them")
    parser.add_argument("--output", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        print(f"building hostile inputs in {directory} ...", flush=True)
        built = build(directory)
        print(
            f"\ntarget: check() in <= {TIME_TARGET_S:g} s and <= {RSS_TARGET_MIB:g} MiB "
            "peak RSS per input (fresh process each)\n"
        )
        print(f"{'input':42} {'size':>9} {'check s':>8} {'RSS MiB':>8}  verdict   findings")
        results, all_met = {}, True
        for label, path in built.items():
            r = run_one(path)
            size = f"{path.stat().st_size / (1 << 20):.1f} MB"
            if "error" in r:
                all_met = False
                print(f"{label:42} {size:>9}  CRASHED: {r['error']}")
                results[label] = r
                continue
            wall, rss = float(r["wall_s"]), float(r["rss_mib"])  # type: ignore[arg-type]
            met = wall <= TIME_TARGET_S and rss <= RSS_TARGET_MIB
            all_met &= met
            codes = ", ".join(r["codes"]) or "-"  # type: ignore[arg-type]
            verdict = "met" if met else "NOT MET"
            print(f"{label:42} {size:>9} {wall:8.2f} {rss:8.1f}  {verdict:8}  {codes}")
            results[label] = {**r, "size_bytes": path.stat().st_size, "met": met}
    print(f"\noverall: {'met' if all_met else 'NOT MET'}")
    if args.output:
        args.output.write_text(json.dumps(results, indent=2))
    return 0 if all_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
