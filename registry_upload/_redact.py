"""Redaction of every secret the library holds, and text made safe to show (private).

Each :class:`~registry_upload.credentials.Secret` registers its value here
when it is created, and :class:`~registry_upload.credentials.Credentials`
its ``Authorization`` header forms, for as long as that ``Secret`` lives (a
secret nobody holds any more cannot be sent, so cannot come back).

:func:`redact` masks every registered secret, and anything shaped like an
``Authorization`` header value, in text that came from outside (a
registry's answer, a helper's output) before it goes into an error, a log
record or a report.  A secret is found in each form a server may echo it in:

* as it is, in any letter case (a registry may upper- or lower-case it);
* URL-quoted, base64 (at any byte alignment) and inside ``Basic`` values;
* decoded as latin-1 or cp1252 from its UTF-8 bytes (a header or reason phrase);
* with control or invisible characters (NUL, ESC, a terminal escape
  sequence, zero-width space, soft hyphen, bidi controls, each also as
  latin-1 mojibake), line breaks or spaces inside it;
* HTML-entity (``&#45;``), percent (``%2D``) or ``\\u002d`` escaped, or inside
  the ``repr()`` of bytes (``\\x00``, ``\\xc3\\xa4``, ``\\n``);
* cut short: any prefix of :data:`PREFIX_LENGTH` characters or more of a
  value of :data:`PREFIX_FROM` characters or more.

A value shorter than :data:`ANYWHERE_LENGTH` is masked only where it stands
as a word of its own (a password ``thing`` does not mask "nothing").  The
decoded forms are matched in a *view* of the text (the escapes and mojibake
decoded, whitespace, control and invisible characters dropped; built only
when a cheap pass over the same view finds a secret) whose every character
knows the span of the original text it came from, so the mask covers the
original characters.  Every step is a regular-expression scan without nested
repetition or a walk bounded by a secret's length: linear in the text.

:func:`clean` makes server text safe for a terminal and a log line: control
characters become spaces (line breaks too, unless ``multiline``), invisible
formatting characters are dropped.  Errors do both on construction
(``errors.RegistryUploadError``), so nothing built from a server's words can
carry a secret or an escape sequence out.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
import threading
import weakref
from collections import Counter, deque
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "clean", "redact", "register", "register_basic", "shown"]


class _Lazy:
    """A regular expression compiled on first use: start-up pays for none of them
    (the Unicode classes take milliseconds to compile)."""

    __slots__ = ("_compiled", "_source")

    def __init__(self, source: str) -> None:
        self._source = source
        self._compiled: re.Pattern[str] | None = None

    def get(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source)
        return self._compiled


MASK = "********"
#: Shorter values are not registered: masking every "abc" would garble messages.
MIN_LENGTH = 4
#: Values at least this long are masked wherever they stand; shorter ones as words.
ANYWHERE_LENGTH = 12
#: A value at least this long is masked by any prefix of PREFIX_LENGTH characters or more.
PREFIX_FROM = 16
PREFIX_LENGTH = 12

# Header values a registry may echo back, whatever the secret inside.
# A run of 16+ token characters with a digit in it, after "Basic"/"Bearer"/"Token":
# what a header value looks like, and what prose ("token permissions") does not.
_AUTH_VALUE = re.compile(
    r"(?i)\b(basic|bearer|token)(\s+)(?=[A-Za-z0-9+/._~-]*\d)[A-Za-z0-9+/._~-]{16,}=*"
)

# Characters that show nothing, or act on the terminal instead of showing:
# C0/C1 controls (Cc), every format character (Cf: soft hyphen, zero-width
# space/joiners, bidi embeddings and isolates, BOM, tags), line and paragraph
# separators, and the blank or joining marks that render as nothing.
_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_FORMATS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
_BLANKS = (
    "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef"
)
_INVISIBLE = _Lazy(f"[{_FORMATS}{_BLANKS}]")
_UNSAFE = _Lazy(f"[{_CONTROLS}{_FORMATS}{_BLANKS}\ud800-\udfff]")
_ASCII_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")

# A terminal's control or operating-system command sequence shows nothing either
# (ESC [ 2 J, ESC ] 0 ; title BEL); a lone ESC is a control character like any other.
_ESCAPE = (
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)?"
)
_ESCAPE_SEQUENCE = _Lazy(_ESCAPE)

# Whitespace: a secret broken over lines (or the line break made a space) is still found.
_SPACES = " \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_DROPPED = f"(?:{_ESCAPE}|[{_CONTROLS}{_FORMATS}{_BLANKS}{_SPACES}])+"
# UTF-8 bytes read as latin-1 ("Ã¤" for "ä", "â\x80\x8b" for a zero-width space),
# and the first of them alone where a cleaner made the others spaces ("â  ").
_MOJIBAKE = (
    r"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
    r"|[\xc2-\xf4](?=[ \x80-\xbf])"
)
_ENCODED = (
    r"(?P<pct>(?:%[0-9A-Fa-f]{2})+)"
    r"|(?P<ent>&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?)"
    r"|(?P<esc>\\u[0-9A-Fa-f]{4})"
    r"|(?P<repr>(?:\\x[0-9A-Fa-f]{2}|\\[0nrt])+)"  # a repr() of bytes: b'a\x00b\n'
)
# What the view decodes or drops, in one scan (the view with its map back to the text).
_SPECIAL = _Lazy(f"(?P<moji>{_MOJIBAKE})|(?P<drop>{_DROPPED})|{_ENCODED}")
# The same steps, one at a time: the view alone, to learn cheaply whether a secret is in it.
_MOJIBAKE_RUN = _Lazy(f"(?P<moji>{_MOJIBAKE})")
_DROP_CHARS = _Lazy(f"[{_CONTROLS}{_FORMATS}{_BLANKS}{_SPACES}]+")
_ASCII_DROP_CHARS = re.compile(r"[\x00-\x20\x7f]+")
_ENCODED_RUN = _Lazy(_ENCODED)


def _dropped(text: str) -> str:
    """``text`` without what :data:`_DROPPED` matches (a plain character class is faster)."""
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _ESCAPE_SEQUENCE.get().sub("", text)
    return (_ASCII_DROP_CHARS if text.isascii() else _DROP_CHARS.get()).sub("", text)


class _Matcher:
    """One pattern for every form held, and the long forms by their first characters.

    The pattern holds the forms lower-cased and scans the text lower-cased
    (ten times faster than a case-insensitive pattern); a text whose
    lower-casing changes its length is scanned case-insensitively instead.
    """

    def __init__(self, forms: list[str]) -> None:
        self.long: dict[str, list[str]] = {}
        alternatives: set[str] = set()
        for form in (f.lower() for f in forms):
            if len(form) >= PREFIX_FROM:
                head = form[:PREFIX_LENGTH]
                self.long.setdefault(head, []).append(form)
                alternatives.add(re.escape(head))
            elif len(form) >= ANYWHERE_LENGTH:
                alternatives.add(re.escape(form))
            else:
                alternatives.add(rf"(?<!\w){re.escape(form)}(?!\w)")
        self.source = "|".join(sorted(alternatives, key=len, reverse=True))
        self.pattern = re.compile(self.source)
        self.folded: re.Pattern[str] | None = None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The ``(start, end)`` of every secret in ``text``, in order (they may overlap)."""
        lowered = text.lower()
        if len(lowered) == len(text):
            matches = self.pattern.finditer(lowered)
        else:
            self.folded = self.folded or re.compile(self.source, re.I)
            lowered, matches = text, self.folded.finditer(text)
        found: list[tuple[int, int]] = []
        for m in matches:
            start, end = m.span()
            forms = self.long.get(m.group().lower()) if end - start == PREFIX_LENGTH else None
            if forms:
                end = max(_common_end(lowered, start, form) for form in forms)
            found.append((start, end))
        return found


def _common_end(text: str, start: int, form: str) -> int:
    """Where ``text`` stops following ``form`` (both lower-cased) from ``start``."""
    if text[start : start + len(form)].lower() == form:
        return start + len(form)
    end = start + PREFIX_LENGTH
    limit = min(len(text), start + len(form))
    while end < limit and text[end].lower() == form[end - start]:
        end += 1
    return end


class _Known:
    """The secret forms held now (counted: one value may be held twice), and one matcher.

    A released secret is only queued (:meth:`discard` runs in a garbage-collector
    finaliser, possibly while this very thread holds the lock) and dropped at the
    next :meth:`add` or :meth:`matcher`.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: Counter[str] = Counter()
        self.current: _Matcher | None = None
        self.released: deque[frozenset[str]] = deque()

    def add(self, forms: frozenset[str]) -> None:
        with self.lock:
            self._drop_released()
            self.values.update(forms)
            self.current = None

    def discard(self, forms: frozenset[str]) -> None:
        self.released.append(forms)  # atomic; no lock taken here

    def matcher(self) -> _Matcher | None:
        with self.lock:
            self._drop_released()
            if self.current is None and self.values:
                self.current = _Matcher(list(self.values))
            return self.current

    def _drop_released(self) -> None:
        if not self.released:
            return
        while self.released:
            self.values.subtract(self.released.popleft())
        self.values += Counter()  # drop what fell to zero
        self.current = None


_KNOWN = _Known()


def _forms(value: str) -> set[str]:
    """``value`` as a server may echo it: quoted, base64 (each alignment), mojibake."""
    raw = value.encode("utf-8", errors="surrogatepass")
    forms = {value, quote(value, safe=""), quote_plus(value, safe="")}
    forms |= _base64_forms(raw)
    if not value.isascii():
        forms.add(raw.decode("latin-1"))
        with contextlib.suppress(UnicodeDecodeError):  # a byte cp1252 leaves undefined
            forms.add(raw.decode("cp1252"))
    return forms


def _base64_forms(raw: bytes) -> set[str]:
    """Standard and URL-safe base64 of ``raw``, alone or 1 or 2 bytes into a longer run."""
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms |= {whole, whole.rstrip("=")}
        for shift in (1, 2):  # the characters fixed by the secret's bytes alone
            shifted = encode(b"\0" * shift + raw).decode("ascii")
            inner = shifted[4 : 4 * ((len(raw) + shift) // 3)]
            if len(inner) >= ANYWHERE_LENGTH:
                forms.add(inner)
    return forms


def _hold(forms: set[str], owner: object) -> None:
    # As the view has them too: without invisible characters and spaces.
    forms |= {_dropped(form) for form in forms}
    kept = frozenset(f for f in forms if len(f) >= MIN_LENGTH)
    if kept:
        _KNOWN.add(kept)
        weakref.finalize(owner, _KNOWN.discard, kept)


def register(value: str, owner: object) -> None:
    """Mask ``value`` (in every form :func:`redact` knows) for as long as ``owner`` lives."""
    if len(value) >= MIN_LENGTH:
        _hold(_forms(value), owner)


def register_basic(username: str, password: str, owner: object) -> None:
    """Mask the ``Authorization: Basic`` forms of a username and password while
    ``owner`` lives."""
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    _hold({encoded, encoded.rstrip("="), quote(encoded, safe="")}, owner)


def redact(text: str) -> str:
    """``text`` with every known secret, in any form, and Authorization-like value masked."""
    if not text:
        return text
    matcher = _KNOWN.matcher()
    if matcher is not None:
        spans = matcher.spans(text)
        if matcher.pattern.search(_quick_view(text).lower()):
            spans = sorted(spans + _spans_in_view(text, matcher))
        text = _mask(text, spans)
    lowered = text.lower()
    if "basic" in lowered or "bearer" in lowered or "token" in lowered:
        text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return text


def _quick_view(text: str) -> str:
    """What :func:`_view` makes of ``text``, without the map (no call per space)."""
    if not text.isascii():
        text = _MOJIBAKE_RUN.get().sub(_decode, text)
    text = _dropped(text)
    if "%" in text or "&" in text or "\\" in text:
        text = _dropped(_ENCODED_RUN.get().sub(_decode, text))
    return text


def _has(text: str, ascii_chars: re.Pattern[str], chars: _Lazy) -> bool:
    """Whether ``text`` holds one of ``chars`` (``ascii_chars``: the same, ASCII only; faster)."""
    return bool((ascii_chars if text.isascii() else chars.get()).search(text))


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span (in order; overlapping ones merge) replaced by the mask."""
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    for start, end in merged:
        parts += (text[last:start], MASK)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _spans_in_view(text: str, matcher: _Matcher) -> list[tuple[int, int]]:
    """The spans of ``text`` whose view (:func:`_view`) holds a secret."""
    import bisect

    view, starts, origins = _view(text)
    spans = []
    for start, end in matcher.spans(view):
        first = bisect.bisect_right(starts, start) - 1
        last = bisect.bisect_right(starts, end - 1) - 1
        spans.append(
            (
                _origin(origins[first], starts[first], start),
                _end(origins[last], starts[last], end - 1),
            )
        )
    return spans


def _origin(segment: tuple[int, int, bool], view_start: int, at: int) -> int:
    orig_start, _orig_end, literal = segment
    return orig_start + (at - view_start) if literal else orig_start


def _end(segment: tuple[int, int, bool], view_start: int, at: int) -> int:
    orig_start, orig_end, literal = segment
    return orig_start + (at - view_start) + 1 if literal else orig_end


def _view(text: str) -> tuple[str, list[int], list[tuple[int, int, bool]]]:
    """``text`` decoded and without invisible characters, and where each piece came from.

    Returns the view, the view offset each piece starts at, and each piece's
    ``(start, end, literal)`` in ``text``: a literal piece maps character by
    character, a decoded one as a whole.
    """
    pieces: list[str] = []
    starts: list[int] = []
    origins: list[tuple[int, int, bool]] = []
    size = pos = 0

    def add(piece: str, start: int, end: int, literal: bool) -> None:
        nonlocal size
        pieces.append(piece)
        starts.append(size)
        origins.append((start, end, literal))
        size += len(piece)

    for m in _SPECIAL.get().finditer(text):
        if m.start() > pos:
            add(text[pos : m.start()], pos, m.start(), True)
        decoded = _decode(m)
        if decoded:
            add(decoded, m.start(), m.end(), False)
        pos = m.end()
    if pos < len(text):
        add(text[pos:], pos, len(text), True)
    return "".join(pieces), starts, origins


def _decode(m: re.Match[str]) -> str:
    return "" if m.lastgroup == "drop" else _decoded(m.lastgroup, m.group())


@functools.lru_cache(maxsize=512)
def _decoded(kind: str | None, token: str) -> str:
    """A %XX run, HTML entity, ``\\uXXXX`` escape or mojibake decoded, without invisible
    characters."""
    if kind == "moji":
        try:
            decoded = token.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:  # not UTF-8 after all; alone, what is left of it
            decoded = "" if len(token) == 1 else token
    elif kind == "pct":
        decoded = bytes.fromhex(token.replace("%", "")).decode("utf-8", errors="replace")
    elif kind == "esc":
        decoded = chr(int(token[2:], 16))
    elif kind == "repr":
        decoded = _unrepr(token)
    else:
        import html

        decoded = html.unescape(token)
    return _dropped(decoded)


_REPR_ESCAPES = {"0": b"\0", "n": b"\n", "r": b"\r", "t": b"\t"}


def _unrepr(token: str) -> str:
    """A run of ``\\xNN``, ``\\n``, ``\\r``, ``\\t``, ``\\0`` escapes as the text they spell."""
    raw = bytearray()
    for part in token.split("\\")[1:]:
        raw += bytes.fromhex(part[1:]) if part[0] == "x" else _REPR_ESCAPES[part]
    return raw.decode("utf-8", errors="replace")


_LINE_BREAK = _Lazy(r"\r\n?|[\n\u2028\u2029\x85\x0b\x0c]")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_SURROGATE = _Lazy("[\ud800-\udfff]")


def clean(text: str, *, multiline: bool = False) -> str:
    """``text`` safe for a terminal and a one-line log record.

    Terminal escape sequences are dropped, other control characters (ESC,
    BEL, NUL, ...) become a space, and line breaks
    (CR, LF, CR LF, U+2028, ...) too unless ``multiline`` (then each becomes
    one ``\\n``); invisible formatting characters (zero-width, soft hyphen,
    bidi controls) are dropped and lone surrogates become U+FFFD.
    """
    if not text or not _has(text, _ASCII_UNSAFE, _UNSAFE):
        return text
    text = _ESCAPE_SEQUENCE.get().sub("", text)
    text = _SURROGATE.get().sub("\ufffd", _INVISIBLE.get().sub("", text))
    text = _LINE_BREAK.get().sub("\n" if multiline else " ", text)
    return _CONTROL.sub(" ", text)


def shown(text: str, *, multiline: bool = False) -> str:
    """Outside text as an error, a log record or a report keeps it: :func:`redact`
    then :func:`clean`."""
    return clean(redact(text), multiline=multiline)
