"""Cross-validation for every competition: folds, out-of-fold predictions, per-fold scores.

    folds = ctx.fold_ids()          # in a solution: the competition's CvSpec, --folds and the seed
    folds = FoldPlan(n_folds=5, seed=42, strategy="group").assign(len(train), groups=train["Question"])
    out = cross_validate(fit_predict, folds, desc="cv tfidf_linear")
    out.oof            # held-out prediction of every train row (row i from the model without it)
    out.test           # mean of the fold models' test predictions (None if none were made)
    out = cross_validate(lambda fit, held, k: (["a prompt"] * len(held), None), folds)
    out.oof            # text predictions (strings) work too: an object array, never averaged
    score = score_folds("multiclass_logloss", y, out.oof, folds)   # CvScore: mean ± std over folds

`fit_predict(fit_rows, held_rows, fold)` trains on `fit_rows` (indices into train) and returns
`(held_pred, test_pred)`: its predictions for `held_rows` and for the test rows (or None).
Strategies: "kfold" (shuffled), "stratified" (by the labels `y`), "group" (by `groups`: rows of a
group never split, such as a question's seven responses). A fold count below 2 or above what the
data allows (rows, the smallest class, the number of groups) is a UserError with one line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from common.folds import FoldPlan, check_fold_count  # noqa: F401  (re-exported: one import for solutions)
from common.metrics import get_metric
from common.solution import CvScore


@dataclass
class CvOutput:
    """oof: held-out predictions of every train row. test: mean of the fold models' test
    predictions. per_fold_test: each fold model's test predictions."""

    folds: np.ndarray
    oof: np.ndarray
    test: np.ndarray | None = None
    per_fold_test: list = field(default_factory=list)


def cross_validate(fit_predict: Callable, folds: np.ndarray, desc: str = "cv",
                   test_transform: Callable | None = None, show_progress_bar: bool = True) -> CvOutput:
    """Run `fit_predict` once per fold and gather its held-out and test predictions.

    test_transform maps each fold model's test predictions before they are averaged (e.g. to
    ranks, so that fold models of different scales weigh the same).
    """
    folds = np.asarray(folds)
    ids = np.unique(folds)
    oof, per_fold_test = None, []
    for k in tqdm(ids, desc=desc, unit="fold", disable=not show_progress_bar):
        fit_rows, held_rows = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        held_pred, test_pred = fit_predict(fit_rows, held_rows, int(k))
        held_pred = np.asarray(held_pred)
        if oof is None:
            numeric = held_pred.dtype.kind in "biuf"
            oof = np.zeros((len(folds),) + held_pred.shape[1:], dtype=np.float64 if numeric else object)
        oof[held_rows] = held_pred
        if test_pred is not None:
            test_pred = np.asarray(test_pred, dtype=np.float64 if numeric else object)
            per_fold_test.append(test_transform(test_pred) if test_transform else test_pred)
    test = np.mean(per_fold_test, axis=0) if per_fold_test and numeric else None
    return CvOutput(folds=folds, oof=oof, test=test, per_fold_test=per_fold_test)


def score_folds(metric: str, truth, pred, folds: np.ndarray, note: str = "", kind: str = "cv",
                score_fn: Callable | None = None, encoder: str = "") -> CvScore:
    """The metric on each fold's held-out rows, as mean ± std over folds.

    score_fn(truth_rows, pred_rows) replaces the registry's function when predictions need a
    conversion first (e.g. option scores to MAP@3 letters); the direction stays the metric's.
    """
    fn = score_fn or get_metric(metric).fn
    truth, pred, folds = np.asarray(truth), np.asarray(pred), np.asarray(folds)
    per_fold = [float(fn(truth[folds == k], pred[folds == k])) for k in np.unique(folds)]
    return CvScore(float(np.mean(per_fold)), float(np.std(per_fold)), len(per_fold), note, kind=kind,
                   encoder=encoder, per_fold=tuple(per_fold))


def best_variant(scores: dict[str, CvScore], metric: str, among: Sequence[str] | None = None) -> str:
    """The variant with the best mean score by the metric's direction (among `among` if given)."""
    names = list(among if among is not None else scores)
    if not names:
        raise ValueError("best_variant needs at least one variant")
    sign = 1.0 if get_metric(metric).higher_is_better else -1.0
    return max(names, key=lambda name: sign * scores[name].mean)


@dataclass
class Selection:
    """What choosing the variant by CV is worth: in each fold, the variant with the best mean over
    the other folds (`picks`, in fold order), scored on that fold (`score`). The submitted
    variant's own CV is the largest of several noisy means, so it reads high; this does not."""

    score: CvScore
    picks: list[str]


def selection_score(scores: dict[str, CvScore], metric: str, among: Sequence[str]) -> Selection | None:
    """The nested estimate of choosing among `among` by CV (None when fewer than 2 candidates or
    their per-fold scores are missing or unaligned).

        sel = selection_score(result.cv, "map@3", ["lm_rag", "finetuned_mc", "ensemble"])
        sel.score.mean, sel.picks      # e.g. 0.4612, ["ensemble", "lm_rag", "lm_rag"]
    """
    names = list(among)
    folds = {len(scores[n].per_fold) for n in names if n in scores}
    if len(names) < 2 or any(n not in scores for n in names) or len(folds) != 1 or folds == {0} or folds == {1}:
        return None
    (n_folds,) = folds
    sign = 1.0 if get_metric(metric).higher_is_better else -1.0
    table = np.array([scores[n].per_fold for n in names])                       # (variants, folds)
    picks, values = [], []
    for k in range(n_folds):
        others = np.delete(table, k, axis=1).mean(1)
        i = int(np.argmax(sign * others))                                      # ties: the first named
        picks.append(names[i])
        values.append(float(table[i, k]))
    score = CvScore(float(np.mean(values)), float(np.std(values)), n_folds, "the variant picked on the other folds",
                    kind=scores[names[0]].kind, per_fold=tuple(values))
    return Selection(score, picks)

