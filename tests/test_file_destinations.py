"""file: destinations name the directory the user meant."""

from __future__ import annotations

import base64
import os

import pytest

from registry_upload import (
    Credentials,
    RetryPolicy,
)
from registry_upload._destination import root_from_destination

from .conftest import CANARY

CREDS = Credentials.of("alice", CANARY, source="test")
BASIC = base64.b64encode(f"alice:{CANARY}".encode()).decode()
NO_WAIT = RetryPolicy(attempts=3, sleep=lambda seconds: None)


@pytest.mark.skipif(os.name == "nt", reason="POSIX file-system encoding")
def test_file_url_escape_that_is_not_utf8_names_those_bytes() -> None:
    root = root_from_destination("file:///srv/%FF/simple/")
    assert root is not None
    assert os.fsencode(root) == b"/srv/\xff/simple"
