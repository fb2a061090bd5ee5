"""`kllm cache`: list, prune by last read, remove by name; bad input is one line."""
from __future__ import annotations

import os
import time

import pytest

from cli.main import main

DAY_S = 86_400


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("KLLM_CACHE", str(root))
    now = time.time()

    def put(name, size=2048, read_days_ago=0.0):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        os.utime(path, (now - read_days_ago * DAY_S,) * 2)
    put.root = root
    return put


def test_the_list_shows_each_entry_largest_first_and_the_total(cache, capsys):
    cache("generator/smollm2-int4-aaa/model.onnx", 3 * 1024 * 1024, read_days_ago=45)
    cache("scores/lm.jsonl", 4096)
    assert main(["cache"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["entry", "size", "files", "last", "read"]
    assert lines[1].split()[0] == "generator/smollm2-int4-aaa" and "45 days ago" in lines[1]
    assert lines[2].split()[0] == "scores/lm.jsonl" and "today" in lines[2]
    assert lines[-2].startswith("2 entries, 3.0 MB in ")
    assert lines[-1] == "by kind: generator 3.0 MB (1), scores 4 KB (1)"
    assert main(["cache", "--top", "1"]) == 0
    out = capsys.readouterr().out
    assert "scores/lm.jsonl" not in out and "(1 smaller not shown)" in out


def test_an_empty_cache_says_so(cache, capsys):
    assert main(["cache"]) == 0
    assert "is empty" in capsys.readouterr().out


def test_prune_removes_only_what_went_unread_and_dry_run_nothing(cache, capsys):
    cache("generator/old/model.onnx", read_days_ago=40)
    cache("generator/new/model.onnx", read_days_ago=3)
    assert main(["cache", "prune", "--unused-days", "30", "--dry-run"]) == 0
    assert "would remove generator/old (2 KB, last read 40 days ago)" in capsys.readouterr().out
    assert (cache.root / "generator" / "old").exists()
    assert main(["cache", "prune", "--unused-days", "30"]) == 0
    assert "removed 1 entry, 2 KB from" in capsys.readouterr().out
    assert sorted(p.name for p in (cache.root / "generator").iterdir()) == ["new"]
    assert main(["cache", "prune", "--unused-days", "30"]) == 0
    assert "has gone unread for 30 days" in capsys.readouterr().out


def test_remove_by_name_and_a_wrong_name_removes_nothing(cache, capsys):
    cache("generator/a/model.onnx")
    cache("generator/b/model.onnx")
    assert main(["cache", "remove", "generator/a", "generator/nope"]) == 2
    assert "'generator/nope' is not a cache entry" in capsys.readouterr().err
    assert (cache.root / "generator" / "a").exists()
    assert main(["cache", "remove", "generator/a"]) == 0
    assert "removed generator/a (" in capsys.readouterr().out
    assert sorted(p.name for p in (cache.root / "generator").iterdir()) == ["b"]


@pytest.mark.parametrize("argv, message", [
    (["cache", "prune"], "required: --unused-days"),
    (["cache", "prune", "--unused-days", "0"], "--unused-days must be at least 1"),
    (["cache", "prune", "--unused-days", "1.5"], "--unused-days must be a whole number"),
    (["cache", "--top", "-3"], "--top must be at least 1"),
    (["cache", "remove"], "required: KIND/ENTRY"),
])
def test_bad_flags_are_one_line(cache, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_prune_on_a_noatime_file_system_refuses_and_removes_nothing(cache, capsys, monkeypatch):
    import cli.commands.cache as command

    cache("generator/old/model.onnx", read_days_ago=40)
    monkeypatch.setattr(command, "records_reads", lambda root: False)
    assert main(["cache", "prune", "--unused-days", "30"]) == 2
    assert "mounted noatime" in capsys.readouterr().err
    assert (cache.root / "generator" / "old").exists()
