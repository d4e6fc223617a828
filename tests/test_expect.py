"""Expect: 100-continue: the registry's verdict before the body, and early answers mid-body.

Bodies above ``expect_threshold`` (1 MiB by default) carry the header; the
hostile loopback servers count the body bytes they actually received.
"""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest
import trustme

from registry_upload import AuthenticationError, Credentials, FileStatus, RetryPolicy, upload
from registry_upload.distribution import Distribution
from registry_upload.testing import FakeRegistry, hostile, make_wheel
from registry_upload.transport import (
    MultipartBody,
    SendResult,
    Transport,
    TransportError,
    TransportOptions,
)
from registry_upload.transport._multipart import SendState as _SendState

from .conftest import CANARY
from .test_hostile_servers import finishes

GOOD = "Basic " + base64.b64encode(f"user:{CANARY}".encode()).decode()
BAD = "Basic " + base64.b64encode(b"user:wrong").decode()
OPTIONS = TransportOptions(timeout=30.0, expect_wait=0.3)


def _body(path: Path) -> MultipartBody:
    dist = Distribution.open(path)
    return MultipartBody(dist.form_fields(), path=path, filename=path.name, size=dist.size)


def _sha256_of(body: MultipartBody) -> str:
    import hashlib

    return hashlib.sha256(b"".join(body.chunks(_SendState()))).hexdigest()


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_wheel(tmp_path_factory.mktemp("big"), "big", "1.0", payload_size=3 << 20)


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_wheel(tmp_path_factory.mktemp("huge"), "huge", "1.0", payload_size=24 << 20)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_wheel(tmp_path_factory.mktemp("small"), "small", "1.0")


def _post(
    transport: Transport, url: str, body: MultipartBody, auth: str
) -> SendResult | BaseException:
    return finishes(lambda: transport.post_file(url, body, authorization=auth))


def test_refused_from_the_headers_sends_no_body(big: Path) -> None:
    body = _body(big)
    with hostile.honour_expect(password=CANARY) as server, Transport(OPTIONS) as transport:
        sent = _post(transport, server.url, body, BAD)
        assert isinstance(sent, SendResult)
        assert sent.response.status == 401
        assert sent.bytes_sent == 0
        assert server.requests[0].expects_continue
        assert server.body_received == 0


def test_continue_then_the_whole_body(big: Path) -> None:
    body = _body(big)
    with hostile.honour_expect(password=CANARY) as server, Transport(OPTIONS) as transport:
        sent = _post(transport, server.url, body, GOOD)
        assert isinstance(sent, SendResult)
        assert sent.response.status == 200
        assert sent.bytes_sent == body.length
        (request,) = server.requests
        assert request.expects_continue
        assert request.body_sha256 == _sha256_of(body)
        assert sent.digests.sha256  # the digests trail the file as usual
        assert not transport._no_expect


def test_small_bodies_do_not_expect(small: Path) -> None:
    body = _body(small)
    with hostile.honour_expect() as server, Transport(OPTIONS) as transport:
        sent = _post(transport, server.url, body, GOOD)
        assert isinstance(sent, SendResult) and sent.response.status == 200
        assert not server.requests[0].expects_continue
        assert server.requests[0].body_sha256 == _sha256_of(body)


def test_server_without_100_is_waited_for_once(big: Path) -> None:
    with hostile.ignore_expect() as server, Transport(OPTIONS) as transport:
        for _ in range(2):
            body = _body(big)
            sent = _post(transport, server.url, body, GOOD)
            assert isinstance(sent, SendResult) and sent.response.status == 200
            assert server.requests[-1].body_sha256 == _sha256_of(body)
        first, second = server.requests
        assert first.expects_continue
        assert not second.expects_continue  # remembered for the host: no second wait


def test_expectation_failed_resends_without_expect(big: Path) -> None:
    body = _body(big)
    with hostile.expectation_failed() as server, Transport(OPTIONS) as transport:
        sent = _post(transport, server.url, body, GOOD)
        assert isinstance(sent, SendResult) and sent.response.status == 200
        refused, accepted = server.requests
        assert refused.expects_continue and refused.body_received == 0
        assert not accepted.expects_continue
        assert accepted.body_sha256 == _sha256_of(body)
        assert sent.bytes_sent == body.length
        sent = _post(transport, server.url, _body(big), GOOD)
        assert isinstance(sent, SendResult) and sent.response.status == 200
        assert len(server.requests) == 3  # no 417 round trip the second time


@pytest.mark.parametrize("expect", [True, False])
def test_early_answer_stops_the_body(huge: Path, expect: bool) -> None:
    """A server that answers 401 from the headers and drains: we stop well before the end."""
    options = OPTIONS if expect else TransportOptions(timeout=30.0, expect_threshold=None)
    body = _body(huge)
    with hostile.reject_then_drain() as server, Transport(options) as transport:
        sent = _post(transport, server.url, body, BAD)
        assert isinstance(sent, SendResult)
        assert sent.response.status == 401
        assert sent.bytes_sent < 4 << 20
        assert server.requests[0].expects_continue is expect
    assert server.body_received < 4 << 20 < body.length
    if expect:
        assert server.body_received == 0


def test_answer_and_close_before_the_body(big: Path) -> None:
    body = _body(big)
    with hostile.reject_then_close() as server, Transport(OPTIONS) as transport:
        sent = _post(transport, server.url, body, BAD)
        assert isinstance(sent, SendResult)
        assert sent.response.status == 401
        assert sent.bytes_sent == 0


def test_answer_and_close_without_expect_is_bounded(huge: Path) -> None:
    body = _body(huge)
    options = TransportOptions(timeout=30.0, expect_threshold=None)
    with hostile.reject_then_close() as server, Transport(options) as transport:
        outcome = _post(transport, server.url, body, BAD)
    # Depending on timing the 401 is read, or the connection reset wins: never a hang,
    # never the whole body.
    if isinstance(outcome, SendResult):
        assert outcome.response.status == 401
        assert outcome.bytes_sent < body.length
    else:
        assert isinstance(outcome, TransportError)
        assert not outcome.body_sent and outcome.bytes_sent < body.length


def test_uploader_never_retries_an_early_401(big: Path) -> None:
    with hostile.reject_then_drain() as server:
        report = finishes(
            lambda: upload(
                [big],
                server.url,
                credentials=Credentials.of("user", "wrong"),
                retry=RetryPolicy(attempts=3),
                transport=OPTIONS,
            )
        )
    assert not isinstance(report, BaseException)
    (result,) = report.results
    assert result.status is FileStatus.FAILED
    assert isinstance(result.error, AuthenticationError)
    assert len(server.requests) == 1
    assert server.body_received == 0


def test_expect_over_tls(big: Path, tmp_path: Path) -> None:
    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    options = TransportOptions(timeout=30.0, expect_wait=5.0, ca_cert=str(bundle))
    server = hostile.HostileServer(hostile.honour_expect(password=CANARY).behaviour)
    server.ssl_context = ctx
    with server, Transport(options) as transport:
        refused = _post(transport, server.url, _body(big), BAD)
        assert isinstance(refused, SendResult) and refused.response.status == 401
        assert refused.bytes_sent == 0
        body = _body(big)
        accepted = _post(transport, server.url, body, GOOD)
        assert isinstance(accepted, SendResult) and accepted.response.status == 200
        assert server.requests[-1].body_sha256 == _sha256_of(body)
        assert not transport._no_expect  # the 100 was seen through TLS, not timed out


def test_expect_through_an_http_proxy(
    big: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FakeRegistry (http.server) sends 100 Continue itself; here it plays the proxy."""
    with FakeRegistry() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.base)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        target = "http://127.0.0.1:9/upload/"
        # plain http through a proxy is in clear: the test allows it explicitly
        report = upload(
            [big], target, credentials=Credentials.of("user", CANARY), allow_insecure=True
        )
        assert report.ok
        assert proxy.posts[0].path == target
        assert proxy.requests[0].headers.get("Expect") == "100-continue"
        assert proxy.stored[big.name][0] == big.read_bytes()


def test_benchmark_script_runs(tmp_path: Path) -> None:
    """benchmarks/bench_expect.py end to end on a small file, so it cannot rot (no timing asserted)."""
    import json
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_expect.py"
    out = tmp_path / "expect.json"
    proc = subprocess.run(
        [sys.executable, str(script), "--size", "2", "--rounds", "1", "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    targets = json.loads(out.read_text())["targets"]
    assert len(targets) == 5
    # the byte counts do not depend on timing: the verdict came before the body
    assert targets["Expect-honouring server, body received on 401"]["value"] == 0


@pytest.mark.parametrize("threshold", [0, None], ids=["expect", "plain"])
def test_an_answer_before_the_whole_body_is_not_a_complete_send(
    tmp_path: Path, threshold: int | None
) -> None:
    """200 after 256 KiB of a 3 MiB body: returned, but ``body_complete`` is false."""
    wheel = make_wheel(tmp_path, "early-ok", "1.0", payload_size=3 << 20)
    dist = Distribution.open(wheel)
    body = MultipartBody(dist.form_fields(), path=wheel, filename=wheel.name, size=dist.size)
    options = TransportOptions(timeout=10.0, expect_threshold=threshold)
    with hostile.answer_early(256 << 10) as server, Transport(options) as transport:
        result = finishes(lambda: transport.post_file(server.url, body, authorization=None))
    assert isinstance(result, SendResult), result
    assert result.response.status == 200
    assert not result.body_complete and result.bytes_sent < body.length
    assert result.response_time == 0.0


def test_response_time_is_the_registrys_think_time(tmp_path: Path) -> None:
    """From the end of the body to the first byte of the answer, not the whole exchange."""
    from registry_upload.testing import DiscardSink

    wheel = make_wheel(tmp_path, "think", "1.0", payload_size=2 << 20)
    dist = Distribution.open(wheel)
    body = MultipartBody(dist.form_fields(), path=wheel, filename=wheel.name, size=dist.size)
    with DiscardSink(delay=0.3) as sink, Transport(TransportOptions(timeout=10.0)) as transport:
        result = finishes(lambda: transport.post_file(sink.url, body, authorization=None))
    assert isinstance(result, SendResult), result
    assert result.body_complete and result.bytes_sent == body.length
    assert 0.28 <= result.response_time < 0.6
