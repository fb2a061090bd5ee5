"""The block cache of arrays: a write the disk cannot take is one line naming the file."""
import numpy as np
import pytest

from common.errors import UserError
from common.retrieval.cache import BlockCache


def test_a_full_disk_is_named_with_the_cache_file_not_numpys_byte_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))

    def full_disk(handle, array, *args, **kwargs):
        handle.write(b"\x93NUMPY")                               # a few bytes in, then numpy's own words
        raise OSError("230400 requested and 4064 written")

    cache = BlockCache("embeddings", "k1")
    assert cache.compute(list(range(3)), 2, lambda block: np.ones((len(block), 2))).shape == (3, 2)
    monkeypatch.setattr(np, "save", full_disk)
    with pytest.raises(UserError, match=r"cannot write to the cache .*block_0+\.npy: the disk is full"):
        BlockCache("embeddings", "k2").compute(list(range(3)), 2, lambda block: np.ones((len(block), 2)))
    assert not list((tmp_path / "embeddings" / "k2").glob("*.npy*")) and not list((tmp_path / "embeddings" / "k2").glob(".*"))
