import numpy as np

from common.retrieval import SparseIndex, reciprocal_rank_fusion

PASSAGES = ["Plants use carbon dioxide in photosynthesis.", "Mars is the red planet.",
            "The heart pumps blood.", "Gills let fish breathe in water."]


def test_tfidf_finds_the_passage_sharing_rare_words():
    scores, ids = SparseIndex.build(PASSAGES).search(["which planet is red", "how do fish breathe"], k=2)
    assert ids[:, 0].tolist() == [1, 3]
    assert (scores[:, 0] >= scores[:, 1]).all()


def test_rrf_prefers_passages_ranked_high_in_both_lists():
    dense = np.array([[5, 1, 2]])
    sparse = np.array([[1, 7, 5]])
    fused = reciprocal_rank_fusion([dense, sparse], top_k=4)
    assert fused[0, :2].tolist() == [1, 5]               # in both lists
    assert set(fused[0, 2:].tolist()) == {2, 7}


def test_rrf_ignores_padding_and_pads_with_minus_one():
    fused = reciprocal_rank_fusion([np.array([[3, -1]])], top_k=3)
    assert fused.tolist() == [[3, -1, -1]]
