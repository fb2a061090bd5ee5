"""Build the predict-the-llm sample: real questions answered by seven local generators.

    python -m cli dataset --comp predict-the-llm             # rewrites competitions/predict_the_llm/sample/
    python -m cli dataset --comp predict-the-llm --limit 4   # quick preview in cache/sample_previews/

Questions: TruthfulQA, NQ-open and BoolQ, a third each, drawn with `random.Random(seed)`.
Every question is answered once by each generator in GENERATORS (target = its index); the
questions, not the rows, are split 80/20 between train and test.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path

import polars as pl

from common.llm.generation import GenerationConfig, generate
from common.sources import corpora
from common.sources.samples import finish_sample, sample_output_dir, write_table
from competitions.predict_the_llm import COMPETITION, TARGET_COLUMNS

N_QUESTIONS = 150
TEST_FRACTION = 0.2
MODEL = "smollm2"
_BASE = dict(max_new_tokens=40, batch_size=32)

# target index -> (name, config); each differs from greedy in one documented way.
GENERATORS = (
    ("greedy", GenerationConfig(**_BASE)),
    ("sampled-t1.0", GenerationConfig(**_BASE, temperature=1.0)),
    ("concise-system", GenerationConfig(**_BASE, system_prompt="Answer in one short sentence.")),
    ("step-by-step-system", GenerationConfig(
        **_BASE, system_prompt="Think step by step and explain your reasoning before you answer.")),
    ("pirate-persona-t0.7", GenerationConfig(
        **_BASE, temperature=0.7, top_p=0.9, system_prompt="You are a pirate. Always talk like a pirate.")),
    ("repetition-penalty-1.5", GenerationConfig(**_BASE, repetition_penalty=1.5)),
    ("formal-topk5-t1.0", GenerationConfig(
        **_BASE, temperature=1.0, top_k=5,
        system_prompt="You are a formal academic. Answer in a formal, scholarly register.")),
)


def as_question(text: str) -> str:
    """BoolQ questions are lower-case without a question mark; give them Kaggle's form."""
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text.endswith("?") else text + "?"


def questions(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    pools = {"truthfulqa": corpora.truthfulqa_questions(), "nq_open": corpora.nq_open_questions(),
             "boolq": corpora.boolq_questions()}
    picked = []
    for k, (source, pool) in enumerate(pools.items()):
        share = n // 3 + (1 if k < n % 3 else 0)
        picked += [{"Question": as_question(q), "source": source} for q in rng.sample(pool, share)]
    rng.shuffle(picked)
    return picked


def build(limit: int | None = None, seed: int = 0, out_dir: Path | None = None) -> None:
    """Write train.csv, test.csv, sample_submission.csv, test_labels.csv and generators.csv."""
    out = sample_output_dir(COMPETITION.sample_dir, COMPETITION.slug, limit, out_dir)
    qs = questions(limit or N_QUESTIONS, seed)
    n_test = max(1, round(len(qs) * TEST_FRACTION))
    rows = []
    for target, (name, base) in enumerate(GENERATORS):
        config = GenerationConfig(**{**asdict(base), "seed": seed})
        answers = generate(MODEL, [q["Question"] for q in qs], config, desc=f"predict-the-llm {name}")
        for i, (q, answer) in enumerate(zip(qs, answers)):
            rows.append({**q, "Response": answer, "target": target, "generator": name, "split_test": i >= len(qs) - n_test})
    frame = pl.DataFrame(rows).with_columns(pl.col("target").cast(pl.Int64))
    frame = frame.sample(fraction=1.0, shuffle=True, seed=seed)  # rows of one question not adjacent
    train = frame.filter(~pl.col("split_test")).drop("split_test")
    test = frame.filter(pl.col("split_test")).drop("split_test").with_row_index("id")
    test = test.with_columns(pl.col("id").cast(pl.Int64))
    uniform = [pl.lit(1.0 / len(TARGET_COLUMNS)).alias(c) for c in TARGET_COLUMNS]
    generators = pl.DataFrame([{"target": t, "generator": name, "model": MODEL,
                                "gen_config": json.dumps({**asdict(c), "seed": seed}, sort_keys=True)}
                               for t, (name, c) in enumerate(GENERATORS)]).with_columns(pl.col("target").cast(pl.Int64))
    counts = {
        "train.csv": write_table(train.select("Question", "Response", "target", "generator", "source"), out / "train.csv"),
        "test.csv": write_table(test.select("id", "Question", "Response"), out / "test.csv"),
        "sample_submission.csv": write_table(test.select("id", *uniform), out / "sample_submission.csv"),
        "test_labels.csv": write_table(test.select("id", "target", "generator", "source"), out / "test_labels.csv"),
        "generators.csv": write_table(generators, out / "generators.csv"),
    }
    finish_sample(COMPETITION.sample_dir, out, counts)
