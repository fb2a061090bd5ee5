"""`kllm leaderboard [--comp SLUG] [--compare RUN_A RUN_B] [--kaggle] [--png PATH] [--all]
[--with [NAME=]STORE ...]` (`make leaderboard [COMP=x]`)

Prints one table across all competitions (or the one --comp names) and variants from
results/runs.jsonl (CV ± std, Kaggle public and private scores, best first) and writes the same
as a PNG chart (default: results/leaderboard.png, or results/leaderboard-SLUG.png with --comp, so
one competition's chart never replaces the chart of all). --kaggle first fetches your Kaggle submissions
(their scores are filed under the runs they came from) and the public leaderboard's top scores.
--compare shows the fields where two runs differ (ids or unique id prefixes). --with reads a
teammate's results store beside yours (their runs.jsonl, or a folder holding one; repeatable):
when the runs have more than one author, each variant gets a row per author, with a "by" column.
"""
from __future__ import annotations

import sys

from common.atomic import check_output_path
from common.errors import UserError, path_arg
from common.leaderboard import build_leaderboard, format_comparison, format_leaderboard
from common.paths import results_path
from common.registry import all_competitions, get_competition
from common.results import find_run


def add_parser(subparsers):
    p = subparsers.add_parser("leaderboard", help="table and PNG chart of every run in results/runs.jsonl")
    p.add_argument("--comp", metavar="SLUG", help="only this competition (table, chart and --kaggle)")
    p.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="show the differences between two runs")
    p.add_argument("--kaggle", action="store_true", help="also fetch Kaggle submissions and the public LB top")
    p.add_argument("--png", type=path_arg, default=None, help="chart path (default: results/leaderboard.png; "
                   "results/leaderboard-SLUG.png with --comp)")
    p.add_argument("--all", action="store_true", help="one row per run instead of the best run per variant")
    p.add_argument("--with", dest="stores", action="append", default=[], metavar="[NAME=]STORE",
                   help="also read a teammate's results store (their runs.jsonl, or a folder holding one); "
                        "NAME is whose runs it holds (default: the file's or folder's name); repeatable")
    p.set_defaults(func=run)


def fetch_from_kaggle(competitions) -> bool:
    """File new Kaggle scores into the store and print each public leaderboard's top 3; each
    failure is a warning on stderr (a network that fails stops the rest). False if any failed."""
    from common.errors import UserError
    from common.kaggle import KaggleRefused, KaggleSession, fetch_leaderboard_top, sync_scores

    warn = (lambda line: print(f"warning: kaggle: {line}", file=sys.stderr))
    try:
        session = KaggleSession.open()
    except UserError as err:            # no credentials, a broken kaggle.json, or no sign-in
        warn(f"not fetched: {err}; the scores shown are those filed before")
        return False
    ok = True
    for competition in competitions:
        try:
            for line in sync_scores(session, [competition]):
                print(f"kaggle: filed {line}")
            top = fetch_leaderboard_top(session, competition, top=3)
        except KaggleRefused as err:
            ok = False
            warn(f"{competition.slug}: {err}")
            if err.unreachable:
                warn("the other competitions were not tried; the scores shown are those filed before")
                break
            continue
        best = ", ".join(f"{e.rank}. {e.team} {e.score}" for e in top) or "empty"
        print(f"kaggle: {competition.slug} public LB top: {best}")
    return ok


def run(args) -> int:
    from common.team_results import parse_store, read_team_runs

    stores = [parse_store(text) for text in args.stores]     # every --with checked before any work
    if args.compare:
        runs, _ = read_team_runs(stores)
        where = " or ".join([str(results_path())] + [str(s.path) for s in stores])
        print(format_comparison(*(find_run(run_id, runs=runs, where=where) for run_id in args.compare)))
        return 0
    competitions = [get_competition(args.comp)] if args.comp else all_competitions()
    default = f"leaderboard-{args.comp}.png" if args.comp else "leaderboard.png"
    png_path = check_output_path(args.png or results_path().with_name(default), example=default)
    if png_path.suffix.lower() != ".png":
        raise UserError(f"--png {png_path}: the chart is a PNG, so give a path ending in .png")
    fetched = fetch_from_kaggle(competitions) if args.kaggle else True
    runs, store_lines = read_team_runs(stores, competition=args.comp)
    by_author = len({r.author for r in runs}) > 1
    boards = build_leaderboard(runs, competitions, all_runs=args.all, by_author=by_author)
    if stores:
        print("\n".join(store_lines))
    print(format_leaderboard(boards))
    from common.leaderboard_chart import draw_leaderboard

    png = draw_leaderboard(boards, png_path)
    print(f"chart: {png}")
    return 0 if fetched else 1      # the table is printed either way; 1 tells a script Kaggle was not read
