"""What a solved run leaves behind: its scores, what picking its variant by CV is worth, and one
record per variant in the results store (common/results.py). The lines are made first and printed
after the records are saved, so a print that fails (a closed pipe) never loses a run's records.

    lines = score_lines(competition, result)
    lines += selection_lines(competition, result)    # adds result.info["selection"] when it picked by CV
    records = record_runs(competition, result, ctx, wall_s, peak_mb, submission_path)
    print("\n".join(lines))
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


def score_lines(competition: Competition, result: SolutionResult) -> list[str]:
    """The run's score table: a heading, then one line per variant (the submitted one marked)."""
    metric = get_metric(competition.metric)
    arrow = "higher is better" if metric.higher_is_better else "lower is better"
    if competition.cv is None:
        panels = ", ".join(dict.fromkeys(s.panel for s in result.cv.values() if s.panel))
        lines = [f"{competition.metric} ({arrow}) by judge panels ({panels}); no train rows, nothing cross-validated:"]
    else:
        lines = [f"cross-validated {competition.metric} ({arrow}), held-out folds only:"]
    width = max(len(v) for v in result.cv)
    for variant, score in result.cv.items():
        mark = "  <- submitted" if variant == result.best else ""
        spread = spread_text(score.std, score.folds)
        note = f"  [{score.note}]" if score.note else ""
        lines.append(f"  {variant:<{width}}  {score.mean:.4f}{spread}{note}{mark}")
    return lines


def data_id(ctx: RunContext, result: SolutionResult) -> str:
    """The data's fingerprint, joined with the extra rows' file when the solution trained on one."""
    extra = Path(result.extra_rows) if result.extra_rows else None
    if extra is None or not extra.is_file():
        return ctx.data.fingerprint
    return hashlib.sha256(f"{ctx.data.fingerprint}+{files_fingerprint([extra])}".encode()).hexdigest()[:12]


def selection_lines(competition: Competition, result: SolutionResult) -> list[str]:
    """When the solution picked its submitted variant by the best CV, what picking on the other
    folds scores (the winner's own CV is the largest of several noisy means), kept in the run's
    info (`selection`) for its records; no line otherwise."""
    from common.cv import selection_score

    selection = selection_score(result.cv, competition.metric, result.chosen_among) if result.chosen_among else None
    if selection is None:
        return []
    score = selection.score
    result.info["selection"] = {"among": list(result.chosen_among), "picks": selection.picks,
                                "mean": round(score.mean, 6), "std": round(score.std, 6)}
    spread = spread_text(score.std, score.folds)
    if set(selection.picks) == {result.best}:
        return [f"  {result.best} is also the best on the other folds of every fold: its CV holds as the choice's score"]
    picks = ", ".join(f"{name} in {selection.picks.count(name)}" for name in dict.fromkeys(selection.picks))
    return [f"  {result.best} has the best CV of {len(result.chosen_among)} variants, so its own CV reads high; "
            f"picking on the other folds instead scores {score.mean:.4f}{spread} (picked: {picks} of "
            f"{len(selection.picks)} folds)"]


def record_runs(competition: Competition, result: SolutionResult, ctx: RunContext, wall_s: float, peak_mb: float,
                submission: Path, commit: str | None = None, written: Path | None = None, author: str | None = None):
    """One record per variant with a finite score, appended together (all or none). submission: where
    the file is (or is about to be renamed to); written: the file itself when not there yet; author:
    who ran it (default `common.team_results.run_author()`)."""
    from common.results import RunRecord, append_runs, git_commit, new_run_id
    from common.team_results import run_author

    metric = get_metric(competition.metric)
    commit, records = commit or git_commit(), []
    author = run_author() if author is None else author
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    source, files = ctx.data.source + ("+extra" if result.extra_rows else ""), data_id(ctx, result)   # once per run
    saved = {"submission_path": str(submission.resolve()), "submission_sha256": file_sha256(written or submission),
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
                   "experiment": ctx.experiment, "fast": ctx.fast, "models": used_models(), **saved,
                   **result.info},
            kind=score.kind, encoder=score.encoder, panel=score.panel, data_id=files, metric_version=metric.version,
            author=author,
        )
        records.append(record)
    append_runs(records)   # all of the run's records or none: never a part of a run on the leaderboard
    return records
