"""Score a predict-the-llm submission against labels and draw which targets are taken for which.

    python -m competitions.predict_the_llm.report        # the sample: submission vs test_labels.csv
    python -m competitions.predict_the_llm.report --data data/resplit-1   # a drawn sample's labels
    python -m competitions.predict_the_llm.report --pred sub.csv --truth labels.csv --out confusion.png

Prints the log loss (the number `kllm score` prints), the accuracy of the most probable target
and the most frequent confusions, and writes a PNG (default results/predict-the-llm/confusion.png)
with the hidden-test confusion beside an out-of-fold confusion from the results store: that of
the run that wrote --pred, else (no --truth or --data) of the latest submitted sample run.
The labels are found as `kllm score` finds them, and a file that a run on other data wrote is
refused without --truth, as there.
Axis labels are the truth file's `generator` names when it has that column (the sample's
test_labels.csv does), else target_0 ... target_6.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl

from common.confusion import confusion_counts, draw_confusion
from common.errors import OneLineParser, UserError
from common.paths import results_path, submissions_dir
from common.registry import get_competition
from common.scoring import labels_file, run_that_wrote, score_files

SLUG = "predict-the-llm"


def _labels(truth: pl.DataFrame, n: int) -> list[str]:
    if "generator" in truth.columns:
        names = dict(truth.select("target", "generator").unique().iter_rows())
        if len(names) == n:
            return [f"{t} {names[t]}" for t in range(n)]
    return [f"target_{t}" for t in range(n)]


def latest_oof_confusion(data_source: str = "sample") -> tuple[str, np.ndarray] | None:
    """(variant, counts) of the latest submitted run of this competition that recorded them."""
    from common.results import read_runs

    for run in reversed(read_runs()):
        extra = run.extra or {}
        if run.competition == SLUG and extra.get("submitted") and extra.get("oof_confusion") \
                and run.data_source == data_source:
            return run.variant, np.asarray(extra["oof_confusion"])
    return None


def oof_confusion_for(pred: Path, defaults: bool) -> tuple[str, np.ndarray] | None:
    """The out-of-fold confusion of the run that wrote `pred`; when no run did, the latest
    sample run's, but only if the labels are the default ones (defaults=True)."""
    writer = run_that_wrote(get_competition(SLUG), pred)
    if writer is not None:
        counts = (writer.extra or {}).get("oof_confusion")
        return (writer.variant, np.asarray(counts)) if counts else None
    return latest_oof_confusion() if defaults else None


def report(pred: Path, truth: Path | None, out: Path, data: Path | None = None) -> str:
    competition = get_competition(SLUG)
    score = score_files(competition, pred, truth=truth, data_dir=data, progress=False)
    columns = list(competition.schema.submission.columns)
    truth_frame = pl.read_csv(truth if truth is not None else labels_file(competition, data)[1])
    joined = truth_frame.join(pl.read_csv(pred), on="id", how="inner")
    probs, y = joined.select(columns).to_numpy(), joined["target"].to_numpy()
    counts = confusion_counts(y, probs.argmax(axis=1), len(columns))
    labels = _labels(truth_frame, len(columns))
    panels = [("hidden test", counts)]
    oof = oof_confusion_for(pred, defaults=truth is None and data is None)
    if oof is not None:
        panels.append((f"out of fold (train, {oof[0]})", oof[1]))
    draw_confusion(panels, labels, out, title=f"{SLUG}: rows = true generator, columns = predicted")
    off = [(counts[i, j], labels[i], labels[j]) for i in range(len(labels)) for j in range(len(labels)) if i != j]
    worst = ", ".join(f"{a} -> {b} ({c})" for c, a, b in sorted(off, reverse=True)[:3] if c)
    return "\n".join([f"{SLUG} {score.describe()}",
                      f"accuracy {np.trace(counts) / counts.sum():.4f}; most confused (true -> predicted): {worst or 'none'}",
                      f"confusion PNG: {out}"])


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m competitions.predict_the_llm.report", description=__doc__.split("\n")[0])
    parser.add_argument("--pred", type=Path, default=submissions_dir(SLUG) / "submission.csv")
    parser.add_argument("--truth", type=Path, default=None,
                        help="labels file (id, target); default: --data's test_labels.csv, else the sample's")
    parser.add_argument("--data", type=Path, default=None, help="the data folder the submission was made on")
    parser.add_argument("--out", type=Path, default=results_path().parent / SLUG / "confusion.png")
    try:
        args = parser.parse_args(argv)
        print(report(args.pred, args.truth, args.out, data=args.data))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
