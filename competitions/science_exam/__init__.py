"""Kaggle LLM Science Exam: answer 5-option science questions; MAP@3 over the top 3 letters."""
from pathlib import Path

from common.folds import CvSpec
from common.registry import Competition, register
from common.schema import ID, STR, CompetitionSchema, SubmissionSchema, TableSchema

OPTIONS = ("A", "B", "C", "D", "E")
_QUESTION = {"id": ID, "prompt": STR, **{o: STR for o in OPTIONS}}

CORPUS_FILE = "corpus.parquet"

COMPETITION = register(Competition(
    slug="science-exam",
    kaggle_slug="kaggle-llm-science-exam",
    title="Kaggle - LLM Science Exam",
    schema=CompetitionSchema(
        tables={
            "train": TableSchema("train.csv", {**_QUESTION, "answer": STR}),
            "test": TableSchema("test.csv", _QUESTION),
            "sample_submission": TableSchema("sample_submission.csv", {"id": ID, "prediction": STR}),
        },
        submission=SubmissionSchema("id", ("prediction",), "map3_letters"),
        target=("answer",),
    ),
    metric="map@3",
    cv=CvSpec("kfold", default_folds=3),
    sample_dir=Path(__file__).parent / "sample",
    side_files=(CORPUS_FILE,),      # the retrieval corpus beside the tables (retrieval_step.py)
    extra={"first_place": 0.933},  # real private LB, 1st place (not comparable with sample scores)
    solution="competitions.science_exam.solution:run",
    dataset_builder="competitions.science_exam.dataset:build",
    edge_spec="competitions.science_exam.edge:spec",
))
