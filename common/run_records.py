"""What a solved run leaves behind: its scores printed, what picking its variant by CV is worth,
and one record per variant in the results store (common/results.py).

    print_scores(competition, result)
    report_selection(competition, result)            # adds result.info["selection"] when it picked by CV
    records = record_runs(competition, result, ctx, wall_s, peak_mb, submission_path)
"""
from __future__ import annotations

import hashlib
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

from common.data import file_sha256, files_fingerprint
from common.metrics import get_metric
from common.models import used_models
from common.registry import Competition
from common.results import spread_text
from common.solution import RunContext, SolutionResult
from common.threads import default_threads


def print_scores(competition: Competition, result: SolutionResult) -> None:
    metric = get_metric(competition.metric)
    arrow = "higher is better" if metric.higher_is_better else "lower is better"
    if competition.cv is None:
        panels = ", ".join(dict.fromkeys(s.panel for s in result.cv.values() if s.panel))
        print(f"{competition.metric} ({arrow}) by judge panels ({panels}); no train rows, nothing cross-validated:")
    else:
        print(f"cross-validated {competition.metric} ({arrow}), held-out folds only:")
    width = max(len(v) for v in result.cv)
    for variant, score in result.cv.items():
        mark = "  <- submitted" if variant == result.best else ""
        spread = spread_text(score.std, score.folds)
        note = f"  [{score.note}]" if score.note else ""
        print(f"  {variant:<{width}}  {score.mean:.4f}{spread}{note}{mark}")


def data_id(ctx: RunContext, result: SolutionResult) -> str:
    """The data's fingerprint, joined with the extra rows' file when the solution trained on one."""
    extra = Path(result.extra_rows) if result.extra_rows else None
    if extra is None or not extra.is_file():
        return ctx.data.fingerprint
    return hashlib.sha256(f"{ctx.data.fingerprint}+{files_fingerprint([extra])}".encode()).hexdigest()[:12]


def report_selection(competition: Competition, result: SolutionResult) -> None:
    """When the solution picked its submitted variant by the best CV, print what picking on the
    other folds scores (the winner's own CV is the largest of several noisy means) and keep it in
    the run's info (`selection`)."""
    from common.cv import selection_score

    selection = selection_score(result.cv, competition.metric, result.chosen_among) if result.chosen_among else None
    if selection is None:
        return
    score = selection.score
    result.info["selection"] = {"among": list(result.chosen_among), "picks": selection.picks,
                                "mean": round(score.mean, 6), "std": round(score.std, 6)}
    spread = spread_text(score.std, score.folds)
    if set(selection.picks) == {result.best}:
        print(f"  {result.best} is also the best on the other folds of every fold: its CV holds as the choice's score")
        return
    picks = ", ".join(f"{name} in {selection.picks.count(name)}" for name in dict.fromkeys(selection.picks))
    print(f"  {result.best} has the best CV of {len(result.chosen_among)} variants, so its own CV reads high; "
          f"picking on the other folds instead scores {score.mean:.4f}{spread} (picked: {picks} of "
          f"{len(selection.picks)} folds)")


def record_runs(competition: Competition, result: SolutionResult, ctx: RunContext, wall_s: float, peak_mb: float,
                submission: Path, commit: str | None = None):
    from common.results import RunRecord, append_run, git_commit, new_run_id

    metric = get_metric(competition.metric)
    commit, records = commit or git_commit(), []
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    source, files = ctx.data.source + ("+extra" if result.extra_rows else ""), data_id(ctx, result)   # once per run
    written = {"submission_path": str(submission.resolve()), "submission_sha256": file_sha256(submission),
               "threads": default_threads(),
               "data_path": str(Path(ctx.data.path).resolve()),
               **({"side_files": list(ctx.data.own_side_files)} if ctx.data.own_side_files else {})}
    for variant, score in result.cv.items():
        if not math.isfinite(score.mean):
            print(f"warning: {variant}'s score is {score.mean}: not recorded in the results store", file=sys.stderr)
            continue
        record = RunRecord(
            run_id=new_run_id(), competition=competition.slug, metric=competition.metric,
            variant=f"{ctx.experiment}/{variant}" if ctx.experiment else variant,
            cv=score.mean, cv_std=score.std if math.isfinite(score.std) else 0.0, folds=score.folds,
            higher_is_better=metric.higher_is_better,
            data_source=source, commit=commit, seed=ctx.seed, wall_s=round(wall_s, 2),
            peak_mem_mb=round(peak_mb, 1), time=now, note=score.note,
            extra={"submitted": variant == result.best, "options": ctx.options, "folds_requested": ctx.folds,
                   "experiment": ctx.experiment, "fast": ctx.fast, "models": used_models(), **written,
                   **result.info},
            kind=score.kind, encoder=score.encoder, panel=score.panel, data_id=files, metric_version=metric.version,
        )
        append_run(record)
        records.append(record)
    return records
