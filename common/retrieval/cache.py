"""A disk cache of numpy arrays computed in blocks, so long work resumes after a crash.

    cache = BlockCache("embeddings", key="3fa9c1...")
    vectors = cache.compute(items, block_size=1024, fn=lambda block: encode(block), desc="embed")
    cache.hits, cache.misses   # blocks read from disk / computed this time

Each block is saved as `<cache_dir(kind)>/<key>/block_<start>.npy` (written atomically), and the
whole result as `<key>.npy` once complete. A second run with the same key reads the whole file.
The key must hash everything the result depends on (inputs, model fingerprint, settings).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from common.atomic import atomic_path
from common.errors import UserError
from common.paths import cache_dir


def _save(path: Path, array: np.ndarray) -> None:
    try:
        with atomic_path(path, suffix=".npy") as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, array)
    except OSError as err:   # numpy's own words on a full disk: "230400 requested and 4064 written"
        reason = "the disk is full" if "requested and" in str(err) else (err.strerror or str(err))
        raise UserError(f"cannot write to the cache {path}: {reason}") from None


class BlockCache:
    """Arrays keyed by content, computed block by block. `complete` says whether the last
    `compute` found the whole result on disk."""

    def __init__(self, kind: str, key: str):
        self.root = cache_dir(kind)
        self.key = key
        self.hits = 0
        self.misses = 0

    @property
    def path(self) -> Path:
        return self.root / f"{self.key}.npy"

    @property
    def complete(self) -> bool:
        return self.path.is_file()

    def load(self) -> np.ndarray | None:
        return np.load(self.path) if self.complete else None

    def compute(self, items: Sequence, block_size: int, fn: Callable[[Sequence], np.ndarray],
                desc: str = "", show_progress: bool = True) -> np.ndarray:
        """fn(block of items) -> array with len(block) rows; the rows of all blocks stacked."""
        if self.complete:
            self.hits += 1
            return np.load(self.path)
        parts_dir = self.root / self.key
        parts_dir.mkdir(parents=True, exist_ok=True)
        starts = list(range(0, len(items), block_size))
        parts = []
        bar = tqdm(total=len(items), desc=desc, disable=not show_progress, unit="item")
        for start in starts:
            block_path = parts_dir / f"block_{start:09d}.npy"
            block = items[start:start + block_size]
            if block_path.is_file():
                self.hits += 1
                part = np.load(block_path)
            else:
                self.misses += 1
                part = np.asarray(fn(block))
                if len(part) != len(block):
                    raise ValueError(f"block function returned {len(part)} rows for {len(block)} items")
                _save(block_path, part)
            parts.append(part)
            bar.update(len(block))
        bar.close()
        result = np.concatenate(parts) if parts else np.zeros((0,))
        _save(self.path, result)
        shutil.rmtree(parts_dir, ignore_errors=True)
        return result
