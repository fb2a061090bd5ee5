"""The science answerer's retrieval on the device (edge/runtime/retrieval.py): the TF-IDF index
against scikit-learn's, reciprocal rank fusion, and the query and context helpers."""
from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from edge.runtime.retrieval import SparseIndex, query_text, rrf, truncate_words

PASSAGES = ["Plants take in carbon dioxide and release oxygen during photosynthesis.",
            "Mars is called the red planet because of iron oxide on its surface.",
            "Fish breathe with gills, taking oxygen from the water.",
            "The red fox lives in forests and eats small animals."]


def test_sparse_scores_rank_passages_as_the_hosts_tfidf_cosine_does():
    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), stop_words="english")
    matrix = sparse.csc_matrix(vectorizer.fit_transform(PASSAGES))          # (P, V), rows L2-normalized
    terms = vectorizer.get_feature_names_out().tolist()
    index = SparseIndex(terms, vectorizer.idf_, sorted(vectorizer.get_stop_words()), matrix.indptr, matrix.indices,
                        matrix.data.astype(np.float32), len(PASSAGES))
    for query in ("which planet is red", "oxygen oxygen from water", "red planet red fox"):
        host = (vectorizer.transform([query]) @ matrix.T).toarray()[0]        # cosine: the query normalized too
        device = index.scores(query)
        np.testing.assert_allclose(device / np.linalg.norm(device), host / np.linalg.norm(host), atol=1e-6)
        assert index.search(query, 2) == [int(i) for i in np.argsort(-host, kind="stable")[:2] if host[i] > 0]
    assert index.search("nothing shared here", 3) == []        # no positive score: no passage


def test_rrf_sums_reciprocal_ranks_and_skips_missing_ids():
    assert rrf([[3, 1, 2], [1, 4]], top_k=2) == [1, 3]
    assert rrf([[5, -1], [-1, 6]], top_k=5) == [5, 6]                    # -1: a faiss "no result"
    assert rrf([[7, 8]], top_k=1, rrf_k=0.0) == [7]


def test_query_and_context_helpers():
    assert query_text("Which gas?", ["oxygen", "neon"]) == "Which gas? oxygen neon"
    assert truncate_words("one two  three", 2) == "one two"
    assert truncate_words("one two", 5) == "one two"                     # short text kept as is
