"""`kllm score --comp SLUG --pred submission.csv --truth labels.csv [--encoder NAME]`

Scores a submission file against a file with the true labels (for instance a held-out part of
train) with the competition's metric, and prints one line.
"""
from __future__ import annotations

from pathlib import Path

from common.data import read_table
from common.errors import UserError
from common.registry import get_competition
from common.schema import TableSchema
from common.scoring import score_frames


def add_parser(subparsers):
    p = subparsers.add_parser("score", help="score a submission file against labels")
    p.add_argument("--comp", required=True, help="competition slug")
    p.add_argument("--pred", required=True, type=Path, help="submission CSV")
    p.add_argument("--truth", required=True, type=Path, help="CSV with the id and target columns")
    p.add_argument("--encoder", default=None, help="sentence encoder for sharpened cosine (default: minilm)")
    p.set_defaults(func=run)


def run(args) -> int:
    competition = get_competition(args.comp)
    schema = competition.schema
    sub = schema.submission
    for path in (args.pred, args.truth):
        if not path.is_file():
            raise UserError(f"missing file: {path}")
    truth_schema = TableSchema(args.truth.name, {sub.id_column: _kind(schema, sub.id_column),
                                                 **{t: _kind(schema, t) for t in schema.target}})
    pred_schema = schema.tables["sample_submission"]
    truth = read_table(args.truth, truth_schema)
    pred = read_table(args.pred, TableSchema(args.pred.name, pred_schema.columns))
    kwargs = {"encoder": args.encoder} if args.encoder and competition.metric == "sharpened_cosine" else {}
    value = score_frames(competition, truth, pred, **kwargs)
    label = competition.metric + (f" (encoder={args.encoder or 'minilm'})" if competition.metric == "sharpened_cosine" else "")
    print(f"{competition.slug} {label} = {value:.5f} on {len(pred)} rows ({args.pred} vs {args.truth})")
    return 0


def _kind(schema, column: str) -> str:
    for table in schema.tables.values():
        if column in table.columns:
            return table.columns[column]
    raise UserError(f"column {column!r} is not in the schema")
