"""MAP@K as in the Kaggle LLM Science Exam evaluation.

    map_at_k(["A"], ["B A C"])  # -> 0.5

Each prediction is a space-separated list of letters; only the first k count. A correct letter
at rank r scores 1/r. A letter repeated within one prediction counts once (its first place),
and later repeats keep their positions, exactly as Kaggle's `apk` with `p not in predicted[:i]`.
"""
from __future__ import annotations

from typing import Sequence

from common.errors import UserError


def average_precision_at_k(actual: str, predicted: Sequence[str], k: int = 3) -> float:
    score, hits = 0.0, 0
    for rank, letter in enumerate(predicted[:k], start=1):
        if letter == actual and letter not in predicted[: rank - 1]:
            hits += 1
            score += hits / rank
    return score  # one relevant letter per question: min(len(actual), k) == 1


def map_at_k(y_true: Sequence[str], y_pred: Sequence[str], k: int = 3) -> float:
    if len(y_true) != len(y_pred):
        raise UserError(f"map@{k}: {len(y_true)} answers but {len(y_pred)} predictions")
    if not y_true:
        raise UserError(f"map@{k}: no rows to score")
    total = 0.0
    for actual, prediction in zip(y_true, y_pred):
        if prediction is None or not str(prediction).strip():
            raise UserError(f"map@{k}: empty prediction")
        total += average_precision_at_k(str(actual).strip(), str(prediction).split(), k)
    return total / len(y_true)
