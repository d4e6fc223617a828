"""status(): a half-uploaded release against a real index, and PyPI's release window."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from registry_upload import UnsupportedDistributionError, upload
from registry_upload.status import (
    RELEASE_WINDOW_DAYS,
    IndexState,
    json_api_for,
    status,
)
from registry_upload.testing import FakeRegistry, LocalRegistry, make_sdist, make_wheel
from registry_upload.transport import Transport, TransportOptions

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.timezone.utc)


def _release(directory: Path) -> list[Path]:
    return [
        make_wheel(directory, "half", "1.0", tag="py3-none-any"),
        make_wheel(directory, "half", "1.0", tag="cp312-cp312-manylinux_2_17_x86_64"),
        make_sdist(directory, "half", "1.0"),
    ]


def test_half_uploaded_release_on_a_real_pypiserver(tmp_path: Path) -> None:
    files = _release(tmp_path / "dist")
    with LocalRegistry(tmp_path / "registry") as registry:
        assert upload(files[:1], registry.url, username="u", password="p").ok
        report = status(tmp_path / "dist", registry.index_url, json_api_url="")
        stored = registry.files()
    assert stored == [files[0].name]
    states = {Path(f.path).name: f.state for f in report.files}
    assert states == {
        files[0].name: IndexState.UPLOADED,
        files[1].name: IndexState.MISSING,
        files[2].name: IndexState.MISSING,
    }
    assert [Path(f.path).name for f in report.missing] == [f.name for f in files[1:]]
    assert not report.complete and not report.releases and not report.problems
    data = report.to_dict()
    assert data["complete"] is False and len(data["files"]) == 3
    assert json.loads(json.dumps(data)) == data


def test_other_bytes_under_an_uploaded_name(tmp_path: Path) -> None:
    first = make_wheel(tmp_path / "first", "half", "1.0")
    rebuilt = make_wheel(tmp_path / "rebuilt", "half", "1.0", payload_size=10)
    with FakeRegistry() as registry:
        upload([first], registry.url)
        report = status(rebuilt, registry.index_url)
    (entry,) = report.files
    assert entry.state is IndexState.DIFFERENT and report.conflicts == (entry,)
    assert entry.index_sha256 != entry.sha256 and entry.index_sha256 is not None


def test_an_unreadable_index_says_so(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "half", "1.0")
    with FakeRegistry() as registry:
        url = registry.index_url
    report = status(wheel, url)  # stopped: nothing listens
    assert [f.state for f in report.files] == [IndexState.UNKNOWN]
    assert report.problems and "cannot read" in report.problems[0]


def test_no_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedDistributionError):
        status(tmp_path, "http://127.0.0.1:9/simple/")


# --- PyPI's release window, from a loopback JSON API ---------------------------------


class _JsonApi(BaseHTTPRequestHandler):
    pages: dict[str, object] = {}
    seen: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(self.path)
        page = self.pages.get(self.path)
        body = json.dumps(page).encode() if page is not None else b"{}"
        self.send_response(200 if page is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def json_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JsonApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _JsonApi.pages, _JsonApi.seen = {}, []
    yield f"http://127.0.0.1:{server.server_port}/pypi"
    server.shutdown()
    server.server_close()


def _uploaded(days_ago: float) -> dict[str, object]:
    when = NOW - dt.timedelta(days=days_ago)
    return {"urls": [{"upload_time_iso_8601": when.isoformat().replace("+00:00", "Z")}]}


@pytest.mark.parametrize(
    ("days_ago", "left", "closed"), [(10.5, 3, False), (13.9, 0, False), (15, 0, True)]
)
def test_days_left_before_the_release_closes(
    tmp_path: Path, json_api: str, days_ago: float, left: int, closed: bool
) -> None:
    files = _release(tmp_path / "dist")
    _JsonApi.pages["/pypi/half/1.0/json"] = _uploaded(days_ago)
    with FakeRegistry() as registry, Transport(TransportOptions(proxy="")) as transport:
        upload(files[:1], registry.url)
        report = status(
            files, registry.index_url, transport=transport, json_api_url=json_api, now=NOW
        )
    (window,) = report.releases
    assert (window.days_left, window.closed) == (left, closed)
    assert window.closes == window.created + dt.timedelta(days=RELEASE_WINDOW_DAYS)  # type: ignore[operator]
    assert _JsonApi.seen == ["/pypi/half/1.0/json"]  # one read per release
    assert window.to_dict()["days_left"] == left


def test_a_release_not_yet_on_pypi_has_the_whole_window(tmp_path: Path, json_api: str) -> None:
    wheel = make_wheel(tmp_path, "fresh", "2.0")
    with FakeRegistry() as registry:
        report = status(wheel, registry.index_url, json_api_url=json_api, now=NOW)
    (window,) = report.releases
    assert window.days_left == RELEASE_WINDOW_DAYS and window.created is None
    assert [f.state for f in report.files] == [IndexState.MISSING]


def test_json_api_is_known_for_pypi_and_testpypi_only() -> None:
    assert json_api_for("https://pypi.org/simple/") == "https://pypi.org/pypi"
    assert json_api_for("https://test.pypi.org/simple/") == "https://test.pypi.org/pypi"
    assert json_api_for("https://example.com/simple/") is None
