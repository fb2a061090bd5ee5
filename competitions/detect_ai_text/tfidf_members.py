"""TF-IDF members of the teacher: word and char n-grams whose vocabulary is fit on the texts to
be scored (the unlabeled test texts, as the top Kaggle solutions did), then linear models and
LightGBM trained on the labeled texts.

    scores = tfidf_linear(train_texts, y, pred_texts, seed=42)   # (len(pred_texts),) in [0, 1]
    scores = tfidf_lgbm(train_texts, y, pred_texts, seed=42)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from common.vocabulary import capped_vocabulary


@dataclass
class TfidfConfig:
    """word_ngrams / char_ngrams: n-gram ranges; min_df: a term must occur in this many of the
    vocabulary texts; max_features: cap per analyzer (most frequent kept)."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)
    min_df: int = 2
    max_features: int = 50_000


LGBM_TFIDF = TfidfConfig(max_features=1_500)  # trees need far fewer columns; keeps a fold at seconds


def tfidf_matrices(train_texts, pred_texts, cfg: TfidfConfig | None = None):
    """(X_train, X_pred) with the vocabulary fit on pred_texts only; idf from train + pred."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    cfg = cfg or TfidfConfig()
    blocks_train, blocks_pred = [], []
    for analyzer, ngrams in (("word", cfg.word_ngrams), ("char_wb", cfg.char_ngrams)):
        min_df = cfg.min_df if len(pred_texts) >= 4 * cfg.min_df else 1
        vocab = capped_vocabulary(pred_texts, cfg.max_features, analyzer=analyzer, ngram_range=ngrams,
                                  min_df=min_df, lowercase=True)
        vec = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, vocabulary=vocab,
                              sublinear_tf=True, lowercase=True)
        vec.fit(list(train_texts) + list(pred_texts))
        blocks_train.append(vec.transform(train_texts))
        blocks_pred.append(vec.transform(pred_texts))
    return sp.hstack(blocks_train).tocsr(), sp.hstack(blocks_pred).tocsr()


def _rank01(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return (rankdata(x) - 1) / max(len(x) - 1, 1)


def tfidf_linear(train_texts, y, pred_texts, seed: int = 42) -> np.ndarray:
    """Mean rank of SGD (modified Huber) and multinomial naive Bayes, in [0, 1]."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.naive_bayes import MultinomialNB

    x_train, x_pred = tfidf_matrices(train_texts, pred_texts)
    sgd = SGDClassifier(loss="modified_huber", max_iter=5000, tol=1e-4, alpha=1e-4, random_state=seed)
    sgd.fit(x_train, y)
    nb = MultinomialNB(alpha=0.02).fit(x_train, y)
    return 0.5 * _rank01(sgd.decision_function(x_pred)) + 0.5 * _rank01(nb.predict_proba(x_pred)[:, 1])


def tfidf_lgbm(train_texts, y, pred_texts, seed: int = 42) -> np.ndarray:
    """LightGBM on the same TF-IDF matrix; probability of the AI class."""
    from common.training.trees import lgbm_classifier

    x_train, x_pred = tfidf_matrices(train_texts, pred_texts, LGBM_TFIDF)
    model = lgbm_classifier(seed, n_estimators=120, learning_rate=0.1, num_leaves=31, colsample_bytree=0.3,
                            subsample=0.8, subsample_freq=1, min_child_samples=5, reg_lambda=1.0)
    model.fit(x_train.astype(np.float32), y)
    return model.predict_proba(x_pred.astype(np.float32))[:, 1]
