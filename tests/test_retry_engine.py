"""The one retry loop: attempts, budget, Retry-After cap, the stop event, the wait seam."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from registry_upload import RetryPolicy
from registry_upload._retrying import Again, Schedule, Waits, keep_trying
from registry_upload._verify import VerifyPolicy


class Recorder(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _always_again(retry_after: float | None = None) -> tuple[list[int], object]:
    calls: list[int] = []

    def attempt(n: int) -> Again[int]:
        calls.append(n)
        return Again(n, retry_after)

    return calls, attempt


def test_attempts_bound_and_retry_after_capped() -> None:
    waits = Recorder()
    calls, attempt = _always_again(retry_after=3600)
    policy = RetryPolicy(attempts=3, max_retry_after=10.0, sleep=waits)
    outcome = keep_trying(attempt, policy.schedule(), Waits(sleep=waits))  # type: ignore[arg-type]
    assert calls == [1, 2, 3] and waits == [10.0, 10.0]
    assert isinstance(outcome, Again) and outcome.outcome == 3


def test_one_attempt_never_waits() -> None:
    waits = Recorder()
    calls, attempt = _always_again()
    keep_trying(attempt, RetryPolicy.never().schedule(), Waits(sleep=waits))  # type: ignore[arg-type]
    assert calls == [1] and waits == []


def test_a_final_outcome_ends_the_loop() -> None:
    outcome = keep_trying(lambda n: n if n == 2 else Again(n), RetryPolicy().schedule(),
                          Waits(sleep=Recorder()))  # fmt: skip
    assert outcome == 2


def test_the_stop_event_ends_a_real_wait_at_once() -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    calls, attempt = _always_again()
    schedule = Schedule(attempts=5, budget=100.0, delay=lambda n: 30.0)
    started = time.monotonic()
    outcome = keep_trying(attempt, schedule, Waits(stop=stop))  # type: ignore[arg-type]
    assert time.monotonic() - started < 5.0
    assert calls == [1] and isinstance(outcome, Again)


def test_a_custom_sleep_keeps_ctrl_c() -> None:
    """A recorder is handed the wait; the stop set meanwhile still ends the loop."""
    stop = threading.Event()
    calls, attempt = _always_again()
    keep_trying(attempt, RetryPolicy(attempts=5).schedule(),  # type: ignore[arg-type]
                Waits(sleep=lambda s: stop.set(), stop=stop))  # fmt: skip
    assert calls == [1]


def test_verify_polls_fit_the_timeout_even_with_a_sleep_that_does_not_wait() -> None:
    schedule = VerifyPolicy(timeout=60).schedule()
    assert schedule.attempts == 10  # polls at 0 1 3 7 15 25 35 45 55 60
    assert VerifyPolicy(timeout=0).schedule().attempts == 1


def test_a_plain_upload_does_not_import_tenacity() -> None:
    code = "import sys, registry_upload, registry_upload.uploader;print('tenacity' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
