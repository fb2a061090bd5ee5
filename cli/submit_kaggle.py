"""The Kaggle side of `kllm submit`: the checks `--kaggle` makes before any work, `--resend`
(the last recorded run sent again) and `--notebook-only` (its notebook bundle, no network).

    check_kaggle_submit(competition, data, options)    # UserError before the solution runs
    resend(competition, args, experiment)              # make submit ... KAGGLE=1 ARGS=--resend
    notebook_only(competition, args, experiment)       # make submit ... ARGS=--notebook-only
"""
from __future__ import annotations

import shlex
import sys

from common.errors import UserError
from common.extra_rows import BESIDE_THE_DATA
from common.paths import data_dir
from common.registry import Competition


def check_kaggle_submit(competition: Competition, data, options: dict) -> None:
    """Before any work: --kaggle submits to the real competition, so the run must read Kaggle's
    files (not the embedded sample), a notebook's options must not name files only this machine
    has, and Kaggle must answer and take this user's submissions."""
    from common.sources.samples import is_draw

    if is_draw(data.path):
        raise UserError(f"--kaggle submits to the real competition, but {data.path} is a draw of make dataset "
                        f"(its COUNTS.md), not Kaggle's files")
    if data.source == "sample":
        raise UserError(f"--kaggle submits to the real competition, but this run would read the embedded sample: "
                        f"put Kaggle's files in {data_dir(competition.slug)} (make data COMP={competition.slug}) "
                        f"or name them with --data")
    from common.kaggle import KaggleSession
    from common.kaggle.bundle import check_portable_options

    if competition.code_competition:
        check_portable_options(options)
        beside = next((name for name in BESIDE_THE_DATA if (data.path / name).is_file()), None)
        if competition.cv is not None and competition.cv.check and beside and not options.get("extra_train"):
            raise UserError(f"{beside} beside the data would not be in the Kaggle notebook: name it with "
                            f"--set extra_train={data.path / beside} (the bundle carries that file)")
        if data.own_side_files:    # the run here would read it, the notebook there could not (the bundle carries none)
            raise UserError(side_file_refusal(data.own_side_files[0], data.path))
    session = KaggleSession.open()
    session.call("list your submissions (checked before the run)", session.api.competition_submissions,
                 competition.kaggle_slug, competition_slug=competition.kaggle_slug)


def side_file_refusal(name: str, folder) -> str:
    return (f"{name} beside the data would not be in the Kaggle notebook, which would read the sample's instead: "
            f"move it out of {folder} and run again, to submit what the notebook will run")


def recorded_run(competition: Competition, args, experiment, flag: str):
    """The last recorded run that --resend or --notebook-only takes, with a note when a notebook
    would carry other code than the run's; flags that would change the run are refused."""
    given = [name for name, on in (("--set", args.options), ("--folds", args.folds),
                                   ("--data", args.data), ("--out", args.out), ("--seed", args.seed != 42)) if on]
    if given:
        raise UserError(f"{flag} takes a recorded run as it was: {', '.join(given)} would not apply")
    from common.kaggle.submit import last_submitted_run
    from common.results import git_commit

    record, path = last_submitted_run(competition, experiment.name if experiment else None, fast=args.fast,
                                      sample=flag == "--notebook-only")
    source = record.data_source.split("+")[0]
    if source != "kaggle" and competition.code_competition:   # a CSV competition sends the run's own file
        read = "the embedded sample" if source == "sample" else f"{source} data (--data)"
        print(f"note: run {record.run_id} read {read}; its notebook solves again on Kaggle's files "
              f"there, so its CV says nothing about that score", file=sys.stderr)
    options = record.extra.get("options") or {}
    if competition.code_competition and record.data_source.endswith("+extra") and not options.get("extra_train"):
        raise UserError(f"run {record.run_id} took extra rows from {' or '.join(BESIDE_THE_DATA)} beside the data, "
                        f"which the Kaggle notebook would not have: run make submit COMP={competition.slug} "
                        f"ARGS=\"--set extra_train=PATH\" (the bundle carries that file) first")
    if competition.code_competition and record.extra.get("side_files"):
        raise UserError(f"run {record.run_id}: " + side_file_refusal(record.extra["side_files"][0],
                                                                    record.extra.get("data_path", "the data folder")))
    if competition.code_competition and record.commit != git_commit():
        print(f"note: the notebook carries this checkout's code (commit {git_commit()}), not run "
              f"{record.run_id}'s ({record.commit})", file=sys.stderr)
    return record, path


def resend(competition: Competition, args, experiment) -> int:
    """--kaggle --resend: the last recorded run's submission to Kaggle again, nothing solved."""
    if not args.kaggle:
        raise UserError("--resend goes with --kaggle (make submit ... KAGGLE=1 ARGS=--resend)")
    from common.kaggle.client import NoCredentials
    from common.kaggle.credentials import find_credentials
    from common.kaggle.submit import submit_to_kaggle

    if find_credentials() is None:
        raise NoCredentials()
    record, path = recorded_run(competition, args, experiment, "--resend")
    print(f"sending run {record.run_id} again ({record.variant}, {record.data_source} data, "
          f"{'a --fast run, ' if record.extra.get('fast') else ''}{record.time})")
    print(submit_to_kaggle(competition, path, [record]))
    return 0


def notebook_only(competition: Competition, args, experiment) -> int:
    """--notebook-only: the last recorded run's notebook bundle on disk; no network, nothing solved."""
    if not competition.code_competition:
        raise UserError(f"{competition.slug} takes a CSV on Kaggle, not a notebook: upload its submission.csv")
    from common.kaggle.bundle import build_bundle
    from common.kaggle.credentials import find_credentials
    from common.submission import notebook_dir

    record, _ = recorded_run(competition, args, experiment, "--notebook-only")
    try:
        creds = find_credentials()
    except UserError:               # a broken kaggle.json: only the user name was wanted
        creds = None
    user = creds.username if creds and creds.username else "YOUR_KAGGLE_USERNAME"
    bundle = build_bundle(competition, record, user, notebook_dir(competition.slug))
    print(f"notebook of run {record.run_id} ({record.variant}) for {user}: {bundle.root}")
    if user == "YOUR_KAGGLE_USERNAME":
        print("  put your Kaggle user name for YOUR_KAGGLE_USERNAME in dataset/dataset-metadata.json and "
              "kernel/kernel-metadata.json first")
    print(f"  push it: kaggle datasets create -p {shlex.quote(str(bundle.dataset_dir))} (or datasets version -p ... "
          f"-m MESSAGE), then kaggle kernels push -p {shlex.quote(str(bundle.kernel_dir))}, then submit that "
          f"notebook version on "
          f"https://www.kaggle.com/competitions/{competition.kaggle_slug}")
    return 0
