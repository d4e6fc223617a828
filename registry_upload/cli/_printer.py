"""The one report printer: a run to one destination or several reads the same (private).

::

    Destinations, in order:                         (several, --dry-run or -v)
      1. testpypi https://test.pypi.org/legacy/ (pypi), credentials: pypirc:testpypi
    Repository: https://test.pypi.org/legacy/ (pypi)
    UPLOADED    pkg-1.0-py3-none-any.whl (12.1 KiB, 0.31 s)
    FAILED      pkg-1.0.tar.gz (10.0 KiB, 0.20 s)
      error: ...
      registry said: ...
      hint: ...
    1 uploaded, 0 skipped, 1 failed in 0.52 s
    testpypi: failed (1 uploaded, 1 failed)              (several destinations)
    0 of 2 destination(s) ok, 2 file(s), in 0.60 s

Only the CLI writes to the terminal; every line from a registry has had its
secrets masked and its control characters removed by the library.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["Printer", "Progress", "print_error", "print_usage_error", "size"]

_SHOWN = ("skipped", "not-started", "interrupted", "unconfirmed", "failed")


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def print_usage_error(exc: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    stream.write(f"error: {exc.message}\n")
    for problem in getattr(exc, "problems", ())[:50]:
        stream.write(f"  {problem.path}: {problem.message}\n")
    if exc.hint:
        stream.write(f"hint: {exc.hint}\n")


def print_error(error: Any, out: TextIO) -> None:
    out.write(f"  error: {error.message}\n")
    server = getattr(error, "server_message", None)
    if server and server not in error.message:
        out.write(f"  registry said: {server}\n")
    if error.hint:
        out.write(f"  hint: {error.hint}\n")


class Printer:
    """Writes a run's plan, each destination's files as it ends, and the summary."""

    def __init__(self, out: TextIO, *, verbose: bool, quiet: bool, several: bool) -> None:
        self.out = out
        self.verbose = verbose
        self.quiet = quiet
        self.several = several
        self._noted: set[tuple[str, str]] = set()

    def notes(self, notes: Sequence[tuple[str, str]]) -> None:
        """Each note once: a run's notes, then what a destination adds to them."""
        for path, reason in notes:
            if (path, reason) not in self._noted:
                self._noted.add((path, reason))
                sys.stderr.write(f"note: {path + ': ' if path else ''}{reason}\n")

    def plan(self, destinations: Sequence[Any], sources: dict[str, str], dry_run: bool) -> None:
        if dry_run:
            self.out.write(
                "Dry run: files are inspected and credentials resolved; nothing is sent.\n"
            )
        if not (self.several or dry_run or self.verbose) or self.quiet:
            return
        self.out.write("Destinations, in order:\n")
        for i, dest in enumerate(destinations, 1):
            where = "" if dest.url.rstrip("/") == dest.name.rstrip("/") else f" {dest.url}"
            line = f"  {i}. {dest.name}{where} ({dest.registry})"
            target = sources.get("target") or getattr(dest, "target_source", None)
            if self.verbose and target:
                line += f", target from {target}"
            credentials = getattr(dest, "credentials", None)
            if credentials is not None and (self.verbose or dry_run):
                creds = credentials()
                line += f", credentials: {creds.source if creds else 'none'}"
            self.out.write(line + "\n")
        if self.verbose:
            for name, source in sorted(sources.items()):
                if name != "target":
                    self.out.write(f"  {name} from {source}\n")
        self.out.flush()

    def destination(self, entry: Any, resolution: Any = None) -> None:
        """One destination's files, as soon as it ended."""
        report = entry.report
        out = self.out
        if not self.quiet:
            out.write(f"Repository: {report.repository_url} ({report.registry})\n")
        if self.verbose:
            out.write(f"Credentials: {report.credential_source or 'none'}\n")
            for outcome in getattr(resolution, "trail", ()):
                out.write(f"  {outcome}\n")
        self.notes(report.notes)
        if entry.reason and not self.quiet:
            out.write(f"{entry.name}: {entry.reason}\n")
        for result in report:
            self._result(result, entry.name, muted=bool(entry.reason))
        self._counts(report)
        out.flush()

    def _result(self, result: Any, name: str, *, muted: bool) -> None:
        status = result.status.value
        if self.quiet and status not in ("failed", "unconfirmed", "interrupted"):
            return
        arrow = f" → {name}" if self.several else ""
        self.out.write(f"{status.upper():11} {result.filename}{arrow} ({self._detail(result)})\n")
        if muted:
            return
        shown = self.verbose or status in _SHOWN
        repeated = result.error is not None and result.error.message == result.reason
        if result.reason and shown and not repeated:
            self.out.write(f"  {result.reason}\n")
        if result.error is not None:
            print_error(result.error, self.out)

    def _detail(self, result: Any) -> str:
        if result.status.value == "dry-run":
            return f"{size(_file_size(result.path))}, would be sent"
        parts = [size(result.bytes_sent), f"{result.elapsed:.2f} s"]
        if self.verbose:
            parts.append(f"{result.attempts} attempt(s)")
        if result.verified:
            parts.append("verified")
        return ", ".join(parts)

    def _counts(self, report: Any) -> None:
        counts = report.counts()
        extra = "".join(
            f", {counts[status]} {status}"
            for status in ("unconfirmed", "not-started", "interrupted", "dry-run")
            if counts.get(status)
        )
        self.out.write(
            f"{report.uploaded} uploaded, {report.skipped} skipped, {report.failed} failed"
            f"{extra} in {report.elapsed:.2f} s\n"
        )

    def summary(self, report: Any) -> None:
        if not self.several:
            return
        for dest in report:
            counts = dest.report.counts()
            shown = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
            self.out.write(f"{dest.name}: {dest.status} ({shown or 'no files'})\n")
        good = sum(1 for d in report if d.ok)
        self.out.write(
            f"{good} of {len(report)} destination(s) ok, {len(report.files)} file(s), "
            f"in {report.elapsed:.2f} s\n"
        )
        self.out.flush()

    @staticmethod
    def json(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        sys.stdout.flush()


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class Progress:
    """One redrawn line on a TTY: files done, bytes, rate. Silent elsewhere.

    Started afresh for each destination (:meth:`next`)."""

    def __init__(self, stream: TextIO, total_files: int, total_bytes: int, *, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.total_files, self.total_bytes = total_files, total_bytes
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.sent: dict[str, int] = {}
        self.done = 0
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, event: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            if event.kind == "progress":
                self.sent[event.filename] = event.bytes_sent
            elif event.kind == "finished":
                self.done += 1
                self.sent[event.filename] = event.total_bytes
            now = time.monotonic()
            if event.kind == "progress" and now - self._last < 0.1:
                return
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        sent = min(sum(self.sent.values()), self.total_bytes) if self.total_bytes else 0
        frac = sent / self.total_bytes if self.total_bytes else 1.0
        bar = "#" * int(frac * 30)
        rate = sent / max(now - self.started, 1e-6)
        self.stream.write(
            f"\r[{bar:<30}] {frac:4.0%} {size(sent)}/{size(self.total_bytes)} "
            f"{size(rate)}/s {self.done}/{self.total_files} files"
        )
        self.stream.flush()

    def next(self) -> None:
        """A new destination starts: clear the line, count afresh."""
        self.close()
        with self._lock:
            self._reset()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()
