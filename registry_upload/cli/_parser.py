"""The command line's words: every command, flag and alias, in one place (private)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from .._version import __version__

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_TERMINATED", "EXIT_USAGE", "parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143

_EXITS = (
    "Exit codes: 0 ok; 1 some file failed or is unconfirmed (check: errors found); "
    "2 usage error or bad input, found before anything was sent; 130 interrupted (Ctrl-C); "
    "143 terminated (SIGTERM, as CI cancels a job)."
)
_UPLOAD_EPILOG = f"""\
Where the files go: -r/--repository-url when given (repeat them to publish to several
destinations, in order); else the environment, first set wins:
REGISTRY_UPLOAD_REPOSITORY_URL, REGISTRY_UPLOAD_REPOSITORY, TWINE_REPOSITORY_URL,
TWINE_REPOSITORY, UV_PUBLISH_URL (two that disagree are a usage error); else PyPI.
Credentials from the environment (a run with one registry only):
REGISTRY_UPLOAD_USERNAME/_PASSWORD, TWINE_USERNAME/_PASSWORD,
UV_PUBLISH_USERNAME/_PASSWORD/_TOKEN. Also read: REGISTRY_UPLOAD_CERT, TWINE_CERT,
REQUESTS_CA_BUNDLE (CA bundle), TWINE_CLIENT_CERT, TWINE_NON_INTERACTIVE,
UV_PUBLISH_CHECK_URL, UV_PUBLISH_NO_ATTESTATIONS, UV_TRUSTED_PUBLISHING.
{_EXITS}"""


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, pointing at the command's own --help."""

    commands: Mapping[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\nhint: see `{self.prog} --help`\n")

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """An unknown option is the command's error: its hint names ``<command> --help``."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            commands = getattr(self, "commands", {})
            owner = commands.get(getattr(parsed, "command", None) or "", self)
            owner.error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed


class _AppendDestination(argparse.Action):
    """Append to its own list and to ``destinations``, which keeps -r and
    --repository-url in the order they were given."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        own = list(getattr(namespace, self.dest, None) or [])
        setattr(namespace, self.dest, [*own, values])
        namespace.destinations = [*(getattr(namespace, "destinations", None) or []), values]


def _whole(text: str, most: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= most:
        raise argparse.ArgumentTypeError(f"must be from 1 to {most}, not {value}")
    return value


def _attempts(text: str) -> int:
    return _whole(text, 1000)


def _jobs(text: str) -> int:
    from ..options import MAX_JOBS

    return _whole(text, MAX_JOBS)


def seconds(text: str, *, zero: bool = False) -> float:
    """A number of seconds: more than 0 (or 0 too, with ``zero``), at most a week."""
    from ..transport import MAX_WAIT_SECONDS

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value >= 0 if zero else value > 0) or not value <= MAX_WAIT_SECONDS:
        least = "from 0 to" if zero else "more than 0 and at most"
        raise argparse.ArgumentTypeError(f"must be {least} {MAX_WAIT_SECONDS:g}, not {text}")
    return value


def _timeout(text: str) -> float:
    return seconds(text)


def _verify_timeout(text: str) -> float:
    return seconds(text, zero=True)


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="registry-upload",
        description="Upload wheels and sdists to Python package registries.",
        epilog=_EXITS,
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    top.commands = sub.choices
    _upload(sub)
    _check(sub)
    _auth(sub)
    _status(sub)
    from ._attest import add_attest_parser

    add_attest_parser(sub)
    demo = sub.add_parser("demo", help="build, upload to a local pypiserver, fetch back")
    demo.add_argument("-v", "--verbose", action="store_true", help="log every step")
    register = sub.add_parser(
        "register", help="twine's register: gone from PyPI (projects are created on upload)"
    )
    register.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    register.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return top


def _upload(sub: Any) -> None:
    up = sub.add_parser(
        "upload",
        help="upload distributions to one or several destinations",
        epilog=_UPLOAD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.set_defaults(destinations=None)
    up.add_argument(
        "files",
        nargs="*",
        help="files, directories (e.g. dist/) or globs; default: dist/* (as uv does)",
    )
    where = up.add_argument_group("where the files go")
    where.add_argument(
        "-r",
        "--repository",
        action=_AppendDestination,
        metavar="NAME",
        help="a repository name from .pypirc, or a static index directory; repeat to "
        "publish to several destinations, served in the order given",
    )
    where.add_argument(
        "--repository-url",
        "--publish-url",
        action=_AppendDestination,
        dest="repository_url",
        metavar="URL",
        help="an upload URL (default: the environment, else PyPI) or a file: URL of a "
        "static index; repeatable",
    )
    where.add_argument("--config-file", metavar="FILE", help="the .pypirc to read (~/.pypirc)")
    where.add_argument(
        "--index-url", metavar="URL", help="the simple index --skip-existing and --verify read"
    )
    where.add_argument(
        "--check-url",
        metavar="URL",
        help="uv's --check-url: read this index and skip the files it lists with the same "
        "sha256 (--index-url URL --skip-existing)",
    )
    creds = up.add_argument_group("credentials (a run with one registry)")
    creds.add_argument("-u", "--username", help="the username (default __token__ for a token)")
    creds.add_argument("-p", "--password", help="password or API token (prefer the environment)")
    creds.add_argument("-t", "--token", help="an API token (uv's -t): username __token__")
    creds.add_argument(
        "--trusted-publishing",
        choices=("automatic", "always", "never"),
        default=None,
        help="use trusted publishing (OIDC) when available (automatic, the default), "
        "only it (always), or never",
    )
    creds.add_argument("--non-interactive", action="store_true", help="never prompt")
    tls = up.add_argument_group("network")
    tls.add_argument(
        "--cert", metavar="CA.pem", help="CA bundle for the registry's TLS (default: the system's)"
    )
    tls.add_argument("--client-cert", metavar="CERT.pem", help="client certificate and key (PEM)")
    tls.add_argument(
        "--allow-insecure",
        action="store_true",
        help="allow credentials over plain http to a non-loopback host",
    )
    tls.add_argument(
        "--jobs", type=_jobs, default=None, help="at most N uploads in flight (default 8)"
    )
    tls.add_argument("--attempts", type=_attempts, default=None, help="tries per file (default 4)")
    tls.add_argument(
        "--confirm-timeout",
        type=_verify_timeout,
        default=None,
        metavar="SECONDS",
        help="after an attempt whose outcome is unknown, how long the index is read before "
        "the file is reported unconfirmed (default 30; it is never sent again)",
    )
    tls.add_argument(
        "--timeout",
        type=_timeout,
        default=None,
        metavar="SECONDS",
        help="the most one attempt (connect, send, answer) may take (default: grows with size)",
    )
    how = up.add_argument_group("how")
    how.add_argument("--skip-existing", action="store_true", help="skip files already there")
    how.add_argument("--dry-run", action="store_true", help="inspect and resolve; send nothing")
    how.add_argument(
        "--verify",
        action="store_true",
        help="after uploading, wait until each index lists the files",
    )
    how.add_argument(
        "--verify-timeout",
        type=_verify_timeout,
        default=60.0,
        metavar="SECONDS",
        help="the longest wait for an index to list the files (default 60)",
    )
    how.add_argument(
        "--keep-going",
        action="store_true",
        help="serve later destinations even when one failed (default: stop there)",
    )
    how.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="with several destinations, publish to registries no credentials are found for",
    )
    how.add_argument(
        "--attestations",
        dest="no_attestations",
        action="store_false",
        default=None,
        help="send PEP 740 attestation files found beside the files (the default)",
    )
    how.add_argument(
        "--no-attestations",
        dest="no_attestations",
        action="store_true",
        help="leave out the PEP 740 attestation files found beside the distributions",
    )
    how.add_argument("--blake2", action="store_true", help="also send the blake2b-256 digest")
    how.add_argument("-c", "--comment", help="an upload comment")
    out = up.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    out.add_argument(
        "-v", "--verbose", action="store_true", help="credential sources, attempts, log lines"
    )
    out.add_argument("-q", "--quiet", action="store_true", help="only failures and the summary")
    out.add_argument(
        "--no-progress",
        "--disable-progress-bar",
        dest="no_progress",
        action="store_true",
        help="no progress line (it is shown only on a terminal anyway)",
    )


def _check(sub: Any) -> None:
    chk = sub.add_parser(
        "check",
        help="check distributions before uploading",
        epilog="Exit codes: 0 passed, 1 errors found, 2 usage error.",
    )
    chk.add_argument("files", nargs="*", help="files, directories or globs; default: dist/*")
    chk.add_argument("--strict", action="store_true", help="warnings fail the check")
    target = chk.add_mutually_exclusive_group()
    target.add_argument(
        "-r",
        "--repository",
        metavar="NAME",
        help="judge by this registry's rules: a .pypirc name or a registry id "
        "(pypi, testpypi, gitlab, devpi, pypiserver...); default: PyPI's",
    )
    target.add_argument(
        "--repository-url", metavar="URL", help="judge by the rules of the registry at URL"
    )
    chk.add_argument("--config-file", metavar="FILE", help="the .pypirc to read (~/.pypirc)")
    chk.add_argument("--no-attestations", action="store_true", help="do not read attestation files")
    chk.add_argument("--json", action="store_true", help="print the findings as JSON on stdout")
    chk.add_argument("-v", "--verbose", action="store_true", help="log every step")


def _status(sub: Any) -> None:
    st = sub.add_parser(
        "status",
        help="what a release still needs: each file on the index or not, days left on PyPI",
        epilog="Exit codes: 0 every file is on the index with the same sha256, 1 some file "
        "is missing, differs or cannot be told, 2 usage error.",
    )
    st.add_argument("files", nargs="*", help="files, directories or globs; default: dist/*")
    st.add_argument("-r", "--repository", metavar="NAME", help="a repository name from .pypirc")
    st.add_argument("--repository-url", metavar="URL", help="the upload URL (default: PyPI)")
    st.add_argument("--index-url", metavar="URL", help="the simple index, when not the usual one")
    st.add_argument("--config-file", metavar="FILE", help="the .pypirc to read (~/.pypirc)")
    st.add_argument("--json", action="store_true", help="print the status as JSON on stdout")
    st.add_argument("-v", "--verbose", action="store_true", help="log every step")


def _auth(sub: Any) -> None:
    auth = sub.add_parser(
        "auth",
        help="say where a repository's target and credentials come from (never the secret)",
        epilog="Exit codes: 0 a provider answered, 1 none did (or one failed), 2 usage error.",
    )
    auth.add_argument("url", nargs="?", help="the upload URL (default: -r, the environment, PyPI)")
    auth.add_argument("-r", "--repository", help="a repository name from .pypirc")
    auth.add_argument("--config-file", help="the .pypirc to read (default ~/.pypirc)")
    auth.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    auth.add_argument(
        "--non-interactive", action="store_true", help="accepted for symmetry: auth never prompts"
    )
    auth.add_argument("-v", "--verbose", action="store_true", help="log every step")
