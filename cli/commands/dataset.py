"""`dataset`: regenerate a competition's committed sample from the pinned source packages.

    python -m cli dataset --comp science-exam              # rewrites the committed sample
    python -m cli dataset --comp detect-ai-text --limit 12 # quick preview in cache/sample_previews/
    python -m cli dataset --comp science-exam --seed 1 --out /tmp/se1   # a fresh draw, then
    python -m cli submit --comp science-exam --data /tmp/se1            # does the solution hold on it?
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from common.atomic import check_output_folder
from common.errors import UserError, count_arg, path_arg, seed_arg
from common.paths import cache_dir
from common.registry import get_competition

COMMITTED_SEED = 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("dataset", help="regenerate a competition's sample from packages (LIMIT for a quick one)")
    p.add_argument("--comp", required=True, help="competition slug, e.g. science-exam")
    p.add_argument("--limit", type=count_arg("--limit"), default=None,
                   help="build only n items into cache/sample_previews/<slug>/ (the committed sample is untouched)")
    p.add_argument("--seed", type=seed_arg, default=COMMITTED_SEED,
                   help=f"random seed (the committed samples use {COMMITTED_SEED}; another seed needs --out)")
    p.add_argument("--out", type=path_arg, default=None,
                   help="write the files into this folder instead (the committed sample is untouched): "
                        "another seed's sample for `submit --data`")
    p.add_argument("--overwrite", action="store_true", help="let --out be a folder that already holds files")
    p.set_defaults(func=run)


def run(args) -> int:
    competition = get_competition(args.comp)
    build = competition.load_entry("dataset_builder")
    if args.out is not None and args.out.resolve() == competition.sample_dir.resolve():
        raise UserError("--out is the committed sample's folder; leave --out out to rewrite it")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out} is a file, not a folder")
    if args.out is not None and args.out.is_dir() and any(args.out.iterdir()) and not args.overwrite:
        raise UserError(f"--out {args.out} is not empty: its files would be overwritten; give an empty or new "
                        "folder, or --overwrite (make dataset ... ARGS=--overwrite)")
    if args.out is None and args.limit is None and args.seed != COMMITTED_SEED:
        raise UserError(f"--seed {args.seed} without --out would replace the committed sample (seed {COMMITTED_SEED}) "
                        "with another draw; give --out DIR (make dataset ... OUT=dir)")
    if args.out is None:
        build(limit=args.limit, seed=args.seed, out_dir=None)
    else:
        build_into(args.out, lambda folder: build(limit=args.limit, seed=args.seed, out_dir=folder))
    where = args.out or (competition.sample_dir if args.limit is None else cache_dir("sample_previews") / competition.slug)
    print(f"{competition.slug}: sample written to {where}")
    return 0


def build_into(out: Path, build) -> None:
    """Run `build(folder)` on a temp folder beside `out`, then move its files into `out`: a draw
    that fails or is interrupted leaves `out` as it was, never half old files and half new.

        build_into(Path("/tmp/x1"), lambda folder: builder(seed=1, out_dir=folder))
    """
    check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.draw-", dir=out.parent))
    try:
        build(staging)
        out.mkdir(exist_ok=True)
        for path in sorted(staging.iterdir()):
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
