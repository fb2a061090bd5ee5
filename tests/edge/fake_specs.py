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


def _grouped_pairs(n_questions: int, rng) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Each question answered once per class; class k's response repeats WORDS[k] k + 1 times."""
    inputs, y = [], []
    for i in range(n_questions):
        question = f"question {i}: name a thing you like"
        for k in rng.permutation(3):
            inputs.append((question, f"I like the {' '.join([WORDS[k]] * (k + 1))} a lot."))
            y.append(int(k))
    return inputs, np.asarray(y)


def lm_feature_groups(data, seed: int = 42, fast: bool = False, options: dict | None = None) -> DistillSet:
    """Three classes over complete question groups, for the lm_features student; options:
    {"lm": a causal LM folder}."""
    rng = np.random.default_rng(seed)
    inputs, y = _grouped_pairs(16, rng)
    held, held_y = _grouped_pairs(4, rng)
    soft = np.full((len(y), 3), 0.1)
    soft[np.arange(len(y)), y] = 0.8
    teacher = np.full((len(held_y), 3), 0.1)
    teacher[np.arange(len(held_y)), held_y] = 0.8
    return DistillSet(label_names=WORDS, metric="multiclass_logloss", inputs=inputs, soft_labels=soft,
                      holdout_inputs=held, holdout_labels=held_y, holdout_teacher=teacher,
                      teacher="a rule that counts words", student="lm_features",
                      student_options={"model": str((options or {})["lm"]), "steps": 300},
                      submission=("id", *WORDS))


TOPICS = ("Cats at night", "The history of bread", "Why rivers flood", "Chess openings", "Volcano safety",
          "Bees, flowers and \"quotes\"")


def essay_plan(topics=TOPICS, seed: int = 7, filler_words: int = 12) -> tuple[dict, list[str]]:
    """The adversarial-judge host's way: a mix of real attacks dealt to the topics by
    search.assign, and its plan as solution.run records it; returns (plan, essays)."""
    from competitions.adversarial_judge.attacks import ATTACKS
    from competitions.adversarial_judge.mixture import Mix
    from competitions.adversarial_judge.search import assign

    counts = {"critique_style_vivid": len(topics) - 3, "inject_9": 2, "cond_909": 1}
    essays, names = assign(Mix(counts, 0.0, {}), list(ATTACKS.values()), list(topics), filler_words, seed)
    plan = {"seed": seed, "filler_words": filler_words, "attack_per_topic": names,
            "templates": {a: ATTACKS[a].body("{topic}") for a in sorted(set(names))}}
    return plan, essays


def essay_port(data, seed: int = 42, fast: bool = False, options: dict | None = None):
    """adversarial-judge's PortSet on TOPICS with a made-up score (distinct essays / topics), no judge."""
    from competitions.adversarial_judge.attacks import filler_vocabulary
    from competitions.adversarial_judge.edge import port_set

    plan, essays = essay_plan()
    return port_set(list(TOPICS), essays, plan, filler_vocabulary(), "a toy mix",
                    score=lambda written: len(set(written)) / len(TOPICS), info={"seed": seed})
