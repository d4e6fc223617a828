"""netrc and keyring skip reasons quote nothing of the file or backend; the prompt ends cleanly."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest

from registry_upload.credentials import NetrcProvider, PromptProvider, Skip, Target

PASSWORD = "horse-battery-staple-42"
TARGET = Target(url="https://registry.example.org/legacy/")


def skip_reason(provider: NetrcProvider | PromptProvider) -> str:
    with pytest.raises(Skip) as info:
        provider.provide(TARGET)
    return info.value.reason


@pytest.mark.parametrize(
    "text",
    [
        f"machine registry.example.org login bot\n{PASSWORD} password x\n",  # a stray token
        f"machine registry.example.org login bot password\nbogus {PASSWORD}\n",
        f"machine\n\nmacdef {PASSWORD}\nline\n",  # macro without its empty line
        f"{PASSWORD} machine registry.example.org\n",
    ],
)
def test_malformed_netrc_names_the_line_never_a_token(tmp_path: Path, text: str) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(text)
    netrc.chmod(0o600)
    reason = skip_reason(NetrcProvider(netrc))
    assert PASSWORD not in reason and "bogus" not in reason
    assert str(netrc) in reason and "cannot parse" in reason
    if "macdef" not in text:
        assert "line " in reason


def test_unreadable_netrc_says_why(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine registry.example.org password {PASSWORD}\n")
    netrc.chmod(0)
    reason = skip_reason(NetrcProvider(netrc))
    assert "Permission denied" in reason and PASSWORD not in reason


def test_non_interactive_prompt_declines() -> None:
    reason = skip_reason(PromptProvider(allowed=True, non_interactive=True))
    assert "non-interactive" in reason


PROMPT_PROGRAM = """
from registry_upload.credentials import PromptProvider, Skip, Target
try:
    PromptProvider(allowed=True).provide(Target(url="https://registry.example.org/"))
except Skip as skip:
    print("SKIPPED:", skip.reason, flush=True)
except KeyboardInterrupt:
    print("INTERRUPTED", flush=True)
"""


def _in_a_terminal(*steps: tuple[bytes, bytes]) -> str:
    """Run PROMPT_PROGRAM on a real pseudo-terminal; for each ``(after, keys)`` step,
    type ``keys`` once ``after`` has shown."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of its own
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background job may inherit SIG_IGN
        os.execve(sys.executable, [sys.executable, "-c", PROMPT_PROGRAM], os.environ)
    output, todo = b"", list(steps)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if todo and todo[0][0] in output:
                time.sleep(0.2)  # let the prompt reach its read
                os.write(fd, todo.pop(0)[1])
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output
    return output.decode(errors="replace")


@pytest.mark.parametrize(
    "steps",
    [[(b"Username for", b"\x04")], [(b"Username for", b"bot\r"), (b"Password or token", b"\x04")]],
    ids=["ctrl-d at username", "ctrl-d at password"],
)
def test_ctrl_d_at_the_prompt_declines_without_a_traceback(
    steps: list[tuple[bytes, bytes]],
) -> None:
    output = _in_a_terminal(*steps)
    assert "SKIPPED: end of input at the prompt" in output
    assert "Traceback" not in output and "EOFError" not in output


def test_ctrl_c_at_the_prompt_is_a_keyboard_interrupt() -> None:
    output = _in_a_terminal((b"Username for", b"\x03"))
    assert "INTERRUPTED" in output and "Traceback" not in output
