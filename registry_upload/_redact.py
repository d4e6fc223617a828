"""Redaction of every secret the library holds (private).

Each :class:`~registry_upload.credentials.Secret` registers its value here
when it is created, and :class:`~registry_upload.credentials.Credentials`
its ``Authorization`` header forms, for as long as that ``Secret`` lives (a
secret nobody holds any more cannot be sent, so cannot come back).  A
value shorter than :data:`ANYWHERE_LENGTH` is masked only where it stands as
a word of its own (a password ``thing`` does not mask "nothing").
:func:`redact` removes all of them,
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
import weakref
from collections import Counter, deque
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "redact", "register", "register_basic"]

MASK = "********"
#: Shorter values are not registered: masking every "abc" would garble messages.
MIN_LENGTH = 4
#: Values at least this long are masked wherever they stand; shorter ones as words.
ANYWHERE_LENGTH = 12

# Header values a registry may echo back, whatever the secret inside.
# A run of 16+ token characters with a digit in it, after "Basic"/"Bearer"/"Token":
# what a header value looks like, and what prose ("token permissions") does not.
_AUTH_VALUE = re.compile(
    r"(?i)\b(basic|bearer|token)(\s+)(?=[A-Za-z0-9+/._~-]*\d)[A-Za-z0-9+/._~-]{16,}=*"
)


class _Known:
    """The secrets held now (counted: one value may be held twice), and one pattern.

    A released secret is only queued (:meth:`discard` runs in a garbage-collector
    finaliser, possibly while this very thread holds the lock) and dropped at the
    next :meth:`add` or :meth:`compiled`.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: Counter[str] = Counter()
        self.pattern: re.Pattern[str] | None = None
        self.released: deque[frozenset[str]] = deque()

    def add(self, forms: frozenset[str]) -> None:
        with self.lock:
            self._drop_released()
            self.values.update(forms)
            self.pattern = None

    def discard(self, forms: frozenset[str]) -> None:
        self.released.append(forms)  # atomic; no lock taken here

    def compiled(self) -> re.Pattern[str] | None:
        with self.lock:
            self._drop_released()
            if self.pattern is None and self.values:
                alternatives = sorted(self.values, key=len, reverse=True)
                # Case-insensitive: a registry may echo a token upper- or lower-cased.
                self.pattern = re.compile("|".join(map(_alternative, alternatives)), re.I)
            return self.pattern

    def _drop_released(self) -> None:
        if not self.released:
            return
        while self.released:
            self.values.subtract(self.released.popleft())
        self.values += Counter()  # drop what fell to zero
        self.pattern = None


def _alternative(value: str) -> str:
    escaped = re.escape(value)
    if len(value) >= ANYWHERE_LENGTH:
        return escaped
    return rf"(?<!\w){escaped}(?!\w)"


_KNOWN = _Known()


def register(value: str, owner: object) -> None:
    """Mask ``value`` (and its URL-quoted forms) for as long as ``owner`` lives."""
    if len(value) < MIN_LENGTH:
        return
    encoded = base64.b64encode(value.encode()).decode("ascii")
    forms = frozenset(
        {value, quote(value, safe=""), quote_plus(value, safe=""), encoded, encoded.rstrip("=")}
    )
    _KNOWN.add(forms)
    weakref.finalize(owner, _KNOWN.discard, forms)


def register_basic(username: str, password: str, owner: object) -> None:
    """Mask the ``Authorization: Basic`` forms of a username and password while
    ``owner`` lives."""
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    register(encoded, owner)
    register(encoded.rstrip("="), owner)


def redact(text: str) -> str:
    """``text`` with every known secret and Authorization-like value masked."""
    if not text:
        return text
    pattern = _KNOWN.compiled()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
