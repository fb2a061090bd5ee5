"""tfidf_linear: word (1-2) and char_wb (2-5) n-gram TF-IDF of the response into a multinomial
logistic regression; optionally a word block of "question || response".

    out = tfidf_linear(pairs, cfg, folds, seed)   # common.cv.CvOutput: oof (n, 7), test (m, 7)

The vectorizers are fit once on every train and test response (no labels: the vocabulary and
idf only); each fold's regression sees its fit rows' labels only.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from common.cv import CvOutput, cross_validate
from common.vocabulary import capped_vocabulary
from competitions.predict_the_llm import N_TARGETS
from competitions.predict_the_llm.config import PredictConfig
from competitions.predict_the_llm.inputs import Pairs


def full_proba(model, x, n_classes: int = N_TARGETS) -> np.ndarray:
    """predict_proba with a column for every class, even one missing from the fit rows."""
    out = np.zeros((x.shape[0], n_classes))
    out[:, model.classes_] = model.predict_proba(x)
    return out


WORD_FEATURES, CHAR_FEATURES = 100_000, 200_000   # caps per block (most frequent terms kept)


def tfidf_matrix(pairs: Pairs, cfg: PredictConfig):
    """(n_train + n_test, n_terms) sparse TF-IDF of the responses (and question || response)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    capped = [("word", (1, 2), WORD_FEATURES), ("char_wb", (2, 5), CHAR_FEATURES)]
    blocks = [TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True,
                              vocabulary=capped_vocabulary(pairs.all_r, cap, analyzer=analyzer, ngram_range=ngrams,
                                                           min_df=2))
              for analyzer, ngrams, cap in capped]
    texts = [pairs.all_r, pairs.all_r]
    if cfg.tfidf_question:
        blocks.append(TfidfVectorizer(analyzer="word", ngram_range=(1, 1), min_df=2, sublinear_tf=True))
        texts.append([f"{q} || {r}" for q, r in zip(pairs.all_q, pairs.all_r)])
    return sp.hstack([vec.fit_transform(t) for vec, t in zip(blocks, texts)]).tocsr()


def tfidf_linear(pairs: Pairs, cfg: PredictConfig, folds: np.ndarray, seed: int, progress: bool = True) -> CvOutput:
    from sklearn.linear_model import LogisticRegression

    x = tfidf_matrix(pairs, cfg)
    x_train, x_test = x[: pairs.n_train], x[pairs.n_train:]

    def fit_predict(fit_rows, held_rows, fold):
        model = LogisticRegression(C=cfg.tfidf_c, max_iter=3000, random_state=seed)
        model.fit(x_train[fit_rows], pairs.y[fit_rows])
        return full_proba(model, x_train[held_rows]), full_proba(model, x_test)

    return cross_validate(fit_predict, folds, desc="cv tfidf_linear", show_progress_bar=progress)
