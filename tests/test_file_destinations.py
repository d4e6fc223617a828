"""file: destinations name the directory the user meant."""

from __future__ import annotations

import os

import pytest

from registry_upload._destination import root_from_destination


@pytest.mark.skipif(os.name == "nt", reason="POSIX file-system encoding")
def test_file_url_escape_that_is_not_utf8_names_those_bytes() -> None:
    root = root_from_destination("file:///srv/%FF/simple/")
    assert root is not None
    assert os.fsencode(root) == b"/srv/\xff/simple"
