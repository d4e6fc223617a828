"""Interim answers (1xx) are skipped wherever they come: the final answer is the one reported.

RFC 9110 §15.2: a client skips every 1xx it did not expect (``101`` aside).
Before, a ``103 Early Hints`` was taken as the answer, the real one stayed
on the connection, and the next file read it: stored files were reported
failed and a refused one uploaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_upload import Credentials, FileStatus, RetryPolicy, TransportError, upload
from registry_upload.distribution import Distribution
from registry_upload.testing import hostile, make_wheel
from registry_upload.transport import MultipartBody, Transport, TransportOptions

from .conftest import CANARY
from .test_hostile_servers import AUTH, finishes

CREDS = Credentials.of("user", CANARY)
PATHS = {
    "plain": TransportOptions(expect_threshold=None),
    "expect": TransportOptions(expect_threshold=0),
}


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("interims", [(103,), (102, 103)])
def test_three_wheels_answered_after_interims(
    tmp_path: Path, path: str, interims: tuple[int, ...]
) -> None:
    """103 (and 102) then 200 / 400 / 200: each file gets its own final answer."""
    wheels = [
        make_wheel(tmp_path, "early-one", "1.0"),
        make_wheel(tmp_path, "early-two", "1.0", payload_size=3 << 20),  # sent in slices
        make_wheel(tmp_path, "early-three", "1.0"),
    ]
    with hostile.interim_answers((200, 400, 200), interims) as server:
        report = upload(
            wheels,
            server.url,
            credentials=CREDS,
            jobs=1,
            retry=RetryPolicy(attempts=1),
            transport=PATHS[path],
        )
        accepted = list(server.accepted)
        posts = [r for r in server.requests if r.method == "POST"]
    statuses = {r.filename: r.status for r in report.results}
    uploaded = sorted(name for name, status in statuses.items() if status is FileStatus.UPLOADED)
    failed = [r for r in report.results if r.status is FileStatus.FAILED]
    assert len(posts) == 3  # one POST per file: nothing was resent
    assert sorted(accepted) == uploaded and len(accepted) == 2
    assert len(failed) == 1 and failed[0].http_status == 400
    assert failed[0].filename not in accepted
    assert all(p.expects_continue is (path == "expect") for p in posts)


def test_answers_stay_in_step_on_one_connection(tmp_path: Path) -> None:
    """On one kept-alive connection, each request reads its own answer, not the one before."""
    wheel = make_wheel(tmp_path, "step", "1.0")
    dist = Distribution.open(wheel)
    body = MultipartBody(dist.form_fields(), path=wheel, filename=wheel.name, size=dist.size)
    with (
        hostile.interim_answers((200, 400, 201), (103, 102)) as server,
        Transport(TransportOptions(timeout=5.0)) as transport,
    ):
        results = [
            finishes(lambda: transport.post_file(server.url, body, authorization=AUTH))
            for _ in range(3)
        ]
        page = finishes(lambda: transport.get(server.url))
        connections = server.connections
    texts = [getattr(r, "response", None) for r in results]
    assert [t.status for t in texts if t is not None] == [200, 400, 201]
    assert [t.text() for t in texts if t is not None] == [
        "answer 200 to upload #1",
        "answer 400 to upload #2",
        "answer 201 to upload #3",
    ]
    assert all(getattr(r, "body_complete", False) for r in results)
    assert getattr(page, "status", None) == 404
    assert connections == 1  # kept alive throughout: nothing was left unread on it


def test_an_unasked_101_is_a_broken_answer(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "switch", "1.0")
    dist = Distribution.open(wheel)
    body = MultipartBody(dist.form_fields(), path=wheel, filename=wheel.name, size=dist.size)
    answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"
    with hostile.raw_answer(answer) as server, Transport(TransportOptions(timeout=5.0)) as t:
        error = finishes(lambda: t.post_file(server.url, body, authorization=AUTH))
    assert isinstance(error, TransportError)
    assert error.body_sent and error.retryable
