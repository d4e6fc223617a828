"""``registry-upload`` / ``python -m registry_upload``: a thin layer over the library.

The only package that writes to the terminal.  Read top-down:

- ``_parser``: every command, flag and alias (twine's and uv's included);
- ``_settings``: flags and environment variables → what the library takes,
  one precedence for all (flag, ``REGISTRY_UPLOAD_*``, ``TWINE_*``, ``UV_PUBLISH_*``);
- ``_commands``: upload, check, auth, demo, register;
- ``_printer``: one report printer for one destination or several.

Exit codes: 0 ok; 1 some file failed or is unconfirmed (check: errors found);
2 usage error or bad input found before anything was sent; 130 interrupted
(Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from ._commands import COMMANDS, TERMINATED, Terminated, expand, interrupted_exit
from ._parser import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    parser,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "expand",
    "main",
    "run",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI in the caller's process (a test, a nox session); returns the exit code."""
    return _dispatch(argv, own_process=False)


def run() -> NoReturn:
    """The program itself: the ``registry-upload`` script and ``python -m registry_upload``.

    SIGTERM (a CI cancelling the job) stops the run as Ctrl-C does: the files
    in flight get their grace period, the partial report is printed, exit 143.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        code = _dispatch(None, own_process=True)
    except KeyboardInterrupt:  # during start-up, before a command took over
        sys.stderr.write("interrupted\n")
        code = interrupted_exit()
    sys.exit(code)


def _terminate(signum: int, frame: object) -> None:
    TERMINATED.set()
    raise Terminated


def _dispatch(argv: Sequence[str] | None, *, own_process: bool) -> int:
    try:
        args = parser().parse_args(argv)
        if getattr(args, "verbose", False):
            logging.basicConfig(
                level=logging.INFO,
                format="%(levelname)s %(name)s: %(message)s",
                stream=sys.stderr,
            )
            logging.getLogger("registry_upload").setLevel(logging.DEBUG)  # per-file detail too
        if own_process:
            _freeze_imports()
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return interrupted_exit()


def _freeze_imports() -> None:
    """Import what every command runs on, then tell the garbage collector that
    it is never garbage.

    Imports allocate much and free almost nothing, so the collector is off
    while they run.  The process ends with the command, and modules live
    until then: the collector's passes, the last one at exit included, need
    not walk them.  Not done in a caller's process (:func:`main`).
    """
    gc.disable()
    try:
        from .. import publish  # noqa: F401

        gc.freeze()
    finally:
        gc.enable()
