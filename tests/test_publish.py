"""Publishing one release to several destinations: order, preflight, verify, static index, CLI."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from registry_upload import (
    ConfigurationError,
    CredentialChain,
    Credentials,
    DestinationStatus,
    FileExistsOnRegistryError,
    FileStatus,
    NoCredentialsError,
    PublishFailedError,
    PublishInterrupted,
    RetryPolicy,
    UploadError,
    UploadInterrupted,
    VerifyPolicy,
    upload,
)
from registry_upload.cli import main
from registry_upload.cli._parser import parser as _parser
from registry_upload.publish import Publisher, publish
from registry_upload.static_index import StaticIndex
from registry_upload.testing import Action, FakeRegistry, Reply, make_sdist, make_wheel

from .conftest import CANARY, assert_no_canary
from .support import cli

GOOD = Credentials.of("alice", CANARY, source="test")


def each(creds: Credentials, *registries: FakeRegistry) -> dict[str, Credentials]:
    """Credentials belong to a destination: the same ones, given to each."""
    return {registry.url: creds for registry in registries}


NO_RETRY = RetryPolicy(attempts=1)
REFUSED = Action("reply", Reply(403, "Invalid or non-existent authentication information."))
#: Accepted, but not (yet) listed on the index: what a CDN in front of an index looks like.
ACCEPTED_NOT_LISTED = Action("reply", Reply(200, "OK"))


@pytest.fixture
def dists(tmp_path: Path) -> list[Path]:
    out = tmp_path / "dist"
    out.mkdir()
    return [make_wheel(out, "demo.pkg", "1.0"), make_sdist(out, "demo.pkg", "1.0")]


@pytest.fixture
def registries() -> Iterator[tuple[FakeRegistry, FakeRegistry]]:
    with FakeRegistry() as first, FakeRegistry() as second:
        yield first, second


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@dataclass
class FakeTime:
    """A clock that moves only when the code under test sleeps; ``on_sleep`` runs each time."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    on_sleep: Callable[[int], None] | None = None

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))

    def clock(self) -> float:
        return self.now

    def policy(self, timeout: float = 60.0) -> VerifyPolicy:
        return VerifyPolicy(timeout=timeout, sleep=self.sleep, clock=self.clock)


# -- several destinations, in order ---------------------------------------------------


def test_every_destination_gets_every_file_in_order(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    first, second = registries
    served: list[str] = []
    report = publish(
        dists,
        [first.url, tmp_path / "simple", second.url],
        credentials={first.url: GOOD, second.url: GOOD},
        on_destination=lambda d: served.append(d.name),
    )
    assert report.ok and not report.interrupted
    assert served == [first.url, str(tmp_path / "simple"), second.url]
    assert [d.status for d in report] == [DestinationStatus.OK] * 3
    assert [d.registry for d in report][1] == "static-index"
    assert sorted(first.stored) == sorted(second.stored) == sorted(names(dists))
    assert StaticIndex(tmp_path / "simple").files("demo-pkg").keys() == set(names(dists))
    # one upload each: every file opened once, sent once per registry
    assert first.upload_count == second.upload_count == dict.fromkeys(names(dists), 1)
    assert report.counts()["uploaded"] == 6 and len(report.results) == 6
    per_file = report.for_file(dists[0].name)
    assert [name for name, _ in per_file] == served
    static = report.destination(str(tmp_path / "simple"))
    assert all(r.verified and r.status is FileStatus.UPLOADED for r in static)
    assert static.url == (tmp_path / "simple").as_uri() + "/"


def test_a_failed_destination_stops_the_later_ones(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    first, second = registries
    first.default = REFUSED
    report = publish(
        dists,
        [first.url, second.url, tmp_path / "simple"],
        credentials=each(GOOD, first, second),
        retry=NO_RETRY,
    )
    assert not report.ok
    assert [d.status for d in report] == [
        DestinationStatus.FAILED,
        DestinationStatus.NOT_STARTED,
        DestinationStatus.NOT_STARTED,
    ]
    assert second.requests == [], "nothing at all went to the second registry"
    assert not (tmp_path / "simple").exists()
    later = report.destinations[1]
    assert later.reason is not None and f"{first.url} failed" in later.reason
    assert "--keep-going" in later.reason
    assert [r.status for r in later] == [FileStatus.NOT_STARTED] * 2
    assert all(r.reason == later.reason for r in later)
    with pytest.raises(PublishFailedError) as info:
        report.raise_for_failures()
    assert info.value.publish_report is report
    assert info.value.report is report.destinations[0].report
    assert "Check the credentials" in (info.value.hint or "")


def test_keep_going_serves_the_later_destinations(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path]
) -> None:
    first, second = registries
    first.default = REFUSED
    report = publish(dists, [first.url, second.url], credentials=each(GOOD, first, second), retry=NO_RETRY,
                     keep_going=True)  # fmt: skip
    assert [d.status for d in report] == [DestinationStatus.FAILED, DestinationStatus.OK]
    assert sorted(second.stored) == sorted(names(dists))
    assert not report.ok and report.counts()["failed"] == 2 and report.counts()["uploaded"] == 2


def test_credentials_for_every_destination_before_the_first_byte(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path]
) -> None:
    first, second = registries
    nothing = CredentialChain([])  # no provider answers for the second registry
    with pytest.raises(NoCredentialsError) as info:
        publish(dists, [first.url, second.url], credentials={first.url: GOOD, second.url: nothing})
    assert first.requests == [] and second.requests == [], "nothing was sent anywhere"
    assert second.url in info.value.message and "nothing was sent" in info.value.message
    assert "allow_anonymous" in (info.value.hint or "")
    # a registry that needs none may be allowed explicitly
    report = publish(dists, [first.url, second.url], allow_anonymous=True,
                     credentials={first.url: GOOD, second.url: nothing})  # fmt: skip
    assert report.ok
    assert "Authorization" not in second.posts[0].headers
    assert first.posts[0].headers["Authorization"].startswith("Basic ")


def test_an_unusable_file_or_index_stops_the_run_before_anything_is_sent(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    first, _ = registries
    bad = tmp_path / "dist" / "broken-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(UploadError):  # the static index's parent does not exist
        publish(dists, [first.url, tmp_path / "typo" / "simple"], credentials=GOOD)
    with pytest.raises(Exception, match="broken"):
        publish([*dists, bad], [first.url], credentials=GOOD)
    assert first.requests == []


def test_a_destination_given_twice_is_refused(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    first, _ = registries
    with pytest.raises(ConfigurationError, match="given twice"):
        Publisher([first.url, first.url.rstrip("/")], credentials=GOOD)
    with pytest.raises(ConfigurationError, match="given twice"):
        Publisher([tmp_path / "simple", (tmp_path / "simple").as_uri()])
    with pytest.raises(ConfigurationError, match="no destinations"):
        Publisher([])


def test_dry_run_sends_and_writes_nothing_but_checks_everything(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    first, second = registries
    report = publish(dists, [first.url, tmp_path / "simple", second.url],
                     credentials=each(GOOD, first, second),
                     dry_run=True, verify=True)  # fmt: skip
    assert report.ok and report.dry_run
    assert report.counts()["dry-run"] == 6
    assert first.posts == [] and second.posts == []
    assert not (tmp_path / "simple").exists()
    with pytest.raises(NoCredentialsError):  # a dry run resolves credentials too
        publish(dists, [first.url], credentials=CredentialChain([]), dry_run=True)


# -- a static index among the destinations ------------------------------------------------


def test_static_index_existing_files_and_conflicts(dists: list[Path], tmp_path: Path) -> None:
    root = tmp_path / "simple"
    assert publish(dists, [root]).ok
    again = publish(dists, [root])
    assert [r.status for r in again.results] == [FileStatus.FAILED] * 2
    error = again.results[0].error
    assert isinstance(error, FileExistsOnRegistryError)
    assert "skip-existing" in (error.hint or "") and "same sha256" in (error.hint or "")
    skipped = publish(dists, [root], skip_existing=True)
    assert skipped.ok and [r.status for r in skipped.results] == [FileStatus.SKIPPED] * 2
    assert all(r.verified for r in skipped.results)
    # other bytes under the same name: refused like a registry would
    other = tmp_path / "other"
    other.mkdir()
    rebuilt = make_wheel(other, "demo.pkg", "1.0", description="changed")
    conflict = publish([rebuilt], [root], skip_existing=True)
    result = conflict.results[0]
    assert result.status is FileStatus.FAILED and isinstance(
        result.error, FileExistsOnRegistryError
    )
    assert "different content" in result.error.message


def test_static_index_only_needs_no_credentials(dists: list[Path], tmp_path: Path) -> None:
    report = publish(dists, [(tmp_path / "simple").as_uri()], credentials=CredentialChain([]))
    assert report.ok and report.destinations[0].kind.value == "static-index"


# -- verify after upload ------------------------------------------------------------------


def test_verify_waits_until_the_index_lists_the_files(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path]
) -> None:
    registry, _ = registries
    registry.script(ACCEPTED_NOT_LISTED, ACCEPTED_NOT_LISTED)

    def lagging_index(sleeps: int) -> None:
        if sleeps == 3:  # the index catches up after the third wait
            assert upload(dists, registry.url, credentials=GOOD).ok

    fake = FakeTime(on_sleep=lagging_index)
    report = publish(dists, [registry.url], credentials=GOOD, verify=True,
                     verify_policy=fake.policy())  # fmt: skip
    assert report.ok and report.verify
    assert all(r.verified for r in report.results)
    assert fake.sleeps == [1.0, 2.0, 4.0]  # no real waiting: the fake clock moved
    gets = [r for r in registry.requests if r.method == "GET" and "/simple/" in r.path]
    assert {r.path for r in gets} == {"/simple/demo-pkg/"}
    assert all(r.headers.get("Cache-Control") == "max-age=0" for r in gets)
    # the index is on the upload's origin: the credentials may go there
    assert all(r.headers.get("Authorization", "").startswith("Basic ") for r in gets)


def test_a_file_never_listed_fails_with_that_cause(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path]
) -> None:
    registry, _ = registries
    registry.default = ACCEPTED_NOT_LISTED
    fake = FakeTime()
    report = publish(dists, [registry.url], credentials=GOOD, verify=True,
                     verify_policy=fake.policy(timeout=5))  # fmt: skip
    assert not report.ok
    assert sum(fake.sleeps) == 5.0, "one bounded wait for the whole destination"
    for result in report.results:
        assert result.status is FileStatus.FAILED and not result.verified
        assert result.error is not None and "not listed" in result.error.message
        assert "5 s" in result.error.message
        assert "raise the verify timeout" in (result.error.hint or "")
        assert result.reason == result.error.message


def test_a_file_listed_with_other_bytes_fails(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    registry, _ = registries
    other = tmp_path / "other"
    other.mkdir()
    assert upload([make_wheel(other, "demo.pkg", "1.0", description="x")], registry.url).ok
    registry.default = ACCEPTED_NOT_LISTED  # says OK, keeps the old file
    report = publish([dists[0]], [registry.url], credentials=GOOD, verify=True,
                     verify_policy=FakeTime().policy(timeout=3))  # fmt: skip
    result = report.results[0]
    assert result.status is FileStatus.FAILED
    assert isinstance(result.error, FileExistsOnRegistryError)
    assert "with sha256" in result.error.message


def test_verify_sends_no_credentials_to_an_index_on_another_origin(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path]
) -> None:
    registry, mirror = registries
    assert upload(dists, mirror.url).ok  # the mirror lists them
    report = publish(dists, [registry.url], credentials=GOOD, verify=True,
                     index_urls={registry.url: mirror.index_url},
                     verify_policy=FakeTime().policy())  # fmt: skip
    assert report.ok and all(r.verified for r in report.results)
    gets = [r for r in mirror.requests if r.method == "GET"]
    assert gets and all("Authorization" not in r.headers for r in gets)


def test_ctrl_c_while_verifying_reports_what_was_done(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    first, second = registries
    first.default = ACCEPTED_NOT_LISTED

    def interrupt(sleeps: int) -> None:
        raise KeyboardInterrupt

    fake = FakeTime(on_sleep=interrupt)
    with pytest.raises(PublishInterrupted) as info:
        publish(dists, [first.url, second.url], credentials=each(GOOD, first, second), verify=True,
                verify_policy=fake.policy())  # fmt: skip
    assert isinstance(info.value, UploadInterrupted)  # existing handlers still catch it
    partial = info.value.publish_report
    assert partial.interrupted and not partial.ok
    assert [d.status for d in partial] == [
        DestinationStatus.INTERRUPTED,
        DestinationStatus.NOT_STARTED,
    ]
    assert [r.status for r in partial.destinations[0]] == [FileStatus.UPLOADED] * 2
    assert info.value.report is partial.destinations[0].report
    assert second.requests == []


def test_ctrl_c_while_storing_in_a_static_index(dists: list[Path], tmp_path: Path) -> None:
    def on_event(event: Any) -> None:
        if event.kind == "started" and event.filename.endswith(".tar.gz"):
            raise KeyboardInterrupt

    with pytest.raises(PublishInterrupted) as info:
        publish(dists, [tmp_path / "a", tmp_path / "b"], on_event=on_event)
    first, second = info.value.publish_report.destinations
    assert [r.status for r in first] == [FileStatus.UPLOADED, FileStatus.INTERRUPTED]
    assert "skip-existing" in (first.results[1].reason or "")
    assert second.status is DestinationStatus.NOT_STARTED and not (tmp_path / "b").exists()


# -- the report ------------------------------------------------------------------------


def test_json_report_shape(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    first, second = registries
    second.default = REFUSED
    report = publish(dists, [first.url, second.url, tmp_path / "simple"],
                     credentials=each(GOOD, first, second),
                     retry=NO_RETRY)  # fmt: skip
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) == {
        "ok", "interrupted", "dry_run", "verify", "elapsed", "counts", "destinations", "files",
        "results",
    }  # fmt: skip
    assert data["ok"] is False and data["counts"]["total"] == 6
    assert [d["destination"] for d in data["destinations"]] == [
        first.url, second.url, str(tmp_path / "simple"),
    ]  # fmt: skip
    assert [d["status"] for d in data["destinations"]] == ["ok", "failed", "not-started"]
    assert [d["kind"] for d in data["destinations"]] == ["registry", "registry", "static-index"]
    dest = data["destinations"][1]
    assert dest["repository_url"] == second.url and dest["credential_source"] == "test"
    assert dest["results"][0]["error"]["type"] == "AuthenticationError"
    wheel = data["files"][0]
    assert wheel["filename"] == dists[0].name and wheel["ok"] is False
    assert wheel["sha256"] == hashlib.sha256(dists[0].read_bytes()).hexdigest()
    assert [d["status"] for d in wheel["destinations"]] == ["uploaded", "failed", "not-started"]
    assert_no_canary(json.dumps(data), repr(report), str(report))


# -- the CLI -----------------------------------------------------------------------------


ENV = {"REGISTRY_UPLOAD_USERNAME": "alice", "REGISTRY_UPLOAD_PASSWORD": CANARY}


def authed(registry: FakeRegistry) -> str:
    """The registry's URL with its own credentials written in (scoped to it)."""
    return registry.url.replace("http://", f"http://alice:{CANARY}@")


def line(status: str, filename: str, dest: str) -> str:
    """One file's line in a run with several destinations."""
    return f"{status.upper():11} {filename} → {dest} ("


def test_cli_destinations_keep_their_order_across_options() -> None:
    argv = ["upload", "x.whl", "--repository-url", "https://a/", "-r", "testpypi",
            "--repository-url", "file:///srv/simple/", "-r", "./public"]  # fmt: skip
    args = _parser().parse_args(argv)
    assert args.destinations == ["https://a/", "testpypi", "file:///srv/simple/", "./public"]
    assert args.repository == ["testpypi", "./public"]
    single = _parser().parse_args(["upload", "x.whl", "-r", "testpypi"])
    assert single.repository == ["testpypi"] and single.repository_url is None


def test_cli_publishes_to_each_destination_with_one_line_per_file(
    registries: tuple[FakeRegistry, FakeRegistry], dist_dir: Path, tmp_path: Path
) -> None:
    first, second = registries
    simple = tmp_path / "simple"
    done = cli("upload", str(dist_dir), "--repository-url", authed(first), "-r", str(simple),
               "--repository-url", authed(second), "-v")  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"  1. {first.url} (unknown)" in out
    assert f"  2. {simple} {simple.as_uri()}/ (static-index)" in out
    assert "credentials: url" in out
    for dest in (first.url, str(simple), second.url):
        assert line("uploaded", "clipkg-1.0-py3-none-any.whl", dest) in out
        assert line("uploaded", "clipkg-1.0.tar.gz", dest) in out
    assert out.index(f"→ {first.url}") < out.index(f"→ {simple}") < out.index(f"→ {second.url}")
    assert "3 of 3 destination(s) ok" in out
    assert_no_canary(done.stdout, done.stderr)


def test_cli_stops_after_a_failed_destination_unless_keep_going(
    registries: tuple[FakeRegistry, FakeRegistry], dist_dir: Path
) -> None:
    first, second = registries
    first.default = REFUSED
    args = ("upload", str(dist_dir), "--repository-url", authed(first),
            "--repository-url", authed(second), "--attempts", "1")  # fmt: skip
    stopped = cli(*args)
    assert stopped.returncode == 1
    assert line("failed", "clipkg-1.0.tar.gz", first.url) in stopped.stdout
    assert line("not-started", "clipkg-1.0.tar.gz", second.url) in stopped.stdout
    assert "--keep-going" in stopped.stdout and second.requests == []
    going = cli(*args, "--keep-going")
    assert going.returncode == 1
    assert line("uploaded", "clipkg-1.0.tar.gz", second.url) in going.stdout
    assert_no_canary(stopped.stdout, stopped.stderr, going.stdout, going.stderr)


def test_cli_json_dry_run_and_usage_errors(
    registries: tuple[FakeRegistry, FakeRegistry], dist_dir: Path, tmp_path: Path
) -> None:
    first, second = registries
    simple = tmp_path / "simple"
    dry = cli("upload", str(dist_dir), "--repository-url", first.url, "-r", str(simple),
              "--dry-run", "--json", env=ENV)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    data = json.loads(dry.stdout)
    assert data["dry_run"] is True and data["counts"]["dry-run"] == 4
    assert [d["destination"] for d in data["destinations"]] == [first.url, str(simple)]
    assert line("dry-run", "clipkg-1.0.tar.gz", str(simple)) in dry.stderr  # what would go where
    assert first.posts == [] and not simple.exists()
    # no credentials for a registry: exit 2 before anything is sent
    nocreds = cli("upload", str(dist_dir), "--repository-url", first.url,
                  "--repository-url", second.url)  # fmt: skip
    assert nocreds.returncode == 2 and "no credentials" in nocreds.stderr
    assert "--allow-anonymous" in nocreds.stderr and first.posts == []
    ambiguous = cli("upload", str(dist_dir), "--repository-url", first.url, "--repository-url",
                    second.url, "--index-url", first.index_url, env=ENV)  # fmt: skip
    assert ambiguous.returncode == 2 and "--index-url" in ambiguous.stderr
    assert_no_canary(dry.stdout, dry.stderr, nocreds.stderr, ambiguous.stderr)


def test_cli_verify_single_destination(
    registries: tuple[FakeRegistry, FakeRegistry], dist_dir: Path
) -> None:
    first, _ = registries
    done = cli("upload", str(dist_dir), "--repository-url", first.url, "--verify", env=ENV)
    assert done.returncode == 0, done.stderr
    assert "UPLOADED    clipkg-1.0-py3-none-any.whl (" in done.stdout
    assert done.stdout.count(", verified)") == 2


def test_cli_in_process_logs_and_output_never_show_the_secret(
    registries: tuple[FakeRegistry, FakeRegistry],
    dist_dir: Path,
    capsys: pytest.CaptureFixture[str],
    canary_logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = registries
    second.default = REFUSED
    monkeypatch.setenv("HOME", str(dist_dir.parent))
    before = list(logging.getLogger().handlers)
    code = main(["upload", str(dist_dir), "--repository-url", authed(first), "--repository-url",
                 authed(second), "--attempts", "1", "--verify", "--json", "-v"])  # fmt: skip
    for handler in set(logging.getLogger().handlers) - set(before):  # -v's basicConfig
        logging.getLogger().removeHandler(handler)
    assert code == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["destinations"][1]["status"] == "failed"
    records = [r.getMessage() for r in canary_logs.records]
    assert any("credentials from" in m for m in records)
    assert_no_canary(captured.out, captured.err, *records)


@pytest.fixture
def dist_dir(tmp_path: Path) -> Path:
    d = tmp_path / "cli-dist"
    d.mkdir()
    make_wheel(d, "clipkg", "1.0")
    make_sdist(d, "clipkg", "1.0")
    return d


def test_ctrl_c_during_a_registry_upload(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    """A real SIGINT while the first file is in flight: it finishes, nothing else starts."""
    import signal
    import threading

    first, second = registries
    first.delay = 1.0  # the file is still in flight when the main thread takes the signal
    sent: list[str] = []

    def on_event(event: Any) -> None:
        # While the first file is in flight (the main thread waits on the pool by then;
        # a signal while the pool is still starting its first thread escapes it).
        if event.kind == "progress" and event.filename not in sent:
            sent.append(event.filename)
            if len(sent) == 1:  # Ctrl-C a moment later: Linux hands it to the main thread
                threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()

    with pytest.raises(PublishInterrupted) as info:
        publish(dists, [first.url, tmp_path / "simple", second.url],
                     credentials=each(GOOD, first, second),
                jobs=1, on_event=on_event)  # fmt: skip
    partial = info.value.publish_report
    assert [d.status for d in partial] == [
        DestinationStatus.INTERRUPTED,
        DestinationStatus.NOT_STARTED,
        DestinationStatus.NOT_STARTED,
    ]
    # what became of each file there is the pool's business; none of them failed
    statuses = {r.status for r in partial.destinations[0]}
    assert statuses <= {FileStatus.UPLOADED, FileStatus.INTERRUPTED, FileStatus.NOT_STARTED}
    assert second.requests == [] and not (tmp_path / "simple").exists()
    assert partial.destinations[1].reason == "not started: the run was interrupted"
    assert partial.to_dict()["interrupted"] is True


def test_credentials_in_a_destination_url_are_used_and_never_shown(
    registries: tuple[FakeRegistry, FakeRegistry], dists: list[Path], tmp_path: Path
) -> None:
    first, _ = registries
    given = first.url.replace("http://", f"http://alice:{CANARY}@")
    report = publish(dists, [given, tmp_path / "simple"], on_destination=lambda d: None)
    assert report.ok and report.destinations[0].name == first.url
    assert report.destinations[0].report.credential_source == "url"
    assert first.posts[0].headers["Authorization"].startswith("Basic ")
    assert_no_canary(repr(report), str(report), json.dumps(report.to_dict()))


def test_cli_progress_line_on_a_terminal_restarts_per_destination(
    registries: tuple[FakeRegistry, FakeRegistry],
    dist_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    first, second = registries
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = main(["upload", str(dist_dir), "--repository-url", authed(first),
                 "--repository-url", authed(second)])  # fmt: skip
    assert code == 0
    drawn = terminal.getvalue()
    assert drawn.count("2/2 files") == 2, drawn  # each destination's bar ends full
    assert "UPLOADED" in capsys.readouterr().out
