"""LLMs - You Can't Please Them All: write essays that split a panel of LLM judges; judge metric."""
from pathlib import Path

from common.registry import Competition, register
from common.schema import ID, STR, CompetitionSchema, SubmissionSchema, TableSchema

COMPETITION = register(Competition(
    slug="adversarial-judge",
    kaggle_slug="llms-you-cant-please-them-all",
    title="LLMs - You Can't Please Them All",
    schema=CompetitionSchema(
        tables={
            "test": TableSchema("test.csv", {"id": ID, "topic": STR}),
            "sample_submission": TableSchema("sample_submission.csv", {"id": ID, "essay": STR}),
        },
        submission=SubmissionSchema("id", ("essay",), "text"),
        target=(),
    ),
    metric="judge_score",
    cv=None,  # no train rows: searched on a development and a validation judge panel, scored on a held-out one
    sample_dir=Path(__file__).parent / "sample",
    extra={"first_place": 30.0},  # real private LB, 1st place (not comparable with sample scores)
    solution="competitions.adversarial_judge.solution:run",
    dataset_builder="competitions.adversarial_judge.dataset:build",
    edge_spec="competitions.adversarial_judge.edge:spec",
))
