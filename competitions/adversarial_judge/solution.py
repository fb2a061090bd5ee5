"""Adversarial-judge solution: essays that split a panel of LLM judges; judge metric, kind "panel".

    make submit COMP=adversarial-judge
    python -m cli submit --comp adversarial-judge --set search_topics=8 --set honest_topics=0

1. attack search (development panel only): every attack of the library (attacks.py) is
   written on `search_topics` sample topics and judged; the mix of attacks with the best
   predicted metric is found from those measurements (mixture.py), and dealt to the topics.
2. the chosen essays are judged on every topic by the development panel (variant `attack_mix`);
   when the best mix without the chosen mix's main attack is predicted within `tie` of it, it
   is judged too (`attack_mix_alt`), and when the development panel cannot tell the two apart
   (within `tie`), the validation panel picks.
3. `honest`: SmolLM2's own essays on `honest_topics` topics, the baseline.
4. the validation panel (common/llm/panels.py), which the search never queries, scores the
   submitted mix and honest: variants `validation/<name>`.
A PNG (results/adversarial-judge/panels.png) shows each judged set's score matrix and components.
"""
from __future__ import annotations

import random
import time

import numpy as np
import polars as pl

from common.errors import UserError
from common.llm.judges import english_confidence
from common.llm.panels import DEVELOPMENT_PANEL, validation_panel
from common.paths import results_path
from common.solution import CvScore, RunContext, SolutionResult
from competitions.adversarial_judge.attacks import ATTACKS
from competitions.adversarial_judge.config import JudgeConfig
from competitions.adversarial_judge.honest import honest_essays
from competitions.adversarial_judge.mixture import best_mix
from competitions.adversarial_judge.report import draw_panels
from competitions.adversarial_judge.search import assign, judge_set, measure_attacks

CONFIG = JudgeConfig
VALIDATION = "validation/"


def _topics(ctx: RunContext, max_words: int) -> tuple[list[int], list[str]]:
    test = ctx.data.tables["test"]
    ids, topics = test["id"].to_list(), test["topic"].to_list()
    bad = [i for i, t in zip(ids, topics) if t is None or not str(t).strip()]
    if bad:
        raise UserError(f"test.csv: topic of id {bad[0]} is empty")
    long = [(i, len(str(t).split())) for i, t in zip(ids, topics) if len(str(t).split()) > max_words]
    if long:   # an essay that names its topic could not stay under the cap: refused before any judging
        raise UserError(f"test.csv: topic of id {long[0][0]} has {long[0][1]} words; a topic is a short prompt, and "
                        f"an essay naming it must stay under max_words={max_words}")
    if len(topics) < 2:
        raise UserError("test.csv: the judge metric needs at least 2 topics")
    return ids, [str(t) for t in topics]


def _sample(n: int, k: int, seed: int) -> list[int]:
    return sorted(random.Random(seed).sample(range(n), min(k, n))) if 0 < k < n else list(range(n))


def check_essays(essays: list[str], cfg: JudgeConfig) -> None:
    """Every submitted essay non-empty, under the word cap and English enough; else a UserError."""
    english = english_confidence(essays)
    for i, (essay, e) in enumerate(zip(essays, english)):
        if not essay.strip() or len(essay.split()) > cfg.max_words or e < cfg.min_english:
            raise UserError(f"essay {i} breaks the rules (empty, over {cfg.max_words} words, or English "
                            f"confidence {e:.2f} < {cfg.min_english}): {essay[:80]!r}")


def _cv(judged, note: str) -> CvScore:
    parts = " ".join(f"{k}={v:.3f}" for k, v in judged.components.items())
    return CvScore(judged.value, 0.0, 0, f"{note}; {parts}".strip("; "), kind="panel", panel=judged.panel)


def family_moves(profiles) -> dict[str, list[float]]:
    """Mean score each judge gave each attack family on the search topics."""
    families = sorted({ATTACKS[n].family for n in profiles.names})
    return {f: [round(float(v), 2) for v in profiles.scores[[ATTACKS[n].family == f for n in profiles.names]]
                .mean(axis=(0, 1))] for f in families}


def run(ctx: RunContext) -> SolutionResult:
    started = time.perf_counter()
    cfg = ctx.config(JudgeConfig).validate()
    ids, topics = _topics(ctx, cfg.max_words)
    attacks = [ATTACKS[n] for n in cfg.attack_names()]
    n, seconds = len(topics), {}

    t0 = time.perf_counter()
    search_idx = _sample(n, cfg.search_topics, ctx.seed)
    profiles = measure_attacks(attacks, [topics[i] for i in search_idx], DEVELOPMENT_PANEL, cfg.filler_words,
                                  ctx.seed)
    mix = best_mix(profiles, n)
    main_attack = max(mix.counts, key=mix.counts.get)
    others = [a.name for a in attacks if a.name != main_attack]
    alt = best_mix(profiles, n, others) if others else None
    seconds["search"] = round(time.perf_counter() - t0, 1)
    print(f"attack search on {len(search_idx)} topics: predicted {mix.predicted:.3f} with {mix.counts}")

    t0 = time.perf_counter()
    candidates = {"attack_mix": (mix, *assign(mix, attacks, topics, cfg.filler_words, ctx.seed))}
    if alt is not None and alt.predicted >= (1 - cfg.tie) * mix.predicted:
        candidates["attack_mix_alt"] = (alt, *assign(alt, attacks, topics, cfg.filler_words, ctx.seed))
    dev = {name: judge_set(topics, c[1], DEVELOPMENT_PANEL) for name, c in candidates.items()}
    seconds["development"] = round(time.perf_counter() - t0, 1)

    t0 = time.perf_counter()
    honest_idx = _sample(n, cfg.honest_topics, ctx.seed)
    h_topics = [topics[i] for i in honest_idx]
    honest = honest_essays(h_topics, cfg.honest_tokens, cfg.max_words, ctx.seed)
    dev["honest"] = judge_set(h_topics, honest, DEVELOPMENT_PANEL)
    seconds["honest"] = round(time.perf_counter() - t0, 1)

    ranked = sorted(candidates, key=lambda k: dev[k].value, reverse=True)
    tied = len(ranked) > 1 and dev[ranked[1]].value >= (1 - cfg.tie) * dev[ranked[0]].value
    val, t0 = {}, time.perf_counter()
    if cfg.validation:
        panel = validation_panel()
        for name in (ranked if tied else ranked[:1]):
            val[name] = judge_set(topics, candidates[name][1], panel)
        val["honest"] = judge_set(h_topics, honest, panel)
    seconds["validation"] = round(time.perf_counter() - t0, 1)
    best = max(ranked, key=lambda k: val[k].value) if tied and val else ranked[0]
    why = "the validation panel (development scores within tie)" if tied and val else "the development panel"
    print(f"submitted: {best} (chosen by {why})")
    essays, names = candidates[best][1], candidates[best][2]
    check_essays(essays, cfg)

    honest_note = f"{len(honest_idx)} of {n} topics"
    cv = {name: _cv(j, honest_note if name == "honest" else f"mix {candidates[name][0].counts}")
          for name, j in dev.items()}
    cv |= {VALIDATION + name: _cv(j, honest_note if name == "honest" else "") for name, j in val.items()}
    rows = [(f"{best}, development", dev[best], names), ("honest, development", dev["honest"], None)]
    rows += [(f"{best}, validation", val[best], names), ("honest, validation", val["honest"], None)] if val else []
    chart = draw_panels(rows, results_path().parent / ctx.competition.slug / "panels.png")
    seconds["total"] = round(time.perf_counter() - started, 1)
    info = {"mix": candidates[best][0].counts, "predicted": round(candidates[best][0].predicted, 4),
            "search_topics": [topics[i] for i in search_idx], "honest_topics": len(honest_idx),
            "family_moves": {"judges": [j.name for j in DEVELOPMENT_PANEL], **family_moves(profiles)},
            "attack_scores": {a: np.round(profiles.scores[i].mean(axis=0), 2).tolist()
                              for i, a in enumerate(profiles.names)},
            "chosen_by": why, "chart": str(chart), "seconds": seconds,
            "plan": {"seed": ctx.seed, "filler_words": cfg.filler_words, "attack_per_topic": names,
                     "templates": {a: ATTACKS[a].body("{topic}") for a in sorted(set(names))}}}
    submission = pl.DataFrame({"id": ids, "essay": essays})
    return SolutionResult(submission=submission, cv=cv, best=best, info=info)
