"""`kllm score --comp SLUG --pred submission.csv [--truth labels.csv] [--data DIR] [--encoder NAME]`

Scores a submission file with the competition's metric and prints the score (and its
components, when the metric has some). What it is scored against is what the metric needs
(`common.metrics.Metric.needs`): a file with the true labels (--truth, for instance a held-out
part of train; default: the test_labels.csv of --data, or of the committed sample; Kaggle's own
files in data/<slug>/ carry none), or, for a judge-panel metric, the prompts of the competition's
test file (data/<slug>/ or its sample, or --data), judged by the local panel with a progress bar;
judgements are cached on disk, so a second run is quick. Without --truth, a file that the
results store says a run on other data wrote is refused, since its ids may match theirs: with
--data, a run on files other than the folder holds now; without, a run on a --data folder.

    python -m cli score --comp science-exam --pred sub.csv --truth heldout.csv
    python -m cli score --comp science-exam --pred submissions/science-exam/submission.csv   # the sample's hidden labels
    python -m cli score --comp adversarial-judge --pred competitions/adversarial_judge/sample/sample_submission.csv
"""
from __future__ import annotations

import time

from common.errors import path_arg
from common.llm.panels import PANEL_NAMES, named_panel
from common.registry import get_competition
from common.scoring import score_files


def add_parser(subparsers):
    p = subparsers.add_parser("score", help="score a submission file (against labels, or by a judge panel)")
    p.add_argument("--comp", required=True, help="competition slug")
    p.add_argument("--pred", required=True, type=path_arg, help="submission CSV")
    p.add_argument("--truth", type=path_arg, default=None, help="CSV with the id and target columns (label metrics; default: test_labels.csv of --data or the sample)")
    p.add_argument("--data", type=path_arg, default=None,
                   help="a data folder: its test file, for a judge-panel metric, or its test_labels.csv, for a label "
                        "metric without --truth (default: data/<slug> or the sample)")
    p.add_argument("--encoder", default=None, help="sentence encoder for sharpened cosine (default: minilm)")
    p.add_argument("--panel", default=None, choices=PANEL_NAMES,
                   help="judge panel for a judge metric (default: development, the panel the attack search fitted; "
                        "held-out: judges no search saw)")
    p.set_defaults(func=run)


def run(args) -> int:
    competition = get_competition(args.comp)
    started = time.perf_counter()
    panel = named_panel(args.panel) if args.panel else None
    score = score_files(competition, args.pred, truth=args.truth, data_dir=args.data, encoder=args.encoder, panel=panel)
    print(f"{competition.slug} {score.describe()}")
    print(f"scored {args.pred} in {time.perf_counter() - started:.1f} s")
    return 0
