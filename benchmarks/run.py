"""registry_upload side by side with twine, uv publish and curl, in one run.

    python benchmarks/run.py                 # 256 MiB wheel, 100 small files, 3 rounds
    python benchmarks/run.py --size 512      # the headline large-file figure
    python benchmarks/run.py --smoke         # tiny inputs, one round (used by the tests)
    python benchmarks/run.py --only warm --only cold   # the per-file scenarios (issue 13)
    python benchmarks/run.py --only minimal --size 1024 # the CLI vs a 15-line sender (issue 19)
    python benchmarks/run.py --only think    # SendResult.response_time vs the sink's delay

Every tool runs as a separate process (startup included), alternating
A B C ... each round (starting tool rotated), against servers started here:
a sink that reads and discards bodies (answering at once, or after 50 ms per
upload to play a registry's processing time) and a real pypiserver, both from
the public testing kit (registry_upload.testing: DiscardSink, LocalRegistry).  Prints
a table of medians and the ratios registry_upload / each tool, and writes it
as JSON.  A tool that is not installed is reported as missing.

**minimal** sends one large wheel with the CLI and with a minimal 15-line
Python process (``minimal_sender.py``: the form by hand, ``Expect: 100-continue``, the
file sent while a second thread computes its sha256) to a sink that answers
``100 Continue`` at once; the target is 1.5x and 40 MiB.  **think** checks
that ``SendResult.response_time`` is the registry's think time (end of body
to first byte of the answer): the sink waits a known delay before answering.

The per-file scenarios: **warm** times ``Uploader(...).upload(files)`` over
many tiny wheels inside an already started Python process (library use: the
time printed by the child, imports excluded), against ``uv publish`` of the
same files from a cold start (its whole wall time); **cold** times the CLI on
the small files against uv, and also ``python -c "import h11,
packaging.metadata"`` -- the start-up cost of our dependencies, which the
target subtracts.  In both, the sink runs in this process and every client in
its own, so no client shares a GIL with the server.  The package's bytecode
is compiled first, as an installed package's is.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from registry_upload.testing import (  # noqa: E402
    DiscardSink,
    LocalRegistry,
    make_sdist,
    make_wheel,
)

PY = sys.executable
USER, PASSWORD = "bench", "bench-password"


# --- running one command --------------------------------------------------------


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) of the tool's own process, exit code.

    Peak RSS comes from GNU time (%M) when present: the rusage of a child
    forked from this Python process would count this process's pages too.
    """
    full = [GNU_TIME, "-f", "RSS_KIB=%M", *cmd] if GNU_TIME else cmd
    start = time.perf_counter()
    proc = subprocess.run(
        full,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    err = proc.stderr.decode(errors="replace")
    rss = float("nan")
    for line in err.splitlines():
        if line.startswith("RSS_KIB="):
            rss = int(line.split("=", 1)[1]) / 1024
    if proc.returncode != 0:
        print(f"    ! {cmd[0]} exited {proc.returncode}: {err.strip()[-300:]}", file=sys.stderr)
    return wall, rss, proc.returncode


def tool_commands(which: str, url: str, files: list[str], jobs: int | None = None) -> list[str]:
    if which == "registry_upload":
        cmd = [
            PY,
            "-m",
            "registry_upload",
            "upload",
            "--repository-url",
            url,
            "-u",
            USER,
            "-p",
            PASSWORD,
            "--non-interactive",
        ]
        if jobs is not None:
            cmd += ["--jobs", str(jobs)]
        return cmd + files
    if which == "twine":
        return [
            PY,
            "-m",
            "twine",
            "upload",
            "--repository-url",
            url,
            "-u",
            USER,
            "-p",
            PASSWORD,
            "--non-interactive",
            "--disable-progress-bar",
            *files,
        ]
    if which == "uv":
        uv = uv_binary() or "uv"
        return [
            uv,
            "publish",
            "--publish-url",
            url,
            "-u",
            USER,
            "-p",
            PASSWORD,
            "--no-attestations",
            *files,
        ]
    if which in ("curl", "curl (no Expect)"):
        (path,) = files
        cmd = [
            "curl",
            "-s",
            "-f",
            "-o",
            "/dev/null",
            "-F",
            ":action=file_upload",
            "-F",
            "protocol_version=1",
            "-F",
            f"content=@{path}",
            "-u",
            f"{USER}:{PASSWORD}",
        ]
        if which == "curl (no Expect)":
            cmd += ["-H", "Expect:"]
        return [*cmd, url]
    raise ValueError(which)


def uv_binary() -> str | None:
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def available(which: str) -> str | None:
    """None if the tool can run, else why not."""
    if which in ("curl", "curl (no Expect)"):
        return None if shutil.which("curl") else "curl not on PATH"
    if which == "uv":
        return None if uv_binary() else "uv not installed (pip install -e '.[test]')"
    if which == "twine":
        try:
            import twine  # noqa: F401
        except ImportError:
            return "twine not installed (pip install -e '.[test]')"
    return None


def run_rounds(
    label: str,
    tools: dict[str, Callable[[], list[str]]],
    rounds: int,
    results: dict[str, Any],
    *,
    env: dict[str, str],
) -> None:
    print(f"\n== {label}")
    names = list(tools)
    samples: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    missing = {n: why for n in names if (why := available(n.split(" [")[0])) is not None}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            if name in missing:
                continue
            wall, rss, code = measure(tools[name](), env)
            if code == 0:
                samples[name].append((wall, rss))
            print(f"  round {r + 1} {name:34} {wall:7.3f} s  {rss:6.1f} MiB  rc={code}")
    results[label] = _table(names, samples, missing)


# --- scenarios ----------------------------------------------------------------


def import_and_inspect(files: list[Path], rounds: int, results: dict[str, Any]) -> None:
    print("\n== import time and inspect + check per file")
    code = (
        "import time; t=time.perf_counter(); import registry_upload; print(time.perf_counter()-t)"
    )
    full = (
        "import time; t=time.perf_counter(); import registry_upload.uploader; "
        "print(time.perf_counter()-t)"
    )
    imports, imports_full = [], []
    for _ in range(max(5, rounds * 3)):
        imports.append(float(subprocess.check_output([PY, "-c", code])))
        imports_full.append(float(subprocess.check_output([PY, "-c", full])))
    process = []
    for _ in range(max(3, rounds)):
        t = time.perf_counter()
        subprocess.check_call([PY, "-c", "import registry_upload"])
        process.append(time.perf_counter() - t)
    from registry_upload import Distribution, check

    per_file = []
    for _ in range(max(3, rounds)):
        t = time.perf_counter()
        for f in files:
            Distribution.open(f)
        check(files)
        per_file.append((time.perf_counter() - t) / len(files))
    results["import"] = {
        "import_registry_upload_ms": statistics.median(imports) * 1000,
        "import_registry_upload_uploader_ms": statistics.median(imports_full) * 1000,
        "python_c_import_registry_upload_process_ms": statistics.median(process) * 1000,
        "inspect_plus_check_per_file_ms": statistics.median(per_file) * 1000,
    }
    for k, v in results["import"].items():
        print(f"  {k:48} {v:8.2f}")


def hash_inspect_memory(wheel: Path, results: dict[str, Any]) -> None:
    code = (
        "import resource, sys, time; from registry_upload import Distribution;"
        "t=time.perf_counter(); d=Distribution.open(sys.argv[1]); g=d.digests();"
        "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)"
    )
    wall, rss = map(float, subprocess.check_output([PY, "-c", code, str(wheel)]).split())
    results["inspect_and_hash_large"] = {"wall_s": wall, "peak_rss_mib": rss}
    print(f"\n== inspect + sha256/blake2b of the large wheel: {wall:.3f} s, peak RSS {rss:.1f} MiB")
    started = time.perf_counter()
    subprocess.check_output([PY, "-c", SHA256_PASS, str(wheel)])
    floor = time.perf_counter() - started
    results["sha256_pass_large"] = {"wall_s": floor}
    print(f"== one sha256 pass over the large wheel, as a process (the floor): {floor:.3f} s")


# One sha256 pass in 1 MiB reads, timed as a whole process like every tool here: with
# a raw socket send (curl), the floor of an upload that sends a file and its digest.
SHA256_PASS = (
    "import hashlib, sys; h=hashlib.sha256()\n"
    "with open(sys.argv[1], 'rb', buffering=0) as f:\n"
    "    while chunk := f.read(1 << 20): h.update(chunk)\n"
)


WARM_CHILD = """
import sys, time
from registry_upload import Credentials, Uploader
url, listing = sys.argv[1], sys.argv[2]
files = open(listing, encoding="utf-8").read().split("\\n")
start = time.perf_counter()
with Uploader(url, credentials=Credentials.of(sys.argv[3], sys.argv[4]), jobs=1) as up:
    report = up.upload(files)
elapsed = time.perf_counter() - start
import resource
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
sys.exit(0 if report.ok and len(report.results) == len(files) else 1)
"""

BASELINE = "baseline: python -c 'import h11, packaging.metadata'"


def warm_uploader(
    files: list[Path], listing: Path, rounds: int, results: dict[str, Any], *, env: dict[str, str]
) -> None:
    """One Uploader in a started process, against uv (cold) and twine on the same files."""
    label = f"warm: {len(files)} files through one Uploader -> sink"
    print(f"\n== {label}")
    listing.write_text("\n".join(str(f) for f in files), encoding="utf-8")
    names = ["registry_upload [warm Uploader]", "uv", "twine"]
    samples: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    missing = {n: why for n in names[1:] if (why := available(n)) is not None}
    path = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    child_env = {**env, "PYTHONPATH": path}
    with DiscardSink() as sink:
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                if name in missing:
                    continue
                if name == names[0]:
                    cmd = [PY, "-c", WARM_CHILD, sink.url, str(listing), USER, PASSWORD]
                    out = subprocess.run(
                        cmd, check=False, capture_output=True, text=True, env=child_env
                    )
                    code = out.returncode
                    wall, rss = (float("nan"),) * 2
                    if code == 0:
                        wall, rss = map(float, out.stdout.split()[-2:])
                    else:
                        print(f"    ! warm child exited {code}: {out.stderr[-300:]}")
                else:
                    cmd = tool_commands(name, sink.url, [str(f) for f in files])
                    wall, rss, code = measure(cmd, env)
                if code == 0:
                    samples[name].append((wall, rss))
                print(f"  round {r + 1} {name:34} {wall:7.3f} s  {rss:6.1f} MiB  rc={code}")
    results[label] = _table(names, samples, missing)


def cold_cli(
    files: list[str], rounds: int, results: dict[str, Any], *, env: dict[str, str]
) -> None:
    """The CLI from a cold start, uv, and the start-up cost of our dependencies alone."""
    with DiscardSink() as sink:
        tools = {
            "registry_upload [CLI]": lambda: tool_commands("registry_upload", sink.url, files),
            "uv": lambda: tool_commands("uv", sink.url, files),
            BASELINE: lambda: [PY, "-c", "import h11, packaging.metadata"],
        }
        run_rounds(f"cold: {len(files)} files via the CLI -> sink", tools, rounds, results, env=env)


# The minimal process of the "minimal" scenario: a 15-line sender, sha256 in a second thread.
MINIMAL = HERE / "minimal_sender.py"


def minimal_sender(
    big: Path, root: Path, rounds: int, results: dict[str, Any], *, env: dict[str, str]
) -> None:
    """The CLI against the minimal process above, one large wheel each, to a prompt sink."""
    script = MINIMAL
    size = big.stat().st_size >> 20
    with DiscardSink() as sink:
        port = sink.url.rsplit(":", 1)[1].strip("/")
        tools = {
            "registry_upload [CLI]": lambda: tool_commands("registry_upload", sink.url, [str(big)]),
            "minimal (15 lines, sha256 thread)": lambda: [PY, str(script), str(big), port],
        }
        label = f"minimal: one {size} MiB wheel -> sink sending 100 Continue at once"
        run_rounds(label, tools, rounds, results, env=env)


def think_time(big: Path, rounds: int, results: dict[str, Any], *, delay: float = 0.25) -> None:
    """``SendResult.response_time`` against a sink that thinks ``delay`` s before answering."""
    from registry_upload import Distribution
    from registry_upload.transport import MultipartBody, Transport

    dist = Distribution.open(big)
    body = MultipartBody(dist.form_fields(), path=big, filename=big.name, size=dist.size)
    print(f"\n== think time: the sink answers {delay * 1000:.0f} ms after the body")
    measured = []
    with DiscardSink(delay=delay) as sink, Transport() as transport:
        for r in range(max(3, rounds)):
            result = transport.post_file(sink.url, body, authorization=None)
            measured.append(result.response_time)
            print(f"  round {r + 1} response_time {result.response_time * 1000:8.1f} ms")
    results["think_time"] = {
        "sink_delay_ms": delay * 1000,
        "response_time_ms": statistics.median(measured) * 1000,
    }


def _table(
    names: list[str], samples: dict[str, list[tuple[float, float]]], missing: dict[str, str]
) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for name in names:
        if name in missing:
            table[name] = {"missing": missing[name]}
        elif not samples[name]:
            table[name] = {"failed": True}
        else:
            table[name] = {
                "wall_s": statistics.median(w for w, _ in samples[name]),
                "peak_rss_mib": statistics.median(m for _, m in samples[name]),
                "runs": len(samples[name]),
            }
    return table


def ratios(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for label, table in results.items():
        if not isinstance(table, dict):
            continue
        ours = [k for k in table if k.startswith("registry_upload") and "wall_s" in table[k]]
        if not ours:
            continue
        out[label] = {}
        for mine in ours:
            for other, row in table.items():
                if other.startswith(("registry_upload", "baseline")) or "wall_s" not in row:
                    continue
                out[label][f"{mine} / {other}"] = table[mine]["wall_s"] / row["wall_s"]
    return out


def check_targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The issue's targets, each with the measured figure and whether it is met."""
    out: dict[str, dict[str, Any]] = {}

    def row(label_start: str) -> dict[str, Any] | None:
        return next((v for k, v in results.items() if k.startswith(label_start)), None)

    def wall(table: dict[str, Any] | None, name: str) -> float | None:
        if table is None or "wall_s" not in table.get(name, {}):
            return None
        return float(table[name]["wall_s"])

    large = row("one ")
    ours, send = wall(large, "registry_upload"), wall(large, "curl (no Expect)")
    sha = results.get("sha256_pass_large", {}).get("wall_s")
    if ours and send and sha:
        # The floor: the slower of a raw socket send (curl) and one sha256 pass.
        floor = max(send, float(sha))
        out["large: <= 1.3x the floor"] = {"value": ours / floor, "met": ours / floor <= 1.3}
    if large and "peak_rss_mib" in large.get("registry_upload", {}):
        rss = large["registry_upload"]["peak_rss_mib"]
        out["large: peak RSS <= 40 MiB"] = {"value": rss, "met": rss <= 40}
    for label, other_names, factor in (
        ("sink answering after 0 ms", ("twine",), 2.0),
        ("sink answering after 50 ms", ("twine", "uv"), 4.0),
    ):
        table = next((v for k, v in results.items() if k.endswith(label)), None)
        mine = wall(table, "registry_upload [default jobs]")
        for other in other_names:
            theirs = wall(table, other)
            if mine and theirs:
                out[f"small, {label}: >= {factor:g}x faster than {other}"] = {
                    "value": theirs / mine,
                    "met": theirs / mine >= factor,
                }
    warm = row("warm: ")
    ours, uv = wall(warm, "registry_upload [warm Uploader]"), wall(warm, "uv")
    if ours and uv:
        out["warm: one Uploader <= 1.0x uv publish"] = {"value": ours / uv, "met": ours / uv <= 1.0}
    cold = row("cold: ")
    ours, uv, base = (
        wall(cold, "registry_upload [CLI]"),
        wall(cold, "uv"),
        wall(cold, BASELINE),
    )
    if ours and uv and base:
        value = (ours - base) / uv
        out["cold: (CLI - dependency import) <= 1.0x uv"] = {"value": value, "met": value <= 1.0}
    minimal = row("minimal: ")
    ours, floor = (
        wall(minimal, "registry_upload [CLI]"),
        wall(minimal, "minimal (15 lines, sha256 thread)"),
    )
    if ours and floor:
        out["minimal: CLI <= 1.5x a 15-line sender"] = {
            "value": ours / floor,
            "met": ours / floor <= 1.5,
        }
        rss = minimal["registry_upload [CLI]"]["peak_rss_mib"] if minimal else float("nan")
        out["minimal: CLI peak RSS <= 40 MiB"] = {"value": rss, "met": rss <= 40}
    think = results.get("think_time")
    if think:
        off = abs(think["response_time_ms"] - think["sink_delay_ms"])
        out["think: response_time within 50 ms of the sink's delay (ms off)"] = {
            "value": off,
            "met": off <= 50,
        }
    imp = results.get("import", {}).get("import_registry_upload_ms")
    if imp is not None:
        out["import registry_upload < 150 ms"] = {"value": imp, "met": imp < 150}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="large wheel size in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small", type=int, default=100, help="small files (half wheels)")
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--warm-files", type=int, default=1000, help="files of the warm scenario")
    parser.add_argument("--smoke", action="store_true", help="tiny inputs, one round")
    parser.add_argument("--output", default=str(HERE / "results" / "latest.json"))
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        help="scenario to skip: large, small, pypiserver, import, warm, cold, minimal, think",
    )
    parser.add_argument(
        "--only", action="append", default=[], help="run only these scenarios (same names)"
    )
    args = parser.parse_args()
    if args.only:
        every = {"large", "small", "pypiserver", "import", "warm", "cold", "minimal", "think"}
        args.skip = sorted(every - set(args.only))
    if args.smoke:
        args.size, args.rounds, args.small, args.warm_files = 1, 1, 4, 10
    # Compiled bytecode, as an installed package has it (pip compiles at install):
    # with PYTHONDONTWRITEBYTECODE set, every cold start would compile our modules.
    compileall.compile_dir(str(HERE.parent / "registry_upload"), quiet=1)
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    for var in ("TWINE_USERNAME", "TWINE_PASSWORD", "TWINE_REPOSITORY_URL", "UV_PUBLISH_URL"):
        env.pop(var, None)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "settings": {
            "size_mib": args.size,
            "rounds": args.rounds,
            "small_files": args.small,
            "delay_ms": args.delay_ms,
            "warm_files": args.warm_files,
        },
    }
    with tempfile.TemporaryDirectory(prefix="registry-upload-bench-") as tmp:
        root = Path(tmp)
        big_dir, small_dir = root / "big", root / "small"
        big_dir.mkdir()
        small_dir.mkdir()
        print(f"making a {args.size} MiB wheel and {args.small} small files in {root}")
        big = make_wheel(big_dir, "bench-big", "1.0", payload_size=args.size << 20)
        small: list[Path] = []
        for i in range(args.small // 2):
            small.append(make_wheel(small_dir, f"bench-small-{i}", "1.0", payload_size=20_000))
            small.append(make_sdist(small_dir, f"bench-small-{i}", "1.0", payload_size=20_000))
        small_args = [str(p) for p in small]

        if "large" not in args.skip:
            hash_inspect_memory(big, results)
            with DiscardSink() as sink:
                tools = {
                    name: (lambda n=name: tool_commands(n, sink.url, [str(big)]))
                    for name in ("registry_upload", "twine", "uv", "curl", "curl (no Expect)")
                }
                run_rounds(
                    f"one {args.size} MiB wheel -> sink", tools, args.rounds, results, env=env
                )

        if "minimal" not in args.skip:
            minimal_sender(big, root, args.rounds, results, env=env)

        if "think" not in args.skip:
            think_time(big, args.rounds, results)

        if "small" not in args.skip:
            for delay in (0.0, args.delay_ms / 1000):
                with DiscardSink(delay=delay) as sink:
                    tools = {
                        "registry_upload [jobs=1]": lambda: tool_commands(
                            "registry_upload", sink.url, small_args, jobs=1
                        ),
                        "registry_upload [default jobs]": lambda: tool_commands(
                            "registry_upload", sink.url, small_args
                        ),
                        "twine": lambda: tool_commands("twine", sink.url, small_args),
                        "uv": lambda: tool_commands("uv", sink.url, small_args),
                    }
                    run_rounds(
                        f"{len(small)} small files -> sink answering after {delay * 1000:.0f} ms",
                        tools,
                        args.rounds,
                        results,
                        env=env,
                    )

        if "pypiserver" not in args.skip:
            users = {USER: PASSWORD}
            with LocalRegistry(root / "pypiserver", users=users, overwrite=True) as server:
                url = server.url
                tools = {
                    "registry_upload [default jobs]": lambda: tool_commands(
                        "registry_upload", url, small_args
                    ),
                    "twine": lambda: tool_commands("twine", url, small_args),
                    "uv": lambda: tool_commands("uv", url, small_args),
                }
                run_rounds(
                    f"{len(small)} small files -> pypiserver (--overwrite)",
                    tools,
                    args.rounds,
                    results,
                    env=env,
                )

        if "warm" not in args.skip:
            warm_dir = root / "warm"
            warm_dir.mkdir()
            tiny = [make_wheel(warm_dir, f"warm-{i}", "1.0") for i in range(args.warm_files)]
            warm_uploader(tiny, root / "warm.txt", args.rounds, results, env=env)

        if "cold" not in args.skip:
            cold_rounds = args.rounds if args.smoke else max(args.rounds, 9)
            cold_cli(small_args, cold_rounds, results, env=env)

        if "import" not in args.skip:
            import_and_inspect(small[:20], args.rounds, results)

    results["ratios"] = ratios(results)
    results["targets"] = check_targets(results)
    print("\n== medians (wall s / peak RSS MiB) and ratios registry_upload / other")
    for label, table in results.items():
        if label in (
            "machine",
            "settings",
            "ratios",
            "targets",
            "import",
            "inspect_and_hash_large",
            "sha256_pass_large",
            "think_time",
        ):
            continue
        print(f"  {label}")
        for name, row in table.items():
            if "wall_s" in row:
                print(f"    {name:34} {row['wall_s']:8.3f} s {row['peak_rss_mib']:8.1f} MiB")
            else:
                print(f"    {name:34} {row}")
        for pair, value in results["ratios"].get(label, {}).items():
            print(f"      ratio {pair:56} {value:6.2f}")
    print("\n== targets")
    for name, target in results["targets"].items():
        print(f"  {'MET ' if target['met'] else 'MISS'} {name:58} {target['value']:8.2f}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
