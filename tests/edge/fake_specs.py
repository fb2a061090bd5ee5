"""Edge specs of a made-up competition for the pipeline tests (tests/edge is on sys.path).

    dataclasses.replace(get_competition("detect-ai-text"), slug="toy-pairs", edge_spec="fake_specs:three_class_pairs")
"""
from __future__ import annotations

import numpy as np

from common.distill_set import DistillSet

WORDS = ("apple", "river", "stone")


def _pairs(n: int, rng) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The class is which of three words the response repeats from the question."""
    y = rng.integers(0, 3, size=n)
    return [(f"pick one of {' '.join(rng.permutation(WORDS))}", f"i pick {WORDS[k]}") for k in y], y


def three_class_pairs(data, seed: int = 42, fast: bool = False, options: dict | None = None) -> DistillSet:
    rng = np.random.default_rng(seed)
    inputs, y = _pairs(48, rng)
    held, held_y = _pairs(12, rng)
    soft = np.full((48, 3), 0.1)
    soft[np.arange(48), y] = 0.8
    teacher = np.full((12, 3), 0.1)
    teacher[np.arange(12), held_y] = 0.8
    return DistillSet(label_names=WORDS, metric="multiclass_logloss", inputs=inputs, soft_labels=soft,
                      holdout_inputs=held, holdout_labels=held_y, holdout_teacher=teacher,
                      teacher="a rule that reads the response", info={"seed": seed})


def plain_dict(data, seed: int = 42, fast: bool = False, options: dict | None = None) -> dict:
    return {"label_names": ("a", "b"), "metric": "roc_auc"}
