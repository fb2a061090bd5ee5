"""Build the prompt-recovery sample: real passages, rewrite instructions, SmolLM2 rewrites.

    python -m cli dataset --comp prompt-recovery             # rewrites competitions/prompt_recovery/sample/
    python -m cli dataset --comp prompt-recovery --limit 8   # quick preview in cache/sample_previews/

Originals are Wikipedia passages (BoolQ) and Jane Austen paragraphs, cut at a sentence
boundary to 25-70 words. Each gets one instruction (rewrite_prompts.py) drawn with
`random.Random(seed)`; SmolLM2-Instruct sees Kaggle's prompt form "<instruction>\n<text>".
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import asdict
from pathlib import Path

import polars as pl

from common.errors import UserError
from common.llm.generation import GenerationConfig, generate
from common.sources import corpora
from common.sources.archives import pypi_archive, read_member
from common.sources.samples import finish_sample, sample_output_dir, write_table
from competitions.prompt_recovery import COMPETITION
from competitions.prompt_recovery.rewrite_prompts import PROMPTSOURCE, PROMPTSOURCE_PROMPTS, REWRITE_PROMPTS

N_ROWS = 300
TEST_FRACTION = 0.2
MODEL = "smollm2"
CONFIG = GenerationConfig(max_new_tokens=64, temperature=0.7, top_p=0.9, batch_size=32)


def cut(text: str, max_words: int = 70) -> str:
    """Whole sentences from the start, as many as fit in max_words (at least the first)."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if out and len(" ".join(out + [sentence]).split()) > max_words:
            break
        out.append(sentence)
    return " ".join(out)


def check_promptsource_citations() -> None:
    """Each adapted instruction cites a phrase of a real promptsource template; verify it."""
    sdist = pypi_archive(*PROMPTSOURCE, sdist=True)
    root = f"{PROMPTSOURCE[0]}-{PROMPTSOURCE[1]}/promptsource/templates/"
    for _, path, phrase in PROMPTSOURCE_PROMPTS:
        text = re.sub(r"\s+", " ", read_member(sdist, root + path).decode("utf-8").replace("\\\n", " "))
        if phrase not in text:
            raise UserError(f"promptsource {path} no longer contains {phrase!r}")


def originals(n: int, seed: int) -> list[dict]:
    """n passages, half Wikipedia (BoolQ) and half Austen, 25-70 words each, in a seeded order."""
    rng = random.Random(seed)
    wiki = [cut(p["text"]) for p in corpora.boolq_passages()]
    novels = [cut(p) for paras in corpora.austen_novels().values() for p in paras]
    pools = {"wikipedia": [t for t in wiki if len(t.split()) >= 25],
             "austen": [t for t in novels if len(t.split()) >= 25]}
    picked = []
    for source, pool in pools.items():
        k = n // 2 if source == "wikipedia" else n - n // 2
        picked += [{"original_text": t, "source": source} for t in rng.sample(pool, k)]
    rng.shuffle(picked)
    return picked


def build(limit: int | None = None, seed: int = 0, out_dir: Path | None = None) -> None:
    """Write train.csv, test.csv, sample_submission.csv and test_labels.csv."""
    out = sample_output_dir(COMPETITION.sample_dir, COMPETITION.slug, limit, out_dir)
    check_promptsource_citations()
    rng = random.Random(seed + 1)
    rows = originals(limit or N_ROWS, seed)
    for row in rows:
        row["rewrite_prompt"] = rng.choice(REWRITE_PROMPTS)
    config = GenerationConfig(**{**asdict(CONFIG), "seed": seed})
    prompts = [f"{r['rewrite_prompt']}\n{r['original_text']}" for r in rows]
    for row, text in zip(rows, generate(MODEL, prompts, config, desc="prompt-recovery rewrites")):
        row["rewritten_text"] = text
    rows = [r for r in rows if r["rewritten_text"].strip()]
    frame = pl.DataFrame(rows).with_row_index("id").with_columns(
        pl.col("id").cast(pl.Int64), pl.lit(MODEL).alias("model"),
        pl.lit(json.dumps(asdict(config), sort_keys=True)).alias("gen_config"))
    n_test = max(1, round(frame.height * TEST_FRACTION))
    test = frame.tail(n_test).with_row_index("new_id").with_columns(pl.col("new_id").cast(pl.Int64))
    test = test.drop("id").rename({"new_id": "id"})
    train = frame.head(frame.height - n_test)
    columns = ["id", "original_text", "rewrite_prompt", "rewritten_text", "source", "model", "gen_config"]
    counts = {
        "train.csv": write_table(train.select(columns), out / "train.csv"),
        "test.csv": write_table(test.select("id", "original_text", "rewritten_text"), out / "test.csv"),
        "sample_submission.csv": write_table(
            test.select("id", pl.lit("Improve this text.").alias("rewrite_prompt")), out / "sample_submission.csv"),
        "test_labels.csv": write_table(test.select("id", "rewrite_prompt", "source"), out / "test_labels.csv"),
    }
    finish_sample(COMPETITION.sample_dir, out, counts)
