"""Expect: 100-continue against loopback registries that judge the request from its headers.

    python benchmarks/bench_expect.py              # 256 MiB wheel (issue 11 targets)
    python benchmarks/bench_expect.py --size 16    # quicker

Servers (registry_upload.testing.hostile), one Transport per scenario:

* reject-then-drain: answers 401 from the headers, then reads the body anyway.
  Target: it receives at most 4 MiB before the client stops (with Expect, and
  also without it: the early answer is noticed between chunks).
* honour-expect with a wrong password: answers 401 instead of 100 Continue.
  Target: it receives at most 64 KiB.
* ignore-expect: never sends 100 and waits for the body.  Target: a good upload
  is at most about 1 s slower than one sent without Expect, and the wait is
  paid once per batch (the second file in a row pays nothing).

Servers run in a child process, as a registry would.  Prints each figure
beside its target with MET / MISS; ``--output`` writes JSON.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from registry_upload.distribution import Distribution  # noqa: E402
from registry_upload.testing import hostile, make_wheel  # noqa: E402
from registry_upload.transport import MultipartBody, Transport, TransportOptions  # noqa: E402

MiB = 1 << 20
BAD = "Basic " + base64.b64encode(b"user:wrong").decode()
GOOD = "Basic " + base64.b64encode(b"user:right").decode()


def body_of(wheel: Path) -> MultipartBody:
    dist = Distribution.open(wheel)
    return MultipartBody(dist.form_fields(), path=wheel, filename=wheel.name, size=dist.size)


class Remote:
    """A hostile server in a child process (so it never waits for this process's GIL)."""

    def __init__(self, factory: str, **kwargs: Any) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._proc = multiprocessing.get_context("fork").Process(
            target=_serve, args=(child, factory, kwargs), daemon=True
        )
        self._proc.start()
        self.url: str = self._conn.recv()

    def ask(self, what: str) -> Any:
        self._conn.send(what)
        return self._conn.recv()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()


def _serve(conn: Any, factory: str, kwargs: dict[str, Any]) -> None:
    with getattr(hostile, factory)(**kwargs) as server:
        conn.send(server.url)
        while (command := conn.recv()) != "stop":
            if command == "received":
                conn.send(server.body_received)
            elif command == "last":
                last = server.requests[-1]
                conn.send((last.body_received, last.expects_continue))


def received_before_stop(
    factory: str, wheel: Path, options: TransportOptions, **kwargs: Any
) -> int:
    with Remote(factory, **kwargs) as server, Transport(options) as transport:
        sent = transport.post_file(server.url, body_of(wheel), authorization=BAD)
        assert sent.response.status == 401, sent.response
        time.sleep(0.3)  # let the server count what reached it
        received: int = server.ask("received")
        return received


def timed_upload(transport: Transport, server: Remote, wheel: Path) -> float:
    body = body_of(wheel)
    start = time.perf_counter()
    sent = transport.post_file(server.url, body, authorization=GOOD)
    elapsed = time.perf_counter() - start
    assert sent.response.status == 200, sent.response
    assert server.ask("last")[0] == body.length
    return elapsed


def no_100_costs(wheel: Path, rounds: int) -> dict[str, float]:
    """Median seconds: without Expect; first file with Expect; second file in a row."""
    without, first, second = [], [], []
    for _ in range(rounds):
        with Remote("ignore_expect") as server:
            with Transport(TransportOptions(expect_threshold=None)) as plain:
                without.append(timed_upload(plain, server, wheel))
            with Transport() as transport:
                first.append(timed_upload(transport, server, wheel))
                assert server.ask("last")[1], "the first upload should carry Expect"
                second.append(timed_upload(transport, server, wheel))
                assert not server.ask("last")[1], "the second upload should not wait again"
    return {
        "without_expect_s": statistics.median(without),
        "first_with_expect_s": statistics.median(first),
        "second_with_expect_s": statistics.median(second),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="wheel payload in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-expect-") as tmp:
        print(f"making a {args.size} MiB wheel")
        wheel = make_wheel(tmp, "expectbench", "1.0", payload_size=args.size * MiB)
        size = wheel.stat().st_size
        drain_expect = received_before_stop("reject_then_drain", wheel, TransportOptions())
        drain_plain = received_before_stop(
            "reject_then_drain", wheel, TransportOptions(expect_threshold=None)
        )
        honoured = received_before_stop(
            "honour_expect", wheel, TransportOptions(), password="right"
        )
        costs = no_100_costs(wheel, args.rounds)
    extra_first = costs["first_with_expect_s"] - costs["without_expect_s"]
    extra_second = costs["second_with_expect_s"] - costs["without_expect_s"]
    targets: list[tuple[str, float, float, str]] = [
        ("401-and-drain server, body received (Expect)", drain_expect / MiB, 4.0, "MiB"),
        ("401-and-drain server, body received (no Expect)", drain_plain / MiB, 4.0, "MiB"),
        ("Expect-honouring server, body received on 401", honoured / 1024, 64.0, "KiB"),
        ("no-100 server, first upload slower by", extra_first, 1.2, "s"),
        ("no-100 server, second upload slower by", extra_second, 0.2, "s"),
    ]
    print(f"\nwheel: {size / MiB:.1f} MiB; medians of {args.rounds} rounds for timings")
    for key, value in costs.items():
        print(f"  {key:58} {value:8.3f} s")
    print("\n== targets (measured / target)")
    results: dict[str, Any] = {"wheel_mib": size / MiB, **costs, "targets": {}}
    for label, value, target, unit in targets:
        met = value <= target
        results["targets"][label] = {"value": value, "target": target, "unit": unit, "met": met}
        print(f"  {'MET ' if met else 'MISS'} {label:52} {value:8.3f} / {target:g} {unit}")
    if args.output:
        args.output.write_text(json.dumps(results, indent=2))
        print(f"\nwritten {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
