"""Score a submission frame against a labelled frame with the competition's metric.

    score_frames(get_competition("science-exam"), truth=train, pred=submission)  # -> 0.71

The pairing of columns follows the submission kind, never the competition's name:
the target columns of the schema are the truth, the submission columns the prediction.
"""
from __future__ import annotations

import polars as pl

from common.errors import UserError
from common.metrics import get_metric
from common.registry import Competition


def score_frames(competition: Competition, truth: pl.DataFrame, pred: pl.DataFrame, **metric_kwargs) -> float:
    schema = competition.schema
    sub = schema.submission
    if not schema.target:
        raise UserError(f"{competition.slug}: no target column; its metric needs a judge panel, not labels")
    for frame, columns, what in ((truth, [sub.id_column, *schema.target], "truth"),
                                 (pred, [sub.id_column, *sub.columns], "prediction")):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise UserError(f"{what} file: missing column(s) {', '.join(missing)}")
    key = pl.col(sub.id_column).cast(pl.String)
    joined = truth.select(key.alias("_id"), *schema.target).join(
        pred.select(key.alias("_id"), *[pl.col(c).alias(f"_pred_{c}") for c in sub.columns]), on="_id", how="inner")
    if len(joined) != len(truth) or len(joined) != len(pred):
        raise UserError(f"ids differ: {len(truth)} truth rows, {len(pred)} predictions, {len(joined)} in common")
    y_true = joined[schema.target[0]].to_list()
    predicted = [f"_pred_{c}" for c in sub.columns]
    if sub.kind == "probabilities":
        y_pred = joined.select(predicted).to_numpy()
    else:
        y_pred = joined[predicted[0]].to_list()
    return get_metric(competition.metric).fn(y_true, y_pred, **metric_kwargs)
