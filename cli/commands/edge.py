"""`kllm edge --comp SLUG [--device user@host[:port]] [--pick-on-device] [--skip-deploy] [--fast]` (behind `make edge`)
and the device's lifecycle (behind `make edge-status`, `make edge-rollback`, `make edge-run`, `make edge-clean`).

`kllm edge --comp x [--exp NAME] [--set KEY=VALUE]` distills the competition's teacher into a small student, exports it to ONNX
(parity-checked), quantizes it to int8, prints the comparison table, builds the device bundle and
deploys it into the competition's own folder on the named Pi over ssh, or on the local emulated
aarch64 Pi when no device is named. A competition whose solution is a plan the device runs as it
is (adversarial-judge, prompt-recovery) is bundled with that plan instead, with no student.

    python -m cli edge --comp detect-ai-text --fast --skip-deploy
    python -m cli edge status [--device pi@raspberrypi.local] [--json]   # versions, current, size, provenance
    python -m cli edge rollback --comp detect-ai-text [--to VERSION]     # default: the version before current
    python -m cli edge clean [--dry-run] [--envs]                        # the study's and make chat's staged copies
    python -m cli edge run --comp detect-ai-text [--json] < essays.txt   # or: ... run --comp x essays.txt

Every one takes --device (none: the emulated Pi) and --root (the device folder). Bad input
(unknown competition, bad --device, nothing deployed, a corrupted rollback target) prints one
line and exits 2; a failing rollback leaves `current` where it was.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, fields
from pathlib import Path

from common.atomic import check_output_folder
from common.data import load_dataset
from common.errors import UserError, path_arg, seed_arg, text_arg
from common.paths import repo_root
from common.registry import get_competition
from edge.runtime.records import DEFAULT_MAX_BYTES as MAX_INPUT_BYTES   # the runtime's own --max-bytes


def add_parser(subparsers):
    p = subparsers.add_parser("edge", help="distill, export, quantize, bundle and deploy to a Pi (or an emulated "
                                           "one); status, rollback, run on the device")
    p.add_argument("--comp", help="competition slug, e.g. detect-ai-text")
    _device_flags(p)
    p.add_argument("--skip-deploy", action="store_true", help="stop after building the bundle")
    p.add_argument("--pick-on-device", action="store_true",
                   help="pick the candidate that ships on --device's own scores and timings, not the host's")
    p.add_argument("--fast", action="store_true", help="small teacher and student for a quick check")
    p.add_argument("--require-gap", action="store_true",
                   help="fail, without deploying, when the shipped candidate misses the teacher-gap target")
    p.add_argument("--no-prune", action="store_true",
                   help="no pruned candidate (a classifier student's blocks and FFN channels cut, re-distilled, int8)")
    p.add_argument("--data", type=path_arg, default=None,
                   help="folder with the Kaggle files (default: data/<slug> or the sample)")
    p.add_argument("--seed", type=seed_arg, default=42, help="seed for every random step (recorded)")
    p.add_argument("--out", type=path_arg, default=None, help="output folder (default: build/edge/<slug>)")
    p.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="teacher option passed to the competition's edge spec, e.g. --set members=tfidf_linear")
    p.add_argument("--exp", default=None, metavar="NAME",
                   help="the teacher of a named experiment: competitions/<package>/experiments/NAME.toml "
                        "(its options, as make submit EXP=NAME; --set overrides them)")
    p.set_defaults(func=run)
    lifecycle = p.add_subparsers(dest="edge_command", metavar="{status,rollback,run,clean}", parser_class=type(p))

    status = lifecycle.add_parser("status", help="each deployed competition: versions, current, size, provenance")
    _device_flags(status)
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.set_defaults(func=run_status)

    back = lifecycle.add_parser("rollback", help="switch a competition's `current` back once the target's "
                                                 "checksums pass")
    back.add_argument("--comp", required=True, help="competition slug")
    back.add_argument("--to", default=None, metavar="VERSION", type=_version_arg,
                      help="version to switch to (default: what the last deploy replaced, then the next older)")
    _device_flags(back)
    back.set_defaults(func=run_rollback)

    on_device = lifecycle.add_parser("run", help="run a competition's current bundle on the device on a file "
                                                 "or stdin")
    on_device.add_argument("--comp", required=True, help="competition slug")
    on_device.add_argument("file", nargs="?", type=path_arg, help="input file (default: stdin); the runtime's formats")
    on_device.add_argument("--format", choices=["lines", "jsonl", "csv"], default=None,
                           help="input format (default: csv for a .csv file, jsonl for .jsonl, else lines)")
    on_device.add_argument("--json", action="store_true", help="the runtime prints JSON lines")
    on_device.add_argument("--timeout", type=float, default=1800, help="seconds before the run is stopped (1800)")
    _device_flags(on_device)
    on_device.set_defaults(func=run_on_device)

    clean = lifecycle.add_parser("clean", help="remove the copies make bench BENCH=quant_device, make chat and the "
                                              "device comparisons staged on the device (study/, chat/, compare/); "
                                              "versions stay")
    clean.add_argument("--envs", action="store_true",
                       help="also remove the Python envs (envs/): deployed bundles run in them, and a Pi rebuilds "
                            "them from PyPI on the next deploy or run")
    clean.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    _device_flags(clean)
    clean.set_defaults(func=run_clean)


def _device_flags(p) -> None:
    p.add_argument("--device", type=text_arg, default=None, metavar="USER@HOST[:PORT]",
                   help="a Pi reachable over ssh (default: emulated Pi)")
    p.add_argument("--root", type=text_arg, default=None, help="device folder (default: kllm-edge in the login's home; "
                                                "cache/emulated-pi/device on the emulated Pi)")


def run(args) -> int:
    from common.options import parse_options
    from common.seeding import seed_everything
    from edge.config import edge_config
    from edge.pipeline import run_edge

    if not args.comp:
        raise UserError("kllm edge: the following arguments are required: --comp (or one of status, rollback, run, clean)")
    competition = get_competition(args.comp)
    competition.load_entry("edge_spec")    # a competition without one: one line before the data is read
    if args.out is not None:
        check_output_folder(args.out)   # a file, or a path under one: one line before the data is read
    options = parse_options(args.options)
    experiment = None
    if args.exp is not None:   # "" too (EXP= given empty): refused by name, never the default run
        experiment, options = experiment_options(competition, args.exp, options)
    data = load_dataset(competition, args.data)
    print(data.describe())
    config = edge_config(args.seed, args.fast)
    config.out_dir, config.pick_on_device, config.require_gap = args.out, args.pick_on_device, args.require_gap
    if args.no_prune:
        config.prune = None
    if args.root:
        config.deploy_root, config.emulated_dir = args.root, Path(args.root)
    if experiment and args.out is None:
        config.out_dir = repo_root() / "build" / "edge" / competition.slug / "experiments" / experiment.name
    seed_everything(args.seed)     # as make submit: the teacher's members draw from the same generators
    report = run_edge(competition, data, config, device=args.device, skip_deploy=args.skip_deploy,
                      seed=args.seed, fast=args.fast, options=options,
                      experiment=experiment.name if experiment else None)
    print(f"{report.summary}; bundle {report.bundle['total_mb']} MB")
    print(f"report: {Path(report.files['csv']).parent / 'report.json'}")
    if report.teacher_gap_met is False:
        _to_stderr(f"warning: {competition.slug}'s bundle was {'built' if args.skip_deploy else 'deployed'} although "
                   f"it misses the teacher-gap target{_rollback_hint(competition.slug, args, report.deploy)}; "
                   "--require-gap makes this a failure")
    return 0


def experiment_options(competition, name: str, given: dict[str, str]):
    """(the experiment, its file's options overridden by `given`) for `kllm edge --exp NAME`. The
    file's own values are checked before the data is read (one line naming the file): against the
    edge spec's own options where its module declares them (CONFIG), and as make submit checks
    them; its `folds` is make submit's and is said to be left alone."""
    from common.experiments import load_experiment
    from common.options import config_from_options
    from common.solution import check_options, load_solution

    experiment = load_experiment(competition, name)
    print(experiment.banner())
    own = {k: v for k, v in experiment.options.items() if k not in given}
    spec_config = getattr(sys.modules[competition.load_entry("edge_spec").__module__], "CONFIG", None)
    solve = load_solution(competition)
    try:
        if spec_config is not None:     # its keys; a value the solution also takes is checked as submit checks it
            config_from_options(spec_config, own, f"{competition.slug} edge")
            solution_config = getattr(sys.modules[solve.__module__], "CONFIG", None)
            solution_keys = {f.name for f in fields(solution_config)} if solution_config else set()
            own = {k: v for k, v in own.items() if k in solution_keys}
        check_options(competition, solve, own)
    except UserError as err:
        raise UserError(f"{experiment.path}: {err}") from None
    if experiment.folds is not None:
        print(f"note: {experiment.path.name}'s folds = {experiment.folds} is make submit's; "
              "make edge's teacher keeps its own")
    return experiment, {**experiment.options, **given}


def _version_arg(value: str) -> str:
    """--to: an empty version is refused (a `TO=` left empty must not roll back to the default)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("empty version: give one that make edge-status lists, or leave TO out "
                                         "for the version the last deploy replaced")
    return value


def _rollback_hint(slug: str, args, deploy: dict) -> str:
    """' (`make edge-rollback ...` restores <previous>)' for a deploy that replaced a version, else ''."""
    if args.skip_deploy or not deploy.get("previous"):
        return ""
    where = (f" DEVICE={args.device}" if args.device else "") + (f' ARGS="--root {args.root}"' if args.root else "")
    return f" (`make edge-rollback COMP={slug}{where}` restores {deploy['previous']})"


def run_status(args) -> int:
    from edge.deploy.lifecycle import device_status, format_status, open_device, staged_folders

    with open_device(args.device, args.root, log=_to_stderr) as (device, root):
        deployments, staged = device_status(device, root), staged_folders(device, root)
    if args.json:
        print(json.dumps({"device": device.name, "root": root, "deployments": [asdict(d) for d in deployments],
                          "staged": {area: {"folders": n, "mb": round(mb, 2)} for area, (n, mb) in staged.items()}},
                         indent=2))
    else:
        print(format_status(deployments, device.name, root, staged))
    return 0


def run_clean(args) -> int:
    from edge.deploy.lifecycle import CLEANABLE_AREAS, clean_staged, open_device

    areas = CLEANABLE_AREAS + (("envs",) if args.envs else ())
    with open_device(args.device, args.root, log=_to_stderr) as (device, root):
        removed = clean_staged(device, root, areas, dry_run=args.dry_run)
    if not removed:
        print(f"{device.name}: nothing staged under {root} in {', '.join(a + '/' for a in areas)}")
    for area, (count, mb) in removed.items():
        print(f"{device.name}: {'would remove' if args.dry_run else 'removed'} {root}/{area}/ "
              f"({count} folder(s), {mb:.1f} MB)")
    return 0


def run_rollback(args) -> int:
    from edge.deploy.lifecycle import open_device, rollback_competition

    get_competition(args.comp)
    with open_device(args.device, args.root, log=_to_stderr) as (device, root):
        before, now = rollback_competition(device, root, args.comp, args.to)
    if before == now:
        print(f"{args.comp} on {device.name}: {now} is already current; nothing changed")
    else:
        print(f"{args.comp} on {device.name}: current {before or 'none'} -> {now} (its checksums passed)")
    return 0


def run_on_device(args) -> int:
    from edge.deploy.lifecycle import open_device, run_current

    get_competition(args.comp)
    if not (0 < args.timeout < math.inf):
        raise UserError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    text = read_input(args.file)
    if not text.strip():
        raise UserError("input is empty: give INPUT=file (kllm edge run --comp x FILE) or inputs on stdin")
    fmt = args.format or (args.file.suffix[1:].lower() if args.file is not None
                          and args.file.suffix.lower() in (".csv", ".jsonl") else None)   # test.csv: its CSV
    flags = (["--format", fmt] if fmt else []) + (["--json"] if args.json else [])
    with open_device(args.device, args.root, log=_to_stderr) as (device, root):
        code, out, err = run_current(device, root, args.comp, text, flags, timeout=args.timeout)
    sys.stdout.write(out)
    if code != 0:
        said = [line for line in err.splitlines() if line.strip()]
        print(f"error: {args.comp}'s bundle on {device.name} exited {code}: "
              f"{said[-1].removeprefix('error: ') if said else 'no message'}", file=sys.stderr)
    return code


def read_input(path: Path | None) -> str:
    """The inputs as text: a file, else stdin; UTF-8, at most MAX_INPUT_BYTES (else one UserError line)."""
    if path is not None and path.is_dir():
        raise UserError(f"input {path} is a folder: give a file (one input a line, a .csv or a .jsonl)")
    if path is not None and not path.is_file():
        raise UserError(f"missing input file: {path}")
    if path is None:
        if sys.stdin is None:      # started with stdin closed (<&-)
            raise UserError("stdin is closed: give the inputs on stdin or as a file")
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        with open(path, "rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise UserError(f"input is over {MAX_INPUT_BYTES // 1024 // 1024} MB; split it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"input is not valid UTF-8 (bad byte at offset {exc.start})") from None


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)
