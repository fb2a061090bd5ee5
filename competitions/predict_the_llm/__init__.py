"""H2O.ai Predict the LLM: which of 7 LLMs wrote a response to a question; multi-class log loss."""
from pathlib import Path

from common.folds import CvSpec
from common.registry import Competition, register
from common.schema import FLOAT, ID, INT, STR, CompetitionSchema, SubmissionSchema, TableSchema

N_TARGETS = 7
TARGET_COLUMNS = tuple(f"target_{i}" for i in range(N_TARGETS))

COMPETITION = register(Competition(
    slug="predict-the-llm",
    kaggle_slug="h2oai-predict-the-llm",
    title="H2O.ai Predict the LLM",
    schema=CompetitionSchema(
        tables={
            "train": TableSchema("train.csv", {"Question": STR, "Response": STR, "target": INT}),
            "test": TableSchema("test.csv", {"id": ID, "Question": STR, "Response": STR}),
            "sample_submission": TableSchema(
                "sample_submission.csv", {"id": ID, **{c: FLOAT for c in TARGET_COLUMNS}}),
        },
        submission=SubmissionSchema("id", TARGET_COLUMNS, "probabilities"),
        target=("target",),
    ),
    metric="multiclass_logloss",
    # a question's seven responses stay in one fold: test questions are never in train either
    cv=CvSpec("group", by="Question", default_folds=5),
    sample_dir=Path(__file__).parent / "sample",
    solution="competitions.predict_the_llm.solution:run",
    dataset_builder="competitions.predict_the_llm.dataset:build",
    edge_spec="competitions.predict_the_llm.edge:spec",
    code_competition=False,
))
