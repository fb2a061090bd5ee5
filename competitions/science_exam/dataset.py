"""Build the science-exam sample: OpenBookQA in Kaggle form plus a retrieval corpus.

    python -m cli dataset --comp science-exam            # rewrites competitions/science_exam/sample/
    python -m cli dataset --comp science-exam --limit 40 # quick preview in cache/sample_previews/

Questions: OpenBookQA's 4 options plus a fifth drawn from another question's options, the
order shuffled with `random.Random(seed)`; 80/20 train/test split. Corpus: BoolQ Wikipedia
passages, gensim's Wikipedia dump split into passages, WordNet science glosses, element facts.
"""
from __future__ import annotations

import random
from pathlib import Path

import polars as pl
from tqdm import tqdm

from common.sources import corpora
from common.sources.samples import finish_sample, sample_output_dir, write_table
from common.sources.wikitext import split_passages
from competitions.science_exam import COMPETITION, OPTIONS

TEST_FRACTION = 0.2


def five_option_questions(questions: list[dict], seed: int) -> list[dict]:
    """Kaggle rows (prompt, A-E, answer): a fifth option borrowed from another question, shuffled."""
    rng = random.Random(seed)
    rows = []
    for i, q in enumerate(questions):
        own = {o.lower() for o in q["options"]}
        while True:
            donor = questions[rng.randrange(len(questions))]
            extra = donor["options"][rng.randrange(4)]
            if donor is not q and extra.lower() not in own:
                break
        options = q["options"] + [extra]
        order = list(range(5))
        rng.shuffle(order)
        row = {"prompt": q["question"], **{OPTIONS[k]: options[j] for k, j in enumerate(order)}}
        row["answer"] = OPTIONS[order.index(q["answer"])]
        rows.append(row)
    return rows


def corpus_passages(limit: int | None) -> pl.DataFrame:
    """id, title, text, source of every passage, in a fixed order (source by source)."""
    cap = None if limit is None else limit * 5
    rows = []
    for row in corpora.boolq_passages()[:cap]:
        rows.append({"title": row["title"], "text": row["text"], "source": "boolq"})
    for title, text in tqdm(corpora.wikipedia_articles()[:cap], desc="wikipedia passages", leave=False):
        rows.extend({"title": title, "text": p, "source": "wikipedia"} for p in split_passages(text))
    for row in corpora.wordnet_glosses()[:cap]:
        rows.append({"title": row["title"], "text": row["text"], "source": "wordnet"})
    for row in corpora.element_facts()[:cap]:
        rows.append({"title": row["title"], "text": row["text"], "source": "elements"})
    frame = pl.DataFrame(rows, schema={"title": pl.String, "text": pl.String, "source": pl.String})
    frame = frame.unique(subset=["text"], keep="first", maintain_order=True)
    return frame.with_row_index("id").with_columns(pl.col("id").cast(pl.Int64))


def build(limit: int | None = None, seed: int = 0, out_dir: Path | None = None) -> None:
    """Write train, test, sample_submission, test_labels (answers) and corpus.parquet (limit: first n questions)."""
    out = sample_output_dir(COMPETITION.sample_dir, COMPETITION.slug, limit, out_dir)
    questions = corpora.openbookqa()[:limit]
    rows = five_option_questions(questions, seed)
    order = list(range(len(rows)))
    random.Random(seed + 1).shuffle(order)
    n_test = max(1, round(len(rows) * TEST_FRACTION))
    test_idx, train_idx = sorted(order[:n_test]), sorted(order[n_test:])
    train = pl.DataFrame([rows[i] for i in train_idx]).with_row_index("id").with_columns(pl.col("id").cast(pl.Int64))
    test = pl.DataFrame([rows[i] for i in test_idx]).with_row_index("id").with_columns(pl.col("id").cast(pl.Int64))
    submission = test.select("id", pl.lit("A B C").alias("prediction"))
    counts = {
        "train.csv": write_table(train, out / "train.csv"),
        "test.csv": write_table(test.drop("answer"), out / "test.csv"),
        "sample_submission.csv": write_table(submission, out / "sample_submission.csv"),
        "test_labels.csv": write_table(test.select("id", "answer"), out / "test_labels.csv"),
        "corpus.parquet": write_table(corpus_passages(limit), out / "corpus.parquet"),
    }
    finish_sample(COMPETITION.sample_dir, out, counts)
