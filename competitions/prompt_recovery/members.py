"""What a predicting member gives the solution, and `nearest_prompt`, the cheap one.

    member = NearestPrompt(rw, cfg, enc)
    guess = member.oof(folds)              # Guess: held-out prompt of every train row, + confidence
    guess = member.inner(folds, k)         # fold k's training rows, each predicted without fold k
    guess = member.test()                  # test rows, fitted on every train row

nearest_prompt: a ridge regression from the (original, rewritten) pair's embeddings (`encoder`:
e(original), e(rewritten), their difference) to the prompt's embedding in the metric encoder's
space, then the training prompt nearest to the predicted embedding; its confidence is that
cosine. The LM members (lm_fewshot, lm_lora) implement the same three methods.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.cv import FoldPlan, cross_validate
from common.retrieval import embed_passages


@dataclass
class Guess:
    """texts: one predicted prompt per row. conf: (n,) how sure the member is (higher = surer),
    or None when it cannot say."""

    texts: list[str]
    conf: np.ndarray | None = None

    def take(self, rows) -> "Guess":
        return Guess([self.texts[i] for i in rows], None if self.conf is None else self.conf[rows])


def oof_guess(predict, folds: np.ndarray, desc: str, progress: bool = False) -> Guess:
    """Out-of-fold guesses through the shared fold loop: predict(fit_rows, held_rows) -> Guess."""
    conf: dict[int, np.ndarray] = {}

    def fit_predict(fit_rows, held_rows, fold):
        guess = predict(fit_rows, held_rows)
        if guess.conf is not None:
            conf[fold] = guess.conf
        return np.asarray(guess.texts, dtype=object), None

    out = cross_validate(fit_predict, folds, desc=desc, show_progress_bar=progress)
    scores = None
    if len(conf) == len(np.unique(folds)):
        scores = np.zeros(len(folds))
        for k, values in conf.items():
            scores[folds == k] = values
    return Guess([str(t) for t in out.oof], scores)


def pair_features(originals: list[str], rewrites: list[str], encoder: str) -> np.ndarray:
    """(n, 3d): e(original), e(rewritten), e(rewritten) - e(original); embeddings cached on disk."""
    vectors, _ = embed_passages(originals + rewrites, encoder, show_progress=False)
    o, r = vectors[:len(originals)], vectors[len(originals):]
    return np.hstack([o, r, r - o])


class NearestPrompt:
    name = "nearest_prompt"
    nested = True   # cheap: refit inside the training folds for combined's choices

    def __init__(self, rw, cfg, enc):
        self.rw, self.cfg, self.enc = rw, cfg, enc
        features = pair_features(rw.train_o + rw.test_o, rw.train_r + rw.test_r, cfg.encoder)
        self.x, self.x_test = features[:rw.n_train], features[rw.n_train:]
        self.y = enc.encode(rw.prompts).astype(np.float64)   # (n, d) unit rows

    def _fit_predict(self, fit_rows, x_query) -> Guess:
        from sklearn.linear_model import Ridge

        model = Ridge(alpha=self.cfg.ridge_alpha).fit(self.x[fit_rows], self.y[fit_rows])
        pred = model.predict(x_query)
        pred /= np.linalg.norm(pred, axis=1, keepdims=True) + 1e-12
        choices = list(dict.fromkeys(self.rw.prompts[i] for i in fit_rows))
        sims = pred @ self.enc.encode(choices).astype(np.float64).T    # (q, choices)
        best = sims.argmax(1)
        return Guess([choices[j] for j in best], sims.max(1))

    def oof(self, folds: np.ndarray) -> Guess:
        return oof_guess(lambda fit, held: self._fit_predict(fit, self.x[held]), folds, "cv nearest_prompt")

    def inner(self, folds: np.ndarray, k: int) -> Guess:
        """Out-of-fold guesses for the rows outside fold k, by their own folds (with only one
        fold left, two group folds by prompt): no fit sees fold k."""
        rows = np.flatnonzero(folds != k)
        inner_folds = folds[rows]
        if len(np.unique(inner_folds)) < 2:
            inner_folds = FoldPlan(2, 0, "group").assign(len(rows), groups=[self.rw.prompts[i] for i in rows])
        return oof_guess(lambda fit, held: self._fit_predict(rows[fit], self.x[rows[held]]), inner_folds,
                         "inner nearest_prompt")

    def test(self) -> Guess:
        return self._fit_predict(np.arange(self.rw.n_train), self.x_test)
