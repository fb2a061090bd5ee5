"""LLM Prompt Recovery: recover the instruction that turned a text into its rewrite; sharpened cosine."""
from pathlib import Path

from common.folds import CvSpec
from common.registry import Competition, register
from common.schema import ID, STR, CompetitionSchema, SubmissionSchema, TableSchema

COMPETITION = register(Competition(
    slug="prompt-recovery",
    kaggle_slug="llm-prompt-recovery",
    title="LLM Prompt Recovery",
    schema=CompetitionSchema(
        tables={
            "train": TableSchema(
                "train.csv", {"id": ID, "original_text": STR, "rewrite_prompt": STR, "rewritten_text": STR}),
            "test": TableSchema("test.csv", {"id": ID, "original_text": STR, "rewritten_text": STR}),
            "sample_submission": TableSchema("sample_submission.csv", {"id": ID, "rewrite_prompt": STR}),
        },
        submission=SubmissionSchema("id", ("rewrite_prompt",), "text"),
        target=("rewrite_prompt",),
    ),
    metric="sharpened_cosine",
    # folds over rows; the solution also reports group folds by rewrite_prompt (held-out instructions)
    cv=CvSpec("kfold", default_folds=5, check="competitions.prompt_recovery.solution:check_folds"),
    sample_dir=Path(__file__).parent / "sample",
    extra={"first_place": 0.71},  # real private LB, 1st place (not comparable with sample scores)
    solution="competitions.prompt_recovery.solution:run",
    dataset_builder="competitions.prompt_recovery.dataset:build",
    edge_spec="competitions.prompt_recovery.edge:spec",
))
