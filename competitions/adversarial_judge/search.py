"""Attack search: judge every attack on a sample of topics with a panel (the solution: the
development and the validation panel, each on its own), then choose the mix of attacks and
write one essay per topic.

    from competitions.adversarial_judge.search import measure_attacks, assign, judge_set
    profiles = measure_attacks(attacks, topics[:4], DEVELOPMENT_PANEL, filler_words=12, seed=42)
    mix = best_mix(profiles, len(topics))
    essays, chosen = assign(mix, attacks, topics, filler_words=12, seed=42)
    # candidates beyond the templates: profiled from essays already written, written by a function
    profiles = measure_attacks(attacks, topics[:4], DEVELOPMENT_PANEL, 12, 42, written={"honest": four_essays})
    essays, chosen = assign(mix, attacks, topics, 12, 42, writers={"honest": write_honest})
    judged = judge_set(topics, essays, DEVELOPMENT_PANEL)        # Judged(scores, components, value, panel)

Only the panel it is given is queried; the solution never gives the search the held-out panel
(tests/competitions/adversarial_judge/test_aj_solution.py records every judge call).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

import numpy as np

from common.llm import judges
from common.metrics.judge import judge_components, score_from_components
from competitions.adversarial_judge.attacks import Attack, filler_vocabulary, write_essay
from competitions.adversarial_judge.mixture import Mix, Profiles


@dataclass
class Judged:
    """A set of essays judged by one panel: the (essays, judges) score matrix, the five
    components, the metric's value and the panel's id."""

    scores: np.ndarray
    components: dict[str, float]
    value: float
    panel: str
    judges: list[str]


def judge_set(topics: list[str], essays: list[str], panel: tuple, progress: bool = True) -> Judged:
    """Judge essays on their topics with `panel`, and the metric from its scores (cached judgements)."""
    scores = judges.judge_scores(topics, essays, panel, progress=progress)
    c = judge_components(scores, judges.english_confidence(essays), judges.mean_pairwise_similarity(essays))
    return Judged(scores, c, score_from_components(c), judges.panel_id(panel), [j.name for j in panel])


def _embed(essays: list[str]) -> np.ndarray:
    from common.models import shared_sentence_encoder
    return shared_sentence_encoder("minilm").encode(essays, normalize_embeddings=True, convert_to_numpy=True,
                                                    show_progress_bar=False)


def measure_attacks(attacks: list[Attack], topics: list[str], panel: tuple, filler_words: int, seed: int,
                    progress: bool = True, written: dict[str, list[str]] | None = None) -> Profiles:
    """Every attack's essay on every sample topic, judged by `panel`: the attacks' Profiles
    (scores, English confidence, similarity). `written`: more candidates, each already written
    on the topics (name -> one essay per topic, e.g. {"honest": SmolLM2's essays}), profiled
    after the attacks."""
    vocab = filler_vocabulary()
    essays = [[write_essay(a, t, filler_words, seed, vocab) for t in topics] for a in attacks]
    essays += [list(texts) for texts in (written or {}).values()]
    names = [a.name for a in attacks] + list(written or {})
    if any(len(row) != len(topics) for row in essays):
        raise ValueError(f"every written candidate needs one essay per topic ({len(topics)})")
    flat = [e for row in essays for e in row]
    scores = judges.judge_scores(list(topics) * len(names), flat, panel, progress=progress)
    scores = scores.reshape(len(names), len(topics), len(panel))
    english = judges.english_confidence(flat).reshape(len(names), len(topics)).mean(axis=1)
    vecs = _embed(flat).reshape(len(names), len(topics), -1)
    s = len(topics)
    sims = np.einsum("asd,btd->abst", vecs, vecs)                      # (A, A, S, S)
    off = ~np.eye(s, dtype=bool)
    similarity = sims.mean(axis=(2, 3))
    np.fill_diagonal(similarity, sims[np.arange(len(names)), np.arange(len(names))][:, off].mean(axis=1))
    return Profiles(names, scores, english, similarity)


def assign(mix: Mix, attacks: list[Attack], topics: list[str], filler_words: int, seed: int,
           writers: dict[str, Callable[[list[str]], list[str]]] | None = None) -> tuple[list[str], list[str]]:
    """(essays, candidate name per topic): the mix's counts dealt to the topics in a seeded order.
    A candidate that is not an attack is written by its writer (name -> fn(topics) -> essays),
    called once on all the topics it was dealt."""
    by_name, writers = {a.name: a for a in attacks}, writers or {}
    names = [name for name, count in sorted(mix.counts.items()) for _ in range(count)]
    if len(names) != len(topics):
        raise ValueError(f"the mix has {len(names)} essays for {len(topics)} topics")
    random.Random(seed).shuffle(names)
    vocab = filler_vocabulary()
    essays = [write_essay(by_name[n], t, filler_words, seed, vocab) if n in by_name else "" for n, t in zip(names, topics)]
    for name, write in writers.items():
        rows = [i for i, n in enumerate(names) if n == name]
        texts = list(write([topics[i] for i in rows])) if rows else []
        if len(texts) != len(rows):
            raise ValueError(f"the writer of {name} gave {len(texts)} essays for {len(rows)} topics")
        for i, essay in zip(rows, texts):
            essays[i] = essay
    unwritten = sorted({n for n in names if n not in by_name and n not in writers})
    if unwritten:
        raise ValueError(f"no attack or writer for {', '.join(unwritten)}")
    return essays, names
