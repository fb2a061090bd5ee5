"""Zero-shot answering: a causal LM's log-likelihood of each option after (context +) question.

    scores, info = lm_option_scores(cfg, questions, contexts=None, desc="lm_no_retrieval")   # (n, 5)

The prompt is "<passages>\\n\\nQuestion: <prompt>\\nAnswer:" and each option " <option>" is a
continuation: `common.llm.scoring.score_continuation_groups` runs the shared prefix once and reuses
its KV cache for the five options, four questions per batch. The score is the mean token log-prob
(`lm_norm=mean`, so long options are not punished for their length) or the sum. Scores are cached
on disk per question (cache_dir("scores")), so a second run or a resumed one skips scored questions.
"""
from __future__ import annotations

import numpy as np

from common.llm.cache import JsonlCache, cached_map
from common.llm.scoring import score_continuation_groups
from common.models import model_fingerprint

from competitions.science_exam.config import SolutionConfig
from competitions.science_exam.questions import Questions

_SEP = "\x1f"


def build_prefix(prompt: str, context: str | None) -> str:
    question = f"Question: {prompt.strip()}\nAnswer:"
    return f"{context.strip()}\n\n{question}" if context else question


def lm_option_scores(cfg: SolutionConfig, questions: Questions, contexts: list[str] | None,
                     desc: str) -> tuple[np.ndarray, dict]:
    """(scores (n, 5), info). Items are 'prefix<US>option<US>...'; values [total, n_tokens] pairs."""
    contexts = contexts if contexts is not None else [None] * len(questions)
    items = [_SEP.join([build_prefix(p, c), *[f" {o.strip()}" for o in opts]])
             for p, c, opts in zip(questions.prompts, contexts, questions.options)]
    store = JsonlCache("scores", cfg.lm, model_fingerprint(cfg.lm), {"fn": "science_exam_options", "v": 1})
    cached_before = sum(item in store for item in items)

    def compute(batch: list[str]) -> list[list[list[float]]]:
        split = [item.split(_SEP) for item in batch]
        scored = score_continuation_groups(cfg.lm, [row[0] for row in split], [row[1:] for row in split])
        return [[[float(t), int(n)] for t, n in zip(s.total, s.n_tokens)] for s in scored]

    # 4 questions per forward, prefixes of similar length together so little of a batch is padding
    order = sorted(range(len(items)), key=lambda i: len(items[i].split(_SEP)[0]))
    by_length = cached_map(store, [items[i] for i in order], compute, batch_size=4, desc=f"score options: {desc}")
    values = [None] * len(items)
    for i, value in zip(order, by_length):
        values[i] = value
    totals = np.array([[v[0] for v in row] for row in values], dtype=np.float64)
    lengths = np.array([[v[1] for v in row] for row in values], dtype=np.float64)
    if cached_before:
        print(f"{desc}: {cached_before} of {len(items)} questions' option scores reused from cache")
    scores = totals / lengths if cfg.lm_norm == "mean" else totals
    return scores, {"cached": cached_before, "scored": len(items) - cached_before}
