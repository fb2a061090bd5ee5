"""The last step of a run, done whole: its submission written and its records appended while a
Ctrl-C or SIGTERM waits, and one run at a time per results store.

    with saving_run() as saving:
        path = write_submission(...)
        records = record_runs(...)
    if saving.signal:          # "SIGINT": it arrived while saving; the run was saved in full
        ...

Without it, Ctrl-C between the submission's rename and the results' append left a submission that
no recorded run wrote (and replaced the one a recorded run did); and two terminals saving to the
same submission file could each record the other's file hash.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:     # not on POSIX: no lock, the deferral still holds
    fcntl = None

from common.results import results_path

DEFERRED = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Saving:
    signal: str | None = None     # the name of a signal that arrived while saving


@contextmanager
def saving_run(lock: Path | None = None):
    """Hold an exclusive lock on `lock` (default: a `.saving.lock` beside the results store), then
    defer SIGINT/SIGTERM (main thread only) for the block. Waiting for another run's save is said,
    and may be interrupted: nothing is saved then."""
    state = Saving()
    lock = Path(lock or results_path().with_name(".saving.lock"))
    fd = None
    try:
        if fcntl:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print("waiting for another run to finish saving its results (Ctrl-C stops this one, unsaved)",
                      file=sys.stderr, flush=True)
                fcntl.flock(fd, fcntl.LOCK_EX)
        previous = {}
        if threading.current_thread() is threading.main_thread():
            def note(signum, frame):
                state.signal = state.signal or signal.Signals(signum).name
            previous = {sig: signal.signal(sig, note) for sig in DEFERRED}
        try:
            yield state
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        if fd is not None:
            os.close(fd)      # releases the lock
