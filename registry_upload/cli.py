"""``registry-upload`` / ``python -m registry_upload``: a thin layer over the library.

Exit codes: 0 every file uploaded or skipped (or check passed); 1 some file
failed (or check found errors); 2 usage error or bad input found before
anything was sent.  This is the only module that writes to the terminal.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from ._cli_publish import add_publish_arguments, run_publish, use_single_destination, wants_publish
from ._version import __version__

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _whole(text: str, most: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= most:
        raise argparse.ArgumentTypeError(f"must be from 1 to {most}, not {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole(text, 1000)


def _jobs(text: str) -> int:
    from .uploader import MAX_JOBS

    return _whole(text, MAX_JOBS)


def seconds(text: str, *, zero: bool = False) -> float:
    """A number of seconds: more than 0 (or 0 too, with ``zero``), at most a week,
    never NaN or infinity."""
    from .transport import MAX_WAIT_SECONDS

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value >= 0 if zero else value > 0) or not value <= MAX_WAIT_SECONDS:
        least = "from 0 to" if zero else "more than 0 and at most"
        raise argparse.ArgumentTypeError(f"must be {least} {MAX_WAIT_SECONDS:g}, not {text}")
    return value


def _positive_float(text: str) -> float:
    return seconds(text)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (and a pointer to --help), not the whole usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\nhint: see `{self.prog} --help`\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="registry-upload",
        description="Upload wheels and sdists to Python package registries.",
        epilog="Exit codes: 0 ok, 1 some file failed, 2 usage or bad input.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("upload", help="upload distributions")
    up.add_argument("files", nargs="+", help="files, directories (e.g. dist/) or globs")
    add_publish_arguments(up)  # -r/--repository, --repository-url (repeatable), publishing
    up.add_argument("-u", "--username")
    up.add_argument("-p", "--password", help="password or API token (prefer the environment)")
    up.add_argument("--config-file", help="the .pypirc to read (default ~/.pypirc)")
    up.add_argument("--skip-existing", action="store_true", help="skip files already there")
    up.add_argument("--non-interactive", action="store_true", help="never prompt")
    up.add_argument("--cert", help="CA bundle to verify the registry's TLS certificate")
    up.add_argument("--client-cert", help="PEM file with a client certificate and key")
    up.add_argument("--index-url", help="simple index to check for existing files")
    up.add_argument(
        "--jobs",
        type=_jobs,
        default=None,
        help="at most N uploads in flight, added while the registry is slow (default 8)",
    )
    up.add_argument(
        "--attempts", type=_positive_int, default=None, help="tries per file (default 4)"
    )
    up.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="the most one attempt (connect, send, answer) may take "
        "(default: grows with the file size)",
    )
    up.add_argument("--dry-run", action="store_true", help="inspect and resolve credentials only")
    up.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    up.add_argument(
        "--allow-insecure",
        action="store_true",
        help="allow credentials over plain http to a non-loopback host",
    )
    up.add_argument("--blake2", action="store_true", help="also send the blake2b-256 digest")
    up.add_argument(
        "--no-attestations",
        action="store_true",
        help="leave out the PEP 740 attestation files found beside the distributions",
    )
    up.add_argument("--comment", help="an upload comment")
    up.add_argument("-v", "--verbose", action="store_true")

    chk = sub.add_parser("check", help="check distributions before uploading")
    chk.add_argument("files", nargs="+")
    chk.add_argument("--strict", action="store_true", help="warnings fail the check")
    chk.add_argument("--no-attestations", action="store_true", help="do not read attestation files")
    chk.add_argument("--json", action="store_true")
    chk.add_argument("-v", "--verbose", action="store_true")

    auth = sub.add_parser(
        "auth",
        help="say which credential provider would answer for a repository (never the secret)",
        epilog="Exit codes: 0 a provider answered, 1 none did (or one failed), 2 usage error.",
    )
    auth.add_argument("url", nargs="?", help="the upload URL (default: -r, the environment, PyPI)")
    auth.add_argument("-r", "--repository", help="a repository name from .pypirc")
    auth.add_argument("--config-file", help="the .pypirc to read (default ~/.pypirc)")
    auth.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    auth.add_argument(
        "--non-interactive", action="store_true", help="accepted for symmetry: auth never prompts"
    )
    auth.add_argument("-v", "--verbose", action="store_true")

    demo = sub.add_parser("demo", help="build, upload to a local pypiserver, fetch back")
    demo.add_argument("-v", "--verbose", action="store_true")
    return parser


def _globbed(patterns: Sequence[str]) -> list[str]:
    """Globs expand (sorted); everything else is passed on as given."""
    import glob

    out: list[str] = []
    for pattern in patterns:
        out.extend(sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern])
    return out


def expand(patterns: Sequence[str]) -> list[str]:
    """Globs expand, directories become their distributions; order kept, no repeats.

    Raises a typed error for an unreadable directory or a file that is not a
    distribution (companion ``.asc``/``.attestation`` files are set aside).
    """
    from ._paths import collect

    return list(collect(_globbed(patterns)).paths)


def _collect_files(patterns: Sequence[str], *, show_notes: bool = True) -> list[str] | None:
    """The distributions to upload (notes printed if asked); ``None`` after a usage error."""
    from ._paths import collect
    from .errors import RegistryUploadError

    try:
        found = collect(_globbed(patterns))
    except RegistryUploadError as exc:
        _print_usage_error(exc)
        return None
    if show_notes:
        _print_notes(found.notes)
    if not found.paths:
        sys.stderr.write("error: no distribution files matched\n")
        return None
    return list(found.paths)


def _print_notes(notes: Sequence[tuple[str, str]]) -> None:
    for path, reason in notes:
        sys.stderr.write(f"note: {path}: {reason}\n")


def _print_usage_error(exc: Any) -> None:
    sys.stderr.write(f"error: {exc.message}\n")
    if exc.hint:
        sys.stderr.write(f"hint: {exc.hint}\n")


class _Progress:
    """One redrawn line on a TTY: files done, bytes, rate. Silent elsewhere."""

    def __init__(self, stream: TextIO, total_files: int, total_bytes: int) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.total_files, self.total_bytes = total_files, total_bytes
        self.sent: dict[str, int] = {}
        self.done = 0
        self.started = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()

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
            sent = min(sum(self.sent.values()), self.total_bytes) if self.total_bytes else 0
            frac = sent / self.total_bytes if self.total_bytes else 1.0
            bar = "#" * int(frac * 30)
            rate = sent / max(now - self.started, 1e-6)
            self.stream.write(
                f"\r[{bar:<30}] {frac:4.0%} {_size(sent)}/{_size(self.total_bytes)} "
                f"{_size(rate)}/s {self.done}/{self.total_files} files"
            )
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _print_error(error: Any, out: TextIO) -> None:
    out.write(f"  error: {error.message}\n")
    server = getattr(error, "server_message", None)
    if server and server not in error.message:
        out.write(f"  registry said: {server}\n")
    if error.hint:
        out.write(f"  hint: {error.hint}\n")


def _print_json(data: dict[str, Any]) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _cmd_upload(args: argparse.Namespace) -> int:
    from .errors import RegistryUploadError, UploadInterrupted
    from .retry import RetryPolicy
    from .transport import TransportOptions
    from .uploader import DEFAULT_JOBS, Uploader

    if wants_publish(args):  # several destinations, a static index, or --verify
        return run_publish(args)
    use_single_destination(args)
    # Checked here for the progress line's total; the uploader collects the same
    # paths again, so its report carries the notes (also in --json).
    files = _collect_files(args.files, show_notes=False)
    if files is None:
        return EXIT_USAGE
    interactive = not args.non_interactive and sys.stdin is not None and sys.stdin.isatty()
    options = TransportOptions(ca_cert=args.cert, client_cert=args.client_cert)
    retry = RetryPolicy(attempts=args.attempts) if args.attempts else RetryPolicy()
    sizes = sum(os.path.getsize(f) for f in files if os.path.isfile(f))
    progress = _Progress(sys.stderr, len(files), sizes)
    out = sys.stderr if args.json else sys.stdout
    try:
        with Uploader(
            args.repository_url,
            repository=args.repository,
            username=args.username,
            password=args.password,
            interactive=interactive,
            pypirc=args.config_file,
            index_url=args.index_url,
            skip_existing=args.skip_existing,
            jobs=args.jobs or DEFAULT_JOBS,
            retry=retry,
            transport=options,
            timeout=args.timeout,
            allow_insecure=args.allow_insecure,
            blake2=args.blake2,
            comment=args.comment,
            dry_run=args.dry_run,
            attestations=not args.no_attestations,
            on_event=progress if progress.enabled else None,
        ) as uploader:
            try:
                report = uploader.upload(_globbed(args.files))
            except UploadInterrupted as stopped:
                _exit_on_second_interrupt()
                progress.close()
                _print_report(stopped.report, uploader.resolution, args, out)
                out.write("interrupted: nothing more was started (Ctrl-C)\n")
                return EXIT_INTERRUPTED
            resolution = uploader.resolution
    except RegistryUploadError as exc:
        _print_usage_error(exc)
        return EXIT_USAGE
    finally:
        progress.close()
    _print_report(report, resolution, args, out)
    return EXIT_OK if report.ok else EXIT_FAILED


def _exit_on_second_interrupt() -> None:
    """After the first Ctrl-C, a second one ends the program at once."""
    import signal

    def now(signum: int, frame: object) -> None:
        sys.stderr.write("\ninterrupted twice: exiting now\n")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, now)


def _print_report(report: Any, resolution: Any, args: argparse.Namespace, out: TextIO) -> None:
    _print_notes(report.notes)
    out.write(f"Repository: {report.repository_url} ({report.registry})\n")
    if args.verbose:
        out.write(f"Credentials: {report.credential_source or 'none'}\n")
        if resolution is not None:
            for outcome in resolution.trail:
                out.write(f"  {outcome}\n")
    for result in report:
        _print_result(result, args.verbose, out)
    counts = report.counts()
    extra = "".join(
        f", {counts[status]} {status}"
        for status in ("not-started", "interrupted", "dry-run")
        if counts[status]
    )
    out.write(
        f"{report.uploaded} uploaded, {report.skipped} skipped, {report.failed} failed{extra} "
        f"in {report.elapsed:.2f} s\n"
    )
    out.flush()
    if args.json:
        _print_json(report.to_dict())


def _print_result(result: Any, verbose: bool, out: TextIO) -> None:
    detail = f"{_size(result.bytes_sent)}, {result.elapsed:.2f} s"
    if verbose:
        detail += f", {result.attempts} attempt(s)"
        if result.verified:
            detail += ", verified on the index"
    out.write(f"{result.status.value.upper():11} {result.filename} ({detail})\n")
    shown = verbose or result.status.value in ("skipped", "not-started", "interrupted")
    if result.reason and shown:
        out.write(f"  {result.reason}\n")
    if result.error is not None:
        _print_error(result.error, out)


def _cmd_check(args: argparse.Namespace) -> int:
    from .checks import check
    from .errors import RegistryUploadError

    try:
        report = check(
            _globbed(args.files), strict=args.strict, attestations=not args.no_attestations
        )
    except RegistryUploadError as exc:
        _print_usage_error(exc)
        return EXIT_USAGE
    if not report.paths:
        sys.stderr.write("error: no distribution files matched\n")
        return EXIT_USAGE
    out = sys.stderr if args.json else sys.stdout
    for path in report.paths:
        found = report.for_path(path)
        errors = [f for f in found if f.severity.value == "error"]
        out.write(f"{'FAILED' if errors else 'PASSED':7} {path}\n")
        for finding in found:
            where = f" [{finding.field}]" if finding.field else ""
            out.write(f"  {finding.severity.value}: {finding.code}{where}: {finding.message}\n")
            if finding.hint:
                out.write(f"    hint: {finding.hint}\n")
    if args.json:
        _print_json(report.to_dict())
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_auth(args: argparse.Namespace) -> int:
    """Resolve credentials as an upload would, non-interactively, and say who answered."""
    from datetime import datetime, timezone

    from .credentials import CredentialChain, FixedProvider, Target
    from .errors import RegistryUploadError
    from .uploader import resolve_repository

    try:
        repo, _tls = resolve_repository(
            args.url, repository=args.repository, pypirc=args.config_file
        )
        chain = CredentialChain.default(pypirc=args.config_file, interactive=False)
        if repo.url_credentials is not None and repo.url_credentials.password:
            chain = chain.headed_by(FixedProvider(repo.url_credentials))
        resolution = chain.resolve(Target(url=repo.url, name=repo.name), record_errors=True)
    except RegistryUploadError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {exc.hint}\n")
        return EXIT_USAGE
    data = resolution.to_dict()
    out = sys.stderr if args.json else sys.stdout
    out.write(f"Repository: {repo.url} ({repo.registry})\n")
    creds = resolution.credentials
    if creds is not None:
        out.write(f"Answered by: {resolution.provider} (source {creds.source})\n")
        out.write(f"Username: {creds.username}\nKind: {creds.kind.value}\n")
        if creds.details:
            out.write("Details: " + ", ".join(f"{k}={v}" for k, v in creds.details) + "\n")
        if creds.expires_at is None:
            out.write("Expires: not known (a long-lived secret, or the issuer did not say)\n")
        else:
            when = datetime.fromtimestamp(creds.expires_at, tz=timezone.utc)
            minutes = int(max(creds.expires_at - time.time(), 0) // 60)
            out.write(
                f"Expires: {when:%Y-%m-%d %H:%M:%S} UTC (in {minutes // 60} h {minutes % 60} min;"
                " asked again before then)\n"
            )
    elif resolution.error is not None:
        out.write(f"Failed: {resolution.trail[-1].provider}\n")
        _print_error(resolution.error, out)
    else:
        out.write("No provider answered.\n")
    out.write("Providers asked, in order:\n")
    for outcome in resolution.trail:
        out.write(f"  {outcome}\n")
    if creds is None and resolution.error is None:
        out.write(
            "  hint: set REGISTRY_UPLOAD_PASSWORD to an API token, add the repository to "
            "~/.pypirc, or configure a credential helper.\n"
        )
    if args.json:
        _print_json(data)
    return EXIT_OK if creds is not None else EXIT_FAILED


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    return EXIT_OK if run_demo(say) else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI in the caller's process (a test, a nox session); returns the exit code."""
    return _dispatch(_parser().parse_args(argv), own_process=False)


def run() -> NoReturn:
    """The program itself: the ``registry-upload`` script and ``python -m registry_upload``."""
    sys.exit(_dispatch(_parser().parse_args(), own_process=True))


def _dispatch(args: argparse.Namespace, *, own_process: bool) -> int:
    if getattr(args, "verbose", False):
        logging.basicConfig(
            level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )
        logging.getLogger("registry_upload").setLevel(logging.DEBUG)  # per-file detail too
    commands = {"upload": _cmd_upload, "check": _cmd_check, "demo": _cmd_demo, "auth": _cmd_auth}
    try:
        if own_process:
            _freeze_imports()
        return commands[args.command](args)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED


def _freeze_imports() -> None:
    """Import what every command runs on, then tell the garbage collector that
    it is never garbage.

    Imports allocate much and free almost nothing, so the collector is off
    while they run.  The process ends with the command, and modules live
    until then: the collector's passes, the last one at exit included, need
    not walk them.  Together about 12 ms of a small batch's run.  Not done in
    a caller's process (:func:`main`).
    """
    gc.disable()
    try:
        from . import uploader  # noqa: F401

        gc.freeze()
    finally:
        gc.enable()
