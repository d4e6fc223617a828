"""One file's upload (private).

::

    skip-existing: the index lists the same file ───────────────────► skipped
    the file changed since it was inspected ─────────────────────────► failed
    send ──2xx after the whole body ─────────────────────────────────► uploaded
      ├──"exists" → the index tells: skipped / conflict / failed
      ├──4xx ────────────────────────────────────────────────────────► failed
      ├──no answer, cut before the body ended; 429, 503 ──► wait (RetryPolicy), send again
      └──the whole body went out, then no answer, a reset, another 5xx;
         or a 2xx before the body ended: the outcome is unknown
            └─► poll the index (up to RetryPolicy.confirm_timeout)
                  ├──same sha256 ───────────────────────────────────► uploaded (verified)
                  ├──other bytes ───────────────────────────────────► failed (conflict)
                  └──cannot tell ───────────────────────────────────► unconfirmed

A file whose outcome is unknown is never sent again: it is stored at most
once.  The bytes sent are the bytes inspected: the file is looked at (size,
mtime, inode, device) before and after each send, and the sha256 computed
while sending is compared with any earlier one of the same
:class:`~registry_upload.distribution.Distribution` (another attempt or
destination).  Every error is built once, complete, by the diagnosis
(:meth:`~registry_upload.diagnostics.Diagnosis.to_error`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._index import Listed, Listing
from ._retrying import Again, Waits, keep_trying
from ._session import Session
from ._verify import VerifyPolicy, watch_index
from .credentials import CredentialKind
from .distribution import Distribution, Fingerprint, fingerprint_of
from .errors import (
    AuthenticationError,
    DistributionError,
    FileExistsOnRegistryError,
    RegistryUploadError,
    TransportError,
    UploadError,
)
from .results import FileResult, FileStatus, ProgressEvent
from .retry import RetryPolicy, parse_retry_after
from .transport import MultipartBody, SendResult

if TYPE_CHECKING:
    from .diagnostics import Diagnosis

__all__ = [
    "IN_FLIGHT",
    "AttemptOptions",
    "FileUpload",
    "unreachable",
]

logger = logging.getLogger(__name__)

Emit = Callable[[ProgressEvent], None]
Step = FileResult | Again[FileResult]

#: Answers of the registry itself that it did not take the file (rate limited, failed,
#: unavailable): sent again after a wait.  A gateway's 502/504 leave the outcome unknown.
_NOT_TAKEN = frozenset({429, 500, 503})
#: The cadence of the index polls after an attempt whose outcome is unknown.
_CONFIRM = VerifyPolicy()
#: Index reads that could not reach the index, one after another, that end the polls.
_UNREACHABLE_READS = 2


@dataclass(frozen=True, slots=True)
class AttemptOptions:
    retry: RetryPolicy
    skip_existing: bool = False
    blake2: bool = False
    comment: str | None = None
    dry_run: bool = False


# -- the bytes sent are the bytes inspected -------------------------------------------


class _Seen:
    """What the uploads of one Distribution saw: its fingerprint, the sha256 sent."""

    __slots__ = ("fingerprint", "sha256")

    def __init__(self, fingerprint: Fingerprint | None) -> None:
        self.fingerprint = fingerprint
        self.sha256: str | None = None


class _SeenFiles:
    """One record per Distribution object (its attempts and destinations share it).

    Keyed by identity (a Distribution is an immutable value: two opened from one
    path compare equal, and a rebuilt file must not be held to its predecessor);
    the most recent ``limit`` are kept, each holding its Distribution so an id is
    never reused while it is a key."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._records: OrderedDict[int, tuple[Distribution, _Seen]] = OrderedDict()

    def record(self, dist: Distribution) -> _Seen:
        with self._lock:
            found = self._records.get(id(dist))
            if found is not None:
                self._records.move_to_end(id(dist))
                return found[1]
            seen = _Seen(dist.fingerprint)  # as inspected
            self._records[id(dist)] = (dist, seen)
            while len(self._records) > self._limit:
                self._records.popitem(last=False)
            return seen


_SEEN = _SeenFiles()

#: Why a file cut by Ctrl-C has an unknown outcome.
IN_FLIGHT = (
    "interrupted while in flight: the registry may or may not have kept it "
    "(a re-run with skip-existing is safe)"
)
_UNCONFIRMED_HINT = (
    "The registry may or may not have kept this file. Check the project's files, or "
    "re-run with skip-existing (skip_existing=True / --skip-existing): a file already "
    "there counts as done, and one missing is sent."
)
_CHANGED_HINT = (
    "The file changed while being uploaded; rebuild and re-run (do not rebuild or "
    "move files while they are uploaded)."
)


# -- the fail-fast rule of a batch -----------------------------------------------------


def unreachable(result: FileResult) -> str | None:
    """Why no further file of the batch should start: the registry cannot be reached.

    A file ended on a connection that was never made (refused, unresolvable,
    TLS) or that the host dropped before any byte of an answer, after its
    retries (or, for a file whose outcome is unknown, with the index
    unreachable too): every other file would spend its retries the same way.
    """
    error = result.error
    if result.status not in (FileStatus.FAILED, FileStatus.UNCONFIRMED):
        return None
    if isinstance(error, TransportError) and result.http_status is None and _dropped(error):
        return f"not started: the registry could not be reached ({error.message})"
    return None


def _dropped(error: TransportError) -> bool:
    """No connection, or one reset or closed before any byte of an answer (the
    transport's error keeps the socket's error as its context)."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionError) or (
            isinstance(seen, TransportError) and not seen.connected
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# -- one file --------------------------------------------------------------------------


class FileUpload:
    """Upload one distribution: :meth:`run` returns its result."""

    def __init__(
        self,
        session: Session,
        dist: Distribution,
        options: AttemptOptions,
        *,
        emit: Emit | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.session = session
        self.dist = dist
        self.options = options
        self.url = session.repository.url
        self.attempts = 0
        self.bytes_sent = 0
        self._emit_to = emit
        self._waits = Waits(sleep=options.retry.sleep, stop=stop)
        self._started = time.monotonic()
        self._seen = _SEEN.record(dist)
        if self._seen.fingerprint is None:
            self._seen.fingerprint = fingerprint_of(dist.path)

    def run(self) -> FileResult:
        self._emit(ProgressEvent("started", self.dist.filename, total_bytes=self.dist.size))
        result = self._run()
        self._emit(
            ProgressEvent(
                "finished",
                self.dist.filename,
                bytes_sent=self.dist.size if result.bytes_sent else 0,
                total_bytes=self.dist.size,
                attempt=result.attempts,
                result=result,
            )
        )
        logger.debug("%s: %s (%d attempt(s))", self.dist.filename, result.status, result.attempts)
        return result

    def _run(self) -> FileResult:
        if self.options.dry_run:
            return self._result(FileStatus.DRY_RUN, reason="dry run: inspected, nothing sent")
        try:
            if self.options.skip_existing:
                found = self._check_existing()
                if found is not None:
                    return found
            step = keep_trying(
                self._attempt,
                self.options.retry.schedule(),
                self._waits,
                before_wait=self._before_wait,
            )
        except RegistryUploadError as exc:  # e.g. a credential refresh failed mid-batch
            return self._failed(exc)
        if not isinstance(step, Again):
            return step
        if self._waits.stopped:
            return self._interrupted(step.outcome)
        return step.outcome

    def _before_wait(self, attempt: int, step: Again[FileResult], seconds: float) -> None:
        error = step.outcome.error
        logger.debug(
            "%s: attempt %d of %d failed (%s); retrying in %.1f s",
            self.dist.filename,
            attempt,
            self.options.retry.attempts,
            error.message if error is not None else step.outcome.status,
            seconds,
        )

    # -- skip-existing -----------------------------------------------------------

    def _check_existing(self) -> FileResult | None:
        listing = self.session.listing(self.dist, self.sha256, fresh=False)
        if listing.listed is Listed.SAME:
            return self._result(
                FileStatus.SKIPPED,
                sha256=self.sha256(),
                verified=True,
                reason="already on the index with the same sha256",
            )
        if listing.listed is Listed.OTHER:
            return self._failed(self._conflict())
        return None

    # -- one attempt ---------------------------------------------------------------

    def _attempt(self, number: int) -> Step:
        self.attempts = number
        if number > 1:
            self._emit(ProgressEvent("retrying", self.dist.filename, attempt=number))
        creds = self.session.credentials()
        changed = self._file_changed("since it was inspected; nothing was sent")
        if changed is not None:
            return self._failed(changed)
        body = MultipartBody(
            self.dist.form_fields(comment=self.options.comment),
            path=self.dist.path,
            filename=self.dist.filename,
            size=self.dist.size,
            blake2=self.options.blake2,
        )
        try:
            sent = self.session.transport.post_file(
                self.url,
                body,
                authorization=self.session.authorization_for(self.url),
                on_progress=self._progress if self._emit_to is not None else None,
            )
        except TransportError as exc:
            return self._no_answer(exc)
        self.bytes_sent = sent.bytes_sent
        self.session.learn(sent.response)
        whole = sent.bytes_sent >= body.length
        changed = self._sent_other_bytes(sent, whole=whole)
        if changed is not None:
            return self._failed(changed, http_status=sent.response.status)
        if 200 <= sent.response.status < 300:
            if whole:
                return self._uploaded(sent)
            early = (
                f"{self.dist.filename}: {self.url} answered {sent.response.status} "
                f"after {sent.bytes_sent} of {body.length} bytes, before the whole file was sent"
            )
            return self._confirm(UploadError(early, url=self.url), sent)
        return self._refused(sent, whole, job_token=creds is not None and _is_job_token(creds.kind))

    def _no_answer(self, exc: TransportError) -> Step:
        self.bytes_sent = exc.bytes_sent  # the transport's error names the file already
        changed = self._file_changed("while it was sent; the registry may hold what was sent")
        if changed is not None:  # the send broke off because the file changed under it
            return self._failed(changed)
        if exc.body_sent:
            return self._confirm(exc)
        if not exc.retryable:
            return self._failed(exc)
        return Again(self._failed(exc))

    def _uploaded(self, sent: SendResult) -> FileResult:
        return self._result(
            FileStatus.UPLOADED,
            http_status=sent.response.status,
            response_time=sent.response_time,
            sha256=sent.digests.sha256 or None,
        )

    def _refused(self, sent: SendResult, whole: bool, *, job_token: bool) -> Step:
        from .diagnostics import classify

        response = sent.response
        diagnosis = classify(
            response,
            url=self.url,
            filename=self.dist.filename,
            registry=self.session.identify(),  # at most one GET, for an unrecognised registry
            job_token=job_token,
        )
        status = response.status
        error = diagnosis.to_error(path=str(self.dist.path))
        if status in self.options.retry.retry_statuses:
            if whole and status not in _NOT_TAKEN:  # a gateway's error after the whole file
                return self._confirm(error, sent)
            if whole and status >= 500:  # the registry failed: one look before resending
                found = self._settled_on_index(sent)
                if found is not None:
                    return found
            retry_after = parse_retry_after(response.header("retry-after"))
            failed = self._failed(error, response_time=sent.response_time)
            return Again(failed, retry_after)
        if diagnosis.exists:
            return self._exists(diagnosis, status)
        if issubclass(diagnosis.rule.error, AuthenticationError) and self._no_credentials():
            hint = (diagnosis.rule.hint or "") + self.session.no_credentials_note()
            error = diagnosis.to_error(path=str(self.dist.path), hint=hint)
        return self._failed(error, http_status=status, response_time=sent.response_time)

    def _no_credentials(self) -> bool:
        return self.session.credentials() is None

    # -- "it exists" -----------------------------------------------------------------

    def _exists(self, diagnosis: Diagnosis, status: int) -> FileResult:
        """The registry says the filename is taken: the index tells what that means."""
        listed = self.session.listing(self.dist, self.sha256, fresh=True).listed
        # An index may lag (PyPI's is cached): with skip-existing the registry's own
        # "exists" wins unless the index shows other content.
        if self.options.skip_existing and listed is not Listed.OTHER:
            return self._result(
                FileStatus.SKIPPED,
                http_status=status,
                sha256=self.sha256() if listed is Listed.SAME else None,
                verified=listed is Listed.SAME,
                reason=f"the registry says the file exists: {diagnosis.server_message}",
            )
        if listed is Listed.OTHER:
            return self._failed(self._conflict(status), http_status=status)
        hint = None
        if listed is Listed.SAME:
            hint = (
                "The registry already has this very file (same sha256): nothing is lost. "
                "Re-run with skip-existing (skip_existing=True / --skip-existing) to treat "
                "files already there as done."
            )
        error = diagnosis.to_error(path=str(self.dist.path), hint=hint)
        return self._failed(error, http_status=status)

    # -- an outcome the registry did not tell: the index decides ----------------------

    def _confirm(self, error: UploadError, sent: SendResult | None = None) -> FileResult:
        """The attempt may have stored the file: poll the index, never send it again."""
        http_status = sent.response.status if sent is not None else None
        response_time = sent.response_time if sent is not None else None
        if self._waits.stopped:  # Ctrl-C (or a halted batch): no polls, no wait
            return self._result(FileStatus.INTERRUPTED, http_status=http_status, reason=IN_FLIGHT)
        policy = self.options.retry
        budget = min(policy.confirm_timeout, policy.total_timeout - self._elapsed())
        settled = _Settled()
        schedule = _CONFIRM.schedule(budget)
        watched = watch_index(self._read_listing, settled, schedule, self._waits)
        last = watched.last
        logger.debug(
            "%s: the attempt ended without a clear answer (%s); the index says %s after %d poll(s)",
            self.dist.filename,
            error.message,
            last.listed,
            watched.polls,
        )
        found = self._found(last, http_status, response_time)
        if found is not None:
            return found
        return self._unconfirmed(error, last, http_status, index_unreachable=settled.unreachable)

    def _settled_on_index(self, sent: SendResult) -> FileResult | None:
        """One fresh look at the index: the file there (or others in its place) settles it."""
        found = self._read_listing()
        return self._found(found, sent.response.status, sent.response_time)

    def _found(
        self, listing: Listing, http_status: int | None, response_time: float | None
    ) -> FileResult | None:
        if listing.listed is Listed.SAME:
            return self._result(
                FileStatus.UPLOADED,
                http_status=http_status,
                response_time=response_time,
                sha256=self.sha256(),
                verified=True,
                reason="the attempt ended without a clean answer; the index lists the file "
                "with the same sha256, so it was not sent again",
            )
        if listing.listed is Listed.OTHER:
            return self._failed(self._conflict(http_status), http_status=http_status)
        return None

    def _read_listing(self) -> Listing:
        return self.session.listing(self.dist, self.sha256, fresh=True)

    def _unconfirmed(
        self,
        error: UploadError,
        last: Listing,
        http_status: int | None,
        *,
        index_unreachable: bool = False,
    ) -> FileResult:
        """Not sent again; the error says why the outcome is unknown, and what to do.

        When the index could not be reached either, the attempt's own error is
        its cause, so the batch's fail-fast rule (:func:`unreachable`) sees it."""
        if last.listed is Listed.NO_HASH:
            told = "the index lists the file but shows no sha256 to compare"
        else:
            told = last.lookup.problem or "the index does not list it"
        message = f"{error.message}; it was not sent again, and {told}"
        path, hint = str(self.dist.path), _UNCONFIRMED_HINT
        summary: UploadError
        if isinstance(error, TransportError):
            summary = TransportError(
                message,
                body_sent=error.body_sent,
                bytes_sent=error.bytes_sent,
                connected=error.connected,
                url=self.url,
                path=path,
                hint=hint,
            )
            summary.__cause__ = error if index_unreachable else None
        else:
            summary = UploadError(message, status=http_status, url=self.url, path=path, hint=hint)
        return self._result(FileStatus.UNCONFIRMED, http_status=http_status, error=summary)

    def _conflict(self, status: int | None = None) -> UploadError:
        return FileExistsOnRegistryError(
            f"{self.dist.filename}: the registry already has a file with this name but "
            "different content (sha256 differs)",
            status=status,
            url=self.url,
            registry=self.session.profile.id,
            path=str(self.dist.path),
            hint="Bump the version and rebuild: a released filename never changes content.",
        )

    # -- the bytes sent are the bytes inspected ---------------------------------------

    def _file_changed(self, when: str) -> DistributionError | None:
        now = fingerprint_of(self.dist.path)
        seen = self._seen.fingerprint
        if now is None:
            return None  # unreadable: the send reports it
        if now.size == self.dist.size and (seen is None or now == seen):
            return None
        if now.size != self.dist.size:
            how = "shrank" if now.size < self.dist.size else "grew"
            what = f"changed size {when}: it {how} from {self.dist.size} to {now.size} bytes"
        else:
            what = f"changed {when}"
        return self._changed_error(f"the file {what}")

    def _sent_other_bytes(self, sent: SendResult, *, whole: bool) -> DistributionError | None:
        """After a send: the file must be as inspected, and its sha256 as any earlier."""
        changed = self._file_changed("while it was sent; the registry may hold what was sent")
        if changed is not None:
            return changed
        digest = sent.digests.sha256
        if not digest or not whole:
            return None  # answered before the whole file went out: a digest of a part
        known = self._seen.sha256
        if known is None:
            self._seen.sha256 = digest
            return None
        if known == digest:
            return None
        return self._changed_error(
            f"the bytes sent (sha256 {digest}) differ from an earlier upload of this "
            f"file (sha256 {known})"
        )

    def _changed_error(self, what: str) -> DistributionError:
        return DistributionError(
            f"{self.dist.path}: {what}", hint=_CHANGED_HINT, path=str(self.dist.path)
        )

    # -- helpers -------------------------------------------------------------------

    def sha256(self) -> str:
        """The file's sha256: the one sent, or read from disk once."""
        if self._seen.sha256 is None:
            self._seen.sha256 = self.dist.digests(blake2=False).sha256
        return self._seen.sha256

    def _elapsed(self) -> float:
        return time.monotonic() - self._started

    def _progress(self, sent: int, total: int) -> None:
        """Body bytes, reported as the share of the file they stand for (so every event
        of a file counts against the same total, its size)."""
        size = self.dist.size
        done = size if sent >= total else sent * size // max(total, 1)
        self._emit(ProgressEvent("progress", self.dist.filename, done, size, self.attempts))

    def _emit(self, event: ProgressEvent) -> None:
        if self._emit_to is not None:
            self._emit_to(event)

    def _interrupted(self, result: FileResult) -> FileResult:
        if result.error is None:
            return result
        reason = "the batch was interrupted before another attempt"
        return self._failed(result.error, reason=reason, http_status=result.http_status)

    def _failed(
        self,
        error: RegistryUploadError,
        *,
        reason: str | None = None,
        http_status: int | None = None,
        response_time: float | None = None,
    ) -> FileResult:
        return self._result(
            FileStatus.FAILED,
            error=error,
            reason=reason,
            http_status=http_status if http_status is not None else error.status,
            response_time=response_time,
        )

    def _result(
        self,
        status: FileStatus,
        *,
        http_status: int | None = None,
        response_time: float | None = None,
        sha256: str | None = None,
        verified: bool = False,
        reason: str | None = None,
        error: RegistryUploadError | None = None,
    ) -> FileResult:
        return FileResult(
            path=str(self.dist.path),
            filename=self.dist.filename,
            status=status,
            url=self.url,
            registry=self.session.profile.id,
            http_status=http_status,
            bytes_sent=self.bytes_sent,
            attempts=self.attempts,
            elapsed=self._elapsed(),
            response_time=response_time,
            sha256=sha256,
            verified=verified,
            reason=reason,
            error=error,
        )


class _Settled:
    """When the polls after an unknown outcome end: the index lists the file (with
    these bytes or others, or without a hash), or it could not be reached
    ``_UNREACHABLE_READS`` times in a row (a host that drops every connection)."""

    __slots__ = ("misses", "unreachable")

    def __init__(self) -> None:
        self.misses = 0
        self.unreachable = False

    def __call__(self, listing: Listing) -> bool:
        if listing.listed in (Listed.SAME, Listed.OTHER, Listed.NO_HASH):
            return True
        no_answer = listing.listed is Listed.UNKNOWN and listing.lookup.status is None
        self.misses = self.misses + 1 if no_answer else 0
        self.unreachable = self.misses >= _UNREACHABLE_READS
        return self.unreachable


def _is_job_token(kind: CredentialKind) -> bool:
    return kind is CredentialKind.GITLAB_JOB_TOKEN
