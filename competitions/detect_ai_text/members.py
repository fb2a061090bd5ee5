"""The teacher's members by name. Each is `fit_predict(train_texts, y, pred_texts, seed) -> scores`
(higher = more likely AI) and never sees the labels of pred_texts.

    from competitions.detect_ai_text.members import MEMBERS, select_members
    select_members("tfidf_linear,lm_perplexity")   # -> [Member(...), Member(...)]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from common.options import name_list
from competitions.detect_ai_text.lm_members import lm_perplexity
from competitions.detect_ai_text.minilm_member import minilm_finetuned
from competitions.detect_ai_text.tfidf_members import tfidf_lgbm, tfidf_linear


@dataclass(frozen=True)
class Member:
    """max_folds: folds this member is cross-validated with at most (fine-tuning is costly on CPU).
    costly: left out of the held-out-generator split and of --fast runs. in_fast: False leaves it
    out of --fast runs only (an LM pass over every text: minutes from an empty cache, seconds
    from a warm one)."""

    name: str
    fit_predict: Callable
    max_folds: int = 10
    costly: bool = False
    in_fast: bool = True


MEMBERS: dict[str, Member] = {
    m.name: m
    for m in (
        Member("tfidf_linear", tfidf_linear),
        Member("tfidf_lgbm", tfidf_lgbm),
        Member("lm_perplexity", lm_perplexity, in_fast=False),
        Member("minilm_finetuned", minilm_finetuned, max_folds=2, costly=True),
    )
}


def select_members(names: str | None = None, fast: bool = False) -> list[Member]:
    """Comma-separated names (None: all; fast drops the costly ones and those not in_fast)."""
    if names:
        return [MEMBERS[n] for n in name_list(names, MEMBERS, "members", allow_empty=False)]
    return [m for m in MEMBERS.values() if not (fast and (m.costly or not m.in_fast))]
