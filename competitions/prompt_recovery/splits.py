"""Every variant's held-out predictions under one split of the train rows.

    folds = instruction_folds(rw.prompts, n_folds=5, seed=42)   # group folds by rewrite_prompt
    split = evaluate_split(rw, cfg, enc, members, folds, "held-out instructions")
    split.oof["combined"]        # held-out prompt of every train row
    split.found[k].text          # the mean prompt searched on the rows outside fold k
    split.rules[k].describe()    # combined's choice for fold k, made on the rows outside fold k

Two splits are evaluated: folds over rows (every test instruction also occurs in train) and
held-out instructions (no instruction of a held-out fold occurs in its training folds, as on
Kaggle, whose hidden instructions were new).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from common.cv import FoldPlan, cross_validate
from competitions.prompt_recovery.combined import Rule, choose_rule
from competitions.prompt_recovery.mean_prompt import BeamConfig, MeanPrompt, mean_prompt_cv
from competitions.prompt_recovery.members import Guess


def instruction_folds(prompts: list[str], n_folds: int, seed: int) -> np.ndarray:
    """Group folds by instruction: a UserError when there are fewer distinct prompts than folds."""
    return FoldPlan(n_folds, seed, "group").assign(len(prompts), groups=prompts)


def beam_config(cfg) -> BeamConfig:
    return BeamConfig(width=cfg.beam_width, steps=cfg.beam_steps, pool=cfg.beam_pool,
                      vocab_tokens=cfg.vocab_tokens, max_tokens=cfg.max_prompt_tokens)


@dataclass
class SplitResult:
    oof: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    found: dict[int, MeanPrompt] = field(default_factory=dict)
    rules: dict[int, Rule] = field(default_factory=dict)
    guesses: dict[str, Guess] = field(default_factory=dict)


def evaluate_split(rw, cfg, enc, members: list, folds: np.ndarray, label: str, progress: bool = True) -> SplitResult:
    """Held-out predictions of constant_baseline, mean_prompt, every member and combined."""
    out = SplitResult()
    n = rw.n_train
    out.oof["constant_baseline"] = [cfg.constant] * n
    mean_out, out.found = mean_prompt_cv(rw.prompts, folds, enc, beam_config(cfg), f"mean_prompt {label}", progress)
    out.oof["mean_prompt"] = [str(t) for t in mean_out.oof]
    cached = sum(f.cached for f in out.found.values())
    out.notes["mean_prompt"] = f"one string per fold, searched on its training prompts ({cached} from cache)"
    for member in members:
        out.guesses[member.name] = member.oof(folds)
        out.oof[member.name] = out.guesses[member.name].texts

    def fit_predict(fit_rows, held_rows, k):
        inner = {m.name: m.inner(folds, k) if m.nested else out.guesses[m.name].take(fit_rows) for m in members}
        out.rules[k] = choose_rule([rw.prompts[i] for i in fit_rows], inner, out.found[k].text, enc)
        held = {name: guess.take(held_rows) for name, guess in out.guesses.items()}
        return np.asarray(out.rules[k].apply(held, out.found[k].text, len(held_rows)), dtype=object), None

    combined = cross_validate(fit_predict, folds, desc=f"combined {label}", show_progress_bar=False)
    out.oof["combined"] = [str(t) for t in combined.oof]
    chosen = Counter(rule.describe().split(" when ")[0] for rule in out.rules.values())
    out.notes["combined"] = "; ".join(f"{what} in {count} fold(s)" for what, count in chosen.most_common())
    return out
