"""A tiny science-exam dataset written to a folder: 9 train + 3 test questions and a
50-passage corpus in which each question's fact appears once, among filler passages."""
from __future__ import annotations

from pathlib import Path

import polars as pl

# (question, correct option, three wrong options, the fact that answers it)
FACTS = [
    ("Plants take in which gas to make food?", "carbon dioxide", ["helium", "neon", "argon"],
     "Photosynthesis: plants take in carbon dioxide and water and use sunlight to make glucose."),
    ("Which planet is known as the red planet?", "Mars", ["Venus", "Jupiter", "Saturn"],
     "Mars is called the red planet because iron oxide on its surface looks reddish."),
    ("Water boils at sea level at what temperature?", "100 degrees Celsius", ["50 degrees Celsius", "0 degrees Celsius", "10 degrees Celsius"],
     "At sea level pure water boils at 100 degrees Celsius."),
    ("What part of the body pumps blood?", "the heart", ["the lungs", "the skin", "the hair"],
     "The heart is a muscular organ that pumps blood through the blood vessels."),
    ("Bees carry pollen between", "flowers", ["rocks", "clouds", "rivers"],
     "Bees visit flowers and carry pollen from one flower to another, pollinating them."),
    ("A magnet attracts objects made of", "iron", ["wood", "glass", "plastic"],
     "A magnet attracts objects that contain iron, such as nails and paper clips."),
    ("Ice is water in which state?", "solid", ["gas", "plasma", "vapor"],
     "Ice is the solid state of water, formed when water freezes at 0 degrees Celsius."),
    ("The moon shines because it reflects light from", "the sun", ["the earth's core", "lightning", "volcanoes"],
     "The moon does not make light; it reflects light from the sun."),
    ("Fish breathe underwater using", "gills", ["lungs", "feathers", "leaves"],
     "Fish breathe by taking oxygen from water with their gills."),
    ("Sound cannot travel through", "a vacuum", ["water", "steel", "air"],
     "Sound needs a medium such as air or water; it cannot travel through a vacuum."),
    ("Which force pulls objects toward the earth?", "gravity", ["friction", "magnetism", "wind"],
     "Gravity is the force that pulls objects toward the center of the earth."),
    ("Caterpillars turn into", "butterflies", ["frogs", "spiders", "birds"],
     "A caterpillar forms a chrysalis and turns into a butterfly; butterflies come from caterpillars."),
]
WRONG_EXTRA = ["a teaspoon of sugar", "blue paint", "a bicycle", "loud music", "a paper hat",
               "wet sand", "a tin can", "old shoes", "a violin", "a pencil", "a candle", "a kite"]
FILLER_TOPICS = ["football", "opera", "taxes", "poetry", "chess", "banking", "cinema", "fashion",
                 "railways", "elections", "cooking", "painting", "tennis", "jazz", "law", "theatre",
                 "sculpture", "novels", "shipping", "tourism", "furniture", "pottery", "dance",
                 "coffee", "golf", "marathons", "radio", "comics", "weddings", "gardening",
                 "carpets", "sailing", "skiing", "knitting", "baking", "hockey", "cycling", "typography"]


def write_tiny_science_exam(folder: Path, n_train: int = 9) -> Path:
    """train.csv (n_train rows), test.csv (the rest), corpus.parquet (50 passages) in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (question, right, wrong, _) in enumerate(FACTS):
        options = [right, *wrong, WRONG_EXTRA[i]]
        shift = i % 5                              # spread the right letter over A-E
        options = options[-shift:] + options[:-shift] if shift else options
        rows.append({"id": i, "prompt": question, **dict(zip("ABCDE", options)), "answer": "ABCDE"[options.index(right)]})
    frame = pl.DataFrame(rows)
    frame.head(n_train).write_csv(folder / "train.csv")
    test = frame.slice(n_train).drop("answer").with_columns(pl.int_range(pl.len()).alias("id"))
    test.write_csv(folder / "test.csv")
    facts = [fact for *_, fact in FACTS]
    filler = [f"{topic.title()} is a popular pastime with its own history, clubs, rules and famous events."
              for topic in FILLER_TOPICS]
    texts = facts + filler
    pl.DataFrame({"id": list(range(len(texts))), "title": [t.split()[0] for t in texts], "text": texts,
                  "source": ["tiny"] * len(texts)}).write_parquet(folder / "corpus.parquet")
    return folder
