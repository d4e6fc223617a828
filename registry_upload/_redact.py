"""Redaction of every secret the library has seen (private).

Each :class:`~registry_upload.credentials.Secret` registers its value here
when it is created, and :class:`~registry_upload.credentials.Credentials`
its ``Authorization`` header forms.  :func:`redact` removes all of them,
and anything shaped like an ``Authorization`` header value, from text that
came from outside (a registry's answer, a helper's output) before it goes
into an error, a log record or a report.  Errors redact their own text on
construction (``errors.RegistryUploadError``), so nothing built from a
server's words can carry a secret out.
"""

from __future__ import annotations

import base64
import re
import threading
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "redact", "register", "register_basic"]

MASK = "********"
#: Shorter values are not registered: masking every "abc" would garble messages.
MIN_LENGTH = 4

# Header values a registry may echo back, whatever the secret inside.
# A run of 16+ token characters with a digit in it, after "Basic"/"Bearer"/"Token":
# what a header value looks like, and what prose ("token permissions") does not.
_AUTH_VALUE = re.compile(
    r"(?i)\b(basic|bearer|token)(\s+)(?=[A-Za-z0-9+/._~-]*\d)[A-Za-z0-9+/._~-]{16,}=*"
)


class _Known:
    """The secrets seen so far, and one compiled pattern over all of them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: set[str] = set()
        self.pattern: re.Pattern[str] | None = None

    def add(self, forms: set[str]) -> None:
        with self.lock:
            if not forms <= self.values:
                self.values.update(forms)
                self.pattern = None

    def compiled(self) -> re.Pattern[str] | None:
        with self.lock:
            if self.pattern is None and self.values:
                alternatives = sorted(self.values, key=len, reverse=True)
                self.pattern = re.compile("|".join(map(re.escape, alternatives)))
            return self.pattern


_KNOWN = _Known()


def register(value: str) -> None:
    """Remember a secret (and its URL-quoted forms) for :func:`redact`."""
    if len(value) >= MIN_LENGTH:
        _KNOWN.add({value, quote(value, safe=""), quote_plus(value, safe="")})


def register_basic(username: str, password: str) -> None:
    """Remember the ``Authorization: Basic`` forms of a username and password."""
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    register(encoded)
    register(encoded.rstrip("="))


def redact(text: str) -> str:
    """``text`` with every known secret and Authorization-like value masked."""
    if not text:
        return text
    pattern = _KNOWN.compiled()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
