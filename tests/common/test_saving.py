"""saving_run: a signal waits for the save to end, and one saver holds the lock at a time."""
import os
import signal
import subprocess
import sys
import textwrap

from common.saving import saving_run


def test_a_signal_during_the_save_waits_for_its_end(tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with saving_run(tmp_path / "lock") as saving:
        os.kill(os.getpid(), signal.SIGINT)          # would raise KeyboardInterrupt here
        os.kill(os.getpid(), signal.SIGTERM)
        (tmp_path / "saved").write_text("whole")
    assert saving.signal == "SIGINT" and (tmp_path / "saved").read_text() == "whole"
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_a_second_saver_waits_for_the_first(tmp_path):
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from common.saving import saving_run
        with saving_run(Path({str(tmp_path / 'lock')!r})):
            print("in", flush=True)
            time.sleep(1.5)
            Path({str(tmp_path / 'order')!r}).open("a").write("first;")
    """)
    first = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert first.stdout.readline() == "in\n"
    with saving_run(tmp_path / "lock"):
        (tmp_path / "order").open("a").write("second;")
    first.wait()
    assert (tmp_path / "order").read_text() == "first;second;"


def test_waiting_for_another_save_is_said(tmp_path):
    import fcntl

    fd = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)                  # another run is saving
    code = textwrap.dedent(f"""
        from pathlib import Path
        from common.saving import saving_run
        with saving_run(Path({str(tmp_path / 'lock')!r})):
            print("saved")
    """)
    waiter = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert waiter.stderr.readline().startswith("waiting for another run to finish saving")
    os.close(fd)                                    # its save ends
    assert waiter.communicate(timeout=60)[0] == "saved\n"
