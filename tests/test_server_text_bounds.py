"""A registry's error body, however it is built, becomes a message in linear time.

Before, an unclosed ``<script>`` repeated through a 1 MiB body kept the tag
stripping regex busy for minutes (holding the GIL, so Ctrl-C was ignored),
JSON nested deeper than the parser's limit raised RecursionError, and the
batch ended with a traceback instead of a per-file outcome.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from registry_upload import Credentials, FileStatus, RejectedError, RetryPolicy, upload
from registry_upload.diagnostics import server_message
from registry_upload.testing import Action, FakeRegistry, Reply, make_wheel
from registry_upload.transport import Response

from .conftest import CANARY

MIB = 1 << 20
BOMBS = {
    "unclosed scripts": "<html><body>refused " + "<script>" * (MIB // 8),
    "unclosed styles": "<p>refused</p>" + "<style x>" * (MIB // 9),
    "unclosed tags": "refused <p" + "<a href=" * (MIB // 8) + ">",
    "tags only": "<b>" * (MIB // 3),
    "nested json": '{"message": ' + "[" * (MIB // 2) + "]" * (MIB // 2) + "}",
    "nested objects": '{"errors": ' + '{"errors": ' * (MIB // 12) + "1" + "}" * (MIB // 12) + "}",
}


def _answer(body: str, content_type: str = "text/html") -> Response:
    return Response(400, "Bad Request", {"content-type": content_type}, body.encode())


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_pathological_body_is_read_in_linear_time(name: str) -> None:
    started = time.perf_counter()
    message = server_message(_answer(BOMBS[name]))
    assert time.perf_counter() - started < 2.0
    assert 0 < len(message) <= 2000


def test_text_around_tags_survives_and_hidden_elements_go() -> None:
    body = (
        "<html><HEAD><title>t</title></HEAD><body><h1>Bad&nbsp;request</h1>"
        "<Script type=x>alert(1)</SCRIPT ><style>p{}</style><p>name &amp; version</p></body>"
    )
    assert server_message(_answer(body)) == "Bad request name & version"
    assert server_message(_answer("<p>kept</p><script>never closed")) == "kept"


def test_odd_json_fields_are_shown_not_raised() -> None:
    body = json.dumps(
        {
            "message": ["a list", {"code": [1, 2]}],
            "error": 5,
            "detail": None,
            "title": True,
            "errors": {"deep": [[[[[[[[[[["bottom"]]]]]]]]]]]},
        }
    )
    message = server_message(_answer(body, "application/json"))
    assert "a list" in message and '"code": [1, 2]' in message
    assert "bottom" not in message and "..." in message  # cut below eight levels
    assert server_message(_answer("[1, 2]", "application/json")) == "[1, 2]"


@pytest.mark.parametrize("name", ["unclosed scripts", "nested json"])
def test_a_bomb_from_the_registry_is_a_typed_per_file_outcome(tmp_path: Path, name: str) -> None:
    wheel = make_wheel(tmp_path, "bombed", "1.0")
    reply = Reply(400, BOMBS[name], {"Content-Type": "text/html"})
    with FakeRegistry(default=Action("reply", reply)) as registry:
        started = time.perf_counter()
        report = upload(
            [wheel],
            registry.url,
            credentials=Credentials.of("user", CANARY),
            retry=RetryPolicy(attempts=1),
        )
        elapsed = time.perf_counter() - started
        stored = dict(registry.stored)
    (result,) = report.results
    assert result.status is FileStatus.FAILED
    assert isinstance(result.error, RejectedError)
    assert stored == {}
    assert elapsed < 5.0  # minutes before
