"""Token-likelihood member: a local causal LM scores every token of a text; summary statistics
of those log-probabilities (mean, std, percentiles, perplexity) feed a small classifier.
AI text tends to be more predictable (higher mean log-probability, lower spread).

    feats = lm_features(texts, model="smollm2", max_tokens=128)   # (n, 9), cached on disk
    scores = lm_perplexity(train_texts, y, pred_texts, seed=42)   # (len(pred_texts),) in [0, 1]
"""
from __future__ import annotations

import numpy as np

FEATURE_NAMES = ("mean", "std", "p05", "p25", "p50", "p75", "p95", "log_ppl", "log_tokens")


def summarize(logprobs) -> list[float]:
    """Nine statistics of one text's token log-probabilities (an empty text gets zeros)."""
    lp = np.asarray(logprobs, dtype=np.float64)
    if lp.size == 0:
        return [0.0] * len(FEATURE_NAMES)
    pct = np.percentile(lp, [5, 25, 50, 75, 95])
    return [float(lp.mean()), float(lp.std()), *map(float, pct), float(-lp.mean()), float(np.log(lp.size))]


def lm_features(texts, model: str = "smollm2", max_tokens: int = 128, progress: bool = True) -> np.ndarray:
    """(n, 9) features from the first `max_tokens` tokens of each text. The token log-probs are
    cached on disk by common.llm.scoring, keyed by the text's sha256, the model fingerprint and
    max_tokens, so a rerun (or a resumed run) only scores new texts."""
    from common.llm.scoring import token_logprobs

    logprobs = token_logprobs(model, list(texts), batch_size=8, max_length=max_tokens, progress=progress)
    return np.asarray([summarize(lp) for lp in logprobs], dtype=np.float64)


def lm_perplexity(train_texts, y, pred_texts, seed: int = 42, model: str = "smollm2",
                  max_tokens: int = 128) -> np.ndarray:
    """Standardized LM features -> logistic regression; probability of the AI class."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    feats = lm_features(list(train_texts) + list(pred_texts), model=model, max_tokens=max_tokens)
    x_train, x_pred = feats[: len(train_texts)], feats[len(train_texts):]
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, random_state=seed))
    clf.fit(x_train, y)
    return clf.predict_proba(x_pred)[:, 1]
