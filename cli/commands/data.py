"""`kllm data --comp SLUG` (behind `make data COMP=slug`): download the real Kaggle files.

Fetches the competition's zip with the kaggle client, unpacks it into data/<slug>/ and checks
every file against the competition's schema. You must have joined the competition on the
website; without credentials one line says how to set them.
"""
from __future__ import annotations

from common.data import load_dataset
from common.registry import get_competition


def add_parser(subparsers):
    p = subparsers.add_parser("data", help="download a competition's real files from Kaggle into data/<slug>")
    p.add_argument("--comp", required=True, help="competition slug, e.g. science-exam")
    p.set_defaults(func=run)


def run(args) -> int:
    from common.kaggle import download_competition

    competition = get_competition(args.comp)
    download_competition(competition)
    print(load_dataset(competition).describe().replace("data: ", "downloaded: ", 1))
    return 0
