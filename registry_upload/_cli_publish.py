"""The terminal side of publishing to several destinations (private to the CLI).

``registry-upload upload`` takes ``-r NAME`` and ``--repository-url URL`` any
number of times, in any mix; a destination may also be a static index (a
``file:`` URL or a directory path).  With more than one destination, a static
index, or ``--verify``, the upload runs through :class:`~registry_upload.publish.Publisher`
(:func:`run_publish`); otherwise the single destination goes the usual way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .publish import DestinationReport, Publisher, PublishReport

__all__ = ["add_publish_arguments", "run_publish", "use_single_destination", "wants_publish"]

EXIT_INTERRUPTED = 130


class _AppendDestination(argparse.Action):
    """Append to its own list and to ``destinations``, which keeps -r and --repository-url
    in the order they were given."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        own = list(getattr(namespace, self.dest, None) or [])
        setattr(namespace, self.dest, [*own, values])
        ordered = list(getattr(namespace, "destinations", None) or [])
        namespace.destinations = [*ordered, values]


def add_publish_arguments(parser: argparse.ArgumentParser) -> None:
    """The destination options of ``upload``: repeatable, and what publishing adds."""
    parser.set_defaults(destinations=None)
    parser.add_argument(
        "-r",
        "--repository",
        action=_AppendDestination,
        metavar="NAME",
        help="a repository name from .pypirc, or a static index directory; repeat to "
        "publish to several destinations, served in the order given",
    )
    parser.add_argument(
        "--repository-url",
        action=_AppendDestination,
        metavar="URL",
        help="an upload URL (default: PyPI) or a file: URL of a static index; repeatable",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="serve the later destinations even when one failed (default: stop there)",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="after uploading, wait until each registry's index lists every file with its sha256",
    )
    parser.add_argument(
        "--verify-timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="the longest wait for an index to list the files (default 60)",
    )
    parser.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="publish to registries for which no credentials are found (default: "
        "refuse before anything is sent)",
    )


def _destinations(args: argparse.Namespace) -> list[str]:
    return list(getattr(args, "destinations", None) or [])


def wants_publish(args: argparse.Namespace) -> bool:
    """More than one destination, a static index, or --verify."""
    from ._destination import is_static_destination
    from .errors import ConfigurationError

    destinations = _destinations(args)
    if len(destinations) > 1 or getattr(args, "verify", False):
        return True
    try:
        return any(is_static_destination(d) for d in destinations)
    except ConfigurationError:  # a file: URL naming another host: run_publish says so
        return True


def use_single_destination(args: argparse.Namespace) -> None:
    """Turn the (at most one) destination back into plain ``repository``/``repository_url``."""
    for name in ("repository", "repository_url"):
        value = getattr(args, name, None)
        if isinstance(value, list):
            setattr(args, name, value[-1] if value else None)


def _seconds(text: str) -> float:
    """0 to a week (``--verify-timeout 0`` checks once)."""
    from .cli import seconds

    return seconds(text, zero=True)


def run_publish(args: argparse.Namespace) -> int:
    """``upload`` to several destinations; exit 0 ok, 1 a file failed, 2 usage or
    preflight, 130 interrupted."""
    from .cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, _collect_files
    from .errors import RegistryUploadError
    from .publish import PublishInterrupted

    files = _collect_files(args.files)
    if files is None:
        return EXIT_USAGE
    out = sys.stderr if args.json else sys.stdout
    bars = _Bars(files)
    try:
        with _publisher(args, out, bars) as publisher:
            dists = _open(files, attestations=not args.no_attestations)
            publisher.preflight()
            _print_plan(publisher, args, out)
            report = publisher.publish(dists)
    except PublishInterrupted as exc:
        _print_summary(exc.publish_report, out)
        out.write("interrupted: later destinations were not started\n")
        if args.json:
            _json(exc.publish_report)
        return EXIT_INTERRUPTED
    except RegistryUploadError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {exc.hint}\n")
        return EXIT_USAGE
    finally:
        bars.close()
    _print_summary(report, out)
    if args.json:
        _json(report)
    return EXIT_OK if report.ok else EXIT_FAILED


def _open(files: list[str], *, attestations: bool) -> list[Any]:
    from .uploader import _open_all

    return _open_all(files, attestations=attestations)


class _Bars:
    """The CLI's progress line (on a terminal only), started afresh for each destination."""

    def __init__(self, files: list[str]) -> None:
        import os

        self.files = len(files)
        self.size = sum(os.path.getsize(f) for f in files if os.path.isfile(f))
        self.current = self._new()
        self.enabled = bool(self.current.enabled)

    def _new(self) -> Any:
        from .cli import _Progress

        return _Progress(sys.stderr, self.files, self.size)

    def __call__(self, event: Any) -> None:
        self.current(event)

    def next(self) -> None:
        self.current.close()
        self.current = self._new()

    def close(self) -> None:
        self.current.close()


def _publisher(args: argparse.Namespace, out: TextIO, bars: _Bars) -> Publisher:
    from ._destination import is_static_destination
    from .credentials import CredentialChain
    from .errors import ConfigurationError
    from .publish import Publisher
    from .retry import RetryPolicy
    from .transport import TransportOptions
    from .uploader import DEFAULT_JOBS, resolve_repository

    destinations = _destinations(args)
    if not destinations:  # --verify alone: the usual default destination
        destinations = [resolve_repository(None)[0].url]
    index_urls: dict[str, str] = {}
    if args.index_url:
        registries = [d for d in destinations if not is_static_destination(d)]
        if len(registries) != 1:
            raise ConfigurationError(
                f"--index-url is ambiguous with {len(registries)} registry destinations",
                hint="Give --index-url only with one registry destination; each registry's "
                "own index is used otherwise.",
            )
        index_urls[registries[0]] = args.index_url
    interactive = not args.non_interactive and sys.stdin is not None and sys.stdin.isatty()
    chain = CredentialChain.default(
        username=args.username,
        password=args.password,
        pypirc=args.config_file,
        interactive=interactive,
    )

    def done(dest: DestinationReport) -> None:
        bars.next()
        _print_destination(dest, args, out)

    return Publisher(
        destinations,
        credentials=chain,
        pypirc=args.config_file,
        index_urls=index_urls,
        keep_going=args.keep_going,
        verify=args.verify,
        verify_timeout=args.verify_timeout,
        skip_existing=args.skip_existing,
        jobs=args.jobs or DEFAULT_JOBS,
        retry=RetryPolicy(attempts=args.attempts) if args.attempts else RetryPolicy(),
        transport=TransportOptions(
            ca_cert=args.cert, client_cert=args.client_cert, timeout=args.timeout
        ),
        allow_insecure=args.allow_insecure,
        allow_anonymous=args.allow_anonymous,
        blake2=args.blake2,
        comment=args.comment,
        dry_run=args.dry_run,
        on_event=bars if bars.enabled else None,
        on_destination=done,
    )


# -- output ------------------------------------------------------------------------


def _print_plan(publisher: Publisher, args: argparse.Namespace, out: TextIO) -> None:
    if args.dry_run:
        out.write("Dry run: files are inspected and credentials resolved; nothing is sent.\n")
    out.write("Destinations, in order:\n")
    for i, dest in enumerate(publisher.destinations, 1):
        where = "" if dest.url.rstrip("/") == dest.name.rstrip("/") else f" {dest.url}"
        line = f"  {i}. {dest.name}{where} ({dest.registry})"
        if dest.uploader is not None and args.verbose:
            creds = dest.uploader.credentials()
            line += f", credentials: {creds.source if creds else 'none'}"
        out.write(line + "\n")
    out.flush()


def _print_destination(dest: DestinationReport, args: argparse.Namespace, out: TextIO) -> None:
    from .cli import _print_error

    if dest.reason:
        out.write(f"{dest.name}: {dest.reason}\n")
    for result in dest.results:
        detail = ""
        if result.status.value in ("uploaded", "skipped"):
            detail = " (verified)" if result.verified else ""
        out.write(f"{result.status.value.upper():9} {result.filename} → {dest.name}{detail}\n")
        if dest.reason:
            continue
        shown = args.verbose or result.status.value in ("skipped", "failed")
        repeated = result.error is not None and result.error.message == result.reason
        if result.reason and shown and not repeated:
            out.write(f"  {result.reason}\n")
        if result.error is not None:
            _print_error(result.error, out)
    out.flush()


def _print_summary(report: PublishReport, out: TextIO) -> None:
    for dest in report:
        counts = dest.report.counts()
        shown = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        out.write(f"{dest.name}: {dest.status} ({shown or 'no files'})\n")
    good = sum(1 for d in report if d.ok)
    out.write(
        f"{good} of {len(report)} destination(s) ok, {len(report.files)} file(s), "
        f"in {report.elapsed:.2f} s\n"
    )


def _json(report: PublishReport) -> None:
    from .cli import _print_json

    _print_json(report.to_dict())
