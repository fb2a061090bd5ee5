"""Build the detect-ai-text sample: human passages (Wikipedia, Jane Austen) and SmolLM2 texts.

    python -m cli dataset --comp detect-ai-text             # rewrites competitions/detect_ai_text/sample/
    python -m cli dataset --comp detect-ai-text --limit 12  # 12 human + 12 AI texts, in cache/sample_previews/

A prompt is one Wikipedia article (gensim's dump) or one Austen novel. Its passages are dealt
out alternately: a passage is either kept as a human text, or its opening words seed an AI text
("write a paragraph about <title> starting with ..." / "continue this passage ..."). AI texts
come from three generator configurations (GENERATORS), so one can be held out. Human texts are
cut at a sentence boundary to lengths drawn from the AI texts' lengths. Prompts (not rows) are
split between train and test.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import asdict
from pathlib import Path

import polars as pl

from common.llm.generation import GenerationConfig, generate
from common.sources import corpora
from common.sources.samples import finish_sample, sample_output_dir, write_table
from common.sources.wikitext import split_passages
from competitions.detect_ai_text import COMPETITION

N_HUMAN, N_AI = 700, 540
N_WIKI_PROMPTS = 24
TEST_WIKI_PROMPTS, TEST_NOVELS = 6, 2
MODEL = "smollm2"
GENERATORS = {
    "smollm2-greedy-rp1.2": GenerationConfig(max_new_tokens=80, temperature=0.0, repetition_penalty=1.2,
                                             batch_size=32),
    "smollm2-t0.8-p0.95": GenerationConfig(max_new_tokens=80, temperature=0.8, top_p=0.95, batch_size=32),
    "smollm2-t1.0-k50-writer": GenerationConfig(
        max_new_tokens=80, temperature=1.0, top_k=50, batch_size=32,
        system_prompt="You are a skilled writer. Write natural, fluent prose: no lists, no headings, no preamble."),
}


def text_id(seed: int, kind: str, index: int) -> str:
    return hashlib.sha256(f"{seed}-{kind}-{index}".encode()).hexdigest()[:8]


def first_sentence(text: str, max_words: int = 25) -> str:
    sentence = re.split(r"(?<=[.!?])\s+", text)[0]
    return " ".join(sentence.split()[:max_words])


def trim_to_words(text: str, target: int) -> str:
    """Whole sentences from the start until at least `target` words (at least one sentence)."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        out.append(sentence)
        if len(" ".join(out).split()) >= target:
            break
    return " ".join(out)


def is_prose(passage: str) -> bool:
    """False for list debris (comma-separated names) that survives the markup stripper."""
    words = passage.split()
    return len(words) >= 20 and passage.count(",") / len(words) < 0.2


def load_prompts(seed: int) -> list[dict]:
    """Wikipedia articles with many passages plus the six novels: name, source text, passages."""
    rng = random.Random(seed)
    articles = [(t, [p for p in split_passages(x) if is_prose(p)]) for t, x in corpora.wikipedia_articles()]
    articles = [(t, p) for t, p in articles if len(p) >= 12 and "/" not in t]
    prompts = []
    for title, passages in rng.sample(articles, min(N_WIKI_PROMPTS, len(articles))):
        prompts.append({"prompt_name": title, "source": "wikipedia", "source_text": passages[0],
                        "instructions": f"Write an encyclopedic paragraph about {title}.", "passages": passages[1:]})
    for name, paragraphs in corpora.austen_novels().items():
        paragraphs = [p for p in paragraphs if is_prose(p)]
        title = corpora.AUSTEN_TITLES[name]
        prompts.append({"prompt_name": title, "source": "austen", "source_text": paragraphs[0],
                        "instructions": f"Continue a passage of Jane Austen's novel {title} in her style.",
                        "passages": paragraphs[1:]})
    for prompt in prompts:
        rng.shuffle(prompt["passages"])
    return prompts


def ai_prompt(prompt: dict, passage: str) -> str:
    if prompt["source"] == "wikipedia":
        opening = " ".join(passage.split()[:6])
        return (f"Write a paragraph of about 60 words for an encyclopedia article about {prompt['prompt_name']}. "
                f"Start the paragraph with: \"{opening}\"")
    return (f"Continue this passage from Jane Austen's novel {prompt['prompt_name']} in her style, "
            f"in about 60 words: \"{first_sentence(passage)}\"")


def deal(prompts: list[dict], n_human: int, n_ai: int) -> tuple[list[dict], list[dict]]:
    """Round-robin over prompts, alternating human text / AI seed, until both quotas are met."""
    humans, seeds, turn, cursor = [], [], 0, [0] * len(prompts)
    while len(humans) < n_human or len(seeds) < n_ai:
        progressed = False
        for p, prompt in enumerate(prompts):
            if cursor[p] >= len(prompt["passages"]):
                continue
            passage = prompt["passages"][cursor[p]]
            cursor[p] += 1
            progressed = True
            want_ai = (turn % 2 == 1 and len(seeds) < n_ai) or len(humans) >= n_human
            target = seeds if want_ai else humans
            if len(target) < (n_ai if want_ai else n_human):
                target.append({"prompt": p, "passage": passage})
            turn += 1
        if not progressed:
            break
    return humans, seeds


def generate_ai(prompts: list[dict], seeds: list[dict], seed: int) -> list[dict]:
    """One text per seed; generator assigned round-robin; texts under 10 words are dropped."""
    rows, names = [], list(GENERATORS)
    for g, name in enumerate(names):
        config = GenerationConfig(**{**asdict(GENERATORS[name]), "seed": seed})
        mine = [s for i, s in enumerate(seeds) if i % len(names) == g]
        texts = generate(MODEL, [ai_prompt(prompts[s["prompt"]], s["passage"]) for s in mine], config,
                         desc=f"detect-ai-text {name}")
        for s, text in zip(mine, texts):
            if len(text.split()) >= 10:
                rows.append({"prompt": s["prompt"], "text": text, "generated": 1, "source": MODEL, "model": MODEL,
                             "generator": name, "gen_config": json.dumps(asdict(config), sort_keys=True)})
    return rows


def build(limit: int | None = None, seed: int = 0, out_dir: Path | None = None) -> None:
    """Write train_prompts, train_essays, test_essays, sample_submission and test_labels."""
    out = sample_output_dir(COMPETITION.sample_dir, COMPETITION.slug, limit, out_dir)
    rng = random.Random(seed)
    prompts = load_prompts(seed)
    humans, seeds = deal(prompts, limit or N_HUMAN, limit or N_AI)
    ai_rows = generate_ai(prompts, seeds, seed)
    ai_lengths = [len(r["text"].split()) for r in ai_rows]
    human_rows = [{"prompt": h["prompt"], "text": trim_to_words(h["passage"], rng.choice(ai_lengths)),
                   "generated": 0, "source": prompts[h["prompt"]]["source"], "model": "human",
                   "generator": "human", "gen_config": ""} for h in humans]
    rows = human_rows + ai_rows
    for i, row in enumerate(rows):
        row["id"] = text_id(seed, "essay", i)
    rng.shuffle(rows)

    wiki = [i for i, p in enumerate(prompts) if p["source"] == "wikipedia"]
    novels = [i for i, p in enumerate(prompts) if p["source"] == "austen"]
    test_prompts = set(rng.sample(wiki, TEST_WIKI_PROMPTS)) | set(rng.sample(novels, TEST_NOVELS))
    columns = ["id", "prompt_id", "text", "generated", "source", "model", "generator", "gen_config"]
    essays = pl.DataFrame(rows).rename({"prompt": "prompt_id"}).select(columns)
    essays = essays.with_columns(pl.col("prompt_id").cast(pl.Int64), pl.col("generated").cast(pl.Int64))
    is_test = pl.col("prompt_id").is_in(sorted(test_prompts))
    train, test = essays.filter(~is_test), essays.filter(is_test)
    train_prompts = pl.DataFrame(
        [{"prompt_id": i, "prompt_name": p["prompt_name"], "instructions": p["instructions"],
          "source_text": p["source_text"]} for i, p in enumerate(prompts) if i not in test_prompts],
    ).with_columns(pl.col("prompt_id").cast(pl.Int64))
    counts = {
        "train_prompts.csv": write_table(train_prompts, out / "train_prompts.csv"),
        "train_essays.csv": write_table(train, out / "train_essays.csv"),
        "test_essays.csv": write_table(test.select("id", "prompt_id", "text"), out / "test_essays.csv"),
        "sample_submission.csv": write_table(test.select("id", pl.lit(0.5).alias("generated")),
                                             out / "sample_submission.csv"),
        "test_labels.csv": write_table(test.drop("text", "prompt_id"), out / "test_labels.csv"),
    }
    finish_sample(COMPETITION.sample_dir, out, counts)
