"""`kllm submit --comp SLUG [--set key=value ...] [--kaggle]` (behind `make submit COMP=slug`)

Loads the competition's data (real files in data/<slug>/ or the embedded sample), runs its
solution (cross-validation on train, then test predictions), writes the checked submission
atomically to submissions/<slug>/submission.csv (a named experiment, --exp NAME: to
submissions/<slug>/NAME/submission.csv, so it never replaces the main one; --fast: in a fast/
folder below), appends one record per CV variant to
results/runs.jsonl, and with --kaggle also submits to Kaggle.
"""
from __future__ import annotations

import hashlib
import importlib
import math
import random
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from common.atomic import check_output_path
from common.columns import unique_ids
from common.cv import check_fold_count
from common.data import file_sha256, files_fingerprint, find_table_file, load_dataset
from common.errors import UserError, path_arg, seed_arg
from common.experiments import load_experiment
from common.metrics import get_metric
from common.models import used_models
from common.options import config_from_options
from common.paths import results_path
from common.registry import Competition, get_competition
from common.results import spread_text
from common.saving import saving_run
from common.solution import RunContext, SolutionResult
from common.submission import submission_path, write_submission

from cli.submit_kaggle import check_kaggle_submit, notebook_only, resend


def add_parser(subparsers):
    p = subparsers.add_parser("submit", help="solve a competition and write its checked submission")
    p.add_argument("--comp", required=True, help="competition slug, e.g. science-exam")
    p.add_argument("--data", type=path_arg, default=None, help="folder with the Kaggle files (default: data/<slug> or the sample)")
    p.add_argument("--seed", type=seed_arg, default=42, help="seed for every random step (recorded)")
    p.add_argument("--folds", type=int, default=None, help="cross-validation folds, at least 2 (default: the solution's)")
    p.add_argument("--exp", default=None, metavar="NAME",
                   help="named experiment: competitions/<package>/experiments/NAME.toml (its --set overrides)")
    p.add_argument("--fast", action="store_true", help="smaller settings for a quick check")
    p.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="solution option, e.g. --set lm=smollm2 --set corpus=/path/to/wiki")
    p.add_argument("--out", type=path_arg, default=None,
                   help="submission path (default: submissions/<slug>/submission.csv; with --exp NAME, "
                        "submissions/<slug>/NAME/submission.csv; --fast: a fast/ folder below)")
    p.add_argument("--kaggle", action="store_true", help="also submit to Kaggle (needs credentials)")
    p.add_argument("--resend", action="store_true",
                   help="with --kaggle: send the last recorded run again (its CSV, or its notebook) without solving; "
                        "with --fast, the last --fast run")
    p.add_argument("--notebook-only", action="store_true",
                   help="build the Kaggle notebook of the last recorded run, without solving or any network: "
                        "to read it, or push it by hand")
    p.set_defaults(func=run)


def parse_options(pairs: list[str]) -> dict[str, str]:
    """{"members": "a,b"} from ["members=a,b"]; a pair without "=" or a key given twice (which
    value was meant?) is a UserError."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set expects KEY=VALUE, got {pair!r}")
        if key.strip() in options:
            raise UserError(f"--set {key.strip()} is given twice ({options[key.strip()]!r} and {value.strip()!r}): give it once")
        options[key.strip()] = value.strip()
    return options


def load_solution(competition: Competition):
    module_name = (competition.solution or "").split(":")[0]
    try:
        return competition.load_entry("solution")
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise UserError(f"{competition.slug}: its solution is not built yet ({module_name} is missing)") from None
        raise


def check_options(competition: Competition, solve, options: dict[str, str], given: dict[str, str] | None = None,
                  experiment=None) -> None:
    """Refuse an unknown `--set` key or a bad value before the data is read, by the options
    dataclass the module of `solve` names as CONFIG (its __post_init__ checks ranges). With an
    experiment, `options` are its file's merged with `given` (the command line's): an error the
    command line's options raise alone is theirs; else one the file's own (not overridden) raise
    alone is named as the file's; else the two are named together."""
    config = getattr(sys.modules[solve.__module__], "CONFIG", None)
    if config is None:
        return
    try:
        config_from_options(config, options, competition.slug)
    except UserError as err:
        if experiment is None:
            raise
        config_from_options(config, given or {}, competition.slug)     # the command line's own error first
        try:
            config_from_options(config, {k: v for k, v in experiment.options.items() if k not in (given or {})},
                                competition.slug)
        except UserError as own:
            raise UserError(f"{experiment.path}: {own}") from None
        raise UserError(f"{err} (--set with {experiment.path}'s values)") from None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


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


def run(args) -> int:
    competition = get_competition(args.comp)
    if args.folds is not None:
        check_fold_count(args.folds)
    given = options = parse_options(args.options)
    folds, experiment = args.folds, None
    if args.exp:
        experiment = load_experiment(competition, args.exp)
        options = {**experiment.options, **given}
        folds = folds if folds is not None else experiment.folds
        print(f"experiment {experiment.name}: {experiment.description} ({experiment.path.name})")
    if folds is not None and competition.cv is None:
        flag = "--folds" if args.folds is not None else f"{experiment.path}: folds"
        raise UserError(f"{flag}: {competition.slug} has no folds (it is validated by judge panels)")
    if args.resend and args.notebook_only:
        raise UserError("--resend sends the last run again, --notebook-only only builds its notebook: give one")
    if args.resend:
        return resend(competition, args, experiment)
    if args.notebook_only and args.kaggle:
        raise UserError("--notebook-only sends nothing: drop --kaggle (or send the last run with --kaggle --resend)")
    if args.notebook_only:
        return notebook_only(competition, args, experiment)
    out = check_output_path(args.out or submission_path(competition.slug, experiment.name if experiment else None,
                                                        args.fast),
                            example="submission.csv")
    check_output_path(results_path(), example="runs.jsonl")   # the store the runs are appended to, at the end
    if args.kaggle:
        from common.kaggle.client import NoCredentials
        from common.kaggle.credentials import find_credentials

        if find_credentials() is None:
            raise NoCredentials()   # before any work: --kaggle without credentials would only fail at the end
    solve = load_solution(competition)
    check_options(competition, solve, options, given, experiment)
    data = load_dataset(competition, args.data)
    if "test" not in data.tables:
        raise UserError(f"{competition.slug}: no test file in {data.path}")
    # a repeated or missing test id is refused now, not when the submission is written after the run
    test_file = find_table_file(data.path, competition.schema.tables["test"]) or competition.schema.tables["test"].filename
    unique_ids(data.tables["test"], str(test_file), competition.schema.submission.id_column)
    if args.kaggle:
        check_kaggle_submit(competition, data, options)
    seed_everything(args.seed)
    ctx = RunContext(competition=competition, data=data, seed=args.seed, folds=folds, fast=args.fast, options=options,
                     experiment=experiment.name if experiment else None)
    if competition.cv is not None:
        ctx.check_folds()   # refuses a fold count the data cannot hold before any work starts
    print(data.describe())
    if competition.cv is None:
        print(f"validation: judge panels (no train rows), seed {ctx.seed}")
    else:
        print(f"cross-validation: {ctx.n_folds} folds, {competition.cv.strategy}"
              f"{' by ' + competition.cv.by if competition.cv.by else ''}, seed {ctx.seed}")
    started = time.perf_counter()
    result = solve(ctx)
    wall_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from common.results import git_commit

    commit = git_commit()             # before the save: a Ctrl-C there would also reach git
    with saving_run() as saving:    # Ctrl-C waits: never a submission without its records
        path = write_submission(competition, result.submission, data.tables["test"], out)
        print_scores(competition, result)
        report_selection(competition, result)
        records = record_runs(competition, result, ctx, wall_s, peak_mb, path, commit)
        print(f"submission: {path} ({len(result.submission)} rows, variant {result.best}, seed {args.seed}, {wall_s:.0f} s)")
        print(f"results: {len(records)} run(s) appended to the results store")
    if saving.signal:
        print(f"error: {saving.signal} arrived while the run was being saved: it was saved in full, "
              f"and nothing more was done", file=sys.stderr)
        return 143 if saving.signal == "SIGTERM" else 130
    if args.kaggle:
        kaggle = importlib.import_module("common.kaggle")
        print(kaggle.submit_to_kaggle(competition, path, records))
    return 0
