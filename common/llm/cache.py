"""Append-only disk cache for LLM work: one JSONL file per (model, parameters), one row per item.

    cache = JsonlCache("generations", model="smollm2", fingerprint=fp, params={"max_new_tokens": 8})
    outputs = cached_map(cache, prompts, compute=lambda batch: [...], batch_size=8)

Rows are appended with one write and an fsync per finished batch, so a run killed midway
keeps every finished batch; a torn last line is ignored on reading. Items are batched by their
position in the full (deduplicated) item list, so a resumed run rebuilds exactly the batches
of the first run, and a batch that was partly written is recomputed whole (same inputs, same
seed, same outputs) with only its missing rows appended.
Appends are locked against each other (common.atomic.append_whole): two runs with the same model
and parameters at once may both compute a row and append it twice, which reads back as one.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from common.atomic import append_whole
from common.paths import cache_dir


def item_key(item: str) -> str:
    return hashlib.sha256(item.encode("utf-8")).hexdigest()


class JsonlCache:
    """Values (any JSON) keyed by an item string, stored under cache_dir(kind)/<model>-<hash>.jsonl."""

    def __init__(self, kind: str, model: str, fingerprint: str, params: dict[str, Any]):
        spec = json.dumps({"model": model, "fingerprint": fingerprint, "params": params}, sort_keys=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(model).name or model)[:40]
        self.path = cache_dir(kind) / f"{slug}-{hashlib.sha256(spec.encode()).hexdigest()[:16]}.jsonl"
        self.spec = spec
        self._values: dict[str, Any] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            for line in f:
                try:
                    row = json.loads(line)
                    self._values[row["key"]] = row["value"]
                except (ValueError, KeyError, TypeError):  # torn line from a killed run
                    continue

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, item: str) -> bool:
        return item_key(item) in self._values

    def get(self, item: str, default: Any = None) -> Any:
        return self._values.get(item_key(item), default)

    def put_many(self, items: Sequence[str], values: Sequence[Any]) -> None:
        """Append rows whole (common.atomic.append_whole: all or none, fsynced)."""
        rows = {item_key(i): v for i, v in zip(items, values, strict=True) if i not in self}
        if not rows:
            return
        text = "".join(json.dumps({"key": k, "value": v}, ensure_ascii=False) + "\n" for k, v in rows.items())
        append_whole(self.path, text.encode("utf-8"), "the cache", "`kllm cache` lists what it holds")
        self._values.update(rows)


def cached_map(
    cache: JsonlCache | None,
    items: Sequence[str],
    compute: Callable[[list[str]], list[Any]],
    batch_size: int = 8,
    progress: bool = True,
    desc: str = "",
) -> list[Any]:
    """compute(batch) -> values for each batch of unique items not yet cached; results in input order."""
    unique = list(dict.fromkeys(items))
    batches = [unique[i : i + batch_size] for i in range(0, len(unique), max(1, batch_size))]
    done: dict[str, Any] = {}
    todo = []
    for batch in batches:
        if cache is not None and all(item in cache for item in batch):
            done.update((item, cache.get(item)) for item in batch)
        else:
            todo.append(batch)
    bar = tqdm(total=len(unique), initial=len(done), desc=desc, disable=not progress, unit="row")
    for batch in todo:
        values = compute(batch)
        if len(values) != len(batch):
            raise RuntimeError(f"compute returned {len(values)} values for {len(batch)} items")
        done.update(zip(batch, values))
        if cache is not None:
            cache.put_many(batch, values)
            done.update((item, cache.get(item)) for item in batch)  # rows kept from a first run win
        bar.update(len(batch))
    bar.close()
    return [done[item] for item in items]
