import numpy as np
import pytest

from common.errors import UserError
from common.retrieval import DenseIndex, IndexConfig, brute_force_search, embed_passages, embed_queries, recall_at_k


def _unit(rows, dim=32, seed=0):
    x = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_flat_index_matches_numpy_brute_force():
    corpus, queries = _unit(500), _unit(20, seed=1)
    _, faiss_ids = DenseIndex.build(corpus, IndexConfig(kind="flat")).search(queries, 5)
    _, numpy_ids = brute_force_search(corpus, queries, 5)
    assert (faiss_ids == numpy_ids).all()
    assert recall_at_k(faiss_ids, numpy_ids) == 1.0


@pytest.mark.parametrize("kind", ["ivf", "ivfpq"])
def test_approximate_indexes_recall_most_of_the_exact_top_k(kind):
    corpus, queries = _unit(4000), _unit(50, seed=1)
    exact = DenseIndex.build(corpus, IndexConfig(kind="flat")).search(queries, 10)[1]
    index = DenseIndex.build(corpus, IndexConfig(kind=kind, nprobe=64, pq_m=8))
    recall = recall_at_k(index.search(queries, 10)[1], exact)
    assert index.kind == kind
    assert recall > (0.9 if kind == "ivf" else 0.3)      # pq codes lose detail on random vectors


def test_unknown_index_kind_is_a_user_error():
    with pytest.raises(UserError):
        DenseIndex.build(_unit(10), IndexConfig(kind="hnsw"))


def test_embeddings_are_cached_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))   # models convert nothing for an encoder
    texts = ["Plants take in carbon dioxide.", "Mars is the red planet.", "The heart pumps blood."]
    first, hit_first = embed_passages(texts, "minilm", block_size=2, show_progress=False)
    second, hit_second = embed_passages(texts, "minilm", block_size=2, show_progress=False)
    assert (hit_first, hit_second) == (False, True)
    assert np.allclose(first, second) and first.shape == (3, 384)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    query = embed_queries(["which planet is red"], "minilm")
    assert int(np.argmax(first @ query[0])) == 1


def test_encoding_at_a_sequence_limit_leaves_the_shared_model_as_it_was():
    from common.models import shared_sentence_encoder
    from common.retrieval.dense import embed_queries

    model = shared_sentence_encoder("minilm")
    before = model.max_seq_length
    embed_queries(["a short text"], max_seq_length=before // 2)
    assert model.max_seq_length == before
