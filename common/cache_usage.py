"""What the cache holds, how big each entry is and when it was last read; removing entries.

    from common.cache_usage import cache_entries, unused_entries, remove_entry
    entries = cache_entries()                    # largest first: CacheEntry(name="generator/smollm2-int4-...", ...)
    for entry in unused_entries(entries, days=30):
        remove_entry(entry)

An entry is one folder or file inside a kind of cache (`cache/generator/smollm2-int4-2dd41e50c423`,
`cache/scores/lm-...jsonl`): what one step built, keyed by the hash of its inputs, so an entry
whose inputs changed is never read again and stays until removed. "Last read" is the newest access
time of the files inside: Linux's default `relatime` mount records a read at most once a day, so an
entry is called unused for N days only when its newest access time is more than N + 1 days old. A
file system mounted `noatime` records no reads: there, nothing can be called unused.

Some folders in the cache are state, not cache: the emulated Pi's device folder holds the versions
deployed to it. Such a folder holds KEEP_MARKER (its first line says what it is), or, made before
the marker existed, a deploy's `<name>/current` link: it is listed, never pruned, and refused by
`remove`.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from common.atomic import pid_alive, temp_sibling
from common.errors import UserError
from common.paths import CACHE_TAG, cache_root, repo_root

DAY_S = 86_400
ATIME_GRAIN_DAYS = 1          # relatime: a read moves the access time only when it is a day old
_WRITER = re.compile(r"^\..+\.tmp-(\d+)-")   # common.atomic's temp folders: .<target>.tmp-<pid>-...
KEEP_MARKER = ".kllm-keep"


@dataclass(frozen=True)
class CacheEntry:
    """One thing in the cache. `name` is relative to the cache root (`kind/entry`)."""
    name: str
    path: Path
    size_bytes: int
    files: int
    last_read: float        # newest access or modification time of a file inside (epoch seconds)
    leftover: bool = False  # the temp folder of a writer that was killed (its process is gone)
    writing: bool = False   # the temp folder of a writer still running: never pruned, whatever its age
    kept: str = ""          # why a folder of state (deployed versions) is never pruned or removed


def cache_entries(root: Path | None = None) -> list[CacheEntry]:
    """Every entry under `root` (default: the cache, KLLM_CACHE honoured), largest first; [] when
    there is no cache yet. A file directly in the root is an entry of its own."""
    root = Path(root or cache_root())
    if root.exists() and not root.is_dir():
        raise UserError(f"the cache {root} is a file, not a folder: check KLLM_CACHE")
    if not root.is_dir():
        return []
    entries = []
    for kind in sorted(root.iterdir()):
        if kind.name == CACHE_TAG:
            continue
        children = sorted(kind.iterdir()) if kind.is_dir() else [kind]   # a kind linked to another disk too
        entries.extend(_measure(root, child) for child in children)
    return sorted(entries, key=lambda e: (-e.size_bytes, e.name))


def check_removable(root: Path) -> Path:
    """`root` if entries may be removed from it; UserError for a folder that is plainly not a cache
    (a repository, the repo itself, a home folder, /, or, KLLM_CACHE naming a folder of its own, one
    without the CACHEDIR.TAG that common.paths.cache_dir writes): a wrong KLLM_CACHE must not prune
    a project or /usr."""
    resolved = Path(root).resolve()
    for why, plain in (("the repository itself", resolved == repo_root().resolve()),
                       ("a home folder", resolved == Path.home().resolve()),
                       ("the file system's root", resolved == Path("/")),
                       ("it holds .git", (resolved / ".git").exists()),
                       (f"it holds no {CACHE_TAG}, which every cache this project makes holds",
                        resolved.is_dir() and resolved != (repo_root() / "cache").resolve()
                        and not (resolved / CACHE_TAG).is_file())):
        if plain:
            raise UserError(f"{root} is not a cache folder ({why}): check KLLM_CACHE; nothing removed")
    return Path(root)


def _measure(root: Path, path: Path) -> CacheEntry:
    size, files, newest = 0, 0, 0.0
    for stat in _file_stats(path):
        size += stat.st_size
        files += 1
        newest = max(newest, stat.st_atime, stat.st_mtime)
    if not files:                            # an empty folder: when it was last changed
        newest = path.lstat().st_mtime
    writer = _WRITER.match(path.name)
    alive = bool(writer) and pid_alive(int(writer.group(1)))
    return CacheEntry(path.relative_to(root).as_posix(), path, size, files, newest,
                      leftover=bool(writer) and not alive, writing=alive, kept=_kept(path))


def _kept(path: Path) -> str:
    """Why the folder is state to keep ("" for cache): KEEP_MARKER's first line, or a deploy's
    `current` link in it or in a folder inside (a device folder from before the marker)."""
    if path.is_symlink() or not path.is_dir():
        return ""
    try:
        return (path / KEEP_MARKER).read_text(encoding="utf-8", errors="replace").strip().splitlines()[0] or "kept"
    except (OSError, IndexError):
        pass
    try:
        if (path / "current").is_symlink() or any((child / "current").is_symlink() for child in path.iterdir()
                                                   if child.is_dir()):
            return "it holds deployed versions (a <name>/current link)"
    except OSError:
        pass
    return ""


def _file_stats(path: Path):
    """lstat of every file under `path` (or of `path` itself). Folders' own access times are left
    out: listing a folder, as this does, counts as reading it."""
    if path.is_symlink() or not path.is_dir():
        yield path.lstat()
        return
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                yield os.lstat(os.path.join(folder, name))
            except FileNotFoundError:        # removed while being counted
                continue


def records_reads(root: Path | None = None) -> bool:
    """False when the cache's file system is mounted `noatime` (reads leave no trace)."""
    root = Path(root or cache_root())
    probe = next(p for p in (root, *root.parents) if p.exists())
    return not os.statvfs(probe).f_flag & getattr(os, "ST_NOATIME", 0)


def unused_entries(entries: list[CacheEntry], days: int, now: float | None = None) -> list[CacheEntry]:
    """The entries no one has read for `days` days (their newest access time more than days + 1 days
    old, for relatime's day), and the leftovers of killed writers whatever their age; never a
    running writer's temp folder (its files may keep old times: copied or unpacked ones), nor a
    kept folder of state."""
    if days < 1:
        raise UserError(f"--unused-days must be a whole number of days, at least 1, got {days}")
    cutoff = (time.time() if now is None else now) - (days + ATIME_GRAIN_DAYS) * DAY_S
    return [e for e in entries if not e.writing and not e.kept and (e.leftover or e.last_read < cutoff)]


def find_entries(entries: list[CacheEntry], names: list[str]) -> list[CacheEntry]:
    """The entries `names` name (as `kllm cache` lists them: kind/entry); UserError naming the
    first that is not one, or is a running writer's temp folder, so nothing is removed when any
    name is wrong."""
    by_name = {e.name: e for e in entries}
    chosen = []
    for name in names:
        entry = by_name.get(name.strip().rstrip("/"))
        if entry is None:
            raise UserError(f"{name!r} is not a cache entry: give a name as `kllm cache` lists it "
                            "(kind/entry, e.g. generator/smollm2-int4-2dd41e50c423)")
        if entry.kept:
            raise UserError(f"{name} is not cache: {entry.kept}; nothing removed")
        if entry.writing:
            raise UserError(f"{name} is being written by a running process (pid "
                            f"{_WRITER.match(entry.path.name).group(1)}): remove it after that run ends")
        if entry not in chosen:
            chosen.append(entry)
    return chosen


def remove_entry(entry: CacheEntry) -> None:
    """Remove one entry: a folder is first renamed aside, so a removal cut short never leaves a
    half-emptied entry under its own name (the aside folder is a leftover the next prune removes)."""
    path = entry.path
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    if entry.leftover:
        _rmtree(path)
        return
    aside = temp_sibling(path, "removed-")    # a rename only: it works on a disk with no free inode
    os.rename(path, aside)
    _rmtree(aside)


def _rmtree(path: Path) -> None:
    """shutil.rmtree, but an OSError naming the first thing that stayed (an immutable or foreign
    file) instead of ignoring it."""
    failed = []
    shutil.rmtree(path, onerror=lambda _, where, info: failed.append((where, info[1])))
    if failed:
        where, err = failed[0]
        raise OSError(err.errno, f"only partly removed ({getattr(err, 'strerror', None) or err})", where)


def printable(name: str) -> str:
    """`name` for a terminal: control characters and bytes that were not UTF-8 escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name).encode("utf-8", "backslashreplace").decode()


def days_ago(stamp: float, now: float | None = None) -> str:
    """'today', '1 day ago', '12 days ago' (whole days since `stamp`)."""
    days = int(max(0.0, (time.time() if now is None else now) - stamp) // DAY_S)
    return "today" if days == 0 else f"{days} day{'s' if days > 1 else ''} ago"
