"""`kllm submit --comp SLUG [--set key=value ...] [--kaggle]` (behind `make submit COMP=slug`)

Loads the competition's data (real files in data/<slug>/ or the embedded sample), runs its
solution (cross-validation on train, then test predictions), writes the checked submission
atomically to submissions/<slug>/submission.csv (a named experiment, --exp NAME: to
submissions/<slug>/NAME/submission.csv, so it never replaces the main one; --fast: in a fast/
folder below), appends one record per CV variant to
results/runs.jsonl, and with --kaggle also submits to Kaggle.
"""
from __future__ import annotations

import importlib
import resource
import sys
import time

from common.atomic import check_output_path
from common.columns import unique_ids
from common.cv import check_fold_count
from common.data import find_table_file, load_dataset
from common.errors import UserError, path_arg, seed_arg
from common.experiments import load_experiment
from common.options import parse_options
from common.paths import results_path
from common.registry import get_competition
from common.run_records import record_runs, score_lines, selection_lines
from common.saving import saving_run
from common.seeding import seed_everything
from common.solution import RunContext, check_options, load_solution
from common.submission import submission_path, write_submission
from common.team_results import run_author
from common.threads import default_threads

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


def run(args) -> int:
    competition = get_competition(args.comp)
    if args.folds is not None:
        check_fold_count(args.folds)
    given = options = parse_options(args.options)
    folds, experiment = args.folds, None
    if args.exp is not None:   # "" too (EXP= given empty): refused by name, never the default run
        experiment = load_experiment(competition, args.exp)
        options = {**experiment.options, **given}
        folds = folds if folds is not None else experiment.folds
        print(experiment.banner())
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
    default_threads()    # a bad KLLM_THREADS is one line now, not when the records are written
    author = run_author()   # and a bad KLLM_AUTHOR
    if args.kaggle:
        from common.kaggle.client import NoCredentials
        from common.kaggle.credentials import find_credentials

        if find_credentials() is None:
            raise NoCredentials()   # before any work: --kaggle without credentials would only fail at the end
        from common.kaggle.submit import KaggleSubmitConfig

        KaggleSubmitConfig()        # and a bad KLLM_KAGGLE_WAIT_S, read when the upload starts
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
        lines = score_lines(competition, result) + selection_lines(competition, result)
        records = []                # saved before the file replaces the last one: a store that cannot take
                                    # them (a full disk) leaves the last submission in place, no half run

        def save_records(written, final):
            records.extend(record_runs(competition, result, ctx, wall_s, peak_mb, final, commit, written, author))

        path = write_submission(competition, result.submission, data.tables["test"], out, save_records)
        print("\n".join(lines))    # after the records: a reader gone (`| head`) loses no record
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
