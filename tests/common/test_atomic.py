"""atomic_dir: a folder appears whole or not at all, even when its writer is killed."""
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from common.atomic import (atomic_dir, atomic_path, atomic_write_text, check_output_folder, check_output_path,
                           clean_stale_dirs)
from common.errors import UserError

REPO = Path(__file__).resolve().parents[2]
KILLED_WRITER = """
import sys, time
from pathlib import Path
from common.atomic import atomic_dir
with atomic_dir(Path(sys.argv[1])) as tmp:
    (tmp / "half.bin").write_bytes(b"half")
    print(tmp, flush=True)
    time.sleep(120)
"""


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def write(target: Path, text: str, **kwargs) -> None:
    with atomic_dir(target, **kwargs) as tmp:
        (tmp / "v.txt").write_text(text)


def test_success_swaps_the_new_folder_in(tmp_path):
    target = tmp_path / "out"
    write(target, "old")
    (target / "extra.txt").write_text("only in the old folder")
    write(target, "new")
    assert sorted(p.name for p in target.iterdir()) == ["v.txt"]
    assert (target / "v.txt").read_text() == "new"
    assert hidden(tmp_path) == []


def test_exception_leaves_the_old_target_and_no_temp_folder(tmp_path):
    target = tmp_path / "out"
    write(target, "old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_dir(target) as tmp:
            (tmp / "v.txt").write_text("half")
            raise RuntimeError("disk full")
    assert (target / "v.txt").read_text() == "old"
    assert hidden(tmp_path) == []


def test_replace_false_keeps_an_existing_target(tmp_path):
    target = tmp_path / "out"
    write(target, "first", replace=False)
    write(target, "second", replace=False)
    assert (target / "v.txt").read_text() == "first"
    assert hidden(tmp_path) == []


def test_killed_writer_leaves_no_target_and_the_next_write_cleans_up(tmp_path):
    target = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE,
                             text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        child_tmp = Path(child.stdout.readline().strip())
        assert child_tmp.name.startswith(f".out.tmp-{child.pid}-")
        assert clean_stale_dirs(target) == 0, "a live writer's temp folder was removed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    assert not target.exists()
    assert hidden(tmp_path) == [child_tmp.name] and (child_tmp / "half.bin").exists()
    write(target, "after")
    assert (target / "v.txt").read_text() == "after"
    assert hidden(tmp_path) == []


def test_a_written_file_gets_the_umask_mode_not_mkstemps_private_one(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        with atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o640
    assert os.umask(old) == old   # the umask was put back


@pytest.mark.parametrize("where, message", [("folder", "is a folder: give a file path"),
                                            ("afile/x.csv", "afile is a file, not a folder"),
                                            ("gone/sub/x.csv", "gone is a link to .*missing, which does not exist")])
def test_an_unwritable_target_is_one_user_error_naming_why_and_creates_nothing(tmp_path, where, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("x")
    (tmp_path / "gone").symlink_to(tmp_path / "missing")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for check in (lambda: check_output_path(tmp_path / where),
                  lambda: atomic_write_text(tmp_path / where, "text")):
        with pytest.raises(UserError, match=message):
            check()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_checks_create_nothing_and_accept_a_missing_folder(tmp_path):
    target = tmp_path / "new" / "deeper" / "out.csv"
    assert check_output_path(target) == target and check_output_folder(target.parent) == target.parent
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UserError, match="e.g. .*submission.csv"):
        check_output_path(tmp_path, example="submission.csv")


def test_a_link_is_written_through_and_a_pipe_is_refused(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert check_output_path(link) == link
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"          # the link stays; the file it names changed
    os.mkfifo(tmp_path / "pipe.csv")
    for check in (lambda: check_output_path(tmp_path / "pipe.csv"), lambda: atomic_write_text(tmp_path / "pipe.csv", "x")):
        with pytest.raises(UserError, match="is not a regular file"):
            check()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "pipe.csv", "real.csv"]


@pytest.mark.parametrize("failure", [ValueError("half written"), KeyboardInterrupt()])
def test_a_failed_file_write_leaves_the_old_file_and_no_temp_file(tmp_path, failure):
    target = tmp_path / "submission.csv"
    target.write_text("old\n")
    with pytest.raises(type(failure)):
        with atomic_path(target) as tmp:
            tmp.write_text("new, half")
            raise failure
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["submission.csv"]
