"""Build the adversarial-judge sample: essay topics from real question sets and Wikipedia titles.

    python -m cli dataset --comp adversarial-judge             # rewrites competitions/adversarial_judge/sample/
    python -m cli dataset --comp adversarial-judge --limit 10  # quick preview in cache/sample_previews/

No model is involved. Topics: Wikipedia article titles (BoolQ passages, gensim's dump) put into
one of TITLE_TEMPLATES, and TruthfulQA / NQ-open questions put into QUESTION_TEMPLATES, all
drawn with `random.Random(seed)`.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import polars as pl

from common.sources import corpora
from common.sources.samples import finish_sample, sample_output_dir, write_table
from competitions.adversarial_judge import COMPETITION

N_TOPICS = {"boolq_title": 50, "wikipedia_title": 20, "truthfulqa": 30, "nq_open": 20}
TITLE_TEMPLATES = (
    "Discuss the significance of {x}.",
    "Evaluate the impact of {x} on society.",
    "Explain the history of {x}.",
    "Analyze the strengths and weaknesses of {x}.",
    "Describe what makes {x} important today.",
)
QUESTION_TEMPLATES = (
    "Write an essay answering the question: {x}",
    "Argue for one answer to the question: {x}",
    "Examine the evidence on the question: {x}",
)


def topics(seed: int, scale: float = 1.0) -> list[dict]:
    rng = random.Random(seed)
    boolq_titles = sorted({p["title"] for p in corpora.boolq_passages() if p["title"]})
    wiki_titles = sorted({t for t, _ in corpora.wikipedia_articles() if "/" not in t and "(" not in t})
    pools = {"boolq_title": (boolq_titles, TITLE_TEMPLATES), "wikipedia_title": (wiki_titles, TITLE_TEMPLATES),
             "truthfulqa": (corpora.truthfulqa_questions(), QUESTION_TEMPLATES),
             "nq_open": ([q[0].upper() + q[1:] + "?" for q in corpora.nq_open_questions()], QUESTION_TEMPLATES)}
    out = []
    for source, (pool, templates) in pools.items():
        for item in rng.sample(pool, max(1, math.ceil(N_TOPICS[source] * scale))):
            out.append({"topic": rng.choice(templates).format(x=item), "source": source})
    rng.shuffle(out)
    return out


def build(limit: int | None = None, seed: int = 0, out_dir: Path | None = None) -> None:
    """Write test.csv, sample_submission.csv and topic_sources.csv (limit: about n topics)."""
    out = sample_output_dir(COMPETITION.sample_dir, COMPETITION.slug, limit, out_dir)
    rows = topics(seed, 1.0 if limit is None else limit / sum(N_TOPICS.values()))[:limit]
    frame = pl.DataFrame(rows).with_row_index("id").with_columns(pl.col("id").cast(pl.Int64))
    placeholder = pl.concat_str([pl.lit("This essay discusses the topic: "), pl.col("topic")]).alias("essay")
    counts = {
        "test.csv": write_table(frame.select("id", "topic"), out / "test.csv"),
        "sample_submission.csv": write_table(frame.select("id", placeholder), out / "sample_submission.csv"),
        "topic_sources.csv": write_table(frame.select("id", "source"), out / "topic_sources.csv"),
    }
    finish_sample(COMPETITION.sample_dir, out, counts)
