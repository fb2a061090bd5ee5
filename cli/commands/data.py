"""`kllm data --comp SLUG [--zip FILE]` (behind `make data COMP=slug [ZIP=file]`): the real Kaggle files.

Fetches the competition's zip with the kaggle client (or takes one saved from the website's
"Download All" with --zip, no network needed), unpacks it into data/<slug>/ and checks every
file against the competition's schema. Your own files in data/<slug>/ (a train_extra.csv) are
kept. To download you must have joined the competition on the website; without credentials one
line says how to set them.
"""
from __future__ import annotations

from common.data import load_dataset
from common.errors import path_arg
from common.registry import get_competition


def add_parser(subparsers):
    p = subparsers.add_parser("data", help="download a competition's real files from Kaggle into data/<slug>")
    p.add_argument("--comp", required=True, help="competition slug, e.g. science-exam")
    p.add_argument("--zip", type=path_arg, default=None, metavar="FILE",
                   help="a zip downloaded from the competition's data page, instead of downloading")
    p.set_defaults(func=run)


def run(args) -> int:
    from common.kaggle import download_competition, install_zip

    competition = get_competition(args.comp)
    if args.zip is not None:
        install_zip(competition, args.zip)
        said = f"installed from {args.zip.name}: "
    else:
        download_competition(competition)
        said = "downloaded: "
    print(load_dataset(competition).describe().replace("data: ", said, 1))
    return 0
