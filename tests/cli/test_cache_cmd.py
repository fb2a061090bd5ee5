"""`kllm cache`: list, prune by last read, remove by name; bad input is one line."""
from __future__ import annotations

import os
import time

import pytest

from cli.main import main

DAY_S = 86_400


@pytest.fixture
def cache(tmp_path, monkeypatch):
    from common.paths import cache_dir

    root = tmp_path / "cache"
    monkeypatch.setenv("KLLM_CACHE", str(root))
    cache_dir()                                  # the folder and its CACHEDIR.TAG, as any run makes them
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
    assert "scores/lm.jsonl" not in out and "(1 more not shown)" in out


def test_a_folder_without_the_cache_tag_is_never_pruned(tmp_path, monkeypatch, capsys):
    usr = tmp_path / "usr"
    (usr / "lib").mkdir(parents=True)
    (usr / "lib" / "libc.so").write_text("x")
    os.utime(usr / "lib" / "libc.so", (1, 1))
    monkeypatch.setenv("KLLM_CACHE", str(usr))
    assert main(["cache", "prune", "--unused-days", "1", "--dry-run"]) == 2
    assert "is not a cache folder (it holds no CACHEDIR.TAG" in capsys.readouterr().err
    assert main(["cache"]) == 0                               # listing it is harmless
    assert "lib/libc.so" in capsys.readouterr().out


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


def test_prune_on_a_noatime_file_system_takes_only_killed_runs_leftovers(cache, capsys, monkeypatch):
    import subprocess
    import sys

    import cli.commands.cache as command

    pid = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                             text=True).stdout)
    cache("generator/old/model.onnx", read_days_ago=40)
    cache(f"generator/.old.tmp-{pid}-x/model.onnx")
    monkeypatch.setattr(command, "records_reads", lambda root: False)
    assert main(["cache", "prune", "--unused-days", "30"]) == 0
    out, err = capsys.readouterr()
    assert "mounted noatime and records no reads" in err and "removed 1 entry" in out
    assert sorted(p.name for p in (cache.root / "generator").iterdir()) == ["old"]


def test_a_folder_that_is_not_a_cache_is_never_pruned(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    for name in (".git/HEAD", "src/a.py"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x")
        os.utime(project / name, (1, 1))
    monkeypatch.setenv("KLLM_CACHE", str(project))
    for argv in (["cache", "prune", "--unused-days", "1"], ["cache", "remove", "src/a.py"]):
        assert main(argv) == 2
        assert "is not a cache folder (it holds .git): check KLLM_CACHE; nothing removed" in capsys.readouterr().err
    assert (project / "src" / "a.py").exists() and (project / ".git" / "HEAD").exists()
    monkeypatch.chdir(project)
    monkeypatch.setenv("KLLM_CACHE", "")                  # empty: the default cache, never the current folder
    assert main(["cache", "--top", "1"]) == 0
    assert " in ." not in capsys.readouterr().out
    monkeypatch.setenv("KLLM_CACHE", str(project / "src" / "a.py"))
    assert main(["cache"]) == 2
    assert "is a file, not a folder: check KLLM_CACHE" in capsys.readouterr().err


def test_an_entry_that_cannot_be_removed_is_one_error_line_and_the_rest_go_on(cache, capsys, monkeypatch):
    import common.cache_usage as usage

    cache("generator/stuck/model.onnx", read_days_ago=40)
    cache("generator/free/model.onnx", read_days_ago=40)
    real = usage.shutil.rmtree

    def rmtree(path, onerror=None):
        if "stuck" in str(path):
            onerror(os.unlink, str(path / "stuck" / "model.onnx"), (PermissionError, PermissionError(1, "Operation not permitted"), None))
            return
        real(path, onerror=onerror)

    monkeypatch.setattr(usage.shutil, "rmtree", rmtree)
    assert main(["cache", "prune", "--unused-days", "30"]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("error: cannot remove generator/stuck: only partly removed (Operation not permitted): ")
    assert err.count("\n") == 1
    assert "removed generator/free" in out and "removed 1 entry, 2 KB from" in out and "1 could not be removed" in out


def test_a_name_with_a_newline_stays_on_its_row(cache, capsys):
    cache("scores/two\nlines.jsonl")
    assert main(["cache"]) == 0
    assert "scores/two\\nlines.jsonl" in capsys.readouterr().out.splitlines()[1]


def test_the_emulated_pis_deployments_are_listed_kept_and_never_pruned(cache, capsys):
    from edge.deploy.emulated import emulated_device_dir

    cache("emulated-pi/device/prompt-recovery/versions/v1/config.json", read_days_ago=40)
    emulated_device_dir()                                           # any edge command marks it
    marker = cache.root / "emulated-pi/device/.kllm-keep"
    assert marker.is_file()
    os.utime(marker, (time.time() - 40 * DAY_S,) * 2)               # nothing in it read for 40 days
    assert main(["cache"]) == 0
    assert "(kept, never pruned: the emulated Pi's device folder: its deployed versions are kept" in capsys.readouterr().out
    assert main(["cache", "prune", "--unused-days", "30"]) == 0
    out = capsys.readouterr().out
    assert "kept emulated-pi/device" in out and "nothing in" in out
    assert (cache.root / "emulated-pi/device/prompt-recovery/versions/v1/config.json").is_file()
    assert main(["cache", "remove", "emulated-pi/device"]) == 2
    assert "emulated-pi/device is not cache" in capsys.readouterr().err
