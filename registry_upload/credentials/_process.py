"""Run a credential-producing command safely (private).

Every cloud CLI and credential helper goes through :func:`run_tool`:

- the executable is looked up on ``PATH`` (missing -> :class:`Skip`);
- no shell, an absolute timeout, and at most ``max_output`` bytes kept from
  stdout and from stderr (a command printing more is stopped);
- a non-zero exit is a :class:`CredentialError` whose message quotes the
  command's stderr with anything it printed on stdout masked first, so a
  token never reaches a log or a terminal through an error.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from ..errors import CredentialError
from ._types import Skip

__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "DEFAULT_TIMEOUT",
    "ToolOutput",
    "parse_expiry",
    "redact",
    "run_tool",
    "which",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_OUTPUT = 64 * 1024
_MASK = "********"
_STDERR_SHOWN = 600


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """What a command printed; ``stdout`` holds a secret, never log it."""

    stdout: str
    stderr: str


def which(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """``name`` on ``PATH`` (``env``'s when given), else ``None``."""
    path = (os.environ if env is None else env).get("PATH")
    return shutil.which(name, path=path)


def redact(text: str, secret_text: str) -> str:
    """``text`` with every line, ``key=value`` value and token-like run of ``secret_text``
    masked (whatever quoting or punctuation surrounds a secret there)."""
    pieces: set[str] = set()
    for raw in secret_text.splitlines():
        line = raw.strip()
        if not line:
            continue
        pieces.add(line)
        if "=" in line:
            pieces.add(line.split("=", 1)[1].strip())
        pieces.update(_TOKENISH.findall(line))
    for piece in sorted((p for p in pieces if len(p) >= 4), key=len, reverse=True):
        text = text.replace(piece, _MASK)
    return text


# Runs of the characters tokens are made of (base64, URL-safe, JWT, hex).
_TOKENISH = re.compile(r"[A-Za-z0-9+/=._~:-]{4,}")


def _drain(
    stream: IO[bytes],
    limit: int,
    sink: list[bytes],
    over: threading.Event,
    proc: subprocess.Popen[bytes],
) -> None:
    total = 0
    while True:
        chunk = stream.read(65536)
        if not chunk:
            return
        total += len(chunk)
        if total > limit:
            over.set()
            _kill_group(proc)
            return
        sink.append(chunk)


def run_tool(
    name: str,
    args: Sequence[str],
    *,
    what: str,
    hint: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_output: int = DEFAULT_MAX_OUTPUT,
    url: str | None = None,
    quote_stderr: bool = True,
) -> ToolOutput:
    """Run ``name args...`` and return what it printed.

    ``what`` names the command in messages ("aws CLI"); ``hint`` is the fix
    shown when it fails ("Run `aws sso login` ...").  ``quote_stderr=False``
    never shows what the command printed (a credential helper's output is
    its own and may hold the secret in any form).  The command runs in a
    process group of its own, killed whole when it overruns.
    """
    executable = which(name, env)
    if executable is None:
        raise Skip(f"{what} not found")
    logger.debug("running %s %s", name, " ".join(args))
    try:
        proc = subprocess.Popen(
            [executable, *args],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            start_new_session=True,  # its children die with it (a shell's `sleep` too)
        )
    except OSError as exc:
        raise CredentialError(
            f"{what} could not be started: {exc.strerror or exc}", hint=hint, url=url
        ) from None
    out: list[bytes] = []
    err: list[bytes] = []
    over = threading.Event()
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        threading.Thread(
            target=_drain, args=(proc.stdout, max_output, out, over, proc), daemon=True
        ),
        threading.Thread(
            target=_drain, args=(proc.stderr, max_output, err, over, proc), daemon=True
        ),
    ]
    for reader in readers:
        reader.start()
    _feed(proc, stdin)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.wait()
        raise CredentialError(
            f"{what} did not answer within {timeout:g} s and was stopped", hint=hint, url=url
        ) from None
    finally:
        _kill_group(proc)  # what the command left running would keep its pipes open
        for reader in readers:
            reader.join(timeout=5)
        if not any(reader.is_alive() for reader in readers):
            proc.stdout.close()
            proc.stderr.close()
    if over.is_set():
        raise CredentialError(
            f"{what} printed more than {max_output} bytes and was stopped", hint=hint, url=url
        )
    result = ToolOutput(
        b"".join(out).decode("utf-8", "replace"), b"".join(err).decode("utf-8", "replace")
    )
    if code != 0:
        said = _quote(result) if quote_stderr else ""
        raise CredentialError(f"{what} failed (exit status {code}){said}", hint=hint, url=url)
    return result


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    import contextlib
    import signal

    with contextlib.suppress(OSError):  # already gone (ProcessLookupError) or not ours
        os.killpg(proc.pid, signal.SIGKILL)


def _feed(proc: subprocess.Popen[bytes], stdin: str | None) -> None:
    if stdin is None or proc.stdin is None:
        return
    try:
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the command did not read its input; its exit status tells


def _quote(result: ToolOutput) -> str:
    said = redact(result.stderr, result.stdout).strip()
    if not said:
        return ""
    if len(said) > _STDERR_SHOWN:
        said = said[:_STDERR_SHOWN] + " ..."
    return f": {said}"


def json_answer(output: ToolOutput) -> object:
    """What a command printed on stdout, read as JSON (``None`` if it is not)."""
    import json

    try:
        return json.loads(output.stdout)
    except ValueError:
        return None


def parse_expiry(value: object) -> float | None:
    """A Unix time from a number or an ISO 8601 string (naive means UTC), else ``None``."""
    import datetime as dt

    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()
