"""common.cache_usage: the cache's entries, sizes and last reads; what counts as unused; removal."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.cache_usage import (DAY_S, cache_entries, check_removable, days_ago, find_entries, records_reads,
                                remove_entry, unused_entries)
from common.errors import UserError

NOW = time.time()


def put(root, name, size=10, read_days_ago=0.0):
    """A file of `size` bytes at root/name whose last read and write were `read_days_ago` days ago."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    stamp = NOW - read_days_ago * DAY_S
    os.utime(path, (stamp, stamp))
    return path


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_entries_are_each_kinds_children_largest_first_with_their_files(tmp_path):
    put(tmp_path, "generator/int4-aaa/model.onnx", 5000)
    put(tmp_path, "generator/int4-aaa/genai_config.json", 100)
    put(tmp_path, "scores/lm-1.jsonl", 2000)
    put(tmp_path, "loose.txt", 1)
    (tmp_path / "models" / "empty").mkdir(parents=True)
    entries = cache_entries(tmp_path)
    assert [e.name for e in entries] == ["generator/int4-aaa", "scores/lm-1.jsonl", "loose.txt", "models/empty"]
    assert [e.files for e in entries] == [2, 1, 1, 0]
    assert [e.size_bytes for e in entries] == [5100, 2000, 1, 0]
    assert cache_entries(tmp_path / "none") == []


def test_last_read_is_the_newest_file_not_the_folder_that_listing_touched(tmp_path):
    put(tmp_path, "generator/old/a.bin", read_days_ago=40)
    put(tmp_path, "generator/old/b.bin", read_days_ago=50)
    put(tmp_path, "generator/new/a.bin", read_days_ago=40)
    put(tmp_path, "generator/new/deep/b.bin", read_days_ago=2)
    os.utime(tmp_path / "generator" / "old", (NOW, NOW))            # a folder listed today
    by_name = {e.name: e for e in cache_entries(tmp_path)}
    assert by_name["generator/old"].last_read == pytest.approx(NOW - 40 * DAY_S, abs=1)
    assert by_name["generator/new"].last_read == pytest.approx(NOW - 2 * DAY_S, abs=1)
    assert days_ago(by_name["generator/new"].last_read) == "2 days ago"
    assert days_ago(NOW - 1.5 * DAY_S) == "1 day ago" and days_ago(NOW) == "today"


def test_unused_means_older_than_the_days_plus_relatimes_day_and_leftovers_always(tmp_path):
    put(tmp_path, "generator/kept/m.onnx", read_days_ago=30.5)      # may have been read 29.5 days ago
    put(tmp_path, "generator/stale/m.onnx", read_days_ago=32)
    put(tmp_path, "generator/fresh/m.onnx", read_days_ago=0)
    killed = f"generator/.fresh.tmp-{dead_pid()}-x1"
    put(tmp_path, f"{killed}/m.onnx", read_days_ago=0)
    running = f"generator/.fresh.tmp-{os.getpid()}-x2"
    put(tmp_path, f"{running}/m.onnx", read_days_ago=400)   # a writer still running, copying old files
    entries = cache_entries(tmp_path)
    chosen = sorted(e.name for e in unused_entries(entries, days=30, now=NOW))
    assert chosen == sorted([killed, "generator/stale"])
    assert [e.leftover for e in entries if e.name == killed] == [True]
    with pytest.raises(UserError, match="at least 1"):
        unused_entries(entries, days=0)
    with pytest.raises(UserError, match=rf"{running} is being written by a running process \(pid {os.getpid()}\)"):
        find_entries(entries, ["generator/stale", running])


def test_names_are_checked_before_anything_is_removed(tmp_path):
    put(tmp_path, "generator/a/m.onnx")
    put(tmp_path, "scores/s.jsonl")
    entries = cache_entries(tmp_path)
    assert [e.name for e in find_entries(entries, ["generator/a/", "scores/s.jsonl", "generator/a"])] == \
        ["generator/a", "scores/s.jsonl"]
    for bad in ("generator", "../etc", "generator/a/m.onnx", str(tmp_path / "generator" / "a")):
        with pytest.raises(UserError, match="is not a cache entry"):
            find_entries(entries, ["scores/s.jsonl", bad])


def test_removal_takes_folders_files_and_links_but_never_what_a_link_names(tmp_path):
    put(tmp_path, "generator/a/sub/m.onnx")
    put(tmp_path, "scores/s.jsonl")
    outside = put(tmp_path.parent / f"{tmp_path.name}-outside", "keep/m.bin")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "linked").symlink_to(outside.parent)
    for entry in cache_entries(tmp_path):
        remove_entry(entry)
    assert sorted(p.name for p in (tmp_path / "generator").iterdir()) == []     # no aside folder left
    assert not (tmp_path / "scores" / "s.jsonl").exists() and not (tmp_path / "models" / "linked").exists()
    assert outside.exists()


def test_a_noatime_file_system_records_no_reads(tmp_path, monkeypatch):
    real = os.statvfs

    class NoAtime:
        def __init__(self, path):
            self.f_flag = real(path).f_flag | os.ST_NOATIME

    assert records_reads(tmp_path / "not" / "made") is (not real(tmp_path).f_flag & os.ST_NOATIME)
    monkeypatch.setattr(os, "statvfs", NoAtime)
    assert records_reads(tmp_path) is False


def test_a_kind_linked_to_another_disk_lists_its_entries(tmp_path):
    elsewhere = tmp_path / "bigdisk" / "generator"
    put(elsewhere.parent, "generator/int4-aaa/model.onnx", 3000)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "generator").symlink_to(elsewhere)
    entries = cache_entries(tmp_path / "cache")
    assert [(e.name, e.size_bytes) for e in entries] == [("generator/int4-aaa", 3000)]
    remove_entry(entries[0])
    assert list(elsewhere.iterdir()) == [] and (tmp_path / "cache" / "generator").is_symlink()


def test_a_rename_that_fails_leaves_no_temp_folder(tmp_path, monkeypatch):
    put(tmp_path, "generator/a/m.onnx")
    entry = cache_entries(tmp_path)[0]

    def refuse(*_):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "rename", refuse)
    with pytest.raises(PermissionError):
        remove_entry(entry)
    assert [p.name for p in (tmp_path / "generator").iterdir()] == ["a"]


def test_a_disk_with_no_free_inode_can_still_be_freed(tmp_path, monkeypatch):
    import tempfile

    put(tmp_path, "generator/a/m.onnx")
    entry = cache_entries(tmp_path)[0]

    def no_inode(*_, **__):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkdtemp", no_inode)    # making anything new fails; a rename does not
    monkeypatch.setattr(os, "mkdir", no_inode)
    remove_entry(entry)
    assert list((tmp_path / "generator").iterdir()) == []


def test_a_repository_or_the_repo_itself_is_not_a_cache(tmp_path):
    from common.paths import repo_root

    with pytest.raises(UserError, match="it holds no CACHEDIR.TAG"):
        check_removable(tmp_path)
    (tmp_path / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    assert check_removable(tmp_path) == tmp_path
    assert cache_entries(tmp_path) == []                                   # the tag is not an entry
    (tmp_path / ".git").mkdir()
    for root, why in ((tmp_path, "it holds .git"), (repo_root(), "the repository itself"), (Path("/"), "root")):
        with pytest.raises(UserError, match=f"is not a cache folder \\(.*{why}"):
            check_removable(root)


def test_a_temp_file_of_an_atomic_write_is_known_as_a_writers_and_a_killed_ones_as_a_leftover(tmp_path):
    from common.atomic import atomic_path

    killed = f"scores/.s.jsonl.tmp-{dead_pid()}-ab.jsonl"
    put(tmp_path, killed, read_days_ago=0)                                       # a killed run's temp file
    with atomic_path(tmp_path / "scores" / "t.csv", suffix=".csv") as tmp:
        tmp.write_text("half")
        entries = {e.name: e for e in cache_entries(tmp_path)}
        assert entries[f"scores/{tmp.name}"].writing                             # this process, still writing
    entries = {e.name: e for e in cache_entries(tmp_path)}
    assert entries[killed].leftover and "scores/t.csv" in entries
    assert [e.name for e in unused_entries(list(entries.values()), days=30)] == [killed]


def test_a_folder_of_deployed_versions_is_kept_marked_or_not(tmp_path):
    put(tmp_path, "emulated-pi/device/prompt-recovery/versions/v1/config.json", read_days_ago=40)
    (tmp_path / "emulated-pi/device/prompt-recovery/current").symlink_to("versions/v1")
    put(tmp_path, "generations/old.jsonl", read_days_ago=40)
    device = {e.name: e for e in cache_entries(tmp_path)}["emulated-pi/device"]
    assert "deployed versions" in device.kept        # made before the marker: its current link says so
    assert [e.name for e in unused_entries(cache_entries(tmp_path), 30)] == ["generations/old.jsonl"]
    with pytest.raises(UserError, match="emulated-pi/device is not cache: it holds deployed versions"):
        find_entries(cache_entries(tmp_path), ["generations/old.jsonl", "emulated-pi/device"])
    put(tmp_path, "emulated-pi/device2/.kllm-keep", read_days_ago=40).write_text("the team's device folder\n")
    put(tmp_path, "emulated-pi/single/versions/v1/config.json", read_days_ago=40)
    (tmp_path / "emulated-pi/single/current").symlink_to("versions/v1")      # the old single-root layout
    entries = {e.name: e for e in cache_entries(tmp_path)}
    assert entries["emulated-pi/device2"].kept == "the team's device folder"
    assert "deployed versions" in entries["emulated-pi/single"].kept
    assert entries["generations/old.jsonl"].kept == ""
