"""A canary secret echoed back in every form, through every channel, never comes out.

A loopback ``FakeRegistry`` answers each upload by echoing the password it
was sent — raw, case-changed, split by NUL, ESC, a zero-width space, a soft
hyphen or a line break, entity- and percent-encoded, cut to 15 characters,
base64 and ``Basic`` encoded, and (for a non-ASCII secret) as its UTF-8
bytes read as latin-1 — in the body, in headers, in the reason phrase and
in ``Location``.  The library and the CLI (``-v --json``) then run, and
stdout, stderr, log records, each error's ``str``/``repr``/pickle and the
report's ``to_dict()`` are scanned for any of those forms.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import pickle
import re
import subprocess
import sys
import unicodedata
import urllib.parse
from pathlib import Path

import pytest

from registry_upload import Credentials, RetryPolicy, upload
from registry_upload.testing import Action, FakeRegistry, Reply, make_wheel

USER = "canary-bot"
CANARIES = {
    "ascii": "Cn4ry-Q7wZ-x9Lk-M2pV-r8Td",
    "non-ascii": "Kn4rî-Vögel-Q7wZ-x9Lk-M2ä",
}
ROOT = Path(__file__).resolve().parents[1]


def variants(secret: str) -> dict[str, str]:
    """Every form item 1 of issue 20 names, of ``secret``."""
    raw = secret.encode()
    i = 7  # a character inside the secret to split at or encode
    basic = base64.b64encode(f"{USER}:{secret}".encode()).decode()
    forms = {
        "raw": secret,
        "upper": secret.upper(),
        "lower": secret.lower(),
        "nul": secret[:i] + "\x00" + secret[i:],
        "esc": secret[:i] + "\x1b" + secret[i:],
        "zero-width space": secret[:i] + "\u200b" + secret[i:],
        "soft hyphen": secret[:i] + "\u00ad" + secret[i:],
        "line break": secret[:i] + "\n" + secret[i:],
        "entity": secret.replace("-", "&#45;"),
        "percent": secret.replace("-", "%2D"),
        "first 15": secret[:15],
        "base64": base64.b64encode(raw).decode(),
        "basic": f"Basic {basic}",
        "basic bare": basic,
    }
    if not secret.isascii():
        forms["latin-1"] = raw.decode("latin-1")
    return forms


def _unsafe(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))


def leaked(text: str, secret: str) -> list[str]:
    """The forms of ``secret`` readable in ``text``, however decoded."""
    views = {text, html.unescape(text), urllib.parse.unquote(text)}
    views |= {v.encode("latin-1", "ignore").decode("utf-8", "ignore") for v in list(views)}
    views |= {v.replace("\\u00ad", "").replace("\\u200b", "") for v in list(views)}
    seen = " ".join(_unsafe(v).lower() for v in views)
    seen += " " + re.sub(r"\s+", "", seen)  # split by a line break
    found = []
    encoded = base64.b64encode(secret.encode()).decode().lower()
    basic = base64.b64encode(f"{USER}:{secret}".encode()).decode().lower()[16:]
    for name, value in (("secret", secret.lower()), ("base64", encoded), ("basic", basic)):
        for start in range(len(value) - 9):
            if value[start : start + 10] in seen:
                found.append(f"{name}[{start}:{start + 10}]")
                break
    return found


def _on_the_wire(text: str) -> str:
    """``text`` as a str whose latin-1 encoding is its UTF-8 bytes (what a server sends)."""
    return text.encode().decode("latin-1")


def script(secret: str) -> list[Action]:
    """One answer per channel, each echoing every variant that fits in it.

    Reason phrases and headers go twice: with every variant on one line (a
    strict HTTP parser refuses the control characters: the error quotes the
    line), and with the variants an HTTP parser lets through.
    """
    forms = variants(secret)
    listed = " | ".join(forms.values())
    one_line = [v for v in forms.values() if "\n" not in v]
    legal = [v for v in one_line if not any(c < " " or c == "\x7f" for c in v)]
    as_json = {"Content-Type": "application/json"}
    query = "&".join(f"v{n}={v}" for n, v in enumerate(legal))
    return [
        Action("reply", Reply(400, listed.encode())),
        Action("reply", Reply(400, b"", reason=_on_the_wire(f"Bad {' | '.join(one_line)}"))),
        Action("reply", Reply(400, b"", reason=_on_the_wire(f"Bad {' | '.join(legal)}"))),
        Action("reply", Reply(401, b"unauthorized", headers=_echo_headers(one_line))),
        Action("reply", Reply(401, b"unauthorized", headers=_echo_headers(legal))),
        Action("reply", Reply(403, json.dumps({"message": listed}).encode(), headers=as_json)),
        Action("reply", Reply(303, b"", headers={"Location": _on_the_wire(f"/moved?{query}")})),
    ]


def _echo_headers(values: list[str]) -> dict[str, str]:
    return {f"X-Echo-{n}": _on_the_wire(v) for n, v in enumerate(values)}


CHANNELS = 7
#: No retry; an unreadable answer after the whole body is unconfirmed after half a second.
QUICK = RetryPolicy(attempts=1, confirm_timeout=0.5)


def wheels(tmp_path: Path) -> list[Path]:
    dist = tmp_path / "dist"
    dist.mkdir()
    return [make_wheel(dist, f"canary{n}", "1.0") for n in range(CHANNELS)]


def assert_clean(where: str, text: str, secret: str) -> None:
    found = leaked(text, secret)
    assert not found, f"{where} shows {found}: {text[:3000]!r}"


@pytest.mark.parametrize("kind", sorted(CANARIES))
def test_library_shows_no_form_of_the_canary(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = CANARIES[kind]
    creds = Credentials.of(USER, secret)
    caplog.set_level(logging.DEBUG, logger="registry_upload")
    with FakeRegistry(actions=script(secret)) as registry:
        report = upload(wheels(tmp_path), registry.url, credentials=creds, retry=QUICK, jobs=1)
        assert len(registry.posts) == CHANNELS  # every channel was exercised
    errors = [r.error for r in report if r.error is not None]
    assert len(errors) == CHANNELS, report
    texts = {"report": json.dumps(report.to_dict(), ensure_ascii=False), "str": str(report)}
    for n, error in enumerate(errors):
        texts[f"error {n} str"] = str(error)
        texts[f"error {n} repr"] = repr(error)
        texts[f"error {n} hint"] = str(error.hint)
        texts[f"error {n} vars"] = repr(vars(error))
        texts[f"error {n} pickle"] = pickle.dumps(error, protocol=0).decode("raw_unicode_escape")
    for record in caplog.records:
        texts[f"log {record.name}"] = record.getMessage()
    for where, text in texts.items():
        assert_clean(where, text, secret)


@pytest.mark.parametrize("kind", sorted(CANARIES))
def test_cli_shows_no_form_of_the_canary(tmp_path: Path, kind: str) -> None:
    secret = CANARIES[kind]
    files = wheels(tmp_path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "REGISTRY_UPLOAD_USERNAME": USER,
        "REGISTRY_UPLOAD_PASSWORD": secret,
        "PYTHONIOENCODING": "utf-8",
    }
    with FakeRegistry(actions=script(secret)) as registry:
        cmd = [sys.executable, "-m", "registry_upload", "upload", str(files[0].parent),
               "--repository-url", registry.url, "-v", "--json", "--jobs", "1",
               "--attempts", "1", "--confirm-timeout", "0.5", "--non-interactive"]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, env=env, timeout=120, cwd=tmp_path)
        assert len(registry.posts) == CHANNELS
    assert out.returncode == 1, out.stderr[-3000:]
    stdout, stderr = out.stdout.decode("utf-8"), out.stderr.decode("utf-8")
    assert len(json.loads(stdout)["results"]) == CHANNELS
    assert_clean("stdout", stdout, secret)
    assert_clean("stderr", stderr, secret)
    assert "\x1b" not in stdout + stderr and "\x00" not in stdout + stderr


def test_an_upper_cased_non_ascii_secret_in_the_reason_phrase_is_masked(tmp_path: Path) -> None:
    secret = CANARIES["non-ascii"]
    creds = Credentials.of(USER, secret)
    reply = Reply(400, b"", reason=_on_the_wire(f"Bad {secret.upper()}"))
    with FakeRegistry(actions=[Action("reply", reply)]) as registry:
        report = upload(wheels(tmp_path)[:1], registry.url, credentials=creds,
                        retry=RetryPolicy.never())  # fmt: skip
    assert_clean("report", json.dumps(report.to_dict(), ensure_ascii=False), secret)
