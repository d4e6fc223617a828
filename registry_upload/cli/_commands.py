"""The commands: upload, check, auth, demo, register (private).

Each takes the parsed arguments and returns the exit code; every error the
library raises before anything is sent is a usage error (exit 2), printed in
one line plus a hint, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ._parser import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE
from ._printer import Printer, Progress, print_error, print_usage_error

__all__ = ["COMMANDS", "TERMINATED", "Terminated", "expand", "interrupted_exit"]


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI cancelling the job), handled as Ctrl-C is: exit 143."""


#: Set once SIGTERM arrived: an interrupted run then exits 143, not 130.
TERMINATED = threading.Event()


def interrupted_exit() -> int:
    return EXIT_TERMINATED if TERMINATED.is_set() else EXIT_INTERRUPTED


# -- files -----------------------------------------------------------------------


def _globbed(patterns: Sequence[str]) -> list[str]:
    """Globs expand (sorted); everything else is passed on as given."""
    import glob

    out: list[str] = []
    for pattern in patterns:
        out.extend(sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern])
    return out


def expand(patterns: Sequence[str]) -> list[str]:
    """Globs expand, directories become their distributions; order kept, no repeats."""
    from .._paths import collect

    return list(collect(_globbed(patterns)).paths)


def _patterns(files: Sequence[str]) -> list[str]:
    """The files given, or ``dist/*`` as uv does when none are."""
    return list(files) if files else [os.path.join("dist", "*")]


# -- upload ----------------------------------------------------------------------


def upload(args: argparse.Namespace) -> int:
    """Publish to one destination or several: the same path, the same printer."""
    from .._plan import open_distributions
    from ..errors import RegistryUploadError
    from ..publish import PublishInterrupted
    from ._settings import settings_from

    try:
        settings = settings_from(args)
        dists, notes = open_distributions(
            _globbed(_patterns(args.files)), attestations=settings.options.attestations
        )
    except RegistryUploadError as exc:
        print_usage_error(exc)
        return EXIT_USAGE
    out = sys.stderr if args.json else sys.stdout
    printer = Printer(
        out, verbose=args.verbose, quiet=args.quiet, several=len(settings.destinations) > 1
    )
    progress = Progress(
        sys.stderr, len(dists), sum(d.size for d in dists), enabled=not args.no_progress
    )
    printer.notes(notes)
    try:
        with _publisher(settings, printer, progress) as publisher:
            publisher.preflight(dists)
            printer.plan(publisher.destinations, dict(settings.sources), args.dry_run)
            report = publisher.publish(dists)
    except PublishInterrupted as stopped:
        _exit_on_second_interrupt()
        progress.close()
        printer.summary(stopped.publish_report)
        out.write("interrupted: nothing more was started\n")
        if args.json:
            printer.json(_json(stopped.publish_report, notes))
        return interrupted_exit()
    except RegistryUploadError as exc:
        progress.close()
        print_usage_error(exc)
        return EXIT_USAGE
    finally:
        progress.close()
    printer.summary(report)
    if args.json:
        printer.json(_json(report, notes))
    return EXIT_OK if report.ok else EXIT_FAILED


def _publisher(settings: Any, printer: Printer, progress: Progress) -> Any:
    from ..publish import Publisher

    def done(entry: Any) -> None:
        progress.next()
        dest = next((d for d in publisher.destinations if d.name == entry.name), None)
        session = getattr(dest, "session", None)
        printer.destination(entry, session.resolution if session is not None else None)

    chained = settings.credentials is not None
    publisher = Publisher(
        list(settings.destinations),
        credentials=settings.credentials,
        username=None if chained else settings.username,
        password=None if chained else settings.password,
        pypirc=settings.pypirc,
        index_urls=settings.index_urls,
        options=replace(
            settings.options,
            # One destination: without credentials the registry answers (twine's way);
            # several: every registry must have its own before anything is sent.
            allow_anonymous=settings.options.allow_anonymous or len(settings.destinations) == 1,
            on_event=progress if progress.enabled else None,
            on_destination=done,
        ),
    )
    return publisher


def _json(report: Any, notes: Sequence[tuple[str, str]]) -> dict[str, Any]:
    data: dict[str, Any] = report.to_dict()
    data["notes"] = [{"path": path, "reason": reason} for path, reason in notes]
    return data


def _exit_on_second_interrupt() -> None:
    """After the first Ctrl-C, a second one ends the program at once."""

    def now(signum: int, frame: object) -> None:
        sys.stderr.write("\ninterrupted twice: exiting now\n")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, now)


# -- check -----------------------------------------------------------------------


def check(args: argparse.Namespace) -> int:
    from ..checks import check as run_check
    from ..errors import RegistryUploadError

    try:
        registry, url = _check_target(args)
        report = run_check(
            _globbed(_patterns(args.files)),
            strict=args.strict,
            attestations=not args.no_attestations,
            registry=registry,
            repository_url=url,
        )
    except RegistryUploadError as exc:
        print_usage_error(exc)
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
        Printer.json(report.to_dict())
    return EXIT_OK if report.ok else EXIT_FAILED


def _check_target(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """``check -r NAME``: a registry id as it is, a .pypirc name by its URL."""
    from .._target import resolve_target
    from ..registries import PROFILES

    name = args.repository
    if name is not None and name in {p.id for p in PROFILES} and name not in ("pypi", "testpypi"):
        return name, None
    if name is None and args.repository_url is None:
        return None, None  # PyPI's rules
    target = resolve_target(args.repository_url, repository=name, pypirc=args.config_file)
    return None, target.repository.url


# -- status ------------------------------------------------------------------------


def status(args: argparse.Namespace) -> int:
    """Each local file on the index (same bytes, other bytes, missing) and, for PyPI,
    the days before the release closes."""
    from .._target import resolve_target
    from ..destinations import RegistryDestination
    from ..errors import RegistryUploadError
    from ..options import PublishOptions
    from ..status import status as run_status

    try:
        target = resolve_target(
            args.repository_url,
            repository=args.repository,
            pypirc=args.config_file,
            index_url=args.index_url,
        )
        dest = RegistryDestination(
            target.repository, PublishOptions(), pypirc=args.config_file, name=None
        )
        with dest.transport:
            index = dest.session.index_url()
            report = run_status(
                _globbed(_patterns(args.files)),
                index,
                transport=dest.transport,
                authorization=dest.session.index_authorization(index),
            )
    except RegistryUploadError as exc:
        print_usage_error(exc)
        return EXIT_USAGE
    out = sys.stderr if args.json else sys.stdout
    out.write(f"Index: {report.index_url}\n")
    for item in report.files:
        out.write(f"{item.state.value.upper():9} {item.filename}\n")
    for release in report.releases:
        out.write(f"{_window(release)}\n")
    for problem in report.problems:
        out.write(f"  note: {problem}\n")
    if args.json:
        Printer.json(report.to_dict())
    return EXIT_OK if report.complete else EXIT_FAILED


def _window(release: Any) -> str:
    name = f"{release.project} {release.version}"
    if release.problem:
        return f"{name}: {release.problem}"
    if release.closed:
        return f"{name}: closed to new files since {release.closes:%Y-%m-%d}"
    if release.days_left is None:
        return f"{name}: no upload window known"
    return f"{name}: {release.days_left} day(s) left to add files (until {release.closes:%Y-%m-%d})"


# -- auth --------------------------------------------------------------------------


def auth(args: argparse.Namespace) -> int:
    """Resolve credentials as an upload would, non-interactively, and say who answered."""
    from .._target import resolve_target
    from ..credentials import CredentialChain, FixedProvider, Target
    from ..errors import RegistryUploadError

    try:
        target = resolve_target(args.url, repository=args.repository, pypirc=args.config_file)
        repo = target.repository
        chain = CredentialChain.default(pypirc=args.config_file, interactive=False)
        if repo.url_credentials is not None and repo.url_credentials.password:
            chain = chain.headed_by(FixedProvider(repo.url_credentials))
        resolution = chain.resolve(Target(url=repo.url, name=repo.name), record_errors=True)
    except RegistryUploadError as exc:
        print_usage_error(exc)
        return EXIT_USAGE
    data = resolution.to_dict()
    data["target_source"] = target.source
    out = sys.stderr if args.json else sys.stdout
    out.write(f"Repository: {repo.url} ({repo.registry})\n")
    out.write(f"Target from: {target.source}\n")
    _print_resolution(resolution, out)
    if args.json:
        Printer.json(data)
    return EXIT_OK if resolution.credentials is not None else EXIT_FAILED


def _print_resolution(resolution: Any, out: Any) -> None:
    from datetime import datetime, timezone

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
        print_error(resolution.error, out)
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


# -- demo, register ------------------------------------------------------------------


def demo(args: argparse.Namespace) -> int:
    from .._demo import run_demo

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    return EXIT_OK if run_demo(say) else EXIT_FAILED


def register(args: argparse.Namespace) -> int:
    sys.stderr.write(
        "error: register is gone: PyPI creates a project on its first upload, and "
        "twine register no longer works there\n"
        "hint: run `registry-upload upload dist/` instead.\n"
    )
    return EXIT_USAGE


def attest(args: argparse.Namespace) -> int:
    from ._attest import run_attest

    return run_attest(args, _globbed(args.files))


COMMANDS = {
    "upload": upload,
    "check": check,
    "auth": auth,
    "attest": attest,
    "status": status,
    "demo": demo,
    "register": register,
}
