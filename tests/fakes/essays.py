"""A tiny detect-ai-text folder in Kaggle's layout: loose "human" essays (varied words, typos,
lowercase) against "AI" essays written from a few fixed templates, one template set per generator.

    folder = write_essays(tmp_path, n_train=60, n_test=12)   # train_essays.csv has a generator column
"""
from __future__ import annotations

import random
from pathlib import Path

import polars as pl

HUMAN_WORDS = ("i think", "cars", "honestly", "kinda", "becuase", "people", "my freind", "school", "dont",
               "alot", "summer", "phones", "really", "stuff", "teh", "city", "lol", "bus", "money", "like")
GENERATORS = {
    "gen_a": ("In conclusion, {x} offers numerous benefits for society.",
              "Furthermore, it is essential to consider {x} carefully.",
              "Overall, {x} plays a crucial role in modern life."),
    "gen_b": ("Additionally, {x} provides significant advantages for students.",
              "Moreover, {x} fosters a sense of community and responsibility.",
              "Ultimately, {x} remains a vital aspect of our world."),
    "gen_c": ("It is important to note that {x} can enhance overall well-being.",
              "Consequently, {x} contributes to a more sustainable future.",
              "In summary, {x} is a multifaceted and valuable topic."),
}
TOPICS = ("car-free cities", "the electoral college", "online learning", "community service", "summer projects")


def human_essay(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(4, 7)):
        words = rng.sample(HUMAN_WORDS, rng.randint(5, 9))
        sentences.append(" ".join(words) + rng.choice([".", "!", "..", ""]))
    return " ".join(sentences)


def ai_essay(rng: random.Random, generator: str) -> str:
    topic = rng.choice(TOPICS)
    templates = GENERATORS[generator]
    return " ".join(rng.choice(templates).format(x=topic) for _ in range(rng.randint(4, 7)))


def essays(n: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        generator = "human" if i % 2 == 0 else list(GENERATORS)[(i // 2) % len(GENERATORS)]
        text = human_essay(rng) if generator == "human" else ai_essay(rng, generator)
        rows.append({"id": f"e{seed}_{i:04d}", "prompt_id": i % 2, "text": text,
                     "generated": int(generator != "human"), "generator": generator})
    return pl.DataFrame(rows)


def write_essays(folder: Path, n_train: int = 60, n_test: int = 12, seed: int = 0) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"prompt_id": [0, 1], "prompt_name": ["Car-free cities", "Electoral college"],
                  "instructions": ["Write an essay.", "Write a letter."],
                  "source_text": ["...", "..."]}).write_csv(folder / "train_prompts.csv")
    essays(n_train, seed).write_csv(folder / "train_essays.csv")
    essays(n_test, seed + 1).drop("generated", "generator").write_csv(folder / "test_essays.csv")
    return folder


def kaggle_like_folder(folder: Path) -> Path:
    """write_essays, then train as Kaggle ships it: almost all human, 3 generated, no generator column."""
    folder = write_essays(folder, n_train=60, n_test=8)
    train = pl.read_csv(folder / "train_essays.csv")
    kept = pl.concat([train.filter(pl.col("generated") == 0), train.filter(pl.col("generated") == 1).head(3)])
    kept.drop("generator").write_csv(folder / "train_essays.csv")
    return folder
