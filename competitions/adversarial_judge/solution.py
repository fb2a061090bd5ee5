"""Adversarial-judge solution: essays that split a panel of LLM judges; judge metric, kind "panel".

    make submit COMP=adversarial-judge
    python -m cli submit --comp adversarial-judge --set search_topics=8 --set honest_topics=0

1. attack search on the development and the validation panel (common/llm/panels.py): every
   attack of the library (attacks.py), and SmolLM2's own essay (`honest`; search_honest=0
   leaves it out), is written on `search_topics` sample topics and judged by both; the mix
   whose worse panel has the best predicted metric is found from those measurements
   (mixture.py) and dealt to the topics: `attack_mix`, the submission. The mix a
   search on the development panel alone picks, `attack_mix_dev_only` (judged when it differs),
   is the baseline it must beat where it matters, on judges neither search saw.
2. `honest`: SmolLM2's own essays on `honest_topics` topics, the other baseline.
3. every set is judged on every topic by the development panel (variant `<name>`), the
   validation panel (`validation/<name>`) and the held-out panel, which no search queries
   (`held-out/<name>`): only the held-out scores say how a mix does on judges it was not fitted to.
A PNG (results/adversarial-judge/panels.png; panels-kaggle.png, or panels-custom-<data hash>.png for a
--data folder) shows each judged set's score matrix and components.
"""
from __future__ import annotations

import random
import time
from dataclasses import replace

import numpy as np
import polars as pl

from common.errors import UserError
from common.llm.judges import english_confidence
from common.llm.panels import DEVELOPMENT_PANEL, VALIDATION_PANEL, held_out_panel
from common.paths import results_path
from common.solution import CvScore, RunContext, SolutionResult
from competitions.adversarial_judge.attacks import ATTACKS, FAMILIES
from competitions.adversarial_judge.config import JudgeConfig
from competitions.adversarial_judge.honest import honest_essays, writer_settings
from competitions.adversarial_judge.mixture import best_mix
from competitions.adversarial_judge.report import draw_panels
from competitions.adversarial_judge.search import assign, judge_set, measure_attacks

CONFIG = JudgeConfig
VALIDATION, HELD_OUT = "validation/", "held-out/"
PREFIXES = {"development": "", "validation": VALIDATION}   # a searched panel -> its variants' prefix


def _topics(ctx: RunContext, max_words: int) -> tuple[list[int], list[str]]:
    test, where = ctx.data.tables["test"], ctx.data.path / "test.csv"
    ids, topics = test["id"].to_list(), test["topic"].to_list()
    bad = [i for i, t in zip(ids, topics) if t is None or not str(t).strip()]
    if bad:
        raise UserError(f"{where}: topic of id {bad[0]} is empty")
    long = [(i, len(str(t).split())) for i, t in zip(ids, topics) if len(str(t).split()) > max_words]
    if long:   # an essay that names its topic could not stay under the cap: refused before any judging
        raise UserError(f"{where}: topic of id {long[0][0]} has {long[0][1]} words; a topic is a short prompt, and "
                        f"an essay naming it must stay under max_words={max_words}")
    if len(topics) < 2:
        raise UserError(f"{where}: one topic; the judge metric needs at least 2 essays (each judge's spread over "
                        "the essays, and how alike the essays are)")
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


def _family(name: str) -> str:
    return ATTACKS[name].family if name in ATTACKS else name      # a written candidate ("honest") is its own


def family_moves(profiles) -> dict[str, list[float]]:
    """Mean score each judge gave each attack family (and each written candidate) on the search topics."""
    families = sorted({_family(n) for n in profiles.names})
    return {f: [round(float(v), 2) for v in profiles.scores[[_family(n) == f for n in profiles.names]]
                .mean(axis=(0, 1))] for f in families}


def fast_attacks(seed: int) -> str:
    """One attack of each family, drawn with the seed: a --fast search's library (unless the run
    sets `attacks`; `--set attacks=` is the whole library), so its judging does not grow with
    the 43 attacks whatever the test size.

        fast_attacks(42)    # "inject_1,contra0_90,cond_099,..." (7 names)
    """
    rng = random.Random(seed)
    return ",".join(rng.choice([a.name for a in ATTACKS.values() if a.family == family])
                    for family in FAMILIES if any(a.family == family for a in ATTACKS.values()))


def config(ctx: RunContext) -> JudgeConfig:
    """The run's options; --fast searches one attack of each family (drawn with the seed) on 2
    topics, writes 4 honest essays and judges no development-only baseline."""
    cfg = ctx.config(JudgeConfig)
    if not ctx.fast:
        return cfg
    drawn = cfg.attacks if "attacks" in ctx.options else fast_attacks(ctx.seed)   # attacks= : the whole library
    return replace(cfg, search_topics=2, baseline=0, attacks=drawn,
                   honest_topics=min(cfg.honest_topics, 4) if cfg.honest_topics else 4)


def _search_panels(cfg: JudgeConfig) -> dict[str, tuple]:
    return {"development": DEVELOPMENT_PANEL} | ({"validation": VALIDATION_PANEL} if cfg.validation else {})


def run(ctx: RunContext) -> SolutionResult:
    started = time.perf_counter()
    cfg = config(ctx)
    ids, topics = _topics(ctx, cfg.max_words)
    attacks = [ATTACKS[n] for n in cfg.attack_names()]
    n, seconds = len(topics), {}

    t0 = time.perf_counter()
    search_idx = _sample(n, cfg.search_topics, ctx.seed)
    search_topics = [topics[i] for i in search_idx]
    panels = _search_panels(cfg)

    def write_honest(chosen: list[str]) -> list[str]:
        return honest_essays(chosen, cfg.honest_tokens, cfg.max_words, ctx.seed)

    writers = {"honest": write_honest} if cfg.search_honest else {}
    written_search = {name: write(search_topics) for name, write in writers.items()}
    profiles = {name: measure_attacks(attacks, search_topics, panel, cfg.filler_words, ctx.seed, written=written_search)
                for name, panel in panels.items()}
    mixes = {"attack_mix": best_mix(list(profiles.values()), n)}
    dev_only = best_mix(profiles["development"], n) if len(panels) > 1 else None
    if dev_only is not None and cfg.baseline and dev_only.counts != mixes["attack_mix"].counts:
        mixes["attack_mix_dev_only"] = dev_only
    seconds["search"] = round(time.perf_counter() - t0, 1)
    mix = mixes["attack_mix"]
    drawn = " (--fast: one of each family, drawn with the seed)" if ctx.fast and "attacks" not in ctx.options else ""
    print(f"attack search: {len(attacks)} attacks{drawn}{' and honest essays' * bool(writers)} on {len(search_idx)} topics, {' and '.join(panels)} "
          f"panel{'s' * (len(panels) > 1)}: predicted {' / '.join(f'{v:.3f}' for v in mix.per_panel)} with {mix.counts}")

    t0 = time.perf_counter()
    written = {name: assign(m, attacks, topics, cfg.filler_words, ctx.seed, writers) for name, m in mixes.items()}
    essays, names = written["attack_mix"]
    check_essays(essays, cfg)       # before minutes of judging
    honest_idx = _sample(n, cfg.honest_topics, ctx.seed)
    h_topics = [topics[i] for i in honest_idx]
    sets = {name: (topics, essays) for name, (essays, _) in written.items()}
    sets["honest"] = (h_topics, write_honest(h_topics))
    seconds["writing"] = round(time.perf_counter() - t0, 1)

    judged: dict[str, dict] = {}
    scorers = {PREFIXES[name]: panel for name, panel in panels.items()}
    scorers |= {HELD_OUT: held_out_panel()} if cfg.held_out else {}
    for prefix, panel in scorers.items():
        t0 = time.perf_counter()
        judged[prefix] = {name: judge_set(t, e, panel) for name, (t, e) in sets.items()}
        seconds[prefix.strip("/") or "development"] = round(time.perf_counter() - t0, 1)

    cv = {}
    for prefix, by_name in judged.items():
        for name, j in by_name.items():
            if name == "honest":
                note = f"{len(honest_idx)} of {n} topics"
            elif prefix == HELD_OUT:
                note = f"mix {mixes[name].counts}; a panel no search queried"
            else:   # attack_mix was searched on every panel but the held-out one; the baseline on the first only
                fitted = name == "attack_mix" or prefix == ""
                note = f"mix {mixes[name].counts}; {'fitted to' if fitted else 'not searched on'} this panel"
            cv[prefix + name] = _cv(j, note)
    rows = [(f"{name}, {prefix.strip('/') or 'development'}", by_name[name], written[name][1] if name in written else None)
            for prefix, by_name in judged.items() for name in ("attack_mix", "honest")]
    png = {"sample": "panels.png", "kaggle": "panels-kaggle.png"}.get(
        ctx.data.source, f"panels-{ctx.data.source}-{ctx.data.fingerprint[:8]}.png")   # one chart per data
    chart = draw_panels(rows, results_path().parent / ctx.competition.slug / png)
    print(f"chart: {chart}")
    seconds["total"] = round(time.perf_counter() - started, 1)
    dev_profiles = profiles["development"]
    info = {"mix": mix.counts, "predicted": {p: round(v, 4) for p, v in zip(panels, mix.per_panel)},
            "development_only_mix": dev_only.counts if dev_only else None,
            "search_topics": search_topics, "honest_topics": len(honest_idx),
            "family_moves": {"judges": [j.name for j in DEVELOPMENT_PANEL], **family_moves(dev_profiles)},
            "attack_scores": {a: np.round(dev_profiles.scores[i].mean(axis=0), 2).tolist()
                              for i, a in enumerate(dev_profiles.names)},
            "chosen_by": (f"the worse of the {' and '.join(panels)} panels' predicted metric" if len(panels) > 1
                          else "the development panel's predicted metric"),
            "chart": str(chart), "seconds": seconds,
            "plan": {"seed": ctx.seed, "filler_words": cfg.filler_words, "attack_per_topic": names,
                     "templates": {a: ATTACKS[a].body("{topic}") for a in sorted(set(names)) if a in ATTACKS},
                     **({"writers": {"honest": writer_settings(cfg.honest_tokens, cfg.max_words)}}
                        if "honest" in names else {})}}
    submission = pl.DataFrame({"id": ids, "essay": essays})
    # the same essays score on every panel; the submitted mark (and a Kaggle score's comparison)
    # goes to the panel no search fitted, whose score is the one to expect from unseen judges
    best = HELD_OUT + "attack_mix" if HELD_OUT + "attack_mix" in cv else "attack_mix"
    return SolutionResult(submission=submission, cv=cv, best=best, info=info)
