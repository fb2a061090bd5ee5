"""Held-out-generator split: train on AI texts from some generators, test on a generator that is
absent from train (Kaggle's hidden test used unseen generators; that gap is the real difficulty).

    scores = heldout_generator_scores(members, texts, y, generators, seed=42)
    scores["heldout_generator/ensemble"]   # CvScore: AUC mean ± std over the left-out generators

For each AI generator g: its texts plus a disjoint slice of the human texts form the test part;
the other generators' texts and the remaining human texts form the train part.
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from common.ensemble import score_rank_average
from common.metrics import get_metric
from common.solution import CvScore

GENERATOR_COLUMNS = ("generator", "model", "source")
MIN_TEXTS_PER_GENERATOR = 5


def generator_column(columns) -> str | None:
    """The first column naming which generator wrote each text, if the data has one."""
    return next((c for c in GENERATOR_COLUMNS if c in columns), None)


def heldout_generator_scores(members, texts: list[str], y, generators, seed: int = 42,
                             prefix: str = "heldout_generator") -> dict[str, CvScore]:
    """Leave-one-generator-out AUC for each member and their rank average."""
    y, generators = np.asarray(y, dtype=int), np.asarray([str(g) for g in generators])
    ai_generators = sorted(g for g in set(generators[y == 1]) if (generators[(y == 1)] == g).sum() >= MIN_TEXTS_PER_GENERATOR)
    if len(ai_generators) < 2:
        return {}
    humans = np.random.default_rng(seed).permutation(np.flatnonzero(y == 0))
    human_slices = np.array_split(humans, len(ai_generators))
    auc = get_metric("roc_auc").fn
    per_member: dict[str, list[float]] = {m.name: [] for m in members} | {"ensemble": []}
    for g, human_test in zip(tqdm(ai_generators, desc="held-out generators"), human_slices):
        test = np.concatenate([np.flatnonzero((y == 1) & (generators == g)), human_test])
        train = np.setdiff1d(np.flatnonzero((y == 0) | (generators != g)), test)
        preds = []
        for member in members:
            pred = member.fit_predict([texts[i] for i in train], y[train], [texts[i] for i in test], seed=seed)
            per_member[member.name].append(auc(y[test], pred))
            preds.append(pred)
        per_member["ensemble"].append(auc(y[test], score_rank_average(preds)))
    note = f"left out each of {len(ai_generators)} generators: {', '.join(ai_generators)}"
    return {f"{prefix}/{name}": CvScore(float(np.mean(v)), float(np.std(v)), len(v), note, kind="holdout")
            for name, v in per_member.items()}
