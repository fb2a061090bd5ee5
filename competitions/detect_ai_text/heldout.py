"""Held-out splits that mirror what the hidden test holds back: generators and essay prompts.

    scores = heldout_generator_scores(members, texts, y, generators, seed=42)
    scores["heldout_generator/ensemble"]   # CvScore: AUC mean ± std over the left-out generators
    scores = heldout_prompt_scores(members, texts, y, train["prompt_id"], folds=5, seed=42)
    scores["heldout_prompt/ensemble"]      # CvScore: AUC over folds that never split a prompt

Held-out generator (Kaggle's hidden test used unseen generators; that gap is the real
difficulty): for each AI generator g, its texts plus a disjoint slice of the human texts form the
test part; the other generators' texts and the remaining human texts form the train part.
Held-out prompt: the row folds stratify by label only, so a prompt's essays sit on both sides and
its topic words, whose share of generated essays varies by prompt, carry over; these folds keep
each prompt's essays together (stratified by label as far as the prompts allow), as test essays
on prompts train never saw are.
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from common.ensemble import score_rank_average
from common.folds import FoldPlan
from common.metrics import get_metric
from common.solution import CvScore

GENERATOR_COLUMNS = ("generator", "model", "source")
MIN_TEXTS_PER_GENERATOR = 5


def generator_column(columns) -> str | None:
    """The first column naming which generator wrote each text, if the data has one."""
    return next((c for c in GENERATOR_COLUMNS if c in columns), None)


def _split_aucs(members, texts: list[str], y: np.ndarray, splits, seed: int) -> dict[str, list[float]]:
    """Each member's AUC, and their rank average's ("ensemble"), on each (train rows, test rows)
    split: fitted on the train rows only. A split whose either side holds one class is skipped."""
    auc = get_metric("roc_auc").fn
    per_member: dict[str, list[float]] = {m.name: [] for m in members} | {"ensemble": []}
    for train, test in splits:
        if len(set(y[test])) < 2 or len(set(y[train])) < 2:
            continue                                  # a side of one class has no AUC
        preds = []
        for member in members:
            pred = member.fit_predict([texts[i] for i in train], y[train], [texts[i] for i in test], seed=seed)
            per_member[member.name].append(auc(y[test], pred))
            preds.append(pred)
        per_member["ensemble"].append(auc(y[test], score_rank_average(preds)))
    return per_member


def _holdout_scores(prefix: str, per_member: dict[str, list[float]], note: str) -> dict[str, CvScore]:
    return {f"{prefix}/{name}": CvScore(float(np.mean(v)), float(np.std(v)), len(v), note, kind="holdout",
                                        per_fold=tuple(v))
            for name, v in per_member.items()}


def heldout_generator_scores(members, texts: list[str], y, generators, seed: int = 42,
                             prefix: str = "heldout_generator") -> dict[str, CvScore]:
    """Leave-one-generator-out AUC for each member and their rank average."""
    y, generators = np.asarray(y, dtype=int), np.asarray([str(g) for g in generators])
    ai_generators = sorted(g for g in set(generators[y == 1]) if (generators[(y == 1)] == g).sum() >= MIN_TEXTS_PER_GENERATOR)
    if len(ai_generators) < 2:
        return {}
    humans = np.random.default_rng(seed).permutation(np.flatnonzero(y == 0))
    human_slices = np.array_split(humans, len(ai_generators))

    def splits():
        for g, human_test in zip(tqdm(ai_generators, desc="held-out generators"), human_slices):
            test = np.concatenate([np.flatnonzero((y == 1) & (generators == g)), human_test])
            yield np.setdiff1d(np.flatnonzero((y == 0) | (generators != g)), test), test

    note = f"left out each of {len(ai_generators)} generators: {', '.join(ai_generators)}"
    return _holdout_scores(prefix, _split_aucs(members, texts, y, splits(), seed), note)


def heldout_prompt_scores(members, texts: list[str], y, prompts, folds: int = 5, seed: int = 42,
                          prefix: str = "heldout_prompt") -> dict[str, CvScore]:
    """AUC of each member and their rank average over folds grouped by prompt ({} when train has
    fewer prompts than folds, or a class has fewer rows: nothing to hold out)."""
    y, prompts = np.asarray(y, dtype=int), np.asarray([str(p) for p in prompts])
    n = min(folds, len(set(prompts)))
    if n < 2 or np.bincount(y, minlength=2).min() < n:
        return {}
    ids = FoldPlan(n, seed, "stratified_group").assign(len(y), y=y, groups=prompts)
    splits = ((np.flatnonzero(ids != k), np.flatnonzero(ids == k)) for k in tqdm(range(n), desc="held-out prompts"))
    per_member = _split_aucs(members, texts, y, splits, seed)
    if not per_member["ensemble"]:
        return {}
    note = f"{len(per_member['ensemble'])} folds of whole prompts ({len(set(prompts))} prompts)"
    return _holdout_scores(prefix, per_member, note)
