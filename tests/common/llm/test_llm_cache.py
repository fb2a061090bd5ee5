"""The JSONL cache keeps finished rows through crashes, and a killed generation run resumes."""
import json
import os
import signal
import subprocess
import sys
import time

from common.llm import generation
from common.llm.cache import JsonlCache, cached_map, item_key
from common.llm.generation import GenerationConfig, generate
from common.paths import repo_root


def test_torn_last_line_is_ignored_and_later_rows_stay_readable(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    cache = JsonlCache("unit", "m", "fp", {"p": 1})
    cache.put_many(["a", "b"], ["A", "B"])
    with cache.path.open("ab") as f:
        f.write(b'{"key": "c0ffee", "val')  # a write cut short by a kill
    reread = JsonlCache("unit", "m", "fp", {"p": 1})
    assert len(reread) == 2 and reread.get("a") == "A" and "c" not in reread
    reread.put_many(["c"], ["C"])
    assert JsonlCache("unit", "m", "fp", {"p": 1}).get("c") == "C"
    assert JsonlCache("unit", "m", "fp", {"p": 2}).get("a") is None  # other parameters, other file


def test_a_full_disk_keeps_none_of_a_batch_and_names_the_cache_file(tmp_path, monkeypatch):
    import pytest

    import common.atomic
    from common.errors import UserError

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    cache = JsonlCache("unit", "m", "fp", {"p": 1})
    cache.put_many(["a"], ["A"])
    size, real_write = cache.path.stat().st_size, os.write

    def disk_fills(fd, data):               # 10 bytes go in, then the disk is full
        if len(data) < 30:
            raise OSError(28, "No space left on device")
        return real_write(fd, bytes(data[:10]))

    monkeypatch.setattr(common.atomic.os, "write", disk_fills)
    with pytest.raises(UserError, match=rf"cannot append to the cache {cache.path}: No space left on device"):
        cache.put_many(["b", "c"], ["B" * 20, "C" * 20])
    assert cache.path.stat().st_size == size and "b" not in cache         # cut back; nothing half-kept


def test_cached_map_computes_only_missing_batches_and_recomputes_a_partial_batch_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    seen = []

    def upper(batch):
        seen.append(list(batch))
        return [x.upper() for x in batch]

    cache = JsonlCache("unit", "m", "fp", {})
    cache.put_many(["a", "b", "c"], ["A", "B", "C"])  # batches [a,b] done, [c,d] partly, [e] missing
    out = cached_map(cache, ["a", "b", "c", "d", "e", "a"], upper, batch_size=2, progress=False)
    assert out == ["A", "B", "C", "D", "E", "A"]
    assert seen == [["c", "d"], ["e"]]
    lines = cache.path.read_text().splitlines()
    assert len(lines) == 5  # c was not appended twice


def _rows(path):
    good = []
    for line in path.read_bytes().splitlines():
        try:
            good.append(json.loads(line))
        except ValueError:
            pass
    return good


PROMPTS = [f"Give one fact about the number {i}." for i in range(16)]   # room to be killed after 2 rows
CONFIG = GenerationConfig(max_new_tokens=3, batch_size=2, temperature=0.9, top_p=0.95, seed=7)
SCRIPT = f"""
from common.llm.generation import GenerationConfig, generate
generate("smollm2", {PROMPTS!r}, GenerationConfig(**{CONFIG.__dict__!r}), progress=False)
"""


def test_killed_generation_resumes_without_redoing_or_losing_rows(own_cache, monkeypatch, tmp_path):
    files = own_cache / "generations"
    env = {**os.environ, "PYTHONPATH": str(repo_root())}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, cwd=repo_root())
    deadline = time.time() + 120
    path = None
    while time.time() < deadline and proc.poll() is None:
        found = list(files.glob("*.jsonl")) if files.exists() else []
        if found and len(_rows(found[0])) >= 2:
            path = found[0]
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert path is not None
    rows_before = _rows(path)
    finished = len(rows_before)
    assert 2 <= finished < len(PROMPTS)

    calls = []
    real = generation.generate_batch

    def counting(model, tokenizer, prompts, config):
        calls.append(list(prompts))
        return real(model, tokenizer, prompts, config)

    monkeypatch.setattr(generation, "generate_batch", counting)
    resumed = generate("smollm2", PROMPTS, CONFIG, progress=False)
    redone = {p for batch in calls for p in batch}
    kept = {row["key"] for row in rows_before}
    assert not {item_key(p) for p in redone} & kept, "a finished row was generated again"
    assert len(redone) == len(PROMPTS) - finished
    rows_after = _rows(path)
    assert rows_after[:finished] == rows_before and len(rows_after) == len(PROMPTS)

    monkeypatch.setattr(generation, "generate_batch", real)
    uninterrupted = generate("smollm2", PROMPTS, CONFIG, cache=False, progress=False)
    assert resumed == uninterrupted
    assert all(isinstance(t, str) and t for t in resumed)
