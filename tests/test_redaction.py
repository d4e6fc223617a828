"""Every form a server may echo a secret in is masked, in linear time (``_redact``)."""

from __future__ import annotations

import base64
import gc
import sys
import time
import unicodedata

import pytest

from registry_upload._redact import MASK, clean, redact
from registry_upload.credentials import Credentials, Secret

TOKEN = "S3cr3tT0ken-ABCDEF"  # 18 characters: masked anywhere, and by long prefixes
WORDY = "pässwörd-Geheim-123"  # non-ASCII: its UTF-8 bytes read as latin-1 by http.client
SHORT = "hunter2"  # under 12 characters: masked only as a word of its own
USER = "release-bot"


@pytest.fixture(autouse=True)
def held() -> object:
    """The secrets stay registered while a test runs (they live as long as their owner)."""
    return (Credentials.of(USER, TOKEN), Secret(WORDY), Secret(SHORT))


def _spread(value: str, sep: str) -> str:
    return value[:6] + sep + value[6:]


VARIANTS = {
    "raw": TOKEN,
    "upper": TOKEN.upper(),
    "lower": TOKEN.lower(),
    "nul inside": _spread(TOKEN, "\x00"),
    "esc inside": _spread(TOKEN, "\x1b"),
    "esc sequence inside": _spread(TOKEN, "\x1b[0m"),
    "zero-width space": _spread(TOKEN, "\u200b"),
    "soft hyphen": _spread(TOKEN, "\u00ad"),
    "bidi override": _spread(TOKEN, "\u202e"),
    "word joiner and bom": _spread(TOKEN, "\u2060\ufeff"),
    "line break": _spread(TOKEN, "\n"),
    "crlf": _spread(TOKEN, "\r\n"),
    "line break made a space": _spread(TOKEN, " "),
    "zero-width space as latin-1": _spread(TOKEN, "\u200b".encode().decode("latin-1")),
    "soft hyphen as latin-1": _spread(TOKEN, "\u00ad".encode().decode("latin-1")),
    "decimal entity": TOKEN.replace("-", "&#45;"),
    "hex entity": TOKEN.replace("-", "&#x2D;"),
    "entity without semicolon": TOKEN.replace("-", "&#45"),
    "named entity": WORDY.replace("ä", "&auml;").replace("ö", "&ouml;"),
    "every char an entity": "".join(f"&#{ord(c)};" for c in TOKEN),
    "percent upper": TOKEN.replace("-", "%2D"),
    "percent lower": TOKEN.replace("-", "%2d"),
    "every byte percent": "".join(f"%{b:02X}" for b in TOKEN.encode()),
    "json escape": TOKEN.replace("-", "\\u002d"),
    "bytes repr with nul": repr(_spread(TOKEN, "\x00").encode()),
    "bytes repr with line break": repr(_spread(TOKEN, "\r\n").encode()),
    "bytes repr of utf-8": repr(WORDY.encode()),
    "mojibake spaced out": _spread(TOKEN, "\u200b".encode().decode("latin-1")[0] + "  "),
    "first 15": TOKEN[:15],
    "first 12": TOKEN[:12],
    "base64": base64.b64encode(TOKEN.encode()).decode(),
    "base64 urlsafe unpadded": base64.urlsafe_b64encode(TOKEN.encode()).decode().rstrip("="),
    "base64 one byte in": base64.b64encode(b"x" + TOKEN.encode() + b"yz").decode(),
    "base64 two bytes in": base64.b64encode(b"xy" + TOKEN.encode() + b"z").decode(),
    "basic": base64.b64encode(f"{USER}:{TOKEN}".encode()).decode(),
    "basic lower-cased": base64.b64encode(f"{USER}:{TOKEN}".encode()).decode().lower(),
    "utf-8 secret": WORDY,
    "utf-8 secret upper": WORDY.upper(),
    "latin-1 mojibake": WORDY.encode().decode("latin-1"),
    "cp1252 mojibake": WORDY.encode().decode("cp1252"),
    "mojibake percent": "".join(f"%{b:02x}" for b in WORDY.encode()),
    "mojibake with soft hyphen": _spread(WORDY.encode().decode("latin-1"), "\u00ad"),
}

# What may not survive redaction of any variant: any 8 characters of a secret in a row.
FRAGMENTS = {v[i : i + 8].lower() for v in (TOKEN, WORDY) for i in range(len(v) - 7)}


def leaks(text: str) -> list[str]:
    """Fragments of a secret still readable in ``text`` once invisible characters are gone."""
    seen = clean(text).replace(" ", "").lower()
    return [f for f in FRAGMENTS if f.replace(" ", "") in seen]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_is_masked(variant: str) -> None:
    echoed = VARIANTS[variant]
    for text in (echoed, f"invalid token '{echoed}' for user", f"x{echoed}y\n"):
        out = redact(text)
        assert MASK in out, (variant, out)
        assert not leaks(out), (variant, out)


def test_text_around_a_secret_is_kept() -> None:
    out = redact(f"denied: {_spread(TOKEN, chr(0))} (see https://example.org/help?a=1%20b)")
    assert out == f"denied: {MASK} (see https://example.org/help?a=1%20b)"
    assert redact("100% & <b>fine</b>\nnext line") == "100% & <b>fine</b>\nnext line"


def test_short_secret_only_as_a_word() -> None:
    assert redact(f"your pw {SHORT} refused") == f"your pw {MASK} refused"
    assert redact(f"your pw {SHORT.upper()}.") == f"your pw {MASK}."
    assert redact(f"not{SHORT} nor {SHORT}9") == f"not{SHORT} nor {SHORT}9"
    assert redact("thing and nothing") == "thing and nothing"  # unregistered words untouched


def test_passphrase_with_spaces_is_masked() -> None:
    phrase = Secret("correct horse battery staple")
    assert redact("pw: correct horse battery staple!") == f"pw: {MASK}!"
    assert redact("pw: correct horse\nbattery staple") == f"pw: {MASK}"
    assert phrase


def test_prefixes_shorter_than_twelve_are_kept() -> None:
    assert redact(f"x {TOKEN[:11]} y") == f"x {TOKEN[:11]} y"


def test_released_secret_is_no_longer_masked() -> None:
    value = "Temporary-Secret-9876"
    secret = Secret(value)
    assert redact(value) == MASK
    del secret
    gc.collect()
    assert redact(value) == value


def test_authorization_shaped_values_masked() -> None:
    assert redact("Authorization: Bearer abcdefgh12345678xyz") == f"Authorization: Bearer {MASK}"
    assert redact("token permissions are missing") == "token permissions are missing"


ADVERSARIAL = {
    "plain": "x" * (1 << 20),
    "bearer run": "Bearer " + "a" * (1 << 20),
    "bearers": "bearer " * (1 << 17),
    "percent": "%2D" * (1 << 18),
    "broken percent": "%2" * (1 << 18),
    "entities": "&#45;" * (1 << 17),
    "broken entities": "&#4" * (1 << 18),
    "ampersands": "&a" * (1 << 19),
    "controls": "\n\x00\u200b" * (1 << 18),
    "prefix repeated": TOKEN[:13] * (1 << 16),
    "secret repeated": TOKEN * (1 << 15),
    "almost secret": (TOKEN[:-1] + "#") * (1 << 15),
    "non-ascii": "ä\u0130" * (1 << 19),  # İ lower-cases to two characters
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_one_mebibyte_is_redacted_in_linear_time(name: str) -> None:
    text = ADVERSARIAL[name]
    started = time.perf_counter()
    out = redact(text)
    shown = clean(out)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"{name}: {elapsed:.1f} s"
    assert not leaks(shown[:100_000])


def test_clean_removes_every_control_and_format_character() -> None:
    unsafe = [
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) in ("Cc", "Cf") or 0xD800 <= c <= 0xDFFF
    ]
    text = "a".join(unsafe)
    for multiline in (False, True):
        out = clean(text, multiline=multiline)
        left = {c for c in out if unicodedata.category(c) in ("Cc", "Cf", "Cs")}
        assert left <= ({"\n"} if multiline else set())


def test_clean_keeps_lines_only_when_asked() -> None:
    hostile = "ok\x1b]0;pwned\x07\r\x1b[2K\u2713 uploaded\x1b\nnext\u2028line\x07"
    assert clean(hostile) == "ok \u2713 uploaded  next line "
    assert clean(hostile, multiline=True) == "ok\n\u2713 uploaded \nnext\nline "
    assert clean("plain text, untouched") == "plain text, untouched"
