"""The plain-metadata fast parser answers exactly as packaging's parse_email, or declines.

``distribution._parse_email_plain`` handles the common shape of core metadata
without the email package; for anything else it returns None and
``parse_email`` answers.  Compared here on every METADATA / PKG-INFO file
installed on this machine, on hand-made edge cases, and on every single-line
edit of a rich document.
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

import pytest
from packaging.metadata import parse_email

from registry_upload.distribution import _parse_email_plain

RICH = """Metadata-Version: 2.4
Name: Demo.Project
Version: 1.0.post1
Summary: A summary: with a colon
Home-page: https://example.org
Author: A. Person
Author-email: A Person <a@example.org>
License-Expression: MIT
License-File: LICENSE
Keywords: one, two ,three
Classifier: Programming Language :: Python
Classifier: Development Status :: 5 - Production/Stable
Requires-Python: >=3.10
Requires-Dist: urllib3>=2
Requires-Dist: keyring; extra == "keyring"
Provides-Extra: keyring
Project-URL: Source, https://example.org/src
Project-URL: Issues, https://example.org/issues
Description-Content-Type: text/markdown
Dynamic: license-file

# Demo

A body: with lines,

and blank lines.
"""

EDGE_CASES = [
    RICH,
    "Metadata-Version: 2.1\nName: x\nVersion: 1\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\n\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\n\n\n",
    "Metadata-Version: 2.1\nName:x\nVersion:\t 1  \n",
    "Metadata-Version: 2.1\nname: x\nVERSION: 1\nclassifier: A\nClassifier: B\n",
    "Metadata-Version: 2.1\nName: x\nName: y\nVersion: 1\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\nLicense: MIT\n  more text\n\tand a tab\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\nLicense: \n  only continuation\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\nLicense:\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\nDescription: in a header\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\nDescription: both\n\nand a body\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\nX-Unknown: field\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\nKeywords: a\nKeywords: b\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\nProject-URL: A, u\nProject-URL: A, v\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\nProject-URL: no comma\n",
    "Metadata-Version: 2.5\nName: x\nVersion: 1\nImport-Name: x\n",
    "Metadata-Version: 2.5\nName: x\nVersion: 1\nImport-Name:\n",
    "Metadata-Version: 2.1\r\nName: x\r\nVersion: 1\r\n\r\nbody\r\n",
    "Metadata-Version: 2.1\nName: x\x0cy\nVersion: 1\n",
    "Metadata-Version: 2.1\nName: x\u2028y\nVersion: 1\n",
    "Metadata-Version: 2.1\nName: x\nVersion: 1\n\nbody with \r and \x85 and \u2028\n",
    " Metadata-Version: 2.1\nName: x\n",
    "\nMetadata-Version: 2.1\nName: x\n",
    "From someone\nMetadata-Version: 2.1\nName: x\n",
    "Metadata-Version: 2.1\nnot a header\nName: x\n",
    "Metadata-Version: 2.1\n: empty name\nName: x\n",
    "Metadata-Version: 2.1\nName with space: x\n",
    "Metadata-Version: 2.1\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\n--x--\n",
    "Metadata-Version: 2.1\nName: =?utf-8?q?x?=\nVersion: 1\n",
    "Metadata-Version: 2.1\nName: caf\u00e9 \u2603\nVersion: 1\n\nb\u00f6dy\n",
    "Metadata-Version: 2.1\nName: x\x00y\nVersion: 1\n",
    "",
    "\n",
    "\n\n",
]


def _same(text: str) -> bool:
    """True when the fast parser declines or agrees with parse_email."""
    fast = _parse_email_plain(text)
    if fast is None:
        return True
    assert fast == parse_email(text), text
    return False


def _installed_metadata() -> list[Path]:
    found: set[Path] = set()
    for base in {sys.prefix, sys.base_prefix, *sys.path}:
        if not base or not os.path.isdir(base):
            continue
        for pattern in ("*.dist-info/METADATA", "*.egg-info/PKG-INFO", "*/PKG-INFO"):
            found.update(Path(p) for p in glob.glob(os.path.join(base, pattern)))
    return sorted(found)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases(text: str) -> None:
    _same(text)


def test_the_fast_parser_answers_for_plain_metadata() -> None:
    assert _parse_email_plain(RICH) is not None
    assert _parse_email_plain(EDGE_CASES[8]) is not None  # continuation lines


def test_every_installed_metadata_file() -> None:
    files = _installed_metadata()
    assert files  # the venv running the tests has installed distributions
    answered = 0
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        answered += not _same(text)
    assert answered  # most real files are plain: the fast path is exercised


def test_every_single_line_edit_of_a_rich_document() -> None:
    lines = RICH.split("\n")
    edits = ["", " ", "\t", "x", "X: y", "From x", ":", " continued", "Name: second", "\r"]
    for i in range(len(lines)):
        for edit in edits:
            for variant in (
                [*lines[:i], edit, *lines[i + 1 :]],  # replace the line
                [*lines[:i], edit, *lines[i:]],  # insert before it
                [*lines[:i], lines[i] + edit, *lines[i + 1 :]],  # append to it
            ):
                _same("\n".join(variant))


def _safe_name_reference(name: str) -> str:
    """The character-by-character definition the regex replaces."""
    out: list[str] = []
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch == "."):
            out.append(ch)
        elif not out or out[-1] != "-":
            out.append("-")
    return "".join(out)


def test_the_form_name_matches_its_definition() -> None:
    import random

    from registry_upload.distribution import _safe_name

    rng = random.Random(13)
    alphabet = "aZ09.-_ \t+é\u0661\u00b2!/"
    names = ["", "-", "a", "A-b", "a--b", "-a-", "a_-b", "Demo.Project", "naïve_pkg", "x\u0661"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(2000)]
    for name in names:
        assert _safe_name(name) == _safe_name_reference(name), name
