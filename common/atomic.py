"""Write files and folders so that a crash never leaves half of one behind: temp, then rename.

    with atomic_path(Path("out/submission.csv")) as tmp:
        frame.write_csv(tmp)
    with atomic_dir(Path("cache/models/student")) as tmp:
        model.save_pretrained(tmp)
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from common.errors import UserError

try:
    import fcntl
except ImportError:  # not POSIX: appends still happen in one write each
    fcntl = None


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str = ""):
    """Yield a temp path beside `target` (`.<name>.tmp-<pid>-...`, which `kllm cache prune` takes
    once that process is gone); on success rename it onto target, on error delete it.
    The file gets the mode a plain open() would give it (0666 less the umask), not mkstemp's 0600.
    A `target` that is a symbolic link is written through: the file it names is replaced."""
    target = _writable_target(Path(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(target), suffix=suffix or ".tmp", dir=target.parent)
    except OSError as err:
        check_output_path(target)   # names the reason: a file where a folder should be, no permission, ...
        raise UserError(f"cannot write {target}: {err.strerror or err}") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output_path(path: Path, example: str = "") -> Path:
    """`path` if a file can be written there, else UserError: run before a long job, so a bad
    output path is one line at the start, not a traceback at the end. Creates nothing: the
    nearest existing folder above it is probed (the missing ones are made when the file is written).

        check_output_path(Path("/tmp/out/sub.csv"), example="submission.csv")   # -> the path, or UserError
    """
    path = Path(path)
    target = _writable_target(path, example)
    check_output_folder(target.parent, what=str(path))
    return path


def _writable_target(path: Path, example: str = "") -> Path:
    """The file a write to `path` replaces: through a symbolic link to the file it names (the link
    stays); UserError for a folder, or a device, pipe or socket."""
    if path.is_dir():
        raise UserError(f"{path} is a folder: give a file path" + (f", e.g. {path / example}" if example else ""))
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if target.exists() and not target.is_file():
        raise UserError(f"{path} is not a regular file (a device, pipe or socket): give a file path")
    return target


def check_output_folder(folder: Path, what: str = "") -> Path:
    """`folder` if files can be written in it (it may not exist yet), else UserError; creates nothing.

        check_output_folder(Path("build/edge/x"))   # -> the path, or UserError
    """
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p.is_symlink() or p == p.parent)
    if existing.is_symlink() and not existing.exists():   # mkdir would fail there with "File exists", at the end
        raise UserError(f"cannot write {what or folder}: {existing} is a link to {os.readlink(existing)}, "
                        "which does not exist")
    try:
        if not existing.is_dir():
            raise NotADirectoryError(f"{existing} is a file, not a folder")
        fd, probe = tempfile.mkstemp(prefix=".kllm-probe.", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UserError(f"cannot write {what or folder}: {err.strerror or err}") from None
    return folder


def _umask() -> int:
    mask = os.umask(0o022)   # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def atomic_write_text(target: Path, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


@contextlib.contextmanager
def atomic_dir(target: Path, replace: bool = True, mode: int = 0o755):
    """Yield an empty temp folder beside `target`; on success swap it in for `target`.

        with atomic_dir(Path("cache/models/student")) as tmp:
            model.save_pretrained(tmp)

    On an exception the temp folder is removed and `target` is left as it was. With replace=True
    an existing `target` is moved aside and deleted after the swap; with replace=False an
    existing `target` wins (another process finished first) and the new folder is dropped.
    The temp folder is `.{target.name}.tmp-{pid}-*`: a killed writer leaves it behind, and the
    next `atomic_dir(target)` removes it once that pid is dead (see `clean_stale_dirs`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_dirs(target)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(target), dir=target.parent))
    try:
        os.chmod(tmp, mode)
        yield tmp
        _swap_dir(tmp, target, replace)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _tmp_prefix(target: Path) -> str:
    return f".{target.name}.tmp-{os.getpid()}-"


def temp_sibling(target: Path, tag: str = "") -> Path:
    """A fresh name beside `target` in this module's temp pattern, `.<name>.tmp-<pid>-<tag><random>`:
    what a killed process leaves under it, `clean_stale_dirs` and `kllm cache prune` take. Creates
    nothing (a rename to it needs no free inode, as mkdtemp does).

        temp_sibling(Path("cache/sources/x.deb"), "download-")   # cache/sources/.x.deb.tmp-4242-download-1f2e3d4c
    """
    target = Path(target)
    return target.parent / f"{_tmp_prefix(target)}{tag}{secrets.token_hex(4)}"


def _swap_dir(new: Path, target: Path, replace: bool) -> None:
    if not replace:
        if target.exists():
            return
        try:
            os.rename(new, target)
        except OSError:
            if not target.exists():
                raise                # else another process renamed its copy in first: keep it
        return
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=_tmp_prefix(target) + "old-", dir=target.parent))
        os.replace(target, old / target.name)
    try:
        os.replace(new, target)
    except OSError:
        if old is not None:          # put the old folder back before failing
            with contextlib.suppress(OSError):
                os.replace(old / target.name, target)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def clean_stale_dirs(target: Path) -> int:
    """Remove the temp folders of dead `atomic_dir` writers beside `target`; return how many.

        clean_stale_dirs(Path("cache/models/student"))   # -> 1 after a writer was killed

    A folder whose writer pid is still running is kept: it may be mid-write.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return 0
    named = re.compile(rf"\.{re.escape(target.name)}\.tmp-(\d+)-")
    removed = 0
    for path in target.parent.iterdir():
        found = named.match(path.name)
        if found and path.is_dir() and not pid_alive(int(found.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def pid_alive(pid: int) -> bool:
    """Whether process `pid` may still be running (someone else's counts; a zombie does not)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:          # someone else's process
        return True
    try:  # a killed process its parent has not reaped yet is a zombie: dead, not writing
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def append_whole(path: Path, payload: bytes, what: str, hint: str = "") -> None:
    """Append `payload` (whole lines) to `path`, all or none: under an exclusive lock, after a
    newline that seals a torn last line (a killed writer's), written until every byte is in (a full
    disk takes part of a write without an error) and fsynced. On a failure the file is cut back to
    its size before and a UserError names `what` and the path (hint: what the user can do).

        append_whole(Path("results/runs.jsonl"), b'{"a": 1}\\n', "the results store", "KLLM_RESULTS moves it")
    """
    if not payload:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)   # less the umask, as open() gives
    try:
        if fcntl:
            fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            payload = b"\n" + payload
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError as err:
            os.ftruncate(fd, size)
            raise UserError(f"cannot append to {what} {path}: {err.strerror or err} (nothing of this was kept"
                            f"{'; ' + hint if hint else ''})") from None
    finally:
        os.close(fd)  # closing releases the lock
