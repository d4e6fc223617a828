"""One file's upload as a small state machine (private).

::

    CHECKING ──(skip-existing: same file on the index)──────────────► DONE (skipped)
       │
       ▼
    SENDING ──answered 2xx──────────────────────────────────────────► DONE (uploaded)
       │  ├──answered "exists" → look at the index → skipped / conflict / failed
       │  ├──answered 4xx ──────────────────────────────────────────► DONE (failed)
       │  └──no clean answer after the body went out, or 5xx
       │        └─► VERIFYING on the index ──same sha256──────────► DONE (uploaded, verified)
       │                 └──not there──┐
       ▼                               ▼
    WAITING (retry policy; Retry-After) ──budget spent────────────► DONE (failed)
       └──► SENDING

A file is never sent again while the index might already hold it, and a
stored file is never reported failed.  Every error is built once, complete,
by the diagnosis (:meth:`~registry_upload.diagnostics.Diagnosis.to_error`).
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._session import Session
from .credentials import CredentialKind
from .distribution import Distribution
from .errors import (
    AuthenticationError,
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

__all__ = ["AttemptOptions", "FileUpload", "State"]

logger = logging.getLogger(__name__)

Emit = Callable[[ProgressEvent], None]


class State(enum.Enum):
    """Where a file's upload is; see the module docstring."""

    CHECKING = "checking"
    SENDING = "sending"
    VERIFYING = "verifying"
    WAITING = "waiting"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class AttemptOptions:
    retry: RetryPolicy
    skip_existing: bool = False
    blake2: bool = False
    comment: str | None = None
    dry_run: bool = False


class _Retry:
    """An attempt that asks for another: the error it ended with, and the server's wait."""

    __slots__ = ("error", "retry_after")

    def __init__(self, error: UploadError, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after


class FileUpload:
    """Upload one distribution: :meth:`run` walks the states and returns its result."""

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
        self.state = State.CHECKING
        self.attempts = 0
        self.bytes_sent = 0
        self.ambiguous = False  # an earlier attempt may have stored the file
        self._emit_to = emit
        self._stop = stop or threading.Event()
        self._started = time.monotonic()
        self._sha256: str | None = None
        self._last_error: RegistryUploadError | None = None

    # -- the machine -----------------------------------------------------------

    def run(self) -> FileResult:
        self._emit(ProgressEvent("started", self.dist.filename, total_bytes=self.dist.size))
        result = self._run()
        self.state = State.DONE
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
        if self.options.skip_existing:
            found = self._check_existing()
            if found is not None:
                return found
        try:
            return self._send_until_done()
        except RegistryUploadError as exc:  # e.g. a credential refresh failed mid-batch
            return self._failed(exc)

    def _send_until_done(self) -> FileResult:
        while True:
            if self._stop.is_set() and self._last_error is not None:
                return self._failed(
                    self._last_error, reason="the batch was interrupted before another attempt"
                )
            self.state = State.SENDING
            self.attempts += 1
            if self.attempts > 1:
                self._emit(ProgressEvent("retrying", self.dist.filename, attempt=self.attempts))
            step = self._attempt()
            if isinstance(step, FileResult):
                return step
            self._last_error = step.error
            if not self._wait(step):
                return self._failed(step.error)

    def _wait(self, step: _Retry) -> bool:
        """WAITING: sleep as the policy says; False when the budget is spent."""
        policy = self.options.retry
        delay = policy.delay(
            self.attempts,
            retry_after=step.retry_after,
            elapsed=time.monotonic() - self._started,
        )
        if delay is None:
            return False
        self.state = State.WAITING
        logger.debug(
            "%s: attempt %d of %d failed (%s); retrying in %.1f s",
            self.dist.filename,
            self.attempts,
            policy.attempts,
            step.error.message,
            delay,
        )
        if policy.sleep is time.sleep:
            return not self._stop.wait(delay)  # Ctrl-C ends the wait at once
        policy.sleep(delay)
        return True

    # -- CHECKING ----------------------------------------------------------------

    def _check_existing(self) -> FileResult | None:
        state = self.session.remote_state(self.dist, self.sha256, fresh=False)
        if state == "same":
            return self._result(
                FileStatus.SKIPPED,
                sha256=self.sha256(),
                verified=True,
                reason="already on the index with the same sha256",
            )
        if state == "different":
            return self._failed(self._conflict())
        return None

    # -- SENDING -----------------------------------------------------------------

    def _attempt(self) -> FileResult | _Retry:
        creds = self.session.credentials()
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
        if 200 <= sent.response.status < 300:
            return self._uploaded(sent)
        return self._refused(sent, job_token=creds is not None and _is_job_token(creds.kind))

    def _no_answer(self, exc: TransportError) -> FileResult | _Retry:
        self.bytes_sent = exc.bytes_sent  # the transport's error names the file already
        if not exc.retryable:
            return self._failed(exc)
        if exc.body_sent:
            verified = self._verify()
            if verified is not None:
                return verified
        return _Retry(exc)

    def _uploaded(self, sent: SendResult) -> FileResult:
        return self._result(
            FileStatus.UPLOADED,
            http_status=sent.response.status,
            response_time=sent.response_time,
            sha256=sent.digests.sha256 or None,
        )

    def _refused(self, sent: SendResult, *, job_token: bool) -> FileResult | _Retry:
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
        if status in self.options.retry.retry_statuses:
            if status >= 500:
                verified = self._verify()
                if verified is not None:
                    return verified
            retry_after = parse_retry_after(response.header("retry-after"))
            return _Retry(diagnosis.to_error(path=str(self.dist.path)), retry_after)
        if diagnosis.exists:
            return self._exists(diagnosis, status)
        hint = None
        if issubclass(diagnosis.rule.error, AuthenticationError) and self._no_credentials():
            hint = (diagnosis.rule.hint or "") + self.session.no_credentials_note()
        error = diagnosis.to_error(path=str(self.dist.path), hint=hint)
        return self._failed(error, http_status=status, response_time=sent.response_time)

    def _no_credentials(self) -> bool:
        return self.session.credentials() is None

    # -- "it exists" and VERIFYING --------------------------------------------------

    def _exists(self, diagnosis: Diagnosis, status: int) -> FileResult:
        """The registry says the filename is taken: the index tells what that means."""
        self.state = State.VERIFYING
        state = self.session.remote_state(self.dist, self.sha256, fresh=True)
        if state == "same" and self.ambiguous:
            return self._verified()
        # An index may lag (PyPI's is cached): with skip-existing the registry's own
        # "exists" wins unless the index shows other content.
        if self.options.skip_existing and state != "different":
            return self._result(
                FileStatus.SKIPPED,
                http_status=status,
                sha256=self.sha256() if state == "same" else None,
                verified=state == "same",
                reason=f"the registry says the file exists: {diagnosis.server_message}",
            )
        if state == "different":
            return self._failed(self._conflict(status), http_status=status)
        path = str(self.dist.path)
        if state == "same":
            hint = (
                "The registry already has this very file (same sha256): nothing is lost. "
                "Re-run with skip-existing (skip_existing=True / --skip-existing) to treat "
                "files already there as done."
            )
        elif self.ambiguous:
            hint = (
                "An earlier attempt may have stored this file before its connection failed, "
                "but the index did not confirm it: check the project's files."
            )
        else:
            hint = None
        return self._failed(diagnosis.to_error(path=path, hint=hint), http_status=status)

    def _verify(self) -> FileResult | None:
        """VERIFYING: the attempt may have stored the file; the index decides."""
        self.ambiguous = True
        self.state = State.VERIFYING
        if self.session.remote_state(self.dist, self.sha256, fresh=True) != "same":
            return None
        logger.debug("%s: the attempt ended ambiguously; the index has it", self.dist.filename)
        return self._verified()

    def _verified(self) -> FileResult:
        return self._result(
            FileStatus.UPLOADED,
            sha256=self.sha256(),
            verified=True,
            reason="an attempt ended without a clean answer (a broken connection or a 5xx); "
            "the index has the file with the same sha256, so it was not sent again",
        )

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

    # -- helpers -------------------------------------------------------------------

    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = self.dist.digests(blake2=False).sha256
        return self._sha256

    def _progress(self, sent: int, total: int) -> None:
        """Body bytes, reported as the share of the file they stand for (so every event
        of a file counts against the same total, its size)."""
        size = self.dist.size
        done = size if sent >= total else sent * size // max(total, 1)
        self._emit(ProgressEvent("progress", self.dist.filename, done, size, self.attempts))

    def _emit(self, event: ProgressEvent) -> None:
        if self._emit_to is not None:
            self._emit_to(event)

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
            elapsed=time.monotonic() - self._started,
            response_time=response_time,
            sha256=sha256,
            verified=verified,
            reason=reason,
            error=error,
        )


def _is_job_token(kind: CredentialKind) -> bool:
    return kind is CredentialKind.GITLAB_JOB_TOKEN
