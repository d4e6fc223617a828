"""Server text never reaches a terminal raw, errors are one line and survive pickling."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from registry_upload import (
    Credentials,
    RedirectError,
    RetryPolicy,
    TransportError,
    UploadFailedError,
    upload,
)
from registry_upload._redact import MASK
from registry_upload.errors import (
    InvalidMetadataError,
    RegistryUploadError,
    TrustedPublishingError,
    UploadError,
)
from registry_upload.results import Finding, Severity
from registry_upload.testing import Action, FakeRegistry, Reply, hostile, make_wheel

SECRET = "Terminal-Canary-5e1f0b77"
# Title change, clear screen, and a fake success line drawn over the real one.
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\r\x1b[2K\u2713 uploaded OK\u202e"
WIRE_ESCAPES = "\x1b]0;pwned\x07\x1b[2J\r\x1b[2K uploaded OK"  # latin-1: fits a header
UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
NO_RETRY = RetryPolicy.never()


def assert_safe(text: str, *, lines: int = 1) -> None:
    assert not UNSAFE.search(text), repr(text)
    assert text.count("\n") < lines, repr(text)
    assert SECRET not in text and SECRET[:12].lower() not in text.lower(), text


def every_text(error: BaseException) -> list[str]:
    return [str(error), repr(error), *(str(v) for v in vars(error).values())]


def assert_safe_pickle(error: BaseException) -> None:
    data = pickle.dumps(error, protocol=0)  # no length bytes that could look like BEL or ESC
    assert not any(c in data for c in (b"\x1b", b"\x07", b"\x9b", b"\x9d", SECRET.encode()))


@pytest.fixture
def held() -> Credentials:
    return Credentials.of("bot", SECRET)


def test_error_fields_are_cleaned_and_redacted(held: Credentials) -> None:
    dirty = f"{ESCAPES} {SECRET}\nsecond line"
    error = RedirectError(
        dirty, location=dirty, hint=dirty, url=dirty, server_message=dirty, status=303
    )
    for text in every_text(error):
        assert_safe(text)
    assert error.location is not None and MASK in error.location
    assert "\u2713 uploaded OK" in error.message  # the words stay, on the same line
    assert_safe_pickle(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.location, copy.hint, copy.status) == (
        RedirectError,
        error.location,
        error.hint,
        303,
    )


def test_trusted_publishing_claims_are_cleaned() -> None:
    error = TrustedPublishingError("refused", code="x\x1b[2J", claims={"sub": f"repo\x07{ESCAPES}"})
    for text in [*every_text(error), str(error.claims)]:
        assert_safe(text)


def test_str_is_one_line_and_the_hint_an_attribute() -> None:
    error = UploadError("a.whl: rejected", hint="Bump the version.")
    assert str(error) == "a.whl: rejected" and error.hint == "Bump the version."
    problems = [
        Finding(code="c", severity=Severity.ERROR, path="a.whl", message=m, field=f)
        for f, m in (("name", "bad"), ("version", "worse"))
    ]
    metadata = InvalidMetadataError("a.whl: 2 problem(s) in METADATA", problems=problems)
    assert metadata.message.count("\n") == 2  # the CLI shows the list under the summary
    assert str(metadata) == "a.whl: 2 problem(s) in METADATA: name: bad; version: worse"


def test_every_error_class_survives_a_pickle_round_trip(tmp_path: Path, held: Credentials) -> None:
    wheel = make_wheel(tmp_path, "pickled", "1.0")
    with FakeRegistry(default=Action("reply", Reply(400, f"no {ESCAPES} {SECRET}"))) as fake:
        with pytest.raises(UploadFailedError) as info:
            upload([wheel], fake.url, credentials=held, retry=NO_RETRY, raise_on_failure=True)
    error = info.value
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is UploadFailedError and str(copy) == str(error)
    assert copy.report.to_dict() == error.report.to_dict()
    assert next(iter(copy.report)).error is not None
    for text in [*every_text(copy), str(copy.report.to_dict())]:
        assert_safe(text, lines=99)
    for cls in RegistryUploadError.__subclasses__():
        assert pickle.loads(pickle.dumps(cls("m", hint="h"))).hint == "h"


def test_redirect_from_a_registry_shows_no_escape_or_secret(
    tmp_path: Path, held: Credentials
) -> None:
    wheel = make_wheel(tmp_path, "moved", "1.0")
    # 8-bit C1 controls (CSI, OSC ... ST) pass an HTTP parser as obs-text: latin-1 U+009B...
    c1 = "\x9b2J\x9d0;pwned\x9c"
    location = f"http://127.0.0.1:9/{c1}/?token={SECRET}"
    reply = Reply(303, "", headers={"Location": location}, reason=f"See Other {c1}")
    with FakeRegistry(default=Action("reply", reply)) as fake:
        report = upload([wheel], fake.url, credentials=held, retry=NO_RETRY)
    error = next(iter(report)).error
    assert isinstance(error, RedirectError)
    for text in [*every_text(error), str(report.to_dict())]:
        assert_safe(text)
    assert_safe_pickle(error)
    assert error.location is not None and error.location.startswith("http://127.0.0.1:9/")
    assert MASK in error.location


def test_invalid_status_line_is_quoted_safely(tmp_path: Path, held: Credentials) -> None:
    wheel = make_wheel(tmp_path, "garbled", "1.0")

    def answer(conn: hostile.Connection) -> None:
        request = conn.read_request()
        if request is not None:
            conn.read_body(request)
            conn.send(f"HTTP/1.1 2{WIRE_ESCAPES}{SECRET}\r\n\r\n".encode("latin-1"))

    with hostile.HostileServer(answer, lifetime=10.0) as server:
        report = upload([wheel], server.url, credentials=held, retry=NO_RETRY, timeout=10)
    error = next(iter(report)).error
    assert isinstance(error, TransportError)
    for text in every_text(error):
        assert_safe(text)


def test_publish_and_interrupt_errors_survive_a_pickle_round_trip(
    tmp_path: Path, held: Credentials
) -> None:
    from registry_upload.errors import UploadInterrupted
    from registry_upload.publish import PublishFailedError, PublishInterrupted, publish

    wheel = make_wheel(tmp_path, "published", "1.0")
    refuse = Action("reply", Reply(400, f"no {SECRET}"))
    with FakeRegistry() as good, FakeRegistry(default=refuse) as bad:
        with pytest.raises(PublishFailedError) as info:
            publish(
                [wheel],
                [good.url, bad.url],
                credentials={good.url: held, bad.url: held},
                retry=NO_RETRY,
                keep_going=True,
                raise_on_failure=True,
            )
    error = info.value
    copy = pickle.loads(pickle.dumps(error))
    assert copy.publish_report.to_dict() == error.publish_report.to_dict()
    assert copy.report.to_dict() == error.report.to_dict()
    assert_safe_pickle(error)
    interrupted = pickle.loads(pickle.dumps(UploadInterrupted(error.report)))
    assert isinstance(interrupted, KeyboardInterrupt)
    assert interrupted.report.to_dict() == error.report.to_dict()
    stopped = pickle.loads(pickle.dumps(PublishInterrupted(error.publish_report)))
    assert stopped.publish_report.to_dict() == error.publish_report.to_dict()
