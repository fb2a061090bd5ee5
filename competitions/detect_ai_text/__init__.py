"""LLM - Detect AI Generated Text: probability that an essay was written by an LLM; ROC AUC."""
from pathlib import Path

from common.folds import CvSpec
from common.registry import Competition, register
from common.schema import FLOAT, ID, INT, STR, CompetitionSchema, SubmissionSchema, TableSchema

COMPETITION = register(Competition(
    slug="detect-ai-text",
    kaggle_slug="llm-detect-ai-generated-text",
    title="LLM - Detect AI Generated Text",
    schema=CompetitionSchema(
        tables={
            "train_prompts": TableSchema(
                "train_prompts.csv",
                {"prompt_id": INT, "prompt_name": STR, "instructions": STR, "source_text": STR}),
            "train": TableSchema("train_essays.csv", {"id": ID, "prompt_id": INT, "text": STR, "generated": INT}),
            "test": TableSchema("test_essays.csv", {"id": ID, "prompt_id": INT, "text": STR}),
            "sample_submission": TableSchema("sample_submission.csv", {"id": ID, "generated": FLOAT}),
        },
        submission=SubmissionSchema("id", ("generated",), "probability"),
        target=("generated",),
    ),
    metric="roc_auc",
    cv=CvSpec("stratified", by="generated", default_folds=5, fast_folds=3,
              check="competitions.detect_ai_text.solution:check_folds"),
    sample_dir=Path(__file__).parent / "sample",
    extra={"first_place": 0.984},  # real private LB, 1st place (not comparable with sample scores)
    solution="competitions.detect_ai_text.solution:run",
    dataset_builder="competitions.detect_ai_text.dataset:build",
    edge_spec="competitions.detect_ai_text.edge:spec",
))
