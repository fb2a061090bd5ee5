"""A task score for the compression study: multiple-choice questions answered by a causal LM's
option log-likelihood (science-exam's `lm_no_retrieval`), MAP@3 against the known answers.

    task = OptionTask("science-exam lm_no_retrieval", prefixes, options, answers)
    scores = onnx_option_scores(folder, task)        # (n, 5), an exported variant on the device runtime (cached)
    torch_option_scores("smollm2", task)             # the PyTorch fp32 row, through common.llm.scoring (cached)
    task_row(scores, fp32_scores, task.answers)      # {"map3": 0.43, "se": 0.035, "changed": 3}

Each option " <text>" is scored by its mean token log-probability after the prefix
(edge/runtime/science.py's option_scores on the device runtime; common.llm.scoring's
score_continuation_groups in PyTorch, as the competition's own step does); the top three options,
ties in letter order, are scored by MAP@3. On 100 questions MAP@3 moves by a few hundredths for
noise, so each row also counts the questions whose top three differ from ONNX fp32's. Scores are
cached by the model folder's name (which holds its input hash) and the task's hash, beside the
teacher-forced quality.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cache_keys import json_key
from common.metrics.ranking import average_precision_at_k, map_at_k


@dataclass(frozen=True)
class OptionTask:
    """name: what the column says. prefixes: one prompt per question, ending where an option
    starts. options: the option texts of each question. answers: the right option's letter."""

    name: str
    prefixes: list[str]
    options: list[list[str]]
    answers: list[str]

    def __post_init__(self):
        if not (len(self.prefixes) == len(self.options) == len(self.answers)) or not self.prefixes:
            raise ValueError(f"{self.name}: {len(self.prefixes)} prefixes, {len(self.options)} option lists and "
                             f"{len(self.answers)} answers: need the same non-zero count")

    @property
    def id(self) -> str:
        return json_key([self.prefixes, self.options, self.answers])


def rankings(scores: np.ndarray) -> list[str]:
    """The top three letters of each row of option scores (n, 5), best first; ties keep letter order."""
    from edge.runtime.choices import top_letters

    return [top_letters(row) for row in np.asarray(scores, dtype=np.float64)]


def task_row(scores: np.ndarray, reference: np.ndarray, answers: list[str]) -> dict:
    """{"map3", "se": its standard error over the questions, "changed": questions whose top three
    differ from the reference model's}."""
    ranked = rankings(scores)
    ap = np.array([average_precision_at_k(a, r.split(), k=3) for a, r in zip(answers, ranked)])
    changed = sum(a != b for a, b in zip(ranked, rankings(reference)))
    return {"map3": map_at_k(answers, ranked, k=3),
            "se": float(ap.std(ddof=1) / np.sqrt(len(ap))) if len(ap) > 1 else 0.0, "changed": int(changed)}


def onnx_option_scores(folder: Path, task: OptionTask, threads: int = 1) -> np.ndarray:
    """(n, k) mean option log-probabilities from an exported variant, run by the device runtime."""
    from edge.generator.quality import cached_npz
    from edge.runtime.causal_lm import CausalLM
    from edge.runtime.science import option_scores

    def compute():
        lm = CausalLM(folder, threads=threads)
        return {"scores": np.array([option_scores(lm, p, o) for p, o in zip(task.prefixes, task.options)])}

    return cached_npz(f"task-{Path(folder).name}-{task.id}", compute)["scores"]


def torch_option_scores(model_name: str, task: OptionTask, batch: int = 4) -> np.ndarray:
    """(n, k) the same scores from the PyTorch model, four questions per batched forward."""
    from common.llm.scoring import score_continuation_groups
    from common.models import model_fingerprint
    from edge.generator.quality import cached_npz

    def compute():
        rows = []
        for i in range(0, len(task.prefixes), batch):
            groups = [[f" {o.strip()}" for o in options] for options in task.options[i:i + batch]]
            scored = score_continuation_groups(model_name, task.prefixes[i:i + batch], groups)
            rows.extend(s.mean for s in scored)
        return {"scores": np.array(rows)}

    return cached_npz(f"task-pytorch-{Path(model_name).name}-{model_fingerprint(model_name)}-{task.id}", compute)["scores"]
